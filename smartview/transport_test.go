package smartview

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// scripted answers the given statuses (with headers and bodies) in turn, then the example.
type scriptedAnswer struct {
	status     int
	retryAfter string
	body       string
}

func scripted(t *testing.T, api *testAPI, pattern, file string, answers ...scriptedAnswer) {
	ok := docExample(t, file)
	n := 0
	api.handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		defer func() { n++ }()
		if n >= len(answers) {
			w.Write(ok)
			return
		}
		a := answers[n]
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	})
}

func TestRetries(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	tests := []struct {
		name         string
		answers      []scriptedAnswer
		maxAttempts  int
		wantRequests int
		wantDelays   []time.Duration // exact; nil: only counted
		wantDelayN   int
		wantErr      []error
		wantReason   string // retries_total label incremented
	}{
		{
			name:         "429 with Retry-After seconds",
			answers:      []scriptedAnswer{{status: 429, retryAfter: "7"}},
			wantRequests: 2, wantDelays: []time.Duration{7 * time.Second}, wantReason: "rate_limited",
		},
		{
			name:         "429 with Retry-After HTTP date",
			answers:      []scriptedAnswer{{status: 429, retryAfter: now.Add(5 * time.Second).UTC().Format(http.TimeFormat)}},
			wantRequests: 2, wantDelays: []time.Duration{5 * time.Second}, wantReason: "rate_limited",
		},
		{
			name:         "503 with Retry-After",
			answers:      []scriptedAnswer{{status: 503, retryAfter: "2"}},
			wantRequests: 2, wantDelays: []time.Duration{2 * time.Second}, wantReason: "unavailable",
		},
		{
			name:         "500 then 503 then success",
			answers:      []scriptedAnswer{{status: 500}, {status: 503}},
			wantRequests: 3, wantDelayN: 2, wantReason: "server_error",
		},
		{
			name:         "502 and 504",
			answers:      []scriptedAnswer{{status: 502}, {status: 504}},
			wantRequests: 3, wantDelayN: 2, wantReason: "server_error",
		},
		{
			name:         "attempts exhausted",
			answers:      []scriptedAnswer{{status: 500}, {status: 500}, {status: 500}, {status: 500}},
			maxAttempts:  3,
			wantRequests: 3, wantDelayN: 2, wantErr: []error{ErrRetriesExhausted, ErrServer},
		},
		{
			name:         "Retry-After beyond the budget ends the call",
			answers:      []scriptedAnswer{{status: 429, retryAfter: "3600"}},
			wantRequests: 1, wantDelayN: 0, wantErr: []error{ErrRetriesExhausted, ErrRateLimited},
		},
		{
			name:         "400 is not retried",
			answers:      []scriptedAnswer{{status: 400, body: `{"message":"Validation Error"}`}},
			wantRequests: 1, wantErr: []error{ErrBadRequest},
		},
		{
			name:         "404 is not retried",
			answers:      []scriptedAnswer{{status: 404, body: `{"timestamp":1544951546619,"status":404,"error":"Not Found","message":"No message available","path":"/environment/v1/current"}`}},
			wantRequests: 1, wantErr: []error{ErrNotFound},
		},
		{
			name:         "415 is not retried",
			answers:      []scriptedAnswer{{status: 415}},
			wantRequests: 1, wantErr: []error{ErrBadRequest},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			scripted(t, api, "GET /environment/v1/current", "environment_current.json", tt.answers...)
			cfg := api.config()
			cfg.MaxAttempts = tt.maxAttempts
			reg := prometheus.NewRegistry()
			c := api.client(cfg, Options{Registerer: reg, Now: func() time.Time { return now }})
			env, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1")
			if tt.wantErr == nil && (err != nil || env.IBX != "CH1") {
				t.Fatalf("got %+v, %v", env, err)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			if got := api.requestCount(); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			if tt.wantDelays != nil && !equalDurations(c.delays, tt.wantDelays) {
				t.Errorf("delays %v, want %v", c.delays, tt.wantDelays)
			}
			if tt.wantDelays == nil && len(c.delays) != tt.wantDelayN {
				t.Errorf("delays %v, want %d", c.delays, tt.wantDelayN)
			}
			for i, d := range c.delays {
				if tt.wantDelays == nil && (d < 0 || d > cfg.RetryBaseDelay<<i) {
					t.Errorf("delay %d = %s, outside full jitter [0, %s]", i, d, cfg.RetryBaseDelay<<i)
				}
			}
			if tt.wantReason != "" {
				if got := testutil.ToFloat64(c.metrics.retries.WithLabelValues("environment", tt.wantReason)); got < 1 {
					t.Errorf("retries_total{reason=%q} = %v", tt.wantReason, got)
				}
			}
			if tt.wantErr != nil {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Endpoint != "environment" || apiErr.Attempts != tt.wantRequests {
					t.Errorf("APIError %+v", apiErr)
				}
				if got := testutil.ToFloat64(c.metrics.errors.WithLabelValues("environment", errorKind(err))); got != 1 {
					t.Errorf("errors_total = %v", got)
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-3":                            0,
		"120":                           2 * time.Minute,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:15 GMT": 10 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0,
		"9999999999":                    24 * time.Hour,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// Subscription changes are repeated only when the server did not process them.
func TestSubscriptionChangesRetryOnlyUnprocessed(t *testing.T) {
	tests := []struct {
		status       int
		wantRequests int
	}{
		{http.StatusServiceUnavailable, 2},
		{http.StatusTooManyRequests, 2},
		{http.StatusInternalServerError, 1},
		{http.StatusBadGateway, 1},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			api := newTestAPI(t)
			scripted(t, api, "POST /feedsubscription/v1/subscribe", "subscription_create.json", scriptedAnswer{status: tt.status})
			c := api.defaultClient()
			_, err := c.CreateSubscription(context.Background(), SubscriptionRequest{Config: SubscriptionConfig{Provider: "GOOGLE", Method: "PULL"}})
			if (tt.wantRequests == 2) != (err == nil) {
				t.Errorf("err = %v", err)
			}
			if got := api.requestCount(); got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
		})
	}
}

// A read is retried after a dropped connection; a subscription change is not, since the server
// may have applied it.
func TestTransportErrors(t *testing.T) {
	api := newTestAPI(t)
	drops := 0
	drop := func(w http.ResponseWriter, r *http.Request) bool {
		if drops > 0 {
			return false
		}
		drops++
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		return true
	}
	api.handle("GET /hierarchy/v1/power", func(w http.ResponseWriter, r *http.Request) {
		if !drop(w, r) {
			w.Write(docExample(t, "hierarchy_power.json"))
		}
	})
	api.handle("PUT /feedsubscription/v1/subscribe/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !drop(w, r) {
			w.Write(docExample(t, "subscription_update.json"))
		}
	})
	c := api.defaultClient()
	if _, err := c.PowerHierarchy(context.Background(), "SV4"); err != nil {
		t.Errorf("read after a dropped connection: %v", err)
	}
	drops = 0
	_, err := c.UpdateSubscription(context.Background(), "x", SubscriptionRequest{})
	if !errors.Is(err, ErrTransport) || errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("update after a dropped connection: %v", err)
	}
	if got := api.requestCount(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

// A connection that is never made is retried even for a subscription change.
func TestConnectionRefusedIsRetried(t *testing.T) {
	api := newTestAPI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String()
	l.Close()
	cfg := api.config()
	cfg.TokenURL = api.srv.URL + "/oauth2/v1/token"
	cfg.BaseURL = closedURL
	cfg.MaxAttempts = 3
	c := api.client(cfg, Options{})
	_, err = c.DeleteSubscription(context.Background(), "x")
	if !errors.Is(err, ErrTransport) || !errors.Is(err, ErrRetriesExhausted) || len(c.delays) != 2 {
		t.Errorf("err = %v after %d waits", err, len(c.delays))
	}
}

func TestRetryBudgetSpent(t *testing.T) {
	api := newTestAPI(t)
	api.handle("GET /power/v1/current", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	cfg := api.config()
	cfg.RetryBudget = 50 * time.Millisecond
	cfg.MaxAttempts = 100
	c := api.client(cfg, Options{})
	c.sleep = sleepContext // the budget elapses during a real (tiny) wait
	c.cfg.RetryBaseDelay, c.cfg.RetryMaxDelay = 10*time.Millisecond, 10*time.Millisecond
	_, err := c.Power(context.Background(), "CH1", LevelIBX, "CH1")
	if !errors.Is(err, ErrRetriesExhausted) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "retry budget") {
		t.Errorf("err = %v", err)
	}
	if n := api.requestCount(); n < 1 || n >= 100 {
		t.Errorf("%d requests", n)
	}
}

func TestContextCancellationStopsRetries(t *testing.T) {
	api := newTestAPI(t)
	api.handle("GET /power/v1/current", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	c := api.defaultClient()
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(sctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while the client waits
		return sctx.Err()
	}
	_, err := c.Power(ctx, "CH1", LevelIBX, "CH1")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrRetriesExhausted) {
		t.Errorf("err = %v", err)
	}
	if n := api.requestCount(); n != 1 {
		t.Errorf("%d requests after cancellation, want 1", n)
	}
	// Already cancelled: no request at all.
	if _, err := c.Power(ctx, "CH1", LevelIBX, "CH1"); !errors.Is(err, context.Canceled) || api.requestCount() != 1 {
		t.Errorf("cancelled call: %v, %d requests", err, api.requestCount())
	}
}

func TestMalformedAnswers(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    []error
		wantText   string
	}{
		{"not JSON", `{"payLoad": {"ibx": "CH1",`, []error{ErrDecode}, "invalid JSON at byte"},
		{"HTML", `<html><body>Gateway</body></html>`, []error{ErrDecode}, "invalid JSON at byte 1"},
		{"empty", ``, []error{ErrDecode}, "empty body"},
		{"no payLoad", `{"status":{"type":"INFO","statuscode":"1000","msg":"OK"}}`, []error{ErrDecode}, `no "payLoad"`},
		{"wrong type", `{"payLoad":{"ibx":["CH1"]},"status":{"statuscode":"1000"}}`, []error{ErrDecode}, "field ibx"},
		{"number as object", `{"payLoad":{"temperature":{}},"status":{"statuscode":"1000"}}`, []error{ErrDecode}, "number: want a number or a string"},
		{"statuscode 3001", string(docExample(t, "error_3001.json")), []error{ErrStatus, ErrInvalidLevelType}, `statuscode 3001: "Invalid Level Type"`},
		{"statuscode 4000", string(docExample(t, "error_4000.json")), []error{ErrStatus, ErrInternal}, `statuscode 4000: "INTERNAL_ERROR"`},
		{"payload spelt payload", `{"payload":{"ibx":"CH1"},"status":{"statuscode":"1000"}}`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.handle("GET /environment/v1/current", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(tt.body)) })
			env, err := api.defaultClient().Environment(context.Background(), "CH1", "ibc", "CH1")
			if tt.wantErr == nil {
				if err != nil || env.IBX != "CH1" {
					t.Errorf("got %+v, %v", env, err)
				}
				return
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 200 || apiErr.Endpoint != "environment" {
				t.Errorf("APIError %+v", apiErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, "smartview: environment (GET /environment/v1/current)") || !strings.Contains(msg, tt.wantText) {
				t.Errorf("error %q does not name the endpoint and %q", msg, tt.wantText)
			}
			if api.requestCount() != 1 {
				t.Errorf("%d requests: a bad answer was retried", api.requestCount())
			}
		})
	}
}

// An error answer carrying the envelope matches both its HTTP and its statuscode sentinels.
func TestErrorStatusInHTTPError(t *testing.T) {
	api := newTestAPI(t)
	body := docExample(t, "error_3001.json")
	api.handle("POST /power/v1/current", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write(body)
	})
	_, err := api.defaultClient().PowerList(context.Background(), "CH1", "ibc")
	if !errors.Is(err, ErrBadRequest) || !errors.Is(err, ErrInvalidLevelType) {
		t.Errorf("err = %v", err)
	}
}

func TestSubscriptionStatusError(t *testing.T) {
	api := newTestAPI(t)
	api.handle("POST /feedsubscription/v1/subscribe", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"power":[],"subscriptionId":null,"status":"ERROR","errors":[{"code":"E1","message":"provider not supported"}],"config":{}}`))
	})
	_, err := api.defaultClient().CreateSubscription(context.Background(), SubscriptionRequest{Config: SubscriptionConfig{Provider: "ORACLE"}})
	if !errors.Is(err, ErrStatus) || !strings.Contains(err.Error(), "provider not supported") {
		t.Errorf("err = %v", err)
	}
}

// The client-side limiter holds requests beyond the burst. Asserted on counts: with a rate of one
// request per 1000 s, a call beyond the burst fails at once because its wait would outlast the
// retry budget, and the server never sees it.
func TestRateLimit(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /environment/v1/current", "environment_current.json")
	cfg := api.config()
	cfg.RateLimit, cfg.RateBurst = 0.001, 2
	c := api.client(cfg, Options{})
	var errs []error
	for range 4 {
		_, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1")
		errs = append(errs, err)
	}
	if errs[0] != nil || errs[1] != nil || errs[2] == nil || errs[3] == nil {
		t.Errorf("errors %v: want the first 2 to pass", errs)
	}
	if n := api.requestCount(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
	// Defaults: 10 requests/s, burst 20; negative rate: unlimited.
	d, _ := New(Config{ClientID: "a", ClientSecret: "b", AccountNo: "1"}, Options{})
	if d.limiter.Limit() != 10 || d.limiter.Burst() != 20 {
		t.Errorf("default limiter %v/%d", d.limiter.Limit(), d.limiter.Burst())
	}
}

func TestMetricsRegistered(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /environment/v1/current", "environment_current.json")
	reg := prometheus.NewRegistry()
	c := api.client(api.config(), Options{Registerer: reg})
	if _, err := c.Environment(context.Background(), "CH1", LevelIBX, "CH1"); err != nil {
		t.Fatal(err)
	}
	// A second client on the same registry shares the collectors.
	if _, err := New(api.config(), Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, want := range []string{"svgateway_api_requests_total", "svgateway_api_request_duration_seconds", "svgateway_api_token_requests_total"} {
		if !names[want] {
			t.Errorf("%s not gathered (have %v)", want, names)
		}
	}
	if got := testutil.ToFloat64(c.metrics.requests.WithLabelValues("environment", "200")); got != 1 {
		t.Errorf("requests_total{environment,200} = %v", got)
	}
	if got := testutil.ToFloat64(c.metrics.requests.WithLabelValues("token", "200")); got != 1 {
		t.Errorf("requests_total{token,200} = %v", got)
	}
	if got := testutil.ToFloat64(c.metrics.tokenRequests.WithLabelValues("client_credentials", "ok")); got != 1 {
		t.Errorf("token_requests_total = %v", got)
	}
}
