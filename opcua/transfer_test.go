package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// TestTransferSubscriptionRules: the same (anonymous, signed) client takes a
// subscription with its values; the old session is told on its next
// Publish; another user, an unsigned anonymous session, another client
// application, an unknown id and an empty list are refused with their own
// status codes.
func TestTransferSubscriptionRules(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	signed := func(c *client, appURI string) *client {
		c.sess.SecurityMode, c.sess.ApplicationURI = ua.MessageSecurityModeSignAndEncrypt, appURI
		return c
	}
	owner := signed(newClient(t, s, "owner"), "urn:scada")
	sub := owner.subscribe(10, 1000)
	owner.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 7})
	owner.data()

	other := signed(newClient(t, s, "other"), "urn:scada")
	other.sess.User = "operator"
	unsigned := newClient(t, s, "unsigned") // anonymous over SecurityPolicy None
	otherApp := signed(newClient(t, s, "other application"), "urn:another")
	same := signed(newClient(t, s, "same"), "urn:scada")
	transfer := func(c *client, ids ...uint32) ua.Response {
		return c.call(&ua.TransferSubscriptionsRequest{SubscriptionIDs: ids, SendInitialValues: true})
	}
	if r := serviceResult(transfer(same)); r != ua.StatusBadNothingToDo {
		t.Errorf("empty transfer: %v", r)
	}
	for _, c := range []*client{other, unsigned, otherApp} {
		r := transfer(c, sub).(*ua.TransferSubscriptionsResponse)
		if r.Results[0].StatusCode != ua.StatusBadUserAccessDenied {
			t.Errorf("transfer to %s: %v", c.sess.Name, r.Results[0].StatusCode)
		}
	}
	r := transfer(same, sub, sub+1000).(*ua.TransferSubscriptionsResponse)
	if r.Results[0].StatusCode != ua.StatusGood || r.Results[1].StatusCode != ua.StatusBadSubscriptionIDInvalid {
		t.Fatalf("transfer results: %v %v", r.Results[0].StatusCode, r.Results[1].StatusCode)
	}
	owner.publish()
	told, ok := owner.next().(*ua.PublishResponse)
	if !ok || told.SubscriptionID != sub || len(told.NotificationMessage.NotificationData) != 1 {
		t.Fatalf("the old session's Publish: %#v", told)
	}
	if sc, ok := told.NotificationMessage.NotificationData[0].Value.(*ua.StatusChangeNotification); !ok || sc.Status != ua.StatusGoodSubscriptionTransferred {
		t.Errorf("the old session was told %#v", told.NotificationMessage.NotificationData[0].Value)
	}
	owner.publish()
	if r := serviceResult(owner.next()); r != ua.StatusBadNoSubscription {
		t.Errorf("the old session's next Publish: %v", r)
	}
	resp, items := same.data()
	if resp.SubscriptionID != sub || len(items) != 1 || items[0].ClientHandle != 7 {
		t.Errorf("initial values after the transfer: subscription %d, %v", resp.SubscriptionID, items)
	}
}

// TestSetTriggeringReportsSampledItem: an item in Sampling mode reports its
// queued change only once linked to an item that reports.
func TestSetTriggeringReportsSampledItem(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "trig")
	sub := c.subscribe(10, 1000)
	m := c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1}, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag2", handle: 2})
	trig, linked := m.Results[0].MonitoredItemID, m.Results[1].MonitoredItemID
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeSampling, MonitoredItemIDs: []uint32{linked}})
	if _, items := c.data(); len(items) != 1 || items[0].ClientHandle != 1 {
		t.Fatalf("before linking: %v", items)
	}
	bad := c.call(&ua.SetTriggeringRequest{SubscriptionID: sub, TriggeringItemID: linked + 100, LinksToAdd: []uint32{linked}})
	if serviceResult(bad) != ua.StatusBadMonitoredItemIDInvalid {
		t.Errorf("unknown triggering item: %v", serviceResult(bad))
	}
	st := c.call(&ua.SetTriggeringRequest{SubscriptionID: sub, TriggeringItemID: trig, LinksToAdd: []uint32{linked, linked + 100},
		LinksToRemove: []uint32{linked + 200}}).(*ua.SetTriggeringResponse)
	if st.AddResults[0] != ua.StatusGood || st.AddResults[1] != ua.StatusBadMonitoredItemIDInvalid || st.RemoveResults[0] != ua.StatusBadMonitoredItemIDInvalid {
		t.Fatalf("SetTriggering results: %v %v", st.AddResults, st.RemoveResults)
	}
	setTag(t, store, "SV4.UPS-1:tag1", 42, t0.Add(time.Second))
	seen := map[uint32]bool{}
	for i := 0; i < 10 && !(seen[1] && seen[2]); i++ {
		_, items := c.data()
		for _, it := range items {
			seen[it.ClientHandle] = true
		}
	}
	if !seen[1] || !seen[2] {
		t.Errorf("after the triggering item's change: %v", seen)
	}
}
