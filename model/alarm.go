package model

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Severity is SmartView's alarm severity.
type Severity uint8

// Severities, in increasing order. The feed encodes them as integers
// (200-299, 400-499, 600-699, 800-899), REST as words.
const (
	SeverityUnknown Severity = iota
	SeverityInformational
	SeverityLow
	SeverityHigh
	SeverityUrgent
)

// Code is the severity's canonical number, the bottom of its range in the
// feed's encoding: 800 Urgent, 600 High, 400 Low, 200 Informational, 0
// unknown. Whichever way an alarm arrived (a REST word, a feed integer such
// as 850), its severity is served as this number and String's name.
func (s Severity) Code() int {
	switch s {
	case SeverityInformational:
		return 200
	case SeverityLow:
		return 400
	case SeverityHigh:
		return 600
	case SeverityUrgent:
		return 800
	}
	return 0
}

func (s Severity) String() string {
	switch s {
	case SeverityInformational:
		return "Informational"
	case SeverityLow:
		return "Low"
	case SeverityHigh:
		return "High"
	case SeverityUrgent:
		return "Urgent"
	}
	return "Unknown"
}

// AlarmState is where an alarm is in its life.
type AlarmState uint8

// Alarm states. An alarm may be cleared without ever being acknowledged.
const (
	AlarmActive AlarmState = iota + 1
	AlarmAcknowledged
	AlarmCleared
)

func (s AlarmState) String() string {
	switch s {
	case AlarmActive:
		return "active"
	case AlarmAcknowledged:
		return "acknowledged"
	case AlarmCleared:
		return "cleared"
	}
	return "unknown"
}

// Alarm is an alarm raised by SmartView on an asset, tag or location.
type Alarm struct {
	// ID is a small number assigned when the gateway first sees the alarm;
	// it never changes and is never reused, across restarts too. Raise,
	// acknowledge and clear notifications carry it for correlation.
	ID uint64
	// Key is the alarm's identity derived from SmartView's fields:
	// IBX, subject (asset, circuit, cabinet or cage), tag, condition and
	// trigger time.
	Key            string
	IBX            string
	AssetID        string
	AssetType      string
	Classification string
	TagID          string
	Condition      string
	Cage           string
	Cabinet        string
	Circuit        string
	Severity       Severity // canonical: Severity.String() and Severity.Code()
	SeverityText   string   // raw, as upstream last sent it ("Urgent", "850")
	Value          string   // data point value at which it triggered
	Unit           string
	State          AlarmState
	Triggered      time.Time // when the condition was met
	Processed      time.Time // when SmartView processed it
	Cleared        time.Time // when it returned to normal (zero while active)
	// FirstSeen and LastSeen are gateway times of the first and last observation.
	FirstSeen time.Time
	LastSeen  time.Time
	// Seq is the sequence number of the alarm's latest transition.
	Seq uint64
	// Inferred: the latest transition was not seen happen but proven by a
	// later sighting (a poll that first saw the alarm acknowledged or
	// cleared), and reported so that every transition reaches consumers in
	// order: raised, acknowledged, cleared.
	Inferred bool `json:",omitempty"`
	// InferredMask has bit 1<<kind set for each kind of transition of the
	// alarm's current life (since it was last raised) that was inferred.
	InferredMask uint8 `json:",omitempty"`
	// WasAcknowledged: the alarm was acknowledged in its current life
	// (since it was last raised), cleared since or not. A consumer that
	// missed transitions (a crash) re-derives them from it and State.
	WasAcknowledged bool `json:",omitempty"`
	// AckTime is when the alarm was acknowledged (for an upstream
	// acknowledgement, the time upstream gives — the v2 stream's
	// acknowledgementTime — else when the gateway learned of it) and AckActor who did it (AckActorUpstream for SmartView's
	// "ack"); zero and empty while it is not acknowledged.
	AckTime  time.Time `json:",omitzero"`
	AckActor string    `json:",omitempty"`
	// Operator is what operators did to the alarm at their consoles (OPC UA
	// Acknowledge and AddComment) in its current life: the gateway's own
	// record, never sent upstream. Nil until an operator acts.
	Operator *OperatorRecord `json:",omitempty"`
}

// OperatorRecord is an operator's acknowledgement of an alarm and the
// latest comment on it, as recorded by the gateway. SmartView knows nothing
// of it: an operator acknowledgement never acknowledges the alarm upstream.
type OperatorRecord struct {
	AckTime     time.Time `json:",omitzero"` // zero: not acknowledged by an operator
	AckUser     string    `json:",omitempty"`
	Comment     string    `json:",omitempty"` // the latest comment (of the acknowledgement or AddComment)
	CommentTime time.Time `json:",omitzero"`
	CommentUser string    `json:",omitempty"`
}

// OperatorAcked reports whether an operator acknowledged the alarm in its
// current life.
func (a *Alarm) OperatorAcked() bool { return a.Operator != nil && !a.Operator.AckTime.IsZero() }

// InferredKinds lists the transitions of the alarm's current life that
// were inferred, in order.
func (a *Alarm) InferredKinds() []TransitionKind {
	var out []TransitionKind
	for _, k := range []TransitionKind{AlarmRaised, AlarmAcknowledgedKind, AlarmClearedKind} {
		if a.InferredMask&(1<<k) != 0 {
			out = append(out, k)
		}
	}
	return out
}

// AckActorUpstream is the AckActor of an acknowledgement SmartView
// reports: the Equinix operations team acknowledges alarms there.
const AckActorUpstream = "Equinix operations"

// AlarmObservation is one sighting of an alarm, from a poll or a feed event.
type AlarmObservation struct {
	IBX, AssetID, AssetType, Classification, TagID, Condition string
	Cage, Cabinet, Circuit                                    string
	Severity                                                  Severity
	SeverityText                                              string
	Value, Unit                                               string
	Active                                                    bool // SmartView "status"
	Acknowledged                                              bool // SmartView "ack"
	Triggered, Processed, Cleared                             time.Time
	// AckTime is when upstream says the alarm was acknowledged (the v2
	// stream's status.acknowledgementTime); zero when it does not say.
	AckTime time.Time
}

// Key returns the identity of the observed alarm.
func (o *AlarmObservation) Key() string {
	subject := o.AssetID
	for _, s := range []string{o.Circuit, o.Cabinet, o.Cage} {
		if subject == "" {
			subject = s
		}
	}
	var ms string
	if !o.Triggered.IsZero() {
		ms = strconv.FormatInt(o.Triggered.UnixMilli(), 10)
	}
	return strings.Join([]string{o.IBX, subject, o.TagID, o.Condition, ms}, "|")
}

// TransitionKind is what happened to an alarm or alert.
type TransitionKind uint8

// Transition kinds.
const (
	AlarmRaised TransitionKind = iota + 1
	AlarmAcknowledgedKind
	AlarmClearedKind
	AlertTriggered
	AlertAcknowledged
	// AlarmOperatorAcknowledgedKind and AlarmCommentedKind are an operator's
	// acknowledgement of, and comment on, an alarm at the gateway (OPC UA
	// Acknowledge, AddComment): the alarm's State does not change, and
	// nothing is acknowledged upstream.
	AlarmOperatorAcknowledgedKind
	AlarmCommentedKind
)

func (k TransitionKind) String() string {
	switch k {
	case AlarmRaised:
		return "raised"
	case AlarmAcknowledgedKind:
		return "acknowledged"
	case AlarmClearedKind:
		return "cleared"
	case AlertTriggered:
		return "alert-triggered"
	case AlertAcknowledged:
		return "alert-acknowledged"
	case AlarmOperatorAcknowledgedKind:
		return "operator-acknowledged"
	case AlarmCommentedKind:
		return "commented"
	}
	return "unknown"
}

// AlarmTransition is one change of an alarm's state. Seq numbers all alarm
// and alert transitions in the order they happened, across restarts.
type AlarmTransition struct {
	Kind   TransitionKind
	Seq    uint64
	Alarm  Alarm  // the alarm after the transition
	Source string // "poll", "feed", "reconcile", … as the writer said
}

// Alert is a customer-configured alert (threshold on a tag, a power level…),
// known from the feed.
type Alert struct {
	// Number is a small number assigned when first seen, like Alarm.ID.
	Number         uint64
	ID             string // SmartView's id, or a derived identity
	IBX            string
	Asset          string
	AssetName      string
	AssetType      string
	Classification string
	TagID          string
	Type           string
	Name           string // alertTypeName
	EventType      string
	Severity       string
	Value          string // current value
	Unit           string
	Threshold      string
	Acknowledged   bool
	Triggered      time.Time
	AcknowledgedAt time.Time
	FirstSeen      time.Time
	LastSeen       time.Time
	Seq            uint64
}

// AlertObservation is one sighting of an alert.
type AlertObservation struct {
	ID, IBX, Asset, AssetName, AssetType, Classification, TagID string
	Type, Name, EventType, Severity, Value, Unit, Threshold     string
	Acknowledged                                                bool
	Triggered, AcknowledgedAt                                   time.Time
}

// Key returns the alert's identity: SmartView's id where present.
func (o *AlertObservation) Key() string {
	if o.ID != "" {
		return o.ID
	}
	var ms string
	if !o.Triggered.IsZero() {
		ms = strconv.FormatInt(o.Triggered.UnixMilli(), 10)
	}
	return strings.Join([]string{o.IBX, o.Asset, o.TagID, o.Type, ms}, "|")
}

// AlertTransition is an alert being triggered or acknowledged.
type AlertTransition struct {
	Kind   TransitionKind
	Seq    uint64
	Alert  Alert
	Source string
}

// alarmBook is the immutable alarm and alert state of a snapshot.
type alarmBook struct {
	alarms    map[string]*Alarm // by Key
	alerts    map[string]*Alert // by key
	baselines map[string]time.Time
	nextID    uint64 // next Alarm.ID / Alert.Number
	seq       uint64 // last transition sequence number

	sortOnce     sync.Once
	sortedAlarms []*Alarm
	sortedAlerts []*Alert
}

func newAlarmBook() *alarmBook {
	return &alarmBook{alarms: map[string]*Alarm{}, alerts: map[string]*Alert{}, baselines: map[string]time.Time{}, nextID: 1}
}

func (b *alarmBook) clone() *alarmBook {
	return &alarmBook{alarms: maps.Clone(b.alarms), alerts: maps.Clone(b.alerts),
		baselines: maps.Clone(b.baselines), nextID: b.nextID, seq: b.seq}
}

func (b *alarmBook) sorted() ([]*Alarm, []*Alert) {
	b.sortOnce.Do(func() {
		b.sortedAlarms = slices.SortedFunc(maps.Values(b.alarms), func(x, y *Alarm) int { return cmp.Compare(x.ID, y.ID) })
		b.sortedAlerts = slices.SortedFunc(maps.Values(b.alerts), func(x, y *Alert) int { return cmp.Compare(x.Number, y.Number) })
	})
	return b.sortedAlarms, b.sortedAlerts
}

// ObserveAlarm records a sighting of an alarm and reports each transition it
// implies in the delta, exactly once:
//
//   - a new active alarm is raised (and acknowledged, if already acknowledged);
//   - a new cleared alarm is recorded silently when it was cleared before the
//     IBX's alarm baseline (the first complete alarm poll) or longer ago than
//     the retention; otherwise it is raised, acknowledged if the sighting
//     says it was, and cleared, so a short alarm between two polls is not
//     lost;
//   - a known alarm moves forward: active → acknowledged → cleared, and an
//     active alarm seen cleared and acknowledged is acknowledged then
//     cleared;
//   - a cleared alarm becomes active again only on a sighting processed after
//     it was cleared (a slow poll cannot undo a newer clear).
//
// Source ("poll", "feed") is carried on the transitions for logging.
func (tx *Tx) ObserveAlarm(o AlarmObservation, source string) {
	if tx.s.following.Load() {
		return
	}
	b := tx.book()
	key := o.Key()
	now := tx.now
	old, known := b.alarms[key]
	a := Alarm{}
	if known {
		a = *old
	} else {
		a = Alarm{ID: b.nextID, Key: key, FirstSeen: now}
	}
	// Descriptive fields: the latest sighting's, where it has them.
	set(&a.IBX, o.IBX)
	set(&a.AssetID, o.AssetID)
	set(&a.AssetType, o.AssetType)
	set(&a.Classification, o.Classification)
	set(&a.TagID, o.TagID)
	set(&a.Condition, o.Condition)
	set(&a.Cage, o.Cage)
	set(&a.Cabinet, o.Cabinet)
	set(&a.Circuit, o.Circuit)
	set(&a.SeverityText, o.SeverityText)
	set(&a.Value, o.Value)
	set(&a.Unit, o.Unit)
	if o.Severity != SeverityUnknown {
		a.Severity = o.Severity
	}
	if !o.Triggered.IsZero() {
		a.Triggered = o.Triggered
	}
	a.LastSeen = now

	// kinds are the transitions the sighting proves, in order; all but the
	// last were not seen happen (a poll saw only where the alarm ended up)
	// and are marked inferred. An acknowledgement is reported only when the
	// sighting says so, and only before a clear.
	var kinds []TransitionKind
	switch {
	case !known && o.Active:
		a.State = AlarmActive
		kinds = append(kinds, AlarmRaised)
		if o.Acknowledged {
			a.State = AlarmAcknowledged
			kinds = append(kinds, AlarmAcknowledgedKind)
		}
	case !known:
		a.State = AlarmCleared
		a.Cleared = firstNonZero(o.Cleared, o.Processed, now)
		base, baselined := b.baselines[o.IBX]
		if baselined && !a.Cleared.Before(base) && !a.Cleared.Before(now.Add(-tx.s.opts.AlarmRetention)) {
			kinds = append(kinds, AlarmRaised)
			if o.Acknowledged {
				kinds = append(kinds, AlarmAcknowledgedKind)
			}
			kinds = append(kinds, AlarmClearedKind)
		}
	case o.Active && a.State == AlarmCleared:
		// Re-raise only on a sighting processed after the clear.
		if o.Processed.After(a.Cleared) {
			a.State, a.Cleared = AlarmActive, time.Time{}
			kinds = append(kinds, AlarmRaised)
			if o.Acknowledged {
				a.State = AlarmAcknowledged
				kinds = append(kinds, AlarmAcknowledgedKind)
			}
		}
	case o.Active && o.Acknowledged && a.State == AlarmActive:
		a.State = AlarmAcknowledged
		kinds = append(kinds, AlarmAcknowledgedKind)
	case !o.Active && a.State != AlarmCleared:
		if o.Acknowledged && a.State == AlarmActive {
			kinds = append(kinds, AlarmAcknowledgedKind)
		}
		a.State = AlarmCleared
		a.Cleared = firstNonZero(o.Cleared, o.Processed, now)
		kinds = append(kinds, AlarmClearedKind)
	}
	if slices.Contains(kinds, AlarmRaised) {
		a.Operator = nil // a new life: operators have not seen it yet
	}
	switch {
	case a.State == AlarmActive:
		a.AckTime, a.AckActor = time.Time{}, "" // re-raised
	case slices.Contains(kinds, AlarmAcknowledgedKind):
		a.AckTime, a.AckActor = firstNonZero(o.AckTime, now), AckActorUpstream
	}
	if o.Processed.After(a.Processed) {
		a.Processed = o.Processed
	}
	if !known {
		b.nextID++
	}
	tx.putAlarm(&a, kinds, source)
}

// ReconcileAlarms clears the alarms of ibx that are active in the model but
// were absent from a complete poll of that IBX's alarms (seen holds the keys
// the poll returned). Alarms last seen after pollStarted — learned from the
// feed while the poll ran — are left alone. After the first reconcile of an
// IBX its alarm baseline is set (see ObserveAlarm).
func (tx *Tx) ReconcileAlarms(ibx string, seen map[string]bool, pollStarted time.Time) {
	if tx.s.following.Load() {
		return
	}
	// Read without copying: a poll that changes nothing (the usual case)
	// must not copy the book, which would also rewrite the ledger.
	b := tx.currentBook()
	for key, old := range b.alarms {
		if old.IBX != ibx || old.State == AlarmCleared || seen[key] || old.LastSeen.After(pollStarted) {
			continue
		}
		a := *old
		a.State, a.Cleared = AlarmCleared, tx.now
		tx.putAlarm(&a, []TransitionKind{AlarmClearedKind}, "reconcile")
	}
	if _, ok := tx.currentBook().baselines[ibx]; !ok {
		tx.book().baselines[ibx] = pollStarted
	}
}

// ObserveAlert records a sighting of an alert: a new one is triggered (and
// acknowledged if already acknowledged); a known one can only move to
// acknowledged.
func (tx *Tx) ObserveAlert(o AlertObservation, source string) {
	if tx.s.following.Load() {
		return
	}
	b := tx.book()
	key := o.Key()
	old, known := b.alerts[key]
	a := Alert{}
	if known {
		a = *old
	} else {
		a = Alert{Number: b.nextID, ID: key, FirstSeen: tx.now}
		b.nextID++
	}
	set(&a.IBX, o.IBX)
	set(&a.Asset, o.Asset)
	set(&a.AssetName, o.AssetName)
	set(&a.AssetType, o.AssetType)
	set(&a.Classification, o.Classification)
	set(&a.TagID, o.TagID)
	set(&a.Type, o.Type)
	set(&a.Name, o.Name)
	set(&a.EventType, o.EventType)
	set(&a.Severity, o.Severity)
	set(&a.Value, o.Value)
	set(&a.Unit, o.Unit)
	set(&a.Threshold, o.Threshold)
	if !o.Triggered.IsZero() {
		a.Triggered = o.Triggered
	}
	a.LastSeen = tx.now
	var kinds []TransitionKind
	if !known {
		kinds = append(kinds, AlertTriggered)
	}
	if o.Acknowledged && !a.Acknowledged {
		a.Acknowledged = true
		a.AcknowledgedAt = firstNonZero(o.AcknowledgedAt, tx.now)
		kinds = append(kinds, AlertAcknowledged)
	}
	tx.putAlert(&a, kinds, source)
}

// set sets *dst to v unless v is empty: a sighting's descriptive fields
// replace the known ones only where it has them.
func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// putAlarm stores a, numbering each of its transitions in the book's
// sequence and recording them in the delta. Every transition but the last
// is inferred, and shows the alarm in the state it moved to then.
func (tx *Tx) putAlarm(a *Alarm, kinds []TransitionKind, source string) {
	b := tx.book()
	a.Inferred = false
	for i, k := range kinds {
		b.seq++
		a.Seq = b.seq
		switch k {
		case AlarmRaised:
			a.InferredMask, a.WasAcknowledged = 0, false // a new life
		case AlarmAcknowledgedKind:
			a.WasAcknowledged = true
		}
		if i < len(kinds)-1 {
			a.InferredMask |= 1 << k
		}
		at := *a
		if i < len(kinds)-1 {
			at.Inferred = true
			switch k {
			case AlarmRaised:
				at.State, at.Cleared = AlarmActive, time.Time{}
			case AlarmAcknowledgedKind:
				at.State, at.Cleared = AlarmAcknowledged, time.Time{}
			}
		}
		tx.delta.Alarms = append(tx.delta.Alarms, AlarmTransition{Kind: k, Seq: b.seq, Alarm: at, Source: source})
	}
	b.alarms[a.Key] = a
}

// putAlert is putAlarm for an alert.
func (tx *Tx) putAlert(a *Alert, kinds []TransitionKind, source string) {
	b := tx.book()
	for _, k := range kinds {
		b.seq++
		a.Seq = b.seq
		tx.delta.Alerts = append(tx.delta.Alerts, AlertTransition{Kind: k, Seq: b.seq, Alert: *a, Source: source})
	}
	b.alerts[a.ID] = a
}

// pruneAlarms forgets cleared alarms and alerts not seen within the retention.
func (tx *Tx) pruneAlarms() {
	if tx.s.following.Load() {
		return
	}
	cutoff := tx.now.Add(-tx.s.opts.AlarmRetention)
	var b *alarmBook
	for key, a := range tx.base.book.alarms {
		if a.State == AlarmCleared && a.LastSeen.Before(cutoff) && a.Cleared.Before(cutoff) {
			if b == nil {
				b = tx.book()
			}
			delete(b.alarms, key)
		}
	}
	for key, a := range tx.base.book.alerts {
		if a.LastSeen.Before(cutoff) {
			if b == nil {
				b = tx.book()
			}
			delete(b.alerts, key)
		}
	}
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
