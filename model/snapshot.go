package model

import (
	"strings"
	"time"
)

// Snapshot is an immutable, consistent view of the whole model at one point
// of the change stream. Taking one is a single atomic load; holding one costs
// nothing but the memory it shares with newer snapshots. Safe for concurrent use.
type Snapshot struct {
	seq       uint64
	structure *Structure
	power     sparse[powerCell] // by location index; only locations that had a reading
	env       sparse[envCell]   // by location index; only locations that had a reading
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

// powerCell holds a Power in 256 bytes instead of 464: the eleven values as
// their numbers and IsNum bits, their texts concatenated in one string (one
// allocation per changed reading rather than eleven strings kept alive).
// What power returns is field for field the Power that was stored.
type powerCell struct {
	num     [powerValues]float64
	text    string              // the values' texts, one after the other
	ends    [powerValues]uint32 // end of value k's text in text; it starts at ends[k-1]
	isNum   uint16              // bit k: value k is numeric
	alarm   Flag
	reading time.Time
	updated time.Time
	f       Freshness
}

const powerValues = 11

// powerFields returns the values of p in the order a powerCell keeps them.
func powerFields(p *Power) [powerValues]*Value {
	return [powerValues]*Value{&p.KVA, &p.Amps, &p.SoldKVA, &p.ContractualKVA, &p.PercentKVA,
		&p.CabinetRating, &p.PrimaryKVA, &p.RedundantKVA, &p.KW, &p.PowerFactor, &p.PeakKVA7d}
}

// value returns value k; from is where its text starts (ends[k-1], 0 for the first).
func (c *powerCell) value(k int, from uint32) Value {
	return Value{Num: c.num[k], Text: c.text[from:c.ends[k]], IsNum: c.isNum&(1<<k) != 0}
}

func (c *powerCell) store(p *Power) {
	n := 0
	c.isNum = 0
	for k, v := range powerFields(p) {
		c.num[k] = v.Num
		if v.IsNum {
			c.isNum |= 1 << k
		}
		n += len(v.Text)
	}
	var b strings.Builder
	b.Grow(n)
	for k, v := range powerFields(p) {
		b.WriteString(v.Text)
		c.ends[k] = uint32(b.Len())
	}
	c.text = b.String()
	c.alarm, c.reading, c.updated = p.BreakerAlarm, p.ReadingTime, p.UpdatedTime
}

// fill sets p to the stored reading. It is on the path of every read of a
// power value (an SNMP walk reads a row's reading once per column), so it is
// written out rather than looped over powerFields.
func (c *powerCell) fill(p *Power) {
	e := &c.ends
	p.KVA = c.value(0, 0)
	p.Amps = c.value(1, e[0])
	p.SoldKVA = c.value(2, e[1])
	p.ContractualKVA = c.value(3, e[2])
	p.PercentKVA = c.value(4, e[3])
	p.CabinetRating = c.value(5, e[4])
	p.PrimaryKVA = c.value(6, e[5])
	p.RedundantKVA = c.value(7, e[6])
	p.KW = c.value(8, e[7])
	p.PowerFactor = c.value(9, e[8])
	p.PeakKVA7d = c.value(10, e[9])
	p.BreakerAlarm, p.ReadingTime, p.UpdatedTime = c.alarm, c.reading, c.updated
}

// equal is Power.equal between the stored reading and p.
func (c *powerCell) equal(p *Power) bool {
	if c.alarm != p.BreakerAlarm || !c.reading.Equal(p.ReadingTime) || !c.updated.Equal(p.UpdatedTime) {
		return false
	}
	from := uint32(0)
	for k, v := range powerFields(p) {
		if !v.Equal(c.value(k, from)) {
			return false
		}
		from = c.ends[k]
	}
	return true
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
	if c == nil {
		return PowerSample{Quality: s.quality(Freshness{})}
	}
	ps := PowerSample{Freshness: c.f, Quality: s.quality(c.f)}
	c.fill(&ps.Power)
	return ps
}

// HasPower reports whether location i has a power reading in the model (it
// keeps one from the first reading on; one it has not is [QualityUnavailable]).
func (s *Snapshot) HasPower(i int) bool { return s.power.at(i) != nil }

// HasEnvironment reports whether location i has an environment reading in
// the model, as [Snapshot.HasPower].
func (s *Snapshot) HasEnvironment(i int) bool { return s.env.at(i) != nil }

// Environment returns the environment reading of location i.
func (s *Snapshot) Environment(i int) EnvironmentSample {
	c := s.env.at(i)
	if c == nil {
		return EnvironmentSample{Quality: s.quality(Freshness{})}
	}
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
