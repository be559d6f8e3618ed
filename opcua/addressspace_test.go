package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/nodeset"
)

// crawl browses everything below start (hierarchical references, forward,
// with BrowseNext) and returns the nodes found by NodeId string.
func crawl(t *testing.T, s *services, start *ua.NodeID, maxRefs uint32) map[string]*ua.ReferenceDescription {
	t.Helper()
	sess := newSession("crawl")
	found := map[string]*ua.ReferenceDescription{}
	queue := []*ua.NodeID{start}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 100000 {
			t.Fatal("crawl does not end")
		}
		n := queue[0]
		queue = queue[1:]
		res := browse(t, s, sess, maxRefs, browseReq(n, ua.BrowseDirectionForward, hierarchical, true))[0]
		for pages := 0; ; pages++ {
			if res.StatusCode != ua.StatusGood {
				t.Fatalf("browse %v: %v", n, res.StatusCode)
			}
			for _, r := range res.References {
				key := r.NodeID.NodeID.String()
				if _, seen := found[key]; !seen {
					found[key] = r
					queue = append(queue, r.NodeID.NodeID)
				}
			}
			if len(res.ContinuationPoint) == 0 {
				break
			}
			if pages > 10000 {
				t.Fatal("BrowseNext does not end")
			}
			r := serve(t, s, sess, &ua.BrowseNextRequest{ContinuationPoints: [][]byte{res.ContinuationPoint}})
			res = r.(*ua.BrowseNextResponse).Results[0]
		}
	}
	return found
}

func TestCrawlWholeTree(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	nodes := crawl(t, s, ua.NewNumericNodeID(0, id.ObjectsFolder), 7)
	st := store.Snapshot().Structure()
	var vars []*ua.ReadValueID
	classes := map[ua.NodeClass]int{}
	for _, r := range nodes {
		classes[r.NodeClass]++
		if r.NodeClass == ua.NodeClassVariable && r.NodeID.NodeID.Namespace() == nsInstances {
			vars = append(vars, rv(r.NodeID.NodeID, ua.AttributeIDValue), rv(r.NodeID.NodeID, ua.AttributeIDDataType))
		}
		if r.TypeDefinition.NodeID.IntID() == 0 && r.TypeDefinition.NodeID.Namespace() == 0 {
			t.Errorf("%v (%v) has no type definition", r.NodeID.NodeID, r.NodeClass)
		}
	}
	// every location, asset and tag is in the tree
	for _, l := range st.Locations() {
		if _, ok := nodes[strID(locationIDString(l.ID)).String()]; !ok {
			t.Errorf("location %s not found by the crawl", l.ID)
		}
	}
	for _, tag := range st.Tags() {
		if _, ok := nodes[strID(tag.IBX+"/TAG/"+tag.ID).String()]; !ok {
			t.Errorf("tag %s not found by the crawl", tag.ID)
		}
	}
	if len(vars) == 0 {
		t.Fatal("no variables")
	}
	sess := newSession("read")
	for i := 0; i < len(vars); i += 1000 {
		res := read(t, s, sess, ua.TimestampsToReturnBoth, vars[i:min(i+1000, len(vars))]...)
		for k := 0; k < len(res); k += 2 {
			v, dt := res[k], res[k+1]
			n := vars[i+k].NodeID
			if v.Status != ua.StatusGood {
				t.Errorf("%v: value status %v", n, v.Status)
			}
			if dt.Status != ua.StatusGood || dt.Value.Type() != ua.TypeIDNodeID {
				t.Errorf("%v: DataType %v %v", n, dt.Status, dt.Value)
			}
		}
	}
	t.Logf("%d nodes %v, %d variables", len(nodes), classes, len(vars)/2)
}

func TestNodeIDsAndValues(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	cage := "SV4/CAGE/SV4:01:000001"
	circuit := "SV4/CIRCUIT/SV400101" + "1"
	for _, c := range []struct {
		id     string
		want   any
		status ua.StatusCode
		source bool
	}{
		{cage + "#KVA", 10.0, ua.StatusGood, true},
		{cage + "#ContractualKVA", 100.0, ua.StatusGood, true},
		{cage + "#PercentOfContract", 10.0, ua.StatusGood, true},
		{cage + "#KW", nil, ua.StatusGood, true}, // upstream said "NA"
		{cage + "#Temperature", 20.1, ua.StatusGood, true},
		{cage + "#Label", "SV4:01:000001", ua.StatusGood, false},
		{cage + "#Number", "1001", ua.StatusGood, false},
		{cage + "#LocationId", "SV4/CAGE/SV4:01:000001", ua.StatusGood, false},
		{circuit + "#Amps", 40.0, ua.StatusGood, true},
		{circuit + "#BreakerAlarm", false, ua.StatusGood, true},
		{circuit + "#Role", "redundant", ua.StatusGood, false},
		{"SV4/TAG/SV4.UPS-1:tag1", 10.0, ua.StatusGood, true},
		{"SV4/TAG/SV4.UPS-1:tag0", "READY", ua.StatusGood, true},
		{"SV4/TAG/SV4.UPS-1:tag1#AlarmStatus", "OK", ua.StatusGood, true},
		{"SV4/ASSET/SV4.UPS-1#Manufacturer", "ACME", ua.StatusGood, false},
		{"SV4/ASSET/SV4.UPS-1#AlarmStatus", "OK", ua.StatusGood, true},
		{"SV4/ASSET/SV4.UPS-1#LastMaintenance", t0.Add(-24 * time.Hour), ua.StatusGood, true},
		{"SV4/ASSET/SV4.UPS-1#LastAlarmTriggered", nil, ua.StatusGood, true},
		{"Gateway#Upstream", "ok", ua.StatusGood, false},
		{"Gateway#LastSync", t0, ua.StatusGood, false},
	} {
		dv := value(t, s, strID(c.id))
		var got any
		if dv.Value != nil {
			got = dv.Value.Value()
		}
		if got != c.want || dv.Status != c.status {
			t.Errorf("%s = %v (%T) %v, want %v %v", c.id, got, got, dv.Status, c.want, c.status)
		}
		if c.source != !dv.SourceTimestamp.IsZero() || (c.source && !dv.SourceTimestamp.Equal(t0)) {
			t.Errorf("%s: SourceTimestamp %v", c.id, dv.SourceTimestamp)
		}
		if dv.ServerTimestamp.IsZero() {
			t.Errorf("%s: no ServerTimestamp", c.id)
		}
	}
	// a cabinet has no Number (optional, absent), a cage no Amps
	for _, missing := range []string{"SV4/CABINET/SV4:01:000001:0001#Number", cage + "#Amps", cage + "#Nope",
		"SV4/CAGE/SV4:01:999999", "SV4/cage/SV4:01:000001", "SV5/CAGE/SV4:01:000001", "SV4/ASSET/CH1.UPS-1",
		"SV4/TAG/SV4.UPS-1:tag9", "SV4/ALARM/1", "SV4/ALARM/01", "SV4/Assets/Nope", "", "#", "SV4"} {
		if dv := value(t, s, strID(missing)); dv.Status != ua.StatusBadNodeIDUnknown {
			t.Errorf("%q: %v, want BadNodeIdUnknown", missing, dv.Status)
		}
	}
}

func TestEngineeringUnits(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	eu := func(n string) *ua.EUInformation {
		dv := value(t, s, strID(n))
		if dv.Status != ua.StatusGood {
			t.Fatalf("%s: %v", n, dv.Status)
		}
		return dv.Value.Value().(*ua.ExtensionObject).Value.(*ua.EUInformation)
	}
	for n, want := range map[string]struct {
		id     int32
		symbol string
	}{
		"SV4/CAGE/SV4:01:000001#KVA#EngineeringUnits":               {0x4B5641, "kVA"},
		"SV4/CIRCUIT/SV4001011#Amps#EngineeringUnits":               {0x414D50, "A"},
		"SV4/CAGE/SV4:01:000001#Temperature#EngineeringUnits":       {0x43454C, "°C"},
		"SV4/CAGE/SV4:01:000001#PercentOfContract#EngineeringUnits": {0x5031, "%"},
		"SV4/TAG/SV4.UPS-1:tag1#EngineeringUnits":                   {0x564C54, "V"},
	} {
		got := eu(n)
		if got.UnitID != want.id || got.DisplayName.Text != want.symbol || got.NamespaceURI != unitsURI {
			t.Errorf("%s = %d %q %q, want %d %q", n, got.UnitID, got.DisplayName.Text, got.NamespaceURI, want.id, want.symbol)
		}
	}
	if u := euInformation("furlongs"); u.UnitID != -1 || u.DisplayName.Text != "furlongs" || u.NamespaceURI != "" {
		t.Errorf("unknown unit = %+v", u)
	}
	dv := value(t, s, strID("SV4/CAGE/SV4:01:000001#Humidity#EURange"))
	if r := dv.Value.Value().(*ua.ExtensionObject).Value.(*ua.Range); r.Low != 0 || r.High != 100 {
		t.Errorf("Humidity EURange = %+v", r)
	}
	// a tag without unit has no EngineeringUnits
	if dv := value(t, s, strID("SV4/TAG/SV4.UPS-1:tag0#EngineeringUnits")); dv.Status != ua.StatusBadNodeIDUnknown {
		t.Errorf("EngineeringUnits of a tag without unit: %v", dv.Status)
	}
}

func TestQuality(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	n := strID("SV4/CAGE/SV4:01:000001#KVA")
	if dv := value(t, s, n); dv.Status != ua.StatusGood {
		t.Fatalf("fresh: %v", dv.Status)
	}
	store.Update(func(tx *model.Tx) error { tx.MarkStale("SV4", model.KindPower); return nil })
	if dv := value(t, s, n); dv.Status != ua.StatusUncertainLastUsableValue || dv.Value.Value() != 10.0 {
		t.Errorf("stale: %v %v", dv.Status, dv.Value)
	}
	store.Update(func(tx *model.Tx) error { tx.SetUpstream(model.UpstreamDown, "unreachable"); return nil })
	if dv := value(t, s, n); dv.Status != ua.StatusUncertainNoCommunicationLastUsableValue || dv.Value.Value() != 10.0 {
		t.Errorf("no comm: %v %v", dv.Status, dv.Value)
	}
	// a structure change adds a cage that never had a reading
	grown := footprint("SV4", 3, 2, 2, 3, 3)
	store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{"SV4": grown})
		tx.SetUpstream(model.UpstreamOK, "")
		return nil
	})
	dv := value(t, s, strID("SV4/CAGE/SV4:01:000002#KVA"))
	if dv.Status != ua.StatusBadWaitingForInitialData || dv.Has(ua.DataValueValue) {
		t.Errorf("never received: %v value=%v", dv.Status, dv.Value)
	}
	// the old cage kept its last value through the structure change
	if dv := value(t, s, n); dv.Value == nil || dv.Value.Value() != 10.0 {
		t.Errorf("after restructure: %v", dv.Value)
	}
}

func TestTimestampsToReturn(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	n := rv(strID("SV4/CAGE/SV4:01:000001#KVA"), ua.AttributeIDValue)
	for ts, want := range map[ua.TimestampsToReturn][2]bool{
		ua.TimestampsToReturnSource: {true, false}, ua.TimestampsToReturnServer: {false, true},
		ua.TimestampsToReturnBoth: {true, true}, ua.TimestampsToReturnNeither: {false, false},
	} {
		dv := read(t, s, newSession("ts"), ts, n)[0]
		if dv.Has(ua.DataValueSourceTimestamp) != want[0] || dv.Has(ua.DataValueServerTimestamp) != want[1] {
			t.Errorf("%v: mask %b", ts, dv.EncodingMask)
		}
	}
	r := serve(t, s, newSession("ts"), &ua.ReadRequest{TimestampsToReturn: 4, NodesToRead: []*ua.ReadValueID{n}})
	if serviceResult(r) != ua.StatusBadTimestampsToReturnInvalid {
		t.Errorf("TimestampsToReturn 4: %v", serviceResult(r))
	}
	r = serve(t, s, newSession("ts"), &ua.ReadRequest{MaxAge: -1, NodesToRead: []*ua.ReadValueID{n}})
	if serviceResult(r) != ua.StatusBadMaxAgeInvalid {
		t.Errorf("MaxAge -1: %v", serviceResult(r))
	}
}

func TestReadAttributes(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	kva := strID("SV4/CAGE/SV4:01:000001#KVA")
	cage := strID("SV4/CAGE/SV4:01:000001")
	nsArray := ua.NewNumericNodeID(0, id.Server_NamespaceArray)
	cageType := ua.NewNumericNodeID(nsTypes, typeCage)
	serves := ua.NewNumericNodeID(nsTypes, refServes)
	for _, c := range []struct {
		n    *ua.NodeID
		attr ua.AttributeID
		rng  string
		want any
		code ua.StatusCode
	}{
		{kva, ua.AttributeIDNodeID, "", kva.String(), ua.StatusGood},
		{kva, ua.AttributeIDNodeClass, "", int32(ua.NodeClassVariable), ua.StatusGood},
		{kva, ua.AttributeIDBrowseName, "", "KVA", ua.StatusGood},
		{kva, ua.AttributeIDDataType, "", ua.NewNumericNodeID(0, id.Double).String(), ua.StatusGood},
		{kva, ua.AttributeIDValueRank, "", int32(-1), ua.StatusGood},
		{kva, ua.AttributeIDAccessLevel, "", uint8(1), ua.StatusGood},
		{kva, ua.AttributeIDUserAccessLevel, "", uint8(1), ua.StatusGood},
		{kva, ua.AttributeIDHistorizing, "", false, ua.StatusGood},
		{kva, ua.AttributeIDWriteMask, "", uint32(0), ua.StatusGood},
		{kva, ua.AttributeIDDescription, "", "Apparent power drawn, in kVA.", ua.StatusGood},
		{kva, ua.AttributeIDEventNotifier, "", nil, ua.StatusBadAttributeIDInvalid},
		{kva, ua.AttributeIDIsAbstract, "", nil, ua.StatusBadAttributeIDInvalid},
		{kva, ua.AttributeIDExecutable, "", nil, ua.StatusBadAttributeIDInvalid},
		{kva, 99, "", nil, ua.StatusBadAttributeIDInvalid},
		{kva, ua.AttributeIDValue, "0", nil, ua.StatusBadIndexRangeNoData},
		{kva, ua.AttributeIDValue, "x", nil, ua.StatusBadIndexRangeInvalid},
		{kva, ua.AttributeIDValue, "2:1", nil, ua.StatusBadIndexRangeInvalid},
		{cage, ua.AttributeIDDisplayName, "", "SV4:01:000001", ua.StatusGood},
		{cage, ua.AttributeIDEventNotifier, "", uint8(0), ua.StatusGood},
		{cage, ua.AttributeIDValue, "", nil, ua.StatusBadAttributeIDInvalid},
		{cage, ua.AttributeIDDataType, "", nil, ua.StatusBadAttributeIDInvalid},
		{cageType, ua.AttributeIDIsAbstract, "", false, ua.StatusGood},
		{cageType, ua.AttributeIDBrowseName, "", "CageType", ua.StatusGood},
		{ua.NewNumericNodeID(nsTypes, typeLocation), ua.AttributeIDIsAbstract, "", true, ua.StatusGood},
		{serves, ua.AttributeIDInverseName, "", "ServedBy", ua.StatusGood},
		{serves, ua.AttributeIDSymmetric, "", false, ua.StatusGood},
		{nsArray, ua.AttributeIDValue, "", "[http://opcfoundation.org/UA/ urn:test:svgateway " + InstancesURI + " " + nodeset.TypesURI + "]", ua.StatusGood},
		{nsArray, ua.AttributeIDValue, "2", "[" + InstancesURI + "]", ua.StatusGood},
		{nsArray, ua.AttributeIDValue, "2:9", "[" + InstancesURI + " " + nodeset.TypesURI + "]", ua.StatusGood},
		{nsArray, ua.AttributeIDValue, "7", nil, ua.StatusBadIndexRangeNoData},
		{nsArray, ua.AttributeIDValueRank, "", int32(1), ua.StatusGood},
		{ua.NewNumericNodeID(0, id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead), ua.AttributeIDValue, "", uint32(1000), ua.StatusGood},
		{ua.NewNumericNodeID(0, id.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse), ua.AttributeIDValue, "", uint32(100), ua.StatusGood},
		{ua.NewNumericNodeID(0, id.Server_ServerStatus_State), ua.AttributeIDValue, "", int32(0), ua.StatusGood},
		{ua.NewNumericNodeID(0, id.Server_ServerStatus_StartTime), ua.AttributeIDValue, "", t0, ua.StatusGood},
		{ua.NewNumericNodeID(0, id.ServerState_EnumStrings), ua.AttributeIDValue, "0", "[Running]", ua.StatusGood},
		{ua.NewNumericNodeID(0, 99999), ua.AttributeIDValue, "", nil, ua.StatusBadNodeIDUnknown},
		{ua.NewNumericNodeID(7, 1), ua.AttributeIDValue, "", nil, ua.StatusBadNodeIDUnknown},
		{ua.NewGUIDNodeID(2, "72962B91-FA75-4AE6-8D28-B404DC7DAF63"), ua.AttributeIDValue, "", nil, ua.StatusBadNodeIDUnknown},
	} {
		r := &ua.ReadValueID{NodeID: c.n, AttributeID: c.attr, IndexRange: c.rng}
		dv := read(t, s, newSession("a"), ua.TimestampsToReturnNeither, r)[0]
		if dv.Status != c.code {
			t.Errorf("%v attr %d %q: %v, want %v", c.n, c.attr, c.rng, dv.Status, c.code)
			continue
		}
		if c.code != ua.StatusGood {
			continue
		}
		got := dv.Value.Value()
		switch v := got.(type) {
		case *ua.NodeID:
			got = v.String()
		case *ua.QualifiedName:
			got = v.Name
		case *ua.LocalizedText:
			got = v.Text
		case []string:
			got = "[" + strings.Join(v, " ") + "]"
		case []*ua.LocalizedText:
			got = "[" + v[0].Text + "]"
		}
		if got != c.want {
			t.Errorf("%v attr %d %q = %v (%T), want %v", c.n, c.attr, c.rng, got, got, c.want)
		}
	}
	// ServerStatus is an ExtensionObject of ServerStatusDataType, CurrentTime moves
	dv := value(t, s, ua.NewNumericNodeID(0, id.Server_ServerStatus))
	if ss, ok := dv.Value.Value().(*ua.ExtensionObject).Value.(*ua.ServerStatusDataType); !ok || ss.BuildInfo.ProductName != "svgateway" {
		t.Errorf("ServerStatus = %#v", dv.Value.Value())
	}
	// a DataEncoding is refused on a scalar
	rvEnc := &ua.ReadValueID{NodeID: kva, AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{Name: "Default Binary"}}
	if dv := read(t, s, newSession("a"), ua.TimestampsToReturnNeither, rvEnc)[0]; dv.Status != ua.StatusBadDataEncodingInvalid {
		t.Errorf("DataEncoding on a Double: %v", dv.Status)
	}
}

func TestReadLimits(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	many := make([]*ua.ReadValueID, 1001)
	for i := range many {
		many[i] = rv(strID("SV4/CAGE/SV4:01:000001#KVA"), ua.AttributeIDValue)
	}
	for n, want := range map[int]ua.StatusCode{0: ua.StatusBadNothingToDo, 1001: ua.StatusBadTooManyOperations, 1000: ua.StatusGood} {
		r := serve(t, s, newSession("l"), &ua.ReadRequest{NodesToRead: many[:n]})
		if serviceResult(r) != want {
			t.Errorf("Read of %d: %v, want %v", n, serviceResult(r), want)
		}
	}
	// nil entries are answered, not panicked on
	res := read(t, s, newSession("l"), ua.TimestampsToReturnBoth, nil, &ua.ReadValueID{AttributeID: ua.AttributeIDValue})
	if res[0].Status != ua.StatusBadNodeIDUnknown || res[1].Status != ua.StatusBadNodeIDUnknown {
		t.Errorf("nil ReadValueId / NodeId: %v %v", res[0].Status, res[1].Status)
	}
}

func TestWriteRefused(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	wv := func(n *ua.NodeID, attr ua.AttributeID) *ua.WriteValue {
		return &ua.WriteValue{NodeID: n, AttributeID: attr, Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: variant(1.0)}}
	}
	cases := []struct {
		w    *ua.WriteValue
		want ua.StatusCode
	}{
		{wv(strID("SV4/CAGE/SV4:01:000001#KVA"), ua.AttributeIDValue), ua.StatusBadNotWritable},
		{wv(strID("SV4/TAG/SV4.UPS-1:tag1"), ua.AttributeIDValue), ua.StatusBadNotWritable},
		{wv(strID("SV4/CAGE/SV4:01:000001"), ua.AttributeIDDisplayName), ua.StatusBadNotWritable},
		{wv(strID("SV4/CAGE/SV4:01:000001"), ua.AttributeIDValue), ua.StatusBadAttributeIDInvalid},
		{wv(ua.NewNumericNodeID(0, id.Server_ServerStatus_State), ua.AttributeIDValue), ua.StatusBadNotWritable},
		{wv(ua.NewNumericNodeID(0, id.ObjectsFolder), ua.AttributeIDBrowseName), ua.StatusBadNotWritable},
		{wv(ua.NewStringNodeID(99, "x"), ua.AttributeIDValue), ua.StatusBadNodeIDUnknown},
		{wv(strID("nope"), ua.AttributeIDValue), ua.StatusBadNodeIDUnknown},
		{wv(strID("SV4/CAGE/SV4:01:000001#KVA"), 77), ua.StatusBadAttributeIDInvalid},
		{nil, ua.StatusBadNodeIDUnknown},
	}
	req := &ua.WriteRequest{}
	for _, c := range cases {
		req.NodesToWrite = append(req.NodesToWrite, c.w)
	}
	r := serve(t, s, newSession("w"), req).(*ua.WriteResponse)
	for i, c := range cases {
		if r.Results[i] != c.want {
			t.Errorf("write %d: %v, want %v", i, r.Results[i], c.want)
		}
	}
	if dv := value(t, s, strID("SV4/CAGE/SV4:01:000001#KVA")); dv.Value.Value() != 10.0 {
		t.Errorf("value after refused write: %v", dv.Value)
	}
}

func TestServedTypesMatchNodeSet(t *testing.T) {
	s, _ := newTestServices(t, testLimits())
	file, err := nodeset.SmartView()
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession("types")
	for _, n := range file.Nodes {
		nid, err := mapNodeID(n.NodeID, []uint16{0, nsTypes})
		if err != nil {
			t.Fatal(err)
		}
		res := read(t, s, sess, ua.TimestampsToReturnNeither, rv(nid, ua.AttributeIDNodeClass), rv(nid, ua.AttributeIDBrowseName),
			rv(nid, ua.AttributeIDDisplayName))
		if res[0].Status != ua.StatusGood || ua.NodeClass(res[0].Value.Value().(int32)) != n.Class {
			t.Errorf("%s: NodeClass %v %v, file says %v", n.NodeID, res[0].Status, res[0].Value, n.Class)
			continue
		}
		ns, name := nodeset.SplitQualifiedName(n.BrowseName)
		if bn := res[1].Value.Value().(*ua.QualifiedName); bn.Name != name || (ns == 1) != (bn.NamespaceIndex == nsTypes) {
			t.Errorf("%s: BrowseName %v, file says %s", n.NodeID, bn, n.BrowseName)
		}
		// every reference of the file is served
		refs := browse(t, s, sess, 0, browseReq(nid, ua.BrowseDirectionBoth, nil, true))[0]
		for _, fr := range n.References {
			target, _ := mapNodeID(fr.Target, []uint16{0, nsTypes})
			rt, _ := mapNodeID(fr.Type, []uint16{0, nsTypes})
			found := false
			for _, r := range refs.References {
				if r.NodeID.NodeID.String() == target.String() && r.ReferenceTypeID.String() == rt.String() && r.IsForward == fr.Forward {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: reference %s %v -> %s not served", n.NodeID, fr.Type, fr.Forward, fr.Target)
			}
		}
	}
	// and instances use these types
	for inst, typ := range map[string]uint32{"SV4/IBX/SV4": typeIBX, "SV4/CAGE/SV4:01:000001": typeCage,
		"SV4/ASSET/SV4.UPS-1": typeAsset, "SV4/TAG/SV4.UPS-1:tag1": typeAnalogTag, "SV4/TAG/SV4.UPS-1:tag0": typeTag, "Gateway": typeGatewayStatus} {
		refs := browse(t, s, sess, 0, browseReq(strID(inst), ua.BrowseDirectionForward, ua.NewNumericNodeID(0, id.HasTypeDefinition), false))[0]
		if len(refs.References) != 1 || refs.References[0].NodeID.NodeID.String() != ua.NewNumericNodeID(nsTypes, typ).String() {
			t.Errorf("%s: type definition %v", inst, refs.References)
		}
	}
}

func TestNodeIDEscaping(t *testing.T) {
	store := newStore(t, map[string]model.IBXStructure{"X/1": {
		Locations: []model.Location{{ID: model.LocationID{IBX: "X/1", Level: model.LevelCage, Name: "a#b%c/d"}}},
		Assets:    []model.Asset{{ID: "x#1", Classification: "A/B", Category: "%", Template: "#"}},
		Tags:      []model.Tag{{ID: "x#1:t#", Asset: "x#1", Unit: "kVA"}},
	}})
	s, err := newServices(store, testLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.ctx()
	for _, want := range []string{"X%2F1/CAGE/a%23b%25c/d", "X%2F1/ASSET/x%231", "X%2F1/TAG/x%231:t%23",
		"X%2F1/Assets/A%2FB/%25/%23", "X%2F1/TAG/x%231:t%23#EngineeringUnits", "X%2F1/IBX/X/1#Temperature"} {
		n, ok := c.resolve(strID(want))
		if !ok {
			t.Errorf("%s does not resolve", want)
			continue
		}
		if got := c.nodeID(n).StringID(); got != want {
			t.Errorf("%s resolves to a node whose NodeId is %s", want, got)
		}
	}
	for _, bad := range []string{"X/1/CAGE/a#b%c/d", "X%2f1/CAGE/a%23b%25c/d", "X%2F1/CAGE/a%23b%25c%2Fd", "X%2F1/CAGE/a%23b%25c/d%",
		"X%2F1/CAGE/a%23b%25c/d%2", "X%2F1/ASSET/x%41"} {
		if _, ok := c.resolve(strID(bad)); ok {
			t.Errorf("%s resolves", bad)
		}
	}
}

func TestViewBuiltOncePerStructure(t *testing.T) {
	s, store := newTestServices(t, testLimits())
	v1 := s.ctx().view
	fill(t, store, t0.Add(time.Minute), 11)
	if s.ctx().view != v1 {
		t.Error("a value change rebuilt the view")
	}
	store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{"SV4": footprint("SV4", 3, 2, 2, 3, 3)})
		return nil
	})
	if v2 := s.ctx().view; v2 == v1 || v2.st.Gen() <= v1.st.Gen() {
		t.Error("a structure change did not rebuild the view")
	}
}
