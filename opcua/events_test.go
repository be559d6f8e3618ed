package opcua

import (
	"fmt"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

func qn(ns uint16, names ...string) []*ua.QualifiedName {
	var out []*ua.QualifiedName
	for _, n := range names {
		out = append(out, &ua.QualifiedName{NamespaceIndex: ns, Name: n})
	}
	return out
}

func sel(ns uint16, names ...string) *ua.SimpleAttributeOperand {
	return &ua.SimpleAttributeOperand{TypeDefinitionID: ns0(id.BaseEventType), BrowsePath: qn(ns, names...), AttributeID: ua.AttributeIDValue}
}

func elem(op ua.FilterOperator, operands ...any) *ua.ContentFilterElement {
	el := &ua.ContentFilterElement{FilterOperator: op}
	for _, o := range operands {
		el.FilterOperands = append(el.FilterOperands, ua.NewExtensionObject(o))
	}
	return el
}

func lit(v any) *ua.LiteralOperand { return &ua.LiteralOperand{Value: ua.MustVariant(v)} }

// eventFields are the select clauses of the tests: EventId, EventType,
// Severity, Message, ActiveState/Id, AckedState/Id, Retain, ConditionId,
// SmartView's AlarmId.
func eventFields() []*ua.SimpleAttributeOperand {
	return []*ua.SimpleAttributeOperand{sel(0, "EventId"), sel(0, "EventType"), sel(0, "Severity"), sel(0, "Message"),
		sel(0, "ActiveState", "Id"), sel(0, "AckedState", "Id"), sel(0, "Retain"),
		{TypeDefinitionID: ns0(id.ConditionType), AttributeID: ua.AttributeIDNodeID}, sel(nsTypes, "AlarmId"), sel(0, "ClientUserId")}
}

func testAlarm() *model.Alarm {
	return &model.Alarm{ID: 7, Seq: 42, IBX: "SV4", AssetID: "SV4.UPS-0", Condition: "On Battery", Severity: model.SeverityUrgent,
		State: model.AlarmActive, Triggered: t0}
}

// TestWhereClause evaluates where clauses on one alarm event, table-driven.
func TestWhereClause(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := s.ctx()
	e := c.alarmEvent(testAlarm(), model.AlarmRaised, t0)
	cases := []struct {
		name string
		els  []*ua.ContentFilterElement
		want bool
	}{
		{"none", nil, true},
		{"OfType AlarmConditionType", []*ua.ContentFilterElement{elem(ua.FilterOperatorOfType, lit(ns0(id.AlarmConditionType)))}, true},
		{"OfType BaseEventType", []*ua.ContentFilterElement{elem(ua.FilterOperatorOfType, lit(ns0(id.BaseEventType)))}, true},
		{"OfType RefreshStartEventType", []*ua.ContentFilterElement{elem(ua.FilterOperatorOfType, lit(ns0(id.RefreshStartEventType)))}, false},
		{"Severity >= 800 (UInt16 vs Int32)", []*ua.ContentFilterElement{elem(ua.FilterOperatorGreaterThanOrEqual, sel(0, "Severity"), lit(int32(800)))}, true},
		{"Severity >= 901", []*ua.ContentFilterElement{elem(ua.FilterOperatorGreaterThanOrEqual, sel(0, "Severity"), lit(uint16(901)))}, false},
		{"IBX equals", []*ua.ContentFilterElement{elem(ua.FilterOperatorEquals, sel(nsTypes, "IBX"), lit("SV4"))}, true},
		{"IBX equals other", []*ua.ContentFilterElement{elem(ua.FilterOperatorEquals, sel(nsTypes, "IBX"), lit("DC2"))}, false},
		{"Not", []*ua.ContentFilterElement{elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 1}),
			elem(ua.FilterOperatorEquals, sel(nsTypes, "IBX"), lit("DC2"))}, true},
		{"operands out of order", []*ua.ContentFilterElement{elem(ua.FilterOperatorAnd, &ua.ElementOperand{Index: 2}, &ua.ElementOperand{Index: 1}),
			elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 2}),
			elem(ua.FilterOperatorEquals, sel(nsTypes, "IBX"), lit("DC2"))}, false},
		{"And", []*ua.ContentFilterElement{elem(ua.FilterOperatorAnd, &ua.ElementOperand{Index: 1}, &ua.ElementOperand{Index: 2}),
			elem(ua.FilterOperatorOfType, lit(ns0(id.ConditionType))),
			elem(ua.FilterOperatorEquals, sel(0, "ActiveState", "Id"), lit(true))}, true},
		{"And false", []*ua.ContentFilterElement{elem(ua.FilterOperatorAnd, &ua.ElementOperand{Index: 1}, &ua.ElementOperand{Index: 2}),
			elem(ua.FilterOperatorOfType, lit(ns0(id.ConditionType))),
			elem(ua.FilterOperatorEquals, sel(0, "AckedState", "Id"), lit(true))}, false},
		{"Or", []*ua.ContentFilterElement{elem(ua.FilterOperatorOr, &ua.ElementOperand{Index: 1}, &ua.ElementOperand{Index: 2}),
			elem(ua.FilterOperatorEquals, sel(nsTypes, "IBX"), lit("DC2")),
			elem(ua.FilterOperatorEquals, sel(nsTypes, "AlarmId"), lit(uint64(7)))}, true},
		{"unknown field is null", []*ua.ContentFilterElement{elem(ua.FilterOperatorIsNull, sel(0, "NoSuchField"))}, true},
		{"InList", []*ua.ContentFilterElement{elem(ua.FilterOperatorInList, sel(nsTypes, "Condition"), lit("Fire"), lit("On Battery"))}, true},
		{"message text", []*ua.ContentFilterElement{elem(ua.FilterOperatorEquals, sel(0, "ConditionName"), lit(ua.NewLocalizedText("On Battery")))}, true},
		{"type mismatch is false", []*ua.ContentFilterElement{elem(ua.FilterOperatorEquals, sel(0, "Severity"), lit("900"))}, false},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			f, res, code := compileEventFilter(&ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: cs.els}})
			if code != ua.StatusGood {
				t.Fatalf("compile: %v %+v", code, res.WhereClauseResult.ElementResults)
			}
			if got := f.matches(e); got != cs.want {
				t.Errorf("matches = %v, want %v", got, cs.want)
			}
		})
	}
}

// TestFilterErrors: bad filters get their specific status codes.
func TestFilterErrors(t *testing.T) {
	cases := []struct {
		name     string
		f        *ua.EventFilter
		code     ua.StatusCode
		selects  []ua.StatusCode // nil: not checked
		elements []ua.StatusCode // nil: no element results
	}{
		{"no select clauses", &ua.EventFilter{}, ua.StatusBadEventFilterInvalid, nil, nil},
		{"unknown browse path", &ua.EventFilter{SelectClauses: []*ua.SimpleAttributeOperand{sel(0, "EventId"), sel(0, "Nope"),
			{TypeDefinitionID: ns0(id.Server), BrowsePath: qn(0, "EventId"), AttributeID: ua.AttributeIDValue},
			{TypeDefinitionID: ns0(id.BaseEventType), BrowsePath: qn(0, "EventId"), AttributeID: ua.AttributeIDDisplayName},
			{TypeDefinitionID: ns0(id.BaseEventType), BrowsePath: qn(0, "EventId"), AttributeID: ua.AttributeIDValue, IndexRange: "x"}}},
			ua.StatusGood, []ua.StatusCode{ua.StatusGood, ua.StatusBadNodeIDUnknown, ua.StatusBadTypeDefinitionInvalid,
				ua.StatusBadAttributeIDInvalid, ua.StatusBadIndexRangeInvalid}, nil},
		{"unsupported operator", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorAnd, &ua.ElementOperand{Index: 1}, &ua.ElementOperand{Index: 2}),
			elem(ua.FilterOperatorLike, sel(0, "SourceName"), lit("UPS%")),
			elem(ua.FilterOperatorOfType, lit(ns0(id.BaseEventType)))}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusGood, ua.StatusBadFilterOperatorUnsupported, ua.StatusGood}},
		{"operand count", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorEquals, sel(0, "Severity"))}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusBadFilterOperandCountMismatch}},
		{"element out of range", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 5})}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusBadFilterOperandInvalid}},
		{"element refers to itself", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 0})}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusBadFilterOperandInvalid}},
		{"element cycle", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 1}), elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 2}),
			elem(ua.FilterOperatorNot, &ua.ElementOperand{Index: 1})}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusGood, ua.StatusGood, ua.StatusBadFilterOperandInvalid}},
		{"OfType of a string", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorOfType, lit("AlarmConditionType"))}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusBadFilterOperandInvalid}},
		{"not an operand", &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
			elem(ua.FilterOperatorIsNull, &ua.ReadValueID{})}}},
			ua.StatusBadEventFilterInvalid, nil, []ua.StatusCode{ua.StatusBadFilterOperandInvalid}},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			_, res, code := compileEventFilter(cs.f)
			if code != cs.code {
				t.Fatalf("status %v, want %v", code, cs.code)
			}
			if cs.selects != nil && fmt.Sprint(res.SelectClauseResults) != fmt.Sprint(cs.selects) {
				t.Errorf("select results %v, want %v", res.SelectClauseResults, cs.selects)
			}
			var got []ua.StatusCode
			for _, r := range res.WhereClauseResult.ElementResults {
				got = append(got, r.StatusCode)
			}
			if fmt.Sprint(got) != fmt.Sprint(cs.elements) {
				t.Errorf("element results %v, want %v", got, cs.elements)
			}
		})
	}
}

// events publishes until a message with events arrives and returns them.
func (c *client) events() []*ua.EventFieldList {
	c.t.Helper()
	for i := 0; i < 1000; i++ {
		c.publish()
		r, ok := c.next().(*ua.PublishResponse)
		if !ok {
			c.t.Fatalf("Publish: %v", serviceResult(r))
		}
		for _, nd := range r.NotificationMessage.NotificationData {
			if l, ok := nd.Value.(*ua.EventNotificationList); ok {
				return l.Events
			}
		}
	}
	c.t.Fatal("no events within 1000 Publish requests")
	return nil
}

func (c *client) monitorEvents(sub uint32, n *ua.NodeID, f *ua.EventFilter) *ua.MonitoredItemCreateResult {
	c.t.Helper()
	r := c.call(&ua.CreateMonitoredItemsRequest{SubscriptionID: sub, ItemsToCreate: []*ua.MonitoredItemCreateRequest{{
		ItemToMonitor: rv(n, ua.AttributeIDEventNotifier), MonitoringMode: ua.MonitoringModeReporting,
		RequestedParameters: &ua.MonitoringParameters{ClientHandle: 5, QueueSize: 0, Filter: ua.NewExtensionObject(f)}}}})
	resp, ok := r.(*ua.CreateMonitoredItemsResponse)
	if !ok {
		c.t.Fatalf("CreateMonitoredItems: %v", serviceResult(r))
	}
	return resp.Results[0]
}

func callMethod(c *client, obj *ua.NodeID, method uint32, args ...any) *ua.CallMethodResult {
	c.t.Helper()
	m := &ua.CallMethodRequest{ObjectID: obj, MethodID: ns0(method)}
	for _, a := range args {
		m.InputArguments = append(m.InputArguments, ua.MustVariant(a))
	}
	r, ok := c.call(&ua.CallRequest{MethodsToCall: []*ua.CallMethodRequest{m}}).(*ua.CallResponse)
	if !ok {
		c.t.Fatal("Call refused")
	}
	return r.Results[0]
}

// TestAlarmEventsRefreshAndAcknowledge: transitions arrive as events on the
// Server object and on the asset, not on another asset; ConditionRefresh
// brackets the retained conditions; Acknowledge needs the operator role.
func TestAlarmEventsRefreshAndAcknowledge(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	s.roleOf = func(u string) string { return map[string]string{"op": roleOperator}[u] }
	c := newClient(t, s, "events")
	sub := c.subscribe(10, 1000)
	f := &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
		elem(ua.FilterOperatorOfType, lit(ns0(id.AlarmConditionType)))}}}
	if r := c.monitorEvents(sub, ns0(id.Server), f); r.StatusCode != ua.StatusGood {
		t.Fatalf("event item on Server: %v", r.StatusCode)
	}
	if r := c.monitorEvents(sub, strID("SV4/CAGE/SV4:01:000001"), f); r.StatusCode != ua.StatusBadFilterNotAllowed {
		t.Errorf("event item on a cage: %v", r.StatusCode)
	}
	obs := model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-0", Condition: "On Battery", Severity: model.SeverityUrgent,
		Active: true, Triggered: t0, Processed: t0}
	store.Update(func(tx *model.Tx) error { tx.ObserveAlarm(obs, "feed"); return nil })
	evs := c.events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	f0 := evs[0].EventFields
	if f0[2].Value() != uint16(900) || f0[4].Value() != true || f0[5].Value() != false || f0[6].Value() != true ||
		f0[8].Value() != uint64(1) || !sameNodeID(f0[7].Value().(*ua.NodeID), strID("SV4/ALARM/1")) {
		t.Fatalf("raised event fields %v", f0)
	}
	evID := f0[0].Value().([]byte)

	// The condition's node serves its state, the asset references it, and
	// each notifier says what it supports.
	for member, want := range map[string]any{"#ActiveState#Id": true, "#AckedState#Id": false, "#Retain": true,
		"#ConditionName": "On Battery", "#Severity": "Urgent", "#LastSeverity": uint16(900), "#IBX": "SV4"} {
		if dv := value(t, s, strID("SV4/ALARM/1"+member)); dv.Value == nil || dv.Value.Value() != want {
			t.Errorf("alarm 1%s = %v %v, want %v", member, dv.Value, dv.Status, want)
		}
	}
	if dv := value(t, s, strID("SV4/ALARM/1#EventType")); dv.Value == nil || !sameNodeID(dv.Value.Value().(*ua.NodeID), evAlarm) {
		t.Errorf("alarm 1 EventType %v", dv.Value)
	}
	conds := browse(t, s, c.sess, 0, browseReq(strID("SV4/ASSET/SV4.UPS-0"), ua.BrowseDirectionForward, ns0(id.HasCondition), false))[0]
	if len(conds.References) != 1 || conds.References[0].NodeID.NodeID.StringID() != "SV4/ALARM/1" {
		t.Errorf("HasCondition of the asset: %v", conds.References)
	}
	for n, want := range map[*ua.NodeID]uint8{ns0(id.Server): 5, strID("SmartView"): 5, strID("SV4/IBX/SV4"): 5,
		strID("SV4/ASSET/SV4.UPS-0"): 5, strID("SV4/CAGE/SV4:01:000001"): 0} {
		if dv := read(t, s, c.sess, ua.TimestampsToReturnNeither, rv(n, ua.AttributeIDEventNotifier))[0]; dv.Value == nil || dv.Value.Value() != want {
			t.Errorf("EventNotifier of %v = %v, want %d", n, dv.Value, want)
		}
	}

	// ConditionRefresh: start, the one condition, end — on this
	// subscription only, not on another session's.
	other := newClient(t, s, "other")
	otherSub := other.subscribe(10, 1000)
	otherItem := other.monitorEvents(otherSub, ns0(id.Server), f)
	if r := callMethod(c, ns0(id.ConditionType), id.ConditionType_ConditionRefresh, sub); r.StatusCode != ua.StatusGood {
		t.Fatalf("ConditionRefresh: %v", r.StatusCode)
	}
	os := s.state(other.sess).subscription(otherSub)
	os.mu.Lock()
	if q := len(os.items[otherItem.MonitoredItemID].ev.events); q != 0 {
		t.Errorf("another session's item got %d refresh events", q)
	}
	os.mu.Unlock()
	if r := callMethod(other, ns0(id.Server), id.ConditionType_ConditionRefresh, sub); r.StatusCode != ua.StatusBadSubscriptionIDInvalid {
		t.Errorf("ConditionRefresh of another session's subscription: %v", r.StatusCode)
	}
	evs = c.events()
	if len(evs) != 3 || !sameNodeID(evs[0].EventFields[1].Value().(*ua.NodeID), evRefreshStart) ||
		!sameNodeID(evs[2].EventFields[1].Value().(*ua.NodeID), evRefreshEnd) || string(evs[1].EventFields[0].Value().([]byte)) != string(evID) {
		t.Fatalf("refresh events %v", evs)
	}

	// Acknowledge: refused to anonymous, bad arguments, then an operator.
	cond := strID("SV4/ALARM/1")
	comment := ua.NewLocalizedText("on it")
	if r := callMethod(c, cond, id.AcknowledgeableConditionType_Acknowledge, evID, comment); r.StatusCode != ua.StatusBadUserAccessDenied {
		t.Errorf("anonymous Acknowledge: %v", r.StatusCode)
	}
	c.sess.User = "op"
	for _, cs := range []struct {
		obj    *ua.NodeID
		method uint32
		args   []any
		want   ua.StatusCode
	}{
		{cond, id.AcknowledgeableConditionType_Acknowledge, []any{evID}, ua.StatusBadArgumentsMissing},
		{cond, id.AcknowledgeableConditionType_Acknowledge, []any{evID, comment, "x"}, ua.StatusBadTooManyArguments},
		{cond, id.AcknowledgeableConditionType_Acknowledge, []any{"not bytes", comment}, ua.StatusBadInvalidArgument},
		{cond, id.AcknowledgeableConditionType_Acknowledge, []any{[]byte("forged"), comment}, ua.StatusBadEventIDUnknown},
		{strID("SV4/ALARM/99"), id.AcknowledgeableConditionType_Acknowledge, []any{evID, comment}, ua.StatusBadNodeIDUnknown},
		{ns0(id.Server), id.AcknowledgeableConditionType_Acknowledge, []any{evID, comment}, ua.StatusBadMethodInvalid},
		{cond, 12345, []any{evID, comment}, ua.StatusBadMethodInvalid},
		{ns0(id.Server), id.ConditionType_ConditionRefresh, []any{uint32(999)}, ua.StatusBadSubscriptionIDInvalid},
		{ns0(id.Server), id.ConditionType_ConditionRefresh2, []any{sub, uint32(999)}, ua.StatusBadMonitoredItemIDInvalid},
	} {
		if r := callMethod(c, cs.obj, cs.method, cs.args...); r.StatusCode != cs.want {
			t.Errorf("Call %v %d %v: %v, want %v", cs.obj, cs.method, cs.args, r.StatusCode, cs.want)
		}
	}
	if r := callMethod(c, cond, id.AcknowledgeableConditionType_Acknowledge, evID, comment); r.StatusCode != ua.StatusGood {
		t.Fatalf("operator Acknowledge: %v", r.StatusCode)
	}
	if r := callMethod(c, cond, id.AcknowledgeableConditionType_Acknowledge, evID, comment); r.StatusCode != ua.StatusBadConditionBranchAlreadyAcked {
		t.Errorf("second Acknowledge: %v", r.StatusCode)
	}
	evs = c.events()
	if len(evs) != 1 || evs[0].EventFields[5].Value() != true || evs[0].EventFields[9].Value() != "op" {
		t.Fatalf("acknowledged event %v", evs)
	}
	a := store.Snapshot().Alarms()[0]
	if !a.OperatorAcked() || a.Operator.AckUser != "op" || a.Operator.Comment != "on it" || a.State != model.AlarmActive {
		t.Errorf("alarm after operator ack: %+v %+v", a, a.Operator)
	}

	// AddComment: an operator's comment is an event too; others are refused.
	if r := callMethod(c, cond, id.ConditionType_AddComment, evID, ua.NewLocalizedText("fuel ordered")); r.StatusCode != ua.StatusGood {
		t.Fatalf("AddComment: %v", r.StatusCode)
	}
	evs = c.events()
	if len(evs) != 1 || evs[0].EventFields[9].Value() != "op" || evs[0].EventFields[5].Value() != true {
		t.Fatalf("comment event %v", evs)
	}
	if a := store.Snapshot().Alarms()[0]; a.Operator.Comment != "fuel ordered" || a.Operator.AckUser != "op" {
		t.Errorf("after AddComment: %+v", a.Operator)
	}
	c.sess.User = "viewer"
	if r := callMethod(c, cond, id.ConditionType_AddComment, evID, comment); r.StatusCode != ua.StatusBadUserAccessDenied {
		t.Errorf("AddComment by a read-only user: %v", r.StatusCode)
	}
	c.sess.User = "op"

	// GetMonitoredItems lists the subscription's items.
	r := callMethod(c, ns0(id.Server), id.Server_GetMonitoredItems, sub)
	if r.StatusCode != ua.StatusGood || len(r.OutputArguments) != 2 || len(r.OutputArguments[1].Value().([]uint32)) != 1 ||
		r.OutputArguments[1].Value().([]uint32)[0] != 5 {
		t.Errorf("GetMonitoredItems: %v %v", r.StatusCode, r.OutputArguments)
	}
}

func readEventHistory(c *client, d any, cp []byte, nodes ...*ua.NodeID) (*ua.HistoryReadResponse, ua.StatusCode) {
	c.t.Helper()
	req := &ua.HistoryReadRequest{HistoryReadDetails: ua.NewExtensionObject(d), TimestampsToReturn: ua.TimestampsToReturnBoth}
	for _, n := range nodes {
		req.NodesToRead = append(req.NodesToRead, &ua.HistoryReadValueID{NodeID: n, ContinuationPoint: cp})
	}
	r := c.call(req)
	resp, ok := r.(*ua.HistoryReadResponse)
	if !ok {
		return nil, serviceResult(r)
	}
	return resp, ua.StatusGood
}

// TestHistoryReadEvents: alarm events of a time range from the ledger,
// filtered as live events, paged by continuation points; bad ranges and
// forged points get their codes.
func TestHistoryReadEvents(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "history")
	store.Update(func(tx *model.Tx) error {
		for i := range 3 {
			tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: fmt.Sprint("SV4.UPS-", i), Condition: "On Battery",
				Severity: model.SeverityHigh, Active: true, Triggered: t0.Add(time.Duration(i) * time.Minute), Processed: t0}, "feed")
		}
		return nil
	})
	store.Update(func(tx *model.Tx) error { return tx.OperatorAcknowledge(1, "op", "seen") })
	store.Update(func(tx *model.Tx) error {
		tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-2", Condition: "On Battery", Active: false,
			Triggered: t0.Add(2 * time.Minute), Processed: t0.Add(time.Hour), Cleared: t0.Add(time.Hour)}, "feed")
		return nil
	})
	all := &ua.EventFilter{SelectClauses: eventFields()}
	d := &ua.ReadEventDetails{StartTime: t0.Add(-time.Hour), EndTime: time.Now().Add(time.Hour), Filter: all}
	resp, code := readEventHistory(c, d, nil, ns0(id.Server), strID("SV4/ASSET/SV4.UPS-2"), strID("SV4/CAGE/SV4:01:000001"), strID("nope"))
	if code != ua.StatusGood {
		t.Fatalf("HistoryRead: %v", code)
	}
	kinds := func(r *ua.HistoryReadResult) []string {
		var out []string
		for _, e := range r.HistoryData.Value.(*ua.HistoryEvent).Events {
			out = append(out, fmt.Sprintf("%v/%v/%v", e.EventFields[8].Value(), e.EventFields[4].Value(), e.EventFields[5].Value()))
		}
		return out
	}
	// raised 1, 2, 3 (by trigger time), operator ack of 1 (now), clear of 3 (t0+1h)
	if got := fmt.Sprint(kinds(resp.Results[0])); got != "[1/true/false 2/true/false 3/true/false 3/false/false 1/true/true]" {
		t.Errorf("Server history %s", got)
	}
	if got := fmt.Sprint(kinds(resp.Results[1])); got != "[3/true/false 3/false/false]" {
		t.Errorf("asset history %s", got)
	}
	if resp.Results[2].StatusCode != ua.StatusBadHistoryOperationUnsupported || resp.Results[3].StatusCode != ua.StatusBadNodeIDUnknown {
		t.Errorf("cage, unknown node: %v %v", resp.Results[2].StatusCode, resp.Results[3].StatusCode)
	}

	// where clause: only the clear
	f := &ua.EventFilter{SelectClauses: eventFields(), WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{
		elem(ua.FilterOperatorEquals, sel(0, "ActiveState", "Id"), lit(false))}}}
	resp, _ = readEventHistory(c, &ua.ReadEventDetails{StartTime: d.StartTime, EndTime: d.EndTime, Filter: f}, nil, ns0(id.Server))
	if got := fmt.Sprint(kinds(resp.Results[0])); got != "[3/false/false]" {
		t.Errorf("filtered history %s", got)
	}

	// paging: two per response
	paged := &ua.ReadEventDetails{StartTime: d.StartTime, EndTime: d.EndTime, NumValuesPerNode: 2, Filter: all}
	var got []string
	var cp []byte
	for range 5 {
		resp, _ = readEventHistory(c, paged, cp, ns0(id.Server))
		got = append(got, kinds(resp.Results[0])...)
		if cp = resp.Results[0].ContinuationPoint; cp == nil {
			break
		}
	}
	if fmt.Sprint(got) != "[1/true/false 2/true/false 3/true/false 3/false/false 1/true/true]" {
		t.Errorf("paged history %v", got)
	}

	// bad input
	resp, _ = readEventHistory(c, paged, nil, ns0(id.Server))
	good := resp.Results[0].ContinuationPoint
	forged := append([]byte{}, good...)
	forged[5] ^= 1
	for name, cs := range map[string]struct {
		d    any
		cp   []byte
		want ua.StatusCode
	}{
		"inverted":    {&ua.ReadEventDetails{StartTime: d.EndTime, EndTime: d.StartTime, Filter: all}, nil, ua.StatusBadInvalidTimestampArgument},
		"no bounds":   {&ua.ReadEventDetails{Filter: all}, nil, ua.StatusBadInvalidTimestampArgument},
		"open end":    {&ua.ReadEventDetails{StartTime: t0, Filter: all}, nil, ua.StatusBadInvalidTimestampArgument},
		"no filter":   {&ua.ReadEventDetails{StartTime: d.StartTime, EndTime: d.EndTime}, nil, ua.StatusBadEventFilterInvalid},
		"forged cp":   {paged, forged, ua.StatusBadContinuationPointInvalid},
		"garbage cp":  {paged, []byte("xyz"), ua.StatusBadContinuationPointInvalid},
		"other range": {&ua.ReadEventDetails{StartTime: d.StartTime.Add(time.Second), EndTime: d.EndTime, NumValuesPerNode: 2, Filter: all}, good, ua.StatusBadContinuationPointInvalid},
		"raw":         {&ua.ReadRawModifiedDetails{StartTime: t0, EndTime: time.Now()}, nil, ua.StatusBadHistoryOperationUnsupported},
	} {
		resp, code := readEventHistory(c, cs.d, cs.cp, ns0(id.Server))
		if code != ua.StatusGood || resp.Results[0].StatusCode != cs.want {
			t.Errorf("%s: %v %v, want %v", name, code, resp.Results[0].StatusCode, cs.want)
		}
	}
	// a huge range is served, bounded
	resp, _ = readEventHistory(c, &ua.ReadEventDetails{StartTime: time.Unix(0, 0), EndTime: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Filter: all}, nil, ns0(id.Server))
	if len(kinds(resp.Results[0])) != 5 {
		t.Errorf("huge range: %v", resp.Results[0].StatusCode)
	}
}

// BenchmarkConditionRefresh5000: one ConditionRefresh of 5,000 retained
// conditions on a subscription with one event item, until RefreshEndEvent is
// published (the services alone: the figure without network and client).
func BenchmarkConditionRefresh5000(b *testing.B) {
	s, store := benchServices(b)
	store.Update(func(tx *model.Tx) error {
		for i := range 5000 {
			tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: fmt.Sprint("SV4.UPS-", i%200), Condition: fmt.Sprint("Bench ", i),
				Severity: model.SeverityHigh, Active: true, Triggered: t0, Processed: t0}, "feed")
		}
		return nil
	})
	c := newClient(b, s, "refresh")
	sub := c.subscribe(10, 1000)
	if r := c.monitorEvents(sub, ns0(id.Server), &ua.EventFilter{SelectClauses: eventFields()}); r.StatusCode != ua.StatusGood {
		b.Fatal(r.StatusCode)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := callMethod(c, ns0(id.Server), id.ConditionType_ConditionRefresh, sub); r.StatusCode != ua.StatusGood {
			b.Fatal(r.StatusCode)
		}
		n := 0
		for n < 5002 {
			n += len(c.events())
		}
	}
}

// TestEventNotifiersAndQuality: an item on an asset sees only that asset's
// alarms; Quality says when SmartView is unreachable.
func TestEventNotifiersAndQuality(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "notifiers")
	sub := c.subscribe(10, 1000)
	f := &ua.EventFilter{SelectClauses: []*ua.SimpleAttributeOperand{sel(nsTypes, "AssetId"), sel(0, "Quality")}}
	if r := c.monitorEvents(sub, strID("SV4/ASSET/SV4.UPS-1"), f); r.StatusCode != ua.StatusGood {
		t.Fatal(r.StatusCode)
	}
	raise := func(asset string) {
		store.Update(func(tx *model.Tx) error {
			tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: asset, Condition: "On Battery", Severity: model.SeverityLow,
				Active: true, Triggered: t0, Processed: t0}, "feed")
			return nil
		})
	}
	raise("SV4.UPS-0")
	raise("SV4.UPS-1")
	evs := c.events()
	if len(evs) != 1 || evs[0].EventFields[0].Value() != "SV4.UPS-1" || evs[0].EventFields[1].Value() != ua.StatusGood {
		t.Fatalf("asset item events %v", evs)
	}
	store.Update(func(tx *model.Tx) error { tx.SetUpstream(model.UpstreamDown, "unreachable"); return nil })
	raise("SV4.UPS-2") // another asset: not seen
	store.Update(func(tx *model.Tx) error {
		return tx.OperatorComment(store.Snapshot().Alarms()[1].ID, "op", "checking")
	})
	evs = c.events()
	if len(evs) != 1 || evs[0].EventFields[1].Value() != ua.StatusUncertainNoCommunicationLastUsableValue {
		t.Fatalf("events while upstream is down %v", evs)
	}
}

// TestRefreshRequiredOnResync: when the change stream overran the reader,
// event items are told to refresh.
func TestRefreshRequiredOnResync(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	c := newClient(t, s, "resync")
	sub := c.subscribe(10, 1000)
	if r := c.monitorEvents(sub, ns0(id.Server), &ua.EventFilter{SelectClauses: eventFields()}); r.StatusCode != ua.StatusGood {
		t.Fatal(r.StatusCode)
	}
	s.monitor.apply(&model.Delta{Seq: 99, Structure: store.Snapshot().Structure(), Resync: true, Missed: 5})
	evs := c.events()
	if len(evs) != 1 || !sameNodeID(evs[0].EventFields[1].Value().(*ua.NodeID), evRefreshReq) {
		t.Fatalf("events after a resync: %v", evs)
	}
}

// TestMethodNodes: the condition methods are browsable; those the gateway
// runs are Executable, the others not.
func TestMethodNodes(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	sess := newSession("methods")
	for n, want := range map[uint32]bool{id.ConditionType_ConditionRefresh: true, id.AcknowledgeableConditionType_Acknowledge: true,
		id.ConditionType_Enable: false} {
		dv := read(t, s, sess, ua.TimestampsToReturnNeither, rv(ns0(n), ua.AttributeIDExecutable), rv(ns0(n), ua.AttributeIDUserExecutable))
		for _, v := range dv {
			if v.Status != ua.StatusGood || v.Value.Value() != want {
				t.Errorf("method %d executable: %v %v, want %v", n, v.Value, v.Status, want)
			}
		}
	}
}

// TestEventQueueOverflow: a full event queue discards as asked and says so
// with one EventQueueOverflowEvent (Part 4).
func TestEventQueueOverflow(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	c := s.ctx()
	for _, oldest := range []bool{true, false} {
		f, _, _ := compileEventFilter(&ua.EventFilter{SelectClauses: []*ua.SimpleAttributeOperand{sel(0, "EventType"), sel(nsTypes, "AlarmId")}})
		sub := &subscription{}
		it := &monitoredItem{sub: sub, mode: ua.MonitoringModeReporting, queueSize: 2, discardOldest: oldest,
			ev: &eventItemState{filter: f, notifier: notifier{all: true}}}
		for i := uint64(1); i <= 4; i++ {
			a := testAlarm()
			a.ID = i
			it.postEvent(c.alarmEvent(a, model.AlarmRaised, t0), false)
		}
		var got []string
		for _, e := range it.ev.events {
			if sameNodeID(e.EventFields[0].Value().(*ua.NodeID), evOverflow) {
				got = append(got, "overflow")
			} else {
				got = append(got, fmt.Sprint(e.EventFields[1].Value()))
			}
		}
		want := map[bool]string{true: "[overflow 4]", false: "[1 overflow]"}[oldest]
		if fmt.Sprint(got) != want {
			t.Errorf("discardOldest %v: queue %v, want %s", oldest, got, want)
		}
	}
}
