package model_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
)

// raise observes n new active alarms (triggered a minute apart from
// first) and returns their ids.
func raise(t *testing.T, s *Store, first time.Time, n int) []uint64 {
	t.Helper()
	d := mustUpdate(t, s, func(tx *Tx) error {
		for i := range n {
			o := upsAlarm(first.Add(time.Duration(i) * time.Minute))
			o.Active = true
			tx.ObserveAlarm(o, "poll")
		}
		return nil
	})
	var ids []uint64
	for _, tr := range d.Alarms {
		ids = append(ids, tr.Alarm.ID)
	}
	return ids
}

// waitDurable waits until the store's ledger holds seq.
func waitDurable(t *testing.T, s *Store, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		got, changed := s.Durable()
		if got >= seq {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("durable seq %d, want %d", got, seq)
		}
	}
}

func TestLedgerLostIDsNeverRepeat(t *testing.T) {
	tests := []struct {
		name   string
		lose   func(t *testing.T, dir string) // between the two runs
		wantGE uint64                         // the first id of the second run is at least this
	}{
		{name: "ledger deleted: ids continue from the id mark", wantGE: 4,
			lose: func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "alarms.json"))) }},
		{name: "corrupt ledger moved away as advised", wantGE: 4, lose: func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "alarms.json"), []byte("{torn"), 0o600))
			if _, err := NewStore(Options{LedgerPath: filepath.Join(dir, "alarms.json")}); err == nil || !strings.Contains(err.Error(), "alarms.next-id") {
				t.Fatalf("corrupt ledger: err = %v, want one saying ids continue from the mark", err)
			}
			must(t, os.Rename(filepath.Join(dir, "alarms.json"), filepath.Join(dir, "alarms.json.bad")))
		}},
		{name: "ledger and id mark both lost, other state left: the clock floor",
			wantGE: uint64(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) / time.Second), // the ids' clock floor counts seconds since 2020,
			lose: func(t *testing.T, dir string) {
				must(t, os.Remove(filepath.Join(dir, "alarms.json")))
				must(t, os.Remove(filepath.Join(dir, "alarms.next-id")))
				must(t, os.MkdirAll(filepath.Join(dir, "snmp"), 0o700))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "alarms.json")
			c := newClock()
			t0 := c.Now().Add(-time.Hour)
			s1, err := NewStore(Options{LedgerPath: path, Now: c.Now})
			must(t, err)
			first := raise(t, s1, t0, 3)
			must(t, s1.Close())
			tt.lose(t, dir)

			s2, err := NewStore(Options{LedgerPath: path, Now: c.Now})
			must(t, err)
			defer s2.Close()
			// The same alarms seen again, and new ones: no id of the first run names any of them.
			second := raise(t, s2, t0, 5)
			for _, id := range second {
				for _, old := range first {
					if id == old {
						t.Fatalf("id %d reused (first run %v, second %v)", id, first, second)
					}
				}
				if id < tt.wantGE {
					t.Errorf("id %d, want ≥ %d", id, tt.wantGE)
				}
			}
		})
	}
}

func TestLedgerFailureHoldsDurableAndIsHealth(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "alarms.json")
	c := newClock()
	t0 := c.Now().Add(-time.Hour)
	s, err := NewStore(Options{LedgerPath: path, Now: c.Now})
	must(t, err)
	raise(t, s, t0, 1)
	waitDurable(t, s, 1)

	// The state directory becomes unwritable (a file where it was).
	must(t, os.Rename(dir, dir+".away"))
	must(t, os.WriteFile(dir, nil, 0o600))
	raise(t, s, t0.Add(time.Hour), 2)
	deadline := time.Now().Add(10 * time.Second)
	for s.Snapshot().Health().Persist.OK() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p := s.Snapshot().Health().Persist
	if p.OK() || !strings.Contains(p.Error(), "alarm ledger") {
		t.Fatalf("persist health = %+v, want the alarm ledger failing", p)
	}
	if got, _ := s.Durable(); got != 1 {
		t.Errorf("durable seq while failing = %d, want 1 (the transitions after it are not on disk)", got)
	}

	// Space again: the retry saves it without a new transition.
	must(t, os.Remove(dir))
	must(t, os.Rename(dir+".away", dir))
	waitDurable(t, s, 3)
	deadline = time.Now().Add(10 * time.Second)
	for !s.Snapshot().Health().Persist.OK() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p := s.Snapshot().Health().Persist; !p.OK() {
		t.Errorf("persist health after recovery = %+v", p)
	}
	must(t, s.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
