package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
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
	e := q.next(context.Background())
	if names([]*event{e.ev})[0] != "r1" {
		t.Fatalf("took %v", names([]*event{e.ev}))
	}
	q.push(qev("r3"), 0)
	if got := strings.Join(queued(q), " "); got != "r1 r3" {
		t.Errorf("queue %q, want r1 (in flight) r3", got)
	}
	q.release(e, true)
	e = q.next(context.Background())
	if names([]*event{e.ev})[0] != "r1" || e.attempts != 1 {
		t.Errorf("after release took %v with %d attempts", names([]*event{e.ev}), e.attempts)
	}
	q.done(e)
	if got := strings.Join(queued(q), " "); got != "r3" {
		t.Errorf("queue %q after done", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.done(q.next(ctx))
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
			q.done(q.next(context.Background()))
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
