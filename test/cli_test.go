package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHashPasswordOnTerminalDoesNotEcho runs `svgateway hash-password` on a
// real pseudo-terminal (util-linux script): it prompts twice, the password
// is not echoed, and the bcrypt hash is printed.
func TestHashPasswordOnTerminalDoesNotEcho(t *testing.T) {
	requireTool(t, "script")
	cmd := exec.Command("script", "-qec", gatewayBin+" hash-password", "/dev/null")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var seen bytes.Buffer
	r := bufio.NewReader(io.TeeReader(stdout, &seen))
	answer := func(prompt string) {
		t.Helper()
		done := make(chan error, 1)
		go func() {
			for !strings.Contains(seen.String(), prompt) {
				if _, err := r.ReadByte(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("before %q: %v; output %q", prompt, err, seen.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no %q after 30s; output %q", prompt, seen.String())
		}
		seen.Reset()
		io.WriteString(stdin, "s3cret-horse\r")
	}
	answer("Password: ")
	answer("Repeat password: ")
	rest, _ := io.ReadAll(r)
	out := seen.String() + string(rest)
	cmd.Wait()
	if strings.Contains(out, "s3cret-horse") {
		t.Errorf("the password was echoed: %q", out)
	}
	if !strings.Contains(out, "$2a$") {
		t.Errorf("no bcrypt hash in %q", out)
	}
}
