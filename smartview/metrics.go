package smartview

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the client's Prometheus collectors. They always exist; they are registered only when
// Options.Registerer is set. Several Clients may share one Registerer: they share the collectors.
type metrics struct {
	requests      *prometheus.CounterVec   // endpoint, code
	duration      *prometheus.HistogramVec // endpoint
	retries       *prometheus.CounterVec   // endpoint, reason
	errors        *prometheus.CounterVec   // endpoint, kind
	tokenRequests *prometheus.CounterVec   // grant, result
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_api_requests_total",
			Help: "SmartView API HTTP requests, by endpoint and HTTP status code (\"error\": no answer).",
		}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "svgateway_api_request_duration_seconds",
			Help:    "Duration of SmartView API HTTP requests, body read included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_api_retries_total",
			Help: "SmartView API requests repeated, by endpoint and reason.",
		}, []string{"endpoint", "reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_api_errors_total",
			Help: "SmartView API calls that failed, by endpoint and kind of failure.",
		}, []string{"endpoint", "kind"}),
		tokenRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_api_token_requests_total",
			Help: "SmartView OAuth token requests, by grant (password, client_credentials, refresh_token) and result.",
		}, []string{"grant", "result"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.requests, err = register(reg, m.requests)
	if err == nil {
		m.duration, err = register(reg, m.duration)
	}
	if err == nil {
		m.retries, err = register(reg, m.retries)
	}
	if err == nil {
		m.errors, err = register(reg, m.errors)
	}
	if err == nil {
		m.tokenRequests, err = register(reg, m.tokenRequests)
	}
	return m, err
}

// register registers c, or returns the identical collector already registered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}
