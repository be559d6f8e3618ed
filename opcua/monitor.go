package opcua

import (
	"context"
	"math"
	"reflect"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// Monitored items, and the fan-out of the model's change stream to them.
//
// One reader per server follows the model's change stream (store.Subscribe)
// while any monitored item exists. For each delta it looks up the items
// whose value can have changed — by location, tag, asset or alarm index,
// never by scanning — samples them against the newest snapshot and queues
// the value in the item's bounded queue if the item's filter says it
// changed. A value change never rebuilds anything; a structure change
// re-resolves every item's NodeId against the new view.

// monitoredItem is one monitored item. Its fields are guarded by its
// subscription's mu, except key, which the monitor guards.
type monitoredItem struct {
	id     uint32
	sub    *subscription
	nodeID *ua.NodeID
	attr   ua.AttributeID
	rng    *indexRange

	// the node as resolved against view (re-resolved when the view changes)
	view   *view
	n      node
	exists bool

	clientHandle  uint32
	mode          ua.MonitoringMode
	interval      time.Duration
	queueSize     int
	discardOldest bool
	trigger       ua.DataChangeTrigger
	deadband      float64 // absolute
	ts            ua.TimestampsToReturn

	last       *sample // last queued
	lastSample time.Time
	queue      []*ua.DataValue
	inReady    bool
	inPending  bool
	deleted    bool
	// links are the items this one triggers (SetTriggering); triggered:
	// an item in Sampling mode reports its queue in the next message.
	links     map[uint32]struct{}
	triggered bool

	key    sourceKey // monitor's index key
	keyed  bool
	polled bool // sampled by its subscription every cycle

	ev *eventItemState // an event item's; nil for a data item
}

// sourceKey is what a monitored item waits for in the change stream.
type sourceKey struct {
	src sourceKind
	id  uint64 // location, tag or asset index; alarm ID
}

type monitor struct {
	s      *services
	mu     sync.Mutex
	items  map[*monitoredItem]struct{} // data items
	events map[*monitoredItem]struct{} // event items
	by     map[sourceKey][]*monitoredItem
	view   *view
	cancel context.CancelFunc
}

func newMonitor(s *services) *monitor {
	return &monitor{s: s, items: map[*monitoredItem]struct{}{}, events: map[*monitoredItem]struct{}{}, by: map[sourceKey][]*monitoredItem{}}
}

// sourceOf computes an item's index key against the monitor's view.
func (m *monitor) sourceOf(c *evalCtx, it *monitoredItem) (sourceKey, bool) {
	if it.attr != ua.AttributeIDValue {
		return sourceKey{}, false
	}
	n, ok := c.resolve(it.nodeID)
	if !ok {
		return sourceKey{}, false
	}
	switch src := c.source(n); src {
	case srcPower, srcEnv, srcTag, srcAsset:
		return sourceKey{src, uint64(n.idx)}, true
	case srcAlarm:
		return sourceKey{src, n.alarm}, true
	}
	return sourceKey{}, false
}

func (m *monitor) index(c *evalCtx, it *monitoredItem) {
	if k, ok := m.sourceOf(c, it); ok {
		it.key, it.keyed = k, true
		m.by[k] = append(m.by[k], it)
	} else {
		it.keyed = false
	}
}

func (m *monitor) unindex(it *monitoredItem) {
	if !it.keyed {
		return
	}
	list := m.by[it.key]
	for i, x := range list {
		if x == it {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(m.by, it.key)
	} else {
		m.by[it.key] = list
	}
	it.keyed = false
}

// rekey recomputes every key against c's view (after a structure change).
func (m *monitor) rekey(c *evalCtx) {
	m.view = c.view
	m.by = map[sourceKey][]*monitoredItem{}
	for it := range m.items {
		m.index(c, it)
	}
}

// add indexes new items and makes sure the change stream is being read
// (before their initial values are sampled, so no change slips between).
func (m *monitor) add(items []*monitoredItem) {
	if len(items) == 0 {
		return
	}
	c := m.s.ctx()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.view != c.view {
		m.rekey(c)
	}
	for _, it := range items {
		if it.ev != nil {
			m.events[it] = struct{}{}
			continue
		}
		m.items[it] = struct{}{}
		m.index(c, it)
	}
	if m.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		m.cancel = cancel
		_, stream := m.s.store.Subscribe()
		m.s.wg.Add(1)
		go m.run(ctx, stream)
	}
}

// remove forgets items; the reader stops with the last one.
func (m *monitor) remove(items []*monitoredItem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		delete(m.events, it)
		if _, ok := m.items[it]; ok {
			delete(m.items, it)
			m.unindex(it)
		}
	}
	if len(m.items)+len(m.events) == 0 && m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

func (m *monitor) run(ctx context.Context, stream *model.Subscription) {
	defer m.s.wg.Done()
	for {
		d, err := stream.Next(ctx)
		if err != nil {
			return
		}
		m.apply(d)
	}
}

// apply hands one delta to the items it concerns.
func (m *monitor) apply(d *model.Delta) {
	c := m.s.ctx()
	var affected []*monitoredItem
	m.mu.Lock()
	all := d.StructureChanged || d.Resync || d.HealthChanged || m.view != c.view
	if m.view != c.view {
		m.rekey(c)
	}
	if all {
		affected = make([]*monitoredItem, 0, len(m.items))
		for it := range m.items {
			affected = append(affected, it)
		}
	} else {
		if d.Structure == c.view.st {
			for _, l := range []struct {
				src sourceKind
				idx []int32
			}{{srcPower, d.Power}, {srcEnv, d.Environment}, {srcTag, d.Tags}, {srcAsset, d.Assets}} {
				for _, i := range l.idx {
					affected = append(affected, m.by[sourceKey{l.src, uint64(i)}]...)
				}
			}
		}
		for _, t := range d.Alarms {
			affected = append(affected, m.by[sourceKey{srcAlarm, t.Alarm.ID}]...)
		}
	}
	var evItems []*monitoredItem
	if len(d.Alarms) > 0 || d.Resync {
		evItems = make([]*monitoredItem, 0, len(m.events))
		for it := range m.events {
			evItems = append(evItems, it)
		}
	}
	m.mu.Unlock()
	changed(c, affected)
	if d.Resync {
		// transitions were lost to this reader: tell the consoles to refresh
		m.postEvents(evItems, refreshEvent(evRefreshReq, d.Seq, c.now))
	}
	m.postTransitions(c, d.Alarms, evItems)
}

// changed samples items (grouped by subscription, one lock each).
func changed(c *evalCtx, items []*monitoredItem) {
	for len(items) > 0 {
		sub := items[0].sub
		rest := items[:0]
		sub.mu.Lock()
		for _, it := range items {
			if it.sub != sub {
				rest = append(rest, it)
				continue
			}
			it.changed(c, c.now)
		}
		sub.mu.Unlock()
		items = rest
	}
}

// changed reacts to a change of the item's source: sample now, or once
// the sampling interval allows.
func (it *monitoredItem) changed(c *evalCtx, now time.Time) {
	if it.deleted || it.mode == ua.MonitoringModeDisabled {
		return
	}
	if now.Sub(it.lastSample) < it.interval {
		if !it.inPending {
			it.inPending = true
			it.sub.pending = append(it.sub.pending, it)
		}
		return
	}
	it.sampleNow(c, now)
}

// sample runs the subscription's sampling for a publishing cycle: pending
// changes whose sampling interval has passed, and polled items.
func (sub *subscription) sample(c *evalCtx, now time.Time) {
	keep := sub.pending[:0]
	for _, it := range sub.pending {
		switch {
		case it.deleted || it.mode == ua.MonitoringModeDisabled:
			it.inPending = false
		case now.Sub(it.lastSample) < it.interval:
			keep = append(keep, it)
		default:
			it.inPending = false
			it.sampleNow(c, now)
		}
	}
	clear(sub.pending[len(keep):])
	sub.pending = keep
	for _, it := range sub.polled {
		if !it.deleted && it.mode != ua.MonitoringModeDisabled && now.Sub(it.lastSample) >= it.interval {
			it.sampleNow(c, now)
		}
	}
}

// resolve finds the item's node in c's view: again after a structure
// change; an alarm may have gone from one snapshot to the next.
func (it *monitoredItem) resolve(c *evalCtx) {
	if it.view != c.view {
		it.n, it.exists = c.resolve(it.nodeID)
		it.view = c.view
	} else if it.n.kind == kindAlarm {
		it.exists = c.alarm(it.n.alarm) != nil
	}
}

// current reads the item's value from c.
func (it *monitoredItem) current(c *evalCtx) sample {
	it.resolve(c)
	if !it.exists {
		return sample{status: ua.StatusBadNodeIDUnknown}
	}
	if it.attr != ua.AttributeIDValue {
		v, code := c.attribute(it.n, it.attr)
		return sample{v: v, status: code}
	}
	smp := c.value(it.n)
	if it.rng != nil && smp.v != nil {
		if v, code := it.rng.apply(smp.v); code == ua.StatusGood {
			smp.v = v
		} else {
			smp = sample{status: code, source: smp.source}
		}
	}
	return smp
}

// sampleNow samples the item and queues the value if the filter says it
// changed.
func (it *monitoredItem) sampleNow(c *evalCtx, now time.Time) {
	it.lastSample = now
	smp := it.current(c)
	if it.last != nil && !it.passes(&smp) {
		return
	}
	it.last = &smp
	var dv *ua.DataValue
	if it.attr == ua.AttributeIDValue {
		dv = c.dataValue(smp, it.ts)
	} else {
		dv = &ua.DataValue{Value: smp.v, Status: smp.status}
		dv.UpdateMask()
	}
	it.enqueue(dv)
	if it.mode == ua.MonitoringModeReporting && !it.inReady {
		it.inReady = true
		it.sub.ready = append(it.sub.ready, it)
	}
	if len(it.links) > 0 {
		it.fire()
	}
}

// passes applies the DataChangeFilter against the last queued value.
func (it *monitoredItem) passes(s *sample) bool {
	last := it.last
	switch {
	case s.status != last.status:
		return true
	case it.trigger == ua.DataChangeTriggerStatus:
		return false
	case it.trigger == ua.DataChangeTriggerStatusValueTimestamp && !s.source.Equal(last.source):
		return true
	}
	return !sameValue(last.v, s.v, it.deadband)
}

func sameValue(a, b *ua.Variant, deadband float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	if x, ok := a.Value().(float64); ok {
		if y, ok := b.Value().(float64); ok {
			if deadband > 0 {
				return math.Abs(x-y) <= deadband
			}
			return x == y || (math.IsNaN(x) && math.IsNaN(y))
		}
	}
	return a.Type() == b.Type() && reflect.DeepEqual(a.Value(), b.Value())
}

// overflowBits are the InfoType DataValue and Overflow bits of a status
// code, set on the value next to where a full queue dropped one.
const overflowBits = 0x0480

func (it *monitoredItem) enqueue(dv *ua.DataValue) {
	switch {
	case len(it.queue) < it.queueSize:
		it.queue = append(it.queue, dv)
		return
	case it.queueSize == 1:
		it.queue[0] = dv // a queue of one just holds the latest; no overflow bit
		return
	case it.discardOldest:
		copy(it.queue, it.queue[1:])
		it.queue[len(it.queue)-1] = dv
		markOverflow(it.queue[0])
	default:
		it.queue[len(it.queue)-1] = dv
		markOverflow(dv)
	}
}

func markOverflow(dv *ua.DataValue) {
	dv.Status |= overflowBits
	dv.EncodingMask |= ua.DataValueStatusCode
}

// maxMessageBytes bounds the estimated size of one notification message,
// well below what clients accept (node-opcua: 800 KB by default), so a
// burst of long strings never makes a Publish response too large to send;
// the rest follows with MoreNotifications.
const maxMessageBytes = 256 << 10

// notificationBytes estimates the encoded size of one notification.
func notificationBytes(dv *ua.DataValue) int {
	n := 40
	if dv.Value != nil {
		switch v := dv.Value.Value().(type) {
		case string:
			n += len(v)
		case []string:
			for _, s := range v {
				n += 4 + len(s)
			}
		case *ua.ExtensionObject, []*ua.LocalizedText:
			n += 256
		}
	}
	return n
}

// collect takes up to limit (0: all) queued values of reporting items, within
// maxMessageBytes, and reports whether some remain.
func (sub *subscription) collect(limit int) ([]*ua.MonitoredItemNotification, []*ua.EventFieldList, bool) {
	var out []*ua.MonitoredItemNotification
	var evs []*ua.EventFieldList
	size := 0
	full := func() bool { return (limit > 0 && len(out)+len(evs) >= limit) || size >= maxMessageBytes }
	i := 0
	for ; i < len(sub.ready); i++ {
		it := sub.ready[i]
		if it.deleted || (it.mode != ua.MonitoringModeReporting && !(it.mode == ua.MonitoringModeSampling && it.triggered)) {
			it.inReady, it.triggered = false, false
			continue
		}
		if it.ev != nil {
			q := it.ev.events
			n := 0
			for ; n < len(q) && !full(); n++ {
				evs = append(evs, q[n])
				size += eventBytes(q[n])
			}
			clear(q[:n])
			it.ev.events = q[n:]
			if n > 0 {
				it.ev.overflowHead = false
			}
			if len(it.ev.events) > 0 {
				break
			}
			it.inReady = false
			if full() {
				i++
				break
			}
			continue
		}
		n := 0
		for ; n < len(it.queue) && !full(); n++ {
			out = append(out, &ua.MonitoredItemNotification{ClientHandle: it.clientHandle, Value: it.queue[n]})
			size += notificationBytes(it.queue[n])
		}
		clear(it.queue[:n])
		it.queue = it.queue[n:]
		if len(it.queue) > 0 {
			break // the message is full
		}
		it.inReady, it.triggered = false, false
		if full() {
			i++
			break
		}
	}
	rest := copy(sub.ready, sub.ready[i:])
	clear(sub.ready[rest:])
	sub.ready = sub.ready[:rest]
	return out, evs, len(sub.ready) > 0
}

// eventBytes estimates the encoded size of one event notification.
func eventBytes(e *ua.EventFieldList) int {
	n := 8
	for _, v := range e.EventFields {
		n += 8
		switch x := v.Value().(type) {
		case string:
			n += len(x)
		case *ua.LocalizedText:
			n += len(x.Text) + len(x.Locale)
		case []byte:
			n += len(x)
		case *ua.NodeID:
			n += 8 + len(x.StringID())
		}
	}
	return n
}
