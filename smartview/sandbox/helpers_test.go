package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is a sandbox behind httptest with a hand-moved clock.
type harness struct {
	t     *testing.T
	s     *Server
	clock *testClock
	url   string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := newTestClock()
	s, err := newServer(cfg, nil, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, s: s, clock: clock, url: newTestHTTPServer(t, s)}
}

// newTestHTTPServer serves s on loopback until the test ends; it returns the base URL.
func newTestHTTPServer(t *testing.T, s *Server) string {
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; body is sent as JSON unless contentType says otherwise.
func (h *harness) do(method, path, token, contentType, body string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (h *harness) get(path, token string) response { return h.do("GET", path, token, "", "") }

// doWith sends a request with the given headers and no body.
func (h *harness) doWith(method, path string, headers map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return h.send(req)
}

func (h *harness) post(path, token, body string) response {
	return h.do("POST", path, token, "application/json", body)
}

// token logs in with the password grant and the default credentials.
func (h *harness) token() string {
	h.t.Helper()
	r := h.post("/oauth2/v1/token", "", `{"grant_type":"password","user_name":"sandbox@example.com","user_password":"sandbox-password","client_id":"sandbox","client_secret":"sandbox-secret"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.decode(h.t, &tok)
	if r.status != 200 || tok.AccessToken == "" {
		h.t.Fatalf("token: %d %s", r.status, r.body)
	}
	return tok.AccessToken
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// object decodes a JSON object.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// envelope is the reference's {"payLoad": …, "status": {…}}.
type envelope struct {
	PayLoad json.RawMessage `json:"payLoad"`
	Status  struct {
		Type       string `json:"type"`
		StatusCode string `json:"statuscode"`
		Msg        string `json:"msg"`
	} `json:"status"`
}

// payload checks a 200 OK envelope and decodes its payload into v.
func (r response) payload(t *testing.T, v any) {
	t.Helper()
	var env envelope
	r.decode(t, &env)
	if r.status != 200 || env.Status.StatusCode != "1000" || env.Status.Type != "INFO" || env.Status.Msg != "OK" {
		t.Fatalf("want 200 with statuscode 1000, got %d %s", r.status, r.body)
	}
	if err := json.Unmarshal(env.PayLoad, v); err != nil {
		t.Fatalf("decoding payload %s: %v", env.PayLoad, err)
	}
}

// path follows keys and indexes through decoded JSON: path(m, "payLoad", "tags", 0, "value").
func path(v any, steps ...any) any {
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
