package history

// What the store drops: samples past the retention, the oldest while the
// data exceeds the size cap (Prune), and samples newer than a time
// (DropAfter). Apart from the reads and writes of store.go because a prune
// walks every entity and must stay bounded and stoppable.

import (
	"bytes"
	"context"
	"fmt"
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
func (s *Store) Prune(ctx context.Context) (int, error) {
	dropped, err := s.dropBefore(ctx, s.opts.Now().Add(-s.opts.Retention))
	if err != nil {
		return dropped, err
	}
	for range 64 { // bounded: each round drops a slice of the oldest data
		if err := ctx.Err(); err != nil {
			return dropped, err
		}
		if s.used() <= s.opts.MaxBytes {
			return dropped, nil
		}
		oldest, newest, ok, err := s.span(ctx)
		if err == nil && !ok {
			// Nothing in the rows: what there is is in the log.
			if _, n, _, _, _ := s.wlog.summary(); n > 0 {
				if err = s.Merge(ctx); err == nil {
					oldest, newest, ok, err = s.span(ctx)
				}
			}
		}
		if err != nil || !ok {
			return dropped, err
		}
		step := max(newest.Sub(oldest)/16, time.Second)
		n, err := s.dropBefore(ctx, oldest.Add(step))
		dropped += n
		if err != nil {
			return dropped, err
		}
		s.log.Info("history: size cap reached, oldest samples dropped", "max_bytes", s.opts.MaxBytes, "before", oldest.Add(step), "dropped", n)
	}
	return dropped, nil
}

// span returns the oldest and newest sample times of the whole store (a
// walk of every entity: it stops with ctx's error when ctx is done).
func (s *Store) span(ctx context.Context) (oldest, newest time.Time, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		return forEachEntity(ctx, tx, func(_ []byte, b *bolt.Bucket) error {
			c := b.Cursor()
			if k, _ := c.First(); k != nil {
				if t := keyTime(k); !ok || t.Before(oldest) {
					oldest = t
				}
				ok = true
			}
			if k, _ := c.Last(); k != nil {
				if t := keyTime(k); t.After(newest) {
					newest = t
				}
			}
			return nil
		})
	})
	return oldest, newest, ok, err
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

// dropBefore deletes every sample older than t, and series left empty. The
// series holding such samples are found in a read transaction first: a
// write transaction that opens every series (over 200,000 on the large
// profile) costs its commit a pass over all of them, and most prunes find
// nothing to drop. They are then pruned in write transactions of bounded
// size, each committed whole; when ctx is done it stops after the current
// one and returns ctx's error with what was dropped.
func (s *Store) dropBefore(ctx context.Context, t time.Time) (int, error) {
	if err := s.mergeBefore(ctx, unixNano(t)); err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	tk := timeKey(t)
	var old [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		return forEachEntity(ctx, tx, func(name []byte, b *bolt.Bucket) error {
			if k, _ := b.Cursor().First(); k == nil || bytes.Compare(k, tk) < 0 {
				old = append(old, append([]byte(nil), name...))
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
