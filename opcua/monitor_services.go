package opcua

import (
	"math"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// Services: Create/Modify/Delete MonitoredItems, SetMonitoringMode.

// itemParams are the revised parameters of a monitored item.
type itemParams struct {
	clientHandle  uint32
	interval      time.Duration
	queueSize     int
	discardOldest bool
	trigger       ua.DataChangeTrigger
	deadband      float64
}

// reviseParams validates a monitored item's parameters against its node.
func (s *services) reviseParams(c *evalCtx, n node, attr ua.AttributeID, p *ua.MonitoringParameters, publishing time.Duration) (itemParams, ua.StatusCode) {
	if p == nil {
		p = &ua.MonitoringParameters{SamplingInterval: -1}
	}
	out := itemParams{clientHandle: p.ClientHandle, discardOldest: p.DiscardOldest, trigger: ua.DataChangeTriggerStatusValue}
	switch ms := p.SamplingInterval; {
	case math.IsNaN(ms) || ms < 0:
		out.interval = publishing
	case msDuration(ms) < s.limits.MinSamplingInterval:
		out.interval = s.limits.MinSamplingInterval
	case ms >= durationMS(maxPublishingInterval):
		out.interval = maxPublishingInterval
	default:
		out.interval = msDuration(ms)
	}
	out.queueSize = int(min(max(p.QueueSize, 1), math.MaxInt32))
	if l := s.limits.MaxQueueSize; l > 0 && out.queueSize > l {
		out.queueSize = l
	}
	f := p.Filter
	if f == nil || f.EncodingMask == ua.ExtensionObjectEmpty {
		return out, ua.StatusGood
	}
	dcf, ok := f.Value.(*ua.DataChangeFilter)
	if !ok {
		return out, ua.StatusBadMonitoredItemFilterUnsupported
	}
	if attr != ua.AttributeIDValue {
		return out, ua.StatusBadFilterNotAllowed
	}
	if dcf.Trigger > ua.DataChangeTriggerStatusValueTimestamp {
		return out, ua.StatusBadMonitoredItemFilterInvalid
	}
	out.trigger = dcf.Trigger
	switch ua.DeadbandType(dcf.DeadbandType) {
	case ua.DeadbandTypeNone:
		return out, ua.StatusGood
	case ua.DeadbandTypeAbsolute, ua.DeadbandTypePercent:
	default:
		return out, ua.StatusBadDeadbandFilterInvalid
	}
	if dt, _, _ := c.variableType(n); !isNumeric(dt) {
		return out, ua.StatusBadFilterNotAllowed
	}
	v := dcf.DeadbandValue
	if math.IsNaN(v) || v < 0 {
		return out, ua.StatusBadDeadbandFilterInvalid
	}
	if ua.DeadbandType(dcf.DeadbandType) == ua.DeadbandTypePercent {
		r, ok := euRange(c, n)
		if !ok {
			return out, ua.StatusBadMonitoredItemFilterUnsupported
		}
		if v > 100 {
			return out, ua.StatusBadDeadbandFilterInvalid
		}
		v = v / 100 * (r.High - r.Low)
	}
	out.deadband = v
	return out, ua.StatusGood
}

// euRange is the EURange of a variable, static or of its instance, as it
// is now: a percent deadband is set against the range at the time the item
// is created or modified.
func euRange(c *evalCtx, n node) (ua.Range, bool) {
	m := c.variableMember(n)
	switch {
	case m == nil:
		return ua.Range{}, false
	case m.euRange != nil:
		return *m.euRange, true
	case m.euRangeOf != nil:
		return m.euRangeOf(c, node{kind: n.kind, member: -1, idx: n.idx})
	}
	return ua.Range{}, false
}

func isNumeric(dt *ua.NodeID) bool {
	if dt == nil || dt.Namespace() != 0 {
		return false
	}
	switch dt.IntID() {
	case id.SByte, id.Byte, id.Int16, id.UInt16, id.Int32, id.UInt32, id.Int64, id.UInt64, id.Float, id.Double,
		id.Number, id.Integer, id.UInteger, id.Duration:
		return true
	}
	return false
}

func (it *monitoredItem) apply(p itemParams) {
	it.clientHandle, it.interval, it.discardOldest = p.clientHandle, p.interval, p.discardOldest
	it.trigger, it.deadband = p.trigger, p.deadband
	if p.queueSize < len(it.queue) {
		if it.discardOldest {
			it.queue = append(it.queue[:0], it.queue[len(it.queue)-p.queueSize:]...)
		} else {
			it.queue = it.queue[:p.queueSize]
		}
	}
	it.queueSize = p.queueSize
}

func badItem(code ua.StatusCode) *ua.MonitoredItemCreateResult {
	return &ua.MonitoredItemCreateResult{StatusCode: code, FilterResult: ua.NewExtensionObject(nil)}
}

// itemCall finds the subscription a monitored item service addresses and
// checks what all of them check: the subscription, TimestampsToReturn (0
// where the service has none) and the number of operations.
func (s *services) itemCall(r *uaserver.Request, subID uint32, ts ua.TimestampsToReturn, n int) (*subscription, ua.StatusCode) {
	sub := s.state(r.Session).subscription(subID)
	switch {
	case sub == nil:
		return nil, ua.StatusBadSubscriptionIDInvalid
	case ts > ua.TimestampsToReturnNeither:
		return nil, ua.StatusBadTimestampsToReturnInvalid
	}
	return sub, s.checkCount(n, s.limits.MaxMonitoredItemsPerCall)
}

func (s *services) createMonitoredItems(r *uaserver.Request, req *ua.CreateMonitoredItemsRequest) ua.Response {
	sub, code := s.itemCall(r, req.SubscriptionID, req.TimestampsToReturn, len(req.ItemsToCreate))
	if code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	c := s.ctx()
	sub.mu.Lock()
	publishing := sub.interval
	sub.mu.Unlock()
	results := make([]*ua.MonitoredItemCreateResult, len(req.ItemsToCreate))
	items := make([]*monitoredItem, len(req.ItemsToCreate))
	for i, ci := range req.ItemsToCreate {
		items[i], results[i] = s.newItem(c, sub, ci, req.TimestampsToReturn, publishing)
	}
	var accepted []*monitoredItem
	sub.mu.Lock()
	for i, it := range items {
		if it == nil {
			continue
		}
		if l := s.limits.MaxMonitoredItemsPerSubscription; l > 0 && len(sub.items) >= l {
			results[i] = badItem(ua.StatusBadTooManyMonitoredItems)
			continue
		}
		it.id = s.nextID(&s.itemIDs)
		results[i].MonitoredItemID = it.id
		sub.items[it.id] = it
		if it.polled {
			sub.polled = append(sub.polled, it)
		}
		accepted = append(accepted, it)
	}
	sub.mu.Unlock()
	s.monitor.add(accepted)
	c = s.ctx()
	sub.mu.Lock()
	for _, it := range accepted {
		if !it.deleted && it.mode != ua.MonitoringModeDisabled && it.ev == nil {
			it.sampleNow(c, c.now)
		}
	}
	sub.mu.Unlock()
	return &ua.CreateMonitoredItemsResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

// newItem validates one item to create.
func (s *services) newItem(c *evalCtx, sub *subscription, ci *ua.MonitoredItemCreateRequest, ts ua.TimestampsToReturn,
	publishing time.Duration) (*monitoredItem, *ua.MonitoredItemCreateResult) {
	if ci == nil || ci.ItemToMonitor == nil {
		return nil, badItem(ua.StatusBadNodeIDUnknown)
	}
	rv := ci.ItemToMonitor
	n, ok := c.resolve(rv.NodeID)
	if !ok {
		return nil, badItem(ua.StatusBadNodeIDUnknown)
	}
	if code := c.checkAttribute(n, rv.AttributeID); code != ua.StatusGood {
		return nil, badItem(code)
	}
	it := &monitoredItem{sub: sub, nodeID: rv.NodeID, attr: rv.AttributeID, view: c.view, n: n, exists: true,
		mode: ci.MonitoringMode, ts: ts}
	if rv.IndexRange != "" {
		r, ok := parseIndexRange(rv.IndexRange)
		if !ok {
			return nil, badItem(ua.StatusBadIndexRangeInvalid)
		}
		it.rng = &r
	}
	if customEncoding(rv.DataEncoding) {
		return nil, badItem(ua.StatusBadDataEncodingUnsupported)
	}
	if ci.MonitoringMode > ua.MonitoringModeReporting {
		return nil, badItem(ua.StatusBadMonitoringModeInvalid)
	}
	if rv.AttributeID == ua.AttributeIDEventNotifier {
		res, code := s.reviseEventItem(c, it, n, ci.RequestedParameters)
		r := badItem(code)
		if res != nil {
			r.FilterResult = ua.NewExtensionObject(res)
		}
		if code != ua.StatusGood {
			return nil, r
		}
		r.RevisedQueueSize = uint32(it.queueSize)
		return it, r
	}
	p, code := s.reviseParams(c, n, rv.AttributeID, ci.RequestedParameters, publishing)
	if code != ua.StatusGood {
		return nil, badItem(code)
	}
	it.apply(p)
	if src := c.source(n); rv.AttributeID == ua.AttributeIDValue && (src == srcClock || src == srcHealth) {
		it.polled = true
	}
	return it, &ua.MonitoredItemCreateResult{StatusCode: ua.StatusGood, RevisedSamplingInterval: durationMS(p.interval),
		RevisedQueueSize: uint32(p.queueSize), FilterResult: ua.NewExtensionObject(nil)}
}

func (s *services) modifyMonitoredItems(r *uaserver.Request, req *ua.ModifyMonitoredItemsRequest) ua.Response {
	sub, code := s.itemCall(r, req.SubscriptionID, req.TimestampsToReturn, len(req.ItemsToModify))
	if code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	c := s.ctx()
	results := make([]*ua.MonitoredItemModifyResult, len(req.ItemsToModify))
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for i, mi := range req.ItemsToModify {
		res := &ua.MonitoredItemModifyResult{FilterResult: ua.NewExtensionObject(nil)}
		results[i] = res
		var it *monitoredItem
		if mi != nil {
			it = sub.items[mi.MonitoredItemID]
		}
		if it == nil {
			res.StatusCode = ua.StatusBadMonitoredItemIDInvalid
			continue
		}
		if it.ev != nil {
			ev := *it.ev
			fr, code := s.reviseEventItem(c, it, it.n, mi.RequestedParameters)
			if fr != nil {
				res.FilterResult = ua.NewExtensionObject(fr)
			}
			if code != ua.StatusGood {
				*it.ev = ev // the item keeps its filter
				res.StatusCode = code
				continue
			}
			res.RevisedQueueSize = uint32(it.queueSize)
			continue
		}
		it.resolve(c)
		p, code := s.reviseParams(c, it.n, it.attr, mi.RequestedParameters, sub.interval)
		if code != ua.StatusGood {
			res.StatusCode = code
			continue
		}
		it.apply(p)
		it.ts = req.TimestampsToReturn
		res.RevisedSamplingInterval, res.RevisedQueueSize = durationMS(p.interval), uint32(p.queueSize)
	}
	return &ua.ModifyMonitoredItemsResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

func (s *services) setMonitoringMode(r *uaserver.Request, req *ua.SetMonitoringModeRequest) ua.Response {
	sub, code := s.itemCall(r, req.SubscriptionID, 0, len(req.MonitoredItemIDs))
	if code == ua.StatusGood && req.MonitoringMode > ua.MonitoringModeReporting {
		code = ua.StatusBadMonitoringModeInvalid
	}
	if code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	c := s.ctx()
	results := make([]ua.StatusCode, len(req.MonitoredItemIDs))
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for i, mid := range req.MonitoredItemIDs {
		it := sub.items[mid]
		if it == nil {
			results[i] = ua.StatusBadMonitoredItemIDInvalid
			continue
		}
		was := it.mode
		it.mode = req.MonitoringMode
		switch {
		case it.mode == ua.MonitoringModeDisabled:
			clear(it.queue)
			it.queue = it.queue[:0]
			if it.ev != nil {
				it.ev.events, it.ev.overflowHead = nil, false
			}
		case was == ua.MonitoringModeDisabled && it.ev != nil:
		case was == ua.MonitoringModeDisabled:
			it.last = nil // report the current value again
			it.sampleNow(c, c.now)
		case it.mode == ua.MonitoringModeReporting && it.hasQueued() && !it.inReady:
			it.inReady = true
			sub.ready = append(sub.ready, it)
		}
	}
	return &ua.SetMonitoringModeResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

func (s *services) deleteMonitoredItems(r *uaserver.Request, req *ua.DeleteMonitoredItemsRequest) ua.Response {
	sub, code := s.itemCall(r, req.SubscriptionID, 0, len(req.MonitoredItemIDs))
	if code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	results := make([]ua.StatusCode, len(req.MonitoredItemIDs))
	var gone []*monitoredItem
	sub.mu.Lock()
	for i, mid := range req.MonitoredItemIDs {
		it := sub.items[mid]
		if it == nil {
			results[i] = ua.StatusBadMonitoredItemIDInvalid
			continue
		}
		it.deleted = true
		delete(sub.items, mid)
		gone = append(gone, it)
	}
	if len(gone) > 0 {
		keep := sub.polled[:0]
		for _, it := range sub.polled {
			if !it.deleted {
				keep = append(keep, it)
			}
		}
		clear(sub.polled[len(keep):])
		sub.polled = keep
	}
	sub.mu.Unlock()
	s.monitor.remove(gone)
	return &ua.DeleteMonitoredItemsResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}
}
