package opcua

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// wait bounds every wait for an asynchronous response; it is a bound, not
// a timing assertion.
const wait = 10 * time.Second

// client sends Publish requests of one session and collects the responses.
type client struct {
	t    testing.TB
	s    *services
	sess *uaserver.Session
	ch   chan ua.Response
}

func newClient(t testing.TB, s *services, name string) *client {
	return &client{t: t, s: s, sess: newSession(name), ch: make(chan ua.Response, 100)}
}

func (c *client) call(req ua.Request) ua.Response {
	c.t.Helper()
	return serve(c.t, c.s, c.sess, req)
}

func (c *client) publish(acks ...*ua.SubscriptionAcknowledgement) {
	c.s.Serve(uaserver.NewRequest(c.sess, &ua.PublishRequest{RequestHeader: &ua.RequestHeader{},
		SubscriptionAcknowledgements: acks}, func(r ua.Response) error { c.ch <- r; return nil }))
}

// next returns the next Publish answer.
func (c *client) next() ua.Response {
	c.t.Helper()
	select {
	case r := <-c.ch:
		checkEncodes(c.t, r)
		return r
	case <-time.After(wait):
		c.t.Fatal("no Publish response")
		return nil
	}
}

// data publishes and returns the next message that carries data, acking
// it; keep-alives on the way are skipped (a bounded number).
func (c *client) data() (*ua.PublishResponse, []*ua.MonitoredItemNotification) {
	c.t.Helper()
	for i := 0; i < 1000; i++ {
		c.publish()
		r, ok := c.next().(*ua.PublishResponse)
		if !ok {
			c.t.Fatalf("Publish: %v", serviceResult(r))
		}
		if len(r.NotificationMessage.NotificationData) == 0 {
			continue
		}
		dcn := r.NotificationMessage.NotificationData[0].Value.(*ua.DataChangeNotification)
		return r, dcn.MonitoredItems
	}
	c.t.Fatal("no data within 1000 Publish requests")
	return nil, nil
}

func (c *client) subscribe(interval float64, keepAlive uint32) uint32 {
	c.t.Helper()
	r := c.call(&ua.CreateSubscriptionRequest{RequestedPublishingInterval: interval, RequestedLifetimeCount: 1000,
		RequestedMaxKeepAliveCount: keepAlive, PublishingEnabled: true})
	resp, ok := r.(*ua.CreateSubscriptionResponse)
	if !ok {
		c.t.Fatalf("CreateSubscription: %v", serviceResult(r))
	}
	return resp.SubscriptionID
}

type itemSpec struct {
	id       string
	handle   uint32
	sampling float64
	queue    uint32
	oldest   bool
	filter   *ua.DataChangeFilter
}

func (c *client) monitor(sub uint32, items ...itemSpec) *ua.CreateMonitoredItemsResponse {
	c.t.Helper()
	req := &ua.CreateMonitoredItemsRequest{SubscriptionID: sub, TimestampsToReturn: ua.TimestampsToReturnBoth}
	for _, it := range items {
		p := &ua.MonitoringParameters{ClientHandle: it.handle, SamplingInterval: it.sampling, QueueSize: it.queue,
			DiscardOldest: it.oldest, Filter: ua.NewExtensionObject(nil)}
		if it.filter != nil {
			p.Filter = ua.NewExtensionObject(it.filter)
		}
		req.ItemsToCreate = append(req.ItemsToCreate, &ua.MonitoredItemCreateRequest{
			ItemToMonitor: rv(strID(it.id), ua.AttributeIDValue), MonitoringMode: ua.MonitoringModeReporting, RequestedParameters: p})
	}
	r := c.call(req)
	resp, ok := r.(*ua.CreateMonitoredItemsResponse)
	if !ok {
		c.t.Fatalf("CreateMonitoredItems: %v", serviceResult(r))
	}
	return resp
}

func setTag(t testing.TB, store *model.Store, tag string, v float64, at time.Time) {
	t.Helper()
	if _, err := store.Update(func(tx *model.Tx) error {
		return tx.SetTag(tag, model.TagReading{Value: model.Number(v), AlarmStatus: "OK", ReadingTime: at}, time.Time{})
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSubscriptionRevision(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := newClient(t, s, "rev")
	for _, r := range []struct {
		interval            float64
		lifetime, keepAlive uint32
		wantInterval        float64
		wantLife, wantKeep  uint32
	}{
		{0, 0, 0, 10, 30, 10}, // the request that crashed gopcua: interval 0
		{math.NaN(), 100, 5, 10, 100, 5},
		{-5, 1, 1, 10, 3, 1},
		{1e12, 1e9, 1e9, 3600000, 3, 1},
		{250, 60, 10, 250, 60, 10},
	} {
		resp := c.call(&ua.CreateSubscriptionRequest{RequestedPublishingInterval: r.interval,
			RequestedLifetimeCount: r.lifetime, RequestedMaxKeepAliveCount: r.keepAlive}).(*ua.CreateSubscriptionResponse)
		if resp.RevisedPublishingInterval != r.wantInterval || resp.RevisedLifetimeCount != r.wantLife || resp.RevisedMaxKeepAliveCount != r.wantKeep {
			t.Errorf("requested %v/%d/%d: revised %v/%d/%d", r.interval, r.lifetime, r.keepAlive,
				resp.RevisedPublishingInterval, resp.RevisedLifetimeCount, resp.RevisedMaxKeepAliveCount)
		}
		m := c.call(&ua.ModifySubscriptionRequest{SubscriptionID: resp.SubscriptionID, RequestedPublishingInterval: r.interval,
			RequestedLifetimeCount: r.lifetime, RequestedMaxKeepAliveCount: r.keepAlive}).(*ua.ModifySubscriptionResponse)
		if m.RevisedPublishingInterval != r.wantInterval || m.RevisedLifetimeCount != r.wantLife || m.RevisedMaxKeepAliveCount != r.wantKeep {
			t.Errorf("modify %v: %+v", r.interval, m)
		}
	}
	if r := c.call(&ua.ModifySubscriptionRequest{SubscriptionID: 999999}); serviceResult(r) != ua.StatusBadSubscriptionIDInvalid {
		t.Errorf("modify unknown: %v", serviceResult(r))
	}
}

func TestSubscriptionIDsNeverReused(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := newClient(t, s, "ids")
	a, b := c.subscribe(100, 10), c.subscribe(100, 10)
	del := c.call(&ua.DeleteSubscriptionsRequest{SubscriptionIDs: []uint32{a, 424242}}).(*ua.DeleteSubscriptionsResponse)
	if del.Results[0] != ua.StatusGood || del.Results[1] != ua.StatusBadSubscriptionIDInvalid {
		t.Errorf("delete: %v", del.Results)
	}
	if cc := c.subscribe(100, 10); cc == a || cc == b {
		t.Errorf("ids %d %d, then %d", a, b, cc)
	}
	// another session cannot touch this session's subscription
	other := newClient(t, s, "other")
	if r := other.call(&ua.DeleteSubscriptionsRequest{SubscriptionIDs: []uint32{b}}).(*ua.DeleteSubscriptionsResponse); r.Results[0] != ua.StatusBadSubscriptionIDInvalid {
		t.Errorf("foreign delete: %v", r.Results)
	}
	// the per-session limit
	for i := 0; i < 8; i++ {
		c.subscribe(100, 10)
	}
	if r := c.call(&ua.CreateSubscriptionRequest{}); serviceResult(r) != ua.StatusBadTooManySubscriptions {
		t.Errorf("11th subscription: %v", serviceResult(r))
	}
	if r := c.call(&ua.DeleteSubscriptionsRequest{}); serviceResult(r) != ua.StatusBadNothingToDo {
		t.Errorf("delete nothing: %v", serviceResult(r))
	}
}

func TestPublishDataChanges(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "pub")
	sub := c.subscribe(10, 1000)
	created := c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 7}, itemSpec{id: "SV4/CAGE/SV4:01:000001#KVA", handle: 8})
	for _, r := range created.Results {
		if r.StatusCode != ua.StatusGood || r.MonitoredItemID == 0 || r.RevisedQueueSize != 1 {
			t.Fatalf("create: %+v", r)
		}
	}
	resp, items := c.data()
	got := map[uint32]any{}
	for _, it := range items {
		got[it.ClientHandle] = it.Value.Value.Value()
	}
	if len(items) != 2 || got[7] != 10.0 || got[8] != 10.0 {
		t.Fatalf("initial values: %v", got)
	}
	first := resp.NotificationMessage.SequenceNumber
	setTag(t, store, "SV4.UPS-1:tag1", 42.5, t0.Add(time.Second))
	resp2, items := c.data()
	if len(items) != 1 || items[0].ClientHandle != 7 || items[0].Value.Value.Value() != 42.5 ||
		!items[0].Value.SourceTimestamp.Equal(t0.Add(time.Second)) || items[0].Value.ServerTimestamp.IsZero() {
		t.Fatalf("change: %+v", items[0].Value)
	}
	if resp2.NotificationMessage.SequenceNumber != first+1 {
		t.Errorf("sequence numbers %d then %d", first, resp2.NotificationMessage.SequenceNumber)
	}
	// both messages wait for acknowledgement; Republish returns them
	if len(resp2.AvailableSequenceNumbers) != 2 {
		t.Errorf("available: %v", resp2.AvailableSequenceNumbers)
	}
	rep := c.call(&ua.RepublishRequest{SubscriptionID: sub, RetransmitSequenceNumber: first}).(*ua.RepublishResponse)
	if rep.NotificationMessage.SequenceNumber != first {
		t.Errorf("republish: %+v", rep.NotificationMessage)
	}
	// acknowledging removes them; acks of unknown things are reported per ack
	c.publish(&ua.SubscriptionAcknowledgement{SubscriptionID: sub, SequenceNumber: first},
		&ua.SubscriptionAcknowledgement{SubscriptionID: sub, SequenceNumber: 9999},
		&ua.SubscriptionAcknowledgement{SubscriptionID: 9999, SequenceNumber: first})
	setTag(t, store, "SV4.UPS-1:tag1", 43, t0.Add(2*time.Second))
	r3 := c.next().(*ua.PublishResponse)
	if fmt.Sprint(r3.Results) != fmt.Sprint([]ua.StatusCode{ua.StatusGood, ua.StatusBadSequenceNumberUnknown, ua.StatusBadSubscriptionIDInvalid}) {
		t.Errorf("ack results: %v", r3.Results)
	}
	if r := c.call(&ua.RepublishRequest{SubscriptionID: sub, RetransmitSequenceNumber: first}); serviceResult(r) != ua.StatusBadMessageNotAvailable {
		t.Errorf("republish of an acknowledged message: %v", serviceResult(r))
	}
	if r := c.call(&ua.RepublishRequest{SubscriptionID: 9999}); serviceResult(r) != ua.StatusBadSubscriptionIDInvalid {
		t.Errorf("republish unknown subscription: %v", serviceResult(r))
	}
	// an unchanged value is not reported again (the same reading confirmed)
	setTag(t, store, "SV4.UPS-1:tag1", 43, t0.Add(2*time.Second))
	setTag(t, store, "SV4.UPS-1:tag2", 44, t0.Add(3*time.Second))
	setTag(t, store, "SV4.UPS-1:tag1", 45, t0.Add(4*time.Second))
	_, items = c.data()
	if len(items) != 1 || items[0].Value.Value.Value() != 45.0 {
		t.Errorf("after unchanged + unmonitored + change: %d items %v", len(items), items)
	}
}

func TestKeepAliveAndPublishingMode(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "ka")
	sub := c.subscribe(10, 2)
	c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1})
	c.data() // initial value
	off := c.call(&ua.SetPublishingModeRequest{PublishingEnabled: false, SubscriptionIDs: []uint32{sub, 9999}}).(*ua.SetPublishingModeResponse)
	if off.Results[0] != ua.StatusGood || off.Results[1] != ua.StatusBadSubscriptionIDInvalid {
		t.Errorf("SetPublishingMode: %v", off.Results)
	}
	setTag(t, store, "SV4.UPS-1:tag1", 1, t0.Add(time.Second))
	c.publish()
	ka := c.next().(*ua.PublishResponse)
	if len(ka.NotificationMessage.NotificationData) != 0 || ka.SubscriptionID != sub {
		t.Fatalf("publishing disabled: got data %+v", ka.NotificationMessage)
	}
	c.call(&ua.SetPublishingModeRequest{PublishingEnabled: true, SubscriptionIDs: []uint32{sub}})
	if _, items := c.data(); len(items) != 1 || items[0].Value.Value.Value() != 1.0 {
		t.Errorf("after enabling: %v", items)
	}
	// a keep-alive carries the next sequence number without consuming it
	c.publish()
	ka1 := c.next().(*ua.PublishResponse)
	c.publish()
	ka2 := c.next().(*ua.PublishResponse)
	if ka1.NotificationMessage.SequenceNumber != ka2.NotificationMessage.SequenceNumber {
		t.Errorf("keep-alives %d, %d", ka1.NotificationMessage.SequenceNumber, ka2.NotificationMessage.SequenceNumber)
	}
}

func TestPublishQueue(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := newClient(t, s, "q")
	c.publish()
	if r := c.next(); serviceResult(r) != ua.StatusBadNoSubscription {
		t.Errorf("Publish without subscription: %v", serviceResult(r))
	}
	c.subscribe(3600000, 1) // a keep-alive only once an hour: requests stay parked
	for i := 0; i < 11; i++ {
		c.publish()
	}
	if r := c.next(); serviceResult(r) != ua.StatusBadTooManyPublishRequests {
		t.Errorf("11th parked Publish: oldest answered %v", serviceResult(r))
	}
	// closing the session answers the parked ones
	s.SessionClosed(c.sess, true)
	for i := 0; i < 10; i++ {
		if r := c.next(); serviceResult(r) != ua.StatusBadSessionClosed {
			t.Errorf("parked Publish after close: %v", serviceResult(r))
		}
	}
}

func TestMaxNotificationsPerPublish(t *testing.T) {
	limits := testLimits()
	limits.MaxNotificationsPerPublish = 4
	s, _ := newTestServices(t, limits)
	c := newClient(t, s, "max")
	sub := c.subscribe(10, 1000)
	var specs []itemSpec
	for i := 0; i < 3; i++ {
		for k := 0; k < 3; k++ {
			specs = append(specs, itemSpec{id: fmt.Sprintf("SV4/TAG/SV4.UPS-%d:tag%d", i, k), handle: uint32(10*i + k)})
		}
	}
	c.monitor(sub, specs...)
	seen := map[uint32]bool{}
	for i := 0; i < 3; i++ {
		c.publish()
	}
	for i := 0; i < 3; i++ {
		r := c.next().(*ua.PublishResponse)
		items := r.NotificationMessage.NotificationData[0].Value.(*ua.DataChangeNotification).MonitoredItems
		if len(items) > 4 || r.MoreNotifications != (i < 2) {
			t.Errorf("message %d: %d items, more=%v", i, len(items), r.MoreNotifications)
		}
		for _, it := range items {
			seen[it.ClientHandle] = true
		}
	}
	if len(seen) != 9 {
		t.Errorf("%d of 9 items delivered", len(seen))
	}
}

func TestSessionClosedDeletesSubscriptions(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "close")
	sub := c.subscribe(10, 1000)
	c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1"})
	s.SessionClosed(c.sess, true)
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	s.monitor.mu.Lock()
	items, reader := len(s.monitor.items), s.monitor.cancel != nil
	s.monitor.mu.Unlock()
	if n != 0 || items != 0 || reader {
		t.Errorf("after close: %d sessions, %d items, reader running %v", n, items, reader)
	}
	s.wg.Wait() // every goroutine of the session ends
	setTag(t, store, "SV4.UPS-1:tag1", 1, t0.Add(time.Second))
	// the same client on a new session starts fresh
	c2 := newClient(t, s, "close")
	c2.publish()
	if r := c2.next(); serviceResult(r) != ua.StatusBadNoSubscription {
		t.Errorf("new session: %v", serviceResult(r))
	}
}

func TestLifetimeExpiry(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := newClient(t, s, "life")
	resp := c.call(&ua.CreateSubscriptionRequest{RequestedPublishingInterval: 10, RequestedLifetimeCount: 3,
		RequestedMaxKeepAliveCount: 1}).(*ua.CreateSubscriptionResponse)
	st := s.state(c.sess)
	for i := 0; st.subscription(resp.SubscriptionID) != nil; i++ {
		if i > int(wait/(10*time.Millisecond)) {
			t.Fatal("subscription without Publish requests did not expire")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.publish()
	if r := c.next(); serviceResult(r) != ua.StatusBadNoSubscription {
		t.Errorf("after expiry: %v", serviceResult(r))
	}
}

// TestMessageSizeBound: notifications with long strings are split over
// several messages (MoreNotifications) instead of one too large to send.
func TestMessageSizeBound(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	long := strings.Repeat("x", 20000)
	store.Update(func(tx *model.Tx) error {
		return tx.SetTag("SV4.UPS-1:tag0", model.TagReading{Value: model.Text(long), ReadingTime: t0}, time.Time{})
	})
	c := newClient(t, s, "size")
	sub := c.subscribe(10, 1000)
	var specs []itemSpec
	for i := 0; i < 20; i++ {
		specs = append(specs, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag0", handle: uint32(i)})
	}
	c.monitor(sub, specs...)
	c.publish()
	c.publish()
	first, second := c.next().(*ua.PublishResponse), c.next().(*ua.PublishResponse)
	n1 := len(first.NotificationMessage.NotificationData[0].Value.(*ua.DataChangeNotification).MonitoredItems)
	n2 := len(second.NotificationMessage.NotificationData[0].Value.(*ua.DataChangeNotification).MonitoredItems)
	if !first.MoreNotifications || n1+n2 != 20 || n1 > maxMessageBytes/20000+1 {
		t.Errorf("messages of %d (more=%v) and %d notifications of 20 KB", n1, first.MoreNotifications, n2)
	}
}

// TestSessionClosedKeepsSubscriptions: a session closed without deleting
// its subscriptions leaves them running for TransferSubscriptions; they
// end with the server.
func TestSessionClosedKeepsSubscriptions(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := newClient(t, s, "keep")
	sub := c.subscribe(10, 1000)
	c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1"})
	s.SessionClosed(c.sess, false)
	if n, _ := s.subscriptionCounts(); n != 1 {
		t.Fatalf("%d subscriptions kept, want 1", n)
	}
	s.ServerStopped()
	s.monitor.mu.Lock()
	items, reader := len(s.monitor.items), s.monitor.cancel != nil
	s.monitor.mu.Unlock()
	if n, _ := s.subscriptionCounts(); n != 0 || items != 0 || reader {
		t.Errorf("after stop: %d subscriptions, %d items, reader running %v", n, items, reader)
	}
	s.wg.Wait()
}
