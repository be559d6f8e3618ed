package smartview

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// renewEarly is how long before its expiry a cached access token is replaced.
const renewEarly = 60 * time.Second

// grantRefreshToken is the "grant" label of token requests made with the refresh token.
const grantRefreshToken = "refresh_token"

// NewTokenSource returns the SmartView token source for cfg: access tokens from the JSON token
// endpoint (grant_type cfg.GrantType, with base64(md5(password)) when cfg.PasswordEncoding is
// "md5-b64"), renewed with the refresh token (password grant only) before falling back to a new
// grant. Each call to Token makes a request: wrap it in oauth2.ReuseTokenSource to cache, as New
// does. cfg need not be validated; missing values take their defaults. httpClient nil means the
// client New would build. Token requests are bounded by cfg.Timeout, as the oauth2.TokenSource
// interface carries no context.
func NewTokenSource(cfg Config, httpClient *http.Client) oauth2.TokenSource {
	cfg.setDefaults()
	if httpClient == nil {
		httpClient = newHTTPClient(cfg)
	}
	m, _ := newMetrics(nil) // unregistered: cannot fail
	return &tokenSource{
		sender: sender{hc: httpClient, metrics: m, now: time.Now, secrets: newSecretSet(cfg)},
		cfg:    cfg,
		log:    slog.New(slog.DiscardHandler),
	}
}

// tokenSource obtains access tokens from the SmartView OAuth endpoints. It remembers the refresh
// token of the last password grant and uses it first.
//
// Expiry is set to now+token_timeout, except for lifetimes shorter than 2·renewEarly, where it is
// set so that a ReuseTokenSource renewing renewEarly ahead does so at half the lifetime rather than
// on every call. Without token_timeout, Expiry is zero (never expires) and renewal waits for a 401.
type tokenSource struct {
	sender
	cfg Config
	log *slog.Logger

	mu           sync.Mutex
	refreshToken string
	refreshUntil time.Time // zero: no known expiry
}

// grantRequest is the JSON body of /oauth2/v1/token.
type grantRequest struct {
	GrantType        string `json:"grant_type"`
	UserName         string `json:"user_name,omitempty"`
	UserPassword     string `json:"user_password,omitempty"`
	PasswordEncoding string `json:"password_encoding,omitempty"`
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
}

// refreshRequest is the JSON body of /oauth2/v1/refreshaccesstoken.
type refreshRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
}

// tokenResponse is the answer of both token endpoints. The timeouts are strings of seconds.
type tokenResponse struct {
	AccessToken         string `json:"access_token"`
	TokenTimeout        Text   `json:"token_timeout"`
	TokenType           string `json:"token_type"`
	RefreshToken        string `json:"refresh_token"`
	RefreshTokenTimeout Text   `json:"refresh_token_timeout"`
}

// Token implements oauth2.TokenSource.
func (s *tokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refreshToken != "" && (s.refreshUntil.IsZero() || s.now().Before(s.refreshUntil)) {
		tok, err := s.request(endpointRefresh, grantRefreshToken, s.cfg.RefreshURL, refreshRequest{
			ClientID:     s.cfg.ClientID,
			ClientSecret: s.cfg.ClientSecret,
			RefreshToken: s.refreshToken,
		})
		if err == nil {
			return tok, nil
		}
		s.log.Debug("smartview: refreshing the access token failed; requesting a new grant", "err", err)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500 {
			s.refreshToken = "" // refused: do not try it again
		}
	}
	req := grantRequest{GrantType: s.cfg.GrantType, ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret}
	if s.cfg.GrantType == GrantPassword {
		req.UserName, req.UserPassword = s.cfg.UserName, s.cfg.UserPassword
		if s.cfg.PasswordEncoding == PasswordEncodingMD5B64 {
			req.UserPassword, req.PasswordEncoding = md5Base64(s.cfg.UserPassword), PasswordEncodingMD5B64
		}
	}
	return s.request(endpointToken, s.cfg.GrantType, s.cfg.TokenURL, req)
}

// md5Base64 is the "md5-b64" password encoding: base64(md5(password)).
func md5Base64(password string) string {
	sum := md5.Sum([]byte(password))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// request posts one token request and interprets the answer. Callers hold s.mu.
func (s *tokenSource) request(endpoint, grant, tokenURL string, body any) (tok *oauth2.Token, err error) {
	defer func() {
		result := "ok"
		if err != nil {
			result = "error"
		}
		s.metrics.tokenRequests.WithLabelValues(grant, result).Inc()
	}()
	path := tokenURL
	if u, perr := url.Parse(tokenURL); perr == nil {
		path = u.Path
	}
	fail := func(status int, err error) error {
		return &APIError{Endpoint: endpoint, Method: http.MethodPost, Path: path, HTTPStatus: status, Err: err}
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fail(0, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	req, err := newJSONRequest(ctx, http.MethodPost, tokenURL, data, s.cfg.UserAgent)
	if err != nil {
		return nil, fail(0, err)
	}
	start := s.now()
	rep, err := s.send(req, endpoint, nil) // a token answer is small: read whole (at most maxBodyBytes)
	if err != nil {
		return nil, fail(rep.status, err)
	}
	status, answer := rep.status, rep.data
	if status/100 != 2 {
		return nil, s.httpFailure(endpoint, http.MethodPost, path, status, answer, rep.retryAfter)
	}
	var tr tokenResponse
	if err := json.Unmarshal(withoutTrailingCommas(answer), &tr); err != nil {
		return nil, fail(status, fmt.Errorf("%w: %w", ErrDecode, describeJSONError(answer, err)))
	}
	if tr.AccessToken == "" {
		return nil, fail(status, fmt.Errorf("%w: no access_token in the answer", ErrDecode))
	}
	s.secrets.add(tr.AccessToken, tr.RefreshToken)
	tok = &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	if lifetime, ok := seconds(tr.TokenTimeout); ok {
		tok.Expiry = start.Add(reuseExpiry(lifetime))
	} else {
		s.log.Warn("smartview: token answer has no usable token_timeout; renewing on 401 only",
			"endpoint", endpoint, "token_timeout", string(tr.TokenTimeout))
	}
	if tr.RefreshToken != "" {
		s.refreshToken = tr.RefreshToken
		s.refreshUntil = time.Time{}
		if lifetime, ok := seconds(tr.RefreshTokenTimeout); ok {
			s.refreshUntil = start.Add(lifetime)
		}
	}
	s.log.Debug("smartview: access token obtained", "endpoint", endpoint, "grant", grant,
		"expires_in", string(tr.TokenTimeout), "refresh_token", tr.RefreshToken != "")
	return tok, nil
}

// reuseExpiry is the Expiry offset given to a token of the given lifetime (see tokenSource).
func reuseExpiry(lifetime time.Duration) time.Duration {
	if lifetime < 2*renewEarly {
		return lifetime/2 + renewEarly
	}
	return lifetime
}

// seconds parses a "3600"-style timeout.
func seconds(t Text) (time.Duration, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(t)), 10, 64)
	if err != nil || n <= 0 || n > 10*365*86400 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// withoutTrailingCommas removes commas that directly precede a closing brace or bracket outside
// strings. The documentation's own client_credentials token answer ends `"token_type": "Bearer",
// }`: failing authentication over that comma would stop the whole gateway, so token answers
// tolerate it. Data answers do not: there a malformed body is an ErrDecode.
func withoutTrailingCommas(data []byte) []byte {
	out := make([]byte, 0, len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		b := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			out = append(out, b)
			continue
		}
		if b == '"' {
			inString = true
		}
		if b == ',' {
			j := i + 1
			for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
				j++
			}
			if j < len(data) && (data[j] == '}' || data[j] == ']') {
				continue
			}
		}
		out = append(out, b)
	}
	return out
}

// tokenCache is the Client's token cache: an oauth2.ReuseTokenSource over the tokenSource,
// renewing renewEarly before expiry, which can be replaced to force a new token after a 401.
type tokenCache struct {
	base *tokenSource

	mu      sync.Mutex
	reuse   oauth2.TokenSource
	current string // the access token last handed out
}

func newTokenCache(base *tokenSource) *tokenCache {
	return &tokenCache{base: base, reuse: oauth2.ReuseTokenSourceWithExpiry(nil, base, renewEarly)}
}

func (t *tokenCache) token() (*oauth2.Token, error) {
	t.mu.Lock()
	src := t.reuse
	t.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if src == t.reuse { // not a token from a cache replaced meanwhile
		t.current = tok.AccessToken
	}
	t.mu.Unlock()
	return tok, nil
}

// invalidate drops the cached token if it is still the refused one, so that the next call gets a
// new one; concurrent calls refused with the same token renew it once.
func (t *tokenCache) invalidate(refused string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if refused != "" && t.current != refused {
		return
	}
	t.reuse = oauth2.ReuseTokenSourceWithExpiry(nil, t.base, renewEarly)
	t.current = ""
}

// secretSet is every credential the client knows: the configured secrets and the tokens it has
// received. Messages taken from answers pass through redact before they reach an error or a log.
type secretSet struct {
	mu     sync.RWMutex
	fixed  []string
	tokens []string // most recent last, bounded
}

const maxRememberedTokens = 16

func newSecretSet(cfg Config) *secretSet {
	s := &secretSet{}
	for _, v := range []string{cfg.ClientSecret, cfg.UserPassword} {
		if v != "" {
			s.fixed = append(s.fixed, v, md5Base64(v))
		}
	}
	return s
}

func (s *secretSet) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v != "" {
			s.tokens = append(s.tokens, v)
		}
	}
	if n := len(s.tokens); n > maxRememberedTokens {
		s.tokens = append(s.tokens[:0], s.tokens[n-maxRememberedTokens:]...)
	}
}

// redact replaces every known credential in msg.
func (s *secretSet) redact(msg string) string {
	if msg == "" || s == nil {
		return msg
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, list := range [][]string{s.fixed, s.tokens} {
		for _, v := range list {
			msg = strings.ReplaceAll(msg, v, redacted)
		}
	}
	return msg
}
