package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// qev makes an event for queue tests: "r1" raise of alarm 1, "a1" its
// acknowledgement, "c1" its clear.
func qev(name string) *event {
	k := map[byte]kind{'r': alarmRaised, 'a': alarmAcknowledged, 'c': alarmCleared, 'h': heartbeat}[name[0]]
	return &event{kind: k, subject: "alarm:" + name[1:]}
}

func names(evs []*event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string("rach"[map[kind]int{alarmRaised: 0, alarmAcknowledged: 1, alarmCleared: 2, heartbeat: 3}[e.kind]])+strings.TrimPrefix(e.subject, "alarm:"))
	}
	return out
}

func queued(q *queue) []string {
	_, evs := q.snapshot()
	return names(evs)
}

// take is q.next bounded: a regression that leaves nothing to take (or an
// entry busy) fails the test instead of hanging it until the suite's
// timeout.
func take(t *testing.T, q *queue) *entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := q.next(ctx)
	if e == nil {
		t.Fatal("nothing to take from the queue within 10s")
	}
	return e
}

// TestQueuePolicy: the storm policy, step by step.
func TestQueuePolicy(t *testing.T) {
	for _, c := range []struct {
		name     string
		capacity int
		pushes   string // space separated
		want     string // queue after
		dropped  string
	}{
		{"room", 4, "r1 r2 a1 c1", "r1 r2 a1 c1", ""},
		{"oldest non-clear", 3, "r1 r2 r3 r4", "r2 r3 r4", "r1"},
		{"superseded first", 4, "r1 r2 r3 a2 r4", "r1 r3 a2 r4", "r2"},
		{"superseded by a clear", 3, "r1 r2 c2 r3", "r1 c2 r3", "r2"},
		{"clears kept", 3, "r1 c1 r2 c2 c3 c4", "c1 c2 c3 c4", "r1 r2"},
		{"non-clear into clears", 2, "c1 c2 r3", "c1 c2", "r3"},
		{"hard cap", 1, "c1 c2 c3 c4 c5", "c2 c3 c4 c5", "c1"},
		{"superseded by the incoming", 3, "h9 r1 r2 c1", "h9 r2 c1", "r1"},
		// A raise arriving at a queue of clears supersedes its alarm's
		// clear: the clear goes, not the raise (the manager would show the
		// alarm cleared while it is active).
		{"raise supersedes a queued clear", 4, "c0 c1 c2 c3 r0", "c1 c2 c3 r0", "c0"},
		{"clear superseded by a queued raise", 3, "c1 r2 r1 c3", "r2 r1 c3", "c1"},
		{"ack supersedes a queued clear", 2, "c1 c2 a1", "c2 a1", "c1"},
		// Past the hard limit, a superseded clear goes before any clear that
		// is the only one of its alarm.
		{"hard cap superseded first", 1, "c1 c2 c3 c4 c2", "c1 c3 c4 c2", "c2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := newQueue(c.capacity)
			var dropped []*event
			for _, p := range strings.Fields(c.pushes) {
				dropped = append(dropped, q.push(qev(p), 0)...)
			}
			if got := strings.Join(queued(q), " "); got != c.want {
				t.Errorf("queue %q, want %q", got, c.want)
			}
			if got := strings.Join(names(dropped), " "); got != c.dropped {
				t.Errorf("dropped %q, want %q", got, c.dropped)
			}
		})
	}
}

// TestQueueNeverDropsInFlight: the entry being delivered stays, and goes
// back to the head when released.
func TestQueueNeverDropsInFlight(t *testing.T) {
	q := newQueue(2)
	q.push(qev("r1"), 0)
	q.push(qev("r2"), 0)
	e := take(t, q)
	if names([]*event{e.ev})[0] != "r1" {
		t.Fatalf("took %v", names([]*event{e.ev}))
	}
	q.push(qev("r3"), 0)
	if got := strings.Join(queued(q), " "); got != "r1 r3" {
		t.Errorf("queue %q, want r1 (in flight) r3", got)
	}
	q.release(e, true)
	e = take(t, q)
	if names([]*event{e.ev})[0] != "r1" || e.attempts != 1 {
		t.Errorf("after release took %v with %d attempts", names([]*event{e.ev}), e.attempts)
	}
	q.done(e)
	if got := strings.Join(queued(q), " "); got != "r3" {
		t.Errorf("queue %q after done", got)
	}
	q.done(take(t, q))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if q.next(ctx) != nil {
		t.Error("next on an empty queue returned after cancel with an entry")
	}
}

// TestQueueStormKeepsClears pushes thousands of raise/clear pairs into a
// small queue: every clear survives, and the queue stays bounded.
func TestQueueStormKeepsClears(t *testing.T) {
	q := newQueue(100)
	var dropped []*event
	for i := range 2000 {
		dropped = append(dropped, q.push(qev(fmt.Sprint("r", i)), 0)...)
		if i%3 == 0 {
			dropped = append(dropped, q.push(qev(fmt.Sprint("c", i)), 0)...)
		}
		// A deliverer takes one now and then.
		if i%5 == 0 {
			q.done(take(t, q))
		}
	}
	got := queued(q)
	if len(got) > q.hardCap {
		t.Errorf("queue grew to %d, hard cap %d", len(got), q.hardCap)
	}
	for _, d := range names(dropped) {
		if d[0] == 'c' {
			t.Fatalf("clear %s dropped", d)
		}
	}
	clears := slices.IndexFunc(got, func(s string) bool { return s[0] == 'c' })
	if clears < 0 || len(dropped) == 0 {
		t.Errorf("queue %d long, %d dropped", len(got), len(dropped))
	}
}

// TestQueueKeepsNewerOfInFlight: the notification after the one being
// delivered, of the same alarm, is never the one dropped: the manager
// would be left with the older state.
func TestQueueKeepsNewerOfInFlight(t *testing.T) {
	q := newQueue(3)
	for _, p := range strings.Fields("c0 c1 c2") {
		q.push(qev(p), 0)
	}
	busy := take(t, q) // c0 in flight
	if d := q.push(qev("r0"), 0); len(d) != 0 {
		t.Errorf("raise of the alarm in flight: dropped %v", names(d))
	}
	if d := q.push(qev("r3"), 0); strings.Join(names(d), " ") != "r3" {
		t.Errorf("a raise into clears: dropped %v, want r3 itself", names(d))
	}
	if got := strings.Join(queued(q), " "); got != "c0 c1 c2 r0" {
		t.Errorf("queue %q, want c0 c1 c2 r0", got)
	}
	// At the hard limit the oldest clear goes, not r0.
	for i := 4; q.len() < q.hardCap; i++ {
		q.push(qev(fmt.Sprint("c", i)), 0)
	}
	if d := q.push(qev("c99"), 0); strings.Join(names(d), " ") != "c1" {
		t.Errorf("at the hard limit dropped %v, want c1", names(d))
	}
	q.done(busy)
	if got := queued(q); got[0] != "c2" || got[1] != "r0" {
		t.Errorf("queue %q", got)
	}
}

// TestQueueNewestStateSurvives pushes random transitions of a few alarms
// into a small queue, delivering now and then: whatever is dropped, the
// newest notification of an alarm is never dropped while an older one of
// it stays queued or is in flight, and the queue's indexes stay consistent.
func TestQueueNewestStateSurvives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		q := newQueue(1 + rng.IntN(6))
		latest := map[string]*event{} // subject → newest pushed
		dropped := map[*event]bool{}
		var busy *entry
		for range 400 {
			switch r := rng.IntN(10); {
			case r < 2 && busy == nil && q.len() > 0:
				busy = take(t, q)
				if busy == nil {
					t.Fatal("next on a non-empty queue")
				}
			case r < 3 && busy != nil:
				q.done(busy)
				busy = nil
			default:
				ev := qev(fmt.Sprint(string("rach"[rng.IntN(4)]), rng.IntN(8)))
				latest[ev.subject] = ev
				for _, d := range q.push(ev, 0) {
					dropped[d] = true
				}
			}
			if busy == nil && q.len() == 0 {
				continue
			}
			checkQueue(t, q)
			for subject, ev := range latest {
				if !dropped[ev] {
					continue
				}
				for e := q.all.head; e != nil; e = e.all.next {
					if e.ev.subject == subject {
						t.Fatalf("round %d: newest %s dropped while an older %s of it is queued: %q", round, names([]*event{ev}), names([]*event{e.ev}), queued(q))
					}
				}
			}
		}
	}
}

// checkQueue verifies the queue's indexes against its FIFO.
func checkQueue(t *testing.T, q *queue) {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	n, newest, nonClears, stale := 0, map[string]*entry{}, 0, 0
	for e := q.all.head; e != nil; e = e.all.next {
		n++
		if o := newest[e.ev.subject]; o != e.older || (o != nil && o.newer != e) {
			t.Fatalf("subject chain of %v broken", names([]*event{e.ev}))
		}
		newest[e.ev.subject] = e
		if !e.ev.clear() {
			nonClears++
		}
		if e.newer != nil {
			stale++
		}
	}
	count := func(l *list) int {
		c := 0
		for e := l.head; e != nil; e = l.link(e).next {
			c++
		}
		return c
	}
	if n != q.n || n > max(q.hardCap, q.capacity) || len(newest) != len(q.newest) || count(&q.nonClears) != nonClears || count(&q.stale) != stale {
		t.Fatalf("queue of %d (n %d, hard cap %d): %d subjects (map %d), %d non-clears (list %d), %d superseded (list %d)",
			n, q.n, q.hardCap, len(newest), len(q.newest), nonClears, count(&q.nonClears), stale, count(&q.stale))
	}
	for s, e := range newest {
		if q.newest[s] != e {
			t.Fatalf("newest of %s is not its last entry", s)
		}
	}
}
