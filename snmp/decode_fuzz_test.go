package snmp

// Fuzz targets of the agent's hand-written decoders, one decoder each
// (FuzzHandle in agent_test.go drives them all through the agent).
// test/fuzz-campaign.sh runs them for a stated time; what they find is kept
// under testdata/fuzz as regression inputs.

import (
	"bytes"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// FuzzParsePDU: the BER PDU decoder never panics, and what it accepts is
// consistent: a varbind value per OID, no more than the varbind bound, OIDs
// that print and parse back to themselves.
func FuzzParsePDU(f *testing.F) {
	for _, b := range [][]byte{
		v2cRequest(f, testCommunity, gosnmp.GetRequest, 0, 0, "1.3.6.1.2.1.1.1.0", svgCageId.OID.Append(3).String()),
		v2cRequest(f, testCommunity, gosnmp.GetBulkRequest, 1, 30, "1.3.6.1.2.1.1", rootOID.String()),
		v2cRequest(f, testCommunity, gosnmp.SetRequest, 0, 0, "1.3.6.1.2.1.1.5.0"),
	} {
		// The PDU is what follows the version and community.
		r := berReader{b: b}
		msg, _, _ := r.expect(tagSequence, "message")
		m := berReader{b: msg}
		m.readInt("version")
		m.readOctets("community")
		f.Add(bytes.Clone(m.b[m.off:]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parsePDU(b)
		if req == nil {
			if err == nil {
				t.Fatal("no request and no error")
			}
			return
		}
		if len(req.oids) > maxRequestVarbinds || len(req.values) != len(req.oids) {
			t.Fatalf("%d OIDs, %d values", len(req.oids), len(req.values))
		}
		for _, o := range req.oids {
			back, err := ParseOID(o.String())
			if err != nil || !back.Equal(o) {
				t.Fatalf("OID %v does not parse back: %v %v", o, back, err)
			}
		}
		for _, raw := range req.values {
			decodeValue(raw)
		}
	})
}

// FuzzParseV3: the SNMPv3 message and USM security parameters decoder never
// panics, and what it accepts stays within the message.
func FuzzParseV3(f *testing.F) {
	a := newTestAgent(f, testConfig())
	c := newV3Client(f, testUsers[0], a.engine.ID(), a.engine.Boots(), a.engine.Time())
	f.Add(c.request(gosnmp.AuthPriv, rootOID.String()))
	f.Add(newV3Client(f, testUsers[4], a.engine.ID(), a.engine.Boots(), a.engine.Time()).request(gosnmp.AuthNoPriv, rootOID.String()))
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: 1, MsgMaxSize: 65507, MsgFlags: gosnmp.Reportable,
		SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: &gosnmp.UsmSecurityParameters{}, PDUType: gosnmp.GetRequest}
	b, _ := p.MarshalMsg()
	f.Add(b)
	f.Fuzz(func(t *testing.T, whole []byte) {
		r := berReader{b: whole}
		msg, _, err := r.expect(tagSequence, "message")
		if err != nil {
			return
		}
		rest := berReader{b: msg}
		if _, err := rest.readInt("msgVersion"); err != nil {
			return
		}
		m, err := parseV3(whole, &rest)
		if err != nil {
			return
		}
		if m.authAt < 0 || m.authAt+len(m.authParams) > len(whole) {
			t.Fatalf("authParams at %d+%d outside the %d-octet message", m.authAt, len(m.authParams), len(whole))
		}
		if m.dataTag == tagSequence {
			if sp, err := parseScopedPDU(m.dataTLV); err == nil {
				parsePDU(sp.pdu)
			}
		}
	})
}
