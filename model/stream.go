package model

import (
	"context"
	"sync"
)

// Delta is one committed batch as seen by the change stream. Index lists
// refer to Structure (the structure the batch was committed against); read
// the values themselves from a snapshot (normally the latest: it is at least
// as new as the delta). When Structure is not the structure of the snapshot
// you read, a structure delta follows or was already processed: skip the
// index lists and rely on that one. The history keeps no structure but the
// newest alive: a delta committed before a structure change and read after
// it carries an empty placeholder structure and no index lists (what they
// listed is covered by the structure delta that follows).
type Delta struct {
	Seq uint64
	// Structure is the structure the index lists refer to.
	Structure *Structure
	// StructureChanged: locations, assets or tags were added, removed or
	// renamed. Index lists are empty; every index built on an older structure
	// is invalid and every value may have changed.
	StructureChanged bool
	// Power and Environment list location indexes, Tags tag indexes, Assets
	// asset indexes whose value or quality changed.
	Power, Environment, Tags, Assets []int32
	// Alarms and Alerts are the transitions of the batch, in order.
	Alarms []AlarmTransition
	Alerts []AlertTransition
	// HealthChanged: the upstream or feed state changed, so the effective
	// quality of every value may have changed.
	HealthChanged bool
	// Resync is set on a delta made up for a subscriber that fell behind by
	// more than the stream keeps: Missed deltas are lost to it. Treat it as a
	// structure change, and reconcile alarms against a snapshot's alarm list
	// (Snapshot.Alarms: transitions after Seq' carry Alarm.Seq > Seq').
	Resync bool
	Missed uint64
}

// stream is the ordered, bounded history of deltas. Appending never blocks;
// subscribers read at their own pace. It keeps at most len(ring) deltas and
// at most maxEntries entries of their index lists, dropping the oldest
// deltas first (the newest is always kept): in a large footprint where every
// reading changes every values cycle a cycle commits ~300 deltas with
// ~210,000 entries, so 4,096 deltas held ~14 cycles of lists (~15 MB).
// A subscriber behind the oldest delta kept gets a Resync.
type stream struct {
	mu         sync.Mutex
	ring       []*Delta
	first      uint64        // Seq of the oldest delta kept (the ring holds first..last)
	last       uint64        // Seq of the newest delta; 0: none yet
	entries    int           // index list entries of the deltas first..last
	maxEntries int           // bound on entries
	wake       chan struct{} // closed and replaced on every append
	seq        uint64        // last Seq handed out by nextSeq
}

func newStream(capacity, maxEntries int) *stream {
	return &stream{ring: make([]*Delta, capacity), first: 1, maxEntries: maxEntries, wake: make(chan struct{})}
}

// entriesOf returns how many index list entries d holds.
func entriesOf(d *Delta) int {
	return len(d.Power) + len(d.Environment) + len(d.Tags) + len(d.Assets)
}

// nextSeq reserves the next sequence number; called under the store's writer
// lock, so sequence numbers are appended in order.
func (st *stream) nextSeq() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	return st.seq
}

// retiredStructure replaces the structure of the deltas the history keeps
// from before a structure change, so an old structure (its locations, tags
// and indexes: ~100 MB in a large footprint) is not kept alive by up to
// History deltas after it was replaced. It equals no snapshot's structure.
var retiredStructure = buildStructure(0, map[string]*IBXStructure{}, nil)

func (st *stream) append(d *Delta) {
	st.mu.Lock()
	capacity := uint64(len(st.ring))
	if d.StructureChanged {
		// Replace, not modify: a subscriber may hold the old delta.
		for i, e := range st.ring {
			if e != nil && e.Structure != d.Structure && e.Structure != retiredStructure {
				st.entries -= entriesOf(e)
				r := *e
				r.Structure, r.Power, r.Environment, r.Tags, r.Assets = retiredStructure, nil, nil, nil, nil
				st.ring[i] = &r
			}
		}
	}
	if d.Seq >= st.first+capacity { // the ring is full: its oldest slot is d's
		st.drop()
	}
	st.ring[d.Seq%capacity] = d
	st.last = d.Seq
	st.entries += entriesOf(d)
	for st.entries > st.maxEntries && st.first < st.last {
		st.drop()
	}
	close(st.wake)
	st.wake = make(chan struct{})
	st.mu.Unlock()
}

// drop forgets the oldest delta kept.
func (st *stream) drop() {
	i := st.first % uint64(len(st.ring))
	if e := st.ring[i]; e != nil {
		st.entries -= entriesOf(e)
		st.ring[i] = nil
	}
	st.first++
}

// Subscription reads the change stream from the point it was created.
// It is not safe for concurrent use; each consumer takes its own.
type Subscription struct {
	store *Store
	next  uint64
}

// Subscribe returns the current snapshot and a subscription that delivers
// every delta committed after it, in order.
func (s *Store) Subscribe() (*Snapshot, *Subscription) {
	// Hold the writer lock so no commit slips between the two.
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.cur.Load()
	return snap, &Subscription{store: s, next: snap.seq + 1}
}

// Next returns the next delta, waiting for one until ctx is done. A
// subscriber that fell behind by more than the stream's history (History
// deltas, or fewer when their index lists hold more than HistoryEntries
// entries) gets a Resync delta describing what it missed, and continues
// from the newest.
func (sub *Subscription) Next(ctx context.Context) (*Delta, error) {
	st := sub.store.stream
	for {
		st.mu.Lock()
		if sub.next <= st.last {
			if sub.next < st.first {
				missed := st.last - sub.next + 1
				sub.next = st.last + 1
				st.mu.Unlock()
				snap := sub.store.Snapshot()
				return &Delta{Seq: snap.seq, Structure: snap.structure, StructureChanged: true, HealthChanged: true, Resync: true, Missed: missed}, nil
			}
			d := st.ring[sub.next%uint64(len(st.ring))]
			sub.next++
			st.mu.Unlock()
			return d, nil
		}
		wake := st.wake
		st.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Pending returns how many deltas are waiting for this subscriber.
func (sub *Subscription) Pending() uint64 {
	st := sub.store.stream
	st.mu.Lock()
	defer st.mu.Unlock()
	if sub.next > st.last {
		return 0
	}
	return st.last - sub.next + 1
}
