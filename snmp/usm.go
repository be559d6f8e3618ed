package snmp

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"net/netip"
	"strings"
	"sync"

	"github.com/gosnmp/gosnmp"
)

// usmUser is a configured SNMPv3 user with its keys localized to the
// agent's engine ID once, at start.
type usmUser struct {
	name    string
	auth    gosnmp.SnmpV3AuthProtocol
	priv    gosnmp.SnmpV3PrivProtocol
	authKey []byte
	privKey []byte
	hash    crypto.Hash
	macLen  int
	level   gosnmp.SnmpV3MsgFlags // the least security the user must use
	access  *access

	// Made once per user rather than per message: the AES key schedule
	// (read-only, shared by every request) and keyed HMACs, whose Reset
	// restores the keyed state without hashing the key again.
	block cipher.Block // nil without privacy
	macs  sync.Pool    // of hash.Hash
}

// mac returns a keyed HMAC of the user's; give it back with putMAC.
func (u *usmUser) mac() hash.Hash {
	if h, ok := u.macs.Get().(hash.Hash); ok {
		return h
	}
	return hmac.New(u.hash.New, u.authKey)
}

func (u *usmUser) putMAC(h hash.Hash) {
	h.Reset()
	u.macs.Put(h)
}

// macLengths are the truncated HMAC lengths of RFC 3414 and RFC 7860.
var macLengths = map[gosnmp.SnmpV3AuthProtocol]int{
	gosnmp.SHA: 12, gosnmp.SHA224: 16, gosnmp.SHA256: 24, gosnmp.SHA384: 32, gosnmp.SHA512: 48,
}

// newUSMUser localizes the user's keys to engineID (RFC 3414 A.2, with the
// AES key extensions of gosnmp) through gosnmp.
func newUSMUser(u User, engineID []byte) (*usmUser, error) {
	auth := authProtocols[strings.ToUpper(u.AuthProtocol)]
	priv := privProtocols[strings.ToUpper(u.PrivProtocol)]
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(engineID),
		AuthenticationProtocol:   auth,
		AuthenticationPassphrase: u.AuthPassphrase,
		PrivacyProtocol:          priv,
		PrivacyPassphrase:        u.PrivPassphrase,
	}
	if err := sp.InitSecurityKeys(); err != nil {
		return nil, fmt.Errorf("snmp: localizing the keys of user %q: %w", u.Name, err)
	}
	view, err := parseView(u.View)
	if err != nil {
		return nil, err
	}
	usr := &usmUser{name: u.Name, auth: auth, priv: priv, authKey: sp.SecretKey, privKey: sp.PrivacyKey,
		hash: auth.HashType(), macLen: macLengths[auth], level: gosnmp.AuthNoPriv, access: &access{name: "user " + u.Name, view: view}}
	if len(usr.authKey) == 0 {
		return nil, fmt.Errorf("snmp: user %q: no authentication key", u.Name)
	}
	if priv != gosnmp.NoPriv {
		usr.level = gosnmp.AuthPriv
		if len(usr.privKey) == 0 {
			return nil, fmt.Errorf("snmp: user %q: no privacy key", u.Name)
		}
		if usr.block, err = aes.NewCipher(usr.privKey); err != nil {
			return nil, fmt.Errorf("snmp: user %q: privacy key: %w", u.Name, err)
		}
	}
	return usr, nil
}

// v3Message is the header of an SNMPv3 message as received.
type v3Message struct {
	msgID      int64
	maxSize    int64
	flags      gosnmp.SnmpV3MsgFlags
	secModel   int64
	engineID   []byte
	boots      int64
	time       int64
	user       []byte
	authParams []byte
	authAt     int // offset of authParams' contents in the whole message
	privParams []byte
	dataTag    byte
	data       []byte // contents of msgData: a ScopedPDU SEQUENCE's contents, or the encrypted octets
	dataTLV    []byte // msgData whole, when it is a plaintext ScopedPDU
}

func (m *v3Message) reportable() bool { return m.flags&gosnmp.Reportable != 0 }

// level returns the security level the message claims.
func (m *v3Message) level() gosnmp.SnmpV3MsgFlags { return m.flags & gosnmp.AuthPriv }

// offsetIn returns where sub (a slice of whole) starts in whole.
func offsetIn(whole, sub []byte) int { return cap(whole) - cap(sub) }

// parseV3 reads the header of an SNMPv3 message; rest is the message
// SEQUENCE's contents after msgVersion.
func parseV3(whole []byte, rest *berReader) (*v3Message, error) {
	m := &v3Message{}
	gd, _, err := rest.expect(tagSequence, "msgGlobalData")
	if err != nil {
		return nil, err
	}
	g := berReader{b: gd}
	if m.msgID, err = g.readInt("msgID"); err != nil {
		return nil, err
	}
	if m.maxSize, err = g.readInt("msgMaxSize"); err != nil {
		return nil, err
	}
	fl, _, err := g.readOctets("msgFlags")
	if err != nil {
		return nil, err
	}
	if len(fl) != 1 {
		return nil, malformed("msgFlags of %d octets", len(fl))
	}
	m.flags = gosnmp.SnmpV3MsgFlags(fl[0])
	if m.secModel, err = g.readInt("msgSecurityModel"); err != nil {
		return nil, err
	}
	if !g.done() {
		return nil, malformed("octets after msgSecurityModel")
	}
	sp, _, err := rest.readOctets("msgSecurityParameters")
	if err != nil {
		return nil, err
	}
	if m.secModel == int64(gosnmp.UserSecurityModel) {
		s := berReader{b: sp}
		usm, _, err := s.expect(tagSequence, "UsmSecurityParameters")
		if err != nil {
			return nil, err
		}
		u := berReader{b: usm}
		if m.engineID, _, err = u.readOctets("msgAuthoritativeEngineID"); err != nil {
			return nil, err
		}
		if m.boots, err = u.readInt("msgAuthoritativeEngineBoots"); err != nil {
			return nil, err
		}
		if m.time, err = u.readInt("msgAuthoritativeEngineTime"); err != nil {
			return nil, err
		}
		if m.user, _, err = u.readOctets("msgUserName"); err != nil {
			return nil, err
		}
		if m.authParams, _, err = u.readOctets("msgAuthenticationParameters"); err != nil {
			return nil, err
		}
		m.authAt = offsetIn(whole, m.authParams)
		if m.privParams, _, err = u.readOctets("msgPrivacyParameters"); err != nil {
			return nil, err
		}
		if !u.done() || !s.done() {
			return nil, malformed("octets after msgPrivacyParameters")
		}
		if len(m.engineID) > 32 || len(m.user) > 32 {
			return nil, malformed("engine ID or user name longer than 32 octets")
		}
	}
	start := rest.off
	tag, data, _, err := rest.next()
	if err != nil {
		return nil, fmt.Errorf("msgData: %w", err)
	}
	if !rest.done() {
		return nil, malformed("octets after msgData")
	}
	m.dataTag, m.data = tag, data
	if tag == tagSequence {
		m.dataTLV = rest.b[start:rest.off]
	}
	return m, nil
}

// authentic reports whether the message's MAC is right for u. It zeroes
// the MAC field of whole in place (RFC 3414 6.3.2).
func (u *usmUser) authentic(whole []byte, m *v3Message) bool {
	if len(m.authParams) != u.macLen {
		return false
	}
	var got [48]byte
	copy(got[:], m.authParams)
	clear(whole[m.authAt : m.authAt+u.macLen])
	mac := u.mac()
	mac.Write(whole)
	var buf [64]byte
	sum := mac.Sum(buf[:0])
	u.putMAC(mac)
	return subtle.ConstantTimeCompare(sum[:u.macLen], got[:u.macLen]) == 1
}

// decrypt returns the plaintext ScopedPDU of an authPriv message (RFC 3826:
// AES-CFB128, IV = boots, time, salt), or false when it cannot be
// decrypted.
func (u *usmUser) decrypt(m *v3Message) ([]byte, bool) {
	if m.dataTag != tagOctetString || len(m.privParams) != 8 || len(m.data) == 0 || u.block == nil {
		return nil, false
	}
	var iv [16]byte
	binary.BigEndian.PutUint32(iv[0:], uint32(m.boots))
	binary.BigEndian.PutUint32(iv[4:], uint32(m.time))
	copy(iv[8:], m.privParams)
	plain := make([]byte, len(m.data))
	cipher.NewCFBDecrypter(u.block, iv[:]).XORKeyStream(plain, m.data) //nolint:staticcheck // RFC 3826 specifies CFB
	return plain, true
}

// scopedPDU is the decoded ScopedPDU of a v3 message.
type scopedPDU struct {
	contextEngineID []byte
	contextName     []byte
	pdu             []byte // the PDU TLV
}

// parseScopedPDU reads a ScopedPDU TLV (after decryption: trailing octets
// beyond it are ignored, as padding).
func parseScopedPDU(b []byte) (*scopedPDU, error) {
	r := berReader{b: b}
	c, _, err := r.expect(tagSequence, "ScopedPDU")
	if err != nil {
		return nil, err
	}
	s := berReader{b: c}
	var sp scopedPDU
	if sp.contextEngineID, _, err = s.readOctets("contextEngineID"); err != nil {
		return nil, err
	}
	if sp.contextName, _, err = s.readOctets("contextName"); err != nil {
		return nil, err
	}
	sp.pdu = c[s.off:]
	return &sp, nil
}

func (a *Agent) handleV3(dst, whole []byte, rest *berReader, from netip.AddrPort) []byte {
	m, err := parseV3(whole, rest)
	if err != nil {
		return a.drop(dropParse, from, err)
	}
	switch {
	case m.msgID < 0 || m.msgID > math.MaxInt32 || m.maxSize < minMaxMessageSize || m.maxSize > math.MaxInt32:
		return a.drop(dropInvalidMsg, from, errors.New("msgID or msgMaxSize out of range"))
	case m.flags&gosnmp.AuthPriv == 0x02:
		return a.drop(dropInvalidMsg, from, errors.New("privacy without authentication"))
	case m.secModel != int64(gosnmp.UserSecurityModel):
		return a.drop(dropUnknownSecModel, from, fmt.Errorf("security model %d (only USM is served)", m.secModel))
	}
	if !bytes.Equal(m.engineID, a.engine.id) {
		// Engine discovery (RFC 3414 4) lands here too.
		return a.report(m, nil, authUnknownEngineID, usmStatsUnknownEngineIDs, from)
	}
	u := a.credentials.Load().users[string(m.user)]
	switch {
	case u == nil:
		return a.report(m, nil, authUnknownUser, usmStatsUnknownUserNames, from)
	case m.level() == gosnmp.AuthPriv && u.priv == gosnmp.NoPriv:
		return a.report(m, nil, authUnsupportedSecLevel, usmStatsUnsupportedSecLevels, from)
	}
	if m.level()&gosnmp.AuthNoPriv != 0 {
		if !u.authentic(whole, m) {
			return a.report(m, nil, authWrongDigest, usmStatsWrongDigests, from)
		}
		boots, now := int64(a.engine.Boots()), int64(a.engine.Time())
		if boots == math.MaxInt32 || m.boots != boots || m.time < now-150 || m.time > now+150 {
			return a.report(m, u, authNotInTimeWindow, usmStatsNotInTimeWindows, from)
		}
	}
	scoped := m.dataTLV
	if m.level() == gosnmp.AuthPriv {
		plain, ok := u.decrypt(m)
		if !ok {
			return a.report(m, nil, authDecryption, usmStatsDecryptionErrors, from)
		}
		scoped = plain
	} else if m.dataTag != tagSequence {
		return a.drop(dropParse, from, errors.New("encrypted ScopedPDU in a message without privacy"))
	}
	sp, err := parseScopedPDU(scoped)
	var req *request
	if err == nil {
		req, err = parsePDU(sp.pdu)
	}
	if err != nil && !errors.Is(err, errTooManyVarbinds) {
		if m.level() == gosnmp.AuthPriv { // garbage after decryption: wrong privacy key
			return a.report(m, nil, authDecryption, usmStatsDecryptionErrors, from)
		}
		return a.drop(dropParse, from, err)
	}
	if len(sp.contextEngineID) > 0 && !bytes.Equal(sp.contextEngineID, a.engine.id) {
		return a.report(m, nil, authUnknownPDUHandler, snmpUnknownPDUHandlers, from)
	}
	if len(sp.contextName) > 0 {
		return a.report(m, nil, authUnknownContext, snmpUnknownContexts, from)
	}
	maxSize := int(min(m.maxSize, int64(a.cfg.MaxMessageSize)))
	pkt := a.v3Packet(m, u, m.level(), sp.contextName)
	pkt.PDUType = gosnmp.GetResponse
	if m.level() < u.level {
		// The user must use more security than this request has: refuse
		// like a VACM without a view at this level.
		a.stats.count(respAuthorizationErr)
		if req.requestID < 0 {
			return a.drop(dropParse, from, errors.New("negative request-id"))
		}
		pkt.RequestID = uint32(req.requestID)
		return a.encode(dst, pkt, u, result{status: gosnmp.AuthorizationError}, maxSize, from)
	}
	budget := maxSize - 170 - 2*len(a.engine.id) - len(m.user)
	return a.answer(dst, pkt, u, req, err, u.access, 1, maxSize, budget, from)
}

// v3Packet returns a response packet for m from user u (nil: unauthenticated)
// at the given security level.
func (a *Agent) v3Packet(m *v3Message, u *usmUser, level gosnmp.SnmpV3MsgFlags, contextName []byte) *gosnmp.SnmpPacket {
	sp := &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:    string(a.engine.id),
		AuthoritativeEngineBoots: a.engine.Boots(),
		AuthoritativeEngineTime:  a.engine.Time(),
		UserName:                 string(m.user),
		AuthenticationProtocol:   gosnmp.NoAuth,
		PrivacyProtocol:          gosnmp.NoPriv,
	}
	if u != nil && level&gosnmp.AuthNoPriv != 0 {
		sp.AuthenticationProtocol, sp.SecretKey = u.auth, u.authKey
		if level == gosnmp.AuthPriv {
			sp.PrivacyProtocol, sp.PrivacyKey = u.priv, u.privKey
			salt := make([]byte, 8)
			binary.BigEndian.PutUint64(salt, a.salt.Add(1))
			sp.PrivacyParameters = salt
		}
	} else {
		level = gosnmp.NoAuthNoPriv
	}
	return &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: uint32(m.msgID), MsgMaxSize: uint32(a.cfg.MaxMessageSize),
		MsgFlags: level, SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: sp,
		ContextEngineID: string(a.engine.id), ContextName: string(contextName)}
}

// report answers a v3 message that failed USM or context checks with a
// Report PDU carrying the counter, if the message asked for reports. Only
// notInTimeWindow reports are authenticated (u set), so the manager can
// trust the engine time in it; none carries any data.
func (a *Agent) report(m *v3Message, u *usmUser, r reason, counter *Object, from netip.AddrPort) []byte {
	n := a.stats.count(r)
	if r != authUnknownEngineID && r != authNotInTimeWindow {
		a.limit.log(a.log, slog.LevelWarn, reasonNames[r].label, "snmp: SNMPv3 request refused", "reason", reasonNames[r].label,
			"user", string(m.user), "from", from.String())
	}
	if !m.reportable() {
		return nil
	}
	level := gosnmp.NoAuthNoPriv
	if u != nil {
		level = gosnmp.AuthNoPriv
	}
	pkt := a.v3Packet(m, u, level, nil)
	pkt.PDUType = gosnmp.Report
	// The request-id is known only when the PDU was not encrypted.
	if m.level() != gosnmp.AuthPriv && m.dataTag == tagSequence {
		if sp, err := parseScopedPDU(m.dataTLV); err == nil {
			if req, err := parsePDU(sp.pdu); req != nil && (err == nil || errors.Is(err, errTooManyVarbinds)) && req.requestID >= 0 {
				pkt.RequestID = uint32(req.requestID)
			}
		}
	}
	vbl, err := appendVarbind(nil, &Varbind{OID: counter.OID.Append(0), Type: counter.Type, Value: uint32(n)})
	if err != nil {
		return a.drop(dropEncode, from, err)
	}
	out, err := usmMessage(nil, pkt, vbl, u)
	if err != nil {
		return a.drop(dropEncode, from, err)
	}
	return out
}
