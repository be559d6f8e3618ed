package e2e

// Operating the gateway as a service: SIGHUP reloads what can change
// without a restart and never stops the process; systemd's readiness
// protocol (sd_notify) is spoken on NOTIFY_SOCKET. net-snmp's snmpget is
// the manager whose community is rotated.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket is a systemd NOTIFY_SOCKET stand-in: a unixgram socket whose
// datagrams are collected.
type notifySocket struct {
	path string
	msgs chan string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // short: a socket path has ~107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "notify"), msgs: make(chan string, 64)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.msgs)
				return
			}
			n.msgs <- string(buf[:k])
		}
	}()
	return n
}

// expect waits (bounded) for a datagram holding line, and returns it.
func (n *notifySocket) expect(t *testing.T, line string) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-n.msgs:
			if !ok {
				t.Fatalf("notify socket closed before %q", line)
			}
			for _, l := range strings.Split(m, "\n") {
				if l == line {
					return m
				}
			}
		case <-deadline:
			t.Fatalf("no %q on NOTIFY_SOCKET after 60s", line)
		}
	}
}

// waitLog waits (bounded) until the gateway's log holds want n times.
func (g *Gateway) waitLog(want string, n int) {
	g.t.Helper()
	for i := 0; strings.Count(g.Log.String(), want) < n; i++ {
		if i == 300 {
			g.t.Fatalf("log has not %d× %q after 30s:\n%s", n, want, g.Log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (g *Gateway) alive() bool {
	select {
	case <-g.exited:
		return false
	default:
		return true
	}
}

func TestSIGHUPReloadAndSdNotify(t *testing.T) {
	requireTool(t, "snmpget")
	sd := listenNotify(t)
	port := freePort(t, "udp")
	snmpTable := fmt.Sprintf("[snmp]\nlisten = \"127.0.0.1:%d\"\n[[snmp.communities]]\nname = \"alpha\"\nsources = [\"127.0.0.1/32\"]\n", port) + snmpV3
	g := StartGateway(t, GatewayOptions{Extra: snmpTable, Env: []string{"NOTIFY_SOCKET=" + sd.path}})
	sd.expect(t, "READY=1")
	path := filepath.Join(g.Dir, "gateway.toml")
	agent := fmt.Sprintf("udp:127.0.0.1:%d", port)
	get := func(community string) error {
		_, err := snmpTool(t, "snmpget", "-v2c", "-c", community, "-t", "1", "-r", "1", agent, "SNMPv2-MIB::sysDescr.0")
		return err
	}
	getV3 := func(user string) error { // authPriv with snmpV3's passphrases
		_, err := snmpTool(t, "snmpget", "-v3", "-l", "authPriv", "-u", user, "-a", "SHA-256", "-A", "e2e-auth-passphrase",
			"-x", "AES", "-X", "e2e-priv-passphrase", "-t", "1", "-r", "1", agent, "SNMPv2-MIB::sysDescr.0")
		return err
	}
	if err := get("alpha"); err != nil {
		t.Fatalf("community alpha before the reload: %v", err)
	}
	if err := getV3("nms"); err != nil {
		t.Fatalf("v3 user nms before the reload: %v", err)
	}
	hup := func(cfg string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	// 1. The community and the v3 user are rotated: the next request is
	// checked against them.
	rotated := strings.Replace(strings.Replace(g.Config, `name = "alpha"`, `name = "bravo"`, 1), `name = "nms"`, `name = "ops"`, 1)
	hup(rotated)
	sd.expect(t, "RELOADING=1")
	sd.expect(t, "READY=1")
	g.waitLog("configuration reloaded", 1)
	if err := get("bravo"); err != nil {
		t.Errorf("community bravo after the reload: %v", err)
	}
	if err := get("alpha"); err == nil {
		t.Error("community alpha still answered after the reload removed it")
	}
	if err := getV3("ops"); err != nil {
		t.Errorf("v3 user ops after the reload: %v", err)
	}
	if err := getV3("nms"); err == nil {
		t.Error("v3 user nms still answered after the reload removed it")
	}
	if strings.Contains(g.Log.String(), "bravo") {
		t.Error("the log holds the community")
	}

	// 2. A file that does not validate is refused, located, and changes nothing.
	hup(strings.Replace(rotated, `log_level = "debug"`, `log_level = "loud"`, 1))
	g.waitLog("configuration reload refused", 1)
	if !strings.Contains(g.Log.String(), "gateway.toml:2: log_level") {
		t.Errorf("the refusal does not locate the error:\n%s", g.Log.String())
	}
	if err := get("bravo"); err != nil {
		t.Errorf("community bravo after a refused reload: %v", err)
	}

	// 3. A listener change needs a restart: said, not applied.
	other := freePort(t, "tcp")
	hup(strings.Replace(rotated, g.StatusURL[len("http://"):], fmt.Sprintf("127.0.0.1:%d", other), 1))
	g.waitLog("restart required", 1)
	if !strings.Contains(g.Log.String(), "status.listen") {
		t.Errorf("restart required without the key:\n%s", g.Log.String())
	}
	g.Get("/healthz") // still on the old address

	// 4. SIGHUP never stops the gateway, however many.
	for range 5 {
		g.cmd.Process.Signal(syscall.SIGHUP)
	}
	time.Sleep(time.Second)
	if !g.alive() {
		t.Fatalf("gateway exited on SIGHUP: %v", g.exitErr)
	}
	g.Get("/healthz")

	// 5. A stop says STOPPING=1 and exits 0.
	if err := g.Stop(); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	sd.expect(t, "STOPPING=1")
}
