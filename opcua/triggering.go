package opcua

import (
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// SetTriggering (Part 4, 5.12.5): links from a triggering item to items it
// triggers. When the triggering item queues a notification (in Reporting or
// Sampling mode), each linked item in Sampling mode reports what it has
// queued in the same publishing cycle; linked items in Reporting mode report
// as always, Disabled ones not at all. Links go with either item: a deleted
// triggering item takes its links, a deleted linked item is dropped from
// them.

// maxLinksPerItem bounds the links of one triggering item.
const maxLinksPerItem = 10000

func (s *services) setTriggering(r *uaserver.Request, req *ua.SetTriggeringRequest) ua.Response {
	if len(req.LinksToAdd) == 0 && len(req.LinksToRemove) == 0 {
		return uaserver.Fault(ua.StatusBadNothingToDo)
	}
	sub, code := s.itemCall(r, req.SubscriptionID, 0, len(req.LinksToAdd)+len(req.LinksToRemove))
	if code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	trig := sub.items[req.TriggeringItemID]
	if trig == nil {
		return uaserver.Fault(ua.StatusBadMonitoredItemIDInvalid)
	}
	resp := &ua.SetTriggeringResponse{ResponseHeader: uaserver.Header(ua.StatusGood),
		AddResults: make([]ua.StatusCode, len(req.LinksToAdd)), AddDiagnosticInfos: []*ua.DiagnosticInfo{},
		RemoveResults: make([]ua.StatusCode, len(req.LinksToRemove)), RemoveDiagnosticInfos: []*ua.DiagnosticInfo{}}
	// removals first, as Part 4 orders them
	for i, id := range req.LinksToRemove {
		if _, ok := trig.links[id]; !ok {
			resp.RemoveResults[i] = ua.StatusBadMonitoredItemIDInvalid
			continue
		}
		delete(trig.links, id)
	}
	for i, id := range req.LinksToAdd {
		switch {
		case sub.items[id] == nil:
			resp.AddResults[i] = ua.StatusBadMonitoredItemIDInvalid
			continue
		case len(trig.links) >= maxLinksPerItem:
			resp.AddResults[i] = ua.StatusBadTooManyOperations
			continue
		}
		if trig.links == nil {
			trig.links = map[uint32]struct{}{}
		}
		trig.links[id] = struct{}{}
	}
	return resp
}

// fire makes the items linked to a triggering item that just queued a
// notification report their queues. The subscription's lock is held.
func (it *monitoredItem) fire() {
	sub := it.sub
	for id := range it.links {
		linked := sub.items[id]
		if linked == nil {
			delete(it.links, id) // deleted since
			continue
		}
		if linked.mode != ua.MonitoringModeSampling || !linked.hasQueued() {
			continue
		}
		linked.triggered = true
		if !linked.inReady {
			linked.inReady = true
			sub.ready = append(sub.ready, linked)
		}
	}
}
