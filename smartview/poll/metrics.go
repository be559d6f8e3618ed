package poll

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
)

type metrics struct {
	cycleDuration *prometheus.HistogramVec
	cycles        *prometheus.CounterVec
	applied       *prometheus.CounterVec
}

// The upstream state is exported once, by the gateway's model collector
// (svgateway_model_upstream_up{state}), from the model's health.

func newMetrics() *metrics {
	return &metrics{
		cycleDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "svgateway_sync_duration_seconds",
			Help:    "Duration of sync cycles; kind is structure (structure and values) or values.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"kind"}),
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_sync_cycles_total",
			Help: "Sync cycles by kind and result (ok: every call succeeded).",
		}, []string{"kind", "result"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_sync_readings_total",
			Help: "Readings received by the sync, by what and outcome: applied (changed the model), confirmed (unchanged), older (newest wins: ignored), unknown (a tag or asset not in the structure, or a location that cannot be placed: see svgateway_model_unplaced_total).",
		}, []string{"what", "outcome"}),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.cycleDuration, m.cycles, m.applied} {
		if err := r.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}

func (m *metrics) cycle(kind string, d time.Duration, ok bool) {
	m.cycleDuration.WithLabelValues(kind).Observe(d.Seconds())
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.cycles.WithLabelValues(kind, result).Inc()
}

func (m *metrics) readings(what string, st model.TxStats, unknown int) {
	m.applied.WithLabelValues(what, "applied").Add(float64(st.Applied))
	m.applied.WithLabelValues(what, "confirmed").Add(float64(st.Confirmed))
	m.applied.WithLabelValues(what, "older").Add(float64(st.Older))
	m.applied.WithLabelValues(what, "unknown").Add(float64(unknown))
}
