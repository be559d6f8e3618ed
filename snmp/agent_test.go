package snmp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

var testFrom = netip.MustParseAddrPort("127.0.0.1:40000")

// newTestAgent returns an agent (not listening) over the fixture store.
func newTestAgent(t testing.TB, cfg Config) *Agent {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	a, err := NewAgent(cfg, newFixtureStore(t, smallFootprint()), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// v2cRequest encodes a v2c request with gosnmp.
func v2cRequest(t testing.TB, community string, pduType gosnmp.PDUType, nonRep uint8, maxReps uint32, oids ...string) []byte {
	t.Helper()
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: community, PDUType: pduType, RequestID: 77,
		NonRepeaters: nonRep, MaxRepetitions: maxReps}
	for _, o := range oids {
		p.Variables = append(p.Variables, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
	}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeV2c decodes a v2c response with gosnmp.
func decodeV2c(t testing.TB, b []byte) *gosnmp.SnmpPacket {
	t.Helper()
	if b == nil {
		t.Fatal("no response")
	}
	p, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(b)
	if err != nil {
		t.Fatalf("decoding the response: %v", err)
	}
	return p
}

func TestGetBulkBounds(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRepetitions = 20
	cfg.MaxVarbinds = 50
	a := newTestAgent(t, cfg)
	root := rootOID.String()
	for _, c := range []struct {
		name    string
		nonRep  uint8
		maxReps uint32
		oids    []string
		want    int
	}{
		{"max-repetitions capped", 0, 1000, []string{root}, 20},
		{"total varbinds capped", 0, 1000, []string{root, root, root}, 48},
		{"non-repeaters only", 2, 1000, []string{root, root}, 2},
		{"non-repeaters beyond the list", 9, 10, []string{root}, 1},
		{"zero repetitions", 0, 0, []string{root}, 0},
		{"repeaters at the end stop early", 0, 20, []string{"1.3.6.1.6.3.15.1.1.6.0"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := decodeV2c(t, a.handle(v2cRequest(t, testCommunity, gosnmp.GetBulkRequest, c.nonRep, c.maxReps, c.oids...), testFrom))
			if resp.Error != gosnmp.NoError || len(resp.Variables) != c.want || resp.RequestID != 77 {
				t.Errorf("error %v, %d varbinds, request-id %d; want %d varbinds", resp.Error, len(resp.Variables), resp.RequestID, c.want)
			}
			for i := 1; i < len(resp.Variables) && c.nonRep == 0 && len(c.oids) == 1; i++ {
				if MustParseOID(resp.Variables[i].Name).Compare(MustParseOID(resp.Variables[i-1].Name)) <= 0 {
					t.Fatalf("varbind %d not increasing", i)
				}
			}
		})
	}
	// A GET of more varbinds than max_varbinds: tooBig.
	oids := make([]string, 51)
	for i := range oids {
		oids[i] = svgUpstreamState.OID.Append(0).String()
	}
	if resp := decodeV2c(t, a.handle(v2cRequest(t, testCommunity, gosnmp.GetRequest, 0, 0, oids...), testFrom)); resp.Error != gosnmp.TooBig || len(resp.Variables) != 0 {
		t.Errorf("GET of 51 varbinds (max 50): %v with %d varbinds", resp.Error, len(resp.Variables))
	}
}

func TestCommunityAccess(t *testing.T) {
	cfg := Config{Communities: []Community{
		{Name: "local", Sources: []string{"127.0.0.1"}, View: []string{"1.3.6.1.2.1.1", rootOID.Append(1, 4).String()}},
		{Name: "any"},
	}}
	a := newTestAgent(t, cfg)
	get := func(comm string, from netip.AddrPort, pdu gosnmp.PDUType, oid string) []byte {
		return a.handle(v2cRequest(t, comm, pdu, 0, 0, oid), from)
	}
	other := netip.MustParseAddrPort("10.1.2.3:5000")
	if get("local", other, gosnmp.GetRequest, "1.3.6.1.2.1.1.5.0") != nil {
		t.Error("community answered from a source it does not allow")
	}
	if get("nope", testFrom, gosnmp.GetRequest, "1.3.6.1.2.1.1.5.0") != nil {
		t.Error("unknown community answered")
	}
	if get("any", netip.MustParseAddrPort("[::ffff:10.1.2.3]:5"), gosnmp.GetRequest, "1.3.6.1.2.1.1.5.0") == nil {
		t.Error("community without sources refused")
	}
	// The view: the system group and the cage table only.
	resp := decodeV2c(t, get("local", testFrom, gosnmp.GetRequest, svgUpstreamState.OID.Append(0).String()))
	if resp.Variables[0].Type != gosnmp.NoSuchObject {
		t.Errorf("GET outside the view: %v", resp.Variables[0])
	}
	var walked []string
	for oid := "1.3.6.1.2.1.1"; len(walked) < 1000; {
		resp := decodeV2c(t, get("local", testFrom, gosnmp.GetNextRequest, oid))
		vb := resp.Variables[0]
		if vb.Type == gosnmp.EndOfMibView {
			break
		}
		walked = append(walked, vb.Name)
		oid = vb.Name
	}
	for _, o := range walked {
		if !strings.HasPrefix(o, ".1.3.6.1.2.1.1.") && !strings.HasPrefix(o, "."+rootOID.Append(1, 4).String()+".") {
			t.Errorf("walk left the view: %s", o)
		}
	}
	if len(walked) != 8+3*len(sysORs)+5*5 { // system group with sysORTable; 5 cages × 5 columns
		t.Errorf("walked %d instances: %v", len(walked), walked)
	}
}

func TestSetRefused(t *testing.T) {
	a := newTestAgent(t, testConfig())
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: testCommunity, PDUType: gosnmp.SetRequest, RequestID: 9,
		Variables: []gosnmp.SnmpPDU{
			{Name: svgCageLabel.OID.Append(3).String(), Type: gosnmp.OctetString, Value: "x"},
			{Name: "1.3.6.1.2.1.1.5.0", Type: gosnmp.Integer, Value: -5},
			{Name: "1.3.6.1.2.1.1.6.0", Type: gosnmp.Gauge32, Value: uint32(7)},
		}}
	b, _ := p.MarshalMsg()
	resp := decodeV2c(t, a.handle(b, testFrom))
	if resp.Error != gosnmp.NoAccess || resp.ErrorIndex != 1 || len(resp.Variables) != 3 {
		t.Fatalf("SET: %v index %d, %d varbinds", resp.Error, resp.ErrorIndex, len(resp.Variables))
	}
	if string(resp.Variables[0].Value.([]byte)) != "x" || resp.Variables[1].Value != -5 || resp.Variables[2].Value != uint(7) {
		t.Errorf("varbinds not echoed: %v", resp.Variables)
	}
	if a.stats.reasons[respNoAccess].Load() != 1 {
		t.Error("SET not counted")
	}
}

// v3Client builds v3 requests and reads responses as a manager would.
type v3Client struct {
	t  testing.TB
	sp *gosnmp.UsmSecurityParameters
}

func newV3Client(t testing.TB, u User, engineID []byte, boots, engineTime uint32) *v3Client {
	sp := &gosnmp.UsmSecurityParameters{UserName: u.Name, AuthoritativeEngineID: string(engineID),
		AuthoritativeEngineBoots: boots, AuthoritativeEngineTime: engineTime,
		AuthenticationProtocol: authProtocols[u.AuthProtocol], AuthenticationPassphrase: u.AuthPassphrase,
		PrivacyProtocol: privProtocols[u.PrivProtocol], PrivacyPassphrase: u.PrivPassphrase}
	if err := sp.InitSecurityKeys(); err != nil {
		t.Fatal(err)
	}
	return &v3Client{t: t, sp: sp}
}

func (c *v3Client) request(flags gosnmp.SnmpV3MsgFlags, oids ...string) []byte {
	c.t.Helper()
	return c.requestFlags(flags|gosnmp.Reportable, oids...)
}

// requestFlags is request with exactly flags: without gosnmp.Reportable the
// manager asks for no report.
func (c *v3Client) requestFlags(flags gosnmp.SnmpV3MsgFlags, oids ...string) []byte {
	c.t.Helper()
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: 4242, MsgMaxSize: 65507, MsgFlags: flags,
		SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: c.sp.Copy(), ContextEngineID: c.sp.AuthoritativeEngineID,
		PDUType: gosnmp.GetRequest, RequestID: 31}
	for _, o := range oids {
		p.Variables = append(p.Variables, gosnmp.SnmpPDU{Name: o, Type: gosnmp.Null})
	}
	if flags&gosnmp.AuthPriv == gosnmp.AuthPriv {
		if err := p.SecurityParameters.InitPacket(p); err != nil {
			c.t.Fatal(err)
		}
	}
	b, err := p.MarshalMsg()
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

func (c *v3Client) decode(b []byte, flags gosnmp.SnmpV3MsgFlags) *gosnmp.SnmpPacket {
	c.t.Helper()
	if b == nil {
		c.t.Fatal("no response")
	}
	x := &gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel, MsgFlags: flags, SecurityParameters: c.sp.Copy()}
	p, err := x.SnmpDecodePacket(b)
	if err != nil {
		c.t.Fatalf("decoding the response: %v", err)
	}
	return p
}

func TestV3Reports(t *testing.T) {
	a := newTestAgent(t, testConfig())
	u := testUsers[0] // SHA-256, AES
	id, boots := a.engine.ID(), a.engine.Boots()
	stateOID := svgUpstreamState.OID.Append(0).String()

	// Engine discovery: nothing known, no user.
	disc := newV3Client(t, User{Name: "probe"}, nil, 0, 0) // gosnmp decodes only with a user name
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: 1, MsgMaxSize: 65507, MsgFlags: gosnmp.Reportable,
		SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: &gosnmp.UsmSecurityParameters{}, PDUType: gosnmp.GetRequest, RequestID: 5}
	b, _ := p.MarshalMsg()
	resp := disc.decode(a.handle(b, testFrom), gosnmp.NoAuthNoPriv)
	rsp := resp.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if resp.PDUType != gosnmp.Report || resp.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.4.0" || rsp.AuthoritativeEngineID != string(id) ||
		rsp.AuthoritativeEngineBoots != boots || resp.MsgID != 1 || resp.RequestID != 5 {
		t.Errorf("discovery: %v %v engine %x boots %d msgID %d", resp.PDUType, resp.Variables, rsp.AuthoritativeEngineID, rsp.AuthoritativeEngineBoots, resp.MsgID)
	}
	// Without the reportable flag: no answer at all.
	b[bytes.Index(b, []byte{0x04, 0x01, byte(gosnmp.Reportable)})+2] = 0
	if a.handle(b, testFrom) != nil {
		t.Error("non-reportable discovery answered")
	}

	// Out of the time window: an authenticated report with the engine's
	// boots and time, so the manager can synchronize.
	late := newV3Client(t, u, id, boots+1, 0)
	out := a.handle(late.request(gosnmp.AuthPriv, stateOID), testFrom)
	resp = late.decode(bytes.Clone(out), gosnmp.AuthNoPriv) // gosnmp blanks the MAC in place
	rsp = resp.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if resp.PDUType != gosnmp.Report || resp.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.2.0" || resp.MsgFlags&gosnmp.AuthPriv != gosnmp.AuthNoPriv ||
		rsp.AuthoritativeEngineBoots != boots {
		t.Errorf("not in time window: %v %v flags %v boots %d", resp.PDUType, resp.Variables, resp.MsgFlags, rsp.AuthoritativeEngineBoots)
	}
	if !reportAuthentic(t, out, late.sp.SecretKey, 24) {
		t.Error("notInTimeWindow report is not authenticated with the user's key")
	}
	far := newV3Client(t, u, id, boots, a.engine.Time()+1000)
	if resp := far.decode(a.handle(far.request(gosnmp.AuthPriv, stateOID), testFrom), gosnmp.AuthNoPriv); resp.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.2.0" {
		t.Errorf("engine time 1000 s ahead: %v", resp.Variables)
	}

	// In the window: data, encrypted.
	ok := newV3Client(t, u, id, boots, a.engine.Time())
	resp = ok.decode(a.handle(ok.request(gosnmp.AuthPriv, stateOID), testFrom), gosnmp.AuthPriv)
	if resp.PDUType != gosnmp.GetResponse || resp.Variables[0].Value != 2 || resp.MsgFlags&gosnmp.AuthPriv != gosnmp.AuthPriv {
		t.Errorf("authPriv GET: %v %v flags %v", resp.PDUType, resp.Variables, resp.MsgFlags)
	}

	// Wrong digest: a report, unauthenticated, without data.
	bad := u
	bad.AuthPassphrase = "not-the-pass"
	wrong := newV3Client(t, bad, id, boots, a.engine.Time())
	out = a.handle(wrong.request(gosnmp.AuthPriv, stateOID), testFrom)
	resp = wrong.decode(out, gosnmp.NoAuthNoPriv)
	if resp.PDUType != gosnmp.Report || resp.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.5.0" || resp.MsgFlags&gosnmp.AuthPriv != 0 {
		t.Errorf("wrong digest: %v %v", resp.PDUType, resp.Variables)
	}

	// An unknown context name is reported.
	pc := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: 7, MsgMaxSize: 65507, MsgFlags: gosnmp.AuthNoPriv | gosnmp.Reportable,
		SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: newV3Client(t, testUsers[4], id, boots, a.engine.Time()).sp.Copy(),
		ContextEngineID: string(id), ContextName: "vlan-12", PDUType: gosnmp.GetRequest, RequestID: 8,
		Variables: []gosnmp.SnmpPDU{{Name: stateOID, Type: gosnmp.Null}}}
	b, _ = pc.MarshalMsg()
	resp = disc.decode(a.handle(b, testFrom), gosnmp.NoAuthNoPriv)
	if resp.Variables[0].Name != ".1.3.6.1.6.3.12.1.5.0" {
		t.Errorf("unknown context: %v", resp.Variables)
	}
}

// reportAuthentic checks an HMAC-SHA-256-192 message MAC with key.
func reportAuthentic(t *testing.T, msg, key []byte, macLen int) bool {
	t.Helper()
	r := berReader{b: msg}
	c, _, _ := r.expect(tagSequence, "message")
	m := berReader{b: c}
	m.readInt("version")
	v3, err := parseV3(msg, &m)
	if err != nil || len(v3.authParams) != macLen {
		return false
	}
	got := bytes.Clone(v3.authParams)
	zeroed := bytes.Clone(msg)
	clear(zeroed[v3.authAt : v3.authAt+macLen])
	mac := hmac.New(sha256.New, key)
	mac.Write(zeroed)
	return hmac.Equal(mac.Sum(nil)[:macLen], got)
}

func TestEngineBoots(t *testing.T) {
	dir := t.TempDir()
	e1, err := OpenEngine(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	e2, err := OpenEngine(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e1.ID(), e2.ID()) || e1.Boots() != 1 || e2.Boots() != 2 {
		t.Errorf("restart: IDs %x %x, boots %d %d", e1.ID(), e2.ID(), e1.Boots(), e2.Boots())
	}
	if id := e1.ID(); len(id) != 13 || id[0] != 0x80 || id[4] != 5 || uint32(id[1])<<16|uint32(id[2])<<8|uint32(id[3]) != rootOID[6] {
		t.Errorf("generated engine ID %x is not RFC 3411 format 5 under PEN %d", id, rootOID[6])
	}
	e3, err := OpenEngine(dir, "0x80007ed90301020304")
	if err != nil {
		t.Fatal(err)
	}
	e4, _ := OpenEngine(dir, "80:00:7e:d9:03:01:02:03:04")
	if !bytes.Equal(e3.ID(), []byte{0x80, 0, 0x7e, 0xd9, 3, 1, 2, 3, 4}) || e3.Boots() != 1 || e4.Boots() != 2 {
		t.Errorf("configured ID: %x boots %d, then %d", e3.ID(), e3.Boots(), e4.Boots())
	}
	os.WriteFile(filepath.Join(dir, EngineFile), []byte("{"), 0o644)
	if _, err := OpenEngine(dir, ""); err == nil {
		t.Error("corrupt engine state accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil || c.Listen != DefaultListen || c.MaxMessageSize != 65507 || c.MaxRepetitions == 0 {
		t.Errorf("defaults: %v %+v", err, c)
	}
	secret := "s3cr3t-value"
	bad := Config{
		Listen: "nowhere", EngineID: "zz", MaxMessageSize: 100, MaxVarbinds: 5000,
		Communities: []Community{{Name: ""}, {Name: secret, Sources: []string{"10.0.0.0/33"}, View: []string{"1.x"}}, {Name: secret}},
		Users: []User{
			{Name: "a", AuthProtocol: "MD5", AuthPassphrase: "short"},
			{Name: "a", AuthProtocol: "SHA-256", AuthPassphrase: secret, PrivProtocol: "DES", PrivPassphrase: secret},
			{Name: "b", AuthProtocol: "SHA", AuthPassphrase: secret, PrivProtocol: "AES", PrivPassphrase: "short"},
		},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"snmp.listen", "snmp.engine_id", "snmp.max_message_size", "snmp.max_varbinds",
		"snmp.communities[0].name", "snmp.communities[1].sources", "snmp.communities[1].view", "snmp.communities[2].name",
		"snmp.users[0].auth_protocol", "snmp.users[0].auth_passphrase", "snmp.users[1].name", "snmp.users[1].priv_protocol",
		"snmp.users[2].priv_passphrase"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("no error for %s in:\n%v", key, err)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("a secret reached the error message:\n%v", err)
	}
}

// TestMalformedPackets: truncated and corrupted messages are dropped and
// counted, never answered or fatal.
func TestMalformedPackets(t *testing.T) {
	a := newTestAgent(t, testConfig())
	good := v2cRequest(t, testCommunity, gosnmp.GetBulkRequest, 0, 10, rootOID.String())
	for n := 0; n < len(good); n++ {
		if out := a.handle(good[:n], testFrom); out != nil {
			t.Fatalf("truncated to %d octets: answered", n)
		}
	}
	if got := a.stats.reasons[dropParse].Load(); got != uint64(len(good)) {
		t.Errorf("%d parse errors counted for %d truncated packets", got, len(good))
	}
	for _, b := range [][]byte{
		{0x30, 0x84, 0xff, 0xff, 0xff, 0xff},                   // huge length
		{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00},             // indefinite length
		{0x30, 0x03, 0x02, 0x01, 0x02},                         // version 2 (SNMPv2u): not served
		append(bytes.Clone(good), 0),                           // trailing octet
		{0x30, 0x0a, 0x02, 0x01, 0x03, 0x30, 0x05, 0x02, 0x01}, // v3, cut header
	} {
		if a.handle(b, testFrom) != nil {
			t.Errorf("%x answered", b)
		}
	}
	if a.stats.reasons[dropBadVersion].Load() != 1 {
		t.Error("SNMPv2u not counted as a bad version")
	}
	if _, err := parsePDU([]byte{0xa0, 0x03, 0x02, 0x01, 0x01}); !errors.Is(err, errMalformed) {
		t.Errorf("short PDU: %v", err)
	}
}

// FuzzHandle feeds arbitrary packets to the agent: it must never panic,
// and whatever it answers must be a well-formed message within the size.
func FuzzHandle(f *testing.F) {
	cfg := testConfig()
	cfg.Communities = append(cfg.Communities, Community{Name: "v1", Versions: []string{"v1"}})
	a := newTestAgent(f, cfg)
	for _, pt := range []gosnmp.PDUType{gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.SetRequest} {
		v1 := v2cRequest(f, "v1", pt, 0, 0, svgFeedEvents.OID.Append(0).String(), svgCageId.OID.Append(3).String())
		v1[4] = 0 // version 1 (SNMPv1): the first INTEGER of the message
		f.Add(v1)
	}
	f.Add(v2cRequest(f, testCommunity, gosnmp.GetRequest, 0, 0, "1.3.6.1.2.1.1.1.0", svgCageId.OID.Append(3).String()))
	f.Add(v2cRequest(f, testCommunity, gosnmp.GetNextRequest, 0, 0, rootOID.String()))
	f.Add(v2cRequest(f, testCommunity, gosnmp.GetBulkRequest, 1, 30, "1.3.6.1.2.1.1", rootOID.String()))
	f.Add(v2cRequest(f, "wrong", gosnmp.GetRequest, 0, 0, "1.3.6.1.2.1.1.1.0"))
	c := newV3Client(f, testUsers[0], a.engine.ID(), a.engine.Boots(), a.engine.Time())
	f.Add(c.request(gosnmp.AuthPriv, rootOID.String()))
	f.Add(newV3Client(f, testUsers[4], a.engine.ID(), a.engine.Boots(), a.engine.Time()).request(gosnmp.AuthNoPriv, rootOID.String()))
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: 1, MsgMaxSize: 65507, MsgFlags: gosnmp.Reportable,
		SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: &gosnmp.UsmSecurityParameters{}, PDUType: gosnmp.GetRequest}
	b, _ := p.MarshalMsg()
	f.Add(b)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out := a.handle(bytes.Clone(pkt), testFrom)
		if out == nil {
			return
		}
		if len(out) > a.cfg.MaxMessageSize {
			t.Fatalf("response of %d octets", len(out))
		}
		r := berReader{b: out}
		if _, _, err := r.expect(tagSequence, "response"); err != nil || !r.done() {
			t.Fatalf("malformed response %x: %v", out, err)
		}
	})
}

// TestV3WrongDigestUnreportableUnanswered: an authNoPriv request whose
// digest is wrong (a wrong passphrase) and that asks for no report gets no
// datagram at all, over UDP: not data, not a report. The same request with
// the right passphrase is answered, and with the reportable flag gets the
// wrongDigests report, so the silence is the digest check's doing.
func TestV3WrongDigestUnreportableUnanswered(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, testConfig(), store, Deps{})
	u := testUsers[4] // SHA-224, authNoPriv
	stateOID := svgUpstreamState.OID.Append(0).String()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// exchange sends pkt and returns the answer, nil if none came within
	// wait (the bound of this test: loopback answers take microseconds).
	exchange := func(pkt []byte, wait time.Duration) []byte {
		t.Helper()
		if _, err := conn.Write(pkt); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 65536)
		n, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			t.Fatal(err)
		}
		return buf[:n]
	}
	right := newV3Client(t, u, a.engine.ID(), a.engine.Boots(), a.engine.Time())
	if resp := right.decode(exchange(right.requestFlags(gosnmp.AuthNoPriv, stateOID), 10*time.Second), gosnmp.AuthNoPriv); resp.PDUType != gosnmp.GetResponse || resp.Variables[0].Value != 2 {
		t.Fatalf("the right passphrase, not reportable: %v %v", resp.PDUType, resp.Variables)
	}
	bad := u
	bad.AuthPassphrase = "not-the-passphrase"
	wrong := newV3Client(t, bad, a.engine.ID(), a.engine.Boots(), a.engine.Time())
	before := a.stats.reasons[authWrongDigest].Load()
	if out := exchange(wrong.requestFlags(gosnmp.AuthNoPriv, stateOID), 2*time.Second); out != nil {
		t.Fatalf("a wrong digest without the reportable flag was answered (%d octets): %x", len(out), out)
	}
	if a.stats.reasons[authWrongDigest].Load() != before+1 {
		t.Errorf("the unanswered request was not counted as a wrong digest")
	}
	resp := wrong.decode(exchange(wrong.requestFlags(gosnmp.AuthNoPriv|gosnmp.Reportable, stateOID), 10*time.Second), gosnmp.NoAuthNoPriv)
	if resp.PDUType != gosnmp.Report || resp.Variables[0].Name != ".1.3.6.1.6.3.15.1.1.5.0" {
		t.Errorf("a wrong digest, reportable: %v %v, want the usmStatsWrongDigests report", resp.PDUType, resp.Variables)
	}
}
