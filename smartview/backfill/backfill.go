// Package backfill fills the gaps of the gateway's history (package history) from SmartView's
// trending endpoints: at start, and each time upstream comes back after an outage, every recorded
// series (power kVA and environment temperature and humidity per location, tag points) is asked
// for what the history lacks between the last sample before the gap and the first one after it,
// within the retention, and the answer is added with history.Store.Backfill, which never stores a
// (series, time) twice.
//
// The work is bounded so the sync's values cycle is never starved: at most PointsPerCycle series
// per cycle, a pause between cycles, Concurrency calls in flight, Rate calls per second, and a
// failed series retried at most Retries times per gap. An account without trending
// (smartview.ErrNotServed) is logged once and costs nothing after that; a backfill never fails the
// gateway nor its readiness.
//
// It must not write the model (the live values are the poller's and the feed's) nor record live
// values (the history recorder does).
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// Backfiller fills history gaps. Run it as a service.
type Backfiller struct {
	Client *smartview.Client
	Store  *history.Store
	Model  *model.Store
	Config history.BackfillConfig // validated
	// Lag is how far a reading's source time may trail the moment it is received (the sync's
	// stale_after): at start, samples recorded live are told from the last ones before the
	// start by it.
	Lag        time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics not registered

	log        *slog.Logger
	m          *metrics
	notServed  map[smartview.TrendKind]bool // logged once each
	notServedM sync.Mutex
}

// job is one series to fill, held compactly (12 bytes: a fill of the large profile lists about
// 210,000, and holds them for hours): the series by its index in the structure of the fill's
// current snapshot (moved by follow when the structure changes) and which of its series, and its
// gap by its place in the fill's table of distinct gaps (see gaps). The trending point, the series
// key and the unit are made from the snapshot when the job runs (see spec).
type job struct {
	index    int32 // of the location or the tag
	gap      int32 // in the fill's gaps
	series   series
	attempts uint8 // Retries is at most 100
}

// span is a gap as the jobs share it (32 bytes): its bounds (Gap.From, Gap.To) as Unix ns and
// the value in force at its start (Gap.Before.Value, when flags has hasBefore; its text by its
// place in the table's texts, 0 for none). Series often share one: at the first start every
// series has the same gap (from the retention horizon to the start, no value before it), and
// after an outage those whose value held steady share theirs.
type span struct {
	from, to  int64
	beforeNum float64
	text      int32 // in gaps.texts
	flags     uint8 // hasBefore, beforeIsNum
}

const (
	hasBefore = 1 << iota
	beforeIsNum
)

// gaps is a fill's table of distinct gaps, built while its jobs are listed.
type gaps struct {
	spans []span
	texts []string // distinct texts of the values before the gaps; texts[0] is ""
	index map[span]int32
	texti map[string]int32 // find spans and texts while listing; nil after
}

// add returns the place of g's span in the table, adding it if new.
func (t *gaps) add(g Gap) int32 {
	if t.index == nil {
		t.index, t.texti, t.texts = map[span]int32{}, map[string]int32{"": 0}, []string{""}
	}
	sp := span{from: g.From.UnixNano(), to: g.To.UnixNano()}
	if g.HasBefore {
		sp.flags |= hasBefore
		sp.beforeNum = g.Before.Value.Num
		if g.Before.Value.IsNum {
			sp.flags |= beforeIsNum
		}
		text, ok := t.texti[g.Before.Value.Text]
		if !ok {
			text = int32(len(t.texts))
			t.texts = append(t.texts, g.Before.Value.Text)
			t.texti[g.Before.Value.Text] = text
		}
		sp.text = text
	}
	if i, ok := t.index[sp]; ok {
		return i
	}
	i := int32(len(t.spans))
	t.spans = append(t.spans, sp)
	t.index[sp] = i
	return i
}

// done drops what add needs to find entries and copies the table to its size: it lives for the
// whole fill (hours on a large footprint), and append's slack is up to a quarter.
func (t *gaps) done() {
	t.spans, t.texts, t.index, t.texti = slices.Clone(t.spans), slices.Clone(t.texts), nil, nil
}

// gap returns span i as a Gap (its Before holds the value, not the time: Convert needs no more).
func (t *gaps) gap(i int32) Gap {
	sp := &t.spans[i]
	g := Gap{From: time.Unix(0, sp.from).UTC(), To: time.Unix(0, sp.to).UTC(), HasBefore: sp.flags&hasBefore != 0}
	if g.HasBefore {
		g.Before.Value = model.Value{Num: sp.beforeNum, Text: t.texts[sp.text], IsNum: sp.flags&beforeIsNum != 0}
	}
	return g
}

// series is which series of a location or tag a job fills.
type series uint8

const (
	seriesPower       series = iota // a location's power kVA
	seriesTemperature               // a location's environment temperature
	seriesHumidity                  // a location's environment humidity
	seriesTag                       // a tag's value
)

// field is the history field of a location's series (LocationKey); "" for a tag's.
func (s series) field() string {
	switch s {
	case seriesPower:
		return "KVA"
	case seriesTemperature:
		return "Temperature"
	case seriesHumidity:
		return "Humidity"
	}
	return ""
}

// kind is the trending kind of a series.
func (s series) kind() smartview.TrendKind {
	switch s {
	case seriesPower:
		return smartview.TrendPower
	case seriesTag:
		return smartview.TrendTag
	}
	return smartview.TrendEnvironment
}

// spec is what a job fills, made from the structure the jobs are listed against (st): the
// trending point, the gap (from the fill's table) and the model's unit of the reading
// (environment, read from cur, the current snapshot, by the location's id; "" when unknown).
func (j *job) spec(gt *gaps, st *model.Structure, cur *model.Snapshot) (p smartview.TrendPoint, g Gap, unit string) {
	g = withKey(gt.gap(j.gap), j.key(st))
	if j.series == seriesTag {
		tg := st.Tag(int(j.index))
		return ingest.TagTrendPoint(tg.IBX, tg.ID), g, ""
	}
	id := st.Location(int(j.index)).ID
	switch j.series {
	case seriesPower:
		p, _ = ingest.PowerTrendPoint(id)
		return p, g, ""
	case seriesTemperature:
		return envPoint(id, "temperature"), g, envUnit(cur, id, true)
	}
	return envPoint(id, "humidity"), g, envUnit(cur, id, false)
}

// key is the history key of the job's series in st.
func (j *job) key(st *model.Structure) string {
	if j.series == seriesTag {
		return history.TagKey(st.Tag(int(j.index)).ID)
	}
	return history.LocationKey(st.Location(int(j.index)).ID, j.series.field())
}

// envUnit is the unit of the temperature (or humidity) reading of location id in snap.
func envUnit(snap *model.Snapshot, id model.LocationID, temperature bool) string {
	i, ok := snap.Structure().LocationIndex(id)
	if !ok {
		return ""
	}
	e := snap.Environment(i)
	if temperature {
		return e.TemperatureUnit
	}
	return e.HumidityUnit
}

func withKey(g Gap, key string) Gap { g.Key = key; return g }

// follow moves jobs listed against the structure from onto the structure to: each keeps its
// series by id, and a job whose location or tag is gone is dropped. It reuses the slice.
func follow(jobs []job, from, to *model.Structure) []job {
	if from == to {
		return jobs
	}
	out := jobs[:0]
	for _, j := range jobs {
		var i int
		var ok bool
		if j.series == seriesTag {
			i, ok = to.TagIndex(from.Tag(int(j.index)).ID)
		} else {
			i, ok = to.LocationIndex(from.Location(int(j.index)).ID)
		}
		if ok {
			j.index = int32(i)
			out = append(out, j)
		}
	}
	return out
}

// envPoint is the environment trending point of a location for a data point.
func envPoint(id model.LocationID, dataPoint string) smartview.TrendPoint {
	for _, p := range ingest.EnvironmentTrendPoints(id) {
		if p.DataPoint == dataPoint {
			return p
		}
	}
	return smartview.TrendPoint{}
}

// Run does the fills a stop interrupted (kept in the history file), fills the gap left before
// the start, then one per outage, until ctx is done. It returns nil on cancellation and never
// fails otherwise.
func (b *Backfiller) Run(ctx context.Context) error {
	b.log = b.Logger
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.m = newMetrics()
	if b.Registerer != nil {
		if err := b.m.register(b.Registerer); err != nil {
			return err
		}
	}
	b.notServed = map[smartview.TrendKind]bool{}
	start := time.Now()
	// The loop keeps the health it looks at, not a snapshot: a fill lasts hours, and a snapshot
	// held across values cycles keeps every reading it was taken with alive beside the current ones.
	snap, sub := b.Model.Subscribe()
	h := snap.Health()
	// pending is the gap to fill once upstream answers; nil: none. At start, the
	// line between the previous run's samples and this run's: the start less the lag (this
	// run's first readings carry source times up to that far back), or, after a stop shorter
	// than the lag, where the previous run's recording stopped (marks.go in history): the
	// previous run's samples after start-lag would otherwise close the gap since its stop.
	//
	// The start's fill is kept in the file at once, so that a stop before upstream answers, or
	// during the fills a previous stop interrupted (resume, done first), does not lose it. How
	// far the recording went (its Floor) is found when it begins: finding it merges the
	// previous run's log, work kept off the cold start; a fill resumed without it asks trending
	// for more than the gap (a steady series' since its last sample), never for less.
	pending := &history.Fill{Cutoff: start.Add(-b.Lag), Reason: "start"}
	if until, ok := b.Store.RecordedUntil(); ok && until.After(pending.Cutoff) && until.Before(start) {
		pending.Cutoff = until
	}
	resume, err := b.Store.Fills()
	if err != nil {
		b.log.Warn("history backfill: the fills a stop interrupted not read; not resumed", "err", err)
	}
	b.keep(*pending)
	var (
		downSince time.Time // when upstream stopped answering; zero while it answers
		okSince   time.Time // the UpstreamSince of the answering state last seen
		lastLook  time.Time // when upstream was last seen answering
	)
	for {
		switch {
		case h.Upstream == model.UpstreamDown || h.Upstream == model.UpstreamDegraded:
			if downSince.IsZero() {
				downSince = h.UpstreamSince
				if downSince.IsZero() {
					downSince = time.Now()
				}
			}
		case h.Upstream == model.UpstreamOK:
			if downSince.IsZero() && !okSince.IsZero() && !h.UpstreamSince.Equal(okSince) {
				// Upstream stopped and came back while a fill ran (the change stream
				// only says where it is now): the gap began after it was last seen.
				downSince = lastLook
			}
			okSince, lastLook = h.UpstreamSince, time.Now()
			if !downSince.IsZero() {
				cut := downSince.Add(-b.Lag)
				if pending == nil || cut.Before(pending.Cutoff) {
					if pending != nil {
						b.done(*pending) // the outage's gap, earlier, holds it
					}
					pending = &history.Fill{Cutoff: cut, Floor: cut, Reason: "outage"}
				}
				downSince = time.Time{}
			}
			if h.LastSync.IsZero() {
				break
			}
			for len(resume) > 0 && ctx.Err() == nil {
				b.fill(ctx, resume[0], true)
				resume = resume[1:]
			}
			if pending != nil && ctx.Err() == nil {
				b.fill(ctx, *pending, false)
				pending = nil
			}
			if ctx.Err() != nil {
				return nil
			}
		}
		if _, err := sub.Next(ctx); err != nil {
			return nil
		}
		h = b.Model.Snapshot().Health()
	}
}

// jobs lists the series of the model that have a gap around cutoff, in the order of the
// structure: locations (power, then environment), then tags, with the table of their gaps, and the
// structure the jobs' indexes refer to. It reads the store once per series (seconds on a large
// footprint, minutes on xlarge) and stops with ctx's error when ctx is done. It holds no snapshot
// while it reads the store, and follows a structure change as it goes (the links pass comes
// right after the start): what it holds is what was current, not what a minute-old view had.
func (b *Backfiller) jobs(ctx context.Context, cutoff, floor, now time.Time) ([]job, *gaps, *model.Structure, error) {
	todo, st := candidates(b.Model.Snapshot())
	res := b.Config.Resolution
	var out []job
	gt := &gaps{}
	for k := 0; k < len(todo); k++ {
		if k%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, nil, err
			}
			if cur := b.Model.Snapshot().Structure(); cur != st {
				out, todo, k = follow(out, st, cur), follow(todo[k:], st, cur), 0
				st = cur
				if len(todo) == 0 {
					break
				}
			}
		}
		c := todo[k]
		_, step := Interval(c.series.kind(), res)
		g, ok, err := FindGap(b.Store, c.key(st), cutoff, floor, now, step)
		if err != nil {
			return nil, nil, nil, err
		}
		if ok {
			c.gap = gt.add(g)
			out = append(out, c)
		}
	}
	// Copied to what they hold (append's slack is up to a quarter): they live for the whole
	// fill (hours on a large footprint).
	gt.done()
	return slices.Clone(out), gt, st, nil
}

// candidates lists the series snap has a reading of, as jobs without a gap, in the order of its
// structure: only the readings the model has, since a level without power or environment would
// cost a call for an empty answer.
func candidates(snap *model.Snapshot) ([]job, *model.Structure) {
	st := snap.Structure()
	var out []job
	for i, loc := range st.Locations() {
		if pw := snap.Power(i); pw.Quality != model.QualityUnavailable && pw.KVA.Present() {
			if _, ok := ingest.PowerTrendPoint(loc.ID); ok {
				out = append(out, job{index: int32(i), series: seriesPower})
			}
		}
		env := snap.Environment(i)
		if env.Quality == model.QualityUnavailable {
			continue
		}
		for _, p := range ingest.EnvironmentTrendPoints(loc.ID) {
			s, v := seriesTemperature, env.Temperature
			if p.DataPoint == "humidity" {
				s, v = seriesHumidity, env.Humidity
			}
			if v.Present() {
				out = append(out, job{index: int32(i), series: s})
			}
		}
	}
	for i := range st.Tags() {
		if snap.Tag(i).Quality != model.QualityUnavailable {
			out = append(out, job{index: int32(i), series: seriesTag})
		}
	}
	return out, st
}

// gapStats is what one gap's fill did, logged once at its end.
type gapStats struct {
	calls, failed, gaveUp, unitMismatch int
	added                               int
	notServed                           map[string]bool
}

// keep keeps f in the history file until done: a stop before its end leaves it to the next run.
func (b *Backfiller) keep(f history.Fill) {
	if err := b.Store.KeepFill(f); err != nil {
		b.log.Warn("history backfill: fill not kept in the file: a stop before its end leaves the rest unfilled",
			"reason", f.Reason, "since", f.Cutoff.UTC(), "err", err)
	}
}

// done forgets f in the history file.
func (b *Backfiller) done(f history.Fill) {
	if err := b.Store.DoneFill(f); err != nil {
		b.log.Warn("history backfill: a done fill not forgotten in the file: the next start looks at it again",
			"reason", f.Reason, "since", f.Cutoff.UTC(), "err", err)
	}
}

// fill fills the gaps around f's cutoff, in bounded cycles: f is kept in the history file until
// it is done (resumed: the file had it from a run a stop interrupted; its reason is logged as
// "resumed"). How far the recording went (f.Floor): at an outage, until upstream stopped
// answering (less the lag, in the cutoff); at start, the newest sample the store held from
// before (the cutoff keeps the readings recorded since the start out of it, see Run).
func (b *Backfiller) fill(ctx context.Context, f history.Fill, resumed bool) {
	began := time.Now()
	reason := f.Reason
	if resumed {
		reason = "resumed" // the file keeps it as it is
		b.log.Info("history backfill: resuming a fill a stop interrupted", "of", f.Reason, "since", f.Cutoff.UTC())
	} else {
		if f.Reason == "start" {
			if newest, ok, err := b.Store.Newest(ctx, f.Cutoff); err == nil && ok {
				f.Floor = newest
			}
		}
		b.keep(f)
	}
	cutoff, floor := f.Cutoff, f.Floor
	b.notServedM.Lock()
	for k := range b.notServed {
		b.notServed[k] = false // asked again (once) at each gap
	}
	b.notServedM.Unlock()
	jobs, gt, st, err := b.jobs(ctx, cutoff, floor, began)
	if ctx.Err() != nil {
		b.log.Info("history backfill: stopped", "reason", reason, "left", "all: the gaps were being listed")
		return
	}
	if err != nil {
		b.log.Warn("history backfill: gaps not read from the store; none filled", "reason", reason, "err", err)
		return
	}
	b.m.gaps.WithLabelValues(reason).Inc()
	if len(jobs) == 0 {
		// Debug: a flapping upstream would otherwise log this at every recovery.
		b.log.Debug("history backfill: no gap", "reason", reason, "since", cutoff.UTC())
		b.done(f)
		return
	}
	oldest := began.UnixNano()
	for _, sp := range gt.spans {
		oldest = min(oldest, sp.from)
	}
	b.log.Info("history backfill: filling gaps from trending", "reason", reason, "series", len(jobs),
		"oldest", time.Unix(0, oldest).UTC(), "since", cutoff.UTC(), "resolution", b.Config.Resolution, "gaps", len(gt.spans))
	stats := gapStats{notServed: map[string]bool{}}
	queue := jobs
	b.m.pending.Set(float64(len(queue)))
	defer b.m.pending.Set(0)
	for len(queue) > 0 && ctx.Err() == nil {
		n := min(len(queue), b.Config.PointsPerCycle)
		retry, fed := b.cycle(ctx, gt, st, queue[:n], &stats)
		// The jobs a structure change left unfed (batch[fed:]) stay the queue's next ones.
		queue = append(queue[fed:], retry...)
		// Go on from the newest structure: holding the one the fill began with would keep it
		// alive beside the current one after a structure change (the links pass follows the start).
		cur := b.Model.Snapshot().Structure()
		queue = follow(queue, st, cur)
		st = cur
		b.m.pending.Set(float64(len(queue)))
		if len(queue) == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(b.Config.CyclePause):
		}
	}
	if ctx.Err() != nil {
		b.log.Info("history backfill: stopped", "reason", reason, "left", len(queue))
		return
	}
	b.done(f)
	args := []any{"reason", reason, "series", len(jobs), "calls", stats.calls, "samples", stats.added,
		"failed", stats.gaveUp, "took", time.Since(began).Round(time.Millisecond)}
	if len(stats.notServed) > 0 {
		args = append(args, "not_served", slices.Sorted(maps.Keys(stats.notServed)))
	}
	if stats.unitMismatch > 0 {
		args = append(args, "unit_mismatch", stats.unitMismatch)
	}
	b.log.Info("history backfill: done", args...)
}

// cycle fetches a batch with bounded concurrency and rate; it returns the jobs to try again and
// how many of the batch it took. It stops taking them when the model's structure is no longer st:
// a batch lasts minutes (PointsPerCycle calls at Rate), and the structure it holds meanwhile is
// ~30 MB on the large profile, alive beside the current one (the links pass changes it right after
// the start's fill begins). The rest, batch[fed:], is for the caller to move to the new structure.
func (b *Backfiller) cycle(ctx context.Context, gt *gaps, st *model.Structure, batch []job, stats *gapStats) (retry []job, fed int) {
	var (
		mu   sync.Mutex // guards stats, retry, firstErr
		wg   sync.WaitGroup
		jobs = make(chan *job)
	)
	tick := time.NewTicker(time.Duration(float64(time.Second) / b.Config.Rate))
	defer tick.Stop()
	var firstErr error
	for range min(b.Config.Concurrency, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				again, err := b.one(ctx, gt, st, j, stats, &mu)
				mu.Lock()
				if again {
					retry = append(retry, *j)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	paced := false
feed:
	for ; fed < len(batch); fed++ {
		if b.isNotServed(batch[fed].series.kind()) {
			continue // no request: not paced
		}
		if paced {
			select {
			case <-tick.C:
			case <-ctx.Done():
				break feed
			}
		}
		if b.Model.Snapshot().Structure() != st {
			break
		}
		paced = true
		select {
		case jobs <- &batch[fed]:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		// One line per cycle with failures, not per series.
		b.log.Warn("history backfill: trending calls failed", "failed", len(retry), "err", firstErr)
	}
	return retry, fed
}

// one fetches and stores one series; again is true when it failed and may be retried.
func (b *Backfiller) one(ctx context.Context, gt *gaps, st *model.Structure, j *job, stats *gapStats, mu *sync.Mutex) (again bool, err error) {
	point, gap, unit := j.spec(gt, st, b.Model.Snapshot())
	kind := point.Kind.String()
	if b.isNotServed(point.Kind) {
		return false, nil
	}
	interval, _ := Interval(point.Kind, b.Config.Resolution)
	s, err := b.Client.Trending(ctx, point, gap.From, gap.To, interval)
	mu.Lock()
	defer mu.Unlock()
	stats.calls++
	switch {
	case errors.Is(err, smartview.ErrNotServed):
		b.m.calls.WithLabelValues(kind, "not_served").Inc()
		stats.notServed[kind] = true
		b.markNotServed(point.Kind)
		return false, nil
	case err != nil:
		b.m.calls.WithLabelValues(kind, "failed").Inc()
		if ctx.Err() != nil {
			return false, nil
		}
		j.attempts++
		if int(j.attempts) > b.Config.Retries {
			stats.gaveUp++
			return false, fmt.Errorf("%s: %w", point, err)
		}
		return true, fmt.Errorf("%s: %w", point, err)
	}
	b.m.calls.WithLabelValues(kind, "ok").Inc()
	b.m.fetched.WithLabelValues(kind).Add(float64(len(s.Samples)))
	if !sameUnit(s.UOM, unit) {
		stats.unitMismatch++
		return false, nil
	}
	samples := Convert(gap, s)
	if len(samples) == 0 {
		return false, nil
	}
	n, err := b.Store.Backfill(ctx, gap.Key, samples)
	if err != nil {
		stats.gaveUp++
		return false, fmt.Errorf("%s: %w", point, err)
	}
	stats.added += n
	b.m.samples.WithLabelValues(kind).Add(float64(n))
	return false, nil
}

func (b *Backfiller) isNotServed(k smartview.TrendKind) bool {
	b.notServedM.Lock()
	defer b.notServedM.Unlock()
	return b.notServed[k]
}

// markNotServed notes that the account has no trending of kind k. The first kind found is
// logged (once in the process's life; the others at debug level, and each gap's closing line
// names them); the kind is asked again at the next gap (the client answers that from its verdict
// without a request until it rechecks).
func (b *Backfiller) markNotServed(k smartview.TrendKind) {
	b.notServedM.Lock()
	defer b.notServedM.Unlock()
	if _, seen := b.notServed[k]; !seen {
		if len(b.notServed) == 0 {
			b.log.Info("history backfill: the account does not serve trending; its gaps stay open", "kind", k.String())
		} else {
			b.log.Debug("history backfill: trending not served", "kind", k.String())
		}
	}
	b.notServed[k] = true
}
