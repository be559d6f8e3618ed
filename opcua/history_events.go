package opcua

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// HistoryRead of events (Part 11, ReadEventDetails): the alarm events of a
// time range, from the alarm ledger, with the same select and where clauses
// as live events (filter.go).
//
// The ledger keeps each alarm's current life (until the alarm retention
// forgets a cleared one), not a log of transitions: the history of an
// alarm is rebuilt from it — raised at its trigger time, acknowledged
// upstream when the gateway learned of it, cleared, acknowledged and
// commented by an operator — each event showing the condition as it was
// after that transition. Earlier lives of an alarm raised again are not in
// it. Events are ordered by Time (ties: alarm id, then transition).
//
// Continuation points are stateless: the position of the next event and a
// MAC binding it to the session, the node and the request's range, so a
// forged or altered one is Bad_ContinuationPointInvalid and releasing one
// costs nothing.

// maxHistoryEvents bounds the events of one node in one response.
const maxHistoryEvents = 1000

// historyEvent is one rebuilt transition.
type historyEvent struct {
	at    time.Time
	alarm *model.Alarm // the alarm as it was after the transition
	kind  model.TransitionKind
}

func (h *historyEvent) key() eventKey {
	return eventKey{h.at.UnixNano(), h.alarm.ID, uint8(h.kind)}
}

// eventKey orders history events.
type eventKey struct {
	nanos int64
	alarm uint64
	kind  uint8
}

func compareKeys(a, b eventKey) int {
	return cmp.Or(cmp.Compare(a.nanos, b.nanos), cmp.Compare(a.alarm, b.alarm), cmp.Compare(a.kind, b.kind))
}

// alarmHistory rebuilds the transitions of an alarm's current life.
func alarmHistory(a *model.Alarm) []historyEvent {
	var out []historyEvent
	at := func(t time.Time, kind model.TransitionKind, edit func(x *model.Alarm)) {
		if t.IsZero() {
			return
		}
		x := *a
		edit(&x)
		out = append(out, historyEvent{at: t, alarm: &x, kind: kind})
	}
	op := a.Operator
	opAckBefore := func(x *model.Alarm, t time.Time) {
		// the operator record as it was at t
		if op == nil {
			return
		}
		r := *op
		if r.AckTime.After(t) {
			r.AckTime, r.AckUser = time.Time{}, ""
		}
		if r.CommentTime.After(t) {
			r.Comment, r.CommentTime, r.CommentUser = "", time.Time{}, ""
		}
		x.Operator = &r
	}
	raised := firstNonZeroTime(a.Triggered, a.FirstSeen)
	at(raised, model.AlarmRaised, func(x *model.Alarm) {
		x.State, x.Cleared, x.WasAcknowledged, x.AckTime, x.AckActor = model.AlarmActive, time.Time{}, false, time.Time{}, ""
		opAckBefore(x, raised)
	})
	if a.WasAcknowledged {
		at(a.AckTime, model.AlarmAcknowledgedKind, func(x *model.Alarm) {
			x.State, x.Cleared = model.AlarmAcknowledged, time.Time{}
			opAckBefore(x, a.AckTime)
		})
	}
	if a.State == model.AlarmCleared {
		at(a.Cleared, model.AlarmClearedKind, func(x *model.Alarm) { opAckBefore(x, a.Cleared) })
	}
	if op != nil {
		stateAt := func(x *model.Alarm, t time.Time) {
			if a.State == model.AlarmCleared && a.Cleared.After(t) {
				x.State, x.Cleared = model.AlarmActive, time.Time{}
			}
			if x.WasAcknowledged && x.AckTime.After(t) {
				x.WasAcknowledged, x.AckTime, x.AckActor = false, time.Time{}, ""
			}
			if x.State == model.AlarmActive && x.WasAcknowledged {
				x.State = model.AlarmAcknowledged
			}
			opAckBefore(x, t)
		}
		at(op.AckTime, model.AlarmOperatorAcknowledgedKind, func(x *model.Alarm) { stateAt(x, op.AckTime) })
		if !op.CommentTime.IsZero() && !op.CommentTime.Equal(op.AckTime) {
			at(op.CommentTime, model.AlarmCommentedKind, func(x *model.Alarm) { stateAt(x, op.CommentTime) })
		}
	}
	return out
}

// historyKey signs continuation points; a new one each run, so points of an
// earlier run are invalid.
var historyKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}()

// historyCP is a continuation point: the key of the last event returned.
type historyCP struct{ last eventKey }

func cpMAC(sess *uaserver.Session, node *ua.NodeID, d *ua.ReadEventDetails, pos []byte) []byte {
	m := hmac.New(sha256.New, historyKey)
	if sess != nil && sess.ID != nil {
		m.Write([]byte(sess.ID.String()))
	}
	m.Write([]byte{0})
	m.Write([]byte(node.String()))
	var b [24]byte
	binary.BigEndian.PutUint64(b[:], uint64(d.StartTime.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], uint64(d.EndTime.UnixNano()))
	binary.BigEndian.PutUint32(b[16:], d.NumValuesPerNode)
	m.Write(b[:])
	m.Write(pos)
	return m.Sum(nil)[:16]
}

func encodeCP(sess *uaserver.Session, node *ua.NodeID, d *ua.ReadEventDetails, k eventKey) []byte {
	pos := make([]byte, 17)
	binary.BigEndian.PutUint64(pos, uint64(k.nanos))
	binary.BigEndian.PutUint64(pos[8:], k.alarm)
	pos[16] = k.kind
	return append(append([]byte{1}, pos...), cpMAC(sess, node, d, pos)...)
}

func decodeCP(sess *uaserver.Session, node *ua.NodeID, d *ua.ReadEventDetails, cp []byte) (eventKey, bool) {
	if len(cp) != 1+17+16 || cp[0] != 1 {
		return eventKey{}, false
	}
	pos := cp[1:18]
	if !hmac.Equal(cp[18:], cpMAC(sess, node, d, pos)) {
		return eventKey{}, false
	}
	return eventKey{int64(binary.BigEndian.Uint64(pos)), binary.BigEndian.Uint64(pos[8:]), pos[16]}, true
}

// historyReadEvents answers ReadEventDetails for nodes: one result each.
func (s *services) historyReadEvents(r *uaserver.Request, d *ua.ReadEventDetails, nodes []*ua.HistoryReadValueID, release bool) []*ua.HistoryReadResult {
	results := make([]*ua.HistoryReadResult, len(nodes))
	bad := func(code ua.StatusCode) *ua.HistoryReadResult {
		return &ua.HistoryReadResult{StatusCode: code, HistoryData: ua.NewExtensionObject(nil)}
	}
	var code ua.StatusCode
	var f *eventFilter
	switch {
	case d.StartTime.IsZero() && d.EndTime.IsZero(),
		(d.StartTime.IsZero() || d.EndTime.IsZero()) && d.NumValuesPerNode == 0,
		!d.StartTime.IsZero() && !d.EndTime.IsZero() && d.StartTime.After(d.EndTime):
		code = ua.StatusBadInvalidTimestampArgument
	default:
		f, _, code = compileEventFilter(d.Filter)
	}
	c := s.ctx()
	var all []historyEvent
	if code == ua.StatusGood {
		for _, a := range c.snap.Alarms() {
			for _, h := range alarmHistory(a) {
				if (d.StartTime.IsZero() || !h.at.Before(d.StartTime)) && (d.EndTime.IsZero() || h.at.Before(d.EndTime)) {
					all = append(all, h)
				}
			}
		}
		slices.SortFunc(all, func(x, y historyEvent) int { return compareKeys(x.key(), y.key()) })
	}
	limit := maxHistoryEvents
	if d.NumValuesPerNode > 0 && int(d.NumValuesPerNode) < limit {
		limit = int(d.NumValuesPerNode)
	}
	for i, hv := range nodes {
		if code != ua.StatusGood {
			results[i] = bad(code)
			continue
		}
		if hv == nil {
			results[i] = bad(ua.StatusBadNodeIDUnknown)
			continue
		}
		n, ok := c.resolve(hv.NodeID)
		if !ok {
			results[i] = bad(ua.StatusBadNodeIDUnknown)
			continue
		}
		nt, ok := c.notifierOf(n)
		if !ok || c.eventNotifier(n)&eventNotifierHistoryRead == 0 {
			results[i] = bad(ua.StatusBadHistoryOperationUnsupported)
			continue
		}
		if hv.IndexRange != "" || customEncoding(hv.DataEncoding) {
			results[i] = bad(ua.StatusBadDataEncodingUnsupported)
			continue
		}
		start := 0
		if len(hv.ContinuationPoint) > 0 {
			last, ok := decodeCP(r.Session, hv.NodeID, d, hv.ContinuationPoint)
			if !ok {
				results[i] = bad(ua.StatusBadContinuationPointInvalid)
				continue
			}
			start, _ = slices.BinarySearchFunc(all, last, func(h historyEvent, k eventKey) int { return compareKeys(h.key(), k) })
			for start < len(all) && compareKeys(all[start].key(), last) <= 0 {
				start++
			}
		}
		if release {
			results[i] = &ua.HistoryReadResult{StatusCode: ua.StatusGood, HistoryData: ua.NewExtensionObject(nil)}
			continue
		}
		// With one bound and NumValuesPerNode, the range extends to that
		// many events and no more are offered; otherwise a full page has
		// a continuation point when more events follow.
		oneBound := d.StartTime.IsZero() || d.EndTime.IsZero()
		var out []*ua.HistoryEventFieldList
		var cp []byte
		var last eventKey
		for j := start; j < len(all); j++ {
			h := &all[j]
			e := c.alarmEvent(h.alarm, h.kind, h.alarm.LastSeen)
			e.fields[fEventID] = variant(historyEventID(h))
			if !nt.sees(e) || !f.matches(e) {
				continue
			}
			if len(out) == limit {
				if !oneBound || int(d.NumValuesPerNode) > limit {
					cp = encodeCP(r.Session, hv.NodeID, d, last)
				}
				break
			}
			out = append(out, &ua.HistoryEventFieldList{EventFields: f.fields(e)})
			last = h.key()
		}
		if out == nil {
			out = []*ua.HistoryEventFieldList{}
		}
		results[i] = &ua.HistoryReadResult{StatusCode: ua.StatusGood, ContinuationPoint: cp,
			HistoryData: ua.NewExtensionObject(&ua.HistoryEvent{Events: out})}
	}
	return results
}

// historyEventID identifies a rebuilt transition: the alarm id, the
// transition kind in the top byte, and the time.
func historyEventID(h *historyEvent) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, h.alarm.ID)
	binary.BigEndian.PutUint64(b[8:], uint64(h.at.UnixNano()))
	b[8] = 0x80 | uint8(h.kind) // never a live event's sequence number (below 2^56)
	return b
}
