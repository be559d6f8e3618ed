package smartview

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/svgateway/svgateway/internal/svctest"
)

// TestSecretsNeverLeak drives auth failures, refresh failures, re-authentication, retries and
// decode errors against a server that echoes every credential and token it receives, with a
// Debug-level logger capturing everything, and asserts that no secret appears in any log line or
// error string.
func TestSecretsNeverLeak(t *testing.T) {
	var logs svctest.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	record := func(err error) {
		if err != nil {
			errs = append(errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}

	api := newTestAPI(t)
	echo := func(w http.ResponseWriter, r *http.Request, status int, format string) {
		w.WriteHeader(status)
		fmt.Fprintf(w, format, r.Header.Get("Authorization"))
	}
	calls := 0
	api.handle("GET /environment/v1/current", func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch calls {
		case 1: // refused: the client renews (refresh token, which fails, then a grant)
			echo(w, r, http.StatusUnauthorized, `{"message":"token %s expired"}`)
		case 2: // a retryable failure echoing the header
			echo(w, r, http.StatusServiceUnavailable, `{"status":{"statuscode":"5000","msg":"%s is busy"}}`)
		case 3: // a body that does not decode, carrying the header
			echo(w, r, http.StatusOK, `{"payLoad": "%s`)
		default: // refused twice in a row
			echo(w, r, http.StatusUnauthorized, `%s`)
		}
	})
	api.refreshFails = true
	cfg := api.config()
	cfg.GrantType, cfg.UserName, cfg.UserPassword, cfg.PasswordEncoding = GrantPassword, testUserName, testPassword, PasswordEncodingMD5B64
	c := api.client(cfg, Options{Logger: logger})

	ctx := context.Background()
	_, err := c.Environment(ctx, "CH1", LevelIBX, "CH1") // 401, renew, 503, retry, malformed
	record(err)
	_, err = c.Environment(ctx, "CH1", LevelIBX, "CH1") // 401, renew, 401
	record(err)
	api.grantStatus = http.StatusUnauthorized // the token endpoint echoes the secret and password
	c.tokens.invalidate("")
	_, err = c.Environment(ctx, "CH1", LevelIBX, "CH1")
	record(err)
	logger.Info("configuration", "smartview", cfg)

	if len(errs) != 9 || calls < 5 || len(api.refreshes) == 0 {
		t.Fatalf("scenario did not run as intended: %d error strings, %d data calls, %d refreshes", len(errs), calls, len(api.refreshes))
	}
	secrets := []string{testClientSecret, testPassword, md5Base64(testPassword)}
	for _, tok := range api.issued {
		secrets = append(secrets, tok)
	}
	for i := range api.issued {
		secrets = append(secrets, fmt.Sprintf("refresh-token-%d-secret", i+1))
	}
	haystack := logs.String() + "\n" + strings.Join(errs, "\n")
	for _, s := range secrets {
		if strings.Contains(haystack, s) {
			t.Errorf("secret %q leaked", s)
		}
	}
	for _, s := range []string{"access-token-", "refresh-token-"} {
		if strings.Contains(haystack, s) {
			t.Errorf("%q leaked", s)
		}
	}
	if !strings.Contains(haystack, redacted) {
		t.Error("nothing was redacted: the echoes did not reach the messages")
	}
	if testing.Verbose() {
		t.Log(haystack)
	}
}
