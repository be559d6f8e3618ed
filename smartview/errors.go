package smartview

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is on any error the Client returns. An *APIError matches
// every sentinel that applies (a 3001 answer matches both ErrInvalidLevelType and ErrStatus).
var (
	// ErrAuth: no access token could be obtained (the token endpoint refused the credentials or
	// could not be reached). Inspect the wrapped *APIError for its endpoint ("token", "refresh").
	ErrAuth = errors.New("smartview: authentication failed")
	// ErrUnauthorized: HTTP 401, still after one renewal of the access token.
	ErrUnauthorized = errors.New("smartview: unauthorized")
	// ErrForbidden: HTTP 403 ("Access Denied": the account lacks SmartView API access).
	ErrForbidden = errors.New("smartview: forbidden")
	// ErrNotFound: HTTP 404 (wrong endpoint path, or an unknown resource such as a subscription id).
	ErrNotFound = errors.New("smartview: not found")
	// ErrBadRequest: HTTP 400 and other 4xx answers not listed here (415 included).
	ErrBadRequest = errors.New("smartview: request rejected")
	// ErrRateLimited: HTTP 429.
	ErrRateLimited = errors.New("smartview: rate limited")
	// ErrUnavailable: HTTP 503, and 502/504 from a gateway in front of the API.
	ErrUnavailable = errors.New("smartview: service unavailable")
	// ErrServer: HTTP 500 and any other 5xx.
	ErrServer = errors.New("smartview: server error")
	// ErrTransport: the request got no HTTP answer (connection refused, reset, timed out).
	ErrTransport = errors.New("smartview: transport error")
	// ErrDecode: the answer's body is not what the endpoint documents (malformed JSON, wrong shape).
	ErrDecode = errors.New("smartview: malformed response")
	// ErrStatus: the envelope's status.statuscode is not "1000", whatever the HTTP status.
	ErrStatus = errors.New("smartview: error status")
	// ErrInvalidLevelType: statuscode 3001.
	ErrInvalidLevelType = errors.New("smartview: invalid level type")
	// ErrInternal: statuscode 4000 ("INTERNAL_ERROR"; the docs' cause is a missing parameter).
	ErrInternal = errors.New("smartview: internal error")
	// ErrRetriesExhausted: a retryable failure persisted through every attempt or the time budget.
	// The error also matches the last failure's own sentinel (ErrRateLimited, ...).
	ErrRetriesExhausted = errors.New("smartview: retries exhausted")
)

// Envelope status codes documented by the API.
const (
	StatusOK               = "1000"
	StatusInvalidLevelType = "3001"
	StatusInternalError    = "4000"
)

// APIError is a failed API call: an HTTP answer other than 2xx, a 2xx answer whose envelope status
// is not "1000", a body that does not decode, or a request that got no answer at all.
//
// Its message never contains credentials, tokens or request headers; Msg is taken from the
// answer's JSON (status.msg, or a Spring-style "message") or a short excerpt of the body, with
// every credential the client knows redacted.
type APIError struct {
	Endpoint   string        // stable name of the call, e.g. "alarms", "asset_details", "token"
	Method     string        // HTTP method
	Path       string        // URL path, without host or query
	HTTPStatus int           // 0 when no HTTP answer was received
	StatusCode string        // envelope status.statuscode, "" when absent
	Msg        string        // envelope status.msg or a short excerpt of the body
	RetryAfter time.Duration // from a Retry-After header (429, 503), 0 when absent
	Attempts   int           // HTTP attempts made for this call, retries included
	Err        error         // underlying cause (transport or decode error), may be nil
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("smartview: ")
	b.WriteString(e.Endpoint)
	if e.Method != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Method, e.Path)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
		if t := http.StatusText(e.HTTPStatus); t != "" {
			b.WriteString(" " + t)
		}
	}
	if e.StatusCode != "" {
		fmt.Fprintf(&b, ": statuscode %s", e.StatusCode)
	}
	if e.Msg != "" {
		fmt.Fprintf(&b, ": %s", strconv.Quote(e.Msg))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinels the error matches, then Err.
func (e *APIError) Unwrap() []error {
	errs := e.sentinels()
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func (e *APIError) sentinels() []error {
	var errs []error
	switch {
	case e.HTTPStatus == http.StatusUnauthorized:
		errs = append(errs, ErrUnauthorized)
	case e.HTTPStatus == http.StatusForbidden:
		errs = append(errs, ErrForbidden)
	case e.HTTPStatus == http.StatusNotFound:
		errs = append(errs, ErrNotFound)
	case e.HTTPStatus == http.StatusTooManyRequests:
		errs = append(errs, ErrRateLimited)
	case e.HTTPStatus == http.StatusServiceUnavailable, e.HTTPStatus == http.StatusBadGateway,
		e.HTTPStatus == http.StatusGatewayTimeout:
		errs = append(errs, ErrUnavailable)
	case e.HTTPStatus >= 500:
		errs = append(errs, ErrServer)
	case e.HTTPStatus >= 400:
		errs = append(errs, ErrBadRequest)
	}
	if e.StatusCode != "" && e.StatusCode != StatusOK {
		errs = append(errs, ErrStatus)
		switch e.StatusCode {
		case StatusInvalidLevelType:
			errs = append(errs, ErrInvalidLevelType)
		case StatusInternalError:
			errs = append(errs, ErrInternal)
		}
	}
	if e.Endpoint == endpointToken || e.Endpoint == endpointRefresh {
		errs = append(errs, ErrAuth)
	}
	return errs
}

// errorKind names the class of a failure for the svgateway_api_errors_total metric.
func errorKind(err error) string {
	for _, k := range []struct {
		err  error
		kind string
	}{
		{ErrAuth, "auth"},
		{ErrUnauthorized, "unauthorized"},
		{ErrForbidden, "forbidden"},
		{ErrNotFound, "not_found"},
		{ErrRateLimited, "rate_limited"},
		{ErrUnavailable, "unavailable"},
		{ErrServer, "server"},
		{ErrBadRequest, "client"},
		{ErrDecode, "decode"},
		{ErrStatus, "status"},
		{ErrTransport, "transport"},
	} {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "canceled"
	}
	return "other"
}
