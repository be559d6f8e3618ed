package opcua

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// Subscriptions: Create/Modify/SetPublishingMode/Delete, Publish and
// Republish.
//
// Each subscription has a goroutine ticking at its publishing interval.
// On a tick it samples what needs sampling, then, if it has notifications
// (or a keep-alive is due), takes the oldest parked Publish request of its
// session and answers it. Responses are built under the subscription's
// lock and sent after releasing it, so a client that does not read its
// socket blocks only its own subscription, never the model's change stream
// or other clients.

const (
	maxPublishingInterval = time.Hour
	maxKeepAliveSpan      = time.Hour     // keep-alive count × interval
	maxLifetimeSpan       = 2 * time.Hour // lifetime count × interval
	defaultKeepAliveCount = 10
	minRetransmitQueue    = 16
)

// parkedPublish is a Publish request waiting for something to send.
type parkedPublish struct {
	r        *uaserver.Request
	results  []ua.StatusCode // of its acknowledgements
	deadline time.Time       // from the TimeoutHint; zero: none
}

func (p *parkedPublish) answer(resp ua.Response) { _ = p.r.Respond(resp) }

type subscription struct {
	id uint32
	s  *services
	st *sessionState // its session; guarded by mu (TransferSubscriptions moves it)

	// late: a notification or keep-alive is due but no Publish request was
	// parked; the next one wakes the subscription.
	late atomic.Bool
	wake chan struct{}
	stop chan struct{}
	once sync.Once

	mu        sync.Mutex
	interval  time.Duration
	lifetime  uint32
	keepAlive uint32
	maxNotif  int
	enabled   bool
	seq       uint32 // next sequence number
	ticks     uint32 // publishing intervals since the last message
	lastSend  time.Time
	retrans   []*ua.NotificationMessage
	items     map[uint32]*monitoredItem
	ready     []*monitoredItem // items with queued values
	pending   []*monitoredItem // items with a change to sample once their sampling interval allows
	polled    []*monitoredItem // items sampled every cycle (clock, counters)
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func durationMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reviseInterval applies the server's bounds to a requested publishing
// interval: 0, negative or NaN become the minimum.
func (s *services) reviseInterval(ms float64) time.Duration {
	lowest := max(s.limits.MinPublishingInterval, time.Millisecond)
	if math.IsNaN(ms) || ms <= 0 || msDuration(ms) < lowest {
		return lowest
	}
	if ms >= durationMS(maxPublishingInterval) {
		return maxPublishingInterval
	}
	return msDuration(ms)
}

// reviseCounts applies the bounds to keep-alive and lifetime counts: a
// keep-alive at least every hour, a lifetime of at least three keep-alives.
func reviseCounts(interval time.Duration, lifetime, keepAlive uint32) (uint32, uint32) {
	if keepAlive == 0 {
		keepAlive = defaultKeepAliveCount
	}
	keepAlive = max(1, min(keepAlive, uint32(maxKeepAliveSpan/interval)))
	lifetime = min(lifetime, uint32(min(maxLifetimeSpan/interval, math.MaxUint32/4)))
	lifetime = max(lifetime, 3*keepAlive)
	return lifetime, keepAlive
}

func (s *services) maxNotifications(requested uint32) int {
	n := int(min(requested, math.MaxInt32))
	if l := s.limits.MaxNotificationsPerPublish; l > 0 && (n == 0 || n > l) {
		n = l
	}
	return n
}

func (s *services) createSubscription(r *uaserver.Request, req *ua.CreateSubscriptionRequest) ua.Response {
	st := s.state(r.Session)
	interval := s.reviseInterval(req.RequestedPublishingInterval)
	lifetime, keepAlive := reviseCounts(interval, req.RequestedLifetimeCount, req.RequestedMaxKeepAliveCount)
	sub := &subscription{s: s, st: st, wake: make(chan struct{}, 1), stop: make(chan struct{}),
		interval: interval, lifetime: lifetime, keepAlive: keepAlive, maxNotif: s.maxNotifications(req.MaxNotificationsPerPublish),
		enabled: req.PublishingEnabled, seq: 1, ticks: keepAlive, lastSend: s.now(), items: map[uint32]*monitoredItem{}}
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return uaserver.Fault(ua.StatusBadSessionClosed)
	}
	if l := s.limits.MaxSubscriptionsPerSession; l > 0 && len(st.subs) >= l {
		st.mu.Unlock()
		return uaserver.Fault(ua.StatusBadTooManySubscriptions)
	}
	sub.id = s.nextID(&s.subIDs)
	st.subs[sub.id] = sub
	s.subsCreated.Add(1)
	s.wg.Add(1)
	st.mu.Unlock()
	go sub.run()
	return &ua.CreateSubscriptionResponse{ResponseHeader: uaserver.Header(ua.StatusGood), SubscriptionID: sub.id,
		RevisedPublishingInterval: durationMS(interval), RevisedLifetimeCount: lifetime, RevisedMaxKeepAliveCount: keepAlive}
}

// nextID hands out subscription and monitored item ids: from a counter,
// never 0, never reused while the process runs.
func (s *services) nextID(counter *atomic.Uint32) uint32 {
	for {
		if id := counter.Add(1); id != 0 {
			return id
		}
	}
}

// subscription returns a subscription of the session.
func (st *sessionState) subscription(id uint32) *subscription {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.subs[id]
}

func (s *services) modifySubscription(r *uaserver.Request, req *ua.ModifySubscriptionRequest) ua.Response {
	sub := s.state(r.Session).subscription(req.SubscriptionID)
	if sub == nil {
		return uaserver.Fault(ua.StatusBadSubscriptionIDInvalid)
	}
	interval := s.reviseInterval(req.RequestedPublishingInterval)
	lifetime, keepAlive := reviseCounts(interval, req.RequestedLifetimeCount, req.RequestedMaxKeepAliveCount)
	sub.mu.Lock()
	sub.interval, sub.lifetime, sub.keepAlive = interval, lifetime, keepAlive
	sub.maxNotif = s.maxNotifications(req.MaxNotificationsPerPublish)
	sub.mu.Unlock()
	sub.poke()
	return &ua.ModifySubscriptionResponse{ResponseHeader: uaserver.Header(ua.StatusGood),
		RevisedPublishingInterval: durationMS(interval), RevisedLifetimeCount: lifetime, RevisedMaxKeepAliveCount: keepAlive}
}

func (s *services) setPublishingMode(r *uaserver.Request, req *ua.SetPublishingModeRequest) ua.Response {
	if code := s.checkCount(len(req.SubscriptionIDs), 0); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	st := s.state(r.Session)
	results := make([]ua.StatusCode, len(req.SubscriptionIDs))
	for i, id := range req.SubscriptionIDs {
		sub := st.subscription(id)
		if sub == nil {
			results[i] = ua.StatusBadSubscriptionIDInvalid
			continue
		}
		sub.mu.Lock()
		sub.enabled = req.PublishingEnabled
		sub.mu.Unlock()
	}
	return &ua.SetPublishingModeResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}
}

func (s *services) deleteSubscriptions(r *uaserver.Request, req *ua.DeleteSubscriptionsRequest) ua.Response {
	if code := s.checkCount(len(req.SubscriptionIDs), 0); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	st := s.state(r.Session)
	results := make([]ua.StatusCode, len(req.SubscriptionIDs))
	for i, id := range req.SubscriptionIDs {
		if !st.removeSubscription(id) {
			results[i] = ua.StatusBadSubscriptionIDInvalid
		}
	}
	return &ua.DeleteSubscriptionsResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}
}

// removeSubscription deletes a subscription of the session; when it was
// the last one, parked Publish requests are answered BadNoSubscription.
func (st *sessionState) removeSubscription(id uint32) bool {
	st.mu.Lock()
	sub, ok := st.subs[id]
	delete(st.subs, id)
	var orphans []*parkedPublish
	if ok && len(st.subs) == 0 {
		orphans, st.publishQ = st.publishQ, nil
	}
	st.mu.Unlock()
	if !ok {
		return false
	}
	sub.stopAndForget()
	for _, p := range orphans {
		p.answer(uaserver.Fault(ua.StatusBadNoSubscription))
	}
	return true
}

// stopAndForget stops the subscription's goroutine and removes its items
// from the change-stream index. It does not wait for the goroutine.
func (sub *subscription) stopAndForget() {
	sub.once.Do(func() {
		close(sub.stop)
		sub.mu.Lock()
		items := make([]*monitoredItem, 0, len(sub.items))
		for _, it := range sub.items {
			it.deleted = true
			items = append(items, it)
		}
		sub.items = map[uint32]*monitoredItem{}
		sub.ready, sub.pending, sub.polled = nil, nil, nil
		sub.mu.Unlock()
		sub.s.monitor.remove(items)
	})
}

// owner is the session state the subscription belongs to now.
func (sub *subscription) owner() *sessionState {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.st
}

func (sub *subscription) poke() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

func (s *services) publish(r *uaserver.Request, req *ua.PublishRequest) {
	st := s.state(r.Session)
	p := &parkedPublish{r: r}
	if h := req.RequestHeader; h != nil && h.TimeoutHint > 0 {
		p.deadline = s.now().Add(time.Duration(h.TimeoutHint) * time.Millisecond)
	}
	if len(req.SubscriptionAcknowledgements) > 0 {
		p.results = make([]ua.StatusCode, len(req.SubscriptionAcknowledgements))
		for i, a := range req.SubscriptionAcknowledgements {
			sub := (*subscription)(nil)
			if a != nil {
				sub = st.subscription(a.SubscriptionID)
			}
			switch {
			case sub == nil:
				p.results[i] = ua.StatusBadSubscriptionIDInvalid
			case !sub.acknowledge(a.SequenceNumber):
				p.results[i] = ua.StatusBadSequenceNumberUnknown
			}
		}
	}
	st.mu.Lock()
	if len(st.notices) > 0 && !st.closed {
		n := st.notices[0]
		st.notices = st.notices[1:]
		st.mu.Unlock()
		p.answer(statusChange(p, n.subID, n.status, s.now()))
		return
	}
	if st.closed || len(st.subs) == 0 {
		closed := st.closed
		st.mu.Unlock()
		if closed {
			p.answer(uaserver.Fault(ua.StatusBadSessionClosed))
		} else {
			p.answer(uaserver.Fault(ua.StatusBadNoSubscription))
		}
		return
	}
	st.lastPublish = s.now()
	var evicted *parkedPublish
	if l := s.limits.MaxPublishRequestsPerSession; l > 0 && len(st.publishQ) >= l {
		evicted = st.publishQ[0]
		st.publishQ = st.publishQ[1:]
	}
	st.publishQ = append(st.publishQ, p)
	var late []*subscription
	for _, sub := range st.subs {
		if sub.late.Load() {
			late = append(late, sub)
		}
	}
	st.mu.Unlock()
	if evicted != nil {
		evicted.answer(uaserver.Fault(ua.StatusBadTooManyPublishRequests))
	}
	for _, sub := range late {
		sub.poke()
	}
}

// takePublish pops the oldest parked Publish request, answering expired
// ones BadTimeout on the way.
func (st *sessionState) takePublish(now time.Time) *parkedPublish {
	st.mu.Lock()
	var expired []*parkedPublish
	var p *parkedPublish
	for len(st.publishQ) > 0 && p == nil {
		q := st.publishQ[0]
		st.publishQ = st.publishQ[1:]
		if !q.deadline.IsZero() && now.After(q.deadline) {
			expired = append(expired, q)
			continue
		}
		p = q
	}
	st.mu.Unlock()
	for _, q := range expired {
		q.answer(uaserver.Fault(ua.StatusBadTimeout))
	}
	return p
}

// acknowledge removes a message from the retransmission queue.
func (sub *subscription) acknowledge(seq uint32) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for i, m := range sub.retrans {
		if m.SequenceNumber == seq {
			sub.retrans = append(sub.retrans[:i], sub.retrans[i+1:]...)
			return true
		}
	}
	return false
}

func (s *services) republish(r *uaserver.Request, req *ua.RepublishRequest) ua.Response {
	sub := s.state(r.Session).subscription(req.SubscriptionID)
	if sub == nil {
		return uaserver.Fault(ua.StatusBadSubscriptionIDInvalid)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for _, m := range sub.retrans {
		if m.SequenceNumber == req.RetransmitSequenceNumber {
			return &ua.RepublishResponse{ResponseHeader: uaserver.Header(ua.StatusGood), NotificationMessage: m}
		}
	}
	return uaserver.Fault(ua.StatusBadMessageNotAvailable)
}

func (sub *subscription) run() {
	defer sub.s.wg.Done()
	sub.mu.Lock()
	cur := sub.interval
	sub.mu.Unlock()
	t := time.NewTicker(cur)
	defer t.Stop()
	for {
		var expired bool
		select {
		case <-sub.stop:
			return
		case <-t.C:
			expired = sub.cycle(true)
		case <-sub.wake:
			expired = sub.cycle(false)
		}
		if expired {
			st := sub.owner()
			sub.s.log.Info("opcua: subscription expired: no Publish requests within its lifetime",
				"session", st.sess.Name, "subscription", sub.id)
			st.removeSubscription(sub.id)
			sub.s.forgetDetached(st)
			return
		}
		sub.mu.Lock()
		iv := sub.interval
		sub.mu.Unlock()
		if iv != cur {
			t.Reset(iv)
			cur = iv
		}
	}
}

// outgoing is a response built under the lock, sent after.
type outgoing struct {
	p    *parkedPublish
	resp ua.Response
}

// cycle runs one publishing cycle (timer) or retries a late one (wake). It
// reports whether the subscription's lifetime expired.
func (sub *subscription) cycle(timer bool) bool {
	s := sub.s
	now := s.now()
	var c *evalCtx
	if timer {
		c = s.ctx()
	}
	var out []outgoing
	sub.mu.Lock()
	if timer {
		sub.sample(c, now)
		sub.ticks++
	}
	for {
		hasData := sub.enabled && len(sub.ready) > 0
		if !hasData && sub.ticks < sub.keepAlive {
			sub.late.Store(false)
			break
		}
		p := sub.st.takePublish(now)
		if p == nil {
			sub.late.Store(true)
			break
		}
		sub.late.Store(false)
		resp, more := sub.message(p, now, hasData)
		out = append(out, outgoing{p, resp})
		if !more {
			break
		}
	}
	expired := false
	if sub.late.Load() {
		sub.st.mu.Lock()
		last := sub.st.lastPublish
		sub.st.mu.Unlock()
		if sub.lastSend.After(last) {
			last = sub.lastSend
		}
		expired = now.Sub(last) > time.Duration(sub.lifetime)*sub.interval
	}
	sub.mu.Unlock()
	for _, o := range out {
		o.p.answer(o.resp)
	}
	return expired
}

// message builds the answer to a Publish request: the queued notifications
// (up to the per-message maximum; more reports whether some remain), or a
// keep-alive.
func (sub *subscription) message(p *parkedPublish, now time.Time, hasData bool) (resp ua.Response, more bool) {
	msg := &ua.NotificationMessage{SequenceNumber: sub.seq, PublishTime: now, NotificationData: []*ua.ExtensionObject{}}
	if hasData {
		var items []*ua.MonitoredItemNotification
		var events []*ua.EventFieldList
		items, events, more = sub.collect(sub.maxNotif)
		if len(items) > 0 || len(events) == 0 {
			if items == nil {
				items = []*ua.MonitoredItemNotification{}
			}
			msg.NotificationData = append(msg.NotificationData, ua.NewExtensionObject(&ua.DataChangeNotification{
				MonitoredItems: items, DiagnosticInfos: []*ua.DiagnosticInfo{}}))
		}
		if len(events) > 0 {
			msg.NotificationData = append(msg.NotificationData, ua.NewExtensionObject(&ua.EventNotificationList{Events: events}))
		}
		sub.seq++
		if sub.seq == 0 {
			sub.seq = 1
		}
		sub.retrans = append(sub.retrans, msg)
		if limit := max(minRetransmitQueue, 2*sub.s.limits.MaxPublishRequestsPerSession); len(sub.retrans) > limit {
			sub.retrans = append(sub.retrans[:0], sub.retrans[len(sub.retrans)-limit:]...)
		}
	}
	sub.ticks = 0
	sub.lastSend = now
	avail := make([]uint32, len(sub.retrans))
	for i, m := range sub.retrans {
		avail[i] = m.SequenceNumber
	}
	return &ua.PublishResponse{ResponseHeader: uaserver.Header(ua.StatusGood), SubscriptionID: sub.id,
		AvailableSequenceNumbers: avail, MoreNotifications: more, NotificationMessage: msg,
		Results: p.results, DiagnosticInfos: []*ua.DiagnosticInfo{}}, more
}
