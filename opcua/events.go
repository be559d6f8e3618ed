package opcua

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"weak"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// Alarms as OPC UA Part 9 conditions, and the events they raise.
//
// Every alarm the model holds is a condition: its ConditionId is the
// alarm's node (ns=2;s=<IBX>/ALARM/<id>), its SourceNode the asset the
// alarm is on (or, without one, the circuit, cabinet, cage or IBX). Each
// transition of the model's change stream (raised, acknowledged upstream,
// cleared, acknowledged or commented by an operator here) raises one event
// of the condition's type carrying the condition's state after it; a
// ConditionRefresh sends the current state of every retained condition.
// An event is a set of fields keyed by browse path; select clauses and
// where clauses read them (filter.go).

// Event types. The condition type is SmartViewAlarmType, SmartView's
// subtype of OffNormalAlarmType (SmartView.NodeSet2.xml), whose supertypes
// OfType walks by eventSupertypes.
var (
	evBaseEvent    = ns0(id.BaseEventType)
	evRefreshStart = ns0(id.RefreshStartEventType)
	evRefreshEnd   = ns0(id.RefreshEndEventType)
	evRefreshReq   = ns0(id.RefreshRequiredEventType)
	evOverflow     = ns0(id.EventQueueOverflowEventType)
	evAlarm        = typesNS(typeAlarm)
)

// eventSupertypes lists each event type the gateway raises with its
// supertypes up to BaseEventType, for OfType and for a select clause's
// TypeDefinitionId.
var eventSupertypes = map[nodeKey][]*ua.NodeID{
	{ns: nsTypes, num: typeAlarm}: {evAlarm, ns0(id.OffNormalAlarmType), ns0(id.DiscreteAlarmType),
		ns0(id.AlarmConditionType), ns0(id.AcknowledgeableConditionType), ns0(id.ConditionType), evBaseEvent},
	{num: id.RefreshStartEventType}:       {evRefreshStart, ns0(id.SystemEventType), evBaseEvent},
	{num: id.RefreshEndEventType}:         {evRefreshEnd, ns0(id.SystemEventType), evBaseEvent},
	{num: id.RefreshRequiredEventType}:    {evRefreshReq, ns0(id.SystemEventType), evBaseEvent},
	{num: id.EventQueueOverflowEventType}: {evOverflow, evBaseEvent},
}

// knownEventType reports whether t is a type the gateway raises or one of
// their supertypes: a select clause's TypeDefinitionId must be one.
func knownEventType(t *ua.NodeID) bool {
	for _, chain := range eventSupertypes {
		for _, s := range chain {
			if sameNodeID(s, t) {
				return true
			}
		}
	}
	return false
}

func sameNodeID(a, b *ua.NodeID) bool {
	ka, ok1 := keyOf(a)
	kb, ok2 := keyOf(b)
	return ok1 && ok2 && ka == kb
}

// Severity maps SmartView's severities onto OPC UA's 1–1000 (Part 9: 801–1000
// high, 601–800 medium high, 401–600 medium, 201–400 medium low, 1–200 low).
// The README's table is this one.
var severityMap = map[model.Severity]uint16{
	model.SeverityUrgent:        900,
	model.SeverityHigh:          700,
	model.SeverityLow:           500,
	model.SeverityInformational: 300,
	model.SeverityUnknown:       100,
}

// event is one event: its type and its fields by browse path.
type event struct {
	typ    *ua.NodeID
	fields map[string]*ua.Variant
	// alarm is the condition's alarm (nil for refresh start and end), for
	// the notifier an item watches.
	alarm *model.Alarm
}

// field returns the value of a field; nil when the event has none.
func (e *event) field(path string) *ua.Variant { return e.fields[path] }

// ofType reports whether the event's type is t or a subtype of t.
func (e *event) ofType(t *ua.NodeID) bool {
	k, _ := keyOf(e.typ)
	for _, s := range eventSupertypes[k] {
		if sameNodeID(s, t) {
			return true
		}
	}
	return false
}

// Field paths: browse names joined by "/", each "ns:name" with the
// server's namespace index (0 standard, 3 SmartView).
const (
	fEventID         = "0:EventId"
	fEventType       = "0:EventType"
	fSourceNode      = "0:SourceNode"
	fSourceName      = "0:SourceName"
	fTime            = "0:Time"
	fReceiveTime     = "0:ReceiveTime"
	fMessage         = "0:Message"
	fSeverity        = "0:Severity"
	fConditionID     = "NodeId" // the condition's own NodeId (empty browse path, attribute NodeId)
	fConditionName   = "0:ConditionName"
	fConditionClass  = "0:ConditionClassId"
	fConditionClassN = "0:ConditionClassName"
	fBranchID        = "0:BranchId"
	fRetain          = "0:Retain"
	fEnabledState    = "0:EnabledState"
	fEnabledStateID  = "0:EnabledState/0:Id"
	fActiveState     = "0:ActiveState"
	fActiveStateID   = "0:ActiveState/0:Id"
	fAckedState      = "0:AckedState"
	fAckedStateID    = "0:AckedState/0:Id"
	fQuality         = "0:Quality"
	fLastSeverity    = "0:LastSeverity"
	fComment         = "0:Comment"
	fClientUserID    = "0:ClientUserId"
	fInputNode       = "0:InputNode"
	fSuppressedOrSh  = "0:SuppressedOrShelved"
	fNormalState     = "0:NormalState"
	// SmartView's own fields: the members of SmartViewAlarmType
	fIBX           = "3:IBX"
	fAssetID       = "3:AssetId"
	fTagID         = "3:TagId"
	fCondition     = "3:Condition"
	fAlarmID       = "3:AlarmId"
	fSVSeverity    = "3:Severity"
	fSVState       = "3:State"
	fUpstreamAcked = "3:UpstreamAcknowledged"
	fOperatorAck   = "3:OperatorAckUser"
	fOperatorAckAt = "3:OperatorAckTime"
	fCage          = "3:Cage"
	fCabinet       = "3:Cabinet"
	fCircuit       = "3:Circuit"
	fValue         = "3:Value"
	fUnit          = "3:Unit"
	fTriggered     = "3:Triggered"
	fProcessed     = "3:Processed"
	fCleared       = "3:Cleared"
)

// knownFields are the field paths a select clause may name; others get
// Bad_NodeIdUnknown in the filter result.
var knownFields = map[string]bool{}

func init() {
	for _, f := range []string{fEventID, fEventType, fSourceNode, fSourceName, fTime, fReceiveTime, fMessage,
		fSeverity, fConditionID, fConditionName, fConditionClass, fConditionClassN, fBranchID, fRetain,
		fEnabledState, fEnabledStateID, fActiveState, fActiveStateID, fAckedState, fAckedStateID, fQuality,
		fLastSeverity, fComment, fClientUserID, fInputNode, fSuppressedOrSh, fNormalState, fIBX, fAssetID, fTagID, fCondition,
		fAlarmID, fSVSeverity, fSVState, fUpstreamAcked, fOperatorAck, fOperatorAckAt, fCage, fCabinet, fCircuit, fValue,
		fUnit, fTriggered, fProcessed, fCleared} {
		knownFields[f] = true
	}
}

// pathKey renders a browse path as a field path.
func pathKey(path []*ua.QualifiedName) string {
	var b strings.Builder
	for i, q := range path {
		if i > 0 {
			b.WriteByte('/')
		}
		if q == nil {
			b.WriteString("?")
			continue
		}
		b.WriteString(strconv.FormatUint(uint64(q.NamespaceIndex), 10))
		b.WriteByte(':')
		b.WriteString(q.Name)
	}
	return b.String()
}

// eventID is unique per transition: the alarm id and the transition's
// sequence number. A refresh repeats the condition's latest event id, so
// a client can acknowledge with it.
func eventID(alarm, seq uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, alarm)
	binary.BigEndian.PutUint64(b[8:], seq)
	return b
}

// parseEventID splits an event id made by eventID.
func parseEventID(b []byte) (alarm, seq uint64, ok bool) {
	if len(b) != 16 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), true
}

// retained reports whether a condition is of interest to a console: while
// the alarm is not cleared. A cleared alarm's condition is sent once with
// Retain false and no more by ConditionRefresh (SmartView clears most alarms
// without anyone acknowledging them; retaining those would flood consoles).
func retained(a *model.Alarm) bool { return a.State != model.AlarmCleared }

// acked is the condition's AckedState: acknowledged upstream by Equinix
// operations, or here by an operator.
func acked(a *model.Alarm) bool { return a.WasAcknowledged || a.OperatorAcked() }

// sourceOfAlarm is the node an alarm is on: its asset, else the most
// specific location it names, else its IBX.
func (c *evalCtx) sourceOfAlarm(a *model.Alarm) (node, bool) {
	st := c.view.st
	if a.AssetID != "" {
		if i, ok := st.AssetIndex(a.AssetID); ok {
			return node{kind: kindAsset, member: -1, idx: int32(i)}, true
		}
	}
	for _, l := range []model.LocationID{{IBX: a.IBX, Level: model.LevelCircuit, Name: a.Circuit},
		{IBX: a.IBX, Level: model.LevelCabinet, Name: a.Cabinet}, {IBX: a.IBX, Level: model.LevelCage, Name: a.Cage},
		model.IBXLocation(a.IBX)} {
		if l.Name == "" {
			continue
		}
		if i, ok := st.LocationIndex(l); ok {
			return node{kind: kindLocation, member: -1, idx: int32(i)}, true
		}
	}
	return node{}, false
}

// alarmEvent builds the event of an alarm's transition of kind (refresh:
// its current state, kind 0), received at recv.
func (c *evalCtx) alarmEvent(a *model.Alarm, kind model.TransitionKind, recv time.Time) *event {
	f := make(map[string]*ua.Variant, 40)
	sev := variant(severityMap[a.Severity])
	cond := node{kind: kindAlarm, member: -1, alarm: a.ID}
	f[fEventID] = variant(eventID(a.ID, a.Seq))
	f[fEventType] = variant(evAlarm)
	srcName := a.AssetID
	for _, s := range []string{a.Circuit, a.Cabinet, a.Cage, a.IBX} {
		if srcName == "" {
			srcName = s
		}
	}
	if src, ok := c.sourceOfAlarm(a); ok {
		f[fSourceNode] = variant(c.nodeID(src))
	} else {
		f[fSourceNode] = variant(ua.NewTwoByteNodeID(0))
	}
	f[fSourceName] = variant(srcName)
	f[fTime] = variant(alarmEventTime(a, kind))
	f[fReceiveTime] = variant(recv)
	f[fMessage] = variant(ua.NewLocalizedText(alarmMessage(a, kind, srcName)))
	f[fSeverity] = sev
	f[fLastSeverity] = sev
	f[fConditionID] = variant(c.nodeID(cond))
	f[fConditionName] = variant(a.Condition)
	f[fConditionClass] = variant(ns0(id.BaseConditionClassType))
	f[fConditionClassN] = variant(ua.NewLocalizedText("BaseConditionClass"))
	f[fBranchID] = variant(ua.NewTwoByteNodeID(0))
	f[fRetain] = variant(retained(a))
	f[fEnabledState] = variant(ua.NewLocalizedText("Enabled"))
	f[fEnabledStateID] = variant(true)
	active := a.State != model.AlarmCleared
	f[fActiveState] = variant(ua.NewLocalizedText(map[bool]string{true: "Active", false: "Inactive"}[active]))
	f[fActiveStateID] = variant(active)
	ack := acked(a)
	f[fAckedState] = variant(ua.NewLocalizedText(map[bool]string{true: "Acknowledged", false: "Unacknowledged"}[ack]))
	f[fAckedStateID] = variant(ack)
	f[fQuality] = variant(c.alarmQuality())
	comment, user := "", ""
	if a.Operator != nil {
		comment = a.Operator.Comment
	}
	switch {
	case kind == model.AlarmOperatorAcknowledgedKind:
		user = a.Operator.AckUser
	case kind == model.AlarmCommentedKind:
		user = a.Operator.CommentUser
	case kind == model.AlarmAcknowledgedKind:
		user = a.AckActor
	}
	f[fComment] = variant(ua.NewLocalizedText(comment))
	f[fClientUserID] = variant(user)
	f[fInputNode] = variant(ua.NewTwoByteNodeID(0))
	f[fSuppressedOrSh] = variant(false)
	f[fNormalState] = variant(ua.NewTwoByteNodeID(0))
	f[fIBX] = variant(a.IBX)
	f[fAssetID] = variant(a.AssetID)
	f[fTagID] = variant(a.TagID)
	f[fCondition] = variant(a.Condition)
	f[fAlarmID] = variant(a.ID)
	f[fSVSeverity] = variant(a.Severity.String())
	f[fSVState] = variant(a.State.String())
	f[fUpstreamAcked] = variant(a.WasAcknowledged)
	f[fOperatorAck] = variant(operatorAckUser(a))
	f[fOperatorAckAt] = timeVariant(operatorAckTime(a))
	f[fCage], f[fCabinet], f[fCircuit] = variant(a.Cage), variant(a.Cabinet), variant(a.Circuit)
	f[fValue], f[fUnit] = variant(a.Value), variant(a.Unit)
	f[fTriggered], f[fProcessed], f[fCleared] = timeVariant(a.Triggered), timeVariant(a.Processed), timeVariant(a.Cleared)
	return &event{typ: evAlarm, fields: f, alarm: a}
}

// alarmQuality is the Quality of every condition: Good, or
// UncertainNoCommunicationLastUsableValue while SmartView is unreachable
// (the gateway may then miss transitions; the alarm's state is the last
// one it saw).
func (c *evalCtx) alarmQuality() ua.StatusCode {
	if c.snap.Health().Upstream == model.UpstreamDown {
		return qualityStatus(model.QualityNoComm)
	}
	return ua.StatusGood
}

// alarmEventTime is when the transition happened, upstream's time where
// SmartView gives one.
func alarmEventTime(a *model.Alarm, kind model.TransitionKind) time.Time {
	var t time.Time
	switch kind {
	case model.AlarmRaised:
		t = a.Triggered
	case model.AlarmAcknowledgedKind:
		t = a.AckTime
	case model.AlarmClearedKind:
		t = a.Cleared
	case model.AlarmOperatorAcknowledgedKind:
		t = a.Operator.AckTime
	case model.AlarmCommentedKind:
		t = a.Operator.CommentTime
	default: // refresh: the latest change of state
		t = firstNonZeroTime(a.Cleared, a.AckTime, a.Triggered)
		if a.Operator != nil && a.Operator.AckTime.After(t) {
			t = a.Operator.AckTime
		}
	}
	return firstNonZeroTime(t, a.LastSeen, a.FirstSeen)
}

func firstNonZeroTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func alarmMessage(a *model.Alarm, kind model.TransitionKind, src string) string {
	what := a.Condition
	if what == "" {
		what = "alarm"
	}
	if a.TagID != "" {
		what += " (" + a.TagID + ")"
	}
	var verb string
	switch kind {
	case model.AlarmRaised:
		verb = "raised"
	case model.AlarmAcknowledgedKind:
		verb = "acknowledged by " + model.AckActorUpstream
	case model.AlarmClearedKind:
		verb = "cleared"
	case model.AlarmOperatorAcknowledgedKind:
		verb = "acknowledged by operator " + a.Operator.AckUser + " (not upstream)"
	case model.AlarmCommentedKind:
		verb = "commented by " + a.Operator.CommentUser
	default:
		verb = a.State.String()
	}
	return a.Severity.String() + " " + what + " on " + src + " in " + a.IBX + ": " + verb
}

// refreshEvent is RefreshStartEvent, RefreshEndEvent, RefreshRequiredEvent
// or EventQueueOverflowEvent: a system event of the Server.
func refreshEvent(typ *ua.NodeID, seq uint64, now time.Time) *event {
	f := map[string]*ua.Variant{
		fEventID:     variant(eventID(0, seq)),
		fEventType:   variant(typ),
		fSourceNode:  variant(ns0(id.Server)),
		fSourceName:  variant("Server"),
		fTime:        variant(now),
		fReceiveTime: variant(now),
		fMessage:     variant(ua.NewLocalizedText("")),
		fSeverity:    variant(uint16(100)),
	}
	switch {
	case sameNodeID(typ, evRefreshStart):
		f[fMessage] = variant(ua.NewLocalizedText("ConditionRefresh start"))
	case sameNodeID(typ, evRefreshEnd):
		f[fMessage] = variant(ua.NewLocalizedText("ConditionRefresh end"))
	case sameNodeID(typ, evOverflow):
		f[fMessage] = variant(ua.NewLocalizedText("event queue overflow: events were discarded"))
	default:
		f[fMessage] = variant(ua.NewLocalizedText("alarm events were lost: call ConditionRefresh"))
	}
	return &event{typ: typ, fields: f}
}

// notifier is what an event monitored item watches: every alarm (the
// Server object, the SmartView folder), an IBX's, or an asset's.
type notifier struct {
	all   bool
	ibx   string
	asset string
}

// EventNotifier bits (Part 3).
const (
	eventNotifierSubscribe   = 1
	eventNotifierHistoryRead = 4
)

// eventNotifier returns a node's EventNotifier attribute: SubscribeToEvents
// and HistoryRead (alarm events from the ledger, history_events.go) on the
// Server object, the SmartView folder, IBXs and assets — the notifier
// hierarchy, see refs — and nothing elsewhere.
func (c *evalCtx) eventNotifier(n node) uint8 {
	const both = eventNotifierSubscribe | eventNotifierHistoryRead
	switch {
	case n.kind == kindStatic && n.idx == c.as.server:
		return both
	case n.kind == kindStatic:
		return c.as.statics[n.idx].eventNotifier
	case n.member >= 0:
		return 0
	case n.kind == kindRoot, n.kind == kindAsset:
		return both
	case n.kind == kindLocation && c.view.st.Location(int(n.idx)).ID.Level == model.LevelIBX:
		return both
	}
	return 0
}

// notifierOf returns what an event item on n watches.
func (c *evalCtx) notifierOf(n node) (notifier, bool) {
	if c.eventNotifier(n)&eventNotifierSubscribe == 0 {
		return notifier{}, false
	}
	switch n.kind {
	case kindStatic, kindRoot:
		return notifier{all: true}, true
	case kindLocation:
		return notifier{ibx: c.view.st.Location(int(n.idx)).ID.IBX}, true
	case kindAsset:
		a := c.view.st.Asset(int(n.idx))
		return notifier{ibx: a.IBX, asset: a.ID}, true
	}
	return notifier{}, false
}

// sees reports whether an event reaches the notifier: refresh events reach
// every one.
func (nt notifier) sees(e *event) bool {
	a := e.alarm
	switch {
	case nt.all || a == nil:
		return true
	case nt.asset != "":
		return a.IBX == nt.ibx && a.AssetID == nt.asset
	}
	return a.IBX == nt.ibx
}

func operatorAckUser(a *model.Alarm) string {
	if a.OperatorAcked() {
		return a.Operator.AckUser
	}
	return ""
}

func operatorAckTime(a *model.Alarm) time.Time {
	if a.OperatorAcked() {
		return a.Operator.AckTime
	}
	return time.Time{}
}

// conditionFields are the instance declarations SmartViewAlarmType inherits
// from OffNormalAlarmType and its supertypes that alarm nodes serve, by
// member path, with the event field each reads.
var conditionFields = map[string]string{
	"EventId": fEventID, "EventType": fEventType, "SourceNode": fSourceNode, "SourceName": fSourceName, "Time": fTime,
	"ReceiveTime": fReceiveTime, "Message": fMessage, "ConditionClassId": fConditionClass,
	"ConditionClassName": fConditionClassN, "ConditionName": fConditionName, "BranchId": fBranchID, "Retain": fRetain,
	"EnabledState": fEnabledState, "EnabledState#Id": fEnabledStateID, "Quality": fQuality, "LastSeverity": fLastSeverity,
	"Comment": fComment, "ClientUserId": fClientUserID, "AckedState": fAckedState, "AckedState#Id": fAckedStateID,
	"ActiveState": fActiveState, "ActiveState#Id": fActiveStateID, "InputNode": fInputNode,
	"SuppressedOrShelved": fSuppressedOrSh, "NormalState": fNormalState,
	"Quality#SourceTimestamp": fTime, "LastSeverity#SourceTimestamp": fTime, "Comment#SourceTimestamp": fTime,
}

// conditionBindings bind the condition members of alarm nodes to the
// fields of the alarm's current-state event.
func conditionBindings() map[string]binding {
	out := map[string]binding{}
	for path, field := range conditionFields {
		out[path] = binding{source: srcAlarm, value: func(c *evalCtx, n node) sample {
			a := c.alarm(n.alarm)
			if a == nil {
				return sample{status: ua.StatusBadNodeIDUnknown}
			}
			return sample{v: c.alarmEvent(a, 0, a.LastSeen).field(field), source: alarmTime(a)}
		}}
	}
	return out
}

// conditionIndex is the listed alarms of one snapshot by asset, built once
// per snapshot on the first browse that needs it (a crawl browses every
// asset; scanning the alarms for each would cost assets × alarms). It
// names its snapshot weakly: the cache outlives the browse, and a strong
// reference would keep that snapshot's columns, and after a structure
// change the old structure, alive until the next browse.
type conditionIndex struct {
	snap    weak.Pointer[model.Snapshot]
	byAsset map[[2]string][]uint64
}

// conditionsOf returns the ids of the listed alarms of an asset.
func (c *evalCtx) conditionsOf(ibx, asset string) []uint64 {
	ix := c.srv.conditions.Load()
	if snap := weak.Make(c.snap); ix == nil || ix.snap != snap {
		ix = &conditionIndex{snap: snap, byAsset: map[[2]string][]uint64{}}
		for _, a := range c.snap.Alarms() {
			if a.AssetID != "" && c.listedAlarm(a) {
				k := [2]string{a.IBX, a.AssetID}
				ix.byAsset[k] = append(ix.byAsset[k], a.ID)
			}
		}
		c.srv.conditions.Store(ix)
	}
	return ix.byAsset[[2]string{ibx, asset}]
}
