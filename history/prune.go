package history

// What the store drops: samples past the retention, the oldest while the
// data exceeds the size cap (Prune), and samples newer than a time
// (DropAfter). Apart from the reads and writes of store.go because a prune
// walks every entity and must stay bounded and stoppable.

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// used returns the bytes of the file that hold data.
func (s *Store) used() int64 {
	ds := s.db.Stats()
	var size int64
	_ = s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	free := int64(ds.FreePageN+ds.PendingPageN) * int64(s.pageSize)
	return max(size-free, 0)
}

// Prune drops what retention and the size cap no longer allow, oldest
// first, and returns how many samples it dropped. It stops when ctx is done
// (with ctx's error), between transactions of bounded size: what it
// dropped so far is committed, the rest is left for the next prune.
//
// Over the size cap, each round drops the oldest data worth what the file
// holds beyond the cap and a margin (sizeCut: the bytes by time of a sample
// of the entities), so one round usually gets under the cap however the
// stored times are spread (a few very old samples made the slices of the
// stored time span this used before drop next to nothing, a walk of every
// entity each); the rounds after it correct an estimate that fell short.
// The bytes dropped are not all freed at once: bbolt frees a page when no
// entry is left on it, so an entity's oldest page, partly dropped, stays
// until a later prune empties it. Hence the margin, doubled each round that
// did not get under the cap.
func (s *Store) Prune(ctx context.Context) (int, error) {
	dropped, err := s.dropBefore(ctx, s.opts.Now().Add(-s.opts.Retention), s.opts.Retention/pruneSlack)
	if err != nil {
		return dropped, err
	}
	for round := range maxCapRounds {
		if err := ctx.Err(); err != nil {
			return dropped, err
		}
		used := s.used()
		if used <= s.opts.MaxBytes {
			return dropped, nil
		}
		need := used - s.opts.MaxBytes + s.opts.MaxBytes/capMargin<<min(round, 4)
		cut, ok, err := s.sizeCut(ctx, float64(need)/float64(used))
		if err == nil && !ok {
			// Nothing in the rows: what there is is in the log.
			if _, n, _, _, _ := s.wlog.summary(); n > 0 {
				if err = s.Merge(ctx); err == nil {
					cut, ok, err = s.sizeCut(ctx, float64(need)/float64(used))
				}
			}
		}
		if err != nil || !ok {
			return dropped, err
		}
		n, err := s.dropBefore(ctx, cut, 0)
		dropped += n
		if err != nil {
			return dropped, err
		}
		s.log.Info("history: size cap reached, oldest samples dropped", "max_bytes", s.opts.MaxBytes, "used_bytes", used, "before", cut, "dropped", n)
	}
	return dropped, nil
}

// The size cap's rounds: at most maxCapRounds a prune, each dropping what
// is over the cap and a margin, MaxBytes/capMargin in the first round (so
// that a file at its cap is not pruned again every minute for a few
// samples), twice that in the next, up to half the cap; sizeCut's sample is
// at most maxCutSample entries.
const (
	maxCapRounds = 16
	capMargin    = 32
)

var maxCutSample = 1 << 16 // 1 MiB of cutEntry

// cutEntry is an entry of sizeCut's sample: its time and the bytes it
// stands for (its own size times the entity's row stride).
type cutEntry struct {
	ns    int64
	bytes float32
	ent   int32 // the entity's number in the walk, from 1
}

// sizeCut returns the time before which the oldest entries hold about the
// fraction frac of the stored bytes. It estimates the bytes by time from a
// systematic sample of the entities, every stride-th in the walk: the
// stride starts at 1 and doubles (dropping half of what was sampled)
// whenever the sample outgrows maxCutSample, so the walk holds at most
// maxCutSample entries. Of a sampled entity it keeps every entry until the
// entity alone holds a quarter of the sample, then every second, fourth, …
// entry, each standing for the ones skipped beside it: an entity of more
// rows than the whole sample (a long retention at a short interval) would
// otherwise push every entity out of it, and leave the cut at the oldest
// entry, a round dropping next to nothing. The cut is past
// the oldest entry of all, so a round always drops something. It stops
// with ctx's error when ctx is done.
func (s *Store) sizeCut(ctx context.Context, frac float64) (cut time.Time, ok bool, err error) {
	sample := make([]cutEntry, 0, maxCutSample+1)
	stride, ent := int32(1), int32(0)
	oldest := int64(math.MaxInt64)
	err = s.db.View(func(tx *bolt.Tx) error {
		return s.forEachEntity(ctx, tx, func(_ []byte, b *bolt.Bucket) error {
			ent++
			c := b.Cursor()
			k, v := c.First()
			if k == nil {
				return nil
			}
			oldest = min(oldest, keyNs(k))
			if ent%stride != 0 {
				return nil
			}
			first, rows := len(sample), 1 // this entity's entries in sample; its row stride
			for n := 0; k != nil; k, v = c.Next() {
				if n++; n%ctxCheckEvery == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				if n%rows != 0 {
					continue
				}
				sample = append(sample, cutEntry{keyNs(k), float32((len(k) + len(v) + 16) * rows), ent}) // 16: bbolt's leaf element
				if len(sample)-first > maxCutSample/4 {
					// Every second of this entity's entries, each standing for two.
					rows *= 2
					kept := first
					for i := first + 1; i < len(sample); i += 2 {
						e := sample[i]
						e.bytes *= 2
						sample[kept] = e
						kept++
					}
					sample = sample[:kept]
				}
				if len(sample) > maxCutSample {
					stride *= 2
					sample = slices.DeleteFunc(sample, func(e cutEntry) bool { return e.ent%stride != 0 })
					if ent%stride != 0 {
						break
					}
					// This entity's entries stay together at the end.
					first = slices.IndexFunc(sample, func(e cutEntry) bool { return e.ent == ent })
				}
			}
			return nil
		})
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("history: prune: %w", err)
	}
	if oldest == math.MaxInt64 {
		return time.Time{}, false, nil
	}
	slices.SortFunc(sample, func(a, b cutEntry) int { return cmp.Compare(a.ns, b.ns) })
	var total float64
	for _, e := range sample {
		total += float64(e.bytes)
	}
	at, sum := oldest, 0.0
	for _, e := range sample {
		if sum >= frac*total {
			break
		}
		sum += float64(e.bytes)
		at = e.ns
	}
	if at == math.MaxInt64 {
		return maxKeyTime, true, nil
	}
	return time.Unix(0, at+1).UTC(), true, nil
}

// DropAfter deletes every sample newer than t, in every series, and returns
// how many. It is for an operator discarding readings stamped by a clock
// that ran ahead, and for tests that simulate a gateway that was down (the
// gap then left is what a backfill fills).
func (s *Store) DropAfter(t time.Time) (int, error) {
	if err := s.Merge(context.Background()); err != nil {
		return 0, err
	}
	tk := timeKey(t.Add(time.Nanosecond))
	dropped := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		dropped = 0
		if err := markRecorded(tx, unixNano(t), true); err != nil {
			return err
		}
		root := tx.Bucket(rootBucket)
		return root.ForEachBucket(func(name []byte) error {
			c := root.Bucket(name).Cursor()
			for k, v := c.Seek(tk); k != nil; k, v = c.Seek(tk) {
				dropped += entrySamples(k, v)
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("history: drop after %s: %w", t.Format(time.RFC3339), err)
	}
	return dropped, nil
}

// The bounds of a prune's work between two looks at its context: entities
// walked in a read transaction, and what one write transaction deletes
// (samples, entities visited) before it commits. A write transaction over
// every entity of the large profile held the file for tens of seconds, and
// a stop waited for it. Variables, so that tests can make them small.
var (
	ctxCheckEvery      = 4096
	maxDropsPerTx      = 1 << 17
	maxEntitiesPerDrop = 1 << 14
)

// pruneSlack: retention is applied once the oldest sample is 1/pruneSlack
// of the retention past it (~79 minutes at the default 7 days, 28 s at the
// least retention of an hour), not as soon as any is. Finding what is past
// it walks every series, a page or more of each: on the large profile a
// walk each minute was ~0.2 CPU-s of every 30 s values cycle, mostly the
// page faults of mapping the file again (BENCHMARKS.md, issue 14,
// garbage14g), for a minute's samples of a few series. The file holds at
// most that fraction more than the retention.
const pruneSlack = 128

// rowsFloor is a lower bound on the time of every sample in the rows, so
// that a prune walks the series only when some may be old enough to drop.
// A walk of every series sets it; a write of older samples lowers it after
// its commit. A write committed while a walk is under way may be one the
// walk did not see: what such writes lowered it to is kept apart (low) and
// the walk's result cannot raise the bound above it.
type rowsFloor struct {
	mu      sync.Mutex
	ns      int64 // Unix ns; math.MinInt64 until the first walk (Open)
	walking bool
	low     int64 // the lowest lowered during the walk
}

func (f *rowsFloor) get() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ns
}

// lower records a committed write of samples from ns on.
func (f *rowsFloor) lower(ns int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ns = min(f.ns, ns)
	if f.walking {
		f.low = min(f.low, ns)
	}
}

// startWalk is called before a walk's read transaction begins.
func (f *rowsFloor) startWalk() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.walking, f.low = true, math.MaxInt64
}

// endWalk sets the bound the walk found (ok: the walk and its drops were
// done; else the bound stays as it was).
func (f *rowsFloor) endWalk(ns int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		f.ns = min(ns, f.low)
	}
	f.walking = false
}

// dropBefore deletes every sample older than t, and series left empty, when
// the rows may hold one older than t minus slack (the store's rowsFloor),
// after merging the log if it holds one older than t. The
// series holding such samples are found in a read transaction first: a
// write transaction that opens every series (over 200,000 on the large
// profile) costs its commit a pass over all of them, and most prunes find
// nothing to drop. They are then pruned in write transactions of bounded
// size, each committed whole; when ctx is done it stops after the current
// one and returns ctx's error with what was dropped.
func (s *Store) dropBefore(ctx context.Context, t time.Time, slack time.Duration) (int, error) {
	cut := unixNano(t)
	if err := s.mergeBefore(ctx, cut); err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	if s.floor.get() >= cut-int64(slack) {
		return 0, nil
	}
	s.floor.startWalk()
	floor, walked := int64(math.MaxInt64), false
	defer func() { s.floor.endWalk(floor, walked) }()
	tk := timeKey(t)
	var old [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		return s.forEachEntity(ctx, tx, func(name []byte, b *bolt.Bucket) error {
			c := b.Cursor()
			k, _ := c.First()
			if k == nil || bytes.Compare(k, tk) < 0 {
				old = append(old, append([]byte(nil), name...))
				k, _ = c.Seek(tk) // what is left of it after the drop
			}
			if k != nil {
				floor = min(floor, keyNs(k))
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	dropped := 0
	for len(old) > 0 {
		if err := ctx.Err(); err != nil {
			return dropped, fmt.Errorf("history: prune: %w", err)
		}
		n, done, err := s.dropSome(old, tk)
		if err != nil {
			return dropped, fmt.Errorf("history: prune: %w", err)
		}
		dropped += n
		old = old[done:]
	}
	walked = true
	return dropped, nil
}

// dropSome deletes the samples before tk of the first of the entities
// names, in one write transaction of bounded size, deleting those left
// empty; it returns how many samples it deleted and how many entities it
// finished.
func (s *Store) dropSome(names [][]byte, tk []byte) (dropped, done int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		dropped, done = 0, 0
		root := tx.Bucket(rootBucket)
		var empty [][]byte
		for _, name := range names {
			if dropped >= maxDropsPerTx || done >= maxEntitiesPerDrop {
				break
			}
			done++
			b := root.Bucket(name)
			if b == nil {
				continue
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil && bytes.Compare(k, tk) < 0; k, v = c.First() {
				dropped += entrySamples(k, v)
				if err := c.Delete(); err != nil {
					return err
				}
			}
			if k, _ := c.First(); k == nil {
				empty = append(empty, name)
			}
		}
		for _, name := range empty {
			if err := root.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	return dropped, done, err
}
