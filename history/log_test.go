package history

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/svgateway/svgateway/model"
)

// logStep is one operation on a store: an Append of batch, or a Backfill
// of key with samples.
type logStep struct {
	batch    map[string][]Sample
	backfill string
	samples  []Sample
}

func text(at time.Time, v string, q model.Quality) Sample {
	return Sample{Time: at, Value: model.Text(v), Quality: q}
}

// render is everything the store answers about key: reads both ways, with
// a limit, a range, the nearest samples around minute 2½ and before the
// first, and whether it has any.
func render(t *testing.T, s *Store, key string) string {
	t.Helper()
	var b strings.Builder
	show := func(what string, got []Sample, more bool, err error) {
		if err != nil {
			t.Fatalf("%s %s: %v", key, what, err)
		}
		fmt.Fprintf(&b, "%s:", what)
		for _, smp := range got {
			fmt.Fprintf(&b, " %s=%s/%d", smp.Time.Sub(t0), smp.Value.String(), smp.Quality)
		}
		if more {
			b.WriteString(" +more")
		}
		b.WriteString("; ")
	}
	all := Query{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}
	for _, q := range []struct {
		what string
		q    Query
	}{
		{"all", all},
		{"reverse", Query{From: all.From, To: all.To, Reverse: true}},
		{"first2", Query{From: all.From, To: all.To, Limit: 2}},
		{"last2", Query{From: all.From, To: all.To, Limit: 2, Reverse: true}},
		{"2..3", Query{From: minute(2), To: minute(3)}},
	} {
		got, more, err := s.Read(key, q.q)
		show(q.what, got, more, err)
	}
	for _, n := range []struct {
		what   string
		at     time.Time
		before bool
	}{
		{"before2.5", minute(2).Add(30 * time.Second), true},
		{"after2.5", minute(2).Add(30 * time.Second), false},
		{"before0", minute(0), true},
		{"after3", minute(3), false},
	} {
		smp, ok, err := s.Nearest(key, n.at, n.before)
		var got []Sample
		if ok {
			got = []Sample{smp}
		}
		show(n.what, got, false, err)
	}
	fmt.Fprintf(&b, "has: %v", s.Has(key))
	return b.String()
}

// TestLogReadThrough: what the store answers is the same whether the
// samples are still in the log, merged into the rows, or partly each, and
// reopening a file with an unmerged log loses nothing. The expected reads
// are written out for the merged store; the log's must equal them.
func TestLogReadThrough(t *testing.T) {
	const loc = "l/IB01:CIRCUIT:C1"
	kva, kw, tag := loc+"#KVA", loc+"#KW", "t/IB01.UPS-1:tag0"
	cases := []struct {
		name  string
		steps []logStep
		key   string
		want  string // all: of the merged store
		added []int  // each Backfill step's count
	}{
		{
			name: "samples across batches",
			steps: []logStep{
				{batch: map[string][]Sample{kva: {num(minute(1), 1)}, kw: {num(minute(1), 10)}}},
				{batch: map[string][]Sample{kva: {num(minute(2), 2)}, kw: {num(minute(2), 20)}}},
				{batch: map[string][]Sample{kva: {num(minute(3), 3), num(minute(4), 4)}}},
			},
			key:  kva,
			want: "all: 1m0s=1/1 2m0s=2/1 3m0s=3/1 4m0s=4/1;",
		},
		{
			name: "a correction replaces the value at its time",
			steps: []logStep{
				{batch: map[string][]Sample{kva: {num(minute(1), 1), num(minute(2), 2)}}},
				{batch: map[string][]Sample{kva: {num(minute(2), 5)}}},
				{batch: map[string][]Sample{kva: {num(minute(1), 7)}, kw: {num(minute(1), 8)}}},
			},
			key:  kva,
			want: "all: 1m0s=7/1 2m0s=5/1;",
		},
		{
			name: "another field at a time the rows hold keeps both",
			steps: []logStep{
				{batch: map[string][]Sample{kva: {num(minute(1), 1)}}},
				{batch: map[string][]Sample{kw: {num(minute(1), 2)}}},
				{batch: map[string][]Sample{kw: {num(minute(3), 3)}}},
			},
			key:  kva,
			want: "all: 1m0s=1/1;",
		},
		{
			name: "backfill adds only times neither rows nor log hold",
			steps: []logStep{
				{batch: map[string][]Sample{tag: {num(minute(2), 5)}}},
				{backfill: tag, samples: []Sample{num(minute(1), 0), num(minute(2), 9), num(minute(3), 7)}},
				{backfill: tag, samples: []Sample{num(minute(1), 6), num(minute(3), 6), num(minute(4), 8)}},
				{batch: map[string][]Sample{tag: {num(minute(3), 1)}}},
			},
			key:   tag,
			want:  "all: 1m0s=0/1 2m0s=5/1 3m0s=1/1 4m0s=8/1;",
			added: []int{2, 1},
		},
		{
			name: "text and quality",
			steps: []logStep{
				{batch: map[string][]Sample{tag: {text(minute(1), "on", model.QualityGood)}}},
				{batch: map[string][]Sample{tag: {text(minute(2), "off", model.QualityStale)}}},
				{batch: map[string][]Sample{tag: {num(minute(3), 3), text(minute(3), "x", model.QualityNoComm)}}},
			},
			key:  tag,
			want: fmt.Sprintf("all: 1m0s=on/%d 2m0s=off/%d 3m0s=x/%d;", model.QualityGood, model.QualityStale, model.QualityNoComm),
		},
	}
	// When to merge: never (all in the log), after every step (all in the
	// rows), after every other step (both).
	modes := []struct {
		name  string
		merge func(step int) bool
	}{
		{"log", func(int) bool { return false }},
		{"merged", func(int) bool { return true }},
		{"alternate", func(i int) bool { return i%2 == 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answers := map[string]string{}
			for _, m := range modes {
				c := &clock{t0.Add(10 * time.Minute)}
				path := filepath.Join(t.TempDir(), FileName)
				s := open(t, path, c, Options{})
				var added []int
				for i, st := range tc.steps {
					if st.backfill != "" {
						n, err := s.Backfill(context.Background(), st.backfill, st.samples)
						if err != nil {
							t.Fatal(err)
						}
						added = append(added, n)
					} else if err := s.Append(st.batch); err != nil {
						t.Fatal(err)
					}
					if m.merge(i) {
						if err := s.Merge(context.Background()); err != nil {
							t.Fatal(err)
						}
					}
				}
				if fmt.Sprint(added) != fmt.Sprint(tc.added) && len(tc.added) > 0 {
					t.Errorf("%s: backfills added %v, want %v", m.name, added, tc.added)
				}
				got := render(t, s, tc.key)
				answers[m.name] = got
				if m.name == "log" {
					if n := logEntries(t, s); n == 0 {
						t.Errorf("log: nothing in the log after the appends")
					}
					// Reopened, the log is read through as before it closed.
					s.Close()
					s = open(t, path, c, Options{})
					if again := render(t, s, tc.key); again != got {
						t.Errorf("reopened with the log unmerged:\n got %s\nwant %s", again, got)
					}
					if err := s.Merge(context.Background()); err != nil {
						t.Fatal(err)
					}
					if n := logEntries(t, s); n != 0 {
						t.Errorf("log after the merge: %d entries, want 0", n)
					}
					if again := render(t, s, tc.key); again != got {
						t.Errorf("merged after the reopen:\n got %s\nwant %s", again, got)
					}
				}
			}
			if !strings.HasPrefix(answers["merged"], tc.want) {
				t.Errorf("merged store: %s\nwant it to begin %s", answers["merged"], tc.want)
			}
			for _, m := range modes {
				if answers[m.name] != answers["merged"] {
					t.Errorf("%s:\n got %s\nwant %s", m.name, answers[m.name], answers["merged"])
				}
			}
		})
	}
}

// TestLogReadsOnlyBatchesInRange: a read of the log Gets only the batches
// whose samples reach its range (the backfill's gaps are older than the
// log), and a batch read at Open, whose newest sample is not known, is
// taken for any time from its oldest on.
func TestLogReadsOnlyBatchesInRange(t *testing.T) {
	const key = "t/IB01.UPS-1:tag0"
	name, _ := splitKey(key)
	path := filepath.Join(t.TempDir(), FileName)
	c := &clock{t0.Add(time.Hour)}
	s := open(t, path, c, Options{})
	for _, m := range []int{1, 10, 20} {
		if err := s.Append(map[string][]Sample{key: {num(minute(m), float64(m)), num(minute(m+2), float64(m))}}); err != nil {
			t.Fatal(err)
		}
	}
	ns := func(m int) int64 { return unixNano(minute(m)) }
	count := func(lo, hi int64) int { return len(s.wlog.seqsOf(name, lo, hi)) }
	for _, tc := range []struct {
		what   string
		lo, hi int64
		want   int
	}{
		{"before every batch", ns(-60), ns(0), 0},
		{"between two batches", ns(4), ns(9), 0},
		{"one batch's end", ns(3), ns(3), 1},
		{"two batches", ns(2), ns(11), 2},
		{"everything", math.MinInt64, math.MaxInt64, 3},
		{"after every batch", ns(23), math.MaxInt64, 0},
	} {
		if got := count(tc.lo, tc.hi); got != tc.want {
			t.Errorf("%s: %d batches, want %d", tc.what, got, tc.want)
		}
	}
	// A backfill of times before the log still skips what the log holds.
	n, err := s.Backfill(context.Background(), key, []Sample{num(minute(0), 0), num(minute(10), 99)})
	if err != nil || n != 1 {
		t.Fatalf("backfill: added %d, %v; want 1 (minute 10 is in the log)", n, err)
	}
	s.Close()
	s = open(t, path, c, Options{})
	if got := count(ns(4), ns(9)); got != 1 {
		t.Errorf("reopened, between two batches: %d batches, want 1 (the first's newest sample is not known)", got)
	}
	if got := count(ns(-60), ns(0)); got != 0 {
		t.Errorf("reopened, before every batch: %d batches, want 0", got)
	}
}

// logEntries counts the entries of the store's log.
func logEntries(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if lb := tx.Bucket(logBucket); lb != nil {
			n = lb.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLogDrops: what DropAfter, Prune and Stats see of samples still in the
// log: they count and drop them as they would merged rows.
func TestLogDrops(t *testing.T) {
	const a, b = "t/A", "l/IB01:CAGE:X#KVA"
	cases := []struct {
		name    string
		op      func(s *Store, c *clock) (int, error)
		dropped int
		want    map[string]string
	}{
		{
			name:    "drop after minute 2",
			op:      func(s *Store, _ *clock) (int, error) { return s.DropAfter(minute(2)) },
			dropped: 4,
			want:    map[string]string{a: "0=0 1=1 2=2 ", b: "0=0 1=1 2=2 "},
		},
		{
			name: "retention passes minute 3",
			op: func(s *Store, c *clock) (int, error) {
				c.now = minute(3).Add(time.Hour)
				return s.Prune(context.Background())
			},
			dropped: 6,
			want:    map[string]string{a: "3=3 4=4 ", b: "3=3 4=4 "},
		},
		{
			name:    "nothing to prune",
			op:      func(s *Store, _ *clock) (int, error) { return s.Prune(context.Background()) },
			dropped: 0,
			want:    map[string]string{a: "0=0 1=1 2=2 3=3 4=4 ", b: "0=0 1=1 2=2 3=3 4=4 "},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{minute(5)}
			s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{Retention: time.Hour})
			for i := range 5 {
				if err := s.Append(map[string][]Sample{a: {num(minute(i), float64(i))}, b: {num(minute(i), float64(i))}}); err != nil {
					t.Fatal(err)
				}
			}
			n, err := tc.op(s, c)
			if err != nil || n != tc.dropped {
				t.Errorf("dropped %d (%v), want %d", n, err, tc.dropped)
			}
			for key, want := range tc.want {
				if got := values(t, s, key); got != want {
					t.Errorf("%s: %q, want %q", key, got, want)
				}
			}
			st, err := s.Stats()
			if err != nil || st.Samples != 10-tc.dropped || st.Entities != 2 {
				t.Errorf("stats %+v (%v), want %d samples of 2 entities", st, err, 10-tc.dropped)
			}
		})
	}
}

// TestLogNewest: the newest sample in the log counts for Newest.
func TestLogNewest(t *testing.T) {
	c := &clock{minute(10)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
	if err := s.Append(map[string][]Sample{"t/A": {num(minute(1), 1)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(map[string][]Sample{"t/B": {num(minute(3), 1)}, "t/A": {num(minute(5), 1)}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want time.Time
	}{{minute(9), minute(5)}, {minute(4), minute(3)}, {minute(2), minute(1)}} {
		got, ok, err := s.Newest(context.Background(), tc.at)
		if err != nil || !ok || !got.Equal(tc.want) {
			t.Errorf("Newest(%s) = %s, %v, %v; want %s", tc.at, got, ok, err, tc.want)
		}
	}
}

// TestMergeBounded: a merge works in transactions of bounded size, each
// consistent on its own (a read between two sees every sample once), and a
// cancelled one stops, leaving the rest in the log.
func TestMergeBounded(t *testing.T) {
	defer func(e int) { mergeEntitiesPerTx = e }(mergeEntitiesPerTx)
	mergeEntitiesPerTx = 3
	c := &clock{minute(10)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("t/T%02d", i)
	}
	for m := range 4 {
		batch := map[string][]Sample{}
		for _, k := range keys {
			batch[k] = []Sample{num(minute(m), float64(m))}
		}
		if err := s.Append(batch); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Merge(ctx); err == nil {
		t.Errorf("merge with a cancelled context: no error")
	}
	if n := logEntries(t, s); n != 40 {
		t.Errorf("log after a cancelled merge: %d entries, want 40", n)
	}
	last, _, _, _, _ := s.wlog.summary()
	next, err := s.mergeSome(last, nil)
	if err != nil || string(next) != keys[3] {
		t.Fatalf("first merge transaction: next %q (%v), want %q", next, err, keys[3])
	}
	if n := logEntries(t, s); n != 28 {
		t.Errorf("log after one transaction: %d entries, want 28", n)
	}
	for _, k := range keys {
		if got := values(t, s, k); got != "0=0 1=1 2=2 3=3 " {
			t.Errorf("%s between two merge transactions: %q", k, got)
		}
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := logEntries(t, s); n != 0 {
		t.Errorf("log after the merge: %d entries", n)
	}
	if _, n, _, _, _ := s.wlog.summary(); n != 0 {
		t.Errorf("%d batches remembered after the merge", n)
	}
}

// TestMergeConcurrent: appends, merges and reads at once (run with -race):
// a reader never sees a series lose a sample, and ends with all of them.
func TestMergeConcurrent(t *testing.T) {
	defer func(e int) { mergeEntitiesPerTx = e }(mergeEntitiesPerTx)
	mergeEntitiesPerTx = 2
	c := &clock{minute(100)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
	const cycles = 60
	keys := []string{"t/A", "t/B", "l/X#KVA", "l/X#KW", "l/Y#KVA"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Merge(context.Background()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		seen := map[string]int{}
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, k := range keys {
				got, _, err := s.Read(k, Query{From: t0, To: minute(cycles)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) < seen[k] {
					t.Errorf("%s: %d samples after %d", k, len(got), seen[k])
					return
				}
				seen[k] = len(got)
			}
		}
	}()
	for m := range cycles {
		batch := map[string][]Sample{}
		for _, k := range keys {
			batch[k] = []Sample{num(minute(m), float64(m))}
		}
		if err := s.Append(batch); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	for _, k := range keys {
		if got, _, _ := s.Read(k, Query{From: t0, To: minute(cycles)}); len(got) != cycles {
			t.Errorf("%s: %d samples, want %d", k, len(got), cycles)
		}
	}
}

// TestMergeDue: the merge policy.
func TestMergeDue(t *testing.T) {
	defer func(n int) { maxLogBatches = n }(maxLogBatches)
	maxLogBatches = 5
	cases := []struct {
		name    string
		opts    Options
		batches int
		wait    time.Duration
		due     bool
	}{
		{"empty log", Options{}, 0, time.Hour, false},
		{"young and small", Options{}, 2, time.Minute, false},
		{"interval passed", Options{MergeInterval: 2 * time.Minute}, 1, 2 * time.Minute, true},
		{"size bound", Options{MaxLogBytes: 100}, 2, 0, true},
		{"batch bound", Options{}, 5, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{minute(10)}
			s := open(t, filepath.Join(t.TempDir(), FileName), c, tc.opts)
			for i := range tc.batches {
				if err := s.Append(map[string][]Sample{"t/A": {num(minute(i), 1)}, "t/B": {num(minute(i), 1)}}); err != nil {
					t.Fatal(err)
				}
			}
			c.now = c.now.Add(tc.wait)
			if got := s.mergeDue(); got != tc.due {
				t.Errorf("due %v, want %v", got, tc.due)
			}
		})
	}
}

// A merge forgets only the batches added before it began: a batch of a
// sequence given again (an Append whose commit failed, bbolt's sequence
// rolled back, the next Append added while the merge ran) keeps its filter,
// so what the merge did not move of it is still read through.
func TestMergeKeepsBatchAddedAfterItBegan(t *testing.T) {
	var l logState
	now := time.Now()
	l.add(logBatch{seq: 1, bloom: newBloom(1)}, now)
	l.add(logBatch{seq: 2, bloom: newBloom(1)}, now) // its transaction fails
	last, added := l.upTo()                          // a merge begins
	again := logBatch{seq: 2, bloom: newBloom(1)}    // the retried Append
	bloomAdd(again.bloom, []byte("E1"))
	l.add(again, now)
	l.dropThrough(last, added, now) // the merge ends
	if got := l.seqsOf([]byte("E1"), math.MinInt64, math.MaxInt64); len(got) != 1 || got[0] != 2 {
		t.Fatalf("after the merge, the batches that may hold E1: %v, want [2]", got)
	}
	last, added = l.upTo() // the next merge takes it
	l.dropThrough(last, added, now)
	if _, n, _, _, _ := l.summary(); n != 0 {
		t.Fatalf("%d batches left after the next merge", n)
	}
}

// TestMergeSetsAsideAnEntryItCannotRead: a log entry that cannot be read
// (a torn or corrupted value) is kept aside whole in "log-bad", the rest of
// its batch and of the log is merged, and the merges after it (and so the
// prunes waiting for them) go on.
func TestMergeSetsAsideAnEntryItCannotRead(t *testing.T) {
	c := &clock{minute(10)}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{})
	if err := s.Append(map[string][]Sample{"t/A": {num(minute(1), 1)}, "t/B": {num(minute(1), 2)}}); err != nil {
		t.Fatal(err)
	}
	bad := []byte{0xff, 0xff, 0xff}
	var badKey []byte
	if err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(logBucket).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if string(k[8:]) == "t/A" {
				badKey = append([]byte(nil), k...)
			}
		}
		return tx.Bucket(logBucket).Put(badKey, bad)
	}); err != nil || badKey == nil {
		t.Fatalf("no log entry of t/A to spoil (%v)", err)
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatalf("merge with an entry it cannot read: %v", err)
	}
	if got, _, err := s.Read("t/B", Query{From: t0, To: c.now}); err != nil || len(got) != 1 || got[0].Value.Num != 2 {
		t.Errorf("t/B after the merge: %v, %v", got, err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(logBucket).Cursor().First(); k != nil {
			return fmt.Errorf("the log still holds %q", k)
		}
		if v := tx.Bucket(badLogBucket).Get(badKey); string(v) != string(bad) {
			return fmt.Errorf("log-bad holds %x for the spoiled entry", v)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	// The store goes on: A is recorded and merged again.
	if err := s.Append(map[string][]Sample{"t/A": {num(minute(2), 3)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Read("t/A", Query{From: t0, To: c.now}); err != nil || len(got) != 1 || got[0].Value.Num != 3 {
		t.Errorf("t/A after the next merge: %v, %v", got, err)
	}
}
