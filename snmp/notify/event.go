package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/snmp"
)

// kind is what a notification reports.
type kind uint8

const (
	alarmRaised kind = iota
	alarmAcknowledged
	alarmCleared
	alertTriggered
	alertAcknowledged
	upstreamLost
	upstreamRestored
	heartbeat
	persistFailed
	persistRestored
	coldStart
	warmStart
	leaderChanged
	numKinds
)

var kindNames = [numKinds]string{"alarm_raised", "alarm_acknowledged", "alarm_cleared", "alert_triggered",
	"alert_acknowledged", "upstream_lost", "upstream_restored", "heartbeat", "persist_failed", "persist_restored",
	"cold_start", "warm_start", "leader_changed"}

func (k kind) String() string { return kindNames[k] }

func parseKind(s string) (kind, bool) {
	for k, n := range kindNames {
		if n == s {
			return kind(k), true
		}
	}
	return 0, false
}

// event is one notification to send, shared by every target's queue: its
// varbinds are built once, when the transition is learned.
type event struct {
	id      uint64 // order of creation, persisted
	seq     uint64 // the model's transition sequence number (0: not a transition)
	kind    kind
	subject string // "alarm:ID", "alert:N", "upstream", "persist", "heartbeat": what coalesces
	created time.Time
	n       snmp.NotificationVarbinds

	enc atomic.Pointer[encodedEvent] // the outbox form, made on the first save
}

// encodedEvent is an event's outbox form, JSON-encoded, or why it has none.
type encodedEvent struct {
	data json.RawMessage
	err  error
}

// encoded returns the event's outbox form. An event never changes once
// built, so it is encoded once, by the first save that holds it, and not
// again by every later save while it stays queued (a target down for long
// holds thousands). Safe for concurrent use: a race encodes twice, alike.
func (e *event) encoded() (json.RawMessage, error) {
	if c := e.enc.Load(); c != nil {
		return c.data, c.err
	}
	c := &encodedEvent{}
	se, err := e.store()
	if err == nil {
		c.data, err = json.Marshal(se)
	}
	c.err = err
	e.enc.Store(c)
	return c.data, c.err
}

// clear reports whether the event ends a condition a manager shows as
// open: an alarm clear, or the upstream restored. The storm policy drops
// those to make room only when superseded by a newer notification of the
// same subject, or past the hard limit.
func (e *event) clear() bool {
	return e.kind == alarmCleared || e.kind == upstreamRestored || e.kind == persistRestored
}

func alarmSubject(id uint64) string  { return "alarm:" + strconv.FormatUint(id, 10) }
func alertSubject(num uint64) string { return "alert:" + strconv.FormatUint(num, 10) }

// storedEvent is the outbox form of an event: the notification as built,
// so what is sent after a restart is what would have been sent before it.
type storedEvent struct {
	ID       uint64          `json:"id"`
	Seq      uint64          `json:"seq,omitempty"`
	Kind     string          `json:"kind"`
	Subject  string          `json:"subject"`
	Created  time.Time       `json:"created"`
	TrapOID  string          `json:"trap_oid"`
	Varbinds []storedVarbind `json:"varbinds"`
}

// storedVarbind keeps a varbind's value in the field its type uses.
type storedVarbind struct {
	OID   string `json:"oid"`
	Type  uint8  `json:"type"`
	Int   int64  `json:"int,omitempty"`   // Integer
	Uint  uint64 `json:"uint,omitempty"`  // Counter32, Gauge32, TimeTicks, Counter64
	Str   string `json:"str,omitempty"`   // OctetString given as a string, ObjectIdentifier
	Bytes []byte `json:"bytes,omitempty"` // OctetString given as bytes
}

func (e *event) store() (storedEvent, error) {
	s := storedEvent{ID: e.id, Seq: e.seq, Kind: e.kind.String(), Subject: e.subject, Created: e.created,
		TrapOID: e.n.Notification.OID.String(), Varbinds: make([]storedVarbind, 0, len(e.n.Varbinds))}
	for _, vb := range e.n.Varbinds {
		sv := storedVarbind{OID: vb.OID.String(), Type: uint8(vb.Type)}
		ok := true
		switch v := vb.Value.(type) {
		case int:
			ok = vb.Type == gosnmp.Integer
			sv.Int = int64(v)
		case uint32:
			sv.Uint = uint64(v)
		case uint64:
			sv.Uint = v
		case string:
			sv.Str = v
		case []byte:
			sv.Bytes = v
			ok = vb.Type == gosnmp.OctetString
		default:
			ok = false
		}
		if !ok {
			return storedEvent{}, fmt.Errorf("notify: cannot store %s value %T of type %s", vb.OID, vb.Value, vb.Type)
		}
		s.Varbinds = append(s.Varbinds, sv)
	}
	return s, nil
}

func (s storedEvent) load() (*event, error) {
	k, ok := parseKind(s.Kind)
	if !ok {
		return nil, fmt.Errorf("event %d: unknown kind %q", s.ID, s.Kind)
	}
	trap, err := snmp.ParseOID(s.TrapOID)
	if err != nil {
		return nil, fmt.Errorf("event %d: %w", s.ID, err)
	}
	var n *snmp.Notification
	var oldRoot snmp.OID
	for _, c := range snmp.Notifications() {
		switch {
		case c.OID.Equal(trap):
			n = c
		case len(trap) > 8 && trap[len(trap)-2:].Equal(c.OID[len(c.OID)-2:]) && kindNotification[k] == c.Name:
			// Queued before enterprise_oid changed: the same notification
			// under the old root. Its varbinds move to the new root too.
			n, oldRoot = c, trap[:len(trap)-2]
		}
	}
	if n == nil {
		return nil, fmt.Errorf("event %d: %s is no notification of SVGATEWAY-MIB", s.ID, s.TrapOID)
	}
	e := &event{id: s.ID, seq: s.Seq, kind: k, subject: s.Subject, created: s.Created,
		n: snmp.NotificationVarbinds{Notification: n, Varbinds: make([]snmp.Varbind, 0, len(s.Varbinds))}}
	for _, sv := range s.Varbinds {
		oid, err := snmp.ParseOID(sv.OID)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", s.ID, err)
		}
		oid = reroot(oid, oldRoot)
		vb := snmp.Varbind{OID: oid, Type: gosnmp.Asn1BER(sv.Type)}
		switch vb.Type {
		case gosnmp.Integer:
			vb.Value = int(sv.Int)
		case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
			vb.Value = uint32(sv.Uint)
		case gosnmp.Counter64:
			vb.Value = sv.Uint
		case gosnmp.OctetString:
			if sv.Bytes != nil {
				vb.Value = sv.Bytes
			} else {
				vb.Value = sv.Str
			}
		case gosnmp.ObjectIdentifier:
			vb.Value = sv.Str
			if o, err := snmp.ParseOID(sv.Str); err == nil && oldRoot != nil {
				vb.Value = reroot(o, oldRoot).String()
			}
		default:
			return nil, fmt.Errorf("event %d: %s has type %d", s.ID, sv.OID, sv.Type)
		}
		e.n.Varbinds = append(e.n.Varbinds, vb)
	}
	return e, nil
}

// kindNotification names the SVGATEWAY-MIB notification of each kind.
var kindNotification = [numKinds]string{alarmRaised: "svgAlarmRaised", alarmAcknowledged: "svgAlarmAcknowledged",
	alarmCleared: "svgAlarmCleared", alertTriggered: "svgAlertTriggered", alertAcknowledged: "svgAlertAcknowledged",
	upstreamLost: "svgUpstreamLost", upstreamRestored: "svgUpstreamRestored", heartbeat: "svgHeartbeat"}

// reroot moves oid from under old (nil: nothing moved) to the current root.
func reroot(oid, old snmp.OID) snmp.OID {
	if old == nil || !oid.HasPrefix(old) {
		return oid
	}
	return snmp.RootOID().Append(oid[len(old):]...)
}
