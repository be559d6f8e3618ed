package snmp

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/gosnmp/gosnmp"
)

// This file reads incoming SNMP messages (encode.go writes the responses);
// requests are read here rather than by gosnmp because an agent needs what gosnmp's client-side
// decoder does not give: the exact position of the USM authentication
// parameters, each USM failure told apart, GETBULK fields wider than a byte,
// and request OIDs as sub-identifiers rather than strings. Every read is
// bounds-checked; malformed input is an error, never a panic (FuzzHandle).

// errMalformed wraps every parse error of an incoming message.
var errMalformed = errors.New("malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
}

// BER tags read here beyond gosnmp's constants.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30
)

// berReader reads consecutive TLVs from b.
type berReader struct {
	b   []byte
	off int
}

// next reads one TLV and returns its tag, contents and the offset of the
// contents in the reader's buffer. Only definite lengths of up to 4 octets
// are accepted; a single-octet tag is required (SNMP uses no others).
func (r *berReader) next() (tag byte, content []byte, at int, err error) {
	b := r.b
	if r.off+2 > len(b) {
		return 0, nil, 0, malformed("truncated TLV at offset %d", r.off)
	}
	tag = b[r.off]
	if tag&0x1f == 0x1f {
		return 0, nil, 0, malformed("multi-octet tag at offset %d", r.off)
	}
	p := r.off + 1
	l := int(b[p])
	p++
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 {
			return 0, nil, 0, malformed("unsupported length form at offset %d", r.off)
		}
		if p+n > len(b) {
			return 0, nil, 0, malformed("truncated length at offset %d", r.off)
		}
		l = 0
		for i := 0; i < n; i++ {
			l = l<<8 | int(b[p+i])
		}
		p += n
		if l < 0 {
			return 0, nil, 0, malformed("length overflow at offset %d", r.off)
		}
	}
	if l > len(b)-p {
		return 0, nil, 0, malformed("length %d beyond the %d octets left at offset %d", l, len(b)-p, r.off)
	}
	r.off = p + l
	return tag, b[p : p+l], p, nil
}

// expect reads one TLV that must have the given tag.
func (r *berReader) expect(tag byte, what string) ([]byte, int, error) {
	t, c, at, err := r.next()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	if t != tag {
		return nil, 0, malformed("%s: tag 0x%02x, want 0x%02x", what, t, tag)
	}
	return c, at, nil
}

func (r *berReader) done() bool { return r.off >= len(r.b) }

// readInt reads an INTEGER that must fit in 32 signed bits.
func (r *berReader) readInt(what string) (int64, error) {
	c, _, err := r.expect(tagInteger, what)
	if err != nil {
		return 0, err
	}
	return parseInt32(c, what)
}

func parseInt32(c []byte, what string) (int64, error) {
	if len(c) == 0 || len(c) > 5 {
		return 0, malformed("%s: integer of %d octets", what, len(c))
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	if v < -1<<31 || v > 1<<32-1 {
		return 0, malformed("%s: integer out of range", what)
	}
	return v, nil
}

// readOctets reads an OCTET STRING.
func (r *berReader) readOctets(what string) ([]byte, int, error) {
	return r.expect(tagOctetString, what)
}

// parseOID decodes the contents of an OBJECT IDENTIFIER into dst.
func parseOID(c []byte, dst OID) (OID, error) {
	if len(c) == 0 {
		return nil, malformed("empty OID")
	}
	dst = dst[:0]
	var v uint64
	first := true
	for i, x := range c {
		if v == 0 && x == 0x80 {
			return nil, malformed("OID sub-identifier with a leading 0x80")
		}
		v = v<<7 | uint64(x&0x7f)
		if v > 0xffffffff+80 {
			return nil, malformed("OID sub-identifier out of range")
		}
		if x&0x80 != 0 {
			if i == len(c)-1 {
				return nil, malformed("truncated OID")
			}
			continue
		}
		if first {
			switch {
			case v < 40:
				dst = append(dst, 0, uint32(v))
			case v < 80:
				dst = append(dst, 1, uint32(v-40))
			default:
				dst = append(dst, 2, uint32(v-80))
			}
			first = false
		} else {
			if v > 0xffffffff {
				return nil, malformed("OID sub-identifier out of range")
			}
			dst = append(dst, uint32(v))
		}
		v = 0
	}
	if len(dst) > 128 {
		return nil, malformed("OID of %d sub-identifiers (max 128)", len(dst))
	}
	return dst, nil
}

// request is one decoded request PDU.
type request struct {
	pduType      gosnmp.PDUType
	requestID    int32
	nonRepeaters int64 // GETBULK
	maxReps      int64 // GETBULK
	oids         []OID
	values       [][]byte // raw value TLV of each varbind (echoed in SET replies)
}

// maxRequestVarbinds bounds the varbinds decoded from one request; a
// request with more is answered tooBig (or dropped, see handle).
const maxRequestVarbinds = 1024

// errTooManyVarbinds is returned (with a usable request) when a request has
// more than maxRequestVarbinds varbinds.
var errTooManyVarbinds = errors.New("too many varbinds")

// parsePDU decodes a PDU TLV (tag, length, contents).
func parsePDU(b []byte) (*request, error) {
	r := berReader{b: b}
	tag, c, _, err := r.next()
	if err != nil {
		return nil, fmt.Errorf("PDU: %w", err)
	}
	if !r.done() {
		return nil, malformed("%d octets after the PDU", len(b)-r.off)
	}
	req := &request{pduType: gosnmp.PDUType(tag)}
	switch req.pduType {
	case gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest, gosnmp.SetRequest,
		gosnmp.GetResponse, gosnmp.SNMPv2Trap, gosnmp.InformRequest, gosnmp.Report:
	default:
		return nil, malformed("unknown PDU type 0x%02x", tag)
	}
	p := berReader{b: c}
	id, err := p.readInt("request-id")
	if err != nil {
		return nil, err
	}
	req.requestID = int32(id)
	f2, err := p.readInt("error-status/non-repeaters")
	if err != nil {
		return req, err
	}
	f3, err := p.readInt("error-index/max-repetitions")
	if err != nil {
		return req, err
	}
	if req.pduType == gosnmp.GetBulkRequest {
		req.nonRepeaters, req.maxReps = max(f2, 0), max(f3, 0)
	}
	vbl, _, err := p.expect(tagSequence, "varbind list")
	if err != nil {
		return req, err
	}
	if !p.done() {
		return req, malformed("octets after the varbind list")
	}
	v := berReader{b: vbl}
	for !v.done() {
		if len(req.oids) == maxRequestVarbinds {
			return req, errTooManyVarbinds
		}
		vb, _, err := v.expect(tagSequence, "varbind")
		if err != nil {
			return req, err
		}
		e := berReader{b: vb}
		oc, _, err := e.expect(tagOID, "varbind name")
		if err != nil {
			return req, err
		}
		oid, err := parseOID(oc, make(OID, 0, 16))
		if err != nil {
			return req, err
		}
		start := e.off
		if _, _, _, err := e.next(); err != nil {
			return req, fmt.Errorf("varbind value: %w", err)
		}
		if !e.done() {
			return req, malformed("octets after a varbind value")
		}
		req.oids = append(req.oids, oid)
		req.values = append(req.values, vb[start:])
	}
	return req, nil
}

// decodeValue decodes a varbind value TLV into gosnmp's representation (to
// echo SET varbinds).
func decodeValue(raw []byte) (gosnmp.Asn1BER, any, bool) {
	r := berReader{b: raw}
	tag, c, _, err := r.next()
	if err != nil {
		return 0, nil, false
	}
	t := gosnmp.Asn1BER(tag)
	switch t {
	case gosnmp.Integer:
		v, err := parseInt32(c, "value")
		if err != nil || v > math.MaxInt32 {
			return 0, nil, false
		}
		return t, int(v), true
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		v, err := parseInt32(c, "value")
		if err != nil || v < 0 {
			return 0, nil, false
		}
		return t, uint32(v), true
	case gosnmp.Counter64:
		if len(c) == 0 || len(c) > 9 || (len(c) == 9 && c[0] != 0) {
			return 0, nil, false
		}
		var v uint64
		for _, x := range c {
			v = v<<8 | uint64(x)
		}
		return t, v, true
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.IPAddress:
		return t, bytes.Clone(c), true
	case gosnmp.ObjectIdentifier:
		o, err := parseOID(c, nil)
		if err != nil {
			return 0, nil, false
		}
		return t, o.String(), true
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		return t, nil, true
	}
	return 0, nil, false
}
