package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
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

// TestSetTriggeringWithEventItems: an event item in Sampling mode reports its
// queued events when its triggering data item reports, and an event item can
// itself trigger a sampled data item.
func TestSetTriggeringWithEventItems(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "trig-events")
	sub := c.subscribe(10, 1000)
	data := c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1}).Results[0].MonitoredItemID
	c.data() // the initial value
	ev := c.monitorEvents(sub, ns0(id.Server), &ua.EventFilter{SelectClauses: eventFields()})
	if ev.StatusCode != ua.StatusGood {
		t.Fatal(ev.StatusCode)
	}
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeSampling, MonitoredItemIDs: []uint32{ev.MonitoredItemID}})
	st := c.call(&ua.SetTriggeringRequest{SubscriptionID: sub, TriggeringItemID: data, LinksToAdd: []uint32{ev.MonitoredItemID}}).(*ua.SetTriggeringResponse)
	if st.AddResults[0] != ua.StatusGood {
		t.Fatalf("link: %v", st.AddResults)
	}
	store.Update(func(tx *model.Tx) error {
		tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-1", Condition: "On Battery", Severity: model.SeverityLow,
			Active: true, Triggered: t0, Processed: t0}, "feed")
		return nil
	})
	setTag(t, store, "SV4.UPS-1:tag1", 42, t0.Add(time.Second)) // the trigger reports: the sampled event goes with it
	if evs := c.events(); len(evs) != 1 {
		t.Fatalf("triggered event item: %d events, want 1", len(evs))
	}

	// the other way round: the event item reports, the data item is sampled
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeReporting, MonitoredItemIDs: []uint32{ev.MonitoredItemID}})
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeSampling, MonitoredItemIDs: []uint32{data}})
	c.call(&ua.SetTriggeringRequest{SubscriptionID: sub, TriggeringItemID: data, LinksToRemove: []uint32{ev.MonitoredItemID}})
	c.call(&ua.SetTriggeringRequest{SubscriptionID: sub, TriggeringItemID: ev.MonitoredItemID, LinksToAdd: []uint32{data}})
	setTag(t, store, "SV4.UPS-1:tag1", 43, t0.Add(2*time.Second)) // sampled, held
	store.Update(func(tx *model.Tx) error {
		tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-2", Condition: "On Battery", Severity: model.SeverityLow,
			Active: true, Triggered: t0, Processed: t0}, "feed")
		return nil
	})
	gotData := false
	for i := 0; i < 10 && !gotData; i++ {
		c.publish()
		r := c.next().(*ua.PublishResponse)
		for _, nd := range r.NotificationMessage.NotificationData {
			if l, ok := nd.Value.(*ua.DataChangeNotification); ok && len(l.MonitoredItems) > 0 {
				gotData = true
			}
		}
	}
	if !gotData {
		t.Error("the event item's report did not bring the sampled data item's value")
	}
}
