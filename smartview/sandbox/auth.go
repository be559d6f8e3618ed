package sandbox

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// OAuth as the reference describes it: POST /oauth2/v1/token with a JSON body and grant_type
// "password" (answered with a refresh token) or "client_credentials" (without one); POST
// /oauth2/v1/refreshaccesstoken with client_id, client_secret and refresh_token (the refresh
// token rotates). Timeouts are strings of seconds. Tokens come from crypto/rand.

const (
	maxTokens       = 10000 // access and refresh tokens kept; the oldest go first
	refreshTokenTTL = 60 * 24 * time.Hour
)

type credential struct{ clientID, clientSecret, user, password string }

type tokenEntry struct {
	refresh  bool
	clientID string
	user     string
	expires  time.Time
}

type tokenStore struct {
	creds []credential

	mu        sync.Mutex
	tokens    map[string]tokenEntry
	order     []string // issue order, for eviction; may hold tokens already gone
	issued    int64
	refreshed int64
}

func newTokenStore(cfg Config) tokenStore {
	creds := []credential{{cfg.ClientID, cfg.ClientSecret, cfg.UserName, cfg.UserPassword}}
	if !cfg.RejectDocCredentials {
		creds = append(creds, credential{docClientID, docClientSecret, docUserName, docUserPassword})
	}
	return tokenStore{creds: creds, tokens: make(map[string]tokenEntry)}
}

func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// client returns the credential of a client id and secret.
func (ts *tokenStore) client(id, secret string) (credential, bool) {
	for _, c := range ts.creds {
		if equalSecret(c.clientID, id) && equalSecret(c.clientSecret, secret) {
			return c, true
		}
	}
	return credential{}, false
}

// user checks a user's password, given plain or as base64(md5(password)) ("md5-b64").
func (ts *tokenStore) user(name, password string, md5b64 bool) bool {
	for _, c := range ts.creds {
		want := c.password
		if md5b64 {
			sum := md5.Sum([]byte(c.password))
			want = base64.StdEncoding.EncodeToString(sum[:])
		}
		if c.user == name && equalSecret(want, password) {
			return true
		}
	}
	return false
}

// issue stores a new token and returns it.
func (ts *tokenStore) issue(e tokenEntry, now time.Time) string {
	tok := rand.Text()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.tokens) >= maxTokens {
		for k, v := range ts.tokens {
			if now.After(v.expires) {
				delete(ts.tokens, k)
			}
		}
		for len(ts.tokens) >= maxTokens && len(ts.order) > 0 {
			delete(ts.tokens, ts.order[0])
			ts.order = ts.order[1:]
		}
	}
	if len(ts.order) > 2*maxTokens { // drop entries of tokens already gone
		live := ts.order[:0]
		for _, k := range ts.order {
			if _, ok := ts.tokens[k]; ok {
				live = append(live, k)
			}
		}
		ts.order = live
	}
	ts.tokens[tok] = e
	ts.order = append(ts.order, tok)
	if !e.refresh {
		ts.issued++
	}
	return tok
}

// validBearer checks an Authorization header ("Bearer <access token>", scheme in any case).
func (ts *tokenStore) validBearer(header string, now time.Time) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	e, ok := ts.tokens[strings.TrimSpace(tok)]
	return ok && !e.refresh && now.Before(e.expires)
}

// takeRefresh consumes a refresh token of the client.
func (ts *tokenStore) takeRefresh(tok, clientID string, now time.Time) (tokenEntry, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	e, ok := ts.tokens[tok]
	if !ok || !e.refresh || e.clientID != clientID || !now.Before(e.expires) {
		return tokenEntry{}, false
	}
	delete(ts.tokens, tok)
	ts.refreshed++
	return e, true
}

// revokeAll forgets every access and refresh token.
func (ts *tokenStore) revokeAll() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	clear(ts.tokens)
	ts.order = ts.order[:0]
}

func (ts *tokenStore) counts() (issued, refreshed int64, active int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued, ts.refreshed, len(ts.tokens)
}

type tokenRequest struct {
	GrantType        string `json:"grant_type"`
	UserName         string `json:"user_name"`
	UserPassword     string `json:"user_password"`
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	PasswordEncoding string `json:"password_encoding"`
	RefreshToken     string `json:"refresh_token"`
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the body is not the expected JSON: %w", err)
	}
	return nil
}

func (s *Server) badRequest(w *jsonWriter, r *http.Request, err error) int {
	return s.httpErrorMessage(w, http.StatusBadRequest, "Bad Request - "+err.Error(), r.URL.Path)
}

func (s *Server) handleToken(r *http.Request, w *jsonWriter) int {
	var req tokenRequest
	if err := decodeBody(r, &req); err != nil {
		return s.badRequest(w, r, err)
	}
	password := req.GrantType == "password"
	switch {
	case !password && req.GrantType != "client_credentials":
		return s.badRequest(w, r, errors.New(`grant_type must be "password" or "client_credentials"`))
	case !present(req.ClientID, req.ClientSecret):
		return s.badRequest(w, r, errors.New("client_id and client_secret are mandatory"))
	case password && !present(req.UserName, req.UserPassword):
		return s.badRequest(w, r, errors.New("user_name and user_password are mandatory for the password grant"))
	case password && req.PasswordEncoding != "" && req.PasswordEncoding != "md5-b64":
		return s.badRequest(w, r, errors.New(`password_encoding must be "md5-b64"`))
	}
	cred, ok := s.auth.client(req.ClientID, req.ClientSecret)
	user := cred.user
	if password {
		ok = ok && s.auth.user(req.UserName, req.UserPassword, req.PasswordEncoding == "md5-b64")
		user = req.UserName
	}
	if !ok {
		s.log.Info("token request refused: unknown credentials", "grant_type", req.GrantType)
		return s.httpErrorMessage(w, http.StatusUnauthorized, "Unauthorized - Invalid client or user credentials", r.URL.Path)
	}
	return s.writeTokens(w, req.ClientID, user, password)
}

func (s *Server) handleRefresh(r *http.Request, w *jsonWriter) int {
	var req tokenRequest
	if err := decodeBody(r, &req); err != nil {
		return s.badRequest(w, r, err)
	}
	if !present(req.ClientID, req.ClientSecret, req.RefreshToken) {
		return s.badRequest(w, r, errors.New("client_id, client_secret and refresh_token are mandatory"))
	}
	if _, ok := s.auth.client(req.ClientID, req.ClientSecret); !ok {
		return s.httpErrorMessage(w, http.StatusUnauthorized, "Unauthorized - Invalid client credentials", r.URL.Path)
	}
	e, ok := s.auth.takeRefresh(req.RefreshToken, req.ClientID, s.now())
	if !ok {
		return s.httpErrorMessage(w, http.StatusUnauthorized, "Unauthorized - Invalid or expired refresh token", r.URL.Path)
	}
	return s.writeTokens(w, req.ClientID, e.user, true)
}

// writeTokens issues an access token (and a refresh token) and writes the reference's response.
func (s *Server) writeTokens(w *jsonWriter, clientID, user string, withRefresh bool) int {
	now := s.now()
	ttl := s.faults.get().TokenTTL
	if ttl <= 0 {
		ttl = s.cfg.TokenTTL
	}
	access := s.auth.issue(tokenEntry{clientID: clientID, user: user, expires: now.Add(ttl)}, now)
	w.objectStart()
	w.str("access_token", access)
	w.key("token_timeout")
	w.intString(int64(math.Ceil(ttl.Seconds())))
	w.str("user_name", user)
	w.str("token_type", "Bearer")
	if withRefresh {
		w.str("refresh_token", s.auth.issue(tokenEntry{refresh: true, clientID: clientID, user: user, expires: now.Add(refreshTokenTTL)}, now))
		w.key("refresh_token_timeout")
		w.intString(int64(refreshTokenTTL / time.Second))
	}
	w.objectEnd()
	return http.StatusOK
}

// RevokeTokens forgets every access and refresh token: clients must log in again.
func (s *Server) RevokeTokens() {
	s.auth.revokeAll()
	s.log.Info("all tokens revoked")
}
