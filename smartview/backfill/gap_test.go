package backfill

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func num(f float64) model.Value { return model.Value{Num: f, IsNum: true} }

// store opens a history store whose clock is t0, retention 24h, holding each series' samples at
// the given offsets from t0.
func store(t *testing.T, series map[string][]time.Duration) *history.Store {
	t.Helper()
	st, err := history.Open(history.Options{Path: filepath.Join(t.TempDir(), "h.db"), Retention: 24 * time.Hour,
		Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	batch := map[string][]history.Sample{}
	for key, offs := range series {
		for i, off := range offs {
			batch[key] = append(batch[key], history.Sample{Time: t0.Add(off), Value: num(float64(i)), Quality: model.QualityGood})
		}
	}
	if err := st.Append(batch); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFindGap(t *testing.T) {
	const key = "t/CH1.Gen-1:fuel"
	h := time.Hour
	horizon := t0.Add(-24 * h)
	tests := []struct {
		name      string
		samples   []time.Duration
		cutoff    time.Duration
		floor     time.Duration // 0: none
		ok        bool
		from, to  time.Time
		hasBefore bool
	}{
		{"never recorded: the whole retention", nil, -10 * time.Minute, 0, true, horizon, t0, false},
		{"recorded before, not since: to now", []time.Duration{-5 * h, -3 * h}, -10 * time.Minute, 0, true, t0.Add(-3 * h), t0, true},
		{"recorded before and live after: between them", []time.Duration{-5 * h, -3 * h, -2 * time.Minute, -time.Minute},
			-10 * time.Minute, 0, true, t0.Add(-3 * h), t0.Add(-2 * time.Minute), true},
		{"steady value seen until the floor: from the floor", []time.Duration{-5 * h, -3 * h, -2 * time.Minute},
			-10 * time.Minute, -40 * time.Minute, true, t0.Add(-40 * time.Minute), t0.Add(-2 * time.Minute), true},
		{"floor before the last sample: from the sample", []time.Duration{-3 * h}, -10 * time.Minute, -4 * h, true, t0.Add(-3 * h), t0, true},
		{"floor after the cutoff: from the cutoff", []time.Duration{-3 * h}, -h, -10 * time.Minute, true, t0.Add(-h), t0, true},
		{"never recorded, floor known: still the whole retention", nil, -10 * time.Minute, -h, true, horizon, t0, false},
		{"only live samples (first start): horizon to the first", []time.Duration{-2 * time.Minute}, -10 * time.Minute, 0, true, horizon, t0.Add(-2 * time.Minute), false},
		{"sample older than the retention is not kept: from the horizon", []time.Duration{-30 * h}, -h, 0, true, horizon, t0, false},
		{"samples closer than a step: no gap", []time.Duration{-14 * time.Minute, -11 * time.Minute}, -12 * time.Minute, 0, false, t0.Add(-14 * time.Minute), t0.Add(-11 * time.Minute), true},
		{"samples a step apart: no gap", []time.Duration{-15 * time.Minute, -10 * time.Minute}, -12 * time.Minute, 0, false, t0.Add(-15 * time.Minute), t0.Add(-10 * time.Minute), true},
		{"a sample exactly at the cutoff is before it", []time.Duration{-h, -30 * time.Minute}, -h, 0, true, t0.Add(-h), t0.Add(-30 * time.Minute), true},
		{"cutoff in the future is now", []time.Duration{-h}, h, 0, true, t0.Add(-h), t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store(t, map[string][]time.Duration{key: tt.samples, "t/other": {-4 * time.Minute}})
			var floor time.Time
			if tt.floor != 0 {
				floor = t0.Add(tt.floor)
			}
			g, ok, err := FindGap(st, key, t0.Add(tt.cutoff), floor, t0, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || !g.From.Equal(tt.from) || !g.To.Equal(tt.to) || g.HasBefore != tt.hasBefore || g.Key != key {
				t.Errorf("gap = %v %s .. %s before %v, want %v %s .. %s before %v", ok, g.From, g.To, g.HasBefore, tt.ok, tt.from, tt.to, tt.hasBefore)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	g := Gap{Key: "k", From: t0.Add(-time.Hour), To: t0, Before: history.Sample{Time: t0.Add(-time.Hour), Value: num(1)}, HasBefore: true}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	n := func(f float64) smartview.Number { return smartview.Number{Value: f, Valid: true} }
	s := &smartview.Series{Samples: []smartview.Sample{
		{Time: at(-65), Value: n(9)},                         // before the gap
		{Time: at(-60), Value: n(9)},                         // at From: the recorded sample stays
		{Time: at(-55), Value: n(1)},                         // the value recorded before: no change
		{Time: at(-50), Value: n(2)},                         // kept
		{Time: at(-45), Value: smartview.Number{}},           // no value
		{Time: at(-40), Value: n(2)},                         // repeat
		{Time: at(-35), Value: smartview.Number{Text: "NA"}}, // text: kept as upstream said it
		{Time: at(-30).In(time.FixedZone("x", 3600)), Value: n(3)},
		{Time: at(0), Value: n(4)}, // at To: the live sample stays
		{Time: at(5), Value: n(5)}, // after
	}}
	got := Convert(g, s)
	want := []struct {
		t time.Time
		v string
	}{{at(-50), "2"}, {at(-35), "NA"}, {at(-30), "3"}}
	if len(got) != len(want) {
		t.Fatalf("converted %d samples, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if !got[i].Time.Equal(w.t) || got[i].Time.Location() != time.UTC || got[i].Value.String() != w.v || got[i].Quality != model.QualityGood {
			t.Errorf("sample %d = %+v, want %s %s good UTC", i, got[i], w.t, w.v)
		}
	}
	// Without a sample before the gap, the first value is kept whatever it is.
	g.HasBefore = false
	if got := Convert(g, s); len(got) != 4 || got[0].Value.String() != "1" {
		t.Errorf("without a sample before: %+v", got)
	}
}

// A gap filled twice (a restart during the fill, overlapping outages) stores each reading once.
func TestFillTwiceStoresOnce(t *testing.T) {
	const key = "l/CH1/IBX/CH1#KVA"
	st := store(t, map[string][]time.Duration{key: {-3 * time.Hour, -time.Minute}})
	g, ok, err := FindGap(st, key, t0.Add(-10*time.Minute), time.Time{}, t0, 5*time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var s smartview.Series
	for at := g.From; !at.After(g.To); at = at.Add(5 * time.Minute) {
		s.Samples = append(s.Samples, smartview.Sample{Time: at, Value: smartview.Number{Value: float64(at.Minute()) + 0.5, Valid: true}})
	}
	smp := Convert(g, &s)
	n1, err1 := st.Backfill(context.Background(), key, smp)
	n2, err2 := st.Backfill(context.Background(), key, smp)
	if err1 != nil || err2 != nil || n1 != len(smp) || n1 == 0 || n2 != 0 {
		t.Errorf("first fill added %d of %d (%v), second %d (%v)", n1, len(smp), err1, n2, err2)
	}
	// The gap is closed: what is left is shorter than a step.
	if g2, ok, _ := FindGap(st, key, t0.Add(-10*time.Minute), time.Time{}, t0, 5*time.Minute); ok {
		t.Errorf("gap still open after the fill: %s .. %s", g2.From, g2.To)
	}
	all, _, _ := st.Read(key, history.Query{From: t0.Add(-24 * time.Hour), To: t0})
	if len(all) != 2+n1 {
		t.Errorf("store holds %d samples, want %d", len(all), 2+n1)
	}
}

// Newest is how far the recording went, across series.
func TestNewest(t *testing.T) {
	st := store(t, map[string][]time.Duration{"t/a": {-3 * time.Hour, -time.Hour}, "t/b": {-2 * time.Hour, -time.Minute}, "l/X#KVA": {-90 * time.Minute}})
	for _, tt := range []struct{ before, want time.Duration }{{0, -time.Minute}, {-30 * time.Minute, -time.Hour}, {-time.Hour, -time.Hour}, {-100 * time.Minute, -2 * time.Hour}} {
		got, ok, err := st.Newest(context.Background(), t0.Add(tt.before))
		if err != nil || !ok || !got.Equal(t0.Add(tt.want)) {
			t.Errorf("Newest(%v) = %s %v %v, want %s", tt.before, got, ok, err, t0.Add(tt.want))
		}
	}
	if _, ok, _ := st.Newest(context.Background(), t0.Add(-4*time.Hour)); ok {
		t.Error("Newest before every sample found one")
	}
}

func TestInterval(t *testing.T) {
	for _, tt := range []struct {
		kind smartview.TrendKind
		res  string
		want string
		step time.Duration
	}{
		{smartview.TrendPower, "fine", "5m", 5 * time.Minute},
		{smartview.TrendEnvironment, "fine", "reading", 5 * time.Minute},
		{smartview.TrendTag, "fine", "reading", 5 * time.Minute},
		{smartview.TrendTag, "1h", "1h", time.Hour},
		{smartview.TrendPower, "1d", "1d", 24 * time.Hour},
	} {
		if got, step := Interval(tt.kind, tt.res); got != tt.want || step != tt.step {
			t.Errorf("Interval(%s, %s) = %s %v, want %s %v", tt.kind, tt.res, got, step, tt.want, tt.step)
		}
	}
	if !sameUnit("°C", "C") || !sameUnit("", "F") || sameUnit("°F", "°C") {
		t.Error("sameUnit")
	}
}
