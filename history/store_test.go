package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func open(t *testing.T, path string, c *clock, opts Options) *Store {
	t.Helper()
	opts.Path, opts.Now = path, c.Now
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// series returns n samples one minute apart from t0.
func series(n int, from time.Time) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{Time: from.Add(time.Duration(i) * time.Minute), Value: model.Number(float64(i)), Quality: model.QualityGood}
	}
	return out
}

func times(s []Sample) []int {
	out := make([]int, len(s))
	for i, x := range s {
		out[i] = int(x.Time.Sub(t0) / time.Minute)
	}
	return out
}

func TestStoreReadRanges(t *testing.T) {
	c := &clock{t0.Add(time.Hour)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
	if err := s.Append(map[string][]Sample{"k": series(10, t0), "text": {{Time: t0, Value: model.Text("RUNNING")}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    Query
		want []int
		more bool
	}{
		{"all", Query{From: t0, To: t0.Add(time.Hour)}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false},
		{"inclusive", Query{From: t0.Add(2 * time.Minute), To: t0.Add(4 * time.Minute)}, []int{2, 3, 4}, false},
		{"reverse", Query{From: t0.Add(2 * time.Minute), To: t0.Add(4 * time.Minute), Reverse: true}, []int{4, 3, 2}, false},
		{"reverse between keys", Query{From: t0, To: t0.Add(150 * time.Second), Reverse: true}, []int{2, 1, 0}, false},
		{"limit", Query{From: t0, To: t0.Add(time.Hour), Limit: 3}, []int{0, 1, 2}, true},
		{"limit exact", Query{From: t0, To: t0.Add(2 * time.Minute), Limit: 3}, []int{0, 1, 2}, false},
		{"reverse limit", Query{From: t0, To: t0.Add(time.Hour), Reverse: true, Limit: 2}, []int{9, 8}, true},
		{"inverted", Query{From: t0.Add(time.Hour), To: t0}, []int{}, false},
		{"outside", Query{From: t0.Add(-time.Hour), To: t0.Add(-time.Minute)}, []int{}, false},
		{"one", Query{From: t0.Add(5 * time.Minute), To: t0.Add(5 * time.Minute)}, []int{5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := s.Read("k", tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(times(got)) != fmt.Sprint(tt.want) || more != tt.more {
				t.Errorf("got %v more=%v, want %v more=%v", times(got), more, tt.want, tt.more)
			}
		})
	}
	got, _, _ := s.Read("text", Query{From: t0, To: t0})
	if len(got) != 1 || got[0].Value.Text != "RUNNING" || got[0].Value.IsNum {
		t.Errorf("text sample: %+v", got)
	}
	got, _, _ = s.Read("k", Query{From: t0.Add(3 * time.Minute), To: t0.Add(3 * time.Minute)})
	if len(got) != 1 || !got[0].Value.IsNum || got[0].Value.Num != 3 || got[0].Quality != model.QualityGood {
		t.Errorf("numeric sample: %+v", got)
	}
	if smp, ok, _ := s.Nearest("k", t0.Add(150*time.Second), true); !ok || !smp.Time.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("bound before: %v %v", smp.Time, ok)
	}
	if smp, ok, _ := s.Nearest("k", t0.Add(150*time.Second), false); !ok || !smp.Time.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("bound after: %v %v", smp.Time, ok)
	}
	if _, ok, _ := s.Nearest("k", t0.Add(time.Hour), false); ok {
		t.Error("bound after the last sample found")
	}
	if _, _, err := s.Read("unknown", Query{From: t0, To: t0.Add(time.Hour)}); err != nil || s.Has("unknown") || !s.Has("k") {
		t.Errorf("unknown series: err=%v", err)
	}
}

// TestStoreContinuation pages through a long series the way HistoryRead's
// continuation points do: each page resumes after the last time returned,
// and every sample is returned once.
func TestStoreContinuation(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprint("reverse=", reverse), func(t *testing.T) {
			c := &clock{t0.Add(48 * time.Hour)}
			s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
			const n = 2500
			if err := s.Append(map[string][]Sample{"k": series(n, t0)}); err != nil {
				t.Fatal(err)
			}
			q := Query{From: t0, To: t0.Add(48 * time.Hour), Reverse: reverse, Limit: 300}
			seen := map[int]bool{}
			pages := 0
			for {
				page, more, err := s.Read("k", q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, m := range times(page) {
					if seen[m] {
						t.Fatalf("sample %d returned twice", m)
					}
					seen[m] = true
				}
				if !more {
					break
				}
				if last := page[len(page)-1].Time; reverse {
					q.To = last.Add(-time.Nanosecond)
				} else {
					q.From = last.Add(time.Nanosecond)
				}
				if pages > n {
					t.Fatal("paging does not end")
				}
			}
			if len(seen) != n || pages != 9 {
				t.Errorf("%d samples in %d pages, want %d in 9", len(seen), pages, n)
			}
		})
	}
}

func TestStoreRetentionAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	c := &clock{t0.Add(10 * time.Hour)}
	s := open(t, path, c, Options{Retention: 6 * time.Hour})
	// 12 hours of samples: the first 4 are already out of retention and skipped.
	if err := s.Append(map[string][]Sample{"a": series(12*60, t0), "old": series(10, t0)}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Read("a", Query{From: t0, To: t0.Add(24 * time.Hour)})
	if len(got) != 8*60 || !got[0].Time.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("append kept %d samples from %v, want 480 from 04:00", len(got), got[0].Time)
	}
	c.now = t0.Add(13 * time.Hour)
	n, err := s.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 3*60 {
		t.Errorf("prune dropped %d, want 180", n)
	}
	if s.Has("old") {
		t.Error("a series emptied by retention is kept")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path, c, Options{Retention: 6 * time.Hour})
	got, _, err = s.Read("a", Query{From: t0, To: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5*60 || !got[0].Time.Equal(t0.Add(7*time.Hour)) || got[len(got)-1].Value.Num != 12*60-1 {
		t.Errorf("after restart: %d samples from %v", len(got), got[0].Time)
	}
}

func TestStoreSizeCap(t *testing.T) {
	c := &clock{t0.Add(30 * 24 * time.Hour)}
	const maxBytes = 512 << 10
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{MaxBytes: maxBytes, Retention: 60 * 24 * time.Hour})
	// 40 series × 4000 samples ≈ 160,000 samples: several MB.
	for k := range 40 {
		if err := s.Append(map[string][]Sample{fmt.Sprint("s", k): series(4000, t0)}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := s.Stats()
	if before.UsedBytes <= maxBytes {
		t.Fatalf("test data too small: %d bytes", before.UsedBytes)
	}
	if _, err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Stats()
	if after.UsedBytes > maxBytes {
		t.Errorf("used %d bytes after prune, cap %d", after.UsedBytes, maxBytes)
	}
	if after.Samples == 0 || after.Entities != 40 {
		t.Fatalf("prune left %d samples in %d series", after.Samples, after.Entities)
	}
	// Oldest first: every series keeps its newest sample, and lost its oldest.
	for k := range 40 {
		got, _, _ := s.Read(fmt.Sprint("s", k), Query{From: t0, To: c.now})
		if len(got) == 0 || got[len(got)-1].Value.Num != 3999 || got[0].Time.Equal(t0) {
			t.Fatalf("series %d: %d samples, not the newest ones", k, len(got))
		}
	}
}

func TestBackfill(t *testing.T) {
	c := &clock{t0.Add(24 * time.Hour)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{Retention: 20 * time.Hour})
	ctx := context.Background()
	// Recorded live: minutes 300..309, with value 1000+i (backfill must not
	// replace them).
	live := series(10, t0.Add(300*time.Minute))
	for i := range live {
		live[i].Value = model.Number(1000 + float64(i))
	}
	if err := s.Append(map[string][]Sample{"k": live}); err != nil {
		t.Fatal(err)
	}
	gap := series(400, t0) // minutes 0..399: 0..239 are out of retention, 300..309 recorded
	n, err := s.Backfill(ctx, "k", gap)
	if err != nil {
		t.Fatal(err)
	}
	if n != 400-240-10 {
		t.Errorf("backfill added %d, want 150", n)
	}
	if n, _ := s.Backfill(ctx, "k", gap); n != 0 {
		t.Errorf("second backfill added %d, want 0", n)
	}
	got, _, _ := s.Read("k", Query{From: t0, To: c.now})
	if len(got) != 160 {
		t.Errorf("series holds %d samples, want 160", len(got))
	}
	for _, smp := range got {
		m := int(smp.Time.Sub(t0) / time.Minute)
		want := float64(m)
		if m >= 300 && m < 310 {
			want = 1000 + float64(m-300)
		}
		if smp.Value.Num != want {
			t.Fatalf("minute %d holds %v, want %v", m, smp.Value.Num, want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Backfill(cctx, "k", gap); err == nil {
		t.Error("backfill with a cancelled context succeeded")
	}
}

func TestOpenRefusesOtherFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := writeFile(path, []byte("not a database, not at all, and long enough to be read as a page header......")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: path}); err == nil {
		t.Error("opened a file that is not a bbolt database")
	}
}

// TestRecorder feeds a store from a model's change stream: every reading
// committed is recorded once, a restart keeps it, and a re-recorded reading
// (same source time) is not duplicated.
func TestRecorder(t *testing.T) {
	shape := modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 2, Assets: 1, Tags: 3, TextTags: 1}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	path := filepath.Join(t.TempDir(), FileName)
	c := &clock{t0.Add(time.Hour)}
	run := func(ticks int) {
		hs := open(t, path, c, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		r := &Recorder{Store: hs, Model: ms, FlushInterval: time.Millisecond}
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		st := ms.Snapshot().Structure()
		key := TagKey(st.Tag(2).ID)
		waitSamples(t, hs, key, 1) // the recorder has subscribed and written the current values
		for tick := 1; tick <= ticks; tick++ {
			at := t0.Add(time.Duration(tick) * time.Minute)
			if _, err := ms.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, tick, at) }); err != nil {
				t.Fatal(err)
			}
			// One tick at a time: readings that change faster than the
			// recorder reads the stream are recorded at their newest.
			waitSamples(t, hs, key, tick+1)
		}
		waitSamples(t, hs, key, ticks+1)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		hs.Close()
	}
	run(5)
	run(0) // restart: the current values are re-recorded, not duplicated

	hs := open(t, path, c, Options{})
	st := ms.Snapshot().Structure()
	tag := st.Tag(2)
	got, _, _ := hs.Read(TagKey(tag.ID), Query{From: t0, To: t0.Add(time.Hour)})
	if len(got) != 6 {
		t.Fatalf("tag %s: %d samples, want 6", tag.ID, len(got))
	}
	for i, smp := range got {
		if want := modeltest.Reading(i, 2); smp.Value.Num != want || !smp.Time.Equal(t0.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("sample %d: %v at %v, want %v", i, smp.Value.Num, smp.Time, want)
		}
	}
	text, _, _ := hs.Read(TagKey(st.Tag(0).ID), Query{From: t0, To: t0.Add(time.Hour)})
	if len(text) != 6 || text[1].Value.Text != "READY" {
		t.Errorf("text tag: %+v", text)
	}
	var circuit model.LocationID
	for _, l := range st.Locations() {
		if l.ID.Level == model.LevelCircuit {
			circuit = l.ID
			break
		}
	}
	// Readings that change are recorded each time; those that repeat
	// (Fill's KW is always "NA", the breaker never trips) once per run of
	// the recorder: at the first start and again after the restart.
	for f, want := range map[string]int{"KVA": 6, "Amps": 6, "KW": 2, "BreakerAlarm": 2, "SoldKVA": 2} {
		got, _, _ := hs.Read(LocationKey(circuit, f), Query{From: t0, To: t0.Add(time.Hour)})
		if len(got) != want {
			t.Errorf("%s %s: %d samples, want %d", circuit, f, len(got), want)
		}
	}
	if up, _, _ := hs.Read(HealthKey("Upstream"), Query{From: time.Time{}, To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}); len(up) == 0 || up[len(up)-1].Value.Text != "ok" {
		t.Errorf("health Upstream: %+v", up)
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// waitSamples waits (bounded) until series key holds at least n samples.
func waitSamples(t *testing.T, hs *Store, key string, n int) {
	t.Helper()
	for i := 0; ; i++ {
		got, _, _ := hs.Read(key, Query{From: t0, To: t0.Add(time.Hour)})
		if len(got) >= n {
			return
		}
		if i > 1000 {
			t.Fatalf("recorded %d samples of %s, want %d", len(got), key, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPruneStopsWhenCancelled: a prune over more entities than one write
// transaction takes drops them all in several, and one whose context is
// done stops with its error, leaving the file whole for the next.
func TestPruneStopsWhenCancelled(t *testing.T) {
	c := &clock{t0.Add(10 * 24 * time.Hour)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{Retention: 7 * 24 * time.Hour})
	defer func(n int) { maxEntitiesPerDrop = n }(maxEntitiesPerDrop)
	maxEntitiesPerDrop = 100
	entities := 250 // three write transactions
	batch := map[string][]Sample{}
	for e := range entities {
		// two samples past the retention, one within
		batch[fmt.Sprintf("E%05d#f", e)] = []Sample{
			{Time: t0, Value: model.Number(1), Quality: model.QualityGood},
			{Time: t0.Add(time.Hour), Value: model.Number(2), Quality: model.QualityGood},
			{Time: c.now.Add(-time.Hour), Value: model.Number(3), Quality: model.QualityGood},
		}
	}
	// Append skips what is past the retention: write with the clock back.
	c.now = t0.Add(time.Hour)
	if err := s.Append(batch); err != nil {
		t.Fatal(err)
	}
	c.now = t0.Add(10 * 24 * time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := s.Prune(ctx)
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("prune with its context done: %d dropped, %v", n, err)
	}
	if st, _ := s.Stats(); st.Samples != 3*entities || st.Entities != entities {
		t.Fatalf("after the stopped prune: %+v, want %d samples", st, 3*entities)
	}
	n, err = s.Prune(context.Background())
	if err != nil || n != 2*entities {
		t.Fatalf("prune: %d dropped, %v; want %d", n, err, 2*entities)
	}
	s.Close()
	s = open(t, path, c, Options{Retention: 7 * 24 * time.Hour})
	if st, _ := s.Stats(); st.Samples != entities || st.Entities != entities {
		t.Errorf("reopened after the prune: %+v, want %d samples", st, entities)
	}
	got, _, _ := s.Read(fmt.Sprintf("E%05d#f", entities-1), Query{From: t0, To: c.now})
	if len(got) != 1 || got[0].Value.Num != 3 {
		t.Errorf("the last entity holds %+v", got)
	}
}

// TestRecorderStopsBetweenBatches: a recorder stopped while it records the
// whole footprint (many batches) writes the batch in hand and returns,
// instead of writing the rest first; the file is whole, and the next run
// records what the stopped one left.
func TestRecorderStopsBetweenBatches(t *testing.T) {
	shape := modeltest.Shape{IBXs: 2, Cages: 4, Cabinets: 4, Circuits: 8, Assets: 10, Tags: 2000}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	// The samples of the whole footprint, as one run records them.
	// (counted without a store: pending is emptied before it fills a batch)
	count := &Recorder{Model: ms}
	count.begin()
	whole := 0
	snap := ms.Snapshot()
	count.layout(snap)
	for i := range snap.Structure().Locations() {
		count.power(snap, snap.Structure(), i)
		count.env(snap, snap.Structure(), i)
		whole, count.npend = whole+count.npend, 0
		clear(count.pending)
	}
	for i := range snap.Structure().Tags() {
		count.tag(snap, snap.Structure(), i)
		whole, count.npend = whole+count.npend, 0
		clear(count.pending)
	}
	if whole < 2*maxPending {
		t.Fatalf("the footprint records %d samples: the test needs several batches of %d", whole, maxPending)
	}

	path := filepath.Join(t.TempDir(), FileName)
	c := &clock{t0.Add(time.Hour)}
	hs := open(t, path, c, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stopped from the start: the first batch is the one in hand
	if err := (&Recorder{Store: hs, Model: ms}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := hs.Stats()
	if err != nil || st.Samples != maxPending {
		t.Fatalf("a stopped recorder wrote %d samples (%v), want its one batch of %d of the %d", st.Samples, err, maxPending, whole)
	}
	hs.Close()

	// the next run records the rest
	hs = open(t, path, c, Options{})
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Recorder{Store: hs, Model: ms}).Run(ctx) }()
	// the last tag is the last series of the footprint recorded (the health
	// fields follow, in the same batch)
	waitSamples(t, hs, TagKey(snap.Structure().Tag(len(snap.Structure().Tags())-1).ID), 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, _ := hs.Stats(); st.Samples != whole+len(HealthFields) {
		t.Errorf("after the next run: %d samples, want %d and the health fields", st.Samples, whole)
	}
}

// TestRecordedUntil: the file keeps how far Append recorded (never past the
// clock), a drop moves it back, and the mark is read at Open.
func TestRecordedUntil(t *testing.T) {
	c := &clock{minute(30)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{})
	if at, ok := s.RecordedUntil(); ok {
		t.Errorf("a new file is recorded until %s", at)
	}
	steps := []struct {
		name string
		do   func() error
		want time.Time
	}{
		{"append to minute 9", func() error { return s.Append(map[string][]Sample{"t/A": series(10, t0)}) }, minute(9)},
		{"an older append", func() error { return s.Append(map[string][]Sample{"t/B": series(3, t0)}) }, minute(9)},
		{"a sample ahead of the clock", func() error { return s.Append(map[string][]Sample{"t/A": {num(minute(45), 1)}}) }, minute(30)},
		{"drop after minute 5", func() error { _, err := s.DropAfter(minute(5)); return err }, minute(5)},
		{"drop after minute 7", func() error { _, err := s.DropAfter(minute(7)); return err }, minute(5)},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		s.Close()
		s = open(t, path, c, Options{})
		if got, ok := s.RecordedUntil(); !ok || !got.Equal(st.want) {
			t.Errorf("%s: recorded until %s (%v), want %s", st.name, got, ok, st.want)
		}
	}
}

// TestFills: the fills kept are read back oldest first with their floor and
// reason, a fill of the same cutoff replaces it, done forgets it, and past
// maxFills the oldest go.
func TestFills(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, &clock{minute(60)}, Options{})
	keep := func(f Fill) {
		t.Helper()
		if err := s.KeepFill(f); err != nil {
			t.Fatal(err)
		}
	}
	keep(Fill{Cutoff: minute(5), Floor: minute(4), Reason: "outage"})
	keep(Fill{Cutoff: minute(1), Reason: "start"})
	keep(Fill{Cutoff: minute(5), Floor: minute(3), Reason: "outage"})
	s.Close()
	s = open(t, path, &clock{minute(60)}, Options{})
	got, err := s.Fills()
	want := []Fill{{Cutoff: minute(1), Reason: "start"}, {Cutoff: minute(5), Floor: minute(3), Reason: "outage"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fills %v (%v), want %v", got, err, want)
	}
	if err := s.DoneFill(Fill{Cutoff: minute(1)}); err != nil {
		t.Fatal(err)
	}
	for i := range maxFills + 2 {
		keep(Fill{Cutoff: minute(10 + i), Reason: "outage"})
	}
	got, err = s.Fills()
	if err != nil || len(got) != maxFills || !got[0].Cutoff.Equal(minute(12)) || !got[len(got)-1].Cutoff.Equal(minute(10+maxFills+1)) {
		t.Errorf("after %d more: %d fills from %v to %v (%v); want the newest %d", maxFills+2, len(got), got[0].Cutoff, got[len(got)-1].Cutoff, err, maxFills)
	}
}
