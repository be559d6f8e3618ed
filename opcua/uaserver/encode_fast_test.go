package uaserver

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// gopcuaEncode is encodeService without the fast path: what gopcua's own
// encoder writes.
func gopcuaEncode(t testing.TB, v any) ([]byte, bool) {
	t.Helper()
	var out []byte
	ok := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		buf := ua.NewBuffer(nil)
		buf.WriteStruct(ua.NewFourByteExpandedNodeID(0, ua.ServiceTypeID(v)))
		buf.WriteStruct(v)
		out = buf.Bytes()
		return buf.Error() == nil
	}()
	return out, ok
}

func fastCaseReferences() []*ua.ReferenceDescription {
	ref := func(rt *ua.NodeID, fwd bool, id *ua.ExpandedNodeID, bn *ua.QualifiedName, dn *ua.LocalizedText, class ua.NodeClass, td *ua.ExpandedNodeID) *ua.ReferenceDescription {
		return &ua.ReferenceDescription{ReferenceTypeID: rt, IsForward: fwd, NodeID: id, BrowseName: bn, DisplayName: dn, NodeClass: class, TypeDefinition: td}
	}
	withURI := ua.NewExpandedNodeID(ua.NewStringNodeID(3, "x"), "urn:some", 0)
	withServer := ua.NewNumericExpandedNodeID(1, 99)
	withServer.ServerIndex = 4
	withServer.NodeID.SetIndexFlag()
	guid := ua.NewGUIDNodeID(2, "72962B91-FA75-4AE6-8D28-B404DC7DAF63")
	return []*ua.ReferenceDescription{
		ref(ua.NewNumericNodeID(0, 47), true, ua.NewExpandedNodeID(ua.NewStringNodeID(2, "IBX1/TAG/t1"), "", 0),
			&ua.QualifiedName{NamespaceIndex: 2, Name: "t1"}, ua.NewLocalizedText("Tag one"), ua.NodeClassVariable, ua.NewNumericExpandedNodeID(0, 2368)),
		ref(ua.NewTwoByteNodeID(0), false, ua.NewTwoByteExpandedNodeID(0), &ua.QualifiedName{}, ua.NewLocalizedText(""), 0, ua.NewTwoByteExpandedNodeID(0)),
		ref(ua.NewFourByteNodeID(1, 300), true, ua.NewFourByteExpandedNodeID(1, 7), &ua.QualifiedName{Name: "ü"},
			ua.NewLocalizedTextWithLocale("Schrank", "de-DE"), ua.NodeClassObject, &ua.ExpandedNodeID{}),
		ref(ua.NewNumericNodeID(0, 35), true, withURI, &ua.QualifiedName{NamespaceIndex: 3, Name: "x"}, &ua.LocalizedText{EncodingMask: ua.LocalizedTextLocale, Locale: "en"},
			ua.NodeClassMethod, withServer),
		ref(ua.NewNumericNodeID(0, 35), true, ua.NewExpandedNodeID(guid, "", 0), &ua.QualifiedName{}, ua.NewLocalizedText("g"), ua.NodeClassObject, ua.NewExpandedNodeID(ua.NewByteStringNodeID(2, []byte{1, 2}), "", 0)),
		ref(ua.NewNumericNodeID(0, 35), true, ua.NewExpandedNodeID(ua.NewStringNodeID(2, ""), "", 0), &ua.QualifiedName{}, ua.NewLocalizedText("empty string id"), ua.NodeClassObject, ua.NewTwoByteExpandedNodeID(0)),
	}
}

func fastCaseValues() []*ua.DataValue {
	now := time.Date(2026, 12, 6, 23, 1, 2, 345678900, time.FixedZone("x", 3600))
	dv := func(v any, status ua.StatusCode, src, srv time.Time) *ua.DataValue {
		d := &ua.DataValue{Status: status, SourceTimestamp: src, ServerTimestamp: srv}
		if v != nil {
			d.Value = ua.MustVariant(v)
		}
		d.UpdateMask()
		return d
	}
	out := []*ua.DataValue{
		dv(21.5, 0, now, now), dv(float32(1.25), 0, now, time.Time{}), dv("text", 0, time.Time{}, now), dv("", 0, now, now),
		dv(true, 0, now, now), dv(false, 0, now, now), dv(int32(-7), 0, now, now), dv(uint32(7), 0, now, now),
		dv(int64(-1<<40), 0, now, now), dv(uint64(1<<50), 0, now, now), dv(now, 0, now, now), dv(ua.StatusBadNodeIDUnknown, 0, now, now),
		dv(ua.NewNumericNodeID(0, 11), 0, now, now), dv(ua.NewStringNodeID(2, "a/b"), 0, now, now),
		dv(ua.NewLocalizedText("lt"), 0, now, now), dv(&ua.QualifiedName{NamespaceIndex: 2, Name: "qn"}, 0, now, now),
		dv(nil, ua.StatusBadAttributeIDInvalid, time.Time{}, time.Time{}), dv([]float64{1, 2}, 0, now, now), dv([]string{"a", ""}, 0, now, now),
		dv(int16(3), 0, now, now), dv(byte(9), 0, now, now), dv([]byte{1, 2, 3}, 0, now, now),
		dv(&ua.ExtensionObject{TypeID: ua.NewFourByteExpandedNodeID(0, 889), EncodingMask: ua.ExtensionObjectBinary,
			Value: &ua.EUInformation{NamespaceURI: "u", UnitID: 1, DisplayName: ua.NewLocalizedText("kW"), Description: ua.NewLocalizedText("kW")}}, 0, now, now),
		dv(ua.NewExtensionObject(&ua.Range{Low: -1, High: 1e6}), 0, now, now),
		dv(ua.NewExtensionObject(&ua.EUInformation{NamespaceURI: "http://www.opcfoundation.org/UA/units/un/cefact", UnitID: 4937544,
			DisplayName: ua.NewLocalizedText("kW"), Description: ua.NewLocalizedTextWithLocale("kilowatt", "en")}), 0, now, now),
		dv(ua.NewExtensionObject(&ua.EUInformation{DisplayName: &ua.LocalizedText{}, Description: &ua.LocalizedText{}}), 0, now, now),
		dv(ua.NewExtensionObject(&ua.Argument{Name: "a", DataType: ua.NewNumericNodeID(0, 11), Description: ua.NewLocalizedText("d")}), 0, now, now),
		dv(31.0, ua.StatusUncertain, now, time.Time{}),
		{EncodingMask: ua.DataValueValue | ua.DataValueSourcePicoseconds | ua.DataValueServerPicoseconds, Value: ua.MustVariant(1.0), SourcePicoseconds: 9, ServerPicoseconds: 10},
		{EncodingMask: ua.DataValueValue, Value: &ua.Variant{}},
	}
	return out
}

func TestEncodeFastMatchesGopcua(t *testing.T) {
	header := func() *ua.ResponseHeader {
		h := Header(ua.StatusGood)
		h.RequestHandle, h.Timestamp = 42, time.Date(2026, 12, 6, 0, 0, 0, 1, time.UTC)
		return h
	}
	richHeader := header()
	richHeader.StringTable = []string{"a", "", "c"}
	richHeader.ServiceDiagnostics = &ua.DiagnosticInfo{EncodingMask: ua.DiagnosticInfoSymbolicID | ua.DiagnosticInfoAdditionalInfo, SymbolicID: 3, AdditionalInfo: "x"}
	nilTableHeader := header()
	nilTableHeader.StringTable, nilTableHeader.AdditionalHeader = nil, nil
	refs := fastCaseReferences()
	results := []*ua.BrowseResult{
		{StatusCode: ua.StatusGood, ContinuationPoint: []byte{}, References: refs},
		{StatusCode: ua.StatusGood, ContinuationPoint: []byte{1, 2, 3, 4}, References: refs[:1]},
		{StatusCode: ua.StatusBadNodeIDUnknown, ContinuationPoint: nil, References: nil},
		{StatusCode: ua.StatusGood, ContinuationPoint: []byte{}, References: []*ua.ReferenceDescription{}},
	}
	cases := []struct {
		name string
		v    any
		fast bool // the fast path answers (else it leaves it to gopcua)
	}{
		{"browse", &ua.BrowseResponse{ResponseHeader: header(), Results: results, DiagnosticInfos: []*ua.DiagnosticInfo{}}, true},
		{"browse rich header, nil diagnostics", &ua.BrowseResponse{ResponseHeader: richHeader, Results: results}, true},
		{"browse nil table and additional header", &ua.BrowseResponse{ResponseHeader: nilTableHeader, Results: results[2:]}, true},
		{"browse diagnostics", &ua.BrowseResponse{ResponseHeader: header(), Results: results[:1],
			DiagnosticInfos: []*ua.DiagnosticInfo{{}, {EncodingMask: ua.DiagnosticInfoInnerStatusCode, InnerStatusCode: ua.StatusBad}}}, true},
		{"browse next", &ua.BrowseNextResponse{ResponseHeader: header(), Results: results}, true},
		{"browse no results", &ua.BrowseResponse{ResponseHeader: header(), Results: []*ua.BrowseResult{}}, true},
		{"read", &ua.ReadResponse{ResponseHeader: header(), Results: fastCaseValues(), DiagnosticInfos: []*ua.DiagnosticInfo{}}, true},
		{"read nil results", &ua.ReadResponse{ResponseHeader: header()}, true},
		// gopcua writes nothing for these nil pointers, or fails: the generic path decides.
		{"nil header", &ua.ReadResponse{Results: fastCaseValues()}, false},
		{"nil result", &ua.BrowseResponse{ResponseHeader: header(), Results: []*ua.BrowseResult{nil}}, false},
		{"nil reference", &ua.BrowseResponse{ResponseHeader: header(), Results: []*ua.BrowseResult{{References: []*ua.ReferenceDescription{nil}}}}, false},
		{"nil browse name", &ua.BrowseResponse{ResponseHeader: header(), Results: []*ua.BrowseResult{{References: []*ua.ReferenceDescription{{
			ReferenceTypeID: ua.NewTwoByteNodeID(0), NodeID: ua.NewTwoByteExpandedNodeID(0), DisplayName: &ua.LocalizedText{}, TypeDefinition: ua.NewTwoByteExpandedNodeID(0)}}}}}, false},
		{"nil data value", &ua.ReadResponse{ResponseHeader: header(), Results: []*ua.DataValue{nil}}, false},
		{"not a crawl response", &ua.WriteResponse{ResponseHeader: header(), Results: []ua.StatusCode{0}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, fast := encodeFast(c.v)
			if fast != c.fast {
				t.Fatalf("fast path answered %v, want %v", fast, c.fast)
			}
			want, wantOK := gopcuaEncode(t, c.v)
			if !fast {
				return
			}
			if !wantOK {
				t.Fatalf("the fast path encoded what gopcua cannot")
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("fast encoding differs from gopcua's\n got %x\nwant %x", got, want)
			}
			if _, _, err := ua.DecodeService(got); err != nil {
				t.Fatalf("gopcua cannot decode it: %v", err)
			}
		})
	}
}

// BenchmarkEncodeBrowseResponse: one Browse answer of a crawl (100 nodes,
// ~10 references each) through encodeService.
func BenchmarkEncodeBrowseResponse(b *testing.B) {
	ref := fastCaseReferences()[0]
	results := make([]*ua.BrowseResult, 100)
	for i := range results {
		refs := make([]*ua.ReferenceDescription, 10)
		for k := range refs {
			refs[k] = ref
		}
		results[i] = &ua.BrowseResult{ContinuationPoint: []byte{}, References: refs}
	}
	resp := &ua.BrowseResponse{ResponseHeader: Header(ua.StatusGood), Results: results, DiagnosticInfos: []*ua.DiagnosticInfo{}}
	benchEncode(b, resp)
}

// benchEncode runs encodeService on resp, and gopcua's own encoder in the
// sub-benchmark "gopcua" for comparison.
func benchEncode(b *testing.B, resp any) {
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeService(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopcua", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := gopcuaEncode(b, resp); !ok {
				b.Fatal("gopcua cannot encode it")
			}
		}
	})
}

// BenchmarkEncodeReadResponse: one Read answer of a crawl (5,000 Values and
// 5,000 DataTypes).
func BenchmarkEncodeReadResponse(b *testing.B) {
	now := time.Now()
	results := make([]*ua.DataValue, 10000)
	for i := range results {
		d := &ua.DataValue{Value: ua.MustVariant(float64(i)), SourceTimestamp: now, ServerTimestamp: now}
		if i%2 == 1 {
			d = &ua.DataValue{Value: ua.MustVariant(ua.NewNumericNodeID(0, 11))}
		}
		d.UpdateMask()
		results[i] = d
	}
	resp := &ua.ReadResponse{ResponseHeader: Header(ua.StatusGood), Results: results, DiagnosticInfos: []*ua.DiagnosticInfo{}}
	benchEncode(b, resp)
}

// FuzzEncodeFast: any Browse, BrowseNext or Read response gopcua decodes
// is encoded by the fast path to gopcua's bytes, or left to gopcua.
func FuzzEncodeFast(f *testing.F) {
	for _, v := range []any{
		&ua.BrowseResponse{ResponseHeader: Header(ua.StatusGood), Results: []*ua.BrowseResult{{ContinuationPoint: []byte{1}, References: fastCaseReferences()}}},
		&ua.ReadResponse{ResponseHeader: Header(ua.StatusGood), Results: fastCaseValues(), DiagnosticInfos: []*ua.DiagnosticInfo{{}}},
		&ua.BrowseNextResponse{ResponseHeader: Header(ua.StatusBadTimeout)},
	} {
		b, ok := gopcuaEncode(f, v)
		if !ok {
			f.Fatalf("seed %T does not encode", v)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typeID := new(ua.ExpandedNodeID)
		n, err := typeID.Decode(b)
		if err != nil {
			return
		}
		typ := serviceType(b[:n])
		if typ == nil {
			return
		}
		c := checker{}
		if _, err := c.value(b[n:], typ); err != nil {
			return // what the bounded decoder would refuse
		}
		var v any
		func() {
			defer func() { _ = recover() }()
			_, v, err = ua.DecodeService(b)
		}()
		if err != nil || v == nil {
			return
		}
		var got []byte
		fast, panicked := func() (fast, panicked bool) {
			defer func() {
				if recover() != nil {
					panicked = true
				}
			}()
			got, fast = encodeFast(v)
			return fast, false
		}()
		want, ok := gopcuaEncode(t, v)
		if panicked { // encodeService turns it into an error, as it does gopcua's panic
			if ok {
				t.Fatalf("the fast path panicked on a %T gopcua encodes", v)
			}
			return
		}
		if !fast {
			return
		}
		if !ok {
			t.Fatalf("the fast path encoded a %T gopcua cannot", v)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%T: fast encoding differs from gopcua's\n got %x\nwant %x", v, got, want)
		}
	})
}
