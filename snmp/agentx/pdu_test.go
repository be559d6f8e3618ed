package agentx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// TestDecodeHandMade decodes PDUs assembled by hand from RFC 2741's
// layouts (not by our encoder), in both byte orders, as snmpd sends them.
func TestDecodeHandMade(t *testing.T) {
	for _, big := range []bool{false, true} {
		var order binary.AppendByteOrder = binary.LittleEndian
		flags := byte(0)
		if big {
			order, flags = binary.BigEndian, FlagNetworkByteOrder
		}
		u32 := func(v uint32) []byte { return order.AppendUint32(nil, v) }
		cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
		// GetNext of 1.3.6.1.4.1.32473.1 (prefix 4: n_subid 2, include 1) up
		// to 1.3.6.1.4.1.32474 (n_subid 2).
		payload := cat([]byte{3, 4, 1, 0}, u32(1), u32(32473), u32(1),
			[]byte{2, 4, 0, 0}, u32(1), u32(32474))
		b := cat([]byte{1, byte(TypeGetNext), flags, 0}, u32(7), u32(8), u32(9), u32(uint32(len(payload))), payload)
		var p PDU
		if err := p.Decode(b); err != nil {
			t.Fatalf("big=%v: %v", big, err)
		}
		want := SearchRange{Start: OID{1, 3, 6, 1, 4, 1, 32473, 1}, Include: true, End: OID{1, 3, 6, 1, 4, 1, 32474}}
		if p.Type != TypeGetNext || p.SessionID != 7 || p.TransactionID != 8 || p.PacketID != 9 ||
			len(p.Ranges) != 1 || !reflect.DeepEqual(p.Ranges[0], want) {
			t.Errorf("big=%v: decoded %+v", big, p)
		}

		// A Response (from the master to our Open) with a context-free
		// header and one varbind of each kind.
		vbs := cat(
			u16(order, uint16(Integer)), []byte{0, 0}, []byte{1, 0, 0, 0}, u32(5), u32(0xfffffffe), // 5 = -2
			u16(order, uint16(OctetString)), []byte{0, 0}, []byte{0, 0, 0, 0}, u32(3), []byte("abc\x00"),
			u16(order, uint16(Counter64)), []byte{0, 0}, []byte{0, 0, 0, 0}, order.AppendUint64(nil, 1<<40),
			u16(order, uint16(ObjectIdentifier)), []byte{0, 0}, []byte{0, 0, 0, 0}, []byte{1, 2, 0, 0}, u32(7),
			u16(order, uint16(EndOfMibView)), []byte{0, 0}, []byte{0, 0, 0, 0},
		)
		payload = cat(u32(12345), u16(order, uint16(DuplicateRegistration)), u16(order, 3), vbs)
		b = cat([]byte{1, byte(TypeResponse), flags, 0}, u32(7), u32(8), u32(9), u32(uint32(len(payload))), payload)
		if err := p.Decode(b); err != nil {
			t.Fatalf("big=%v response: %v", big, err)
		}
		wantVB := []VarBind{{Name: OID{5}, Type: Integer, Value: -2}, {Name: nil, Type: OctetString, Value: []byte("abc")},
			{Type: Counter64, Value: uint64(1 << 40)}, {Type: ObjectIdentifier, Value: OID{1, 3, 6, 1, 2, 7}}, {Type: EndOfMibView}}
		if p.SysUpTime != 12345 || p.Error != DuplicateRegistration || p.Index != 3 || !reflect.DeepEqual(p.VarBinds, wantVB) {
			t.Errorf("big=%v: response %+v", big, p)
		}
	}
}

func u16(order binary.AppendByteOrder, v uint16) []byte { return order.AppendUint16(nil, v) }

// TestEncodeHandChecked checks our encoding of a Response and a Register
// octet by octet against the RFC's layout.
func TestEncodeHandChecked(t *testing.T) {
	resp := &PDU{Header: Header{Version: 1, Type: TypeResponse, SessionID: 1, TransactionID: 2, PacketID: 3},
		VarBinds: []VarBind{{Name: OID{1, 3, 6, 1, 4, 1, 32473, 1, 1, 1, 0}, Type: OctetString, Value: "hello"}}}
	b, err := AppendPDU(nil, resp)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	want := bytes.Join([][]byte{
		{1, 18, 0, 0}, le.AppendUint32(nil, 1), le.AppendUint32(nil, 2), le.AppendUint32(nil, 3), le.AppendUint32(nil, 52),
		le.AppendUint32(nil, 0), {0, 0}, {0, 0}, // sysUpTime, error, index
		{4, 0, 0, 0}, {6, 4, 0, 0}, le.AppendUint32(nil, 1), le.AppendUint32(nil, 32473), le.AppendUint32(nil, 1), le.AppendUint32(nil, 1),
		le.AppendUint32(nil, 1), le.AppendUint32(nil, 0), le.AppendUint32(nil, 5), []byte("hello\x00\x00\x00"),
	}, nil)
	if !bytes.Equal(b, want) {
		t.Errorf("response\n got %x\nwant %x", b, want)
	}

	reg := &PDU{Header: Header{Version: 1, Type: TypeRegister, Flags: FlagNetworkByteOrder, SessionID: 9, PacketID: 4},
		Context: "ctx", Timeout: 5, Priority: 127, Subtree: OID{1, 3, 6, 1, 4, 1, 32473}}
	b, err = AppendPDU(nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	want = bytes.Join([][]byte{
		{1, 3, FlagNetworkByteOrder | FlagNonDefaultContext, 0}, be.AppendUint32(nil, 9), be.AppendUint32(nil, 0), be.AppendUint32(nil, 4), be.AppendUint32(nil, 24),
		be.AppendUint32(nil, 3), []byte("ctx\x00"), {5, 127, 0, 0}, {2, 4, 0, 0}, be.AppendUint32(nil, 1), be.AppendUint32(nil, 32473),
	}, nil)
	if !bytes.Equal(b, want) {
		t.Errorf("register\n got %x\nwant %x", b, want)
	}
}

// TestRoundTrip encodes and decodes every PDU type in both byte orders.
func TestRoundTrip(t *testing.T) {
	long := make(OID, maxSubIDs)
	for i := range long {
		long[i] = uint32(i) * 1000003
	}
	vbs := []VarBind{
		{Name: OID{1, 3, 6, 1, 2, 1, 1, 3, 0}, Type: TimeTicks, Value: uint32(4242)},
		{Name: OID{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}, Type: ObjectIdentifier, Value: OID{1, 3, 6, 1, 4, 1, 32473, 0, 1}},
		{Name: OID{1, 2}, Type: Integer, Value: -2147483648},
		{Name: OID{0, 0}, Type: Gauge32, Value: uint32(4294967295)},
		{Name: long, Type: Counter32, Value: uint32(1)},
		{Name: OID{1, 3, 6, 1, 300}, Type: Counter64, Value: uint64(1<<64 - 1)},
		{Name: OID{1}, Type: IPAddress, Value: []byte{127, 0, 0, 1}},
		{Name: OID{1}, Type: Opaque, Value: []byte{}},
		{Name: OID{2}, Type: Null},
		{Name: OID{3}, Type: NoSuchObject},
		{Name: OID{3}, Type: NoSuchInstance},
		{Name: OID{3}, Type: EndOfMibView},
	}
	pdus := []PDU{
		{Header: Header{Type: TypeOpen}, Timeout: 5, ID: OID{1, 3, 6, 1, 4, 1, 32473}, Description: "svgateway"},
		{Header: Header{Type: TypeClose}, Reason: ReasonShutdown},
		{Header: Header{Type: TypeRegister}, Context: "c1", Timeout: 1, Priority: 127, Subtree: OID{1, 3, 6, 1, 4, 1, 32473}},
		{Header: Header{Type: TypeRegister}, Priority: 1, RangeSubID: 7, Subtree: OID{1, 3, 6, 1, 2, 1, 2, 2, 1, 1, 1}, UpperBound: 22},
		{Header: Header{Type: TypeUnregister}, Priority: 127, Subtree: OID{1, 3, 6, 1, 4, 1, 32473}},
		{Header: Header{Type: TypeGet}, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 4, 1, 32473, 1, 1, 0}}, {Start: OID{1, 2, 3}}}},
		{Header: Header{Type: TypeGetNext}, Context: "x", Ranges: []SearchRange{{Start: OID{1, 3}, Include: true, End: OID{1, 4}}}},
		{Header: Header{Type: TypeGetBulk}, NonRepeaters: 1, MaxRepetitions: 10, Ranges: []SearchRange{{Start: OID{1}}, {Start: OID{1, 3, 6}, End: OID{1, 3, 7}}}},
		{Header: Header{Type: TypeTestSet}, VarBinds: vbs[:3]},
		{Header: Header{Type: TypeCommitSet}},
		{Header: Header{Type: TypeUndoSet}},
		{Header: Header{Type: TypeCleanupSet}},
		{Header: Header{Type: TypeNotify}, Context: "ctx", VarBinds: vbs},
		{Header: Header{Type: TypePing}},
		{Header: Header{Type: TypeIndexAllocate}, VarBinds: vbs[2:4]},
		{Header: Header{Type: TypeIndexDeallocate}, VarBinds: vbs[2:4]},
		{Header: Header{Type: TypeAddAgentCaps}, ID: OID{1, 3, 6, 1, 4, 1, 32473, 2}, Description: "caps"},
		{Header: Header{Type: TypeRemoveAgentCaps}, ID: OID{1, 3, 6, 1, 4, 1, 32473, 2}},
		{Header: Header{Type: TypeResponse}, SysUpTime: 99, Error: NotWritable, Index: 1, VarBinds: vbs},
	}
	for _, big := range []bool{false, true} {
		for _, p := range pdus {
			p.Version, p.SessionID, p.TransactionID, p.PacketID = 1, 11, 12, 13
			if big {
				p.Flags = FlagNetworkByteOrder
			}
			b, err := AppendPDU(nil, &p)
			if err != nil {
				t.Fatalf("%s: %v", p.Type, err)
			}
			var q PDU
			if err := q.Decode(b); err != nil {
				t.Fatalf("%s big=%v: %v", p.Type, big, err)
			}
			if p.Context != "" {
				p.Flags |= FlagNonDefaultContext
			}
			p.PayloadLength = uint32(len(b) - HeaderSize)
			q.subids = nil
			if !pduEqual(&p, &q) {
				t.Errorf("%s big=%v:\n sent %+v\n  got %+v", p.Type, big, p, q)
			}
		}
	}
}

// pduEqual compares PDUs, treating nil and empty slices alike and the
// string forms of values as their decoded forms.
func pduEqual(a, b *PDU) bool {
	norm := func(p *PDU) PDU {
		q := *p
		q.subids, q.PayloadLength = nil, 0
		// The flag follows the context: set only when one is carried.
		q.Flags &^= FlagNonDefaultContext
		if q.Context != "" && q.Type.hasContext() {
			q.Flags |= FlagNonDefaultContext
		}
		if len(q.Ranges) == 0 {
			q.Ranges = nil
		}
		q.VarBinds = nil
		for _, vb := range p.VarBinds {
			if v, ok := vb.Value.(string); ok {
				vb.Value = []byte(v)
			}
			if len(vb.Name) == 0 {
				vb.Name = nil
			}
			q.VarBinds = append(q.VarBinds, vb)
		}
		for i := range q.Ranges {
			if len(q.Ranges[i].End) == 0 {
				q.Ranges[i].End = nil
			}
		}
		return q
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestDecodeErrors(t *testing.T) {
	good, _ := AppendPDU(nil, &PDU{Header: Header{Version: 1, Type: TypeGetNext},
		Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 4, 1, 32473}}}})
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	for name, b := range map[string][]byte{
		"short header":    good[:10],
		"version 2":       mutate(func(b []byte) []byte { b[0] = 2; return b }),
		"length not x4":   mutate(func(b []byte) []byte { b[16] = 5; return b }),
		"length mismatch": mutate(func(b []byte) []byte { b[16] = 4; return b }),
		"unknown type":    mutate(func(b []byte) []byte { b[1] = 99; return b }),
		"oid too long":    mutate(func(b []byte) []byte { b[20] = 129; return b }),
		"oid truncated":   mutate(func(b []byte) []byte { b[20] = 9; return b }),
		"include 2":       mutate(func(b []byte) []byte { b[22] = 2; return b }),
		"context beyond": mutate(func(b []byte) []byte {
			b[2] |= FlagNonDefaultContext
			b[20], b[21], b[22], b[23] = 0xff, 0xff, 0, 0
			return b
		}),
	} {
		var p PDU
		if err := p.Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestEncodeBadValue(t *testing.T) {
	p := &PDU{Header: Header{Version: 1, Type: TypeResponse}, VarBinds: []VarBind{
		{Name: OID{1}, Type: Integer, Value: "x"}, {Name: OID{2}, Type: Integer, Value: int64(1 << 40)},
		{Name: OID{3}, Type: Gauge32, Value: 5}, {Name: OID{4}, Type: ObjectIdentifier, Value: "1.3.6"}}}
	b, err := AppendPDU(nil, p)
	if err == nil {
		t.Fatal("no error for values that do not suit their types")
	}
	var q PDU
	if err := q.Decode(b); err != nil {
		t.Fatalf("the PDU is still well-formed: %v", err)
	}
	for _, vb := range q.VarBinds {
		if vb.Type != Null {
			t.Errorf("%v encoded as %d, want Null", vb.Name, vb.Type)
		}
	}
}

// FuzzDecode: decoding arbitrary input never panics, and what decodes
// re-encodes to something that decodes to the same PDU.
func FuzzDecode(f *testing.F) {
	for _, p := range []PDU{
		{Header: Header{Version: 1, Type: TypeGetNext}, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 4, 1, 32473}, End: OID{1, 3, 6, 1, 4, 1, 32474}}}},
		{Header: Header{Version: 1, Type: TypeGetBulk, Flags: FlagNetworkByteOrder}, Context: "c", NonRepeaters: 1, MaxRepetitions: 3, Ranges: []SearchRange{{Start: OID{1}}}},
		{Header: Header{Version: 1, Type: TypeResponse}, VarBinds: []VarBind{{Name: OID{1, 3}, Type: OctetString, Value: []byte("abc")}}},
		{Header: Header{Version: 1, Type: TypeTestSet}, VarBinds: []VarBind{{Name: OID{1, 3}, Type: Counter64, Value: uint64(7)}}},
		{Header: Header{Version: 1, Type: TypeRegister}, Priority: 1, RangeSubID: 1, Subtree: OID{1, 3}, UpperBound: 9},
	} {
		b, _ := AppendPDU(nil, &p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p PDU
		if err := p.Decode(b); err != nil {
			return
		}
		again, err := AppendPDU(nil, &p)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", p, err)
		}
		var q PDU
		if err := q.Decode(again); err != nil {
			t.Fatalf("re-encoded PDU does not decode: %v", err)
		}
		if !pduEqual(&p, &q) {
			t.Fatalf("round trip:\n %+v\n %+v", p, q)
		}
	})
}
