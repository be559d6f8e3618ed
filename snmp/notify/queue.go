package notify

import (
	"context"
	"sync"
	"time"
)

// entry is an event waiting for one target, with that target's delivery
// state.
type entry struct {
	ev         *event
	attempts   int // failed attempts so far
	prev, next *entry
}

// queue is a target's bounded FIFO of events. Pushing never blocks: when
// the queue is full, push makes room by the storm policy (see the package
// documentation) and returns what it dropped. The entry being delivered
// (taken by next and not yet done or released) is never dropped.
type queue struct {
	capacity int // soft bound: clears may exceed it up to hardCap
	hardCap  int

	mu         sync.Mutex
	head, tail *entry
	n          int
	clears     int
	newest     map[string]*entry // subject → its newest queued entry
	busy       *entry            // taken by next
	wake       chan struct{}     // signalled on push and release
}

func newQueue(capacity int) *queue {
	return &queue{capacity: capacity, hardCap: 4 * capacity, newest: map[string]*entry{}, wake: make(chan struct{}, 1)}
}

// supersededScan bounds the search for a superseded entry, so a push into
// a full queue costs at most this many steps before falling back.
const supersededScan = 512

// push appends ev (or restored state) and returns the events dropped to
// make room; ev itself is among them when it could not be queued.
func (q *queue) push(ev *event, attempts int) (dropped []*event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n >= q.capacity {
		victim := q.victim(ev.subject)
		switch {
		case victim != nil:
			q.unlink(victim)
			dropped = append(dropped, victim.ev)
		case !ev.clear():
			return []*event{ev} // full of clears: a non-clear waits for none
		case q.n >= q.hardCap:
			if oldest := q.oldestClear(); oldest != nil {
				q.unlink(oldest)
				dropped = append(dropped, oldest.ev)
			} else {
				return []*event{ev}
			}
		}
	}
	e := &entry{ev: ev, attempts: attempts, prev: q.tail}
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
	q.n++
	if ev.clear() {
		q.clears++
	}
	q.newest[ev.subject] = e
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return dropped
}

// victim chooses the entry to drop from a full queue for an incoming event
// of subject: the oldest non-clear whose subject has a newer entry queued or
// incoming (superseded: the newer one tells the manager where the alarm
// stands), else the oldest non-clear; nil when the queue holds only clears
// (and the entry being delivered).
func (q *queue) victim(subject string) *entry {
	if q.n-q.clears == 0 {
		return nil
	}
	var oldest *entry
	i := 0
	for e := q.head; e != nil && i < supersededScan; e, i = e.next, i+1 {
		if e == q.busy || e.ev.clear() {
			continue
		}
		if oldest == nil {
			oldest = e
		}
		if q.newest[e.ev.subject] != e || e.ev.subject == subject {
			return e
		}
	}
	if oldest == nil { // beyond the scan: the first non-clear at all
		for e := q.head; e != nil; e = e.next {
			if e != q.busy && !e.ev.clear() {
				return e
			}
		}
	}
	return oldest
}

func (q *queue) oldestClear() *entry {
	for e := q.head; e != nil; e = e.next {
		if e != q.busy && e.ev.clear() {
			return e
		}
	}
	return nil
}

func (q *queue) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next = nil, nil
	q.n--
	if e.ev.clear() {
		q.clears--
	}
	if q.newest[e.ev.subject] == e {
		delete(q.newest, e.ev.subject)
		// An older entry of the subject becomes the newest: find it from
		// the tail (rare: only when the newest itself is dropped or done).
		for o := q.tail; o != nil; o = o.prev {
			if o.ev.subject == e.ev.subject {
				q.newest[e.ev.subject] = o
				break
			}
		}
	}
}

// next waits for the head entry and takes it for delivery; nil when ctx
// is done first.
func (q *queue) next(ctx context.Context) *entry {
	for {
		q.mu.Lock()
		if q.head != nil && q.busy == nil {
			q.busy = q.head
			q.mu.Unlock()
			return q.busy
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// done removes the taken entry: delivered, or given up.
func (q *queue) done(e *entry) {
	q.mu.Lock()
	q.busy = nil
	q.unlink(e)
	q.mu.Unlock()
}

// release puts the taken entry back at the head, counting a failed
// attempt when failed is set.
func (q *queue) release(e *entry, failed bool) {
	q.mu.Lock()
	q.busy = nil
	if failed {
		e.attempts++
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// len returns the number of queued entries.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// snapshot returns the queued entries in order and their events.
func (q *queue) snapshot() ([]storedEntry, []*event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	entries, events := make([]storedEntry, 0, q.n), make([]*event, 0, q.n)
	for e := q.head; e != nil; e = e.next {
		entries = append(entries, storedEntry{ID: e.ev.id, Attempts: e.attempts})
		events = append(events, e.ev)
	}
	return entries, events
}

// sleep waits d or until ctx is done; false when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
