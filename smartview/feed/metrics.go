package feed

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/smartview"
)

// metrics are the feed's own Prometheus metrics. Its state, lag and event
// counters are in the model's Health, exported by the gateway with the rest
// of the model (svgateway_model_feed_*).
type metrics struct {
	events     *prometheus.CounterVec
	byKind     [6][numOutcomes]prometheus.Counter // EventKind × Outcome, resolved once
	apply      prometheus.Histogram
	batch      prometheus.Histogram
	reconnects prometheus.Counter
	subOps     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_feed_events_total",
			Help: "Feed events received, by kind (alarm, tagpoint, power, environment, alert, unknown) and outcome (applied, unchanged, older, observed, not_in_model, malformed, unknown, duplicate).",
		}, []string{"kind", "outcome"}),
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "svgateway_feed_apply_duration_seconds",
			Help:    "Time to apply one batch of feed events to the model.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "svgateway_feed_batch_events",
			Help:    "Feed events applied per model update.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "svgateway_feed_reconnects_total",
			Help: "Times the feed connection was lost and re-established or retried.",
		}),
		subOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_feed_subscription_operations_total",
			Help: "SmartView Subscriptions API operations, by operation (get, list, create, update, delete) and result (ok, error).",
		}, []string{"op", "result"}),
	}
	for k := range m.byKind {
		for o := Outcome(0); o < numOutcomes; o++ {
			m.byKind[k][o] = m.events.WithLabelValues(smartview.EventKind(k).String(), o.String())
		}
	}
	return m
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.events, m.apply, m.batch, m.reconnects, m.subOps} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) applied(d time.Duration, events []*event, outcomes []Outcome) {
	m.apply.Observe(d.Seconds())
	m.batch.Observe(float64(len(events)))
	for i, e := range events {
		k := int(e.kind)
		if k < 0 || k >= len(m.byKind) {
			k = 0
		}
		m.byKind[k][outcomes[i]].Inc()
	}
}
