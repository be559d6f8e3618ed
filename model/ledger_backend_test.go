package model_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
)

// sharedLedger is a LedgerBackend shared by two stores, with a fence: only
// the store named leader may write.
type sharedLedger struct {
	mu     sync.Mutex
	data   []byte
	leader string
}

var errFenced = errors.New("fenced")

type nodeBackend struct {
	shared *sharedLedger
	name   string
}

func (b nodeBackend) SaveLedger(data []byte) error {
	b.shared.mu.Lock()
	defer b.shared.mu.Unlock()
	if b.shared.leader != b.name {
		return errFenced
	}
	b.shared.data = append([]byte(nil), data...)
	return nil
}

func (s *sharedLedger) load() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// TestSharedLedgerFollowAdoptLead: a follower ignores its own sightings,
// adopts the leader's ledger (same ids, same seq, reported as
// transitions), and when it leads continues the numbering; a deposed
// leader's saves are refused and not retried once it follows.
func TestSharedLedgerFollowAdoptLead(t *testing.T) {
	shared := &sharedLedger{leader: "a"}
	a, err := NewStore(Options{LedgerBackend: nodeBackend{shared, "a"}})
	must(t, err)
	defer a.Close()
	b, err := NewStore(Options{LedgerBackend: nodeBackend{shared, "b"}})
	must(t, err)
	defer b.Close()
	if !a.Following() || !b.Following() {
		t.Fatal("a store with a LedgerBackend must start following")
	}
	first := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

	// Following: sightings are ignored.
	ignored := func(s *Store) {
		t.Helper()
		d := mustUpdate(t, s, func(tx *Tx) error {
			o := upsAlarm(first.Add(-time.Hour))
			o.Active = true
			tx.ObserveAlarm(o, "poll")
			return nil
		})
		if d != nil && len(d.Alarms) > 0 {
			t.Fatalf("a follower raised alarms: %+v", d.Alarms)
		}
	}
	ignored(a)
	a.Lead()
	ids := raise(t, a, first, 3)
	if len(ids) != 3 {
		t.Fatalf("leader raised %v", ids)
	}
	waitDurable(t, a, a.Snapshot().TransitionSeq())

	// b adopts a's ledger: the same ids, reported in a delta.
	_, sub := b.Subscribe()
	must(t, b.AdoptLedger(shared.load()))
	d := nextDelta(t, sub)
	if len(d.Alarms) != 3 {
		t.Fatalf("adoption reported %d transitions, want 3", len(d.Alarms))
	}
	for i, tr := range d.Alarms {
		if tr.Alarm.ID != ids[i] || tr.Kind != AlarmRaised {
			t.Errorf("adopted transition %d: id %d kind %v, want id %d raised", i, tr.Alarm.ID, tr.Kind, ids[i])
		}
	}
	if got, want := b.Snapshot().TransitionSeq(), a.Snapshot().TransitionSeq(); got != want {
		t.Errorf("follower seq %d, leader %d", got, want)
	}
	if dur, _ := b.Durable(); dur != a.Snapshot().TransitionSeq() {
		t.Errorf("adopted ledger durable at %d, want %d", dur, a.Snapshot().TransitionSeq())
	}
	// Adopting the same ledger again reports nothing.
	must(t, b.AdoptLedger(shared.load()))

	// Failover: a is deposed (its saves are refused), b leads.
	shared.mu.Lock()
	shared.leader = "b"
	shared.mu.Unlock()
	raise(t, a, first.Add(time.Hour), 1) // a still thinks it leads: refused
	a.Follow()
	ignored(a)
	if err := a.AdoptLedger(shared.load()); err != nil {
		t.Fatal(err)
	}
	b.Lead()
	if err := b.AdoptLedger(shared.load()); err == nil {
		t.Error("AdoptLedger on a leading store succeeded")
	}
	next := raise(t, b, first.Add(2*time.Hour), 1)
	if len(next) != 1 || next[0] <= ids[2] {
		t.Fatalf("new leader's first id %v, want above %d", next, ids[2])
	}
	// a's refused alarm got id ids[2]+1 and was shown in a's table: the
	// new leader never hands it out (a adopted b's ledger, not the reverse,
	// so only ids that reached the shared ledger count).
	waitDurable(t, b, b.Snapshot().TransitionSeq())
	if p := a.Snapshot().Health().Persist; !p.OK() {
		t.Errorf("a follower reports a persist failure: %s", p.Error())
	}
}

func nextDelta(t *testing.T, sub *Subscription) *Delta {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
