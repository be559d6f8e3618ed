package opcua

import (
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// TransferSubscriptions (Part 4, 5.13.7): a client that reconnects on a new
// session — its old one still open on a lost channel, or closed with
// DeleteSubscriptions false — takes its subscriptions with it.
//
// The rules: only a session of the same user (the user name or
// certificate subject) may take a subscription; an anonymous one only from
// an anonymous session of the same client application (ApplicationUri of
// its certificate) with both sessions signed (Sign or SignAndEncrypt), as
// Part 4 (1.05) requires — else Bad_UserAccessDenied. An unknown id is
// Bad_SubscriptionIdInvalid. The old session, if still open, gets a
// StatusChangeNotification Good_SubscriptionTransferred on its next Publish.
// The subscription keeps its id, sequence numbers and retransmission queue
// (the result lists them); with SendInitialValues its monitored items
// report their current values on the next publishing cycle.
//
// Subscriptions of a session closed without deleting them, or timed out,
// keep running detached until their lifetime expires (no Publish requests
// reach them) or a new session takes them; at most maxDetached are kept.

// maxDetached bounds the subscriptions kept of closed sessions: past it,
// closing a session deletes its subscriptions as if asked to.
const maxDetached = 1000

// notice is a StatusChangeNotification waiting for its session's next
// Publish request.
type notice struct {
	subID  uint32
	status ua.StatusCode
}

func (s *services) transferSubscriptions(r *uaserver.Request, req *ua.TransferSubscriptionsRequest) ua.Response {
	if code := s.checkCount(len(req.SubscriptionIDs), 0); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	dst := s.state(r.Session)
	results := make([]*ua.TransferResult, len(req.SubscriptionIDs))
	for i, id := range req.SubscriptionIDs {
		results[i] = s.transfer(dst, id, req.SendInitialValues)
	}
	return &ua.TransferSubscriptionsResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

// findSubscription finds a subscription of any session, open or closed.
func (s *services) findSubscription(id uint32) (*sessionState, *subscription) {
	s.mu.Lock()
	states := make([]*sessionState, 0, len(s.sessions)+len(s.detached))
	for _, st := range s.sessions {
		states = append(states, st)
	}
	for st := range s.detached {
		states = append(states, st)
	}
	s.mu.Unlock()
	for _, st := range states {
		if sub := st.subscription(id); sub != nil {
			return st, sub
		}
	}
	return nil, nil
}

// transfer moves one subscription to dst.
func (s *services) transfer(dst *sessionState, id uint32, sendInitial bool) *ua.TransferResult {
	bad := func(code ua.StatusCode) *ua.TransferResult {
		return &ua.TransferResult{StatusCode: code, AvailableSequenceNumbers: []uint32{}}
	}
	src, sub := s.findSubscription(id)
	switch {
	case sub == nil:
		return bad(ua.StatusBadSubscriptionIDInvalid)
	case !sameClient(src.sess, dst.sess):
		s.log.Warn("opcua: TransferSubscriptions refused: another user's or client's subscription",
			"session", dst.sess.Name, "subscription", id)
		return bad(ua.StatusBadUserAccessDenied)
	}
	if src != dst {
		dst.mu.Lock()
		switch {
		case dst.closed:
			dst.mu.Unlock()
			return bad(ua.StatusBadSessionClosed)
		case s.limits.MaxSubscriptionsPerSession > 0 && len(dst.subs) >= s.limits.MaxSubscriptionsPerSession:
			dst.mu.Unlock()
			return bad(ua.StatusBadTooManySubscriptions)
		}
		dst.mu.Unlock()
		if !src.release(id, sub) {
			return bad(ua.StatusBadSubscriptionIDInvalid) // deleted or transferred meanwhile
		}
		s.forgetDetached(src)
		dst.mu.Lock()
		dst.subs[id] = sub
		dst.mu.Unlock()
	}
	now := s.now()
	c := s.ctx()
	sub.mu.Lock()
	sub.st = dst
	sub.lastSend = now // the lifetime counts from the transfer
	if sendInitial {
		for _, it := range sub.items {
			if !it.deleted && it.mode != ua.MonitoringModeDisabled {
				it.last = nil
				it.sampleNow(c, now)
			}
		}
	}
	avail := make([]uint32, len(sub.retrans))
	for i, m := range sub.retrans {
		avail[i] = m.SequenceNumber
	}
	sub.mu.Unlock()
	sub.poke()
	s.log.Info("opcua: subscription transferred", "subscription", id, "from", src.sess.Name, "to", dst.sess.Name)
	return &ua.TransferResult{StatusCode: ua.StatusGood, AvailableSequenceNumbers: avail}
}

// release takes a subscription from the session it is transferred away
// from: the session, if still open, is told on its next Publish; when it
// was its last subscription, its other parked Publish requests are
// answered Bad_NoSubscription.
func (st *sessionState) release(id uint32, sub *subscription) bool {
	st.mu.Lock()
	if st.subs[id] != sub {
		st.mu.Unlock()
		return false
	}
	delete(st.subs, id)
	var told *parkedPublish
	var orphans []*parkedPublish
	if !st.closed {
		if len(st.publishQ) > 0 {
			told, st.publishQ = st.publishQ[0], st.publishQ[1:]
		} else {
			st.notices = append(st.notices, notice{id, ua.StatusGoodSubscriptionTransferred})
		}
		if len(st.subs) == 0 {
			orphans, st.publishQ = st.publishQ, nil
		}
	}
	st.mu.Unlock()
	if told != nil {
		told.answer(statusChange(told, id, ua.StatusGoodSubscriptionTransferred, time.Now()))
	}
	for _, p := range orphans {
		p.answer(uaserver.Fault(ua.StatusBadNoSubscription))
	}
	return true
}

// statusChange is a Publish response carrying a StatusChangeNotification of
// a subscription the session no longer has: sequence number 0, nothing to
// acknowledge or republish.
func statusChange(p *parkedPublish, subID uint32, status ua.StatusCode, now time.Time) ua.Response {
	msg := &ua.NotificationMessage{PublishTime: now, NotificationData: []*ua.ExtensionObject{
		ua.NewExtensionObject(&ua.StatusChangeNotification{Status: status, DiagnosticInfo: &ua.DiagnosticInfo{}}),
	}}
	return &ua.PublishResponse{ResponseHeader: uaserver.Header(ua.StatusGood), SubscriptionID: subID,
		AvailableSequenceNumbers: []uint32{}, NotificationMessage: msg, Results: p.results,
		DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

// detach keeps the subscriptions of a session closed without deleting
// them, within maxDetached; it reports whether it kept them.
func (s *services) detach(st *sessionState, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for d := range s.detached {
		d.mu.Lock()
		total += len(d.subs)
		d.mu.Unlock()
	}
	if total+n > maxDetached {
		return false
	}
	s.detached[st] = struct{}{}
	return true
}

// forgetDetached drops a closed session's state once its last detached
// subscription is gone.
func (s *services) forgetDetached(st *sessionState) {
	st.mu.Lock()
	empty := st.closed && len(st.subs) == 0
	st.mu.Unlock()
	if empty {
		s.mu.Lock()
		delete(s.detached, st)
		s.mu.Unlock()
	}
}

// ServerStopped implements uaserver.StoppedNotifier: the detached
// subscriptions end with the server.
func (s *services) ServerStopped() {
	s.mu.Lock()
	states := s.detached
	s.detached = map[*sessionState]struct{}{}
	s.mu.Unlock()
	for st := range states {
		st.mu.Lock()
		subs := st.subs
		st.subs = map[uint32]*subscription{}
		st.mu.Unlock()
		for _, sub := range subs {
			sub.stopAndForget()
		}
	}
}

// anonymous is the User of sessions activated with an anonymous token.
const anonymous = "anonymous"

// sameClient reports whether a subscription of session a may move to b.
func sameClient(a, b *uaserver.Session) bool {
	if a.User != b.User {
		return false
	}
	if a.User != anonymous {
		return true
	}
	signed := func(m ua.MessageSecurityMode) bool {
		return m == ua.MessageSecurityModeSign || m == ua.MessageSecurityModeSignAndEncrypt
	}
	return signed(a.SecurityMode) && signed(b.SecurityMode) && a.ApplicationURI != "" && a.ApplicationURI == b.ApplicationURI
}
