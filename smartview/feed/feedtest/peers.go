package feedtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// Process is a peer started for a test: its own process group on
// loopback, stopped (the whole group) by Stop.
type Process struct {
	Name string
	Addr string // host:port it serves on
	cmd  *exec.Cmd
	out  *svctest.Buffer
	done chan struct{}
}

// Output returns what the process printed (its first MiB: start-up errors are there).
func (p *Process) Output() string { return p.out.String() }

// start runs cmd in its own process group and waits (bounded by limit)
// until ready reports true.
func start(name, addr string, cmd *exec.Cmd, limit time.Duration, ready func() bool) (*Process, error) {
	p := &Process{Name: name, Addr: addr, cmd: cmd, out: &svctest.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited while starting:\n%s", name, p.Output())
		default:
		}
		if ready() {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s not ready after %v:\n%s", name, limit, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the process group (SIGTERM, then SIGKILL after 10s) and waits.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Kill ends the process group at once (SIGKILL), as a crash would.
func (p *Process) Kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// PubSubEmulatorLauncher is the emulator's own launcher on the machine image
// (package google-cloud-cli-pubsub-emulator).
const PubSubEmulatorLauncher = "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"

// ErrMissing is returned (wrapped) when a peer is not installed here.
var ErrMissing = errors.New("not installed")

// StartPubSubEmulator starts the real Pub/Sub emulator on 127.0.0.1:port
// (0: a free port) and waits up to 60s for it to answer (it takes 2–5 s,
// once seen 33 s under disk load).
func StartPubSubEmulator(port int) (*Process, error) {
	if _, err := os.Stat(PubSubEmulatorLauncher); err != nil {
		return nil, fmt.Errorf("the Pub/Sub emulator (%s): %w", PubSubEmulatorLauncher, ErrMissing)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("java for the Pub/Sub emulator: %w", ErrMissing)
	}
	if port == 0 {
		var err error
		if port, err = svctest.FreePort("tcp"); err != nil {
			return nil, err
		}
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(PubSubEmulatorLauncher, "--host=127.0.0.1", fmt.Sprintf("--port=%d", port))
	client := &http.Client{Timeout: time.Second}
	return start("pubsub-emulator", addr, cmd, 60*time.Second, func() bool {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && strings.HasPrefix(string(b), "Ok")
	})
}

// NodeModules returns the repository's test/node_modules, where test/run.sh
// (npm ci) installs the node peers.
func NodeModules(root string) (string, error) {
	dir := filepath.Join(root, "test", "node_modules")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("%s (run npm ci in test/, or test/run.sh): %w", dir, ErrMissing)
	}
	return dir, nil
}

// StartNode runs a node script of the repository's test/ directory with
// args, on loopback, and waits up to 30s until addr accepts connections.
func StartNode(root, name, script, addr string, args ...string) (*Process, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node: %w", ErrMissing)
	}
	mods, err := NodeModules(root)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", append([]string{filepath.Join(root, "test", script)}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Dir = filepath.Join(root, "test")
	return start(name, addr, cmd, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}
