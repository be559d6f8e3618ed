package snmp

import (
	"bytes"
	"math"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// gosnmpMessage is what the agent sent before encode.go: the response
// marshalled by gosnmp.
func gosnmpMessage(t *testing.T, ver gosnmp.SnmpVersion, community string, requestID uint32, res result) []byte {
	t.Helper()
	pkt := &gosnmp.SnmpPacket{Version: ver, Community: community, PDUType: gosnmp.GetResponse, RequestID: requestID,
		Error: res.status, ErrorIndex: uint8(min(res.index, math.MaxUint8))}
	for _, vb := range res.varbinds {
		pkt.Variables = append(pkt.Variables, vb.PDU())
	}
	out, err := pkt.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncodeMatchesGosnmp walks the whole fixture MIB (every table, every
// value type, absent readings, alarms and alerts, the agent's own groups)
// with GETBULK and GETNEXT, and checks that every response is, octet for
// octet, the message gosnmp marshals from the same result; then the
// exceptions, an error status, a SET echo of every value type and request
// IDs of every width.
func TestEncodeMatchesGosnmp(t *testing.T) {
	a := newTestAgent(t, Config{Communities: []Community{{Name: "public"}}})
	compare := func(what string, ver gosnmp.SnmpVersion, community string, id uint32, res result) {
		t.Helper()
		vbl, err := appendVarbinds(nil, res.varbinds)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := communityMessage(ver, community, id, res.status, uint8(min(res.index, math.MaxUint8)), vbl)
		if want := gosnmpMessage(t, ver, community, id, res); !bytes.Equal(got, want) {
			t.Fatalf("%s: encoded\n%x\ngosnmp\n%x", what, got, want)
		}
	}
	v := a.mib.View(a.store.Snapshot())
	walked := 0
	for _, start := range []OID{{1, 3}, rootOID} {
		oid := start
		for i := 0; ; i++ {
			res := a.serve(v, &access{}, &request{pduType: gosnmp.GetBulkRequest, maxReps: 37, oids: []OID{oid}}, 1<<20)
			compare("GETBULK after "+oid.String(), gosnmp.Version2c, "public", uint32(i)<<(i%32), res)
			last := res.varbinds[len(res.varbinds)-1]
			walked += len(res.varbinds)
			if last.Type == gosnmp.EndOfMibView {
				break
			}
			next := a.serve(v, &access{}, &request{pduType: gosnmp.GetNextRequest, oids: []OID{oid, last.OID}}, 1<<20)
			compare("GETNEXT after "+oid.String(), gosnmp.Version1, "a community", uint32(i), next)
			oid = last.OID
		}
	}
	t.Logf("%d varbinds walked", walked)
	if walked < 1000 {
		t.Fatalf("walked only %d varbinds", walked)
	}
	exceptions := a.serve(v, &access{}, &request{pduType: gosnmp.GetRequest, oids: []OID{
		{1, 3, 6, 1, 2, 1, 1, 1, 0}, {1, 3, 6, 1, 2, 1, 1, 99, 0}, rootOID.Append(1, 11, 1, 2, 4294967295), {0, 0}}}, 1<<20)
	compare("GET", gosnmp.Version2c, "public", 1, exceptions)
	compare("tooBig", gosnmp.Version2c, "public", math.MaxInt32, result{status: gosnmp.TooBig})
	compare("genErr", gosnmp.Version2c, "public", 5, result{status: gosnmp.GenErr, index: 300, varbinds: exceptions.varbinds})
	long := string(bytes.Repeat([]byte("x"), 300))
	compare("SET echo", gosnmp.Version2c, "public", 128, result{status: gosnmp.NoAccess, index: 1, varbinds: []Varbind{
		{OID: OID{1, 3, 6, 1, 4294967295}, Type: gosnmp.Integer, Value: -2147483648},
		{OID: OID{2, 999, 128}, Type: gosnmp.Integer, Value: 32768},
		{OID: OID{1, 3}, Type: gosnmp.Counter32, Value: uint32(math.MaxUint32)},
		{OID: OID{1, 3}, Type: gosnmp.Gauge32, Value: uint32(128)},
		{OID: OID{1, 3}, Type: gosnmp.TimeTicks, Value: uint32(0)},
		{OID: OID{1, 3}, Type: gosnmp.Counter64, Value: uint64(math.MaxUint64)},
		{OID: OID{1, 3}, Type: gosnmp.Counter64, Value: uint64(1 << 40)},
		{OID: OID{1, 3}, Type: gosnmp.OctetString, Value: long},
		{OID: OID{1, 3}, Type: gosnmp.OctetString, Value: []byte{}},
		{OID: OID{1, 3}, Type: gosnmp.Opaque, Value: []byte{1, 2}},
		{OID: OID{1, 3}, Type: gosnmp.IPAddress, Value: []byte{127, 0, 0, 1}},
		{OID: OID{1, 3}, Type: gosnmp.ObjectIdentifier, Value: "1.3.6.1.4.1.32473.99999"},
		{OID: OID{1, 3}, Type: gosnmp.Null},
	}})
}

// TestEncodeRefusesMismatchedValue: a value whose Go type does not match
// its BER type is an error (the agent drops the answer and counts it), not
// a wrong octet.
func TestEncodeRefusesMismatchedValue(t *testing.T) {
	for _, vb := range []Varbind{
		{OID: OID{1, 3}, Type: gosnmp.Integer, Value: uint32(1)},
		{OID: OID{1, 3}, Type: gosnmp.Integer, Value: math.MaxInt32 + 1},
		{OID: OID{1, 3}, Type: gosnmp.Counter32, Value: 1},
		{OID: OID{1, 3}, Type: gosnmp.ObjectIdentifier, Value: "not an oid"},
		{OID: OID{1}, Type: gosnmp.Null},
	} {
		if _, err := appendVarbind(nil, &vb); err == nil {
			t.Errorf("%v %T: encoded", vb.Type, vb.Value)
		}
	}
}
