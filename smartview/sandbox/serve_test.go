package sandbox

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// A connection that sent no request (a client's dial that finished after
// its request was cancelled) does not hold a stop: net/http's Shutdown counts
// such a connection idle only after 5 s, and the gateway's stop waited that
// long. The bound below is the test's own, far under those 5 s: the stop
// itself takes milliseconds.
func TestServeStopsBesideAConnectionWithoutRequest(t *testing.T) {
	addr, stop, served := startServe(t, Config{Tick: time.Hour})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The listener accepts in order: once a request on a later connection
	// is answered, c has been accepted.
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve still waiting 3 s after the stop, for a connection that sent no request")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the connection without a request is still open after the stop")
	}
}

// startServe runs Serve of a sandbox made with cfg on a loopback listener
// until the test ends or stop is called; served has what Serve returned.
func startServe(t *testing.T, cfg Config) (addr string, stop func(), served <-chan error) {
	t.Helper()
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return ln.Addr().String(), stop, done
}
