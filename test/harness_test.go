// Package e2e holds svgateway's end-to-end tests: the real binary against
// the real third-party tools (net-snmp, node-opcua, the Pub/Sub emulator, …),
// all on loopback. test/run.sh installs the tools and sets SVGATEWAY_E2E=1;
// without it, a test whose tool is missing skips instead of failing.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// gatewayBin is the svgateway binary built once by TestMain.
var gatewayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "svgateway-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatewayBin = filepath.Join(dir, "svgateway")
	// Tests run the gateway built with the race detector; benchmarks
	// (-test.bench set) measure the binary users run.
	flag.Parse()
	args := []string{"build", "-race", "-o", gatewayBin, "../cmd/svgateway"}
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		args = slices.Delete(args, 1, 2)
	}
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building svgateway:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopPeers()
	os.RemoveAll(dir)
	os.Exit(code)
}

// e2eRequired reports whether test/run.sh runs us: missing tools are then failures.
func e2eRequired() bool { return os.Getenv("SVGATEWAY_E2E") == "1" }

// requireTool skips (or, under test/run.sh, fails) when a program is missing,
// and returns its path.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if e2eRequired() {
			t.Fatalf("%s is not installed (test/run.sh installs it)", name)
		}
		t.Skipf("%s is not installed; run test/run.sh", name)
	}
	return p
}

// freePort returns a loopback port that was free a moment ago ("tcp" or "udp").
func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		return netsnmptest.FreeUDPPort(t)
	}
	return netsnmptest.FreeTCPPort(t)
}

// Gateway is a running svgateway process.
type Gateway struct {
	t          testing.TB
	Dir        string // the test's directory: gateway.toml, state/
	StateDir   string
	StatusURL  string // http://127.0.0.1:PORT
	SandboxURL string // the embedded sandbox (sandbox mode), with /_sandbox/ admin
	Config     string // the configuration it was started with
	Log        *svctest.Buffer
	cmd        *exec.Cmd
	exited     chan struct{}
	exitErr    error
}

// GatewayOptions select what the started gateway runs.
type GatewayOptions struct {
	// Dir reuses a directory (and its state_dir) from an earlier gateway, to
	// test restarts; empty makes a new one.
	Dir string
	// Profile is the sandbox profile ("small" by default).
	Profile string
	// Extra is TOML appended to the configuration (e.g. an [snmp] table).
	// The placeholders {{STATE}} and {{DIR}} are replaced.
	Extra string
	// Sync overrides the [sync] table (default: fast intervals for tests).
	Sync string
	// Tick is the sandbox simulation tick (default 1s).
	Tick string
	// NoWait returns without waiting for /readyz.
	NoWait bool
	// Env is added to the gateway's environment (e.g. NOTIFY_SOCKET).
	Env []string
	// Binary runs another svgateway binary (default: the one TestMain built).
	Binary string
	// Status is TOML added to the [status] table (after its listen key).
	// {{DIR}} is replaced.
	Status string
}

// StartGateway starts svgateway in sandbox mode with its status listener and
// sandbox on free loopback ports, waits until it is ready, and stops it when
// the test ends.
func StartGateway(t testing.TB, o GatewayOptions) *Gateway {
	t.Helper()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	if o.Profile == "" {
		o.Profile = "small"
	}
	if o.Tick == "" {
		o.Tick = "1s"
	}
	if o.Sync == "" {
		o.Sync = "structure_interval = \"1m\"\nvalues_interval = \"1s\"\nstale_after = \"10s\"\n"
	}
	statusPort, sandboxPort := freePort(t, "tcp"), freePort(t, "tcp")
	state := filepath.Join(dir, "state")
	cfg := fmt.Sprintf(`state_dir = %q
log_level = "debug"

[sandbox]
enabled = true
profile = %q
listen = "127.0.0.1:%d"
tick = %q

[sync]
%s
[status]
listen = "127.0.0.1:%d"
%s
`, state, o.Profile, sandboxPort, o.Tick, o.Sync, statusPort, strings.ReplaceAll(o.Status, "{{DIR}}", dir))
	extra := strings.NewReplacer("{{STATE}}", state, "{{DIR}}", dir).Replace(o.Extra)
	cfg += "\n" + extra
	g := &Gateway{t: t, Dir: dir, StateDir: state, Config: cfg,
		StatusURL:  fmt.Sprintf("http://127.0.0.1:%d", statusPort),
		SandboxURL: fmt.Sprintf("http://127.0.0.1:%d", sandboxPort)}
	bin := gatewayBin
	if o.Binary != "" {
		bin = o.Binary
	}
	g.launch(bin, o.Env, "gateway", 0)
	if !o.NoWait {
		g.WaitReady(60 * time.Second)
	}
	return g
}

// launch writes g.Config to g.Dir/gateway.toml and starts bin on it, its
// output in g.Log; the gateway is stopped when the test ends, and a failed
// test logs its output under name (the last logTail bytes; all when 0). It
// does not wait for readiness: live-mode tests and StartGateway share it.
func (g *Gateway) launch(bin string, env []string, name string, logTail int) {
	t := g.t
	t.Helper()
	path := filepath.Join(g.Dir, "gateway.toml")
	if err := os.WriteFile(path, []byte(g.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	g.Log, g.exited = &svctest.Buffer{}, make(chan struct{})
	g.cmd = exec.Command(bin, "-config", path)
	g.cmd.Dir = g.Dir
	g.cmd.Env = append(os.Environ(), env...)
	g.cmd.Stdout, g.cmd.Stderr = g.Log, g.Log
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		g.exitErr = g.cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		g.Stop()
		if t.Failed() {
			log := g.Log.String()
			if logTail > 0 {
				log = tail(log, logTail)
			}
			t.Logf("%s log:\n%s", name, log)
		}
	})
}

// WaitReady waits (bounded) until /readyz answers 200.
func (g *Gateway) WaitReady(limit time.Duration) {
	g.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-g.exited:
			g.t.Fatalf("gateway exited before it was ready: %v\n%s", g.exitErr, g.Log.String())
		default:
		}
		if resp, err := quietClient.Get(g.StatusURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("gateway not ready after %v\n%s", limit, g.Log.String())
}

// Stop sends SIGTERM and waits (bounded) for the process to exit; it
// returns the exit error (nil for a clean exit). Safe to call twice.
func (g *Gateway) Stop() error {
	select {
	case <-g.exited:
		return g.exitErr
	default:
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(20 * time.Second):
		g.cmd.Process.Kill()
		<-g.exited
		g.t.Errorf("gateway did not stop within 20s of SIGTERM")
	}
	return g.exitErr
}

// Get fetches a status URL path and returns the body (failing on non-200).
func (g *Gateway) Get(path string) []byte {
	g.t.Helper()
	return httpGet(g.t, g.StatusURL+path)
}

func httpGet(t testing.TB, url string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b
}

// SandboxPost sends an admin request to the embedded sandbox.
func (g *Gateway) SandboxPost(path string, body any) []byte {
	g.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(g.SandboxURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		g.t.Fatalf("POST %s %s: %s: %s", path, b, resp.Status, out)
	}
	return out
}

// Model fetches and decodes /api/model.
func (g *Gateway) Model() *APIModel {
	g.t.Helper()
	var m APIModel
	if err := json.Unmarshal(g.Get("/api/model"), &m); err != nil {
		g.t.Fatal(err)
	}
	return &m
}

// WaitFor polls cond (bounded by limit) until it returns true.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quietClient bounds every request of the helpers below: a server that
// stops answering fails the test instead of hanging it.
var quietClient = &http.Client{Timeout: 30 * time.Second}

func httpGetQuiet(url string) (string, error) {
	resp, err := quietClient.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s", resp.Status)
	}
	return string(b), err
}

func postQuiet(url, body string) {
	if resp, err := quietClient.Post(url, "application/json", strings.NewReader(body)); err == nil {
		resp.Body.Close()
	}
}

func putQuiet(t testing.TB, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := quietClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT %s: %s: %s", url, resp.Status, b)
	}
}

// modelFrom fetches /api/model from a status URL.
func modelFrom(t testing.TB, statusURL string) *APIModel {
	t.Helper()
	var m APIModel
	if err := json.Unmarshal(httpGet(t, statusURL+"/api/model"), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// liveSmartView returns the tables of a gateway in live mode reading the
// standalone sandbox at url (StartSandbox) as its default client, account
// and IBXs: [sandbox] off, then [smartview], to which more keys may follow.
func liveSmartView(url string) string {
	return fmt.Sprintf("[sandbox]\nenabled = false\n[smartview]\nbase_url = %q\nclient_id = %q\nclient_secret = %q\naccount_no = %q\nibxs = [\"CH1\", \"SV4\"]",
		url, sandbox.DefaultClientID, sandbox.DefaultClientSecret, sandbox.DefaultAccountNo)
}

// anonymousOPCUA returns an [opcua] table serving on a free loopback port
// with security None and anonymous sessions, and that endpoint's URL. Tables
// under [opcua] (limits, users) may follow it.
func anonymousOPCUA(t testing.TB) (table, endpoint string) {
	endpoint = fmt.Sprintf("opc.tcp://127.0.0.1:%d", freePort(t, "tcp"))
	return fmt.Sprintf("[opcua]\nendpoint = %q\nsecurity = [\"None\"]\nallow_anonymous = true\n", endpoint), endpoint
}

// StartSandbox runs `svgateway sandbox` alone — the stand-in for the live
// SmartView API in live-mode tests — on a free loopback port and returns its
// URL. extra is appended to its [sandbox] table (credentials, tick, …). The
// process is stopped when the test ends.
func StartSandbox(t testing.TB, extra string) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t, "tcp")
	cfg := filepath.Join(dir, "sandbox.toml")
	doc := fmt.Sprintf("state_dir = %q\n[sandbox]\nenabled = true\nlisten = \"127.0.0.1:%d\"\n%s\n", filepath.Join(dir, "state"), port, extra)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gatewayBin, "-config", cfg, "sandbox")
	log := &svctest.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sandbox log:\n%s", log.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	WaitFor(t, 30*time.Second, "the standalone sandbox", func() bool { _, err := httpGetQuiet(url + "/_sandbox/stats"); return err == nil })
	return url
}
