package uaserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/svgateway/svgateway/internal/svctest"
)

// Test fixtures shared by the tests of the channel and session layer: a
// stub Services, a server started in-process on 127.0.0.1:0, and a runner
// for the node-opcua client script test/opcua/client.js.

const (
	testUser     = "operator"
	testPassword = "correct horse battery staple"
	// bigNode reads as a string larger than any chunk (response chunking).
	bigNode = "Big"
	bigSize = 300 << 10
	// panicNode makes the stub panic.
	panicNode = "Panic"
)

// bigValue is the value of bigNode.
var bigValue = strings.Repeat("0123456789abcdef", bigSize/16)

// stubServices answers Read with fixed values, Browse with one reference,
// CreateSubscription with id 1 and Publish with a keep-alive after a short
// hold, and records closed sessions.
type stubServices struct {
	closed chan closedSession
	mu     sync.Mutex
	served map[string]int // requests per service
	seq    uint32
}

type closedSession struct {
	s                   *Session
	deleteSubscriptions bool
}

func newStubServices() *stubServices {
	return &stubServices{closed: make(chan closedSession, 100), served: map[string]int{}}
}

func (st *stubServices) count(service string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.served[service]
}

// Offers implements Services: the stub offers what it answers, and Write
// (refused by the stub itself).
func (st *stubServices) Offers(req ua.Request) bool {
	switch req.(type) {
	case *ua.ReadRequest, *ua.WriteRequest, *ua.BrowseRequest, *ua.CreateSubscriptionRequest,
		*ua.PublishRequest, *ua.DeleteSubscriptionsRequest:
		return true
	}
	return false
}

func (st *stubServices) Serve(r *Request) {
	st.mu.Lock()
	st.served[serviceName(r.Body)]++
	st.mu.Unlock()
	switch q := r.Body.(type) {
	case *ua.ReadRequest:
		results := make([]*ua.DataValue, len(q.NodesToRead))
		for i, n := range q.NodesToRead {
			if n.NodeID.StringID() == panicNode {
				panic("stub services panic")
			}
			v := ua.MustVariant(42.5)
			switch {
			case n.NodeID.Namespace() == 1 && n.NodeID.StringID() == bigNode:
				v = ua.MustVariant(bigValue)
			case n.NodeID.Namespace() == 0 && n.NodeID.IntID() == id.Server_NamespaceArray:
				v = ua.MustVariant([]string{"http://opcfoundation.org/UA/", "urn:svgateway:test"})
			}
			results[i] = &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueServerTimestamp, Value: v, ServerTimestamp: time.Now()}
		}
		_ = r.Respond(&ua.ReadResponse{Results: results})
	case *ua.BrowseRequest:
		results := make([]*ua.BrowseResult, len(q.NodesToBrowse))
		for i := range results {
			results[i] = &ua.BrowseResult{References: []*ua.ReferenceDescription{{
				ReferenceTypeID: ua.NewNumericNodeID(0, id.Organizes),
				IsForward:       true,
				NodeID:          ua.NewStringExpandedNodeID(1, "Leaf"),
				BrowseName:      &ua.QualifiedName{NamespaceIndex: 1, Name: "Leaf"},
				DisplayName:     ua.NewLocalizedText("Leaf"),
				NodeClass:       ua.NodeClassVariable,
				TypeDefinition:  ua.NewNumericExpandedNodeID(0, id.BaseDataVariableType),
			}}}
		}
		_ = r.Respond(&ua.BrowseResponse{Results: results})
	case *ua.CreateSubscriptionRequest:
		_ = r.Respond(&ua.CreateSubscriptionResponse{SubscriptionID: 1, RevisedPublishingInterval: 100,
			RevisedLifetimeCount: q.RequestedLifetimeCount, RevisedMaxKeepAliveCount: q.RequestedMaxKeepAliveCount})
	case *ua.PublishRequest:
		// hold the request, then answer with a keep-alive from another goroutine
		time.AfterFunc(100*time.Millisecond, func() {
			st.mu.Lock()
			st.seq++
			seq := st.seq
			st.mu.Unlock()
			_ = r.Respond(&ua.PublishResponse{SubscriptionID: 1,
				NotificationMessage: &ua.NotificationMessage{SequenceNumber: seq, PublishTime: time.Now()}})
		})
	case *ua.DeleteSubscriptionsRequest:
		_ = r.Respond(&ua.DeleteSubscriptionsResponse{Results: make([]ua.StatusCode, len(q.SubscriptionIDs))})
	default:
		_ = r.Respond(&ua.ServiceFault{ResponseHeader: &ua.ResponseHeader{ServiceResult: ua.StatusBadServiceUnsupported}})
	}
}

func (st *stubServices) SessionClosed(s *Session, deleteSubscriptions bool) {
	st.closed <- closedSession{s, deleteSubscriptions}
}

// testServer is a server running in-process for one test.
type testServer struct {
	*Server
	dir      string        // state_dir
	services *stubServices // nil unless started by startServer
	logs     *svctest.Buffer
}

// testConfig offers the secure endpoints, one user and short timeouts.
func testConfig(t *testing.T) Config {
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Endpoint:           "opc.tcp://127.0.0.1:0",
		ApplicationURI:     "urn:svgateway:test",
		Users:              []User{{Name: testUser, PasswordHash: string(hash)}},
		MinSessionTimeout:  time.Second,
		MinChannelLifetime: time.Second,
		HelloTimeout:       5 * time.Second,
	}
}

// startServer runs a server with the stub services.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	stub := newStubServices()
	ts := startServerWith(t, cfg, stub)
	ts.services = stub
	return ts
}

// startServerWith runs a server with services on cfg.Endpoint (use
// opc.tcp://127.0.0.1:0) until the test ends; ts.EndpointURL() is where it
// listens. It fails the test if a password reaches the log.
func startServerWith(t *testing.T, cfg Config, services Services) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), logs: &svctest.Buffer{}}
	var w io.Writer = ts.logs
	if testing.Verbose() {
		w = io.MultiWriter(ts.logs, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := NewServer(cfg, services, Options{Logger: log, StateDir: ts.dir, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	stop := svctest.Start(t, srv.Run)
	if srv.Addr() == nil {
		stop()
		t.Fatal("the server is not listening")
	}
	t.Cleanup(func() {
		stop() // before the log is read: cleanups run last-registered first
		if strings.Contains(ts.logs.String(), testPassword) {
			t.Errorf("a password reached the log")
		}
	})
	return ts
}

// waitClosed waits for the services to be told that a session closed.
func (ts *testServer) waitClosed(t *testing.T) closedSession {
	t.Helper()
	select {
	case c := <-ts.services.closed:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("no session closed")
		return closedSession{}
	}
}

// e2e reports whether end-to-end tests must run (SVGATEWAY_E2E=1).
func e2e() bool { return os.Getenv("SVGATEWAY_E2E") == "1" }

// nodeScripts finds node and the test/opcua scripts with node-opcua
// installed, or skips (fails under SVGATEWAY_E2E=1).
func nodeScripts(t *testing.T) (node, dir string) {
	t.Helper()
	missing := func(what string) {
		if e2e() {
			t.Fatalf("%s missing (SVGATEWAY_E2E=1); run test/run.sh", what)
		}
		t.Skipf("%s missing; run test/run.sh", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "test", "node_modules", "node-opcua")); err != nil {
		missing("test/node_modules/node-opcua")
	}
	return node, filepath.Join(root, "test", "opcua")
}

// clientResult is the output of one run of client.js, by step.
type clientResult struct {
	lines []map[string]any
	raw   string
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

// sharedPKI is the node-opcua clients' PKI folder, shared by the tests of
// one run so that node-opcua creates its certificate once.
var sharedPKI string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "svgateway-opcua-client-pki-")
	if err != nil {
		panic(err)
	}
	sharedPKI = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runClient runs client.js against ts.
func runClient(t *testing.T, ts *testServer, args ...string) clientResult {
	t.Helper()
	return runScript(t, ts, "client.js", args...)
}

// runScript runs a node-opcua script of test/opcua against ts and parses
// its JSON lines.
func runScript(t *testing.T, ts *testServer, script string, args ...string) clientResult {
	t.Helper()
	node, dir := nodeScripts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script), "--url", ts.EndpointURL(), "--pki", sharedPKI}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	res := clientResult{raw: string(out)}
	t.Logf("%s %v:\n%s", script, args, out)
	if err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", script, args, err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			res.lines = append(res.lines, m)
		}
	}
	return res
}
