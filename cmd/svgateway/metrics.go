package main

import (
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp"
	"github.com/svgateway/svgateway/snmp/notify"
)

// modelCollector exports the model's object counts and health, read from the
// current snapshot at scrape time. Each state is exported once: the upstream
// and feed states here (one series per state, 1 for the current one); feed
// event counts by the feed package (svgateway_feed_events_total{kind,outcome}).
type modelCollector struct {
	store *model.Store

	locations, assets, tags, alarms, alerts *prometheus.Desc
	upstream, lastSync, feedState, feedLag  *prometheus.Desc
	persistOK, persistFailing               *prometheus.Desc

	counts structureCounts
}

// structureCounts holds what a scrape counts over every location of a
// structure (~110,000 on the large profile, counted twice a scrape, one map
// increment each: ~2 ms of a scrape's ~4). A structure never changes once
// built, so its counts are made at the first scrape that sees it and reused
// until the model has another. Collect may run in concurrent scrapes.
type structureCounts struct {
	mu      sync.Mutex
	st      *model.Structure
	levels  [][model.LevelSensor + 1]int // by IBX in st.IBXs() order, by level
	origins [][model.OriginAlarm + 1]int // by IBX, by origin
}

// of returns st's counts by IBX (in st.IBXs() order); the caller must not
// modify them.
func (c *structureCounts) of(st *model.Structure) (levels [][model.LevelSensor + 1]int, origins [][model.OriginAlarm + 1]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st != st {
		ibxs := st.IBXs()
		c.levels = make([][model.LevelSensor + 1]int, len(ibxs))
		c.origins = make([][model.OriginAlarm + 1]int, len(ibxs))
		for k, ibx := range ibxs {
			from, to := st.IBXLocations(ibx)
			for i := from; i < to; i++ {
				l := st.Location(i)
				if l.ID.Level <= model.LevelSensor {
					c.levels[k][l.ID.Level]++
				}
				if l.Discovered <= model.OriginAlarm {
					c.origins[k][l.Discovered]++
				}
			}
		}
		c.st = st
	}
	return c.levels, c.origins
}

// persistComponents are the state_dir writers the persist metrics always
// list (others appear while they fail).
var persistComponents = []string{model.LedgerComponent, notify.OutboxComponent, snmp.IndexComponent}

func newModelCollector(store *model.Store) *modelCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("svgateway_"+name, help, labels, nil)
	}
	return &modelCollector{
		store:          store,
		locations:      d("model_locations", "Locations in the model, by IBX and level.", "ibx", "level"),
		assets:         d("model_assets", "Assets in the model, by IBX.", "ibx"),
		tags:           d("model_tags", "Tag points in the model, by IBX.", "ibx"),
		alarms:         d("model_alarms", "Alarms known to the gateway, by state.", "state"),
		alerts:         d("model_alerts", "Alerts known to the gateway."),
		upstream:       d("model_upstream_up", "1 for the current state of the SmartView REST connection.", "state"),
		lastSync:       d("model_last_sync_timestamp_seconds", "Unix time of the last complete, successful sync cycle (0: none yet)."),
		feedState:      d("model_feed_up", "1 for the current state of the near-real-time feed.", "state"),
		feedLag:        d("model_feed_lag_seconds", "Now minus the newest source time seen in a feed event."),
		persistOK:      d("persist_ok", "1 while every save to state_dir succeeds, 0 while one fails (alarm notifications are then held)."),
		persistFailing: d("persist_failing", "1 while the last save of the component to state_dir failed.", "component"),
	}
}

func (c *modelCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.locations, c.assets, c.tags, c.alarms, c.alerts, c.upstream, c.lastSync, c.feedState, c.feedLag, c.persistOK, c.persistFailing} {
		ch <- d
	}
}

func (c *modelCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.store.Snapshot()
	st := snap.Structure()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	levels, _ := c.counts.of(st)
	for k, ibx := range st.IBXs() {
		for l := model.LevelIBX; l <= model.LevelSensor; l++ {
			gauge(c.locations, float64(levels[k][l]), ibx, l.String())
		}
		from, to := st.IBXAssets(ibx)
		gauge(c.assets, float64(to-from), ibx)
		from, to = st.IBXTags(ibx)
		gauge(c.tags, float64(to-from), ibx)
	}
	byState := map[model.AlarmState]int{}
	for _, a := range snap.Alarms() {
		byState[a.State]++
	}
	for _, s := range []model.AlarmState{model.AlarmActive, model.AlarmAcknowledged, model.AlarmCleared} {
		gauge(c.alarms, float64(byState[s]), s.String())
	}
	gauge(c.alerts, float64(len(snap.Alerts())))
	h := snap.Health()
	for _, s := range []model.UpstreamState{model.UpstreamStarting, model.UpstreamOK, model.UpstreamDegraded, model.UpstreamDown} {
		gauge(c.upstream, b2f(h.Upstream == s), s.String())
	}
	var last float64
	if !h.LastSync.IsZero() {
		last = float64(h.LastSync.UnixNano()) / 1e9
	}
	gauge(c.lastSync, last)
	for _, s := range []model.FeedState{model.FeedDisabled, model.FeedConnecting, model.FeedConnected, model.FeedDown} {
		gauge(c.feedState, b2f(h.Feed.State == s), s.String())
	}
	if !h.Feed.NewestEventTime.IsZero() {
		gauge(c.feedLag, time.Since(h.Feed.NewestEventTime).Seconds())
	}
	gauge(c.persistOK, b2f(h.Persist.OK()))
	for _, comp := range persistComponents {
		_, failing := h.Persist.Failing[comp]
		gauge(c.persistFailing, b2f(failing), comp)
	}
	for comp := range h.Persist.Failing {
		if !slices.Contains(persistComponents, comp) {
			gauge(c.persistFailing, 1, comp)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// newBuildInfoCollector exports svgateway_build_info{version,revision,goversion,build_date} 1,
// the convention of Prometheus exporters: join it to other series to see
// which version produced them.
func newBuildInfoCollector() prometheus.Collector {
	revision := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "svgateway_build_info",
		Help: "A metric with a constant '1' value labeled by the version, revision, Go version and build date of svgateway.",
		ConstLabels: prometheus.Labels{"version": buildVersion(), "revision": revision, "goversion": runtime.Version(),
			"build_date": builtAt()},
	}, func() float64 { return 1 })
}
