package backfill

// Gap detection and conversion: which part of a series the history lacks, and which trending
// samples fill it. Both are pure functions of the store's content and the answer, so the rules
// are tested without a network.

import (
	"strings"
	"time"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// Gap is the part of one series the history lacks: the open interval (From, To). Before is the
// sample in force at From (HasBefore false when the series holds nothing before the gap: From is
// then the retention horizon).
type Gap struct {
	Key       string
	From, To  time.Time
	Before    history.Sample
	HasBefore bool
}

// FindGap returns the gap of series key around cutoff, the moment the gap began: from the newest
// sample at or before cutoff (or the retention horizon when there is none) to the oldest sample
// after cutoff (or now when there is none). ok is false when the gap is no longer than step:
// trending has nothing to add between two samples one interval apart or closer.
//
// floor is how far the gateway is known to have recorded: storage is on change, so a series
// whose value held steady has an old newest sample although its value was seen until floor; the
// gap then starts at floor (zero: not known). At start, cutoff is the process's start less the
// lag of a reading's source time (so a reading recorded live just after the start is not taken
// for the last one before it), or where the previous run stopped recording when that is later,
// and floor the newest sample of the store before that; after an
// outage, both are the moment upstream stopped answering, less the lag.
func FindGap(st *history.Store, key string, cutoff, floor, now time.Time, step time.Duration) (g Gap, ok bool, err error) {
	horizon := now.Add(-st.Retention())
	g = Gap{Key: key, From: horizon, To: now}
	if cutoff.After(now) {
		cutoff = now
	}
	before, hasBefore, err := st.Nearest(key, cutoff, true)
	if err != nil {
		return g, false, err
	}
	if hasBefore {
		g.Before, g.HasBefore = before, true
		if floor.After(cutoff) {
			floor = cutoff
		}
		g.From = latest(before.Time, floor, horizon)
	}
	after, hasAfter, err := st.Nearest(key, cutoff.Add(time.Nanosecond), false)
	if err != nil {
		return g, false, err
	}
	if hasAfter && after.Time.Before(now) {
		g.To = after.Time
	}
	return g, g.To.Sub(g.From) > step, nil
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// Convert turns a trending series into the history samples that fill g: those strictly inside
// (From, To), with a present value, each differing from the one before it (the history stores on
// change, like the recorder: the value in force at a time is the last sample before it). They are
// Good: trending values are what upstream recorded.
func Convert(g Gap, s *smartview.Series) []history.Sample {
	out := make([]history.Sample, 0, len(s.Samples))
	prev, hasPrev := g.Before, g.HasBefore
	for _, smp := range s.Samples {
		if !smp.Time.After(g.From) || !smp.Time.Before(g.To) {
			continue
		}
		v := ingest.Value(smp.Value)
		if !v.Present() {
			continue
		}
		if hasPrev && prev.Value.Equal(v) {
			continue
		}
		hs := history.Sample{Time: smp.Time.UTC(), Value: v, Quality: model.QualityGood}
		out = append(out, hs)
		prev, hasPrev = hs, true
	}
	return out
}

// Interval is the trending interval asked for a kind at a resolution, and the grid step it
// stands for (the shortest gap worth a call). The descriptions give power 5m, 15m, 1h, 1d and
// "recording"; environment and tags "reading", 1h, 1d: "fine" is the finest each offers.
func Interval(kind smartview.TrendKind, resolution string) (interval string, step time.Duration) {
	switch resolution {
	case history.Resolution1h:
		return smartview.Interval1h, time.Hour
	case history.Resolution1d:
		return smartview.Interval1d, 24 * time.Hour
	}
	if kind == smartview.TrendPower {
		return smartview.Interval5m, 5 * time.Minute
	}
	return smartview.IntervalReading, 5 * time.Minute
}

// sameUnit reports whether a trending series' unit is the one the model's readings carry (empty
// on either side: unknown, taken as the same).
func sameUnit(trend, model string) bool {
	n := func(u string) string {
		return strings.NewReplacer("°", "", "deg", "", " ", "").Replace(strings.ToLower(u))
	}
	return trend == "" || model == "" || n(trend) == n(model)
}
