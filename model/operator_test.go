package model

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestOperatorAcknowledge: an operator's acknowledgement and comment are
// transitions numbered like the others, leave the alarm's state alone, are
// refused twice in one life, survive a restart in the ledger, and end with
// the alarm's life.
func TestOperatorAcknowledge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alarms.json")
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := NewStore(Options{LedgerPath: path, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	obs := AlarmObservation{IBX: "SV4", AssetID: "UPS-1", Condition: "On Battery", Severity: SeverityHigh, Active: true,
		Triggered: now, Processed: now}
	s.Update(func(tx *Tx) error { tx.ObserveAlarm(obs, "feed"); return nil })
	id := s.Snapshot().Alarms()[0].ID

	for _, c := range []struct {
		name string
		fn   func(tx *Tx) error
		want error
	}{
		{"unknown alarm", func(tx *Tx) error { return tx.OperatorAcknowledge(id+100, "op", "") }, ErrAlarmUnknown},
		{"no user", func(tx *Tx) error { return tx.OperatorAcknowledge(id, " ", "") }, ErrOperatorUserRequired},
		{"comment too long", func(tx *Tx) error { return tx.OperatorComment(id, "op", string(make([]byte, MaxOperatorComment+1))) }, nil},
	} {
		_, err := s.Update(c.fn)
		if c.want != nil && !errors.Is(err, c.want) || c.want == nil && err == nil {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	d, err := s.Update(func(tx *Tx) error { return tx.OperatorAcknowledge(id, "op", "crew called") })
	if err != nil || len(d.Alarms) != 1 || d.Alarms[0].Kind != AlarmOperatorAcknowledgedKind || d.Alarms[0].Alarm.State != AlarmActive {
		t.Fatalf("operator ack: %v %+v", err, d)
	}
	if _, err := s.Update(func(tx *Tx) error { return tx.OperatorAcknowledge(id, "op2", "") }); !errors.Is(err, ErrAlarmOperatorAcked) {
		t.Errorf("second ack: %v", err)
	}
	now = now.Add(time.Minute)
	if d, err := s.Update(func(tx *Tx) error { return tx.OperatorComment(id, "op2", "fuel ordered") }); err != nil || d.Alarms[0].Kind != AlarmCommentedKind {
		t.Fatalf("comment: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := NewStore(Options{LedgerPath: path, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	a := s2.Snapshot().Alarms()[0]
	want := OperatorRecord{AckTime: now.Add(-time.Minute), AckUser: "op", Comment: "fuel ordered", CommentTime: now, CommentUser: "op2"}
	if a.Operator == nil || *a.Operator != want || a.State != AlarmActive || a.WasAcknowledged {
		t.Fatalf("after a restart: %+v %+v", a, a.Operator)
	}
	// cleared, then raised again: a new life without the operator's record
	s2.Update(func(tx *Tx) error {
		o := obs
		o.Active, o.Cleared, o.Processed = false, now, now
		tx.ObserveAlarm(o, "feed")
		return nil
	})
	if a := s2.Snapshot().Alarms()[0]; a.Operator == nil {
		t.Error("the clear dropped the operator record")
	}
	now = now.Add(time.Minute)
	s2.Update(func(tx *Tx) error {
		o := obs
		o.Processed = now
		tx.ObserveAlarm(o, "feed")
		return nil
	})
	if a := s2.Snapshot().Alarms()[0]; a.State != AlarmActive || a.Operator != nil {
		t.Errorf("re-raised: %v %+v", a.State, a.Operator)
	}
}
