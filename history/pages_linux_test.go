//go:build linux

package history

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
)

// mappedRss is the resident size of the process's mappings of path, from
// /proc/self/smaps (the "Rss:" of each mapping whose file is path).
func mappedRss(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[5] == path
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q", line)
			}
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestMappedPagesDropped: the pages of the history file a walk read are in
// the process's RSS (the Rss of the file's mapping); after the drop they
// are not, and every sample reads back the same.
func TestMappedPagesDropped(t *testing.T) {
	defer func(d time.Duration) { pageDropInterval = d }(pageDropInterval)
	pageDropInterval = 0 // no periodic drop: this test drops by hand
	c := &clock{t0.Add(30 * 24 * time.Hour)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{Retention: 60 * 24 * time.Hour})
	pagesHistory(t, s, 200, 2000, t0)

	before, err := s.Stats() // a walk of every entry
	if err != nil {
		t.Fatal(err)
	}
	key := "E0123#KVA"
	read0, _, err := s.Read(key, Query{From: t0, To: c.now})
	if err != nil || len(read0) != 2000 {
		t.Fatalf("read %d samples, %v", len(read0), err)
	}
	resident := mappedRss(t, path)
	if resident < 8<<20 {
		t.Fatalf("only %d bytes of the file mapped after walking %d bytes of data: test data too small", resident, before.UsedBytes)
	}
	if err := s.dropPages(); err != nil {
		t.Fatal(err)
	}
	after := mappedRss(t, path)
	t.Logf("mapped Rss of %s: %d kB after a walk, %d kB after the drop (file %d kB)", FileName, resident>>10, after>>10, before.FileBytes>>10)
	if after > resident/8 {
		t.Errorf("mapped Rss %d bytes after the drop, %d before", after, resident)
	}

	// The same data afterwards.
	st, err := s.Stats()
	if err != nil || st.Samples != before.Samples || st.Entities != before.Entities {
		t.Fatalf("after the drop: %+v, %v; before %+v", st, err, before)
	}
	read1, _, err := s.Read(key, Query{From: t0, To: c.now})
	if err != nil || !reflect.DeepEqual(read0, read1) {
		t.Fatalf("read after the drop differs: %d samples, %v", len(read1), err)
	}
	for i, smp := range read1 {
		if want := pagesValue(123, "KVA", smp.Time); smp.Value.Num != want || !smp.Time.Equal(t0.Add(time.Duration(i)*30*time.Second)) {
			t.Fatalf("sample %d: %+v, want %v", i, smp, want)
		}
	}
	if smp, ok, err := s.Nearest("E0007#Amps", t0.Add(time.Hour+time.Second), true); err != nil || !ok || smp.Value.Num != pagesValue(7, "Amps", t0.Add(time.Hour)) {
		t.Fatalf("nearest after the drop: %+v %v %v", smp, ok, err)
	}
}

// TestMappedPagesDroppedPeriodically: the store's own drops (every
// pageDropInterval after transactions ran) take a walk's pages out of the
// process's RSS without being asked.
func TestMappedPagesDroppedPeriodically(t *testing.T) {
	defer func(d time.Duration) { pageDropInterval = d }(pageDropInterval)
	pageDropInterval = 20 * time.Millisecond
	c := &clock{t0.Add(30 * 24 * time.Hour)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{Retention: 60 * 24 * time.Hour})
	pagesHistory(t, s, 100, 2000, t0)
	if _, err := s.Stats(); err != nil {
		t.Fatal(err)
	}
	// Bounded wait: the drop follows within an interval of the walk.
	rss := mappedRss(t, path)
	for range 500 {
		if rss < 1<<20 {
			return
		}
		time.Sleep(10 * time.Millisecond)
		rss = mappedRss(t, path)
	}
	t.Fatalf("mapped Rss still %d bytes 5 s after the walk", rss)
}

// TestMappedPagesDropRace: drops beside concurrent reads, appends that grow
// the file (bbolt maps it anew), prunes and backfills; every read returns
// samples as written. Run with -race.
func TestMappedPagesDropRace(t *testing.T) {
	defer func(d time.Duration) { pageDropInterval = d }(pageDropInterval)
	pageDropInterval = time.Millisecond // the store's own drops too
	now := t0.Add(24 * time.Hour)
	var mu sync.Mutex
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	path := filepath.Join(t.TempDir(), FileName)
	s, err := Open(Options{Path: path, Retention: 6 * time.Hour, Now: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const entities, rounds = 50, 60
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	// The writer: 60 rounds of 100 cycles (30 s apart) of 50 entities,
	// the clock following, so that prunes drop the oldest.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		for r := range rounds {
			from := t0.Add(time.Duration(r*100) * 30 * time.Second)
			mu.Lock()
			now = from.Add(100 * 30 * time.Second)
			mu.Unlock()
			batch := map[string][]Sample{}
			for e := range entities {
				for _, f := range []string{"KVA", "Amps"} {
					key := fmt.Sprintf("E%04d#%s", e, f)
					for i := range 100 {
						at := from.Add(time.Duration(i) * 30 * time.Second)
						batch[key] = append(batch[key], Sample{Time: at, Value: model.Number(pagesValue(e, f, at)), Quality: model.QualityGood})
					}
				}
			}
			if err := s.Append(batch); err != nil {
				fail(err)
				return
			}
		}
	}()
	// Prunes (retention) and backfills of a series of its own.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				fail(err)
				return
			}
			at := clk().Add(-time.Duration(i%50) * time.Minute)
			if _, err := s.Backfill(ctx, "B#f", []Sample{{Time: at, Value: model.Number(math.Pi), Quality: model.QualityGood}}); err != nil && ctx.Err() == nil {
				fail(err)
				return
			}
		}
	}()
	// Drops by hand besides the store's own.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := s.dropPages(); err != nil {
				fail(err)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	// Readers, as HistoryRead reads: ranges and bounds.
	reads := make([]int, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				e, f := (i*7+g)%entities, []string{"KVA", "Amps"}[i%2]
				key := fmt.Sprintf("E%04d#%s", e, f)
				got, _, err := s.Read(key, Query{From: t0, To: clk(), Reverse: i%3 == 0})
				if err != nil {
					fail(err)
					return
				}
				for _, smp := range got {
					if smp.Value.Num != pagesValue(e, f, smp.Time) {
						fail(fmt.Errorf("%s at %v: %v, want %v", key, smp.Time, smp.Value.Num, pagesValue(e, f, smp.Time)))
						return
					}
				}
				if smp, ok, err := s.Nearest(key, clk(), true); err != nil || ok && smp.Value.Num != pagesValue(e, f, smp.Time) {
					fail(fmt.Errorf("nearest %s: %+v %v", key, smp, err))
					return
				}
				reads[g]++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// What the retention keeps of the last 6 hours (720 cycles) of each series.
	got, _, _ := s.Read("E0049#KVA", Query{From: t0, To: clk()})
	if len(got) != 721 && len(got) != 720 {
		t.Errorf("E0049#KVA holds %d samples after the run, want the retention's 720", len(got))
	}
	t.Logf("reads %v, %+v", reads, st)
}

// walkedRss is the mapped Rss of path after Stats, which merges, then reads
// every page of the file: what a walk maps with no drop between (at least
// 4 MB, or the test's data is too small to tell).
func walkedRss(t *testing.T, s *Store, path string) int64 {
	t.Helper()
	if _, err := s.Stats(); err != nil {
		t.Fatal(err)
	}
	walked := mappedRss(t, path)
	if walked < 4<<20 {
		t.Fatalf("only %d bytes mapped after a walk of the file: test data too small", walked)
	}
	return walked
}

// TestMergeDropsItsPages: a merge reads the newest pages of every entity in
// the log; it drops them every dropEvery entities and after each of its
// transactions, so little stays mapped during it and nothing after.
func TestMergeDropsItsPages(t *testing.T) {
	defer func(d time.Duration, n, e int) { pageDropInterval, mergeEntitiesPerTx, dropEvery = d, n, e }(pageDropInterval, mergeEntitiesPerTx, dropEvery)
	pageDropInterval, mergeEntitiesPerTx, dropEvery = 0, 1000, 64 // no periodic drop; 4 transactions a merge, 15 drops in each
	c := &clock{t0.Add(24 * time.Hour)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{})
	const entities = 4000
	pagesHistory(t, s, entities, 100, t0)
	walked := walkedRss(t, s, path)
	if err := s.dropPages(); err != nil {
		t.Fatal(err)
	}
	pagesHistory(t, s, entities, 1, t0.Add(time.Hour)) // one more sample for every entity, in the log
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := mappedRss(t, path)
	t.Logf("mapped Rss: %d kB after a walk, %d kB after a merge of every entity", walked>>10, after>>10)
	if after > walked/8 {
		t.Errorf("mapped Rss %d bytes after a merge of every entity, %d after a walk of the file", after, walked)
	}
}

// TestWalksDropTheirPages: a walk of every entity (a prune's, Newest's)
// drops what it read every dropEvery entities, so what stays mapped
// when it returns is a part of the file, not the file.
func TestWalksDropTheirPages(t *testing.T) {
	defer func(d time.Duration, n int) { pageDropInterval, dropEvery = d, n }(pageDropInterval, dropEvery)
	pageDropInterval, dropEvery = 0, 64 // no periodic drop; 62 drops a walk
	c := &clock{t0.Add(24 * time.Hour)}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path, c, Options{})
	const entities = 4000
	pagesHistory(t, s, entities, 100, t0)
	for _, w := range []struct {
		name string
		walk func() error
	}{
		{"Newest", func() error { _, _, err := s.Newest(context.Background(), c.now); return err }},
		{"Prune", func() error { _, err := s.Prune(context.Background()); return err }},
	} {
		walked := walkedRss(t, s, path)
		if err := w.walk(); err != nil {
			t.Fatal(err)
		}
		after := mappedRss(t, path)
		t.Logf("%s: mapped Rss %d kB after Stats, %d kB after it", w.name, walked>>10, after>>10)
		if after > walked/8 {
			t.Errorf("%s: mapped Rss %d bytes after it, %d after Stats", w.name, after, walked)
		}
	}
}
