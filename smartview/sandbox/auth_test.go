package sandbox

import (
	"crypto/md5"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTokenGrants(t *testing.T) {
	h := newHarness(t, Config{})
	sum := md5.Sum([]byte("sandbox-password"))
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		status      int
		refresh     bool
		user        string
	}{
		{"password grant", "application/json", `{"grant_type":"password","user_name":"sandbox@example.com","user_password":"sandbox-password","client_id":"sandbox","client_secret":"sandbox-secret"}`, 200, true, "sandbox@example.com"},
		{"password grant, md5-b64", "application/json", `{"grant_type":"password","user_name":"sandbox@example.com","user_password":"` + md5b64 + `","client_id":"sandbox","client_secret":"sandbox-secret","password_encoding":"md5-b64"}`, 200, true, "sandbox@example.com"},
		{"client credentials, no refresh token", "application/json; charset=utf-8", `{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox-secret"}`, 200, false, "sandbox@example.com"},
		{"the reference's password example", "application/json", `{"grant_type":"password","user_name":"john.doe@example.com","user_password":"jd1@#$","client_id":"ABCDE12345","client_secret":"FGHIJ67890"}`, 200, true, "john.doe@example.com"},
		{"the reference's client credentials example", "application/json", `{"grant_type":"client_credentials","client_id":"ABCDE12345","client_secret":"FGHIJ67890"}`, 200, false, "john.doe@example.com"},
		{"md5-b64 expected, plain given", "application/json", `{"grant_type":"password","user_name":"sandbox@example.com","user_password":"sandbox-password","client_id":"sandbox","client_secret":"sandbox-secret","password_encoding":"md5-b64"}`, 401, false, ""},
		{"unknown client", "application/json", `{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"wrong"}`, 401, false, ""},
		{"wrong password", "application/json", `{"grant_type":"password","user_name":"sandbox@example.com","user_password":"x","client_id":"sandbox","client_secret":"sandbox-secret"}`, 401, false, ""},
		{"form encoding is refused", "application/x-www-form-urlencoded", `grant_type=client_credentials&client_id=sandbox&client_secret=sandbox-secret`, 415, false, ""},
		{"no content type", "", `{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox-secret"}`, 415, false, ""},
		{"unknown grant", "application/json", `{"grant_type":"implicit","client_id":"sandbox","client_secret":"sandbox-secret"}`, 400, false, ""},
		{"not JSON", "application/json", `{"grant_type":`, 400, false, ""},
		{"password grant without user", "application/json", `{"grant_type":"password","client_id":"sandbox","client_secret":"sandbox-secret"}`, 400, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/oauth2/v1/token", "", tc.contentType, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			m := r.object(t)
			if tc.status != 200 {
				if m["code"] != strconv.Itoa(tc.status) || m["message"] == "" || m["path"] != "/oauth2/v1/token" {
					t.Errorf("error body %s", r.body)
				}
				return
			}
			if tok, _ := m["access_token"].(string); len(tok) < 20 {
				t.Errorf("access_token %v", m["access_token"])
			}
			if m["token_timeout"] != "3600" || m["token_type"] != "Bearer" || m["user_name"] != tc.user {
				t.Errorf("token response %s", r.body)
			}
			_, hasRefresh := m["refresh_token"]
			if hasRefresh != tc.refresh || (tc.refresh && m["refresh_token_timeout"] != "5184000") {
				t.Errorf("refresh token present %v, want %v: %s", hasRefresh, tc.refresh, r.body)
			}
		})
	}
	if st := h.s.Stats(); st.TokensIssued != 5 {
		t.Errorf("TokensIssued %d, want 5", st.TokensIssued)
	}
}

func TestRejectDocCredentials(t *testing.T) {
	h := newHarness(t, Config{RejectDocCredentials: true, ClientID: "c", ClientSecret: "s"})
	if r := h.post("/oauth2/v1/token", "", `{"grant_type":"client_credentials","client_id":"ABCDE12345","client_secret":"FGHIJ67890"}`); r.status != 401 {
		t.Errorf("doc credentials: %d, want 401", r.status)
	}
	if r := h.post("/oauth2/v1/token", "", `{"grant_type":"client_credentials","client_id":"c","client_secret":"s"}`); r.status != 200 {
		t.Errorf("configured credentials: %d, want 200", r.status)
	}
}

func TestRefreshRotatesTokens(t *testing.T) {
	h := newHarness(t, Config{})
	var first struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	h.post("/oauth2/v1/token", "", `{"grant_type":"password","user_name":"sandbox@example.com","user_password":"sandbox-password","client_id":"sandbox","client_secret":"sandbox-secret"}`).decode(t, &first)
	refresh := func(token string) response {
		return h.post("/oauth2/v1/refreshaccesstoken", "", `{"client_id":"sandbox","client_secret":"sandbox-secret","refresh_token":"`+token+`"}`)
	}
	r := refresh(first.Refresh)
	var second struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
		Timeout string `json:"refresh_token_timeout"`
	}
	r.decode(t, &second)
	if r.status != 200 || second.Access == "" || second.Refresh == "" || second.Refresh == first.Refresh || second.Timeout != "5184000" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := refresh(first.Refresh); r.status != 401 {
		t.Errorf("reused refresh token: %d, want 401", r.status)
	}
	if r := refresh(second.Access); r.status != 401 {
		t.Errorf("access token as refresh token: %d, want 401", r.status)
	}
	if r := h.post("/oauth2/v1/refreshaccesstoken", "", `{"client_id":"ABCDE12345","client_secret":"FGHIJ67890","refresh_token":"`+second.Refresh+`"}`); r.status != 401 {
		t.Errorf("another client's refresh token: %d, want 401", r.status)
	}
	if r := h.do("POST", "/oauth2/v1/refreshaccesstoken", "", "application/x-www-form-urlencoded", "refresh_token="+second.Refresh); r.status != 415 {
		t.Errorf("form-encoded refresh: %d, want 415", r.status)
	}
	for _, tok := range []string{first.Access, second.Access} {
		if r := h.get("/hierarchy/v1/power?accountNo=1&ibx=SV4", tok); r.status != 200 {
			t.Errorf("access token %d", r.status)
		}
	}
	if st := h.s.Stats(); st.TokensRefreshed != 1 {
		t.Errorf("TokensRefreshed %d, want 1", st.TokensRefreshed)
	}
}

func TestBearerRequired(t *testing.T) {
	h := newHarness(t, Config{TokenTTL: time.Minute})
	tok := h.token()
	const p = "/asset/v1/list?accountNo=1&ibx=CH1&classification=Electrical"
	for _, tc := range []struct {
		name, header string
		status       int
	}{
		{"no header", "", 401},
		{"unknown token", "Bearer asxQMSbBwcNzI2fCCNwSwTh3phV2", 401},
		{"not bearer", "Basic " + tok, 401},
		{"lowercase scheme", "bearer " + tok, 200},
		{"valid", "Bearer " + tok, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.doHeader(p, tc.header)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 401 {
				m := r.object(t)
				if m["code"] != "401" || !strings.HasPrefix(m["message"].(string), "Unauthorized") || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 answer %v %s", r.header, r.body)
				}
			}
		})
	}
	h.clock.advance(time.Minute)
	if r := h.get(p, tok); r.status != 401 {
		t.Errorf("expired token: %d, want 401", r.status)
	}
}

func (h *harness) doHeader(p, authorization string) response {
	h.t.Helper()
	return h.doWith("GET", p, map[string]string{"Authorization": authorization})
}

func TestRevokeAndShortTTLFault(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	r := h.post("/_sandbox/tokens/revoke", "", "")
	if r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := h.get("/hierarchy/v1/location?accountNo=1&ibx=CH1", tok); r.status != 401 {
		t.Errorf("revoked token: %d, want 401", r.status)
	}
	if err := h.s.SetFaults(Faults{TokenTTL: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	r = h.post("/oauth2/v1/token", "", `{"grant_type":"client_credentials","client_id":"sandbox","client_secret":"sandbox-secret"}`)
	var tr struct {
		Access  string `json:"access_token"`
		Timeout string `json:"token_timeout"`
	}
	r.decode(t, &tr)
	if tr.Timeout != "5" {
		t.Errorf("token_timeout %q, want \"5\"", tr.Timeout)
	}
	h.clock.advance(4 * time.Second)
	if r := h.get("/hierarchy/v1/location?accountNo=1&ibx=CH1", tr.Access); r.status != 200 {
		t.Errorf("before expiry: %d", r.status)
	}
	h.clock.advance(time.Second)
	if r := h.get("/hierarchy/v1/location?accountNo=1&ibx=CH1", tr.Access); r.status != 401 {
		t.Errorf("after expiry: %d, want 401", r.status)
	}
}
