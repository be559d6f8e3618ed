package snmp

import (
	"bytes"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// gosnmpMessage is what the agent sent before encode.go: the response
// marshalled by gosnmp.
func gosnmpMessage(t *testing.T, ver gosnmp.SnmpVersion, community string, requestID uint32, res result) []byte {
	t.Helper()
	pkt := &gosnmp.SnmpPacket{Version: ver, Community: community, PDUType: gosnmp.GetResponse, RequestID: requestID,
		Error: res.status, ErrorIndex: uint8(min(res.index, math.MaxUint8))}
	for _, vb := range res.varbinds {
		pkt.Variables = append(pkt.Variables, vb.varbind().PDU())
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
		got := communityMessage(nil, ver, community, id, res.status, uint8(min(res.index, math.MaxUint8)), vbl)
		if want := gosnmpMessage(t, ver, community, id, res); !bytes.Equal(got, want) {
			t.Fatalf("%s: encoded\n%x\ngosnmp\n%x", what, got, want)
		}
	}
	v := a.mib.View(a.store.Snapshot())
	walked := 0
	for _, start := range []OID{{1, 3}, rootOID} {
		oid := start
		for i := 0; ; i++ {
			res := a.serve(v, &access{}, &request{pduType: gosnmp.GetBulkRequest, maxReps: 37, oids: []OID{oid}}, 1<<20, nil)
			compare("GETBULK after "+oid.String(), gosnmp.Version2c, "public", uint32(i)<<(i%32), res)
			last := res.varbinds[len(res.varbinds)-1]
			walked += len(res.varbinds)
			if last.typ == gosnmp.EndOfMibView {
				break
			}
			next := a.serve(v, &access{}, &request{pduType: gosnmp.GetNextRequest, oids: []OID{oid, last.oid}}, 1<<20, nil)
			compare("GETNEXT after "+oid.String(), gosnmp.Version1, "a community", uint32(i), next)
			oid = last.oid
		}
	}
	t.Logf("%d varbinds walked", walked)
	if walked < 1000 {
		t.Fatalf("walked only %d varbinds", walked)
	}
	exceptions := a.serve(v, &access{}, &request{pduType: gosnmp.GetRequest, oids: []OID{
		{1, 3, 6, 1, 2, 1, 1, 1, 0}, {1, 3, 6, 1, 2, 1, 1, 99, 0}, rootOID.Append(1, 11, 1, 2, 4294967295), {0, 0}}}, 1<<20, nil)
	compare("GET", gosnmp.Version2c, "public", 1, exceptions)
	compare("tooBig", gosnmp.Version2c, "public", math.MaxInt32, result{status: gosnmp.TooBig})
	compare("genErr", gosnmp.Version2c, "public", 5, result{status: gosnmp.GenErr, index: 300, varbinds: exceptions.varbinds})
	long := string(bytes.Repeat([]byte("x"), 300))
	compare("SET echo", gosnmp.Version2c, "public", 128, result{status: gosnmp.NoAccess, index: 1, varbinds: servedList([]Varbind{
		{OID: OID{1, 3}, Type: gosnmp.Uinteger32, Value: uint32(7)},
		{OID: OID{1, 3}, Type: gosnmp.Gauge32, Value: uint(1 << 31)},
		{OID: OID{1, 3}, Type: gosnmp.Counter64, Value: uint64(5)},
		{OID: OID{1, 3}, Type: gosnmp.BitString, Value: "ab"},
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
	}...)})
}

// servedList returns vbs as the agent serves them.
func servedList(vbs ...Varbind) []served {
	out := make([]served, len(vbs))
	for i, vb := range vbs {
		out[i] = servedOf(vb)
	}
	return out
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
		{OID: OID{1, 3}, Type: gosnmp.OctetString, Value: 1.5},
		{OID: OID{1, 3}, Type: gosnmp.OctetString},
		{OID: OID{1, 3}, Type: gosnmp.IPAddress, Value: "127.0.0.1"},
		{OID: OID{1, 3}, Type: gosnmp.Counter64, Value: uint32(1)},
	} {
		if _, err := appendVarbind(nil, &vb); err == nil {
			t.Errorf("%v %T: encoded", vb.Type, vb.Value)
		}
	}
}

// TestBulkCursorMatchesNext: a GETBULK's repetitions move on from a cursor
// instead of searching for each OID; with several repeaters, from any
// start, with and without a view, every repeater must see exactly the
// instances (OID, type and value) that GETNEXT after GETNEXT sees.
// The view cuts the MIB's tables in the middle, so a cursor moving on must
// leave the view and find the next subtree of it.
func TestBulkCursorMatchesNext(t *testing.T) {
	a := newTestAgent(t, Config{Communities: []Community{{Name: "public"}}})
	v := a.mib.View(a.store.Snapshot())
	type seen struct {
		oid string
		vb  Varbind
	}
	reference := func(acc *access, from OID, n int) []seen {
		var out []seen
		for oid := from; len(out) < n; {
			s := a.next(v, acc, oid, nil)
			vb := s.varbind()
			out = append(out, seen{vb.OID.String(), vb})
			if vb.Type == gosnmp.EndOfMibView {
				break
			}
			oid = vb.OID
		}
		return out
	}
	views := map[string]*access{
		"no view": {},
		"view": {view: []OID{{1, 3, 6, 1, 2, 1, 1}, rootOID.Append(1, 3), rootOID.Append(1, 11, 1, 3), rootOID.Append(1, 12),
			{1, 3, 6, 1, 6, 3, 15}}},
	}
	starts := []OID{{0}, {1, 3, 6, 1, 2, 1, 1, 9}, rootOID, rootOID.Append(1, 4, 1, 5, 3), rootOID.Append(1, 11, 1, 14),
		rootOID.Append(1, 12, 1, 1, 1), rootOID.Append(2)}
	for name, acc := range views {
		for i := range starts {
			reps := []OID{starts[i], starts[(i+3)%len(starts)], starts[(i+5)%len(starts)]}
			var want [][]seen
			for _, s := range reps {
				want = append(want, reference(acc, s, 100000))
			}
			got := make([][]seen, len(reps))
			cur := append([]OID(nil), reps...)
			for done := false; !done; {
				res := a.serve(v, acc, &request{pduType: gosnmp.GetBulkRequest, maxReps: 23, oids: cur}, 1<<20, nil)
				done = true
				for k, s := range res.varbinds {
					vb := s.varbind()
					r := k % len(reps)
					if n := len(got[r]); n > 0 && got[r][n-1].vb.Type == gosnmp.EndOfMibView {
						continue
					}
					got[r] = append(got[r], seen{vb.OID.String(), vb})
					if vb.Type != gosnmp.EndOfMibView {
						cur[r], done = vb.OID, false
					}
				}
			}
			for r := range reps {
				if len(got[r]) != len(want[r]) {
					t.Fatalf("%s, from %s: %d varbinds by GETBULK, %d by GETNEXT", name, reps[r], len(got[r]), len(want[r]))
				}
				for k := range want[r] {
					g, w := got[r][k], want[r][k]
					// The agent's own counters and uptime move between the two walks.
					sameValue := !w.vb.OID.HasPrefix(rootOID) || reflect.DeepEqual(g.vb.Value, w.vb.Value)
					if g.oid != w.oid || g.vb.Type != w.vb.Type || !sameValue {
						t.Fatalf("%s, from %s, #%d: GETBULK %s %v %v, GETNEXT %s %v %v", name, reps[r], k, g.oid, g.vb.Type, g.vb.Value, w.oid, w.vb.Type, w.vb.Value)
					}
				}
			}
		}
	}
}

// TestUSMEncodeMatchesGosnmp: SNMPv3 responses, for every authentication
// and privacy protocol the agent offers and every security level, are the
// octets gosnmp's MarshalMsg writes for the same packet (same salt):
// header, USM parameters, the AES-CFB ciphertext and the HMAC.
func TestUSMEncodeMatchesGosnmp(t *testing.T) {
	users := append([]User{}, testUsers...)
	users = append(users, User{Name: "sha256aes256c", AuthProtocol: "SHA-256", AuthPassphrase: authPass, PrivProtocol: "AES-256-C", PrivPassphrase: privPass},
		User{Name: "sha1", AuthProtocol: "SHA", AuthPassphrase: authPass})
	a := newTestAgent(t, Config{Users: users})
	v := a.mib.View(a.store.Snapshot())
	res := a.serve(v, &access{}, &request{pduType: gosnmp.GetBulkRequest, maxReps: 40, oids: []OID{rootOID.Append(1, 11)}}, 1<<20, nil)
	vbl, err := appendVarbinds(nil, res.varbinds)
	if err != nil {
		t.Fatal(err)
	}
	for _, cu := range users {
		u := a.credentials.Load().users[cu.Name]
		for _, level := range []gosnmp.SnmpV3MsgFlags{gosnmp.NoAuthNoPriv, gosnmp.AuthNoPriv, gosnmp.AuthPriv} {
			if level == gosnmp.AuthPriv && u.priv == gosnmp.NoPriv {
				continue
			}
			for _, ctx := range []string{"", "ctx"} {
				m := &v3Message{msgID: 0x01020304 * int64(level+1), user: []byte(cu.Name)}
				pkt := a.v3Packet(m, u, level, []byte(ctx))
				pkt.PDUType, pkt.RequestID, pkt.Error, pkt.ErrorIndex = gosnmp.GetResponse, 4242, gosnmp.NoError, 0
				// Without the user (keys from pkt), and with it as the agent
				// encodes: its cipher and pooled HMACs, twice (a MAC reset
				// after use), into a reused buffer holding old octets.
				dirty := bytes.Repeat([]byte{0xa5}, 8192)
				var gots [][]byte
				for _, user := range []*usmUser{nil, u, u} {
					got, err := usmMessage(dirty[:0], pkt, vbl, user)
					if err != nil {
						t.Fatal(err)
					}
					gots = append(gots, bytes.Clone(got))
				}
				for _, vb := range res.varbinds {
					pkt.Variables = append(pkt.Variables, vb.varbind().PDU())
				}
				want, err := pkt.MarshalMsg()
				if err != nil {
					t.Fatal(err)
				}
				for i, got := range gots {
					if !bytes.Equal(got, want) {
						t.Errorf("%s, level %v, context %q, encoding #%d: encoded\n%x\ngosnmp\n%x", cu.Name, level, ctx, i, got, want)
					}
				}
			}
		}
	}
}

// TestServedLenIsExact: the GETBULK size budget counts each varbind with
// servedLen; it must be what appendServed writes.
func TestServedLenIsExact(t *testing.T) {
	a := newTestAgent(t, Config{Communities: []Community{{Name: "public"}}})
	v := a.mib.View(a.store.Snapshot())
	res := a.serve(v, &access{}, &request{pduType: gosnmp.GetBulkRequest, maxReps: 1000, oids: []OID{{0}}}, 1<<20, nil)
	res.varbinds = append(res.varbinds, servedList([]Varbind{{OID: OID{1, 3, 4294967295}, Type: gosnmp.Counter64, Value: uint64(math.MaxUint64)},
		{OID: OID{1, 3}, Type: gosnmp.Gauge32, Value: uint32(math.MaxUint32)}, {OID: OID{1, 3}, Type: gosnmp.Integer, Value: -129},
		{OID: OID{1, 3}, Type: gosnmp.OctetString, Value: dateAndTime(time.Date(2026, 12, 7, 6, 30, 1, 0, time.UTC))},
		{OID: OID{1, 3}, Type: gosnmp.ObjectIdentifier, Value: "1.3.6.1.4.1.32473"}}...)...)
	res.varbinds = append(res.varbinds, served{oid: OID{1, 3}, typ: gosnmp.OctetString, val: dateCell(time.Time{})},
		served{oid: OID{1, 3}, typ: gosnmp.OctetString, val: v.valueText(model.Number(1e300))})
	for _, vb := range res.varbinds {
		b, err := appendServed(nil, &vb)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != servedLen(&vb) {
			t.Errorf("%s (%v %+v): %d octets, servedLen %d", vb.oid, vb.typ, vb.val, len(b), servedLen(&vb))
		}
	}
}
