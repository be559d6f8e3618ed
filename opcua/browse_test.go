package opcua

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

func names(refs []*ua.ReferenceDescription) string {
	var out []string
	for _, r := range refs {
		dir := ""
		if !r.IsForward {
			dir = "<"
		}
		out = append(out, dir+r.BrowseName.Name)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestBrowseReferences(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	rt := func(n uint32) *ua.NodeID { return ua.NewNumericNodeID(0, n) }
	cage := strID("SV4/CAGE/SV4:01:000001")
	for _, c := range []struct {
		name string
		d    *ua.BrowseDescription
		want string
	}{
		{"root", browseReq(strID("SmartView"), ua.BrowseDirectionForward, hierarchical, true), "Gateway SV4 SV4"}, // Organizes and HasNotifier
		{"objects", browseReq(ua.NewNumericNodeID(0, id.ObjectsFolder), ua.BrowseDirectionForward, rt(id.Organizes), false), "Server SmartView"},
		{"ibx", browseReq(strID("SV4/IBX/SV4"), ua.BrowseDirectionForward, rt(id.Organizes), true), "Alarms Assets SV4:1:01:ColoA:1"},
		{"zone inverse", browseReq(strID("SV4/ZONE/SV4:1:01:ColoA:1"), ua.BrowseDirectionInverse, hierarchical, true), "<SV4"},
		{"cage components", browseReq(cage, ua.BrowseDirectionForward, rt(id.HasComponent), false),
			"ContractualKVA Humidity KVA KW PeakKVA7d PercentOfContract PowerFactor PrimaryKVA RedundantKVA SoldKVA Temperature"},
		{"cage properties", browseReq(cage, ua.BrowseDirectionForward, rt(id.HasProperty), false), "Label LocationId Number"},
		{"cage served by", browseReq(cage, ua.BrowseDirectionInverse, ua.NewNumericNodeID(nsTypes, refServes), false), "<SV4.UPS-1"},
		{"cage non-hierarchical", browseReq(cage, ua.BrowseDirectionBoth, rt(id.NonHierarchicalReferences), true), "<SV4.UPS-1 CageType"},
		// the request that crashed gopcua: HierarchicalReferences without subtypes (nothing uses it directly)
		{"no subtypes", browseReq(cage, ua.BrowseDirectionForward, hierarchical, false), ""},
		{"asset", browseReq(strID("SV4/ASSET/SV4.UPS-1"), ua.BrowseDirectionBoth, rt(id.References), true),
			"<Generator <SV4 AlarmActive AlarmStatus AssetId AssetType Category Classification EquipmentType LastAlarmCleared LastAlarmTriggered " +
				"LastMaintenance Manufacturer Model ResiliencyStatus SV4:01:000001 SerialNumber Template TimeZone tag0 tag1 tag2"},
		{"tag", browseReq(strID("SV4/TAG/SV4.UPS-1:tag1"), ua.BrowseDirectionBoth, nil, true), "<SV4.UPS-1 AlarmStatus AnalogTagType EngineeringUnits TagId"},
		{"kva", browseReq(strID("SV4/CAGE/SV4:01:000001#KVA"), ua.BrowseDirectionBoth, nil, true), "<SV4:01:000001 AnalogUnitType EURange EngineeringUnits"},
		{"eu", browseReq(strID("SV4/CAGE/SV4:01:000001#KVA#EngineeringUnits"), ua.BrowseDirectionBoth, nil, true), "<KVA PropertyType"},
		{"assets folder", browseReq(strID("SV4/Assets"), ua.BrowseDirectionBoth, nil, true), "<SV4 Electrical FolderType"},
		{"template folder", browseReq(strID("SV4/Assets/Electrical/Global/UPS"), ua.BrowseDirectionForward, rt(id.Organizes), false), "SV4.UPS-0 SV4.UPS-2"},
		{"type subtypes", browseReq(ua.NewNumericNodeID(nsTypes, typeLocation), ua.BrowseDirectionForward, rt(id.HasSubtype), false),
			"CabinetType CageType CircuitType IBXType SensorType ZoneType"},
		{"server", browseReq(ua.NewNumericNodeID(0, id.Server), ua.BrowseDirectionForward, rt(id.HasProperty), false), "Auditing NamespaceArray ServerArray ServiceLevel"},
	} {
		res := browse(t, s, newSession("b"), 0, c.d)[0]
		if res.StatusCode != ua.StatusGood {
			t.Errorf("%s: %v", c.name, res.StatusCode)
			continue
		}
		if got := names(res.References); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestBrowseMasks(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	cage := strID("SV4/CAGE/SV4:01:000001")
	d := browseReq(cage, ua.BrowseDirectionForward, hierarchical, true)
	d.NodeClassMask = uint32(ua.NodeClassObject)
	res := browse(t, s, newSession("m"), 0, d)[0]
	if got := names(res.References); got != "SV4:01:000001:0000 SV4:01:000001:0001" {
		t.Errorf("objects only: %s", got)
	}
	d.ResultMask = uint32(ua.BrowseResultMaskNodeClass)
	for _, r := range browse(t, s, newSession("m"), 0, d)[0].References {
		if r.BrowseName.Name != "" || r.DisplayName.Text != "" || r.IsForward || r.TypeDefinition.NodeID.IntID() != 0 ||
			r.ReferenceTypeID.IntID() != 0 || r.NodeClass != ua.NodeClassObject || r.NodeID.NodeID.StringID() == "" {
			t.Errorf("result mask NodeClass only: %+v", r)
		}
	}
	d.ResultMask = uint32(ua.BrowseResultMaskAll)
	d.NodeClassMask = 0
	for _, r := range browse(t, s, newSession("m"), 0, d)[0].References {
		want := uint32(typeCabinet)
		if r.NodeClass == ua.NodeClassVariable {
			continue
		}
		if r.TypeDefinition.NodeID.IntID() != want || r.ReferenceTypeID.IntID() != id.Organizes || !r.IsForward {
			t.Errorf("%s: type %v ref %v", r.BrowseName.Name, r.TypeDefinition.NodeID, r.ReferenceTypeID)
		}
	}
}

func TestBrowseErrors(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	ok := strID("SmartView")
	bad := func(d *ua.BrowseDescription, want ua.StatusCode) {
		t.Helper()
		if res := browse(t, s, newSession("e"), 0, d)[0]; res.StatusCode != want {
			t.Errorf("%v: %v, want %v", d, res.StatusCode, want)
		}
	}
	bad(browseReq(strID("nope"), ua.BrowseDirectionForward, nil, true), ua.StatusBadNodeIDUnknown)
	bad(browseReq(ua.NewNumericNodeID(99, 1), ua.BrowseDirectionForward, nil, true), ua.StatusBadNodeIDUnknown)
	bad(browseReq(ok, 7, nil, true), ua.StatusBadBrowseDirectionInvalid)
	bad(browseReq(ok, ua.BrowseDirectionForward, ua.NewNumericNodeID(0, id.ObjectsFolder), true), ua.StatusBadReferenceTypeIDInvalid)
	bad(browseReq(ok, ua.BrowseDirectionForward, strID("x"), true), ua.StatusBadReferenceTypeIDInvalid)
	bad(nil, ua.StatusBadNodeIDUnknown)
	bad(&ua.BrowseDescription{}, ua.StatusBadNodeIDUnknown)

	r := serve(t, s, newSession("e"), &ua.BrowseRequest{View: &ua.ViewDescription{ViewID: ua.NewNumericNodeID(0, 1)},
		NodesToBrowse: []*ua.BrowseDescription{browseReq(ok, 0, nil, true)}})
	if serviceResult(r) != ua.StatusBadViewIDUnknown {
		t.Errorf("unknown view: %v", serviceResult(r))
	}
	many := make([]*ua.BrowseDescription, 101)
	for i := range many {
		many[i] = browseReq(ok, 0, nil, true)
	}
	for n, want := range map[int]ua.StatusCode{0: ua.StatusBadNothingToDo, 101: ua.StatusBadTooManyOperations, 100: ua.StatusGood} {
		if r := serve(t, s, newSession("e"), &ua.BrowseRequest{NodesToBrowse: many[:n]}); serviceResult(r) != want {
			t.Errorf("Browse of %d nodes: %v, want %v", n, serviceResult(r), want)
		}
	}
}

// upsFolder is the continuation point tests' setup: services that allow
// three continuation points a session, over SV4's UPS folder of 13
// assets; the Browse of that folder, and every reference it has
// (browsed in sess without a limit).
func upsFolder(t *testing.T, sess *uaserver.Session) (*services, *ua.BrowseDescription, []*ua.ReferenceDescription) {
	t.Helper()
	limits := testLimits()
	limits.MaxBrowseContinuationPoints = 3
	store := newStore(t, map[string]model.IBXStructure{"SV4": footprint("SV4", 1, 1, 1, 25, 0)})
	s, err := newServices(store, limits, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := browseReq(strID("SV4/Assets/Electrical/Global/UPS"), ua.BrowseDirectionForward, ua.NewNumericNodeID(0, id.Organizes), false)
	return s, d, browse(t, s, sess, 0, d)[0].References
}

func TestBrowseContinuationPoints(t *testing.T) {
	sess := newSession("cp")
	s, d, all := upsFolder(t, sess)
	if len(all) != 13 {
		t.Fatalf("%d assets in the folder", len(all))
	}
	res := browse(t, s, sess, 5, d)[0]
	got := res.References
	for pages := 0; len(res.ContinuationPoint) > 0; pages++ {
		if len(res.References) > 5 || pages > 10 {
			t.Fatalf("page of %d", len(res.References))
		}
		// the model changes between pages: the continuation point keeps its view
		r := serve(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{res.ContinuationPoint}}).(*ua.BrowseNextResponse)
		res = r.Results[0]
		got = append(got, res.References...)
	}
	if names(got) != names(all) {
		t.Errorf("paged %s\n  all %s", names(got), names(all))
	}
	// continuation points are released after the last page
	r := serve(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{[]byte("bogus"), {}}}).(*ua.BrowseNextResponse)
	for _, res := range r.Results {
		if res.StatusCode != ua.StatusBadContinuationPointInvalid {
			t.Errorf("bogus continuation point: %v", res.StatusCode)
		}
	}
	// the limit per session, and release
	var cps [][]byte
	for i := 0; i < 4; i++ {
		res := browse(t, s, sess, 5, d)[0]
		if i < 3 && (res.StatusCode != ua.StatusGood || len(res.ContinuationPoint) == 0) {
			t.Fatalf("browse %d: %v", i, res.StatusCode)
		}
		if i == 3 && res.StatusCode != ua.StatusBadNoContinuationPoints {
			t.Errorf("fourth continuation point: %v", res.StatusCode)
		}
		if i < 3 {
			cps = append(cps, res.ContinuationPoint)
		}
	}
	// another session has its own
	if res := browse(t, s, newSession("other"), 5, d)[0]; res.StatusCode != ua.StatusGood {
		t.Errorf("other session: %v", res.StatusCode)
	}
	rel := serve(t, s, sess, &ua.BrowseNextRequest{ReleaseContinuationPoints: true, ContinuationPoints: cps}).(*ua.BrowseNextResponse)
	for _, res := range rel.Results {
		if res.StatusCode != ua.StatusGood || len(res.References) != 0 {
			t.Errorf("release: %v %d refs", res.StatusCode, len(res.References))
		}
	}
	again := serve(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: cps[:1]}).(*ua.BrowseNextResponse)
	if again.Results[0].StatusCode != ua.StatusBadContinuationPointInvalid {
		t.Errorf("released continuation point: %v", again.Results[0].StatusCode)
	}
	if res := browse(t, s, sess, 5, d)[0]; res.StatusCode != ua.StatusGood {
		t.Errorf("after release: %v", res.StatusCode)
	}
	// the server's MaxReferencesPerNode caps a request for everything
	s.limits.MaxReferencesPerNode = 4
	if res := browse(t, s, newSession("cap"), 0, d)[0]; len(res.References) != 4 || len(res.ContinuationPoint) == 0 {
		t.Errorf("capped: %d refs, cp %x", len(res.References), res.ContinuationPoint)
	}
	if r := serve(t, s, sess, &ua.BrowseNextRequest{}); serviceResult(r) != ua.StatusBadNothingToDo {
		t.Errorf("empty BrowseNext: %v", serviceResult(r))
	}
}

// refused serves body as a response the client never gets (larger than
// it accepts: the session layer sent Bad_ResponseTooLarge instead).
func refused(t *testing.T, s *services, sess *uaserver.Session, body ua.Request) ua.Response {
	t.Helper()
	var got ua.Response
	s.Serve(uaserver.NewRequest(sess, body, func(r ua.Response) error { got = r; return uaserver.ErrResponseTooLarge }))
	if got == nil {
		t.Fatalf("%T: no response", body)
	}
	return got
}

// TestRefusedBrowseGivesBackContinuationPoints: a Browse or BrowseNext
// answer the client refused as too large does not spend the session's
// continuation points, so the client can ask again in smaller pieces
// (node-opcua halves the request) and still gets every reference.
func TestRefusedBrowseGivesBackContinuationPoints(t *testing.T) {
	sess := newSession("refused")
	s, d, all := upsFolder(t, sess)
	three := &ua.BrowseRequest{RequestedMaxReferencesPerNode: 5, NodesToBrowse: []*ua.BrowseDescription{d, d, d}}

	// a refused Browse of three nodes, each with a continuation point
	r := refused(t, s, sess, three).(*ua.BrowseResponse)
	for i, res := range r.Results {
		if res.StatusCode != ua.StatusGood || len(res.ContinuationPoint) == 0 {
			t.Fatalf("refused browse, node %d: %v cp %x", i, res.StatusCode, res.ContinuationPoint)
		}
	}
	// ... took none of them: the same request is answered in full
	r = serve(t, s, sess, three).(*ua.BrowseResponse)
	var cps [][]byte
	for i, res := range r.Results {
		if res.StatusCode != ua.StatusGood || len(res.ContinuationPoint) == 0 {
			t.Fatalf("browse after a refused one, node %d: %v (continuation points spent by the refused answer)", i, res.StatusCode)
		}
		cps = append(cps, res.ContinuationPoint)
	}
	got := r.Results[0].References

	// a refused BrowseNext leaves the continuation points where they were:
	// asking again, one at a time, loses no reference
	rn := refused(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: cps}).(*ua.BrowseNextResponse)
	for i, res := range rn.Results {
		if res.StatusCode != ua.StatusGood || len(res.References) != 5 {
			t.Fatalf("refused BrowseNext, point %d: %v, %d references", i, res.StatusCode, len(res.References))
		}
	}
	for i, cp := range cps {
		var refs []*ua.ReferenceDescription
		for pages := 0; len(cp) > 0; pages++ {
			if pages > 5 {
				t.Fatal("endless paging")
			}
			res := serve(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{cp}}).(*ua.BrowseNextResponse).Results[0]
			if res.StatusCode != ua.StatusGood {
				t.Fatalf("BrowseNext of point %d after a refused one: %v", i, res.StatusCode)
			}
			refs = append(refs, res.References...)
			cp = res.ContinuationPoint
		}
		if names(append(got[:len(got):len(got)], refs...)) != names(all) {
			t.Errorf("point %d paged %s\n  all %s", i, names(append(got[:len(got):len(got)], refs...)), names(all))
		}
	}
	// every point is spent: a refused last page too gives its point back
	last := browse(t, s, sess, 10, d)[0]
	res := refused(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{last.ContinuationPoint}}).(*ua.BrowseNextResponse).Results[0]
	if len(res.ContinuationPoint) != 0 || len(res.References) != 3 {
		t.Fatalf("refused last page: %d references, cp %x", len(res.References), res.ContinuationPoint)
	}
	res = serve(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{last.ContinuationPoint}}).(*ua.BrowseNextResponse).Results[0]
	if res.StatusCode != ua.StatusGood || len(res.References) != 3 {
		t.Errorf("last page asked again: %v, %d references", res.StatusCode, len(res.References))
	}
}

func TestBrowseAlarms(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	store.Update(func(tx *model.Tx) error {
		for i, active := range []bool{true, true, false} {
			tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: fmt.Sprint("SV4.UPS-", i), Condition: "On Battery",
				Severity: model.SeverityUrgent, Active: active, Triggered: t0, Processed: t0}, "poll")
		}
		return nil
	})
	alarms := children(t, s, strID("SV4/Alarms"))
	if len(alarms) != 2 {
		t.Fatalf("alarms listed: %v", alarms)
	}
	a := alarms["1"]
	if a == nil || a.DisplayName.Text != "Alarm 1: On Battery" || a.TypeDefinition.NodeID.IntID() != typeAlarm {
		t.Fatalf("alarm 1: %+v", a)
	}
	for member, want := range map[string]any{"#State": "active", "#Severity": "Urgent", "#AssetId": "SV4.UPS-0", "#AlarmId": uint64(1), "#Triggered": t0} {
		if dv := value(t, s, strID("SV4/ALARM/1"+member)); dv.Value == nil || dv.Value.Value() != want {
			t.Errorf("alarm 1%s = %v %v", member, dv.Value, dv.Status)
		}
	}
	store.Update(func(tx *model.Tx) error {
		tx.ObserveAlarm(model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-0", Condition: "On Battery", Active: false,
			Triggered: t0, Processed: t0, Cleared: t0}, "poll")
		return nil
	})
	if len(children(t, s, strID("SV4/Alarms"))) != 1 {
		t.Error("a cleared alarm is still listed")
	}
	if dv := value(t, s, strID("SV4/ALARM/1#State")); dv.Value == nil || dv.Value.Value() != "cleared" {
		t.Errorf("cleared alarm state = %v %v", dv.Value, dv.Status)
	}
}

func TestTranslateBrowsePaths(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	qn := func(ns uint16, name string) *ua.QualifiedName {
		return &ua.QualifiedName{NamespaceIndex: ns, Name: name}
	}
	el := func(n *ua.QualifiedName) *ua.RelativePathElement {
		return &ua.RelativePathElement{ReferenceTypeID: hierarchical, IncludeSubtypes: true, TargetName: n}
	}
	path := func(start *ua.NodeID, els ...*ua.RelativePathElement) *ua.BrowsePath {
		return &ua.BrowsePath{StartingNode: start, RelativePath: &ua.RelativePath{Elements: els}}
	}
	objects := ua.NewNumericNodeID(0, id.ObjectsFolder)
	cases := []struct {
		p    *ua.BrowsePath
		code ua.StatusCode
		want string
	}{
		{path(objects, el(qn(2, "SmartView")), el(qn(2, "SV4")), el(qn(2, "SV4:1:01:ColoA:1")), el(qn(2, "SV4:01:000001")),
			el(qn(3, "KVA")), el(qn(0, "EngineeringUnits"))), ua.StatusGood, "SV4/CAGE/SV4:01:000001#KVA#EngineeringUnits"},
		{path(objects, el(qn(2, "SmartView")), el(qn(2, "Gateway"))), ua.StatusGood, "Gateway"},
		{path(objects, el(qn(2, "SmartView")), el(qn(3, "SV4"))), ua.StatusBadNoMatch, ""},
		{path(objects, el(qn(2, "SmartView")), el(nil), el(qn(2, "x"))), ua.StatusBadBrowseNameInvalid, ""},
		{path(objects), ua.StatusBadNothingToDo, ""},
		{path(strID("nope"), el(qn(2, "x"))), ua.StatusBadNodeIDUnknown, ""},
		{path(objects, &ua.RelativePathElement{ReferenceTypeID: strID("x"), TargetName: qn(2, "SmartView")}), ua.StatusBadReferenceTypeIDInvalid, ""},
		{path(strID("SV4/ASSET/SV4.UPS-1"), &ua.RelativePathElement{ReferenceTypeID: ua.NewNumericNodeID(0, id.Organizes),
			IsInverse: true, TargetName: qn(2, "Generator")}), ua.StatusGood, "SV4/Assets/Electrical/Global/Generator"},
		{nil, ua.StatusBadNodeIDUnknown, ""},
	}
	req := &ua.TranslateBrowsePathsToNodeIDsRequest{}
	for _, c := range cases {
		req.BrowsePaths = append(req.BrowsePaths, c.p)
	}
	r := serve(t, s, newSession("tr"), req).(*ua.TranslateBrowsePathsToNodeIDsResponse)
	for i, c := range cases {
		res := r.Results[i]
		if res.StatusCode != c.code {
			t.Errorf("path %d: %v, want %v", i, res.StatusCode, c.code)
			continue
		}
		if c.want != "" && (len(res.Targets) != 1 || res.Targets[0].TargetID.NodeID.StringID() != c.want ||
			res.Targets[0].RemainingPathIndex != 0xffffffff) {
			t.Errorf("path %d: targets %+v", i, res.Targets)
		}
	}
	if r := serve(t, s, newSession("tr"), &ua.TranslateBrowsePathsToNodeIDsRequest{}); serviceResult(r) != ua.StatusBadNothingToDo {
		t.Errorf("no paths: %v", serviceResult(r))
	}
	many := &ua.TranslateBrowsePathsToNodeIDsRequest{BrowsePaths: make([]*ua.BrowsePath, 101)}
	if r := serve(t, s, newSession("tr"), many); serviceResult(r) != ua.StatusBadTooManyOperations {
		t.Errorf("101 paths: %v", serviceResult(r))
	}
}

func TestRegisterNodes(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	ids := []*ua.NodeID{strID("SV4/CAGE/SV4:01:000001#KVA"), strID("whatever")}
	r := serve(t, s, newSession("reg"), &ua.RegisterNodesRequest{NodesToRegister: ids}).(*ua.RegisterNodesResponse)
	if len(r.RegisteredNodeIDs) != 2 || r.RegisteredNodeIDs[0].String() != ids[0].String() {
		t.Errorf("registered %v", r.RegisteredNodeIDs)
	}
	if dv := value(t, s, r.RegisteredNodeIDs[0]); dv.Status != ua.StatusGood {
		t.Errorf("read of a registered node: %v", dv.Status)
	}
	for req, want := range map[ua.Request]ua.StatusCode{
		&ua.RegisterNodesRequest{}: ua.StatusBadNothingToDo,
		&ua.RegisterNodesRequest{NodesToRegister: make([]*ua.NodeID, 101)}: ua.StatusBadTooManyOperations,
		&ua.UnregisterNodesRequest{NodesToUnregister: ids}:                 ua.StatusGood,
		&ua.UnregisterNodesRequest{}:                                       ua.StatusBadNothingToDo,
		&ua.CallRequest{}:                                                  ua.StatusBadNothingToDo,
		&ua.HistoryReadRequest{}:                                           ua.StatusBadNothingToDo,
		&ua.HistoryUpdateRequest{}:                                         ua.StatusBadServiceUnsupported,
		&ua.AddNodesRequest{}:                                              ua.StatusBadServiceUnsupported,
	} {
		if r := serve(t, s, newSession("reg"), req); serviceResult(r) != want {
			t.Errorf("%T: %v, want %v", req, serviceResult(r), want)
		}
	}
}
