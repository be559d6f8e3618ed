package model

import "time"

// Snapshot is an immutable, consistent view of the whole model at one point
// of the change stream. Taking one is a single atomic load; holding one costs
// nothing but the memory it shares with newer snapshots. Safe for concurrent use.
type Snapshot struct {
	seq       uint64
	structure *Structure
	power     column[powerCell] // by location index
	env       column[envCell]   // by location index
	tags      column[tagCell]   // by tag index
	assets    column[assetCell] // by asset index
	book      *alarmBook
	health    Health
	taken     time.Time // when it was committed
	// The store's clock and staleness limit: quality is judged when a value
	// is read, so a value goes stale on time even when no batch commits.
	now        func() time.Time
	staleAfter time.Duration
}

type powerCell struct {
	v Power
	f Freshness
}

type envCell struct {
	v Environment
	f Freshness
}

type tagCell struct {
	v TagReading
	f Freshness
}

type assetCell struct {
	v AssetState
	f Freshness
}

// Seq is the sequence number of the last delta this snapshot includes.
// Deltas received from a subscription with a higher Seq are newer.
func (s *Snapshot) Seq() uint64 { return s.seq }

// Time is when the snapshot was committed.
func (s *Snapshot) Time() time.Time { return s.taken }

// Structure returns what exists.
func (s *Snapshot) Structure() *Structure { return s.structure }

// Health returns the state of the upstream connections.
func (s *Snapshot) Health() Health { return s.health }

// Power returns the power reading of location i.
func (s *Snapshot) Power(i int) PowerSample {
	c := s.power.at(i)
	return PowerSample{Power: c.v, Freshness: c.f, Quality: s.quality(c.f)}
}

// Environment returns the environment reading of location i.
func (s *Snapshot) Environment(i int) EnvironmentSample {
	c := s.env.at(i)
	return EnvironmentSample{Environment: c.v, Freshness: c.f, Quality: s.quality(c.f)}
}

// Tag returns the reading of tag i.
func (s *Snapshot) Tag(i int) TagSample {
	c := s.tags.at(i)
	return TagSample{TagReading: c.v, Freshness: c.f, Quality: s.quality(c.f)}
}

// Asset returns the state of asset i.
func (s *Snapshot) Asset(i int) AssetSample {
	c := s.assets.at(i)
	return AssetSample{AssetState: c.v, Freshness: c.f, Quality: s.quality(c.f)}
}

func (s *Snapshot) quality(f Freshness) Quality {
	switch {
	case f.Confirmed.IsZero():
		return QualityUnavailable
	case s.health.Upstream == UpstreamDown:
		return QualityNoComm
	case f.stale || s.now().Sub(f.Confirmed) > s.staleAfter:
		return QualityStale
	}
	return QualityGood
}

// Alarms returns every alarm the gateway knows — active, acknowledged, and
// cleared ones within the retention — ordered by ID. Do not modify.
func (s *Snapshot) Alarms() []*Alarm {
	a, _ := s.book.sorted()
	return a
}

// Alarm returns the alarm with this key.
func (s *Snapshot) Alarm(key string) (*Alarm, bool) {
	a, ok := s.book.alarms[key]
	return a, ok
}

// Alerts returns the alerts within the retention, ordered by Number.
func (s *Snapshot) Alerts() []*Alert {
	_, a := s.book.sorted()
	return a
}

// TransitionSeq is the sequence number of the last alarm or alert transition.
func (s *Snapshot) TransitionSeq() uint64 { return s.book.seq }
