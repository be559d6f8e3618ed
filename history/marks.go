package history

// What the file keeps about its recording, beside the series: how far it was
// recorded, and the backfill's fills not finished yet.
//
// How far. A start's backfill must tell the samples the previous run
// recorded from the ones this run records. By time alone it cannot when the
// stop was shorter than a reading's lag (the sync's stale_after): this run's
// first readings carry source times before its start, so the backfill draws
// the line at the start less the lag, and the previous run's last samples,
// after that line, were taken for this run's and closed the gap between the
// stop and the start, which then stayed empty. The previous run's newest
// sample is that line, read at Open before this run writes anything: a key
// in the file costs one Put per Append, where finding it by walking every
// entity (and merging the log first) would cost the cold start seconds on a
// large file.
//
// Fills. A fill lasts hours on a large footprint (the first start's fills
// the whole retention, 200 series a cycle). Stopped before its end, it left
// the series it had not reached yet without their history: the next start
// looks for the gap since the stop only. So a fill is kept in the file from
// when it is known until it is done, and the next run does it again first
// (the series it filled are looked at again: they have little or no gap
// left).

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	metaBucket       = []byte("meta")
	recordedUntilKey = []byte("recorded-until")
	fillsBucket      = []byte("fills")
)

// RecordedUntil returns the newest sample time Append had written to the file
// when it was opened (never after the clock at that Append): where the
// previous run's recording stopped. ok is false for a new file and for one an
// earlier release wrote.
func (s *Store) RecordedUntil() (t time.Time, ok bool) {
	if s.recordedUntil == math.MinInt64 {
		return time.Time{}, false
	}
	return time.Unix(0, s.recordedUntil).UTC(), true
}

// loadRecordedUntil reads the file's mark (Open).
func (s *Store) loadRecordedUntil(tx *bolt.Tx) {
	s.recordedUntil = math.MinInt64
	if b := tx.Bucket(metaBucket); b != nil {
		if v := b.Get(recordedUntilKey); len(v) == 8 {
			s.recordedUntil = int64(binary.BigEndian.Uint64(v))
		}
	}
}

// markRecorded moves the file's mark forward to ns (Append), or back to ns
// when back is set (DropAfter: what was dropped was not recorded).
func markRecorded(tx *bolt.Tx, ns int64, back bool) error {
	b, err := tx.CreateBucketIfNotExists(metaBucket)
	if err != nil {
		return err
	}
	if v := b.Get(recordedUntilKey); len(v) == 8 {
		old := int64(binary.BigEndian.Uint64(v))
		if old == ns || (old > ns) != back {
			return nil
		}
	} else if back {
		return nil
	}
	return b.Put(recordedUntilKey, binary.BigEndian.AppendUint64(nil, uint64(ns)))
}

// Fill is a backfill's gap as the file keeps it until the fill is done: the
// moment the gap began (Cutoff) and how far the recording was known to go
// (Floor; zero: not known), what the backfill's FindGap takes, and why it
// began (the backfill's reason: "start", "outage").
type Fill struct {
	Cutoff, Floor time.Time
	Reason        string
}

// maxFills bounds the fills kept: past it, the oldest is forgotten (a fill
// stopped that many times in a row).
const maxFills = 16

// Fills returns the fills kept, oldest cutoff first.
func (s *Store) Fills() ([]Fill, error) {
	var out []Fill
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(fillsBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) < 8 {
				return fmt.Errorf("history: a kept fill of %d+%d bytes", len(k), len(v))
			}
			f := Fill{Cutoff: keyTime(k), Reason: string(v[8:])}
			if ns := int64(binary.BigEndian.Uint64(v)); ns != math.MinInt64 {
				f.Floor = time.Unix(0, ns).UTC()
			}
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// KeepFill keeps f until DoneFill (a fill of the same cutoff replaces it).
func (s *Store) KeepFill(f Fill) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(fillsBucket)
		if err != nil {
			return err
		}
		floor := int64(math.MinInt64)
		if !f.Floor.IsZero() {
			floor = f.Floor.UnixNano()
		}
		v := append(binary.BigEndian.AppendUint64(nil, uint64(floor)), f.Reason...)
		if err := b.Put(timeKey(f.Cutoff), v); err != nil {
			return err
		}
		n := 0
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		for ; n > maxFills; n-- {
			k, _ := c.First()
			if err := c.Delete(); err != nil || k == nil {
				return err
			}
		}
		return nil
	})
}

// DoneFill forgets the fill of f's cutoff.
func (s *Store) DoneFill(f Fill) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(fillsBucket); b != nil {
			return b.Delete(timeKey(f.Cutoff))
		}
		return nil
	})
}
