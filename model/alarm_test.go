package model_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
)

// sighting is one step of an alarm scenario: an observation of the documented
// UPS alarm, or a complete poll that did not contain it.
type sighting struct {
	after    time.Duration // clock advance before the step
	source   string        // "poll", "feed", or "poll-missing" (a complete poll without it)
	active   bool
	ack      bool
	cleared  time.Duration // timeNormalProcessed relative to t0 (0: none)
	procAt   time.Duration // timeProcessed relative to t0
	baseline bool          // run a complete poll containing the alarm first (sets the IBX baseline)
}

func TestAlarmTransitions(t *testing.T) {
	tests := []struct {
		name  string
		steps []sighting
		want  []string // transition kinds in order
		state AlarmState
	}{
		{name: "raise, ack, clear: once each although polled and fed twice",
			steps: []sighting{
				{source: "feed", active: true, procAt: 1 * time.Second},
				{source: "poll", active: true, procAt: 1 * time.Second, after: time.Second},
				{source: "feed", active: true, ack: true, procAt: 5 * time.Second, after: time.Second},
				{source: "poll", active: true, ack: true, procAt: 5 * time.Second, after: time.Second},
				{source: "poll", active: true, ack: true, procAt: 5 * time.Second, after: time.Second},
				{source: "feed", active: false, ack: true, cleared: 9 * time.Second, procAt: 9 * time.Second, after: time.Second},
				{source: "poll", active: false, ack: true, cleared: 9 * time.Second, procAt: 9 * time.Second, after: time.Second},
			},
			want: []string{"raised", "acknowledged", "cleared"}, state: AlarmCleared},
		{name: "first seen already acknowledged: raise (inferred) then ack",
			steps: []sighting{{source: "poll", active: true, ack: true}},
			want:  []string{"raised (inferred)", "acknowledged"}, state: AlarmAcknowledged},
		{name: "first seen acknowledged and cleared after the baseline: raise, ack (inferred), clear",
			steps: []sighting{{baseline: true, after: time.Minute, source: "poll", active: false, ack: true, cleared: 2 * time.Minute, procAt: 2 * time.Minute}},
			want:  []string{"raised (inferred)", "acknowledged (inferred)", "cleared"}, state: AlarmCleared},
		{name: "active, then seen cleared and acknowledged: ack (inferred), clear",
			steps: []sighting{{source: "poll", active: true}, {source: "poll", active: false, ack: true, cleared: 3 * time.Second, after: time.Minute}},
			want:  []string{"raised", "acknowledged (inferred)", "cleared"}, state: AlarmCleared},
		{name: "acknowledged, then seen cleared and acknowledged: clear only",
			steps: []sighting{{source: "poll", active: true, ack: true}, {source: "poll", active: false, ack: true, cleared: 3 * time.Second, after: time.Minute}},
			want:  []string{"raised (inferred)", "acknowledged", "cleared"}, state: AlarmCleared},
		{name: "fed clear (no ack field), then polled cleared and acknowledged: no ack after the clear",
			steps: []sighting{{source: "feed", active: true}, {source: "feed", active: false, cleared: 3 * time.Second, after: time.Second},
				{source: "poll", active: false, ack: true, cleared: 3 * time.Second, after: time.Minute}},
			want: []string{"raised", "cleared"}, state: AlarmCleared},
		{name: "first seen acknowledged and cleared before the baseline: nothing invented",
			steps: []sighting{{source: "poll", active: false, ack: true, cleared: time.Second}},
			want:  nil, state: AlarmCleared},
		{name: "cleared without ack",
			steps: []sighting{{source: "poll", active: true}, {source: "poll", active: false, cleared: 3 * time.Second, after: time.Minute}},
			want:  []string{"raised", "cleared"}, state: AlarmCleared},
		{name: "slow poll still showing it active after a fed clear: no re-raise",
			steps: []sighting{
				{source: "feed", active: true, procAt: time.Second},
				{source: "feed", active: false, cleared: 10 * time.Second, procAt: 10 * time.Second, after: time.Second},
				{source: "poll", active: true, procAt: time.Second, after: time.Second},
			},
			want: []string{"raised", "cleared"}, state: AlarmCleared},
		{name: "active again after the clear (processed later): re-raised",
			steps: []sighting{
				{source: "feed", active: true, procAt: time.Second},
				{source: "feed", active: false, cleared: 10 * time.Second, procAt: 10 * time.Second, after: time.Second},
				{source: "feed", active: true, procAt: 20 * time.Second, after: time.Second},
			},
			want: []string{"raised", "cleared", "raised"}, state: AlarmActive},
		{name: "ack never goes back",
			steps: []sighting{{source: "poll", active: true, ack: true}, {source: "poll", active: true, ack: false, after: time.Second}},
			want:  []string{"raised (inferred)", "acknowledged"}, state: AlarmAcknowledged},
		{name: "already cleared before the IBX baseline: recorded silently",
			steps: []sighting{{source: "poll", active: false, cleared: time.Second}},
			want:  nil, state: AlarmCleared},
		{name: "raised and cleared between two polls after the baseline: raise and clear",
			steps: []sighting{{baseline: true, after: time.Minute, source: "poll", active: false, cleared: 2 * time.Minute, procAt: 2 * time.Minute}},
			want:  []string{"raised (inferred)", "cleared"}, state: AlarmCleared},
		{name: "missing from a complete poll: cleared by reconcile",
			steps: []sighting{{source: "poll", active: true}, {source: "poll-missing", after: time.Minute}},
			want:  []string{"raised", "cleared"}, state: AlarmCleared},
		{name: "fed during the poll, missing from it: kept",
			steps: []sighting{{source: "feed", active: true, after: time.Minute}, {source: "poll-missing-started-before"}},
			want:  []string{"raised"}, state: AlarmActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newTestStore(t, c, Options{})
			t0 := c.Now().Add(-time.Hour)
			var got []string
			collect := func(d *Delta) {
				if d == nil {
					return
				}
				for _, tr := range d.Alarms {
					k := tr.Kind.String()
					if tr.Alarm.Inferred {
						k += " (inferred)"
					}
					got = append(got, k)
				}
			}
			for _, st := range tt.steps {
				if st.baseline {
					collect(mustUpdate(t, s, func(tx *Tx) error {
						tx.ReconcileAlarms("DC5", map[string]bool{}, tx.Now())
						return nil
					}))
				}
				pollStart := c.Now()
				c.Advance(st.after)
				collect(mustUpdate(t, s, func(tx *Tx) error {
					switch st.source {
					case "poll-missing":
						tx.ReconcileAlarms("DC5", map[string]bool{}, tx.Now())
					case "poll-missing-started-before":
						tx.ReconcileAlarms("DC5", map[string]bool{}, pollStart.Add(-time.Hour))
					default:
						o := upsAlarm(t0)
						o.Active, o.Acknowledged = st.active, st.ack
						o.Processed = t0.Add(st.procAt)
						if st.cleared != 0 {
							o.Cleared = t0.Add(st.cleared)
						}
						if st.baseline || st.cleared > 0 && st.procAt > time.Minute {
							o.Processed, o.Cleared = c.Now(), c.Now()
						}
						tx.ObserveAlarm(o, st.source)
					}
					return nil
				}))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("transitions = %q, want %q", got, tt.want)
			}
			alarms := s.Snapshot().Alarms()
			if len(alarms) != 1 || alarms[0].State != tt.state {
				t.Fatalf("alarms = %+v, want one in state %v", alarms, tt.state)
			}
			if alarms[0].ID != 1 || alarms[0].AssetID != "DC5.UPS-R1" || alarms[0].Severity != SeverityUrgent {
				t.Errorf("alarm = %+v", alarms[0])
			}
		})
	}
}

// upsAlarm is the documentation's first alarm (DC5.UPS-R1), triggered at t0.
func upsAlarm(t0 time.Time) AlarmObservation {
	return AlarmObservation{IBX: "DC5", AssetID: "DC5.UPS-R1", AssetType: "UPS", Classification: "Electrical",
		TagID: "DC5.UPS-R1:alarm", Condition: "Alarm", Severity: SeverityUrgent, SeverityText: "Urgent", Triggered: t0}
}

func TestAlarmSequenceNumbersAndDistinctOccurrences(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	t0 := c.Now().Add(-time.Hour)
	d := mustUpdate(t, s, func(tx *Tx) error {
		a := upsAlarm(t0)
		a.Active = true
		tx.ObserveAlarm(a, "poll")
		b := upsAlarm(t0.Add(time.Minute)) // a second occurrence: new trigger time, new identity
		b.Active = true
		tx.ObserveAlarm(b, "poll")
		p := AlarmObservation{IBX: "SV4", Circuit: "20853717", Cage: "SV4:01:000120", AssetType: "CIRCUIT", Condition: "High", Active: true, Triggered: t0}
		tx.ObserveAlarm(p, "feed")
		return nil
	})
	if len(d.Alarms) != 3 {
		t.Fatalf("transitions = %+v", d.Alarms)
	}
	for i, tr := range d.Alarms {
		if tr.Seq != uint64(i+1) || tr.Alarm.ID != uint64(i+1) || tr.Alarm.Seq != tr.Seq {
			t.Errorf("transition %d: seq %d id %d alarm.seq %d", i, tr.Seq, tr.Alarm.ID, tr.Alarm.Seq)
		}
	}
	if k := d.Alarms[2].Alarm.Key; !strings.Contains(k, "|20853717|") {
		t.Errorf("power alarm key %q does not use the circuit as subject", k)
	}
}

func TestAlertTransitions(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	var kinds []string
	for _, ack := range []bool{false, false, true, true} {
		c.Advance(time.Second)
		d := mustUpdate(t, s, func(tx *Tx) error {
			tx.ObserveAlert(AlertObservation{ID: "a-17", IBX: "CH1", TagID: "CH1.Gen-1:fuelhours", Severity: "High", Acknowledged: ack}, "feed")
			return nil
		})
		if d != nil {
			for _, tr := range d.Alerts {
				kinds = append(kinds, tr.Kind.String())
			}
		}
	}
	if !slices.Equal(kinds, []string{"alert-triggered", "alert-acknowledged"}) {
		t.Errorf("alert transitions = %q", kinds)
	}
	if al := s.Snapshot().Alerts(); len(al) != 1 || !al[0].Acknowledged || al[0].Number != 1 {
		t.Errorf("alerts = %+v", al)
	}
}

func TestAlarmRetentionPrunesCleared(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{AlarmRetention: time.Hour})
	t0 := c.Now()
	mustUpdate(t, s, func(tx *Tx) error {
		a, b := upsAlarm(t0), upsAlarm(t0.Add(time.Second))
		a.Active = true
		b.Active = false
		b.Cleared = t0
		tx.ObserveAlarm(a, "poll")
		tx.ObserveAlarm(b, "poll")
		return nil
	})
	c.Advance(2 * time.Hour)
	mustUpdate(t, s, func(tx *Tx) error { tx.Age(); return nil })
	alarms := s.Snapshot().Alarms()
	if len(alarms) != 1 || alarms[0].State != AlarmActive {
		t.Errorf("after retention: %+v, want only the active alarm", alarms)
	}
}

func TestLedgerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "alarms.json")
	c := newClock()
	t0 := c.Now().Add(-time.Hour)
	s1, err := NewStore(Options{LedgerPath: path, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s1, func(tx *Tx) error {
		a := upsAlarm(t0)
		a.Active = true
		tx.ObserveAlarm(a, "poll")
		tx.ObserveAlert(AlertObservation{ID: "x", IBX: "CH1"}, "feed")
		tx.ReconcileAlarms("DC5", map[string]bool{a.Key(): true}, tx.Now())
		return nil
	})
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ledger file: %v %v", fi, err)
	}

	// Restart: the same sighting is not a transition; the next one continues the numbering.
	s2, err := NewStore(Options{LedgerPath: path, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	d := mustUpdate(t, s2, func(tx *Tx) error {
		a := upsAlarm(t0)
		a.Active = true
		tx.ObserveAlarm(a, "poll")
		return nil
	})
	if d != nil {
		t.Errorf("re-sighting after restart produced %+v", d.Alarms)
	}
	d = mustUpdate(t, s2, func(tx *Tx) error {
		a := upsAlarm(t0)
		a.Active, a.Acknowledged = true, true
		tx.ObserveAlarm(a, "poll")
		b := upsAlarm(t0.Add(time.Minute))
		b.Active = true
		tx.ObserveAlarm(b, "poll")
		return nil
	})
	if d == nil || len(d.Alarms) != 2 || d.Alarms[0].Seq != 3 || d.Alarms[0].Alarm.ID != 1 || d.Alarms[1].Alarm.ID != 3 {
		t.Fatalf("after restart: %+v (want ack of alarm 1 with seq 3, then alarm 3: ids 1 and 2 are taken)", d)
	}
	// the baseline survived: a short alarm cleared after it is raised and cleared
	c.Advance(time.Minute)
	d = mustUpdate(t, s2, func(tx *Tx) error {
		o := upsAlarm(t0.Add(2 * time.Minute))
		o.Cleared = c.Now()
		tx.ObserveAlarm(o, "poll")
		return nil
	})
	if d == nil || len(d.Alarms) != 2 {
		t.Errorf("short alarm after restart: %+v", d)
	}
}

func TestLedgerCorruptIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alarms.json")
	for _, content := range []string{"{not json", `{"version": 99}`} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := NewStore(Options{LedgerPath: path}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("ledger %q: err = %v, want an error naming the file", content, err)
		}
	}
}

func TestSeverityCanonical(t *testing.T) {
	for _, tt := range []struct {
		s    Severity
		name string
		code int
	}{{SeverityUrgent, "Urgent", 800}, {SeverityHigh, "High", 600}, {SeverityLow, "Low", 400},
		{SeverityInformational, "Informational", 200}, {SeverityUnknown, "Unknown", 0}} {
		if tt.s.String() != tt.name || tt.s.Code() != tt.code {
			t.Errorf("%d: %s %d, want %s %d", tt.s, tt.s, tt.s.Code(), tt.name, tt.code)
		}
	}
}

// TestInferredKept: the ledger's alarm says which transitions of its life
// were inferred and whether it was acknowledged, after the clear too; a
// new life (raised again) starts afresh.
func TestInferredKept(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	t0 := c.Now().Add(-time.Hour)
	mustUpdate(t, s, func(tx *Tx) error { tx.ReconcileAlarms("DC5", map[string]bool{}, tx.Now()); return nil })
	c.Advance(time.Minute)
	o := upsAlarm(t0)
	o.Acknowledged, o.Processed, o.Cleared = true, c.Now(), c.Now()
	mustUpdate(t, s, func(tx *Tx) error { tx.ObserveAlarm(o, "poll"); return nil })
	a := s.Snapshot().Alarms()[0]
	if got := a.InferredKinds(); !slices.Equal(got, []TransitionKind{AlarmRaised, AlarmAcknowledgedKind}) || !a.WasAcknowledged || a.Inferred {
		t.Errorf("after raise, ack, clear in one sighting: inferred %v, acknowledged %v, latest inferred %v", got, a.WasAcknowledged, a.Inferred)
	}
	c.Advance(time.Minute)
	o.Active, o.Acknowledged, o.Processed, o.Cleared = true, false, c.Now(), time.Time{}
	mustUpdate(t, s, func(tx *Tx) error { tx.ObserveAlarm(o, "feed"); return nil })
	a = s.Snapshot().Alarms()[0]
	if a.State != AlarmActive || len(a.InferredKinds()) != 0 || a.WasAcknowledged {
		t.Errorf("raised again: %+v", a)
	}
}

// TestAlarmAckTimeAndActor: the acknowledgement is stamped with the time the
// gateway learned of it and SmartView's actor; a clear keeps the stamp, a
// re-raise forgets it.
func TestAlarmAckTimeAndActor(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	t0 := c.Now()
	steps := []struct {
		active, ack bool
		wantActor   string
		wantTime    bool
	}{
		{active: true},
		{active: true, ack: true, wantActor: AckActorUpstream, wantTime: true},
		{active: false, ack: true, wantActor: AckActorUpstream, wantTime: true},
	}
	var ackedAt time.Time
	for i, st := range steps {
		c.Advance(time.Minute)
		mustUpdate(t, s, func(tx *Tx) error {
			o := upsAlarm(t0)
			o.Active, o.Acknowledged, o.Processed = st.active, st.ack, c.Now()
			tx.ObserveAlarm(o, "poll")
			return nil
		})
		a := s.Snapshot().Alarms()[0]
		if a.AckActor != st.wantActor || a.AckTime.IsZero() == st.wantTime {
			t.Errorf("step %d: ack actor %q time %v", i, a.AckActor, a.AckTime)
		}
		if i == 1 {
			ackedAt = c.Now()
		}
		if st.wantTime && !a.AckTime.Equal(ackedAt) {
			t.Errorf("step %d: ack time %v, want %v (when it was learned)", i, a.AckTime, ackedAt)
		}
	}
	c.Advance(time.Minute)
	mustUpdate(t, s, func(tx *Tx) error {
		o := upsAlarm(t0)
		o.Active, o.Processed = true, c.Now()
		tx.ObserveAlarm(o, "poll")
		return nil
	})
	if a := s.Snapshot().Alarms()[0]; a.State != AlarmActive || a.AckActor != "" || !a.AckTime.IsZero() {
		t.Errorf("re-raised: %+v", a)
	}
}
