package smartview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

var errBudgetSpent = errors.New("retry budget spent")

// do performs r with retries and decodes a successful answer's body with decode, as it arrives
// (decode must read it from the start each time: a retried call calls it again). Every failure is
// an *APIError (wrapped with ErrRetriesExhausted when retries ran out) or, when ctx ended, an
// error wrapping ctx's error.
//
// Retry policy, per call:
//   - at most Config.MaxAttempts HTTP attempts, all within Config.RetryBudget of wall time;
//   - 429 and 503 are retried for every call, after Retry-After when the answer has one (a
//     Retry-After beyond the remaining budget ends the call at once, with RetryAfter set);
//   - 500, 502, 504 and transport errors are retried for reads (GET and the read-only POST
//     queries), not for subscription changes, which the server may have applied; a connection
//     that was never established is retried for every call;
//   - otherwise the delay is exponential with full jitter: uniform in [0, min(RetryMaxDelay,
//     RetryBaseDelay·2^(n-1))];
//   - one 401 renews the access token (refresh token first, then a new grant) and repeats the
//     request without counting an attempt; a second 401 is returned;
//   - other answers (4xx, a non-1000 statuscode, a malformed body) are returned at once;
//   - ctx's end stops everything at once.
//
// A request with a route goes to that endpoint's path in the account's catalog (see catalog.go).
func (c *Client) do(ctx context.Context, r request, decode func(body io.Reader) error) error {
	if r.route != "" {
		return c.routed(ctx, r, decode)
	}
	return c.doPath(ctx, r, decode)
}

// doPath is do on r.path.
func (c *Client) doPath(ctx context.Context, r request, decode func(body io.Reader) error) error {
	err := c.retry(ctx, r, decode)
	if err != nil {
		kind := errorKind(err)
		c.metrics.errors.WithLabelValues(r.endpoint, kind).Inc()
		c.log.Debug("smartview: call failed", "endpoint", r.endpoint, "kind", kind, "err", err)
	}
	return err
}

func (c *Client) retry(parent context.Context, r request, decode func(io.Reader) error) error {
	ctx := parent
	if c.cfg.RetryBudget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(parent, c.cfg.RetryBudget, errBudgetSpent)
		defer cancel()
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return &APIError{Endpoint: r.endpoint, Method: r.method, Path: r.path, Err: err}
		}
	}
	reauthenticated := false
	attempts := 0
	var last *APIError // the last failure not caused by ctx ending
	for {
		if err := c.limiter.Wait(ctx); err != nil {
			return c.interrupted(parent, ctx, r, last, err)
		}
		attempts++
		refused, decodeErr, apiErr := c.attempt(ctx, r, body, decode)
		if apiErr == nil {
			if decodeErr != nil {
				return c.decodeFailure(r, attempts, decodeErr)
			}
			return nil
		}
		apiErr.Attempts = attempts
		if ctx.Err() != nil { // report what the server said before, if it said anything
			if last == nil {
				last = apiErr
			}
			last.Attempts = attempts
			return c.interrupted(parent, ctx, r, last, ctx.Err())
		}
		last = apiErr
		if apiErr.HTTPStatus == http.StatusUnauthorized && apiErr.Endpoint == r.endpoint && !reauthenticated {
			reauthenticated = true
			attempts--
			c.metrics.retries.WithLabelValues(r.endpoint, "unauthorized").Inc()
			c.log.Debug("smartview: access token refused; renewing it once", "endpoint", r.endpoint)
			c.tokens.invalidate(refused)
			continue
		}
		reason := retryReason(apiErr, r)
		if reason == "" {
			return apiErr
		}
		if attempts >= c.cfg.MaxAttempts {
			return fmt.Errorf("%w: %w", ErrRetriesExhausted, apiErr)
		}
		delay := c.backoff(attempts, apiErr.RetryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return fmt.Errorf("%w: next attempt due in %s, after the retry budget: %w", ErrRetriesExhausted, delay.Round(time.Millisecond), apiErr)
		}
		c.metrics.retries.WithLabelValues(r.endpoint, reason).Inc()
		c.log.Debug("smartview: retrying", "endpoint", r.endpoint, "attempt", attempts,
			"delay", delay, "reason", reason, "err", apiErr)
		if err := c.sleep(ctx, delay); err != nil {
			return c.interrupted(parent, ctx, r, last, err)
		}
	}
}

// interrupted is the error of a call whose context ended: the caller's (ctx's error, wrapped) or
// the retry budget's (ErrRetriesExhausted with the last failure).
func (c *Client) interrupted(parent, ctx context.Context, r request, last *APIError, err error) error {
	if parent.Err() != nil {
		return fmt.Errorf("smartview: %s: %w", r.endpoint, context.Cause(parent))
	}
	if errors.Is(context.Cause(ctx), errBudgetSpent) {
		if last == nil {
			last = &APIError{Endpoint: r.endpoint, Method: r.method, Path: r.path, Err: err}
		}
		return fmt.Errorf("%w: retry budget of %s spent: %w", ErrRetriesExhausted, c.cfg.RetryBudget, last)
	}
	return fmt.Errorf("smartview: %s: %w", r.endpoint, err)
}

// decodeFailure turns the decoder's error into an *APIError: a status error passes through with
// its request fields filled in, anything else is ErrDecode.
func (c *Client) decodeFailure(r request, attempts int, err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		apiErr = &APIError{HTTPStatus: http.StatusOK, Err: fmt.Errorf("%w: %w", ErrDecode, err)}
	}
	apiErr.Endpoint, apiErr.Method, apiErr.Path, apiErr.Attempts = r.endpoint, r.method, r.path, attempts
	if apiErr.HTTPStatus == 0 {
		apiErr.HTTPStatus = http.StatusOK
	}
	apiErr.Msg = c.secrets.redact(apiErr.Msg)
	return apiErr
}

// retryReason says why a failed attempt may be repeated ("" when it may not): the reason label of
// svgateway_api_retries_total.
func retryReason(e *APIError, r request) string {
	switch e.HTTPStatus {
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		if !r.unprocessedOnly || e.Endpoint != r.endpoint { // a token request is always safe
			return "server_error"
		}
	case 0:
		if e.Err == nil || errors.Is(e.Err, ErrDecode) {
			return ""
		}
		if !r.unprocessedOnly || e.Endpoint != r.endpoint || neverConnected(e.Err) {
			return "transport"
		}
	}
	return ""
}

// neverConnected reports whether a transport error happened before the request could reach the
// server (refused or unroutable connection), so that repeating it cannot apply a change twice.
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// backoff is the delay before attempt n+1: Retry-After when given, else full jitter.
func (c *Client) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	ceiling := c.cfg.RetryMaxDelay
	if n < 32 {
		if d := c.cfg.RetryBaseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// attempt makes one HTTP request and decodes a 2xx answer with decode. It returns decode's
// failure, or the request's; refused is the access token sent, for renewing it after a 401.
func (c *Client) attempt(ctx context.Context, r request, body []byte, decode func(io.Reader) error) (refused string, decodeErr error, _ *APIError) {
	tok, err := c.tokens.token()
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return "", nil, apiErr
		}
		return "", nil, &APIError{Endpoint: endpointToken, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := newJSONRequest(ctx, r.method, c.url(r), body, c.cfg.UserAgent)
	if err != nil {
		return "", nil, &APIError{Endpoint: r.endpoint, Method: r.method, Path: r.path, Err: err}
	}
	req.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	rep, err := c.send(req, r.endpoint, decode)
	if err != nil {
		return tok.AccessToken, nil, &APIError{Endpoint: r.endpoint, Method: r.method, Path: r.path,
			HTTPStatus: rep.status, Err: err}
	}
	if rep.status/100 == 2 {
		if errors.Is(rep.decodeErr, ErrTransport) { // the connection failed mid-answer: retried
			return tok.AccessToken, nil, &APIError{Endpoint: r.endpoint, Method: r.method, Path: r.path, Err: rep.decodeErr}
		}
		return tok.AccessToken, rep.decodeErr, nil
	}
	return tok.AccessToken, nil, c.httpFailure(r.endpoint, r.method, r.path, rep.status, rep.data, rep.retryAfter)
}

// newJSONRequest builds a request with the headers every SmartView call carries; body nil
// sends none.
func newJSONRequest(ctx context.Context, method, url string, body []byte, userAgent string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// sender sends requests and reads answers for the Client and its token source.
type sender struct {
	hc      *http.Client
	big     bigSlot // one answer past bigBodyBytes at a time
	metrics *metrics
	now     func() time.Time
	secrets *secretSet
}

// reply is what send read of an answer.
type reply struct {
	status     int
	data       []byte // the body of an error answer, or of a 2xx answer when there was no decoder
	retryAfter time.Duration
	decodeErr  error // the decoder's failure on a 2xx answer (ErrDecode or ErrTransport when the body was at fault)
}

// send performs req and reads its answer, recording the request metrics. A 2xx answer's body is
// given to decode as it arrives (see bodyReader); other bodies are read, at most
// maxErrorBodyBytes. A transport failure is returned as an error wrapping ErrTransport (status 0);
// a body announced too large as ErrDecode.
func (c *sender) send(req *http.Request, endpoint string, decode func(io.Reader) error) (reply, error) {
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.metrics.requests.WithLabelValues(endpoint, "error").Inc()
		c.metrics.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL: the message names the endpoint already
		}
		return reply{}, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	defer resp.Body.Close() // unread: the connection is dropped, not drained
	rep := reply{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now())}
	limit := int64(maxBodyBytes)
	if resp.StatusCode/100 != 2 {
		limit = maxErrorBodyBytes
	}
	defer func() {
		c.metrics.requests.WithLabelValues(endpoint, strconv.Itoa(resp.StatusCode)).Inc()
		c.metrics.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	}()
	body, err := newBodyReader(req.Context(), resp, c.big, limit)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) && resp.StatusCode/100 != 2 {
			return rep, nil // an error answer without its (oversized) message
		}
		if errors.Is(err, errBodyTooLarge) {
			return rep, fmt.Errorf("%w: %w", ErrDecode, err)
		}
		return reply{}, fmt.Errorf("%w: reading the answer: %w", ErrTransport, err)
	}
	defer body.release()
	if resp.StatusCode/100 == 2 && decode != nil {
		src, done, err := settle(body, resp.ContentLength >= 0)
		if err == nil {
			err = decode(src)
			done()
		}
		if err != nil {
			if ferr := body.failure(); ferr != nil {
				err = ferr
			}
			rep.decodeErr = err
		}
		return rep, nil
	}
	rep.data, err = io.ReadAll(body)
	if ferr := body.failure(); ferr != nil {
		if errors.Is(ferr, ErrTransport) {
			return reply{}, ferr
		}
		if resp.StatusCode/100 == 2 {
			return rep, ferr
		}
		err = nil // an error answer's message cut at the limit is still its message
	}
	return rep, err
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date. 0 when absent,
// malformed or in the past.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 86400)) * time.Second
	}
	if at, err := http.ParseTime(h); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// httpFailure describes a non-2xx answer, taking statuscode and message from its body when the
// body has them.
func (c *sender) httpFailure(endpoint, method, path string, status int, body []byte, retryAfter time.Duration) *APIError {
	code, msg := errorDetails(body)
	return &APIError{
		Endpoint:   endpoint,
		Method:     method,
		Path:       path,
		HTTPStatus: status,
		StatusCode: code,
		Msg:        c.secrets.redact(msg),
		RetryAfter: retryAfter,
	}
}

// errorDetails extracts a status code and message from an error answer's body: the SmartView
// envelope's status, a Spring-style {"status","error","message"}, an OAuth-style
// {"error","error_description"}, or else a short excerpt of the text.
func errorDetails(body []byte) (code, msg string) {
	var e struct {
		Status           json.RawMessage `json:"status"`
		Message          string          `json:"message"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Msg              string          `json:"msg"`
	}
	if json.Unmarshal(body, &e) == nil {
		var st Status
		if json.Unmarshal(e.Status, &st) == nil && (st.StatusCode != "" || st.Msg != "") {
			return string(st.StatusCode), st.Msg
		}
		for _, m := range []string{e.ErrorDescription, e.Message, e.Msg, e.Error} {
			if m != "" {
				return "", truncate(m)
			}
		}
	}
	return "", truncate(string(bytes.TrimSpace(body)))
}

// truncate shortens a message taken from an answer to 200 bytes of printable text.
func truncate(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
