package backfill

// The compact jobs must fill what the full ones did.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// TestJobsSpec lists the jobs of a model whose history holds numeric, text and no samples before
// the gap, and checks that each job, expanded when it runs, is the trending point, gap and unit
// the series has (computed here from the model and FindGap as the backfiller did before it held
// jobs compactly), in the same order.
func TestJobsSpec(t *testing.T) {
	shape := modeltest.Shape{IBXs: 2, Cages: 2, Cabinets: 1, Circuits: 2, Assets: 1, Tags: 3, TextTags: 1, Sensors: true}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	snap := ms.Snapshot()
	st := snap.Structure()
	var cage, circuit model.LocationID
	for _, l := range st.Locations() {
		switch l.ID.Level {
		case model.LevelCage:
			cage = l.ID
		case model.LevelCircuit:
			circuit = l.ID
		}
	}
	hs := store(t, map[string][]time.Duration{
		history.LocationKey(circuit, "KVA"):      {-5 * time.Hour, -4 * time.Hour},
		history.LocationKey(cage, "Temperature"): {-3 * time.Hour, 30 * time.Minute},
		history.LocationKey(cage, "Humidity"):    {-20 * time.Minute},
	})
	text := history.TagKey(st.Tag(0).ID)
	if err := hs.Append(map[string][]history.Sample{text: {{Time: t0.Add(-2 * time.Hour), Value: model.Text("READY"), Quality: model.QualityGood}}}); err != nil {
		t.Fatal(err)
	}
	b := &Backfiller{Store: hs, Model: ms, Config: history.BackfillConfig{Resolution: history.ResolutionFine}}
	cutoff, floor := t0.Add(-time.Hour), t0.Add(-90*time.Minute)

	type want struct {
		p    smartview.TrendPoint
		g    Gap
		unit string
	}
	var wants []want
	ref := func(p smartview.TrendPoint, key, unit string) {
		_, step := Interval(p.Kind, b.Config.Resolution)
		g, ok, err := FindGap(hs, key, cutoff, floor, t0, step)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			wants = append(wants, want{p, g, unit})
		}
	}
	for i, loc := range st.Locations() {
		if pw := snap.Power(i); pw.Quality != model.QualityUnavailable && pw.KVA.Present() {
			if p, ok := ingest.PowerTrendPoint(loc.ID); ok {
				ref(p, history.LocationKey(loc.ID, "KVA"), "")
			}
		}
		if env := snap.Environment(i); env.Quality != model.QualityUnavailable {
			for _, p := range ingest.EnvironmentTrendPoints(loc.ID) {
				if p.DataPoint == "temperature" {
					ref(p, history.LocationKey(loc.ID, "Temperature"), env.TemperatureUnit)
				} else {
					ref(p, history.LocationKey(loc.ID, "Humidity"), env.HumidityUnit)
				}
			}
		}
	}
	for _, tg := range st.Tags() {
		ref(ingest.TagTrendPoint(tg.IBX, tg.ID), history.TagKey(tg.ID), "")
	}

	jobs, gt, st2, err := b.jobs(context.Background(), cutoff, floor, t0)
	if err != nil {
		t.Fatal(err)
	}
	if st2 != st {
		t.Fatal("the jobs refer to another structure than the model's, which did not change")
	}
	if len(jobs) != len(wants) || len(jobs) < len(st.Tags()) {
		t.Fatalf("%d jobs, want %d", len(jobs), len(wants))
	}
	seen := map[string]bool{}
	for i := range jobs {
		p, g, unit := jobs[i].spec(gt, snap.Structure(), snap)
		w := wants[i]
		if p != w.p || g.Key != w.g.Key || !g.From.Equal(w.g.From) || !g.To.Equal(w.g.To) || unit != w.unit ||
			g.HasBefore != w.g.HasBefore || g.Before.Value != w.g.Before.Value {
			t.Errorf("job %d: %v %s %s..%s before %v %+v unit %q; want %v %s %s..%s before %v %+v unit %q", i,
				p, g.Key, g.From, g.To, g.HasBefore, g.Before.Value, unit,
				w.p, w.g.Key, w.g.From, w.g.To, w.g.HasBefore, w.g.Before.Value, w.unit)
		}
		switch {
		case g.HasBefore && g.Before.Value.IsNum:
			seen["numeric before"] = true
		case g.HasBefore:
			seen["text before"] = true
		default:
			seen["no before"] = true
		}
		if unit != "" {
			seen["unit"] = true
		}
	}
	for _, c := range []string{"numeric before", "text before", "no before", "unit"} {
		if !seen[c] {
			t.Errorf("no job with %s: the test tests less than it says", c)
		}
	}
	// The series without a sample share one gap (the retention horizon to now): the table
	// holds each distinct gap once.
	distinct := map[span]bool{}
	for _, j := range jobs {
		distinct[gt.spans[j.gap]] = true
	}
	if len(gt.spans) != len(distinct) || len(gt.spans) >= len(jobs) || gt.index != nil {
		t.Errorf("%d gaps in the table for %d distinct among %d jobs (index kept: %v)", len(gt.spans), len(distinct), len(jobs), gt.index != nil)
	}
}

// TestFollow moves jobs across a structure change: a removed IBX's series are dropped and the
// others keep their series, whose indexes moved.
func TestFollow(t *testing.T) {
	shape := modeltest.Shape{IBXs: 2, Cages: 2, Cabinets: 1, Circuits: 2, Assets: 1, Tags: 3}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	before := ms.Snapshot().Structure()
	var jobs []job
	want := map[string]bool{} // the series that must remain, by id
	for i, l := range before.Locations() {
		jobs = append(jobs, job{index: int32(i), series: seriesPower})
		if l.ID.IBX != modeltest.IBX(0) {
			want["L "+l.ID.String()] = true
		}
	}
	for i, tg := range before.Tags() {
		jobs = append(jobs, job{index: int32(i), series: seriesTag, attempts: 2})
		if tg.IBX != modeltest.IBX(0) {
			want["T "+tg.ID] = true
		}
	}
	if _, err := ms.Update(func(tx *model.Tx) error { tx.RemoveIBX(modeltest.IBX(0)); return nil }); err != nil {
		t.Fatal(err)
	}
	after := ms.Snapshot().Structure()
	if same := follow(slices.Clone(jobs), before, before); !slices.Equal(same, jobs) {
		t.Fatal("follow onto the same structure changed the jobs")
	}
	got := follow(jobs, before, after)
	if len(got) != len(want) {
		t.Fatalf("%d jobs follow, want %d", len(got), len(want))
	}
	for _, j := range got {
		key := "L "
		if j.series == seriesTag {
			key = "T " + after.Tag(int(j.index)).ID
			if j.attempts != 2 {
				t.Errorf("tag job lost its attempts: %+v", j)
			}
		} else {
			key += after.Location(int(j.index)).ID.String()
		}
		if !want[key] {
			t.Errorf("job %+v is %s after the change, not one of the remaining series", j, key)
		}
		delete(want, key)
	}
	for k := range want {
		t.Errorf("series %s lost", k)
	}
}

// TestListingGapsStopsWhenCancelled: listing the gaps reads the store once
// per series and finding how far the recording went walks every entity
// (seconds each on the large profile, at the start, when a stop is likely):
// both stop with the context's error instead of finishing first.
func TestListingGapsStopsWhenCancelled(t *testing.T) {
	shape := modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 1, Tags: 3000}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	snap := ms.Snapshot()
	series := map[string][]time.Duration{}
	for _, tg := range snap.Structure().Tags() {
		series[history.TagKey(tg.ID)] = []time.Duration{-2 * time.Hour}
	}
	hs := store(t, series)
	b := &Backfiller{Store: hs, Model: ms, Config: history.BackfillConfig{Resolution: history.ResolutionFine}}
	cutoff, floor := t0.Add(-time.Hour), t0.Add(-90*time.Minute)
	if jobs, _, _, err := b.jobs(context.Background(), cutoff, floor, t0); err != nil || len(jobs) < 3000 {
		t.Fatalf("listing: %d jobs, %v", len(jobs), err)
	}
	if _, ok, err := hs.Newest(context.Background(), t0); err != nil || !ok {
		t.Fatalf("newest: %v %v", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if jobs, _, _, err := b.jobs(ctx, cutoff, floor, t0); !errors.Is(err, context.Canceled) || jobs != nil {
		t.Errorf("listing with the context done: %d jobs, %v", len(jobs), err)
	}
	if _, _, err := hs.Newest(ctx, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("newest with the context done: %v", err)
	}
}
