package smartview

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials of the test configuration. The leak test asserts none of them, nor any token the
// test API issues, appears in an error or a log line.
const (
	testClientID     = "ABCDE12345"
	testClientSecret = "FGHIJ67890-client-secret"
	testUserName     = "john.doe@example.com"
	testPassword     = "jd1@#$-user-password"
)

// docExample reads a testdata file, replacing the non-breaking spaces of the reference's HTML
// rendering with spaces (see testdata/README.md).
func docExample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(data), "\u00a0", " "))
}

// testAPI is a loopback SmartView stand-in: token endpoints that issue numbered tokens, and data
// handlers registered per test behind a bearer-token check.
type testAPI struct {
	t   *testing.T
	srv *httptest.Server
	mux *http.ServeMux

	mu           sync.Mutex
	tokenTimeout string           // token_timeout of issued tokens; default "3600"
	grantStatus  int              // non-zero: the token endpoint answers this status
	refreshFails bool             // the refresh endpoint answers 401
	issued       []string         // access tokens issued, oldest first
	revoked      map[string]bool  // access tokens the data handlers refuse
	grants       []map[string]any // bodies of /oauth2/v1/token requests
	refreshes    []map[string]any // bodies of /oauth2/v1/refreshaccesstoken requests
	requests     []*http.Request  // data requests, in arrival order (bodies read into bodies)
	bodies       []string
}

func newTestAPI(t *testing.T) *testAPI {
	a := &testAPI{t: t, mux: http.NewServeMux(), tokenTimeout: "3600", revoked: map[string]bool{}}
	a.mux.HandleFunc("POST /oauth2/v1/token", a.token)
	a.mux.HandleFunc("POST /oauth2/v1/refreshaccesstoken", a.refresh)
	a.srv = httptest.NewServer(a.mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *testAPI) readJSON(r *http.Request) map[string]any {
	var body map[string]any
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		a.t.Errorf("%s: Content-Type %q, want application/json", r.URL.Path, ct)
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		a.t.Errorf("%s: body is not JSON: %v", r.URL.Path, err)
	}
	return body
}

func (a *testAPI) issue(w http.ResponseWriter, withRefresh bool) {
	a.issued = append(a.issued, fmt.Sprintf("access-token-%d-secret", len(a.issued)+1))
	resp := map[string]string{
		"access_token":  a.issued[len(a.issued)-1],
		"token_timeout": a.tokenTimeout,
		"user_name":     testUserName,
		"token_type":    "Bearer",
	}
	if withRefresh {
		resp["refresh_token"] = fmt.Sprintf("refresh-token-%d-secret", len(a.issued))
		resp["refresh_token_timeout"] = "5184000"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (a *testAPI) token(w http.ResponseWriter, r *http.Request) {
	body := a.readJSON(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.grants = append(a.grants, body)
	if a.grantStatus != 0 {
		// A careless server echoing the credentials back: they must not reach errors or logs.
		http.Error(w, fmt.Sprintf(`{"error":"invalid_client","error_description":"bad secret %v / %v"}`,
			body["client_secret"], body["user_password"]), a.grantStatus)
		return
	}
	a.issue(w, body["grant_type"] == GrantPassword)
}

func (a *testAPI) refresh(w http.ResponseWriter, r *http.Request) {
	body := a.readJSON(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshes = append(a.refreshes, body)
	if a.refreshFails {
		http.Error(w, fmt.Sprintf(`{"error":"invalid_grant","error_description":"refresh token %v expired"}`,
			body["refresh_token"]), http.StatusUnauthorized)
		return
	}
	a.issue(w, true)
}

// handle registers a data handler behind the bearer-token check, recording each request.
func (a *testAPI) handle(pattern string, h http.HandlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		a.mu.Lock()
		a.requests = append(a.requests, r)
		a.bodies = append(a.bodies, string(body))
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		known := false
		for _, issued := range a.issued {
			known = known || issued == tok
		}
		refused := !ok || !known || a.revoked[tok]
		a.mu.Unlock()
		if r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "application/json" {
			a.t.Errorf("%s %s: Accept %q Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Accept"), r.Header.Get("Content-Type"))
		}
		if refused {
			http.Error(w, `{"error":"unauthorized","message":"Invalid Access Token"}`, http.StatusUnauthorized)
			return
		}
		h(w, r)
	})
}

// serve registers a handler answering a testdata example.
func (a *testAPI) serve(pattern, file string) {
	body := docExample(a.t, file)
	a.handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func (a *testAPI) requestCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.requests)
}

func (a *testAPI) config() Config {
	return Config{
		BaseURL:        a.srv.URL,
		ClientID:       testClientID,
		ClientSecret:   testClientSecret,
		AccountNo:      "1",
		RetryBaseDelay: time.Millisecond,
		RateLimit:      -1,
	}
}

// testClient is a Client on the test API whose waits between attempts are recorded, not slept.
type testClient struct {
	*Client
	mu     sync.Mutex
	delays []time.Duration
}

func (a *testAPI) client(cfg Config, opts Options) *testClient {
	a.t.Helper()
	c, err := New(cfg, opts)
	if err != nil {
		a.t.Fatal(err)
	}
	tc := &testClient{Client: c}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		tc.mu.Lock()
		tc.delays = append(tc.delays, d)
		tc.mu.Unlock()
		return ctx.Err()
	}
	return tc
}

func (a *testAPI) defaultClient() *testClient { return a.client(a.config(), Options{}) }
