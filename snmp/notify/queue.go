package notify

import (
	"context"
	"sync"
	"time"
)

// entry is an event waiting for one target, with that target's delivery
// state.
type entry struct {
	ev       *event
	attempts int    // failed attempts so far
	pos      uint64 // order of push into the queue

	all      links // the queue, in order
	nonClear links // the non-clears, in order
	stale    links // the superseded entries, in the order they were superseded
	// older and newer are the neighbouring queued entries of the same
	// subject; an entry with a newer one is superseded.
	older, newer *entry
}

// links are an entry's neighbours in one list.
type links struct{ prev, next *entry }

// list is an intrusive doubly linked list of entries through one of their
// links, so that an entry can leave every list it is on in O(1).
type list struct {
	head, tail *entry
	link       func(*entry) *links
}

func (l *list) pushBack(e *entry) {
	lk := l.link(e)
	lk.prev, lk.next = l.tail, nil
	if l.tail != nil {
		l.link(l.tail).next = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *list) remove(e *entry) {
	lk := l.link(e)
	if lk.prev != nil {
		l.link(lk.prev).next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != nil {
		l.link(lk.next).prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	lk.prev, lk.next = nil, nil
}

// queue is a target's bounded FIFO of events. Pushing never blocks: when
// the queue is full, push makes room by the storm policy (see the package
// documentation) and returns what it dropped. The entry being delivered
// (taken by next and not yet done or released) is never dropped.
//
// Besides the FIFO, the queue keeps the non-clears in order, the
// superseded entries, and each subject's entries chained, so that choosing
// what to drop costs a few steps however long the queue is: push runs
// under the sender's lock, in a storm too.
type queue struct {
	capacity int // soft bound: clears may exceed it up to hardCap
	hardCap  int

	mu        sync.Mutex
	all       list // every queued entry, oldest first
	nonClears list
	stale     list
	n         int
	pos       uint64
	newest    map[string]*entry // subject → its newest queued entry
	busy      *entry            // taken by next
	wake      chan struct{}     // signalled on push and release
}

func newQueue(capacity int) *queue {
	return &queue{capacity: capacity, hardCap: 4 * capacity, newest: map[string]*entry{}, wake: make(chan struct{}, 1),
		all:       list{link: func(e *entry) *links { return &e.all }},
		nonClears: list{link: func(e *entry) *links { return &e.nonClear }},
		stale:     list{link: func(e *entry) *links { return &e.stale }}}
}

// push appends ev (or restored state) and returns the events dropped to
// make room; ev itself is among them when it could not be queued.
//
// What a manager must end up with is the newest state of every alarm, so
// room is made first from notifications that a newer one of the same
// subject, queued or arriving, supersedes (clears included); then from the
// oldest non-clear. A notification is kept beyond the soft bound (up to
// hardCap) when it is a clear, or when an older one of its subject is being
// delivered: dropping it would leave the manager with that older state.
func (q *queue) push(ev *event, attempts int) (dropped []*event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n >= q.capacity {
		victim := q.superseded(ev.subject)
		if victim == nil {
			victim = q.oldestNonClear()
		}
		if victim == nil {
			// Left: clears, and at most one notification whose older one is
			// in flight, each the only queued one of its subject.
			if !ev.clear() && q.newest[ev.subject] == nil {
				return []*event{ev} // its subject has nothing queued: it alone goes
			}
			if q.n >= q.hardCap {
				if victim = q.oldestSole(); victim == nil {
					return []*event{ev}
				}
			}
		}
		if victim != nil {
			q.unlink(victim)
			dropped = append(dropped, victim.ev)
		}
	}
	q.pos++
	e := &entry{ev: ev, attempts: attempts, pos: q.pos}
	q.all.pushBack(e)
	q.n++
	if !ev.clear() {
		q.nonClears.pushBack(e)
	}
	if o := q.newest[ev.subject]; o != nil {
		o.newer, e.older = e, o
		q.stale.pushBack(o)
	}
	q.newest[ev.subject] = e
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return dropped
}

// superseded returns the queued entry to drop first for an incoming event
// of subject: of the entry superseded first by a newer queued one and the
// newest queued one of subject (which the incoming supersedes), the older;
// nil when neither exists outside delivery.
func (q *queue) superseded(subject string) *entry {
	var v *entry
	for e := q.stale.head; e != nil; e = e.stale.next {
		if e != q.busy { // at most one step more
			v = e
			break
		}
	}
	if o := q.newest[subject]; o != nil && o != q.busy && (v == nil || o.pos < v.pos) {
		v = o
	}
	return v
}

// oldestNonClear returns the oldest non-clear that may be dropped: not in
// flight, and not the newer of one in flight. Called when nothing is
// superseded but the entry in flight, so at most two entries are skipped.
func (q *queue) oldestNonClear() *entry {
	for e := q.nonClears.head; e != nil; e = e.nonClear.next {
		if e != q.busy && e.older == nil {
			return e
		}
	}
	return nil
}

// oldestSole returns the oldest entry that may be dropped at the hard
// limit: not in flight, and not the newer of one in flight. Called when
// nothing is superseded but the entry in flight, so at most two entries
// are skipped.
func (q *queue) oldestSole() *entry {
	for e := q.all.head; e != nil; e = e.all.next {
		if e != q.busy && e.older == nil {
			return e
		}
	}
	return nil
}

func (q *queue) unlink(e *entry) {
	q.all.remove(e)
	q.n--
	if !e.ev.clear() {
		q.nonClears.remove(e)
	}
	switch {
	case e.newer != nil: // superseded: the chain closes over it
		q.stale.remove(e)
		e.newer.older = e.older
		if e.older != nil {
			e.older.newer = e.newer
		}
	case e.older != nil: // the newest: the older one becomes the newest
		q.newest[e.ev.subject] = e.older
		e.older.newer = nil
		q.stale.remove(e.older)
	default:
		delete(q.newest, e.ev.subject)
	}
	e.older, e.newer = nil, nil
}

// next waits for the head entry and takes it for delivery; nil when ctx
// is done first.
func (q *queue) next(ctx context.Context) *entry {
	for {
		q.mu.Lock()
		if q.all.head != nil && q.busy == nil {
			q.busy = q.all.head
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
	for e := q.all.head; e != nil; e = e.all.next {
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
