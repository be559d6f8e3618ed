package backfill

// The compact jobs must fill what the full ones did.

import (
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
	b := &Backfiller{Store: hs, Config: history.BackfillConfig{Resolution: history.ResolutionFine}}
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

	jobs, err := b.jobs(snap, cutoff, floor, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(wants) || len(jobs) < len(st.Tags()) {
		t.Fatalf("%d jobs, want %d", len(jobs), len(wants))
	}
	seen := map[string]bool{}
	for i := range jobs {
		p, g, unit := jobs[i].spec(snap)
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
}
