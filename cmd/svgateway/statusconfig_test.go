package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
)

// TestStatusListenerExposure: an address other than loopback needs TLS and
// authentication in status.web_config_file, or allow_insecure; the refusal
// names the key, its line and what is missing.
func TestStatusListenerExposure(t *testing.T) {
	dir := t.TempDir()
	both, _ := svctest.WebConfig(t, dir, "prometheus", "right")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tlsOnly := write("tls-only.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n")
	authOnly := write("auth-only.yml", "basic_auth_users:\n  prometheus: $2a$04$0ZtN4ChrwDyVOsqSvBbqBe3DJ8Wdq0V4dVxCNUX9vVDLt4hR.NnBm\n")
	mtls := write("mtls.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: cert.pem\n")
	notBcrypt := write("plain.yml", "basic_auth_users:\n  prometheus: right\n")
	tests := []struct {
		name, status string
		want         string // "" for no error; else a substring of the error
		warn         string // insecureExposure once loaded
	}{
		{name: "loopback, nothing configured", status: `listen = "127.0.0.1:9163"`},
		{name: "localhost", status: `listen = "localhost:9163"`},
		{name: "IPv6 loopback", status: `listen = "[::1]:9163"`},
		{name: "every address, nothing configured", status: `listen = ":9163"`,
			want: "gateway.toml:5: status.listen: :9163 is reachable from the network but serves no TLS and asks no authentication"},
		{name: "a LAN address, nothing configured", status: `listen = "192.0.2.10:9163"`,
			want: "status.listen: 192.0.2.10:9163 is reachable from the network but serves no TLS and asks no authentication"},
		{name: "TLS without authentication", status: "listen = \"0.0.0.0:9163\"\nweb_config_file = \"" + tlsOnly + "\"",
			want: "asks no authentication"},
		{name: "basic auth without TLS", status: "listen = \"0.0.0.0:9163\"\nweb_config_file = \"" + authOnly + "\"",
			want: "serves no TLS (basic auth passwords would cross the network in clear)"},
		{name: "TLS and basic auth", status: "listen = \"0.0.0.0:9163\"\nweb_config_file = \"" + both + "\""},
		{name: "TLS and client certificates", status: "listen = \"0.0.0.0:9163\"\nweb_config_file = \"" + mtls + "\""},
		{name: "allowed insecure: loads, and warns", status: "listen = \"0.0.0.0:9163\"\nallow_insecure = true",
			warn: "serves no TLS and asks no authentication"},
		{name: "a password that is not a bcrypt hash", status: "listen = \"127.0.0.1:9163\"\nweb_config_file = \"" + notBcrypt + "\"",
			want: "gateway.toml:6: status.web_config_file: " + notBcrypt + ": crypto/bcrypt"},
		{name: "a missing file", status: "web_config_file = \"" + filepath.Join(dir, "nope.yml") + "\"",
			want: "status.web_config_file: " + filepath.Join(dir, "nope.yml")},
		{name: "timeouts and limit checked", status: "read_timeout = \"1ms\"\nmax_connections = -1",
			want: "status.read_timeout: 1ms is below the minimum of 100ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "state_dir = \"x\"\n[sandbox]\nenabled = true\n[status]\n" + tt.status + "\n"
			cfg, err := loadConfig("gateway.toml", []byte(doc))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			case tt.want != "":
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Line == 0 {
					t.Errorf("error %v is not located", err)
				}
				return
			}
			if got := cfg.Status.insecureExposure(); got != tt.warn {
				t.Errorf("insecureExposure = %q, want %q", got, tt.warn)
			}
			// check-config's description says it too.
			var out strings.Builder
			describe(&out, cfg)
			if warned := strings.Contains(out.String(), "WARNING: reachable from the network and "+tt.warn); warned != (tt.warn != "") {
				t.Errorf("check-config describes the status listener as:\n%s", out.String())
			}
		})
	}
}

// startStatus runs a status listener on a free loopback port with cfg's
// timeouts and limit and returns its address.
func startStatus(t *testing.T, cfg StatusConfig) string {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newStatusServer(cfg, store, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svctest.Start(t, s.Run))
	return s.ln.Addr().String()
}

// TestStatusSlowlorisClosed: a client that sends its request headers a byte
// at a time, never finishing, is disconnected by read_timeout instead of
// holding its connection for as long as it likes.
func TestStatusSlowlorisClosed(t *testing.T) {
	addr := startStatus(t, StatusConfig{ReadTimeout: 500 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() {
		// The bound of this test: half of the 10 s header timeout the
		// server would otherwise fall back to, ten times read_timeout.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadAll(c)
		closed <- err
	}()
	// Trickle a header line, a byte every 100 ms.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case err := <-closed:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the slow client was still connected after 5 s")
			}
			return // EOF or reset: the server closed it
		case <-tick.C:
			c.Write([]byte{"X-Slow: abcdefghijklmnopqrstuvwxyz"[i%32]}) // an error here means closed, seen by the reader
		}
	}
}

// TestStatusConnectionLimit: with max_connections open connections, the next
// one is not served until one of them closes.
func TestStatusConnectionLimit(t *testing.T) {
	addr := startStatus(t, StatusConfig{MaxConnections: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A request answered proves the connection was accepted (and counts).
		if got := get(t, c, 10*time.Second); got != "HTTP/1.1 200 OK" {
			t.Fatalf("held connection: %q", got)
		}
		held = append(held, c)
	}
	third, err := net.Dial("tcp", addr) // completes in the kernel's backlog
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if got := get(t, third, time.Second); got != "" {
		t.Fatalf("a third connection past max_connections = 2 was served: %q", got)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(third).ReadString('\n'); strings.TrimSpace(line) != "HTTP/1.1 200 OK" {
		t.Fatalf("once a connection closed, the waiting one got %q, %v", line, err)
	}
}

// get sends GET /healthz on c and returns the status line read within wait,
// "" if none came.
func get(t *testing.T, c net.Conn, wait time.Duration) string {
	t.Helper()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	defer c.SetReadDeadline(time.Time{})
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return ""
	}
	// Drain the rest of the answer ("ok\n", 3 bytes, after the headers).
	for {
		h, err := r.ReadString('\n')
		if err != nil || h == "\r\n" {
			break
		}
	}
	io.ReadFull(r, make([]byte, 3))
	return strings.TrimSpace(line)
}

// TestStatusPprofOptIn: /debug/pprof/ is served only with [status] pprof =
// true; its heap profile is a real pprof profile (gzip) then.
func TestStatusPprofOptIn(t *testing.T) {
	for _, tt := range []struct {
		name  string
		pprof bool
		code  int
	}{
		{"off by default", false, http.StatusNotFound},
		{"on", true, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := startStatus(t, StatusConfig{Pprof: tt.pprof})
			resp, err := http.Get("http://" + addr + "/debug/pprof/heap")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("GET /debug/pprof/heap = %d, want %d", resp.StatusCode, tt.code)
			}
			if tt.pprof && (len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b) {
				t.Errorf("heap profile is not gzip: %q", body[:min(len(body), 20)])
			}
		})
	}
}
