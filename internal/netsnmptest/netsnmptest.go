// Package netsnmptest runs net-snmp's snmpd (as an AgentX master) and
// snmptrapd on loopback for tests: private configuration and state in the
// test's temporary directory, free ports, bounded start-up waits, and a
// stop (by PID) when the test ends. It is for tests only; nothing in the
// gateway imports it.
//
// Like every end-to-end helper of the project, it skips the test when a
// tool is missing, and fails it instead when SVGATEWAY_E2E=1 (test/run.sh
// installs the tools and sets it).
package netsnmptest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// E2E reports whether end-to-end tests must run (missing tools fail).
func E2E() bool { return os.Getenv("SVGATEWAY_E2E") == "1" }

// Tool returns the path of a program, skipping the test when it is missing
// (failing it with SVGATEWAY_E2E=1).
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if E2E() {
			t.Fatalf("%s is not installed (test/run.sh installs it): %v", name, err)
		}
		t.Skipf("%s is not installed; run test/run.sh", name)
	}
	return p
}

// moduleRoot is the directory holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := svctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// MIBPath returns net-snmp's -M argument for SVGATEWAY-MIB and the IETF
// base MIBs test/run.sh unpacks (SVGATEWAY_BASE_MIBS); it skips (fails
// under SVGATEWAY_E2E=1) without them.
func MIBPath(t testing.TB) string {
	t.Helper()
	root := moduleRoot(t)
	base := os.Getenv("SVGATEWAY_BASE_MIBS")
	if base == "" {
		base = filepath.Join(root, "test", ".cache", "base-mibs")
	}
	if _, err := os.Stat(filepath.Join(base, "SNMPv2-SMI.txt")); err != nil {
		if E2E() {
			t.Fatalf("base MIBs not found in %s (SVGATEWAY_BASE_MIBS): %v", base, err)
		}
		t.Skipf("base MIBs not found in %s; run test/run.sh", base)
	}
	return filepath.Join(root, "mibs") + ":" + base
}

// FreeUDPPort returns a loopback UDP port that was free a moment ago.
func FreeUDPPort(t testing.TB) int { return freePort(t, "udp") }

// FreeTCPPort returns a loopback TCP port that was free a moment ago.
func FreeTCPPort(t testing.TB) int { return freePort(t, "tcp") }

func freePort(t testing.TB, network string) int {
	t.Helper()
	port, err := svctest.FreePort(network)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// User is an SNMPv3 USM user of snmpd or snmptrapd: net-snmp's protocol
// names (SHA, SHA-256, AES, ...). For snmptrapd, EngineID (hex, "0x...")
// keys the user to a trap sender's engine; without it the user is for
// informs (snmptrapd's own engine).
type User struct {
	Name, Auth, AuthPass, Priv, PrivPass string
	EngineID                             string
}

func (u User) createUser() string {
	e := ""
	if u.EngineID != "" {
		e = "-e " + u.EngineID + " "
	}
	s := fmt.Sprintf("createUser %s%s %s %s", e, u.Name, u.Auth, u.AuthPass)
	if u.Priv != "" {
		s += fmt.Sprintf(" %s %s", u.Priv, u.PrivPass)
	}
	return s
}

func (u User) level() string {
	if u.Priv != "" {
		return "priv"
	}
	return "auth"
}

// Args returns the net-snmp client options of the user.
func (u User) Args() []string {
	args := []string{"-v3", "-u", u.Name, "-a", u.Auth, "-A", u.AuthPass}
	if u.Priv == "" {
		return append(args, "-l", "authNoPriv")
	}
	return append(args, "-l", "authPriv", "-x", u.Priv, "-X", u.PrivPass)
}

// daemon is a net-snmp daemon started by a test.
type daemon struct {
	t       testing.TB
	name    string
	path    string
	args    []string
	env     []string
	logFile string
	stdout  func(io.Reader) // reads the daemon's stdout, when set

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func (d *daemon) start() {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		d.t.Fatalf("%s already running", d.name)
	}
	cmd := exec.Command(d.path, d.args...)
	cmd.Env = append(os.Environ(), d.env...)
	var out io.ReadCloser
	if d.stdout != nil {
		var err error
		if out, err = cmd.StdoutPipe(); err != nil {
			d.t.Fatal(err)
		}
	}
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("starting %s: %v", d.name, err)
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) {
		if out != nil {
			d.stdout(out) // until EOF: the process exited
		}
		c.Wait()
		close(ch)
	}(cmd, d.exited)
}

// stop stops the daemon with sig and waits (bounded) for it to exit.
func (d *daemon) stop(sig syscall.Signal) {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		// Seen once from snmptrapd at the end of a benchmark on a loaded
		// machine: the daemon is killed, so it is stopped either way; what
		// the test asserts does not depend on how it exited.
		cmd.Process.Kill()
		<-exited
		d.t.Logf("%s did not stop within 20s of %v: killed", d.name, sig)
	}
}

func (d *daemon) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// Log returns the daemon's log so far.
func (d *daemon) Log() string {
	b, _ := os.ReadFile(d.logFile)
	return string(b)
}

// Snmpd is a running snmpd: an SNMP agent on Addr and an AgentX master on
// Socket (unix) and TCPSocket, in snmpd's own address syntax.
type Snmpd struct {
	daemon
	Addr      string // 127.0.0.1:port (UDP)
	Socket    string // "unix:/path"
	TCPSocket string // "tcp:127.0.0.1:port"
	Dir       string
	community string
}

// SnmpdOptions configure snmpd.
type SnmpdOptions struct {
	// Community is read-only from 127.0.0.1 (default "public").
	Community string
	// RWCommunity, if set, is read-write: SETs with it reach the subagents
	// (TestSet), where read-only ones are refused by snmpd itself.
	RWCommunity string
	// Users are read-only SNMPv3 users (at their own security level).
	Users []User
	// Extra lines for snmpd.conf (trap2sink, trapsess, ...).
	Extra []string
}

// StartSnmpd starts snmpd and waits until it answers; it is stopped when
// the test ends.
func StartSnmpd(t testing.TB, o SnmpdOptions) *Snmpd {
	t.Helper()
	path := Tool(t, "snmpd")
	Tool(t, "snmpget")
	if o.Community == "" {
		o.Community = "public"
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "persist"), 0o700)
	d := &Snmpd{Addr: fmt.Sprintf("127.0.0.1:%d", FreeUDPPort(t)), Socket: "unix:" + filepath.Join(dir, "agentx.sock"),
		TCPSocket: fmt.Sprintf("tcp:127.0.0.1:%d", FreeTCPPort(t)), Dir: dir, community: o.Community}
	conf := []string{
		"agentAddress udp:" + d.Addr,
		"sysName netsnmptest",
		"rocommunity " + o.Community + " 127.0.0.1",
		"master agentx",
		"agentXSocket " + strings.TrimPrefix(d.Socket, "unix:") + "," + d.TCPSocket,
		"agentXPerms 0660 0750",
		"agentXTimeout 5",
		"dontLogTCPWrappersConnects yes",
	}
	if o.RWCommunity != "" {
		conf = append(conf, "rwcommunity "+o.RWCommunity+" 127.0.0.1")
	}
	for _, u := range o.Users {
		conf = append(conf, u.createUser(), "rouser "+u.Name+" "+u.level())
	}
	conf = append(conf, o.Extra...)
	confFile := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.daemon = daemon{t: t, name: "snmpd", path: path, logFile: filepath.Join(dir, "snmpd.log"),
		args: []string{"-f", "-C", "-c", confFile, "-Lf", filepath.Join(dir, "snmpd.log")},
		env:  []string{"MIBS=", "SNMP_PERSISTENT_DIR=" + filepath.Join(dir, "persist")}}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("snmpd log:\n%s", d.Log())
		}
	})
	d.Start()
	return d
}

// Start starts snmpd again (after Stop or Kill) with the same
// configuration, socket and ports, and waits until it answers.
func (d *Snmpd) Start() {
	d.t.Helper()
	d.start()
	sock := strings.TrimPrefix(d.Socket, "unix:")
	for i := 0; ; i++ {
		if !d.running() {
			d.t.Fatalf("snmpd exited at start:\n%s", d.Log())
		}
		_, err := Run(d.t, "snmpget", "-v2c", "-c", d.community, "-t", "1", "-r", "0", d.Addr, ".1.3.6.1.2.1.1.5.0")
		if _, serr := os.Stat(sock); err == nil && serr == nil {
			return
		}
		if i == 60 {
			d.t.Fatalf("snmpd does not answer on %s after 60 tries:\n%s", d.Addr, d.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop stops snmpd (SIGTERM) and waits for it.
func (d *Snmpd) Stop() { d.stop(syscall.SIGTERM) }

// Kill kills snmpd (SIGKILL): no goodbye to its subagents.
func (d *Snmpd) Kill() { d.stop(syscall.SIGKILL) }

// Run runs a net-snmp client tool with no MIB loaded unless args load one,
// private state, and a bounded time; it returns stdout, or an error
// carrying stderr.
func Run(t testing.TB, tool string, args ...string) (string, error) {
	t.Helper()
	path := Tool(t, tool)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	persist := t.TempDir()
	os.Mkdir(filepath.Join(persist, "cert_indexes"), 0o755)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+persist, "SNMPCONFPATH="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || errb.Len() > 0 {
		return out.String(), fmt.Errorf("%s: %v: %s", tool, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Snmptrapd is a running snmptrapd logging one line per notification.
type Snmptrapd struct {
	daemon
	Addr string // 127.0.0.1:port (UDP)
}

// SnmptrapdOptions configure snmptrapd.
type SnmptrapdOptions struct {
	// Community accepted for v1/v2c notifications (empty: none).
	Community string
	// Users accepted for v3 notifications (traps: with the sender's
	// EngineID; informs: without).
	Users []User
	// MIBPath, if set (see MIBPath), loads SNMPv2-MIB and SVGATEWAY-MIB:
	// varbinds and notification OIDs are printed by name
	// ("SNMPv2-MIB::snmpTrapOID.0 = OID: SVGATEWAY-MIB::svgAlarmRaised").
	// Otherwise numerically.
	MIBPath string
	// Port to listen on (0: a free one).
	Port int
	// Lines, if set, receives every notification line the moment
	// snmptrapd writes it (it logs to a pipe instead of a file), with the
	// time it was read: for latency measurements.
	Lines chan<- Line
	// Options are more snmptrapd options (output options such as "-Of").
	Options []string
	// TrapHandle, if set, is run for every notification (snmptrapd.conf
	// "traphandle default"), e.g. snmptt in standalone mode.
	TrapHandle string
}

// Line is a notification line of snmptrapd and when it was read.
type Line struct {
	At   time.Time
	Text string
}

// logFormat is one line per notification, fields separated by tabs:
// NOTIF, epoch, ver=0|1|3, sec=community or user, PDU description
// ("TRAP2, SNMP v2c, community public", "INFORM, SNMP v3, user u, context "),
// from=, then every varbind as "name = TYPE: value", then the SNMPv1
// trap fields: ent= enterprise, gen= generic-trap, spec= specific-trap,
// agent= agent-addr.
const logFormat = `NOTIF\t%t\tver=%s\tsec=%u\t%P\tfrom=%b\t%V\t%v\tent=%N\tgen=%w\tspec=%q\tagent=%a\n`

// StartSnmptrapd starts snmptrapd; it is stopped when the test ends.
func StartSnmptrapd(t testing.TB, o SnmptrapdOptions) *Snmptrapd {
	t.Helper()
	path := Tool(t, "snmptrapd")
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "persist"), 0o700)
	if o.Port == 0 {
		o.Port = FreeUDPPort(t)
	}
	d := &Snmptrapd{Addr: fmt.Sprintf("127.0.0.1:%d", o.Port)}
	conf := []string{"snmpTrapdAddr udp:" + d.Addr}
	if o.Community != "" && o.TrapHandle != "" {
		conf = append(conf, "authCommunity log,execute "+o.Community, "traphandle default "+o.TrapHandle)
	} else if o.Community != "" {
		conf = append(conf, "authCommunity log "+o.Community)
	}
	for _, u := range o.Users {
		conf = append(conf, u.createUser())
	}
	seen := map[string]bool{}
	for _, u := range o.Users {
		if !seen[u.Name] {
			conf = append(conf, "authUser log "+u.Name+" "+u.level())
			seen[u.Name] = true
		}
	}
	confFile := filepath.Join(dir, "snmptrapd.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "traps.log")
	args := []string{"-f", "-C", "-c", confFile, "-n", "-X", "-Lf", logFile, "-F", logFormat}
	var stdout func(io.Reader)
	if o.Lines != nil {
		args[6] = "-Lo"
		args = slices.Delete(args, 7, 8)
		stdout = func(r io.Reader) {
			f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				return
			}
			defer f.Close()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 1<<16), 1<<22)
			for sc.Scan() {
				at := time.Now()
				fmt.Fprintln(f, sc.Text())
				if strings.HasPrefix(sc.Text(), "NOTIF\t") {
					o.Lines <- Line{At: at, Text: sc.Text()}
				}
			}
		}
	}
	args = append(args, o.Options...)
	if o.MIBPath != "" {
		args = append(args, "-M", o.MIBPath, "-m", "SNMPv2-MIB:SVGATEWAY-MIB")
	} else {
		args = append(args, "-On")
	}
	d.daemon = daemon{t: t, name: "snmptrapd", path: path, logFile: logFile, args: args, stdout: stdout,
		env: []string{"MIBS=", "SNMP_PERSISTENT_DIR=" + filepath.Join(dir, "persist")}}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("snmptrapd log:\n%s", d.Log())
		}
	})
	d.Start()
	return d
}

// Start starts snmptrapd (again) and waits until it logged its start.
func (d *Snmptrapd) Start() {
	d.t.Helper()
	before := strings.Count(d.Log(), "NET-SNMP version")
	d.start()
	for i := 0; strings.Count(d.Log(), "NET-SNMP version") <= before; i++ {
		if !d.running() || i == 100 {
			d.t.Fatalf("snmptrapd did not start:\n%s", d.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops snmptrapd and waits for it.
func (d *Snmptrapd) Stop() { d.stop(syscall.SIGTERM) }

// Notification is one logged notification.
type Notification struct {
	Version  string // "0" (v1), "1" (v2c) or "3"
	Security string // community or user
	PDU      string // "TRAP2, SNMP v2c, community public", "INFORM, SNMP v3, user u, context "
	Varbinds []Varbind
	// The SNMPv1 Trap-PDU fields, as printed.
	Enterprise, Generic, Specific, AgentAddr string
}

// Varbind is one varbind as snmptrapd printed it.
type Varbind struct{ Name, Value string }

// Inform reports whether the notification was an inform.
func (n Notification) Inform() bool { return strings.HasPrefix(n.PDU, "INFORM") }

// Value returns the value printed for the first varbind whose name starts
// with prefix ("SVGATEWAY-MIB::svgAlarmId.", "SNMPv2-MIB::snmpTrapOID.0").
func (n Notification) Value(prefix string) (string, bool) {
	for _, vb := range n.Varbinds {
		if strings.HasPrefix(vb.Name, prefix) {
			return vb.Value, true
		}
	}
	return "", false
}

// Notifications parses the log: every notification received so far.
func (d *Snmptrapd) Notifications() []Notification {
	var out []Notification
	sc := bufio.NewScanner(strings.NewReader(d.Log()))
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 6 || f[0] != "NOTIF" {
			continue
		}
		n := Notification{Version: strings.TrimPrefix(f[2], "ver="), Security: strings.TrimPrefix(f[3], "sec="), PDU: f[4]}
		for _, vb := range f[6:] {
			if name, value, ok := strings.Cut(vb, " = "); ok {
				n.Varbinds = append(n.Varbinds, Varbind{Name: name, Value: value})
				continue
			}
			for _, fl := range []struct {
				key string
				dst *string
			}{{"ent=", &n.Enterprise}, {"gen=", &n.Generic}, {"spec=", &n.Specific}, {"agent=", &n.AgentAddr}} {
				if v, ok := strings.CutPrefix(vb, fl.key); ok {
					*fl.dst = v
				}
			}
		}
		out = append(out, n)
	}
	return out
}
