// Package e2e tests svgateway's OPC UA server end to end with node-opcua, an
// independent OPC UA stack: the server runs in-process on 127.0.0.1 over a
// model.Store filled here; the clients are the scripts of this directory,
// run with node and test/node_modules.
package e2e

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
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
	"github.com/svgateway/svgateway/opcua"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

const (
	testUser     = "operator"
	testPassword = "correct horse battery staple"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// nodeJS returns the node binary, skipping the test when node or
// node-opcua is missing unless SVGATEWAY_E2E=1 demands them.
func nodeJS(t *testing.T) string {
	t.Helper()
	fail := func(format string, args ...any) {
		if os.Getenv("SVGATEWAY_E2E") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		fail("node not installed: %v", err)
	}
	if _, err := os.Stat("../node_modules/node-opcua"); err != nil {
		fail("node-opcua missing in test/node_modules (npm ci in test/): %v", err)
	}
	return node
}

type server struct {
	*uaserver.Server
	store *model.Store
	pki   string
}

// start runs the gateway's OPC UA server over a synthetic footprint, with
// None/anonymous (as the sandbox may) and Basic256Sha256 with a user.
func start(t *testing.T, shape modeltest.Shape) *server {
	t.Helper()
	return startWith(t, shape, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
}

// startWith is start with the store's first readings written by fill (nil:
// none yet).
func startWith(t *testing.T, shape modeltest.Shape, fill func(tx *model.Tx) error) *server {
	t.Helper()
	store, err := modeltest.NewStore(shape.Assorted(), t0, fill)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	logPath := filepath.Join(t.TempDir(), "server.log")
	logs, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = logs
	if testing.Verbose() {
		w = io.MultiWriter(logs, os.Stderr)
	}
	cfg := opcua.Config{Config: uaserver.Config{Endpoint: "opc.tcp://127.0.0.1:0", ApplicationURI: "urn:svgateway:e2e",
		Security: []string{"None", "Basic256Sha256:SignAndEncrypt"}, AllowAnonymous: true, AutoAcceptClients: true,
		Users: []uaserver.User{{Name: testUser, Password: testPassword}}}}
	srv, err := opcua.New(cfg, store, uaserver.Options{Logger: slog.New(slog.NewTextHandler(w, nil)), StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stop := svctest.Start(t, srv.Run)
	if srv.Addr() == nil {
		stop()
		t.Fatal("the server is not listening")
	}
	t.Cleanup(func() {
		stop() // before the log is read: cleanups run last-registered first
		logs.Close()
		if b, err := os.ReadFile(logPath); err != nil || strings.Contains(string(b), testPassword) {
			t.Errorf("the password reached the log (or the log is unreadable: %v)", err)
		}
	})
	return &server{Server: srv, store: store, pki: t.TempDir()}
}

// script runs a node script of this directory to its end and returns its
// JSON lines.
func (s *server) script(t *testing.T, name string, args ...string) []map[string]any {
	t.Helper()
	node := nodeJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{name, "--url", s.EndpointURL(), "--pki", s.pki}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s\nstderr:\n%s", name, args, err, tail(out), tail(stderr.Bytes()))
	}
	return jsonLines(out)
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func jsonLines(b []byte) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// running is a node script running in the background, read line by line.
type running struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan map[string]any
	done  chan struct{}
}

func (s *server) startScript(t *testing.T, name string, args ...string) *running {
	t.Helper()
	node := nodeJS(t)
	cmd := exec.Command(node, append([]string{name, "--url", s.EndpointURL(), "--pki", s.pki}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, stdin: stdin, lines: make(chan map[string]any, 100000), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				r.lines <- m
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-r.done
		}
		cmd.Wait()
	})
	return r
}

// next returns the next line matching ok, failing after a bound.
func (r *running) next(t *testing.T, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m := <-r.lines:
			if m["error"] != nil {
				t.Fatalf("script: %v", m["error"])
			}
			if ok(m) {
				return m
			}
		case <-r.done:
			t.Fatalf("script ended before %s", what)
		case <-deadline:
			t.Fatalf("no %s within 60s", what)
		}
	}
}

// finish closes the script's stdin and returns its summary line.
func (r *running) finish(t *testing.T) map[string]any {
	t.Helper()
	r.stdin.Close()
	return r.next(t, "summary", func(m map[string]any) bool { return m["summary"] == true })
}

func summary(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	for _, m := range lines {
		if m["summary"] == true {
			return m
		}
	}
	t.Fatalf("no summary in %v", lines)
	return nil
}
