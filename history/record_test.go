package history

// The recorder's skip: what it keeps of a series' last sample must decide as
// the full sample did.

import (
	"math"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
)

// TestRecorderSkip feeds one series a sequence of samples and checks which
// are recorded: a sample is skipped when it is not newer than the last one
// recorded, or when it repeats its value (model.Value.Equal) and quality.
func TestRecorderSkip(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	good, bad := model.QualityGood, model.QualityStale
	type step struct {
		t    time.Time
		v    model.Value
		q    model.Quality
		want bool // recorded
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first sample", []step{{at(0), model.Number(1), good, true}}},
		{"same value newer", []step{{at(0), model.Number(1), good, true}, {at(1), model.Number(1), good, false}}},
		{"changed value", []step{{at(0), model.Number(1), good, true}, {at(1), model.Number(2), good, true}}},
		{"changed quality alone", []step{{at(0), model.Number(1), good, true}, {at(1), model.Number(1), bad, true}, {at(2), model.Number(1), bad, false}, {at(3), model.Number(1), good, true}}},
		{"changed text", []step{{at(0), model.Text("READY"), good, true}, {at(1), model.Text("RUNNING"), good, true}, {at(2), model.Text("RUNNING"), good, false}}},
		{"text and number of the same text", []step{{at(0), model.Text("5"), good, true}, {at(1), model.Number(5), good, false}, {at(2), model.Text("5.0"), good, true}}},
		{"numeric text vs text", []step{{at(0), model.Text("NA"), good, true}, {at(1), model.Text("0"), good, true}}},
		{"older time", []step{{at(5), model.Number(1), good, true}, {at(4), model.Number(2), good, false}, {at(3), model.Number(1), bad, false}}},
		{"same time changed value", []step{{at(5), model.Number(1), good, true}, {at(5), model.Number(2), good, false}}},
		{"older time then newer", []step{{at(5), model.Number(1), good, true}, {at(4), model.Number(2), good, false}, {at(6), model.Number(2), good, true}}},
		{"skipped sample does not move the time", []step{{at(5), model.Number(1), good, true}, {at(7), model.Number(1), good, false}, {at(6), model.Number(2), good, true}}},
		{"minus zero is zero", []step{{at(0), model.Number(0), good, true}, {at(1), model.Number(math.Copysign(0, -1)), good, true}, {at(2), model.Text("-0"), good, false}}},
		{"NaN is never a repeat", []step{{at(0), model.Number(math.NaN()), good, true}, {at(1), model.Number(math.NaN()), good, true}}},
		{"zero time", []step{{time.Time{}, model.Number(1), good, true}, {time.Time{}, model.Number(2), good, false}, {at(0), model.Number(2), good, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Recorder{}
			r.begin()
			last := fill(make([]lastSample, 1))
			var ref *step // the reference rule: the whole last sample, compared as the recorder did before it kept a fingerprint
			for i, s := range tc.steps {
				if rec := ref == nil || s.t.After(ref.t) && !(s.q == ref.q && s.v.Equal(ref.v)); rec != s.want {
					t.Fatalf("step %d: the table says %v, the reference rule %v", i, s.want, rec)
				} else if rec {
					ref = &tc.steps[i]
				}
				before := r.npend
				r.add(&last[0], func() string { return "t/x" }, Sample{Time: s.t, Value: s.v, Quality: s.q})
				if got := r.npend > before; got != s.want {
					t.Errorf("step %d (%v %v q%d): recorded %v, want %v", i, s.t, s.v, s.q, got, s.want)
				}
			}
		})
	}
}
