package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
)

// placesCollector exports what the model kept of the locations no hierarchy
// lists (discovered from readings, asset links and alarms) and what it could
// not place, read at scrape time.
type placesCollector struct {
	store                *model.Store
	discovered, unplaced *prometheus.Desc
	counts               structureCounts
}

func newPlacesCollector(store *model.Store) *placesCollector {
	return &placesCollector{store: store,
		discovered: prometheus.NewDesc("svgateway_model_discovered_locations",
			"Locations no hierarchy lists, kept because a reading, an asset link or an alarm named them, by IBX and origin.",
			[]string{"ibx", "origin"}, nil),
		unplaced: prometheus.NewDesc("svgateway_model_unplaced_total",
			"References to locations that could not be placed in the model (and are not served), by reason: no_ibx, ibx_not_in_model, no_level, no_name.",
			[]string{"reason"}, nil),
	}
}

func (c *placesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.discovered
	ch <- c.unplaced
}

func (c *placesCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.Snapshot().Structure()
	_, origins := c.counts.of(st)
	for k, ibx := range st.IBXs() {
		for _, o := range []model.Origin{model.OriginReading, model.OriginLink, model.OriginAlarm} {
			ch <- prometheus.MustNewConstMetric(c.discovered, prometheus.GaugeValue, float64(origins[k][o]), ibx, o.String())
		}
	}
	for reason, n := range c.store.Unplaced() {
		ch <- prometheus.MustNewConstMetric(c.unplaced, prometheus.CounterValue, float64(n), reason.String())
	}
}
