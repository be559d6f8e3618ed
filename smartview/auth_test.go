package smartview

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMD5Base64(t *testing.T) {
	// echo -n password | openssl md5 -binary | base64
	if got := md5Base64("password"); got != "X03MO1qnZdYdgyfeuILPmQ==" {
		t.Errorf("md5Base64(password) = %s", got)
	}
}

func TestGrantRequestBodies(t *testing.T) {
	tests := []struct {
		name   string
		config func(*Config)
		want   map[string]any
	}{
		{
			name:   "client_credentials",
			config: func(c *Config) { c.UserName = "ignored"; c.UserPassword = "ignored-too" },
			want:   map[string]any{"grant_type": "client_credentials", "client_id": testClientID, "client_secret": testClientSecret},
		},
		{
			name: "password",
			config: func(c *Config) {
				c.GrantType, c.UserName, c.UserPassword = GrantPassword, testUserName, testPassword
			},
			want: map[string]any{"grant_type": "password", "client_id": testClientID, "client_secret": testClientSecret,
				"user_name": testUserName, "user_password": testPassword},
		},
		{
			name: "password md5-b64",
			config: func(c *Config) {
				c.GrantType, c.UserName, c.UserPassword, c.PasswordEncoding = GrantPassword, testUserName, "password", PasswordEncodingMD5B64
			},
			want: map[string]any{"grant_type": "password", "client_id": testClientID, "client_secret": testClientSecret,
				"user_name": testUserName, "user_password": "X03MO1qnZdYdgyfeuILPmQ==", "password_encoding": "md5-b64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.serve("GET /environment/v1/current", "environment_current.json")
			cfg := api.config()
			tt.config(&cfg)
			c := api.client(cfg, Options{})
			if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
				t.Fatal(err)
			}
			if len(api.grants) != 1 || !reflect.DeepEqual(api.grants[0], tt.want) {
				t.Errorf("grant bodies %v, want [%v]", api.grants, tt.want)
			}
			if got := api.requests[0].Header.Get("Authorization"); got != "Bearer "+api.issued[0] {
				t.Errorf("Authorization %q", got)
			}
		})
	}
}

// The token answers of the reference, through NewTokenSource.
func TestTokenSourceDocumentedAnswers(t *testing.T) {
	tests := []struct {
		file        string
		wantAccess  string
		wantRefresh string
	}{
		{"token_password.json", "qwErtY8zyW1abcdefGHI", "zxcvbn1JKLMNOPQRSTU"},
		// Ends with a trailing comma: tolerated in token answers (see withoutTrailingCommas).
		{"token_client_credentials.json", "qwErtY8zyW1abcdefGHI", ""},
		{"token_refresh.json", "1abcdefGHIqwErtY8zyW", "1JKLMNOPQRSTUzxcvbn"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			api := newTestAPI(t)
			body := docExample(t, tt.file)
			api.mux.HandleFunc("POST /custom/token", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
			cfg := api.config()
			cfg.TokenURL = api.srv.URL + "/custom/token"
			src := NewTokenSource(cfg, nil)
			before := time.Now()
			tok, err := src.Token()
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != tt.wantAccess || tok.Type() != "Bearer" {
				t.Errorf("token %q type %q", tok.AccessToken, tok.Type())
			}
			if d := tok.Expiry.Sub(before); d < 3590*time.Second || d > 3610*time.Second {
				t.Errorf("expiry in %s, want about 3600s", d)
			}
			if got := src.(*tokenSource).refreshToken; got != tt.wantRefresh {
				t.Errorf("refresh token %q, want %q", got, tt.wantRefresh)
			}
		})
	}
}

func TestTokenAnswerMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":        `<html>oops</html>`,
		"no access_token": `{"token_timeout":"3600","token_type":"Bearer"}`,
	} {
		t.Run(name, func(t *testing.T) {
			api := newTestAPI(t)
			api.mux.HandleFunc("POST /bad/token", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
			cfg := api.config()
			cfg.TokenURL = api.srv.URL + "/bad/token"
			c := api.client(cfg, Options{})
			_, err := c.Power(context.Background(), "CH1", LevelIBX, "CH1")
			if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), "smartview: token (POST /bad/token)") {
				t.Errorf("err = %v", err)
			}
			if api.requestCount() != 0 {
				t.Error("data request made without a token")
			}
		})
	}
}

func TestTokenRejectedIsNotRetried(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /power/v1/current", "power_get.json")
	api.grantStatus = http.StatusUnauthorized
	c := api.defaultClient()
	_, err := c.Power(context.Background(), "CH1", LevelIBX, "CH1")
	if !errors.Is(err, ErrAuth) || !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("err = %v", err)
	}
	if len(api.grants) != 1 || api.requestCount() != 0 {
		t.Errorf("%d grants, %d data requests", len(api.grants), api.requestCount())
	}
}

func TestTokenEndpointUnavailableIsRetried(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /power/v1/current", "power_get.json")
	api.grantStatus = http.StatusServiceUnavailable
	c := api.defaultClient()
	c.sleep = func(ctx context.Context, d time.Duration) error {
		api.mu.Lock()
		api.grantStatus = 0 // back after the first wait
		api.mu.Unlock()
		return nil
	}
	if _, err := c.Power(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
		t.Fatal(err)
	}
	if len(api.grants) != 2 || api.requestCount() != 1 {
		t.Errorf("%d grants, %d data requests", len(api.grants), api.requestCount())
	}
}

// refusedOnce answers 401 to the first request and the example afterwards, recording the
// Authorization header of each request.
func refusedOnce(t *testing.T, api *testAPI, file string, always bool) *[]string {
	var auths []string
	n := 0
	body := docExample(t, file)
	api.handle("GET /environment/v1/current", func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
		n++
		if n == 1 || always {
			http.Error(w, `{"message":"token expired"}`, http.StatusUnauthorized)
			return
		}
		w.Write(body)
	})
	return &auths
}

func TestReauthenticatesOnceOn401(t *testing.T) {
	api := newTestAPI(t)
	auths := refusedOnce(t, api, "environment_current.json", false)
	c := api.defaultClient()
	if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bearer " + api.issued[0], "Bearer " + api.issued[1]}
	if len(api.grants) != 2 || !reflect.DeepEqual(*auths, want) {
		t.Errorf("%d grants; authorizations %v, want %v", len(api.grants), *auths, want)
	}
	if len(c.delays) != 0 {
		t.Errorf("waited %v before re-authenticating", c.delays)
	}
}

func TestSecond401IsReturned(t *testing.T) {
	api := newTestAPI(t)
	auths := refusedOnce(t, api, "environment_current.json", true)
	c := api.defaultClient()
	_, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1")
	var apiErr *APIError
	if !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrAuth) || !errors.As(err, &apiErr) || apiErr.Endpoint != "environment" || apiErr.Msg != "token expired" {
		t.Errorf("err = %v", err)
	}
	if len(*auths) != 2 || len(api.grants) != 2 {
		t.Errorf("%d requests, %d grants: want 2 and 2", len(*auths), len(api.grants))
	}
}

func TestRefreshTokenThenFallbackToGrant(t *testing.T) {
	for _, refreshFails := range []bool{false, true} {
		name := map[bool]string{false: "refresh succeeds", true: "refresh fails: new grant"}[refreshFails]
		t.Run(name, func(t *testing.T) {
			api := newTestAPI(t)
			api.refreshFails = refreshFails
			refusedOnce(t, api, "environment_current.json", false)
			cfg := api.config()
			cfg.GrantType, cfg.UserName, cfg.UserPassword = GrantPassword, testUserName, testPassword
			c := api.client(cfg, Options{})
			if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
				t.Fatal(err)
			}
			wantRefresh := map[string]any{"client_id": testClientID, "client_secret": testClientSecret, "refresh_token": "refresh-token-1-secret"}
			if len(api.refreshes) != 1 || !reflect.DeepEqual(api.refreshes[0], wantRefresh) {
				t.Errorf("refresh requests %v, want [%v]", api.refreshes, wantRefresh)
			}
			wantGrants := map[bool]int{false: 1, true: 2}[refreshFails]
			if len(api.grants) != wantGrants {
				t.Errorf("%d grants, want %d", len(api.grants), wantGrants)
			}
			if got := api.requests[1].Header.Get("Authorization"); got != "Bearer "+api.issued[1] {
				t.Errorf("second request sent %q", got)
			}
		})
	}
}

// client_credentials answers carry no refresh token: renewal is a new grant.
func TestNoRefreshTokenWithClientCredentials(t *testing.T) {
	api := newTestAPI(t)
	refusedOnce(t, api, "environment_current.json", false)
	if _, err := api.defaultClient().Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
		t.Fatal(err)
	}
	if len(api.refreshes) != 0 || len(api.grants) != 2 {
		t.Errorf("%d refreshes, %d grants", len(api.refreshes), len(api.grants))
	}
}

// Tokens are reused while valid and renewed renewEarly (60 s) before they expire. The clock is
// set back so that a 3600 s token is already inside its last 60 s.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	tests := []struct {
		name       string
		clockSkew  time.Duration
		wantGrants int
	}{
		{"fresh token reused", 0, 1},
		{"token 30 s from expiry renewed", -(3600 - 30) * time.Second, 3},
		{"token 90 s from expiry reused", -(3600 - 90) * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.serve("GET /environment/v1/current", "environment_current.json")
			c := api.client(api.config(), Options{Now: func() time.Time { return time.Now().Add(tt.clockSkew) }})
			for range 3 {
				if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
					t.Fatal(err)
				}
			}
			if len(api.grants) != tt.wantGrants {
				t.Errorf("%d grants, want %d", len(api.grants), tt.wantGrants)
			}
		})
	}
}

func TestReuseExpiryOfShortLivedTokens(t *testing.T) {
	for lifetime, want := range map[time.Duration]time.Duration{
		3600 * time.Second: 3600 * time.Second,
		120 * time.Second:  120 * time.Second,
		60 * time.Second:   90 * time.Second, // renewed after 30 s, not on every call
		10 * time.Second:   65 * time.Second,
	} {
		if got := reuseExpiry(lifetime); got != want {
			t.Errorf("reuseExpiry(%s) = %s, want %s", lifetime, got, want)
		}
	}
}

// Concurrent calls share one token, and concurrent 401s renew it once.
func TestConcurrentCallsShareToken(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /environment/v1/current", "environment_current.json")
	c := api.defaultClient()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(api.grants) != 1 {
		t.Errorf("%d grants for 8 concurrent calls", len(api.grants))
	}
	api.mu.Lock()
	api.revoked[api.issued[0]] = true
	api.mu.Unlock()
	for range 8 {
		wg.Go(func() {
			if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(api.grants) != 2 {
		t.Errorf("%d grants after one revocation, want 2", len(api.grants))
	}
}

func TestWithoutTrailingCommas(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": "b",}`:            `{"a": "b"}`,
		"{\"a\": [1, 2,\n ],\n}": "{\"a\": [1, 2\n ]\n}",
		`{"a": ",}"}`:            `{"a": ",}"}`,
		`{"a": "x\",}",}`:        `{"a": "x\",}"}`,
	} {
		if got := string(withoutTrailingCommas([]byte(in))); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}
