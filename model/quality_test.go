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
