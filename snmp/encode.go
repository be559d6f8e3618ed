package snmp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gosnmp/gosnmp"
)

// This file writes response PDUs. A walk is mostly encoding: gosnmp's
// marshaller takes each OID as a dotted string (which the agent had to
// print and gosnmp parses back) and builds every TLV in its own buffers,
// about ten allocations per varbind. Here a response is appended into one
// buffer whose lengths are computed before the contents are written, the
// OIDs straight from their sub-identifiers. The octets are those gosnmp
// writes (canonical BER: minimal integers and lengths);
// TestEncodeMatchesGosnmp compares the two over whole walks.

// errEncode wraps the varbinds this encoder cannot write (a value whose Go
// type does not match its BER type: a bug of a column).
var errEncode = errors.New("cannot encode varbind")

// appendLength appends a BER definite length.
func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xff:
		return append(b, 0x81, byte(n))
	case n <= 0xffff:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// appendBase128 appends n in base 128, high groups first.
func appendBase128(b []byte, n uint64) []byte {
	l := base128Len(n)
	for i := l - 1; i > 0; i-- {
		b = append(b, byte(n>>(7*uint(i)))|0x80)
	}
	return append(b, byte(n&0x7f))
}

// appendOIDContent appends the contents octets of an OBJECT IDENTIFIER.
func appendOIDContent(b []byte, o OID) []byte {
	if len(o) < 2 {
		if len(o) == 0 {
			return append(b, 0)
		}
		return appendBase128(b, uint64(o[0])*40)
	}
	b = appendBase128(b, uint64(o[0])*40+uint64(o[1]))
	for _, s := range o[2:] {
		if s < 0x80 {
			b = append(b, byte(s))
			continue
		}
		b = appendBase128(b, uint64(s))
	}
	return b
}

// appendInt appends an INTEGER-like TLV of tag with v's minimal two's
// complement contents.
func appendInt(b []byte, tag byte, v int64) []byte {
	n := intContentLen(v)
	b = append(b, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// appendUint appends an unsigned TLV of tag (Counter32, Gauge32,
// TimeTicks, Counter64): minimal octets, a leading zero when the high bit
// is set.
func appendUint(b []byte, tag byte, v uint64) []byte {
	n := uintContentLen(v)
	b = append(b, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		if i >= 8 {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

func uintContentLen(v uint64) int {
	n := 1
	for x := v; x > 0x7f; x >>= 8 {
		n++
	}
	return n
}

// servedContent returns the contents length of s's value and, for an
// OBJECT IDENTIFIER, the OID; ok is false when the value does not match the
// type (the Go types a Varbind of that type may hold).
func servedContent(s *served) (n int, oid OID, ok bool) {
	c := &s.val
	switch s.typ {
	case gosnmp.Integer:
		v := int64(c.n)
		if c.kind != cellInt || v < math.MinInt32 || v > math.MaxInt32 {
			return 0, nil, false
		}
		return intContentLen(v), nil, true
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Uinteger32:
		if c.kind == cellUint {
			return uintContentLen(c.n), nil, true
		}
	case gosnmp.Counter64:
		if c.kind == cellUint64 {
			return uintContentLen(c.n), nil, true
		}
	case gosnmp.OctetString, gosnmp.BitString, gosnmp.Opaque, gosnmp.IPAddress:
		switch c.kind {
		case cellBytes:
			return len(c.b), nil, true
		case cellText:
			if s.typ == gosnmp.IPAddress {
				return 0, nil, false // a string, as for cellString
			}
			return len(c.b), nil, true
		case cellDate:
			return 11, nil, true
		case cellString:
			if s.typ == gosnmp.IPAddress {
				return 0, nil, false // gosnmp parses a dotted address; the agent never serves one
			}
			return len(c.s), nil, true
		}
	case gosnmp.ObjectIdentifier:
		if c.kind == cellString {
			o, err := ParseOID(c.s)
			if err != nil || len(o) < 2 {
				return 0, nil, false
			}
			return oidContentLen(o), o, true
		}
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return 0, nil, true
	}
	return 0, nil, false
}

// appendVarbind appends one varbind SEQUENCE.
func appendVarbind(b []byte, vb *Varbind) ([]byte, error) {
	s := servedOf(*vb)
	return appendServed(b, &s)
}

// appendServed appends one varbind SEQUENCE.
func appendServed(b []byte, s *served) ([]byte, error) {
	n, oid, ok := servedContent(s)
	if !ok || len(s.oid) < 2 {
		return b, fmt.Errorf("%w: %s of type %v holds %s", errEncode, s.oid, s.typ, s.val.goType())
	}
	name := s.nameLen()
	b = append(b, tagSequence)
	b = appendLength(b, tlvLen(name)+tlvLen(n))
	b = append(b, tagOID)
	b = appendLength(b, name)
	b = s.appendName(b)
	switch s.typ {
	case gosnmp.Integer:
		return appendInt(b, byte(s.typ), int64(s.val.n)), nil
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Uinteger32, gosnmp.Counter64:
		return appendUint(b, byte(s.typ), s.val.n), nil
	case gosnmp.ObjectIdentifier:
		b = append(b, byte(s.typ))
		b = appendLength(b, n)
		return appendOIDContent(b, oid), nil
	}
	b = append(b, byte(s.typ))
	b = appendLength(b, n)
	switch s.val.kind {
	case cellBytes, cellText:
		return append(b, s.val.b...), nil
	case cellDate:
		return appendDate(b, s.val.n), nil
	}
	return append(b, s.val.s...), nil
}

// appendPDU appends a response PDU (GetResponse or Report) whose varbind
// list is vbl, already encoded.
func appendPDU(b []byte, pduType gosnmp.PDUType, requestID uint32, status gosnmp.SNMPError, index uint8, vbl []byte) []byte {
	n := tlvLen(uintContentLen(uint64(requestID))) + tlvLen(uintContentLen(uint64(status))) +
		tlvLen(uintContentLen(uint64(index))) + tlvLen(len(vbl))
	b = append(b, byte(pduType))
	b = appendLength(b, n)
	b = appendUint(b, tagInteger, uint64(requestID))
	b = appendUint(b, tagInteger, uint64(status))
	b = appendUint(b, tagInteger, uint64(index))
	b = append(b, tagSequence)
	b = appendLength(b, len(vbl))
	return append(b, vbl...)
}

// pduLen is the encoded size of the PDU appendPDU writes.
func pduLen(requestID uint32, status gosnmp.SNMPError, index uint8, vblLen int) int {
	return tlvLen(tlvLen(uintContentLen(uint64(requestID))) + tlvLen(uintContentLen(uint64(status))) +
		tlvLen(uintContentLen(uint64(index))) + tlvLen(vblLen))
}

// appendVarbinds appends the varbind list's contents (no SEQUENCE header).
func appendVarbinds(b []byte, vbs []served) ([]byte, error) {
	var err error
	for i := range vbs {
		if b, err = appendServed(b, &vbs[i]); err != nil {
			return b, err
		}
	}
	return b, nil
}

// communityMessage encodes an SNMPv1 or SNMPv2c response message into
// dst's storage (grown if it is too small).
func communityMessage(dst []byte, ver gosnmp.SnmpVersion, community string, requestID uint32, status gosnmp.SNMPError, index uint8, vbl []byte) []byte {
	pdu := pduLen(requestID, status, index, len(vbl))
	inner := 3 + tlvLen(len(community)) + pdu
	out := slices.Grow(dst[:0], tlvLen(inner))
	out = append(out, tagSequence)
	out = appendLength(out, inner)
	out = append(out, tagInteger, 1, byte(ver), tagOctetString)
	out = appendLength(out, len(community))
	out = append(out, community...)
	return appendPDU(out, gosnmp.GetResponse, requestID, status, index, vbl)
}

// usmMessage encodes, into dst's storage, an SNMPv3 USM response message: pkt's header, security
// parameters and scoped PDU around vbl, encrypted (AES-CFB128, RFC 3826)
// and authenticated (HMAC, RFC 3414 and RFC 7860) as pkt's flags say. The
// octets are those gosnmp's MarshalMsg writes for pkt, msgID as its four
// octets included.
func usmMessage(dst []byte, pkt *gosnmp.SnmpPacket, vbl []byte, u *usmUser) ([]byte, error) {
	sp, ok := pkt.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if !ok {
		return nil, fmt.Errorf("%w: SNMPv3 response without USM parameters", errEncode)
	}
	authed, private := pkt.MsgFlags&gosnmp.AuthNoPriv != 0, pkt.MsgFlags&gosnmp.AuthPriv == gosnmp.AuthPriv
	macLen, privLen := 0, 0
	if authed {
		if macLen = macLengths[sp.AuthenticationProtocol]; macLen == 0 {
			return nil, fmt.Errorf("%w: authentication protocol %v", errEncode, sp.AuthenticationProtocol)
		}
	}
	if private {
		if len(sp.PrivacyParameters) != 8 || sp.PrivacyProtocol == gosnmp.NoPriv || sp.PrivacyProtocol == gosnmp.DES {
			return nil, fmt.Errorf("%w: privacy protocol %v", errEncode, sp.PrivacyProtocol)
		}
		privLen = 8
	}
	maxSize := pkt.MsgMaxSize
	pdu := pduLen(pkt.RequestID, pkt.Error, pkt.ErrorIndex, len(vbl))
	scopedContent := tlvLen(len(pkt.ContextEngineID)) + tlvLen(len(pkt.ContextName)) + pdu
	scoped := tlvLen(scopedContent)
	data := scoped
	if private {
		data = tlvLen(scoped)
	}
	usm := tlvLen(len(sp.AuthoritativeEngineID)) + tlvLen(uintContentLen(uint64(sp.AuthoritativeEngineBoots))) +
		tlvLen(uintContentLen(uint64(sp.AuthoritativeEngineTime))) + tlvLen(len(sp.UserName)) + tlvLen(macLen) + tlvLen(privLen)
	global := 6 + tlvLen(uintContentLen(uint64(maxSize))) + 3 + 3
	inner := 3 + tlvLen(global) + tlvLen(tlvLen(usm)) + data
	out := slices.Grow(dst[:0], tlvLen(inner))
	out = append(out, tagSequence)
	out = appendLength(out, inner)
	out = append(out, tagInteger, 1, byte(gosnmp.Version3), tagSequence)
	out = appendLength(out, global)
	out = append(out, tagInteger, 4, byte(pkt.MsgID>>24), byte(pkt.MsgID>>16), byte(pkt.MsgID>>8), byte(pkt.MsgID))
	out = appendUint(out, tagInteger, uint64(maxSize))
	out = append(out, tagOctetString, 1, byte(pkt.MsgFlags), tagInteger, 1, byte(pkt.SecurityModel), tagOctetString)
	out = appendLength(out, tlvLen(usm))
	out = append(out, tagSequence)
	out = appendLength(out, usm)
	out = append(out, tagOctetString)
	out = appendLength(out, len(sp.AuthoritativeEngineID))
	out = append(out, sp.AuthoritativeEngineID...)
	out = appendUint(out, tagInteger, uint64(sp.AuthoritativeEngineBoots))
	out = appendUint(out, tagInteger, uint64(sp.AuthoritativeEngineTime))
	out = append(out, tagOctetString)
	out = appendLength(out, len(sp.UserName))
	out = append(out, sp.UserName...)
	out = append(out, tagOctetString, byte(macLen))
	macAt := len(out)
	out = append(out, make([]byte, macLen)...)
	out = append(out, tagOctetString, byte(privLen))
	out = append(out, sp.PrivacyParameters[:privLen]...)
	if private {
		out = append(out, tagOctetString)
		out = appendLength(out, scoped)
	}
	plainAt := len(out)
	out = append(out, tagSequence)
	out = appendLength(out, scopedContent)
	out = append(out, tagOctetString)
	out = appendLength(out, len(pkt.ContextEngineID))
	out = append(out, pkt.ContextEngineID...)
	out = append(out, tagOctetString)
	out = appendLength(out, len(pkt.ContextName))
	out = append(out, pkt.ContextName...)
	out = appendPDU(out, pkt.PDUType, pkt.RequestID, pkt.Error, pkt.ErrorIndex, vbl)
	if private {
		var block cipher.Block
		if u != nil && u.block != nil {
			block = u.block // made from the same key (v3Packet)
		} else {
			var err error
			if block, err = aes.NewCipher(sp.PrivacyKey); err != nil {
				return nil, fmt.Errorf("%w: %w", errEncode, err)
			}
		}
		var iv [16]byte
		binary.BigEndian.PutUint32(iv[0:], sp.AuthoritativeEngineBoots)
		binary.BigEndian.PutUint32(iv[4:], sp.AuthoritativeEngineTime)
		copy(iv[8:], sp.PrivacyParameters)
		cipher.NewCFBEncrypter(block, iv[:]).XORKeyStream(out[plainAt:], out[plainAt:]) //nolint:staticcheck // RFC 3826 specifies CFB
	}
	if authed {
		var sum [64]byte
		if u != nil {
			mac := u.mac() // keyed with the same key (v3Packet)
			mac.Write(out)
			mac.Sum(sum[:0])
			u.putMAC(mac)
		} else {
			mac := hmac.New(sp.AuthenticationProtocol.HashType().New, sp.SecretKey)
			mac.Write(out)
			mac.Sum(sum[:0])
		}
		copy(out[macAt:macAt+macLen], sum[:macLen])
	}
	return out, nil
}
