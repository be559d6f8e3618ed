package backfill

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
	"github.com/svgateway/svgateway/smartview/poll"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// logs records the messages of a logger, with their attributes as text.
type logs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logs) WithGroup(string) slog.Handler      { return l }

// count is how many messages start with prefix and contain every one of parts.
func (l *logs) count(prefix string, parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) && !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(m, p) }) {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rig is a sandbox, a client and a poller feeding a model, a history store and its recorder: the
// gateway's pieces that a backfill works between.
type rig struct {
	sb      *sandbox.Server
	client  *smartview.Client
	poller  *poll.Poller
	model   *model.Store
	history *history.Store
	path    string
	lag     time.Duration // the backfill's Lag; zero: a minute
}

func newRig(t *testing.T, served string) *rig {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Profile: "small", Catalog: served}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	id, secret, _, _ := sb.Credentials()
	c := smartview.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, AccountNo: sb.AccountNo(), IBXs: sb.IBXs(),
		RateLimit: -1, MaxAttempts: 1, Catalog: smartview.CatalogAuto}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := smartview.New(c, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pcfg := poll.Config{}
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := poll.New(pcfg, client, ms, sb.IBXs(), poll.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{sb: sb, client: client, poller: p, model: ms, path: filepath.Join(t.TempDir(), "history.db")}
	r.open(t)
	return r
}

func (r *rig) open(t *testing.T) {
	t.Helper()
	hs, err := history.Open(history.Options{Path: r.path, Retention: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r.history = hs
}

// restart is the gateway starting again: the history file closed and opened, then the first sync.
func (r *rig) restart(t *testing.T) {
	t.Helper()
	r.history.Close()
	r.open(t)
	r.poller.Cycle(context.Background(), false)
}

func (r *rig) cycle(t *testing.T, want model.UpstreamState) {
	t.Helper()
	r.poller.Cycle(context.Background(), true)
	if got := r.model.Snapshot().Health().Upstream; got != want {
		t.Fatalf("upstream %v after a cycle, want %v", got, want)
	}
}

// start runs the recorder and a backfiller until the returned stop is called; set changes the
// backfill's configuration.
func (r *rig) start(t *testing.T, log *logs, set ...func(*history.BackfillConfig)) (reg *prometheus.Registry, stop func()) {
	t.Helper()
	cfg := history.BackfillConfig{Enabled: true, PointsPerCycle: 7, CyclePause: time.Millisecond, Concurrency: 3, Rate: 500}
	for _, f := range set {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	reg = prometheus.NewRegistry()
	lag := r.lag
	if lag == 0 {
		lag = time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, svc := range []interface{ Run(context.Context) error }{
		&history.Recorder{Store: r.history, Model: r.model, FlushInterval: 10 * time.Millisecond},
		&Backfiller{Client: r.client, Store: r.history, Model: r.model, Config: cfg, Lag: lag,
			Logger: slog.New(log), Registerer: reg},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- svc.Run(ctx) }()
	}
	return reg, func() {
		cancel()
		wg.Wait()
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("service returned %v", err)
			}
		}
	}
}

// series are the keys and trending points of a numeric tag, an IBX's kVA and its temperature.
func (r *rig) series(t *testing.T) map[string]smartview.TrendPoint {
	t.Helper()
	snap := r.model.Snapshot()
	st := snap.Structure()
	out := map[string]smartview.TrendPoint{}
	for i, tg := range st.Tags() {
		if v := snap.Tag(i).Value; v.IsNum {
			out[history.TagKey(tg.ID)] = ingest.TagTrendPoint(tg.IBX, tg.ID)
			break
		}
	}
	for _, loc := range st.Locations() {
		if loc.ID.Level == model.LevelIBX {
			p, _ := ingest.PowerTrendPoint(loc.ID)
			out[history.LocationKey(loc.ID, "KVA")] = p
			out[history.LocationKey(loc.ID, "Temperature")] = ingest.EnvironmentTrendPoints(loc.ID)[0]
			break
		}
	}
	if len(out) != 3 {
		t.Fatalf("the sandbox model lacks a numeric tag or an IBX: %v", out)
	}
	return out
}

// checkFilled checks that over (from, to) the history of key holds what trending says: at every
// time of the trending series, the value in force (the last sample at or before it) is trending's,
// and every sample stored on the trending grid is a change of value. It returns how many samples
// of the grid the range holds.
func (r *rig) checkFilled(t *testing.T, key string, p smartview.TrendPoint, from, to time.Time) int {
	t.Helper()
	interval, _ := Interval(p.Kind, history.ResolutionFine)
	s, err := r.client.Trending(context.Background(), p, from, to, interval)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]model.Value{}
	var changes int
	for i, smp := range s.Samples {
		v := ingest.Value(smp.Value)
		want[smp.Time.UnixMilli()] = v
		if i == 0 || !ingest.Value(s.Samples[i-1].Value).Equal(v) {
			changes++
		}
		at, ok, err := r.history.Nearest(key, smp.Time, true)
		if err != nil || !ok || !at.Value.Equal(v) {
			t.Errorf("%s at %s: history has %v (sample of %s), trending %v", key, smp.Time, at.Value, at.Time, v)
			return 0
		}
	}
	var grid int
	stored, _, _ := r.history.Read(key, history.Query{From: from, To: to})
	for _, smp := range stored {
		if !onGrid(smp.Time) {
			continue
		}
		grid++
		if v, ok := want[smp.Time.UnixMilli()]; !ok || !v.Equal(smp.Value) || smp.Quality != model.QualityGood {
			t.Errorf("%s: sample %+v is not trending's", key, smp)
		}
	}
	if grid > changes || grid < changes-1 { // the first may equal the sample before the range
		t.Errorf("%s: %d samples on the grid for %d changes of trending's value", key, grid, changes)
	}
	return grid
}

func (r *rig) read(t *testing.T, key string) []history.Sample {
	t.Helper()
	s, _, err := r.history.Read(key, history.Query{From: time.Now().Add(-4 * time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// onGrid reports whether t is on the 5-minute grid the sandbox's trending answers on.
func onGrid(t time.Time) bool { return t.UnixMilli()%(5*60*1000) == 0 }

// awayFromGridEdge waits (at most 45 s) until the clock is at least 15 s past a point of trending's
// 5-minute grid and 30 s before the next. The retention's start moves with the clock: a test that
// fills the retention and restarts across a grid point sees its oldest sample leave the retention
// between the two starts, and the restart fill the retention's head again (a failure of the
// first-start and restart checks below seen at 02:10:00, never away from a grid point).
func awayFromGridEdge(t *testing.T) {
	t.Helper()
	const grid = 5 * time.Minute
	if in := time.Since(time.Now().Truncate(grid)); in < 15*time.Second || in > grid-30*time.Second {
		wait := (grid - in + 15*time.Second) % grid
		t.Logf("waiting %s, away from a grid point of trending", wait.Round(time.Second))
		time.Sleep(wait)
	}
}

// TestBackfillAtStartThenOnlyTheGap: a gateway starting with an empty history fills the
// retention from trending; restarted after it was down (its last 40 minutes of history gone), it
// fills only those 40 minutes and stores nothing twice; an outage of upstream then starts one
// more gap.
func TestBackfillAtStartThenOnlyTheGap(t *testing.T) {
	awayFromGridEdge(t)
	r := newRig(t, sandbox.CatalogBoth)
	r.cycle(t, model.UpstreamOK)
	keys := r.series(t)

	log := &logs{}
	reg, stop := r.start(t, log)
	waitFor(t, "the start's gap filled", func() bool { return log.count("history backfill: done", "reason=start") == 1 })
	stop()
	if n := log.count("history backfill: filling gaps", "reason=start"); n != 1 {
		t.Errorf("%d log lines for the start's gap, want 1: %v", n, log.msgs)
	}
	first := map[string][]history.Sample{}
	for key, p := range keys {
		s := r.read(t, key)
		if len(s) == 0 {
			t.Fatalf("%s: no history", key)
		}
		// The oldest sample is trending's at the retention's start.
		if oldest := s[0].Time; !onGrid(oldest) || oldest.Before(time.Now().Add(-3*time.Hour)) || oldest.After(time.Now().Add(-3*time.Hour+6*time.Minute)) {
			t.Errorf("%s: oldest sample at %s, want on the grid within the retention's first 5 minutes", key, oldest)
		}
		live := s[len(s)-1].Time
		if n := r.checkFilled(t, key, p, s[0].Time, live.Add(-time.Millisecond)); n < 2 {
			t.Errorf("%s: %d samples backfilled", key, n)
		}
		first[key] = s
	}

	// The gateway was "down" for the last 40 minutes: what it recorded then is gone.
	cut := time.Now().Add(-40 * time.Minute)
	if _, err := r.history.DropAfter(cut); err != nil {
		t.Fatal(err)
	}
	r.restart(t)
	log2 := &logs{}
	reg2, stop2 := r.start(t, log2)
	waitFor(t, "the restart's gap filled", func() bool { return log2.count("history backfill: done", "reason=start") == 1 })
	for key, p := range keys {
		s := r.read(t, key)
		var kept []history.Sample
		for _, smp := range s {
			if !smp.Time.After(cut) {
				kept = append(kept, smp)
			}
		}
		var want []history.Sample
		for _, smp := range first[key] {
			if !smp.Time.After(cut) {
				want = append(want, smp)
			}
		}
		if !slices.EqualFunc(kept, want, func(a, b history.Sample) bool { return a.Time.Equal(b.Time) && a.Value.Equal(b.Value) }) {
			t.Errorf("%s: the history before the gap changed: %d samples, had %d", key, len(kept), len(want))
		}
		// The gap is filled up to the first sample recorded live after the restart.
		live := s[len(s)-1].Time
		r.checkFilled(t, key, p, kept[len(kept)-1].Time, live.Add(-time.Millisecond))
	}
	// Only the gap was added: a few samples per series, not the retention again.
	var m1, m2 float64
	for _, kind := range []string{"power", "environment", "tag"} {
		m1 += sampleCount(t, reg, kind)
		m2 += sampleCount(t, reg2, kind)
	}
	if m2 == 0 || m2*3 > m1 {
		t.Errorf("restart added %v samples, the first start %v: want only the 40-minute gap (about 40/180)", m2, m1)
	}
	// And asked only for the gap: trending answered about 40/180 of what it did at the first start.
	var f1, f2 float64
	for _, kind := range []string{"power", "environment", "tag"} {
		f1 += metric(t, reg, "svgateway_history_backfill_fetched_total", kind)
		f2 += metric(t, reg2, "svgateway_history_backfill_fetched_total", kind)
	}
	if f2 == 0 || f2*3 > f1 {
		t.Errorf("restart fetched %v samples, the first start %v: want only the 40-minute gap (about 40/180)", f2, f1)
	}
	for _, l := range log.msgs {
		if strings.HasPrefix(l, "history backfill: done") {
			t.Log(l)
		}
	}
	t.Logf("first start: %v samples fetched, %v added; restart: %v fetched, %v added", f1, m1, f2, m2)

	// Upstream down, then back: one more gap, logged once.
	r.sb.SetFaults(sandbox.Faults{Unavailable: 1})
	r.cycle(t, model.UpstreamDown)
	r.sb.SetFaults(sandbox.Faults{})
	r.cycle(t, model.UpstreamOK)
	waitFor(t, "the outage's gap looked at", func() bool {
		return log2.count("history backfill: done", "reason=outage")+log2.count("history backfill: no gap", "reason=outage") == 1
	})
	stop2()
	if n := metric(t, reg2, "svgateway_history_backfill_gaps_total", "outage"); n != 1 {
		t.Errorf("outage gaps = %v, want 1", n)
	}
}

// TestBackfillAfterAShortStop: restarted after a stop shorter than the lag of a reading's source
// time (the sync's stale_after), the gateway fills the gap since the stop. The start's line
// between the two runs' samples is then where the previous run stopped recording, not the start
// less the lag: the previous run's samples after that (backfilled or live) closed the gap there,
// and the minutes between the stop and the restart stayed empty.
func TestBackfillAfterAShortStop(t *testing.T) {
	awayFromGridEdge(t)
	r := newRig(t, sandbox.CatalogBoth)
	r.cycle(t, model.UpstreamOK)
	keys := r.series(t)
	if _, ok := r.history.RecordedUntil(); ok {
		t.Error("a new file says where it was recorded until")
	}
	log := &logs{}
	_, stop := r.start(t, log)
	waitFor(t, "the start's gap filled", func() bool { return log.count("history backfill: done", "reason=start") == 1 })
	stop()

	// The gateway stopped 20 minutes ago, and restarts with a lag of an hour.
	cut := time.Now().Add(-20 * time.Minute).Truncate(time.Millisecond)
	if _, err := r.history.DropAfter(cut); err != nil {
		t.Fatal(err)
	}
	r.restart(t)
	if until, ok := r.history.RecordedUntil(); !ok || !until.Equal(cut) {
		t.Errorf("recorded until %s (%v), want the drop's %s", until, ok, cut)
	}
	r.lag = time.Hour
	log2 := &logs{}
	_, stop2 := r.start(t, log2)
	waitFor(t, "the restart's gap looked at", func() bool {
		return log2.count("history backfill: done", "reason=start")+log2.count("history backfill: no gap", "reason=start") == 1
	})
	stop2()
	for key, p := range keys {
		s := r.read(t, key)
		i := len(s) - 1
		for i >= 0 && s[i].Time.After(cut) {
			i--
		}
		if i < 0 || i == len(s)-1 {
			t.Fatalf("%s: no sample before the stop, or none after it: %d samples", key, len(s))
		}
		// From the last sample before the stop to the first recorded live after the restart,
		// the history holds what trending says.
		r.checkFilled(t, key, p, s[i].Time, s[len(s)-1].Time.Add(-time.Millisecond))
	}
}

// TestBackfillResumesAfterAStop: a first start's fill stopped after its first series (a fill of
// a large footprint lasts hours) is kept in the history file, and the next start does it again
// before its own gap: every series gets its history back to the retention's start, where the
// restart alone looked at the gap since the stop and left the series not reached without it.
func TestBackfillResumesAfterAStop(t *testing.T) {
	awayFromGridEdge(t)
	r := newRig(t, sandbox.CatalogBoth)
	r.cycle(t, model.UpstreamOK)
	keys := r.series(t)
	log := &logs{}
	reg, stop := r.start(t, log, func(c *history.BackfillConfig) { c.PointsPerCycle, c.CyclePause = 1, time.Hour })
	waitFor(t, "the first series filled", func() bool {
		return metric(t, reg, "svgateway_history_backfill_fetched_total", "power")+
			metric(t, reg, "svgateway_history_backfill_fetched_total", "environment")+
			metric(t, reg, "svgateway_history_backfill_fetched_total", "tag") > 0
	})
	stop()
	if n := log.count("history backfill: stopped", "reason=start"); n != 1 {
		t.Fatalf("the first start's fill was not stopped: %v", log.msgs)
	}
	if fills, err := r.history.Fills(); err != nil || len(fills) != 1 || fills[0].Reason != "start" {
		t.Fatalf("fills kept: %+v, %v; want the start's", fills, err)
	}

	r.restart(t)
	log2 := &logs{}
	_, stop2 := r.start(t, log2)
	waitFor(t, "the resumed fill and the restart's done", func() bool {
		return log2.count("history backfill: done", "reason=resumed") == 1 &&
			log2.count("history backfill: done", "reason=start")+log2.count("history backfill: no gap", "reason=start") == 1
	})
	stop2()
	if n := log2.count("history backfill: resuming a fill", "of=start"); n != 1 {
		t.Errorf("%d lines resuming the first start's fill, want 1: %v", n, log2.msgs)
	}
	for key, p := range keys {
		s := r.read(t, key)
		if len(s) == 0 {
			t.Fatalf("%s: no history", key)
		}
		if oldest := s[0].Time; !onGrid(oldest) || oldest.After(time.Now().Add(-3*time.Hour+6*time.Minute)) {
			t.Errorf("%s: oldest sample at %s, want on the grid within the retention's first 5 minutes", key, oldest)
		}
		r.checkFilled(t, key, p, s[0].Time, s[len(s)-1].Time.Add(-time.Millisecond))
	}
	if fills, err := r.history.Fills(); err != nil || len(fills) != 0 {
		t.Errorf("fills kept after they were done: %+v, %v", fills, err)
	}
}

func sampleCount(t *testing.T, reg prometheus.Gatherer, kind string) float64 {
	t.Helper()
	return metric(t, reg, "svgateway_history_backfill_samples_total", kind)
}

// metric is the sum of the counters of metric name that have a label of this value.
func metric(t *testing.T, reg prometheus.Gatherer, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					v += m.GetCounter().GetValue()
				}
			}
		}
	}
	return v
}

// TestBackfillWithoutTrending: against an account of the documented catalog the backfill finds
// trending not served, says so once, fills nothing, and keeps running through the next gap.
func TestBackfillWithoutTrending(t *testing.T) {
	r := newRig(t, sandbox.CatalogDocumented)
	r.cycle(t, model.UpstreamOK)
	keys := r.series(t)
	log := &logs{}
	reg, stop := r.start(t, log)
	waitFor(t, "the start's gap looked at", func() bool { return log.count("history backfill: done", "reason=start") == 1 })
	r.sb.SetFaults(sandbox.Faults{Unavailable: 1})
	r.cycle(t, model.UpstreamDown)
	r.sb.SetFaults(sandbox.Faults{})
	r.cycle(t, model.UpstreamOK)
	waitFor(t, "the outage's gap looked at", func() bool { return log.count("history backfill: done", "reason=outage") == 1 })
	stop()
	if n := log.count("history backfill: the account does not serve trending"); n != 1 {
		t.Errorf("%d lines saying trending is not served, want 1: %v", n, log.msgs)
	}
	if n := sampleCount(t, reg, "power") + sampleCount(t, reg, "environment") + sampleCount(t, reg, "tag"); n != 0 {
		t.Errorf("%v samples backfilled without trending", n)
	}
	for key := range keys {
		for _, smp := range r.read(t, key) {
			if onGrid(smp.Time) && smp.Time.Before(time.Now().Add(-10*time.Minute)) {
				t.Errorf("%s: a sample at %s without trending", key, smp.Time)
			}
		}
	}
}

// TestBackfillRetries: a series whose trending calls fail is tried again, Retries times per gap,
// after the other series of its cycle; one that keeps failing is given up (and counted so), one
// that then answers is filled; the pending gauge counts down to zero.
func TestBackfillRetries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    float64 // fraction of trending calls answered 500
		retries int
	}{
		{"every call fails", 1, 2},
		{"half the calls fail", 0.5, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, sandbox.CatalogBoth)
			r.cycle(t, model.UpstreamOK) // the model, and the client's token, before the faults
			keys := r.series(t)
			r.sb.SetFaults(sandbox.Faults{ServerError: tc.fail})
			log := &logs{}
			reg, stop := r.start(t, log, func(c *history.BackfillConfig) { c.Retries = tc.retries })
			var pendingMax float64
			waitFor(t, "the start's gap filled", func() bool {
				pendingMax = max(pendingMax, gauge(t, reg, "svgateway_history_backfill_pending_series"))
				return log.count("history backfill: done", "reason=start") == 1
			})
			r.sb.SetFaults(sandbox.Faults{})
			stop()
			series := logged(t, log, "history backfill: filling gaps", "series")
			done := logged(t, log, "history backfill: done", "failed")
			failed := metric(t, reg, "svgateway_history_backfill_calls_total", "failed")
			ok := metric(t, reg, "svgateway_history_backfill_calls_total", "ok")
			if p := gauge(t, reg, "svgateway_history_backfill_pending_series"); p != 0 || pendingMax == 0 || pendingMax > float64(series) {
				t.Errorf("pending series: %v at the end, at most %v seen during a fill of %d series", p, pendingMax, series)
			}
			if tc.fail == 1 {
				if failed != float64(series*(tc.retries+1)) || ok != 0 || done != series {
					t.Errorf("%v calls failed, %v answered, %d series given up; want %d failed (%d series × %d tries), 0, %d",
						failed, ok, done, series*(tc.retries+1), series, tc.retries+1, series)
				}
				return
			}
			if failed == 0 || ok != float64(series) || done != 0 {
				t.Errorf("%v calls failed, %v answered, %d series given up; want some, %d, 0", failed, ok, done, series)
			}
			for key, p := range keys {
				s := r.read(t, key)
				if n := r.checkFilled(t, key, p, s[0].Time, s[len(s)-1].Time.Add(-time.Millisecond)); n < 2 {
					t.Errorf("%s: %d samples backfilled", key, n)
				}
			}
		})
	}
}

// logged is the integer attribute key of the one log line starting with prefix.
func logged(t *testing.T, l *logs, prefix, key string) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if !strings.HasPrefix(m, prefix) {
			continue
		}
		for _, f := range strings.Fields(m) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("%s: %v", m, err)
				}
				return n
			}
		}
	}
	t.Fatalf("no line %q with %s in %v", prefix, key, l.msgs)
	return 0
}

// gauge is the value of gauge name.
func gauge(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// TestFillLetsGoOfAReplacedStructure: a fill lasts hours on a large footprint, and the links pass
// replaces the structure right after the start's fill begins. The fill must move its jobs to the
// new structure at once, not at the end of its batch, so the old one (~30 MB on the large profile,
// with the SNMP tree and the recorder's slots built on it) is collected while the fill goes on.
func TestFillLetsGoOfAReplacedStructure(t *testing.T) {
	r := newRig(t, sandbox.CatalogBoth)
	r.cycle(t, model.UpstreamOK)
	log := &logs{}
	// One batch for the whole fill, paced slowly: before, the batch held its structure to its end.
	reg, stop := r.start(t, log, func(c *history.BackfillConfig) { c.PointsPerCycle, c.Rate, c.Concurrency = 100000, 50, 1 })
	defer stop()
	waitFor(t, "the start's fill", func() bool { return log.count("history backfill: filling gaps", "reason=start") == 1 })
	calls := func() float64 { return metric(t, reg, "svgateway_history_backfill_calls_total", "ok") }
	waitFor(t, "the fill's first calls", func() bool { return calls() > 0 })
	old := weak.Make(r.model.Snapshot().Structure())
	gone := r.sb.IBXs()[0]
	if _, err := r.model.Update(func(tx *model.Tx) error { tx.RemoveIBX(gone); return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replaced structure collected", func() bool { runtime.GC(); return old.Value() == nil })
	if log.count("history backfill: done") != 0 {
		t.Fatal("the replaced structure was held until the fill ended")
	}
	at := calls()
	waitFor(t, "the fill going on after the change", func() bool { return calls() > at+2 })
	if pending := gauge(t, reg, "svgateway_history_backfill_pending_series"); pending == 0 {
		t.Errorf("no series pending after the change: %v", pending)
	}
}

// TestJobsFollowAStructureChange: the gaps are listed (one store read per series: minutes on
// xlarge) while the structure changes. The jobs come back on the current structure, and are what
// a listing on it gives.
func TestJobsFollowAStructureChange(t *testing.T) {
	shape := modeltest.Shape{IBXs: 2, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 1, Tags: 3000}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	hs := store(t, nil)
	b := &Backfiller{Store: hs, Model: ms, Config: history.BackfillConfig{Resolution: history.ResolutionFine}}
	cutoff, floor := t0.Add(-time.Hour), t0.Add(-90*time.Minute)
	// The listing looks at its context every 1,024 series: the change lands at the second look,
	// with the first IBX's series listed and the second's to come (their indexes all move).
	ctx := &changeAt{Context: context.Background(), at: 2, change: func() {
		if _, err := ms.Update(func(tx *model.Tx) error { tx.RemoveIBX(modeltest.IBX(0)); return nil }); err != nil {
			t.Error(err)
		}
	}}
	got, _, st, err := b.jobs(ctx, cutoff, floor, t0)
	if err != nil || ctx.looks < 3 {
		t.Fatalf("%v after %d looks at the context", err, ctx.looks)
	}
	cur := ms.Snapshot().Structure()
	if st != cur {
		t.Fatal("the jobs refer to the structure the listing began with, not the current one")
	}
	want, _, _, err := b.jobs(context.Background(), cutoff, floor, t0)
	if err != nil || len(want) < 3000 {
		t.Fatalf("%d jobs, %v", len(want), err)
	}
	if !slices.EqualFunc(got, want, func(a, b job) bool { return a.index == b.index && a.series == b.series }) {
		t.Fatalf("%d jobs after the change, %d in a listing on the current structure, or not the same", len(got), len(want))
	}
}

// changeAt is a context that runs change when its Err is called the at-th time.
type changeAt struct {
	context.Context
	at, looks int
	change    func()
}

func (c *changeAt) Err() error {
	if c.looks++; c.looks == c.at {
		c.change()
	}
	return c.Context.Err()
}
