package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/opcua/uaserver"
	"github.com/svgateway/svgateway/opcua/uaserver/uaservertest"
)

// End-to-end tests of the protocol server (opcua/uaserver) with node-opcua,
// an independent OPC UA stack: secure channels, sessions, users, chunking,
// token renewal and attacks, against the server running in-process with
// uaservertest's stub services (the gateway's own services are the other
// tests' here).

// stubServices serves uaservertest's stub.
type stubServices struct{ *uaservertest.Stub }

func (st stubServices) count(service string) int { return st.Count(service) }

func (st stubServices) Serve(r *uaserver.Request) { st.Answer(r.Body, r.Respond) }

func (st stubServices) SessionClosed(s *uaserver.Session, deleteSubscriptions bool) {
	st.Stub.SessionClosed(uaservertest.Closed{ID: s.ID, User: s.User, DeleteSubscriptions: deleteSubscriptions})
}

// testServer is a protocol server with the stub services, running for one
// test.
type testServer struct {
	*uaserver.Server
	dir      string // state_dir
	pki      string // the node-opcua clients' PKI folder
	services stubServices
	logs     *svctest.Buffer
}

// testConfig offers the secure endpoints, one user and short timeouts.
func testConfig(t *testing.T) uaserver.Config {
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return uaserver.Config{
		Endpoint:           "opc.tcp://127.0.0.1:0",
		ApplicationURI:     "urn:svgateway:test",
		Users:              []uaserver.User{{Name: testUser, PasswordHash: string(hash)}},
		MinSessionTimeout:  time.Second,
		MinChannelLifetime: time.Second,
		HelloTimeout:       5 * time.Second,
	}
}

// startServer runs a protocol server with the stub services on
// cfg.Endpoint until the test ends. It fails the test if a password
// reaches the log.
func startServer(t *testing.T, cfg uaserver.Config) *testServer {
	t.Helper()
	log, logs := svctest.Log(t, testPassword)
	ts := &testServer{dir: t.TempDir(), pki: t.TempDir(), logs: logs,
		services: stubServices{uaservertest.NewStub()}}
	srv, err := uaserver.NewServer(cfg, ts.services, uaserver.Options{Logger: log, StateDir: ts.dir, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	if stop := svctest.Start(t, srv.Run); srv.Addr() == nil {
		stop()
		t.Fatal("the server is not listening")
	}
	return ts
}

// waitClosed waits for the services to be told that a session closed.
func (ts *testServer) waitClosed(t *testing.T) uaservertest.Closed { return ts.services.WaitClosed(t) }

// clientResult is the output of one run of client.js, by step.
type clientResult struct {
	lines []map[string]any
}

// step returns the first line of a step, or nil.
func (r clientResult) step(name string) map[string]any {
	for _, l := range r.lines {
		if l["step"] == name {
			return l
		}
	}
	return nil
}

// ok reports whether step ran and succeeded.
func (r clientResult) ok(name string) bool {
	l := r.step(name)
	return l != nil && l["ok"] == true
}

// errorOf is the error text of a failed step.
func (r clientResult) errorOf(name string) string {
	if l := r.step(name); l != nil {
		s, _ := l["error"].(string)
		return s
	}
	return ""
}

// runClient runs client.js against ts.
func runClient(t *testing.T, ts *testServer, args ...string) clientResult {
	t.Helper()
	return runScript(t, ts, "client.js", args...)
}

// runScript runs a node-opcua script of this directory against ts and
// parses its JSON lines.
func runScript(t *testing.T, ts *testServer, script string, args ...string) clientResult {
	t.Helper()
	node := nodeJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script, "--url", ts.EndpointURL(), "--pki", ts.pki}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("%s %v:\n%s", script, args, out)
	if err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", script, args, err, stderr.String())
	}
	return clientResult{lines: jsonLines(out)}
}

// jsHash is client.js's checksum of a large string value.
func jsHash(s string) float64 {
	var h uint32
	for i := 0; i < len(s); i++ {
		h = h*31 + uint32(s[i])
	}
	return float64(h)
}

// checkReads runs the read steps every session test shares.
func checkReads(t *testing.T, r clientResult) {
	t.Helper()
	if !r.ok("session") {
		t.Fatalf("no session: %s", r.errorOf("session"))
	}
	read := r.step("read")
	if read == nil || read["ok"] != true {
		t.Fatalf("read: %v", read)
	}
	results := read["results"].([]any)
	small, big := results[0].(map[string]any), results[1].(map[string]any)
	if small["status"] != "Good" || small["value"] != uaservertest.Value {
		t.Errorf("read A: %v", small)
	}
	bv, _ := big["value"].(map[string]any)
	if big["status"] != "Good" || bv["length"] != float64(len(uaservertest.BigValue)) || bv["hash"] != jsHash(uaservertest.BigValue) {
		t.Errorf("read of the %d-byte value (chunked response) corrupted: %v", len(uaservertest.BigValue), big)
	}
	readn := r.step("readn")
	if readn == nil || readn["count"] != float64(10000) || readn["good"] != float64(10000) {
		t.Errorf("Read of 10000 nodes (chunked request): %v", readn)
	}
	if !r.ok("subscribe") {
		t.Errorf("subscription keep-alive: %s", r.errorOf("subscribe"))
	}
	if !r.ok("close") {
		t.Errorf("CloseSession: %s", r.errorOf("close"))
	}
}

var readSteps = []string{
	"--step", "read=ns=1;s=A,ns=1;s=" + uaservertest.BigNode,
	"--step", "readn=ns=1;s=IBX01.C001.R001.K1.kVA:10000",
	"--step", "browse=i=85",
	"--step", "subscribe",
}

func TestNodeOPCUANoneAnonymous(t *testing.T) {
	cfg := testConfig(t)
	cfg.Security = []string{"None"}
	cfg.AllowAnonymous = true
	ts := startServer(t, cfg)
	r := runClient(t, ts, readSteps...)
	checkReads(t, r)
	if b := r.step("browse"); b == nil || b["status"] != "Good" || len(b["references"].([]any)) != 1 {
		t.Errorf("browse: %v", b)
	}
	if !strings.Contains(ts.logs.String(), "SecurityPolicy None is enabled") {
		t.Error("enabling None was not logged")
	}
}

func TestNodeOPCUANoneRefusedWhenNotOffered(t *testing.T) {
	cfg := testConfig(t)
	cfg.AllowAnonymous = true
	ts := startServer(t, cfg)
	r := runClient(t, ts, "--step", "read=ns=1;s=A")
	if r.ok("session") || r.ok("read") {
		t.Fatal("a None session was served while None is not offered")
	}
	// node-opcua refuses by itself once GetEndpoints (served on the None
	// discovery channel) lists no None endpoint; the server's own refusal
	// of CreateSession there is TestOnlyOfferedEndpointsAreServed's.
	if e := r.errorOf("session"); !strings.Contains(e, "BadSecurityPolicyRejected") && !strings.Contains(e, "securityMode = None") {
		t.Errorf("session refused with %q", e)
	}
}

// trustNodeClient connects once with the node-opcua client's certificate
// untrusted (refused, and kept in rejected/), then moves it into trusted/
// as an administrator would.
func (ts *testServer) trustNodeClient(t *testing.T) {
	t.Helper()
	r := runClient(t, ts, "--security", "Basic256Sha256:SignAndEncrypt", "--user", testUser+":"+testPassword)
	if r.ok("connect") && r.ok("session") {
		t.Fatal("a client with an untrusted certificate was served")
	}
	rejected := filepath.Join(ts.dir, "opcua", "pki", "rejected")
	entries, err := os.ReadDir(rejected)
	if err != nil || len(entries) != 1 {
		t.Fatalf("rejected/ holds %d files (%v), want the client's certificate", len(entries), err)
	}
	if err := os.Rename(filepath.Join(rejected, entries[0].Name()), filepath.Join(ts.dir, "opcua", "pki", "trusted", entries[0].Name())); err != nil {
		t.Fatal(err)
	}
}

func TestNodeOPCUASecureUserName(t *testing.T) {
	ts := startServer(t, testConfig(t))
	ts.trustNodeClient(t)
	for _, security := range []string{"Basic256Sha256:SignAndEncrypt", "Basic256Sha256:Sign"} {
		t.Run(security, func(t *testing.T) {
			r := runClient(t, ts, append([]string{"--security", security, "--user", testUser + ":" + testPassword}, readSteps...)...)
			checkReads(t, r)
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		r := runClient(t, ts, "--security", "Basic256Sha256:SignAndEncrypt", "--user", testUser+":wrong", "--step", "read=ns=1;s=A")
		if r.ok("session") || !strings.Contains(r.errorOf("session"), "BadUserAccessDenied") {
			t.Errorf("wrong password: session %v", r.step("session"))
		}
	})
	t.Run("anonymous disabled", func(t *testing.T) {
		r := runClient(t, ts, "--security", "Basic256Sha256:SignAndEncrypt", "--step", "read=ns=1;s=A")
		if r.ok("session") || r.ok("read") {
			t.Errorf("anonymous session served while allow_anonymous = false")
		}
	})
	if n := ts.services.count("Read"); n == 0 {
		t.Error("no Read reached the services")
	}
}

func TestNodeOPCUASessionTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.Security = []string{"None"}
	cfg.AllowAnonymous = true
	ts := startServer(t, cfg)
	r := runClient(t, ts, "--session-timeout", "1000", "--step", "read=ns=1;s=A", "--step", "sleep=4000", "--step", "read=ns=1;s=A")
	if l := r.step("session"); l == nil || l["timeout"] != float64(1000) {
		t.Errorf("revised session timeout: %v, want 1000", l)
	}
	if cs := ts.waitClosed(t); cs.DeleteSubscriptions {
		t.Error("a timed-out session's subscriptions deleted (Part 4, 5.7.2.1: they live on, for TransferSubscriptions)")
	}
	// the read after the timeout is refused; node-opcua then "repairs" by
	// creating a new session and reading again
	logs := ts.logs.String()
	if !strings.Contains(logs, "service=Read status=BadSessionIDInvalid") {
		t.Error("the read on the timed-out session was not refused")
	}
	if n := strings.Count(logs, "opcua: session created"); n < 2 {
		t.Errorf("%d sessions created, want the first and node-opcua's replacement", n)
	}
}

func TestNodeOPCUATokenRenewal(t *testing.T) {
	ts := startServer(t, testConfig(t))
	ts.trustNodeClient(t)
	r := runClient(t, ts, "--security", "Basic256Sha256:SignAndEncrypt", "--user", testUser+":"+testPassword,
		"--token-lifetime", "3000", "--step", "read=ns=1;s=A", "--step", "sleep=7000", "--step", "read=ns=1;s=A")
	for _, l := range r.lines {
		if l["step"] == "read" && l["ok"] != true {
			t.Errorf("read across token renewals: %v", l)
		}
	}
	// a token lifetime of 3 s over 7 s: the client renews at least twice
	if n := strings.Count(ts.logs.String(), "secure channel renewed"); n < 2 {
		t.Errorf("%d renewals, want at least 2", n)
	}
}

func TestNodeOPCUAAttacks(t *testing.T) {
	cfg := testConfig(t)
	cfg.Security = []string{"None", "Basic256Sha256:SignAndEncrypt"}
	cfg.AllowAnonymous = true
	ts := startServer(t, cfg)
	r := runScript(t, ts, "attacks.js")
	got := map[string]string{}
	for _, l := range r.lines {
		got[l["check"].(string)], _ = l["status"].(string)
	}
	want := map[string]string{"create-session": "Good", "owner-still-served": "Good", "new-client-served": "Good"}
	for _, service := range []string{"Read", "Write", "CreateSubscription", "Publish"} {
		want["no-session:"+service] = "BadSessionIdInvalid"
		want["not-activated:"+service] = "BadSessionNotActivated"
		want["other-channel:"+service] = "BadSessionIdInvalid"
	}
	for check, status := range want {
		if got[check] != status {
			t.Errorf("%s: %q, want %s", check, got[check], status)
		}
	}
	for _, service := range []string{"Write", "CreateSubscription", "Publish"} {
		if n := ts.services.count(service); n != 0 {
			t.Errorf("services saw %d %s requests from the attacks", n, service)
		}
	}
}
