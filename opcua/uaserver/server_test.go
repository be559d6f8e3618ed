package uaserver

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/opcua/uaserver/uaservertest"
)

// Test fixtures shared by the tests of the channel and session layer: the
// stub services of uaservertest and a server started in-process on
// 127.0.0.1:0.

const (
	testUser     = "operator"
	testPassword = "correct horse battery staple"
	bigNode      = uaservertest.BigNode
	panicNode    = uaservertest.PanicNode
)

var bigValue = uaservertest.BigValue

// stubServices serves uaservertest's stub.
type stubServices struct{ *uaservertest.Stub }

func newStubServices() stubServices { return stubServices{uaservertest.NewStub()} }

func (st stubServices) count(service string) int { return st.Count(service) }

func (st stubServices) Serve(r *Request) { st.Answer(r.Body, r.Respond) }

func (st stubServices) SessionClosed(s *Session, deleteSubscriptions bool) {
	st.Stub.SessionClosed(uaservertest.Closed{ID: s.ID, User: s.User, DeleteSubscriptions: deleteSubscriptions})
}

// testServer is a server running in-process for one test.
type testServer struct {
	*Server
	dir      string       // state_dir
	services stubServices // zero unless started by startServer
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
	log, logs := svctest.Log(t, testPassword)
	ts := &testServer{dir: t.TempDir(), logs: logs}
	srv, err := NewServer(cfg, services, Options{Logger: log, StateDir: ts.dir, Registerer: prometheus.NewRegistry()})
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
