package opcua

import (
	"fmt"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

func TestMonitoredItemErrors(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := newClient(t, s, "err")
	sub := c.subscribe(10, 1000)
	item := func(n *ua.NodeID, attr ua.AttributeID, rng string, mode ua.MonitoringMode, f any) *ua.MonitoredItemCreateRequest {
		p := &ua.MonitoringParameters{SamplingInterval: -1, QueueSize: 1, Filter: ua.NewExtensionObject(nil)}
		if f != nil {
			p.Filter = ua.NewExtensionObject(f)
		}
		return &ua.MonitoredItemCreateRequest{ItemToMonitor: &ua.ReadValueID{NodeID: n, AttributeID: attr, IndexRange: rng},
			MonitoringMode: mode, RequestedParameters: p}
	}
	kva := strID("SV4/CAGE/SV4:01:000001#KVA")
	rep := ua.MonitoringModeReporting
	cases := []struct {
		item *ua.MonitoredItemCreateRequest
		want ua.StatusCode
	}{
		{item(strID("nope"), ua.AttributeIDValue, "", rep, nil), ua.StatusBadNodeIDUnknown},
		{item(ua.NewNumericNodeID(42, 1), ua.AttributeIDValue, "", rep, nil), ua.StatusBadNodeIDUnknown},
		{item(strID("SV4/CAGE/SV4:01:000001"), ua.AttributeIDValue, "", rep, nil), ua.StatusBadAttributeIDInvalid},
		{item(kva, 99, "", rep, nil), ua.StatusBadAttributeIDInvalid},
		{item(kva, ua.AttributeIDValue, "a:b", rep, nil), ua.StatusBadIndexRangeInvalid},
		{item(kva, ua.AttributeIDValue, "", 7, nil), ua.StatusBadMonitoringModeInvalid},
		{item(kva, ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 9}), ua.StatusBadMonitoredItemFilterInvalid},
		{item(kva, ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 1, DeadbandType: 9}), ua.StatusBadDeadbandFilterInvalid},
		{item(kva, ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 1, DeadbandType: 1, DeadbandValue: -1}), ua.StatusBadDeadbandFilterInvalid},
		// percent deadband needs an EURange: a circuit's Amps has none, KVA has the capacity's
		{item(strID("SV4/CIRCUIT/SV4001011#Amps"), ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 1, DeadbandType: 2, DeadbandValue: 5}), ua.StatusBadMonitoredItemFilterUnsupported},
		{item(kva, ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 1, DeadbandType: 2, DeadbandValue: 5}), ua.StatusGood},
		{item(strID("SV4/CAGE/SV4:01:000001#Label"), ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 1, DeadbandType: 1, DeadbandValue: 1}), ua.StatusBadFilterNotAllowed},
		{item(strID("SV4/CAGE/SV4:01:000001"), ua.AttributeIDDisplayName, "", rep, &ua.DataChangeFilter{Trigger: 1}), ua.StatusBadFilterNotAllowed},
		{item(ua.NewNumericNodeID(0, id.Server), ua.AttributeIDEventNotifier, "", rep, &ua.EventFilter{}), ua.StatusBadEventFilterInvalid}, // no select clauses
		{item(strID("SV4/CAGE/SV4:01:000001#Humidity"), ua.AttributeIDValue, "", rep, &ua.DataChangeFilter{Trigger: 1, DeadbandType: 2, DeadbandValue: 5}), ua.StatusGood},
		{item(strID("SV4/CAGE/SV4:01:000001"), ua.AttributeIDDisplayName, "", rep, nil), ua.StatusGood},
		{nil, ua.StatusBadNodeIDUnknown},
		{&ua.MonitoredItemCreateRequest{}, ua.StatusBadNodeIDUnknown},
	}
	req := &ua.CreateMonitoredItemsRequest{SubscriptionID: sub}
	for _, cs := range cases {
		req.ItemsToCreate = append(req.ItemsToCreate, cs.item)
	}
	resp := c.call(req).(*ua.CreateMonitoredItemsResponse)
	for i, cs := range cases {
		if resp.Results[i].StatusCode != cs.want {
			t.Errorf("item %d: %v, want %v", i, resp.Results[i].StatusCode, cs.want)
		}
	}
	ok := resp.Results[len(cases)-3].MonitoredItemID
	for req, want := range map[ua.Request]ua.StatusCode{
		&ua.CreateMonitoredItemsRequest{SubscriptionID: 9999, ItemsToCreate: req.ItemsToCreate}:                       ua.StatusBadSubscriptionIDInvalid,
		&ua.CreateMonitoredItemsRequest{SubscriptionID: sub}:                                                          ua.StatusBadNothingToDo,
		&ua.CreateMonitoredItemsRequest{SubscriptionID: sub, TimestampsToReturn: 9, ItemsToCreate: req.ItemsToCreate}: ua.StatusBadTimestampsToReturnInvalid,
		&ua.DeleteMonitoredItemsRequest{SubscriptionID: 9999, MonitoredItemIDs: []uint32{ok}}:                         ua.StatusBadSubscriptionIDInvalid,
		&ua.ModifyMonitoredItemsRequest{SubscriptionID: 9999}:                                                         ua.StatusBadSubscriptionIDInvalid,
		&ua.SetMonitoringModeRequest{SubscriptionID: 9999}:                                                            ua.StatusBadSubscriptionIDInvalid,
		&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: 5, MonitoredItemIDs: []uint32{ok}}:          ua.StatusBadMonitoringModeInvalid,
	} {
		if r := c.call(req); serviceResult(r) != want {
			t.Errorf("%T: %v, want %v", req, serviceResult(r), want)
		}
	}
	// unknown item ids are answered per item (the request that crashed gopcua: DeleteMonitoredItems of an unknown id)
	del := c.call(&ua.DeleteMonitoredItemsRequest{SubscriptionID: sub, MonitoredItemIDs: []uint32{987654, ok}}).(*ua.DeleteMonitoredItemsResponse)
	if del.Results[0] != ua.StatusBadMonitoredItemIDInvalid || del.Results[1] != ua.StatusGood {
		t.Errorf("delete: %v", del.Results)
	}
	mod := c.call(&ua.ModifyMonitoredItemsRequest{SubscriptionID: sub, ItemsToModify: []*ua.MonitoredItemModifyRequest{
		{MonitoredItemID: ok}, nil}}).(*ua.ModifyMonitoredItemsResponse)
	if mod.Results[0].StatusCode != ua.StatusBadMonitoredItemIDInvalid || mod.Results[1].StatusCode != ua.StatusBadMonitoredItemIDInvalid {
		t.Errorf("modify deleted: %v", mod.Results)
	}
	mode := c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoredItemIDs: []uint32{ok}}).(*ua.SetMonitoringModeResponse)
	if mode.Results[0] != ua.StatusBadMonitoredItemIDInvalid {
		t.Errorf("set mode of deleted: %v", mode.Results)
	}
}

func TestMonitoredItemLimits(t *testing.T) {
	limits := testLimits()
	limits.MaxMonitoredItemsPerSubscription = 3
	limits.MaxMonitoredItemsPerCall = 4
	s, _ := newTestServices(t, limits)
	c := newClient(t, s, "lim")
	sub := c.subscribe(10, 1000)
	spec := itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", queue: 5000, sampling: 0}
	r := c.monitor(sub, spec, spec, spec, spec)
	for i, res := range r.Results {
		want := ua.StatusGood
		if i == 3 {
			want = ua.StatusBadTooManyMonitoredItems
		}
		if res.StatusCode != want {
			t.Errorf("item %d: %v", i, res.StatusCode)
		}
		if i < 3 && (res.RevisedQueueSize != 100 || res.RevisedSamplingInterval != 0) {
			t.Errorf("item %d revised queue %d sampling %v", i, res.RevisedQueueSize, res.RevisedSamplingInterval)
		}
	}
	if res := c.call(&ua.CreateMonitoredItemsRequest{SubscriptionID: sub, ItemsToCreate: make([]*ua.MonitoredItemCreateRequest, 5)}); serviceResult(res) != ua.StatusBadTooManyOperations {
		t.Errorf("5 items per call: %v", serviceResult(res))
	}
	// ids come from a counter
	ids := map[uint32]bool{}
	for _, res := range r.Results[:3] {
		ids[res.MonitoredItemID] = true
	}
	if len(ids) != 3 {
		t.Errorf("item ids %v", r.Results)
	}
}

func TestQueueOverflow(t *testing.T) {
	for _, oldest := range []bool{true, false} {
		t.Run(fmt.Sprint("discardOldest=", oldest), func(t *testing.T) {
			s, store := newTestServices(t, testLimits())
			c := newClient(t, s, "ovf")
			sub := c.subscribe(10, 1000)
			c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1, queue: 3, oldest: oldest, sampling: 0})
			c.call(&ua.SetPublishingModeRequest{SubscriptionIDs: []uint32{sub}, PublishingEnabled: false})
			for i := 1; i <= 5; i++ { // initial 10, then 1..5: six values for a queue of three
				setTag(t, store, "SV4.UPS-1:tag1", float64(i), t0.Add(time.Duration(i)*time.Second))
				waitSampled(t, s.state(c.sess).subscription(sub), float64(i))
			}
			c.call(&ua.SetPublishingModeRequest{SubscriptionIDs: []uint32{sub}, PublishingEnabled: true})
			_, items := c.data()
			var got []string
			for _, it := range items {
				s := fmt.Sprint(it.Value.Value.Value())
				if it.Value.Status&overflowBits == overflowBits {
					s += "!"
				}
				got = append(got, s)
			}
			want := "[3! 4 5]"
			if !oldest {
				want = "[10 1 5!]"
			}
			if fmt.Sprint(got) != want {
				t.Errorf("queue %v, want %s", got, want)
			}
		})
	}
}

// waitSampled waits until the change stream reader has sampled value v
// into the subscription's items (the reader samples the newest snapshot, so
// a test that wants every value queued must not outrun it).
func waitSampled(t *testing.T, sub *subscription, v float64) {
	t.Helper()
	for i := 0; i < int(wait/time.Millisecond); i++ {
		sub.mu.Lock()
		done := true
		for _, it := range sub.items {
			done = done && it.last != nil && it.last.v != nil && it.last.v.Value() == v
		}
		sub.mu.Unlock()
		if done {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("value %v never sampled", v)
}

func TestSamplingInterval(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "samp")
	sub := c.subscribe(10, 3)
	r := c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1, sampling: 3600000})
	if r.Results[0].RevisedSamplingInterval != 3600000 {
		t.Errorf("revised sampling %v", r.Results[0].RevisedSamplingInterval)
	}
	c.data() // the initial value
	setTag(t, store, "SV4.UPS-1:tag1", 1, t0.Add(time.Second))
	// within the hour the change is held back: keep-alives only
	for i := 0; i < 3; i++ {
		c.publish()
		if r := c.next().(*ua.PublishResponse); len(r.NotificationMessage.NotificationData) != 0 {
			t.Fatalf("a change within the sampling interval was reported")
		}
	}
	// a shorter interval lets it through
	mod := c.call(&ua.ModifyMonitoredItemsRequest{SubscriptionID: sub, TimestampsToReturn: ua.TimestampsToReturnSource,
		ItemsToModify: []*ua.MonitoredItemModifyRequest{{MonitoredItemID: r.Results[0].MonitoredItemID,
			RequestedParameters: &ua.MonitoringParameters{ClientHandle: 2, SamplingInterval: 0, QueueSize: 1, Filter: ua.NewExtensionObject(nil)}}}}).(*ua.ModifyMonitoredItemsResponse)
	if mod.Results[0].StatusCode != ua.StatusGood {
		t.Fatalf("modify: %v", mod.Results[0].StatusCode)
	}
	_, items := c.data()
	if len(items) != 1 || items[0].ClientHandle != 2 || items[0].Value.Value.Value() != 1.0 || !items[0].Value.ServerTimestamp.IsZero() {
		t.Errorf("after modify: %+v", items[0])
	}
}

func TestFilters(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "filt")
	sub := c.subscribe(10, 1000)
	c.monitor(sub,
		itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1, filter: &ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: 1, DeadbandValue: 5}},
		itemSpec{id: "SV4/TAG/SV4.UPS-1:tag2", handle: 2, filter: &ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatus}},
		itemSpec{id: "SV4/TAG/SV4.UPS-2:tag1", handle: 3, filter: &ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValueTimestamp}},
		itemSpec{id: "SV4/TAG/SV4.UPS-2:tag2", handle: 4})
	c.data()
	store.Update(func(tx *model.Tx) error {
		at := t0.Add(time.Second)
		tx.SetTag("SV4.UPS-1:tag1", model.TagReading{Value: model.Number(14), ReadingTime: at}, time.Time{}) // within deadband 5 of 10
		tx.SetTag("SV4.UPS-1:tag2", model.TagReading{Value: model.Number(99), ReadingTime: at}, time.Time{}) // value only: trigger Status
		tx.SetTag("SV4.UPS-2:tag1", model.TagReading{Value: model.Number(10), ReadingTime: at}, time.Time{}) // timestamp only
		tx.SetTag("SV4.UPS-2:tag2", model.TagReading{Value: model.Number(10), ReadingTime: at}, time.Time{}) // timestamp only
		return nil
	})
	setTag(t, store, "SV4.UPS-1:tag1", 16, t0.Add(2*time.Second)) // beyond the deadband
	_, items := c.data()
	got := map[uint32]any{}
	for _, it := range items {
		got[it.ClientHandle] = it.Value.Value.Value()
	}
	if fmt.Sprint(got) != "map[1:16 3:10]" {
		t.Errorf("reported %v", got)
	}
	// a status change passes every trigger
	store.Update(func(tx *model.Tx) error { tx.MarkStale("SV4", model.KindTags); return nil })
	_, items = c.data()
	if len(items) != 4 {
		t.Errorf("stale marks reported for %d of 4 items", len(items))
	}
	for _, it := range items {
		if it.Value.Status != ua.StatusUncertainLastUsableValue {
			t.Errorf("item %d: %v", it.ClientHandle, it.Value.Status)
		}
	}
}

func TestQualityAndHealthNotify(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "q")
	sub := c.subscribe(10, 1000)
	c.monitor(sub, itemSpec{id: "SV4/CAGE/SV4:01:000001#KVA", handle: 1}, itemSpec{id: "Gateway#Upstream", handle: 2})
	c.data()
	store.Update(func(tx *model.Tx) error { tx.SetUpstream(model.UpstreamDown, "timeout"); return nil })
	_, items := c.data()
	got := map[uint32]string{}
	for _, it := range items {
		got[it.ClientHandle] = fmt.Sprint(it.Value.Status, " ", it.Value.Value.Value())
	}
	if got[1] != fmt.Sprint(ua.StatusUncertainNoCommunicationLastUsableValue, " 10") || got[2] != fmt.Sprint(ua.StatusGood, " down") {
		t.Errorf("upstream down: %v", got)
	}
}

func TestMonitoringMode(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "mode")
	sub := c.subscribe(10, 2)
	r := c.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1})
	mid := r.Results[0].MonitoredItemID
	c.data()
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeDisabled, MonitoredItemIDs: []uint32{mid}})
	setTag(t, store, "SV4.UPS-1:tag1", 5, t0.Add(time.Second))
	for i := 0; i < 3; i++ {
		c.publish()
		if r := c.next().(*ua.PublishResponse); len(r.NotificationMessage.NotificationData) != 0 {
			t.Fatal("a disabled item reported")
		}
	}
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeReporting, MonitoredItemIDs: []uint32{mid}})
	if _, items := c.data(); len(items) != 1 || items[0].Value.Value.Value() != 5.0 {
		t.Errorf("re-enabled: %v", items)
	}
	// Sampling: values queue up but are reported only in Reporting mode
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeSampling, MonitoredItemIDs: []uint32{mid}})
	setTag(t, store, "SV4.UPS-1:tag1", 6, t0.Add(2*time.Second))
	c.publish()
	if r := c.next().(*ua.PublishResponse); len(r.NotificationMessage.NotificationData) != 0 {
		t.Fatal("a sampling item reported")
	}
	c.call(&ua.SetMonitoringModeRequest{SubscriptionID: sub, MonitoringMode: ua.MonitoringModeReporting, MonitoredItemIDs: []uint32{mid}})
	if _, items := c.data(); len(items) != 1 || items[0].Value.Value.Value() != 6.0 {
		t.Errorf("sampled then reported: %v", items)
	}
}

func TestStructureChangeReresolves(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "struct")
	sub := c.subscribe(10, 1000)
	c.monitor(sub, itemSpec{id: "SV4/CAGE/SV4:01:000001#KVA", handle: 1}, itemSpec{id: "SV4/TAG/SV4.UPS-2:tag1", handle: 2})
	c.data()
	shrunk := footprint("SV4", 1, 2, 2, 2, 3) // cage 1 and asset 2 disappear
	store.Update(func(tx *model.Tx) error { tx.SetStructure(map[string]model.IBXStructure{"SV4": shrunk}); return nil })
	_, items := c.data()
	for _, it := range items {
		if it.Value.Status != ua.StatusBadNodeIDUnknown {
			t.Errorf("removed node %d: %v", it.ClientHandle, it.Value.Status)
		}
	}
	store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{"SV4": footprint("SV4", 2, 2, 2, 3, 3)})
		return nil
	})
	setTag(t, store, "SV4.UPS-2:tag1", 7, t0.Add(time.Minute))
	got := map[uint32]ua.StatusCode{}
	for i := 0; i < 100 && len(got) < 2; i++ {
		_, items := c.data()
		for _, it := range items {
			got[it.ClientHandle] = it.Value.Status
		}
	}
	// the cage is back without a reading; the tag has a new one
	if got[1] != ua.StatusBadWaitingForInitialData || got[2] != ua.StatusGood {
		t.Errorf("back: %v", got)
	}
}

func TestAlarmMonitoring(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	obs := model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-0", Condition: "On Battery", Severity: model.SeverityHigh,
		Active: true, Triggered: t0, Processed: t0}
	store.Update(func(tx *model.Tx) error { tx.ObserveAlarm(obs, "feed"); return nil })
	c := newClient(t, s, "alarm")
	sub := c.subscribe(10, 1000)
	c.monitor(sub, itemSpec{id: "SV4/ALARM/1#State", handle: 1})
	if _, items := c.data(); items[0].Value.Value.Value() != "active" {
		t.Fatalf("initial: %v", items[0].Value.Value)
	}
	obs.Acknowledged = true
	store.Update(func(tx *model.Tx) error { tx.ObserveAlarm(obs, "feed"); return nil })
	if _, items := c.data(); items[0].Value.Value.Value() != "acknowledged" {
		t.Errorf("acknowledged: %v", items[0].Value.Value)
	}
}

// TestSlowClientDoesNotStall: a client that never reads its responses
// blocks only its own subscription; the change stream and other clients go on.
func TestSlowClientDoesNotStall(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	stuck := make(chan struct{})
	defer close(stuck)
	slow := &uaserver.Session{Name: "slow"}
	serve(t, s, slow, &ua.CreateSubscriptionRequest{RequestedPublishingInterval: 10, RequestedMaxKeepAliveCount: 1000})
	serve(t, s, slow, &ua.CreateMonitoredItemsRequest{SubscriptionID: s.subIDs.Load(), ItemsToCreate: []*ua.MonitoredItemCreateRequest{{
		ItemToMonitor: rv(strID("SV4/TAG/SV4.UPS-1:tag1"), ua.AttributeIDValue), MonitoringMode: ua.MonitoringModeReporting,
		RequestedParameters: &ua.MonitoringParameters{QueueSize: 10, Filter: ua.NewExtensionObject(nil)}}}})
	for i := 0; i < 3; i++ {
		s.Serve(uaserver.NewRequest(slow, &ua.PublishRequest{}, func(ua.Response) error { <-stuck; return nil }))
	}
	fast := newClient(t, s, "fast")
	sub := fast.subscribe(10, 1000)
	fast.monitor(sub, itemSpec{id: "SV4/TAG/SV4.UPS-1:tag1", handle: 1})
	fast.data()
	for i := 0; i < 200; i++ {
		setTag(t, store, "SV4.UPS-1:tag1", float64(i), t0.Add(time.Duration(i)*time.Second))
	}
	var last any
	for i := 0; i < 100 && last != 199.0; i++ {
		_, items := fast.data()
		last = items[len(items)-1].Value.Value.Value()
	}
	if last != 199.0 {
		t.Errorf("fast client's last value %v", last)
	}
}

func TestManyMonitoredItems(t *testing.T) {
	store := newStore(t, map[string]model.IBXStructure{"SV4": footprint("SV4", 1, 1, 1, 600, 11)})
	fill(t, store, t0, 1)
	s, err := newServices(store, testLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.wg.Wait)
	c := newClient(t, s, "many")
	t.Cleanup(func() { s.SessionClosed(c.sess, true) })
	sub := c.subscribe(50, 1000)
	var specs []itemSpec
	for _, tag := range store.Snapshot().Structure().Tags() {
		if tag.Unit != "" {
			specs = append(specs, itemSpec{id: "SV4/TAG/" + tag.ID, handle: uint32(len(specs))})
		}
	}
	if len(specs) != 6000 {
		t.Fatalf("%d items", len(specs))
	}
	r := c.monitor(sub, specs...)
	for _, res := range r.Results {
		if res.StatusCode != ua.StatusGood {
			t.Fatalf("create: %v", res.StatusCode)
		}
	}
	count := func() map[uint32]bool {
		seen := map[uint32]bool{}
		for i := 0; i < 100 && len(seen) < 6000; i++ {
			_, items := c.data()
			for _, it := range items {
				seen[it.ClientHandle] = true
			}
		}
		return seen
	}
	if n := len(count()); n != 6000 {
		t.Fatalf("initial values for %d of 6000", n)
	}
	fill(t, store, t0.Add(time.Minute), 2)
	if n := len(count()); n != 6000 {
		t.Errorf("changes for %d of 6000", n)
	}
}
