package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// curlStatus fetches url with curl (bounded) and returns the HTTP status code
// and the body. args are curl's (credentials, CA).
func curlStatus(t *testing.T, curl, url string, args ...string) (code, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := filepath.Join(t.TempDir(), "body")
	cmd := exec.CommandContext(ctx, curl, append([]string{"-sS", "--max-time", "15", "-o", out, "-w", "%{http_code}", url}, args...)...)
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return "error: " + strings.TrimSpace(stderr), ""
	}
	data, _ := os.ReadFile(out)
	return string(b), string(data)
}

// TestStatusListenerTLSAndBasicAuth: with status.web_config_file the status
// listener serves HTTPS only and answers curl with the right password, 401
// with a wrong one or none; a plain HTTP request is not served the model.
func TestStatusListenerTLSAndBasicAuth(t *testing.T) {
	curl := requireTool(t, "curl")
	dir := t.TempDir()
	webConfig, cert := svctest.WebConfig(t, dir, "prometheus", "s3cret-Pa55")
	g := StartGateway(t, GatewayOptions{NoWait: true, Status: "web_config_file = \"" + webConfig + "\""})
	https := strings.Replace(g.StatusURL, "http://", "https://", 1)
	auth := []string{"--cacert", cert, "-u", "prometheus:s3cret-Pa55"}
	WaitFor(t, 60*time.Second, "/readyz over TLS with basic auth", func() bool {
		code, _ := curlStatus(t, curl, https+"/readyz", auth...)
		return code == "200"
	})

	code, body := curlStatus(t, curl, https+"/api/model", auth...)
	var m APIModel
	if code != "200" || json.Unmarshal([]byte(body), &m) != nil || len(m.IBXs) == 0 {
		t.Fatalf("/api/model with the right password: %s %.200q", code, body)
	}
	if code, body := curlStatus(t, curl, https+"/metrics", auth...); code != "200" || !strings.Contains(body, "svgateway_") {
		t.Errorf("/metrics with the right password: %s %.200q", code, body)
	}
	refused := []struct {
		name string
		url  string
		args []string
		want string
	}{
		{"a wrong password", https + "/api/model", []string{"--cacert", cert, "-u", "prometheus:wrong"}, "401"},
		{"an unknown user", https + "/api/model", []string{"--cacert", cert, "-u", "admin:s3cret-Pa55"}, "401"},
		{"no credentials", https + "/api/model", []string{"--cacert", cert}, "401"},
		{"no credentials, metrics", https + "/metrics", []string{"--cacert", cert}, "401"},
		// Go's TLS server answers a plain HTTP request with a 400 and no data.
		{"plain HTTP", g.StatusURL + "/api/model", []string{"-u", "prometheus:s3cret-Pa55"}, "400"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			code, body := curlStatus(t, curl, tt.url, tt.args...)
			if code != tt.want || strings.Contains(body, "\"ibxs\"") {
				t.Errorf("got %s %.200q, want %s and no model", code, body, tt.want)
			}
		})
	}
	if code, _ := curlStatus(t, curl, https+"/api/model", "-u", "prometheus:s3cret-Pa55"); code == "200" {
		t.Errorf("curl accepted the listener's certificate without --cacert: it should be self-signed")
	}
	if strings.Contains(g.Log.String(), "s3cret-Pa55") {
		t.Errorf("the password reached the log")
	}
}

// TestStatusListenerExposureRefused: check-config and start both refuse a
// status listener on an address other than loopback without TLS and
// authentication, naming the key and its line; allow_insecure = true lets
// the configuration through.
func TestStatusListenerExposureRefused(t *testing.T) {
	dir := t.TempDir()
	// 192.0.2.10 (TEST-NET-1): not bound by anyone, and never reachable.
	base := "state_dir = \"" + filepath.Join(dir, "state") + "\"\n\n[sandbox]\nenabled = true\n\n[status]\nlisten = \"192.0.2.10:9163\"\n"
	path := filepath.Join(dir, "gateway.toml")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	want := path + ":7: status.listen: 192.0.2.10:9163 is reachable from the network but serves no TLS and asks no authentication"
	for _, args := range [][]string{{"-config", path, "check-config"}, {"-config", path}} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, gatewayBin, args...).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("svgateway %s: %v\n%s\nwant a failure saying %q", strings.Join(args, " "), err, out, want)
		}
	}
	if err := os.WriteFile(path, []byte(base+"allow_insecure = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, gatewayBin, "-config", path, "check-config").CombinedOutput()
	if strings.Contains(string(out), "reachable from the network") || !strings.Contains(string(out), "status.listen: cannot listen on 192.0.2.10:9163") {
		t.Errorf("check-config with allow_insecure = true: want only the machine's refusal to bind 192.0.2.10:\n%s", out)
	}
}
