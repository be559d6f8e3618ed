package backfill

// The backfill's Prometheus metrics: how many gaps, calls and samples it cost and added.

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	gaps    *prometheus.CounterVec
	calls   *prometheus.CounterVec
	samples *prometheus.CounterVec
	fetched *prometheus.CounterVec
	pending prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_history_backfill_gaps_total",
			Help: "History gaps looked for, by reason (start, outage).",
		}, []string{"reason"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_history_backfill_calls_total",
			Help: "Trending calls made to fill history gaps, by kind (power, environment, tag) and result (ok, failed, not_served).",
		}, []string{"kind", "result"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_history_backfill_samples_total",
			Help: "Samples added to the history from trending, by kind (never one the history held).",
		}, []string{"kind"}),
		fetched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_history_backfill_fetched_total",
			Help: "Samples received from trending, by kind (the gaps' size at the trending interval; more than were added when values repeat).",
		}, []string{"kind"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "svgateway_history_backfill_pending_series",
			Help: "Series of the current gap not filled yet.",
		}),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.gaps, m.calls, m.samples, m.fetched, m.pending} {
		if err := r.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}
