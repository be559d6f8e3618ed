package uaserver

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// generalDecode is decodeRequest without the fast path.
func generalDecode(b []byte) (ua.Request, bool) {
	typeID := new(ua.ExpandedNodeID)
	n, err := typeID.Decode(b)
	if err != nil {
		return nil, false
	}
	t := serviceType(b[:n])
	if t == nil {
		return nil, false
	}
	c := checker{}
	if _, err := c.value(b[n:], t); err != nil {
		return nil, false
	}
	var v any
	func() {
		defer func() { _ = recover() }()
		_, v, err = ua.DecodeService(b)
	}()
	req, ok := v.(ua.Request)
	return req, ok && err == nil
}

// sameRequest is reflect.DeepEqual, except that a float equals a float of
// the same bits: both decoders read the same bits, and DeepEqual holds a
// NaN (which a fuzzed MaxAge or Range may well be) unequal to itself.
func sameRequest(a, b ua.Request) bool {
	return sameValue(reflect.ValueOf(a), reflect.ValueOf(b))
}

func sameValue(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return false
		}
		fallthrough
	case reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			if !sameValue(a.MapIndex(k), b.MapIndex(k)) {
				return false
			}
		}
		return true
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.String:
		return a.String() == b.String()
	}
	return false
}

func fastDecodeCases() [][]byte {
	hdr := func() *ua.RequestHeader {
		return &ua.RequestHeader{AuthenticationToken: ua.NewByteStringNodeID(0, []byte("token")), Timestamp: time.Now(),
			RequestHandle: 7, ReturnDiagnostics: 3, AuditEntryID: "audit", TimeoutHint: 5000, AdditionalHeader: ua.NewExtensionObject(nil)}
	}
	guid := ua.NewGUIDNodeID(2, "72962B91-FA75-4AE6-8D28-B404DC7DAF63")
	reqs := []ua.Request{
		&ua.BrowseRequest{RequestHeader: hdr(), View: &ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0), Timestamp: time.Now(), ViewVersion: 3},
			RequestedMaxReferencesPerNode: 100, NodesToBrowse: []*ua.BrowseDescription{
				{NodeID: ua.NewStringNodeID(2, "SmartView"), BrowseDirection: ua.BrowseDirectionForward, ReferenceTypeID: ua.NewNumericNodeID(0, 33), IncludeSubtypes: true, ResultMask: 63},
				{NodeID: ua.NewNumericNodeID(0, 85), BrowseDirection: ua.BrowseDirectionBoth, ReferenceTypeID: ua.NewTwoByteNodeID(0), NodeClassMask: 3},
				{NodeID: guid, ReferenceTypeID: ua.NewFourByteNodeID(1, 300)},
				{NodeID: ua.NewByteStringNodeID(3, []byte{}), ReferenceTypeID: ua.NewStringNodeID(1, "")},
			}},
		&ua.BrowseRequest{RequestHeader: hdr(), View: &ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0)}},
		&ua.BrowseRequest{RequestHeader: hdr(), View: &ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0)}, NodesToBrowse: []*ua.BrowseDescription{}},
		&ua.BrowseNextRequest{RequestHeader: hdr(), ContinuationPoints: [][]byte{{1, 2, 3}, {}, nil}},
		&ua.BrowseNextRequest{RequestHeader: hdr(), ReleaseContinuationPoints: true},
		&ua.ReadRequest{RequestHeader: hdr(), MaxAge: 2.5, TimestampsToReturn: ua.TimestampsToReturnBoth, NodesToRead: []*ua.ReadValueID{
			{NodeID: ua.NewStringNodeID(2, "IBX1/TAG/t1"), AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}},
			{NodeID: ua.NewNumericNodeID(0, 2255), AttributeID: ua.AttributeIDValue, IndexRange: "1:2", DataEncoding: &ua.QualifiedName{NamespaceIndex: 0, Name: "Default Binary"}},
			{NodeID: guid, AttributeID: ua.AttributeIDDataType, DataEncoding: &ua.QualifiedName{}},
		}},
		&ua.ReadRequest{RequestHeader: hdr()},
		&ua.ReadRequest{RequestHeader: &ua.RequestHeader{AuthenticationToken: ua.NewTwoByteNodeID(0),
			AdditionalHeader: ua.NewExtensionObject(&ua.Range{Low: 1, High: 2})}, NodesToRead: []*ua.ReadValueID{}},
	}
	var out [][]byte
	for _, r := range reqs {
		b, err := encodeService(r)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

// The fast decoder decodes exactly what the general path decodes, and
// leaves to it everything the general path refuses.
func TestDecodeFastMatchesGopcua(t *testing.T) {
	check := func(t *testing.T, b []byte) (fast bool) {
		t.Helper()
		want, wantOK := generalDecode(b)
		typeID := new(ua.ExpandedNodeID)
		n, err := typeID.Decode(b)
		if err != nil {
			return false
		}
		tt := serviceType(b[:n])
		if tt == nil {
			return false
		}
		got, ok := decodeFast(tt, b[n:])
		if !ok {
			return false
		}
		if !wantOK {
			t.Fatalf("fast path accepted what the general path refuses: %x", b)
		}
		if !sameRequest(got, want) {
			t.Fatalf("fast path decoded differently from gopcua\n got %#v\nwant %#v", got, want)
		}
		return true
	}
	rng := rand.New(rand.NewPCG(14, 14))
	for i, b := range fastDecodeCases() {
		if !check(t, b) {
			t.Fatalf("case %d: the fast path did not answer a well-formed request", i)
		}
		for n := range len(b) {
			check(t, b[:n])
		}
		for range 2000 {
			m := append([]byte{}, b...)
			for range 1 + rng.IntN(3) {
				m[4+rng.IntN(len(m)-4)] = byte(rng.Uint32())
			}
			check(t, m)
		}
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, b := range fastDecodeCases() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantOK := generalDecode(b)
		got, err := decodeRequest(b)
		if (err == nil) != wantOK {
			t.Fatalf("decodeRequest err %v, general path ok %v", err, wantOK)
		}
		if err == nil && !sameRequest(got, want) {
			t.Fatalf("decoded differently from gopcua")
		}
	})
}

// BenchmarkDecodeReadRequest: one Read request of a crawl (5,000 Values and
// 5,000 DataTypes of string NodeIds).
func BenchmarkDecodeReadRequest(b *testing.B) {
	nodes := make([]*ua.ReadValueID, 10000)
	for i := range nodes {
		nodes[i] = &ua.ReadValueID{NodeID: ua.NewStringNodeID(2, "IBX01/TAG/asset-0042.tag-07"), AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}}
	}
	msg, err := encodeService(&ua.ReadRequest{RequestHeader: &ua.RequestHeader{AuthenticationToken: ua.NewTwoByteNodeID(0),
		AdditionalHeader: ua.NewExtensionObject(nil)}, NodesToRead: nodes})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeRequest(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeReadRequestGeneral: the same through the general path
// (bounds check, then gopcua's reflection decoder), for comparison.
func BenchmarkDecodeReadRequestGeneral(b *testing.B) {
	nodes := make([]*ua.ReadValueID, 10000)
	for i := range nodes {
		nodes[i] = &ua.ReadValueID{NodeID: ua.NewStringNodeID(2, "IBX01/TAG/asset-0042.tag-07"), AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}}
	}
	msg, err := encodeService(&ua.ReadRequest{RequestHeader: &ua.RequestHeader{AuthenticationToken: ua.NewTwoByteNodeID(0),
		AdditionalHeader: ua.NewExtensionObject(nil)}, NodesToRead: nodes})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := generalDecode(msg); !ok {
			b.Fatal("refused")
		}
	}
}
