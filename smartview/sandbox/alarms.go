package sandbox

import (
	"errors"
	"fmt"
)

// Alarms. An alarm is on a tag point and a condition; while it is active the tag and its asset
// are "NOT OK" (an "alarm" point reads "ALARM"). It may be acknowledged, and is cleared with
// timeNormalProcessed and status false. Alarms raised by the simulation acknowledge and clear on
// their own; the documented ones and those raised through the admin API are left alone
// ("pinned"), so a test drives their lifecycle.

var (
	// ErrNotFound: no such asset, tag, circuit, sensor or alarm.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the alarm is already active (raise) or already acknowledged (ack).
	ErrConflict = errors.New("conflict")
)

type alarm struct {
	seq                                      int64
	tag, asset                               int32
	condition                                string
	severity                                 int // 200–899 as the feed has it
	active, ack                              bool
	pinned                                   bool
	timeTriggered, timeProcessed, timeNormal int64 // epoch ms
	timeAck                                  int64
	value                                    string
	ackTick, clearTick                       int64 // when the simulation acknowledges and clears it
}

// alarmBook keeps alarms oldest first, at most limit of them: cleared ones go first.
type alarmBook struct {
	list    []*alarm
	nextSeq int64
	limit   int
}

// maxActiveAlarms bounds the alarms raised through the admin API (active alarms are never
// dropped from the book).
const maxActiveAlarms = 10000

func (b *alarmBook) activeCount() int {
	n := 0
	for _, a := range b.list {
		if a.active {
			n++
		}
	}
	return n
}

func (b *alarmBook) add(a *alarm) {
	b.nextSeq++
	a.seq = b.nextSeq
	b.list = append(b.list, a)
	for len(b.list) > b.limit {
		i := 0
		for i < len(b.list) && b.list[i].active {
			i++
		}
		if i == len(b.list) {
			return // all active: kept
		}
		b.list = append(b.list[:i], b.list[i+1:]...)
	}
}

// find returns the newest alarm on the tag and condition that satisfies ok.
func (b *alarmBook) find(tag int32, condition string, ok func(*alarm) bool) *alarm {
	for i := len(b.list) - 1; i >= 0; i-- {
		if a := b.list[i]; a.tag == tag && a.condition == condition && ok(a) {
			return a
		}
	}
	return nil
}

func severityWord(sev int) string {
	switch {
	case sev >= 800:
		return "Urgent"
	case sev >= 600:
		return "High"
	case sev >= 400:
		return "Low"
	default:
		return "Informational"
	}
}

// raise activates an alarm; the caller holds s.mu.
func (s *Server) raise(ti int32, condition string, severity int, at int64, pinned bool) *alarm {
	f := s.fp
	t := &f.tags[ti]
	as := &f.assets[t.asset]
	a := &alarm{tag: ti, asset: t.asset, condition: condition, severity: severity, active: true, pinned: pinned,
		timeTriggered: at, timeProcessed: at}
	t.activeAlarms++
	as.activeAlarms++
	as.lastTriggered = at
	if t.tmpl.kind == alarmTag {
		t.text, t.at = "ALARM", at
	}
	a.value = string(t.appendValue(nil))
	s.alarms.add(a)
	s.emitAlarm(a)
	s.emitTag(ti)
	return a
}

func (s *Server) acknowledge(a *alarm, at int64) {
	a.ack, a.timeAck = true, at
	s.emitAlarm(a)
}

func (s *Server) clearAlarm(a *alarm, at int64) {
	f := s.fp
	t := &f.tags[a.tag]
	as := &f.assets[a.asset]
	a.active, a.timeNormal = false, at
	t.activeAlarms--
	as.activeAlarms--
	as.lastCleared = at
	if t.tmpl.kind == alarmTag && t.activeAlarms == 0 {
		t.text, t.at = "NORMAL", at
	}
	s.emitAlarm(a)
	s.emitTag(a.tag)
}

// seedAlarms places the documented alarms with their documented times.
func (s *Server) seedAlarms() {
	for _, spec := range documentedAlarms {
		ti, ok := s.fp.tagByID[spec.tagID]
		if !ok {
			panic("sandbox: documented alarm on unknown tag " + spec.tagID)
		}
		a := s.raise(ti, spec.condition, spec.severity, spec.timeTriggered, true)
		a.timeProcessed = spec.timeProcessed
		if spec.ack {
			a.ack, a.timeAck = true, spec.timeProcessed
		}
		if !spec.active {
			s.clearAlarm(a, spec.timeNormal)
		}
	}
}

// AlarmSpec names an alarm for RaiseAlarm, AckAlarm and ClearAlarm.
type AlarmSpec struct {
	// AssetID and TagID name the tag point; with only AssetID, the asset's "alarm" point.
	AssetID string `json:"assetId"`
	TagID   string `json:"tagId"`
	// ConditionName defaults to "Alarm".
	ConditionName string `json:"conditionName"`
	// Severity (RaiseAlarm only) as the feed has it: 800–899 Urgent, 600–699 High, 400–499 Low,
	// 200–299 Informational. Default 800.
	Severity int `json:"severity"`
}

// AlarmRef identifies an alarm (tag, condition and trigger time) and tells its state.
type AlarmRef struct {
	IBX           string `json:"ibx"`
	AssetID       string `json:"assetId"`
	TagID         string `json:"tagId"`
	ConditionName string `json:"conditionName"`
	Severity      string `json:"severity"`      // the REST word: "Urgent"
	TimeTriggered int64  `json:"timeTriggered"` // epoch ms
	Status        bool   `json:"status"`        // active
	Ack           bool   `json:"ack"`
	// TimeAcknowledged is when it was acknowledged (epoch ms; 0: not), the
	// v2 stream's status.acknowledgementTime.
	TimeAcknowledged int64 `json:"timeAcknowledged,omitempty"`
}

func (s *Server) alarmRef(a *alarm) AlarmRef {
	f := s.fp
	return AlarmRef{IBX: f.ibxs[f.assets[a.asset].ibx].code, AssetID: f.assets[a.asset].id, TagID: f.tags[a.tag].id,
		ConditionName: a.condition, Severity: severityWord(a.severity), TimeTriggered: a.timeTriggered, Status: a.active, Ack: a.ack,
		TimeAcknowledged: a.timeAck}
}

// resolve finds the tag of a spec and defaults its condition; the caller holds s.mu.
func (s *Server) resolve(spec *AlarmSpec) (int32, error) {
	if spec.ConditionName == "" {
		spec.ConditionName = "Alarm"
	}
	id := spec.TagID
	if id == "" {
		if spec.AssetID == "" {
			return 0, fmt.Errorf("alarm: assetId or tagId is required: %w", ErrNotFound)
		}
		id = spec.AssetID + ":alarm"
	}
	ti, ok := s.fp.tagByID[id]
	if !ok {
		return 0, fmt.Errorf("alarm: tag %q: %w", id, ErrNotFound)
	}
	if spec.AssetID != "" && s.fp.assets[s.fp.tags[ti].asset].id != spec.AssetID {
		return 0, fmt.Errorf("alarm: tag %q is not a point of asset %q: %w", id, spec.AssetID, ErrNotFound)
	}
	return ti, nil
}

// RaiseAlarm activates an alarm on a tag point now; the simulation leaves it alone until
// AckAlarm and ClearAlarm. It is an error (ErrConflict) if one is already active on the tag and
// condition.
func (s *Server) RaiseAlarm(spec AlarmSpec) (AlarmRef, error) {
	if spec.Severity == 0 {
		spec.Severity = 800
	}
	if spec.Severity < 200 || spec.Severity > 899 {
		return AlarmRef{}, fmt.Errorf("alarm: severity %d is outside 200–899", spec.Severity)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ti, err := s.resolve(&spec)
	if err != nil {
		return AlarmRef{}, err
	}
	if a := s.alarms.find(ti, spec.ConditionName, func(a *alarm) bool { return a.active }); a != nil {
		return s.alarmRef(a), fmt.Errorf("alarm: %s %q is already active: %w", s.fp.tags[ti].id, spec.ConditionName, ErrConflict)
	}
	if s.alarms.activeCount() >= maxActiveAlarms {
		return AlarmRef{}, fmt.Errorf("alarm: %d alarms are active already, the most the sandbox keeps: %w", maxActiveAlarms, ErrConflict)
	}
	a := s.raise(ti, spec.ConditionName, spec.Severity, s.now().UnixMilli(), true)
	s.log.Info("alarm raised", "tag", s.fp.tags[ti].id, "condition", spec.ConditionName)
	return s.alarmRef(a), nil
}

// AckAlarm acknowledges the newest unacknowledged alarm on the tag and condition.
func (s *Server) AckAlarm(spec AlarmSpec) (AlarmRef, error) {
	return s.transition(spec, "acknowledged", func(a *alarm) bool { return !a.ack }, func(a *alarm) { s.acknowledge(a, s.now().UnixMilli()) })
}

// ClearAlarm clears the active alarm on the tag and condition.
func (s *Server) ClearAlarm(spec AlarmSpec) (AlarmRef, error) {
	return s.transition(spec, "cleared", func(a *alarm) bool { return a.active }, func(a *alarm) { s.clearAlarm(a, s.now().UnixMilli()) })
}

func (s *Server) transition(spec AlarmSpec, what string, eligible func(*alarm) bool, apply func(*alarm)) (AlarmRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ti, err := s.resolve(&spec)
	if err != nil {
		return AlarmRef{}, err
	}
	a := s.alarms.find(ti, spec.ConditionName, eligible)
	if a == nil {
		return AlarmRef{}, fmt.Errorf("alarm: no alarm on %s %q to be %s: %w", s.fp.tags[ti].id, spec.ConditionName, what, ErrNotFound)
	}
	apply(a)
	s.log.Info("alarm "+what, "tag", s.fp.tags[ti].id, "condition", spec.ConditionName)
	return s.alarmRef(a), nil
}
