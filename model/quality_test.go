package model_test

import (
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
)

// TestQualityIsJudgedByTheClock: a value is stale stale_after after it was
// last confirmed, read from the same snapshot, with no batch committed in
// between (a hung sync cycle commits nothing).
func TestQualityIsJudgedByTheClock(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{StaleAfter: time.Minute})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 1, 1)})
		tx.SetUpstream(UpstreamOK, "")
		return tx.SetTag("CH1.UPS-0:tag0", TagReading{Value: Text("1")}, time.Time{})
	})
	snap := s.Snapshot()
	ti, _ := snap.Structure().TagIndex("CH1.UPS-0:tag0")
	li, _ := snap.Structure().LocationIndex(IBXLocation("CH1"))
	for _, step := range []struct {
		advance time.Duration
		want    Quality
	}{
		{0, QualityGood},
		{time.Minute, QualityGood}, // exactly stale_after: still good
		{time.Nanosecond, QualityStale},
		{time.Hour, QualityStale},
	} {
		c.Advance(step.advance)
		if got := snap.Tag(ti).Quality; got != step.want {
			t.Errorf("%v after confirmation: quality %v, want %v", c.Now().Sub(snap.Time()), got, step.want)
		}
	}
	if got := snap.Power(li).Quality; got != QualityUnavailable {
		t.Errorf("never-read power: quality %v, want unavailable", got)
	}
}

// TestFrozenSnapshotJudgesQualityOnce: a frozen snapshot judges quality at
// the instant it was frozen, whatever the clock does after; the snapshot it
// came from still follows the clock.
func TestFrozenSnapshotJudgesQualityOnce(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{StaleAfter: time.Minute})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 1, 1)})
		tx.SetUpstream(UpstreamOK, "")
		return tx.SetTag("CH1.UPS-0:tag0", TagReading{Value: Text("1")}, time.Time{})
	})
	snap := s.Snapshot()
	ti, _ := snap.Structure().TagIndex("CH1.UPS-0:tag0")
	c.Advance(time.Minute)
	frozen := snap.Frozen()
	refrozen := frozen.Frozen()
	c.Advance(time.Hour)
	if got := frozen.Tag(ti); got.Quality != QualityGood || got.Value != Text("1") {
		t.Errorf("frozen at stale_after: %+v, want the reading with quality good", got)
	}
	if got := refrozen.Tag(ti).Quality; got != QualityGood {
		t.Errorf("a frozen snapshot frozen again: quality %v, want good (the first instant)", got)
	}
	if got := snap.Tag(ti).Quality; got != QualityStale {
		t.Errorf("the snapshot itself an hour later: quality %v, want stale", got)
	}
	if again := snap.Frozen(); again.Tag(ti).Quality != QualityStale {
		t.Errorf("frozen an hour later: quality %v, want stale", again.Tag(ti).Quality)
	}
	if frozen.Seq() != snap.Seq() || frozen.Structure() != snap.Structure() {
		t.Error("the frozen snapshot is not the same snapshot")
	}
}
