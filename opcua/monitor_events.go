package opcua

import (
	"slices"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// Event monitored items: an item on the EventNotifier attribute of a
// notifier (Server, SmartView, an IBX, an asset) with an EventFilter. The
// monitor hands every alarm transition of the change stream, as an event,
// to the event items whose notifier sees it; an item queues the selected
// fields of the events its where clause passes. Events are not sampled:
// the revised sampling interval is 0.

// Event queues: a client asking for 0 or 1 gets defaultEventQueue (one
// event per item per publishing interval would lose alarm bursts);
// maxEventQueue bounds what it may ask for. ConditionRefresh is not bounded
// by them (it sends every retained condition once).
const (
	defaultEventQueue = 1000
	maxEventQueue     = 10000
)

// eventItemState is the part of a monitored item only event items have.
type eventItemState struct {
	filter   *eventFilter
	notifier notifier
	events   []*ua.EventFieldList
	// overflowSeq numbers the overflow events (their EventIds);
	// overflowHead: events[0] is one (discardOldest)
	overflowSeq  uint64
	overflowHead bool
}

// reviseEventItem completes an event item being created: its notifier and
// filter. It returns the item's status and filter result.
func (s *services) reviseEventItem(c *evalCtx, it *monitoredItem, n node, p *ua.MonitoringParameters) (*ua.EventFilterResult, ua.StatusCode) {
	nt, ok := c.notifierOf(n)
	if !ok {
		return nil, ua.StatusBadFilterNotAllowed
	}
	if p == nil || p.Filter == nil || p.Filter.EncodingMask == ua.ExtensionObjectEmpty {
		return nil, ua.StatusBadEventFilterInvalid
	}
	ef, isEvent := p.Filter.Value.(*ua.EventFilter)
	if !isEvent {
		return nil, ua.StatusBadFilterNotAllowed
	}
	f, res, code := compileEventFilter(ef)
	if code != ua.StatusGood {
		return res, code
	}
	q := int(min(p.QueueSize, maxEventQueue))
	if q <= 1 {
		q = defaultEventQueue
	}
	it.clientHandle, it.discardOldest, it.queueSize, it.interval = p.ClientHandle, p.DiscardOldest, q, 0
	if it.ev == nil {
		it.ev = &eventItemState{}
	}
	it.ev.filter, it.ev.notifier = f, nt
	if len(it.ev.events) > q {
		it.ev.events = append(it.ev.events[:0], it.ev.events[len(it.ev.events)-q:]...)
		it.ev.overflowHead = false
	}
	return res, ua.StatusGood
}

// postEvent queues e if the item's notifier sees it and its where clause
// passes (sub.mu held). unbounded: a ConditionRefresh's events, which
// the queue size does not limit.
func (it *monitoredItem) postEvent(e *event, unbounded bool) {
	if it.deleted || it.mode == ua.MonitoringModeDisabled || it.ev == nil {
		return
	}
	if e.alarm != nil && (!it.ev.notifier.sees(e) || !it.ev.filter.matches(e)) {
		return
	}
	fl := &ua.EventFieldList{ClientHandle: it.clientHandle, EventFields: it.ev.filter.fields(e)}
	switch q := &it.ev.events; {
	case unbounded || len(*q) < it.queueSize:
		*q = append(*q, fl)
	case it.discardOldest:
		// Part 4: the oldest is discarded and an EventQueueOverflowEvent
		// heads the queue (one, however many are discarded)
		if !it.ev.overflowHead {
			copy(*q, (*q)[1:])
			(*q)[len(*q)-1] = fl
			(*q)[0] = it.ev.overflowEvent(it.clientHandle)
			it.ev.overflowHead = true
		} else if len(*q) > 1 {
			copy((*q)[1:], (*q)[2:])
			(*q)[len(*q)-1] = fl
		}
	default:
		// the newest is discarded, and the last place says so
		(*q)[len(*q)-1] = it.ev.overflowEvent(it.clientHandle)
	}
	if it.mode == ua.MonitoringModeReporting && !it.inReady {
		it.inReady = true
		it.sub.ready = append(it.sub.ready, it)
	}
	if len(it.links) > 0 {
		it.fire() // an event item can trigger too (Part 4, 5.12.1.6)
	}
}

// overflowEvent is the EventQueueOverflowEvent of this item's select
// clauses.
func (st *eventItemState) overflowEvent(handle uint32) *ua.EventFieldList {
	st.overflowSeq++
	e := refreshEvent(evOverflow, st.overflowSeq, time.Now())
	return &ua.EventFieldList{ClientHandle: handle, EventFields: st.filter.fields(e)}
}

// hasQueued reports whether an item has queued notifications.
func (it *monitoredItem) hasQueued() bool {
	if it.ev != nil {
		return len(it.ev.events) > 0
	}
	return len(it.queue) > 0
}

// postTransitions turns the alarm transitions of a delta into events and
// hands them to the event items (grouped by subscription, one lock each).
func (m *monitor) postTransitions(c *evalCtx, trs []model.AlarmTransition, items []*monitoredItem) {
	if len(trs) == 0 || len(items) == 0 {
		return
	}
	events := make([]*event, len(trs))
	for i := range trs {
		a := trs[i].Alarm
		events[i] = c.alarmEvent(&a, trs[i].Kind, c.now)
	}
	m.postEvents(items, events...)
}

// postEvents hands events to items, grouped by subscription (one lock
// each).
func (m *monitor) postEvents(all []*monitoredItem, events ...*event) {
	items := slices.Clone(all)
	for len(items) > 0 {
		sub := items[0].sub
		rest := items[:0]
		sub.mu.Lock()
		for _, it := range items {
			if it.sub != sub {
				rest = append(rest, it)
				continue
			}
			for _, e := range events {
				it.postEvent(e, false)
			}
		}
		sub.mu.Unlock()
		items = rest
	}
}
