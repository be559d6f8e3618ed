package history

// How far the file was recorded: the newest sample time Append wrote, kept
// in the file beside the series.
//
// Why. A start's backfill must tell the samples the previous run recorded
// from the ones this run records. By time alone it cannot when the stop was
// shorter than a reading's lag (the sync's stale_after): this run's first
// readings carry source times before its start, so the backfill draws the
// line at the start less the lag, and the previous run's last samples,
// after that line, were taken for this run's and closed the gap between the
// stop and the start, which then stayed empty. The previous run's newest
// sample is that line, read at Open before this run writes anything: a key
// in the file costs one Put per Append, where finding it by walking every
// entity (and merging the log first) would cost the cold start seconds on a
// large file.

import (
	"encoding/binary"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	metaBucket       = []byte("meta")
	recordedUntilKey = []byte("recorded-until")
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
