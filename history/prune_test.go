package history

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
)

// pagesHistory writes entities × cycles rows of two fields to s: a
// value that is a function of its series and time, so that any read can
// be checked.
func pagesHistory(t testing.TB, s *Store, entities, cycles int, from time.Time) {
	t.Helper()
	for c := 0; c < cycles; c += 100 {
		batch := map[string][]Sample{}
		for e := range entities {
			for _, f := range []string{"KVA", "Amps"} {
				key := fmt.Sprintf("E%04d#%s", e, f)
				for i := c; i < min(c+100, cycles); i++ {
					at := from.Add(time.Duration(i) * 30 * time.Second)
					batch[key] = append(batch[key], Sample{Time: at, Value: model.Number(pagesValue(e, f, at)), Quality: model.QualityGood})
				}
			}
		}
		if err := s.Append(batch); err != nil {
			t.Fatal(err)
		}
	}
}

func pagesValue(e int, f string, at time.Time) float64 {
	return float64(e*len(f)) + float64(at.Unix()%100000)/8
}

// roundLog counts the size cap's rounds a prune logs.
type roundLog struct {
	mu     sync.Mutex
	rounds int
}

func (l *roundLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *roundLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "size cap reached") {
		l.mu.Lock()
		l.rounds++
		l.mu.Unlock()
	}
	return nil
}
func (l *roundLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *roundLog) WithGroup(string) slog.Handler      { return l }

// TestSizeCapRounds: a store over its size cap whose stored times are
// spread by a few very old samples (a steady value recorded once days ago,
// kept as the value in force) gets under the cap in a round or two, and
// drops about what is over it, the oldest first. Cutting slices of the
// stored time span, each round dropped one of the old samples and little
// else.
func TestSizeCapRounds(t *testing.T) {
	tests := []struct {
		name string
		old  []time.Duration // before the recent data
		frac float64         // of the data the cap allows
		// sample bounds sizeCut's sample (0: as it is): small, the
		// sample is a few entities.
		sample int
	}{
		{"no outliers", nil, 0.5, 0},
		{"a few very old samples", []time.Duration{144 * time.Hour, 72 * time.Hour, 36 * time.Hour, 18 * time.Hour, 9 * time.Hour, 4 * time.Hour, 2 * time.Hour, time.Hour}, 0.5, 0},
		{"a little over the cap", []time.Duration{144 * time.Hour, time.Hour}, 0.9, 0},
		{"a sample of a few entities", []time.Duration{144 * time.Hour, 72 * time.Hour}, 0.5, 5000},
		// An entity of more rows (2,000) than the whole sample: a long
		// retention at a short interval.
		{"entities longer than the sample", []time.Duration{144 * time.Hour, 72 * time.Hour}, 0.5, 1500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sample > 0 {
				defer func(n int) { maxCutSample = n }(maxCutSample)
				maxCutSample = tt.sample
			}
			const entities, cycles = 200, 2000
			start := t0.Add(7 * 24 * time.Hour)
			c := &clock{start.Add(cycles * 30 * time.Second)}
			var rl roundLog
			s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{Retention: 30 * 24 * time.Hour, MaxBytes: 1 << 40, Logger: slog.New(&rl)})
			pagesHistory(t, s, entities, cycles, start)
			for i, d := range tt.old {
				if err := s.Append(map[string][]Sample{fmt.Sprintf("old%d#f", i): {{Time: start.Add(-d), Value: model.Number(1), Quality: model.QualityGood}}}); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := s.Stats()
			s.opts.MaxBytes = int64(float64(before.UsedBytes) * tt.frac)
			n, err := s.Prune(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			after, _ := s.Stats()
			t.Logf("%d rounds, %d of %d samples dropped, used %d → %d bytes, cap %d", rl.rounds, n, before.Samples, before.UsedBytes, after.UsedBytes, s.opts.MaxBytes)
			if after.UsedBytes > s.opts.MaxBytes {
				t.Fatalf("used %d bytes after the prune, cap %d", after.UsedBytes, s.opts.MaxBytes)
			}
			if rl.rounds > 2 {
				t.Errorf("%d rounds to get under the cap", rl.rounds)
			}
			// About what was over the cap, not much more: at most a tenth
			// of the cap beyond it (the margin is a 32nd).
			if lo := s.opts.MaxBytes - s.opts.MaxBytes/10; after.UsedBytes < lo {
				t.Errorf("used %d bytes after the prune: more dropped than the cap asks (%d)", after.UsedBytes, lo)
			}
			// Oldest first: the old samples went, every recent series keeps
			// its newest part whole.
			for i := range tt.old {
				if s.Has(fmt.Sprintf("old%d#f", i)) {
					t.Errorf("the sample %v old was kept", tt.old[i])
				}
			}
			got, _, _ := s.Read("E0000#KVA", Query{From: t0, To: c.now})
			if len(got) == 0 || len(got) == cycles || !got[len(got)-1].Time.Equal(start.Add((cycles-1)*30*time.Second)) {
				t.Fatalf("E0000#KVA holds %d samples", len(got))
			}
			for _, e := range []int{1, 99, 199} {
				other, _, _ := s.Read(fmt.Sprintf("E%04d#Amps", e), Query{From: t0, To: c.now})
				if d := len(other) - len(got); d < -1 || d > 1 {
					t.Errorf("E%04d#Amps holds %d samples, E0000#KVA %d: not cut at one time", e, len(other), len(got))
				}
			}
		})
	}
}

// TestPruneWalksOnlyPastTheSlack: a prune walks the series only once the
// oldest sample the rows may hold is past the retention by its slack, and
// then drops everything past the retention; samples a merge or a backfill
// writes after a walk lower the bound, so they are dropped in their turn.
func TestPruneWalksOnlyPastTheSlack(t *testing.T) {
	c := &clock{t0}
	s := open(t, filepath.Join(t.TempDir(), FileName), c, Options{Retention: time.Hour})
	slack := time.Hour / pruneSlack
	good := func(at time.Time) []Sample {
		return []Sample{{Time: at, Value: model.Number(1), Quality: model.QualityGood}}
	}
	if err := s.Append(map[string][]Sample{"A#f": good(t0.Add(-59 * time.Minute)), "B#f": good(t0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(context.Background()); err != nil { // into the rows (a merge opens cursors too)
		t.Fatal(err)
	}
	walks := func() int64 { st := s.db.Stats(); return st.TxStats.GetCursorCount() }
	prune := func(at time.Time, wantDropped int, wantWalk bool) {
		t.Helper()
		c.now = at
		before := walks()
		n, err := s.Prune(context.Background())
		if err != nil || n != wantDropped {
			t.Fatalf("prune at %s: %d dropped, %v; want %d", at.Sub(t0), n, err, wantDropped)
		}
		if walked := walks() != before; walked != wantWalk {
			t.Fatalf("prune at %s walked %v, want %v", at.Sub(t0), walked, wantWalk)
		}
	}
	prune(t0, 0, true)                                     // the bound is unknown at first: a walk finds A the oldest
	prune(t0.Add(time.Minute), 0, false)                   // A is 1 h old: nothing past the retention
	prune(t0.Add(time.Minute+slack-time.Second), 0, false) // A is past it by less than the slack
	prune(t0.Add(time.Minute+slack+time.Second), 1, true)  // by more: dropped
	if s.Has("A#f") || !s.Has("B#f") {
		t.Fatal("A, past the retention, is kept, or B, within it, is dropped")
	}
	prune(t0.Add(2*time.Minute), 0, false) // B at t0 is the oldest now

	// A backfill below the bound: its sample is dropped once past the retention and the slack.
	c.now = t0.Add(3 * time.Minute)
	if _, err := s.Backfill(context.Background(), "C#f", good(t0.Add(-56*time.Minute))); err != nil {
		t.Fatal(err)
	}
	prune(t0.Add(4*time.Minute+slack+time.Second), 1, true)
	if s.Has("C#f") {
		t.Fatal("the backfilled sample past the retention is kept")
	}

	// A merge of the log below the bound: the same.
	c.now = t0.Add(5 * time.Minute)
	if err := s.Append(map[string][]Sample{"D#f": good(t0.Add(-54 * time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	prune(t0.Add(6*time.Minute), 0, false)
	prune(t0.Add(6*time.Minute+slack+time.Second), 1, true)
	if s.Has("D#f") || !s.Has("B#f") {
		t.Fatal("the merged sample past the retention is kept, or B is dropped")
	}
}

// TestRowsFloor: a write committed during a walk keeps the walk from
// raising the bound over it; a walk that did not finish leaves the bound.
func TestRowsFloor(t *testing.T) {
	for _, tt := range []struct {
		name                       string
		before, during, walk, want int64
		ok                         bool
	}{
		{"walk raises", 10, 0, 50, 50, true},
		{"write during the walk", 10, 30, 50, 30, true},
		{"write during, above the walk's", 10, 70, 50, 50, true},
		{"walk not done", 10, 0, 50, 10, false},
		{"walk not done, write during", 10, 5, 50, 5, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := rowsFloor{ns: tt.before}
			f.startWalk()
			if tt.during != 0 {
				f.lower(tt.during)
			}
			f.endWalk(tt.walk, tt.ok)
			if got := f.get(); got != tt.want {
				t.Errorf("bound %d, want %d", got, tt.want)
			}
			f.lower(tt.want - 1) // outside a walk: at once
			if got := f.get(); got != tt.want-1 {
				t.Errorf("bound after a write %d, want %d", got, tt.want-1)
			}
		})
	}
}
