package agentx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// PDUType is the h.type field of an AgentX header (RFC 2741 6.1).
type PDUType uint8

// PDU types.
const (
	TypeOpen            PDUType = 1
	TypeClose           PDUType = 2
	TypeRegister        PDUType = 3
	TypeUnregister      PDUType = 4
	TypeGet             PDUType = 5
	TypeGetNext         PDUType = 6
	TypeGetBulk         PDUType = 7
	TypeTestSet         PDUType = 8
	TypeCommitSet       PDUType = 9
	TypeUndoSet         PDUType = 10
	TypeCleanupSet      PDUType = 11
	TypeNotify          PDUType = 12
	TypePing            PDUType = 13
	TypeIndexAllocate   PDUType = 14
	TypeIndexDeallocate PDUType = 15
	TypeAddAgentCaps    PDUType = 16
	TypeRemoveAgentCaps PDUType = 17
	TypeResponse        PDUType = 18
	numTypes                    = 19
)

var typeNames = [numTypes]string{"", "open", "close", "register", "unregister", "get", "getnext", "getbulk",
	"testset", "commitset", "undoset", "cleanupset", "notify", "ping", "indexallocate", "indexdeallocate",
	"addagentcaps", "removeagentcaps", "response"}

func (t PDUType) String() string {
	if int(t) < numTypes && t != 0 {
		return typeNames[t]
	}
	return "type-" + strconv.Itoa(int(t))
}

// hasContext reports whether PDUs of type t carry a context when
// NON_DEFAULT_CONTEXT is set (RFC 2741 6.1.1).
func (t PDUType) hasContext() bool {
	switch t {
	case TypeOpen, TypeClose, TypeResponse, TypeCommitSet, TypeUndoSet, TypeCleanupSet:
		return false
	}
	return true
}

// Header flags (h.flags).
const (
	FlagInstanceRegistration uint8 = 0x01
	FlagNewIndex             uint8 = 0x02
	FlagAnyIndex             uint8 = 0x04
	FlagNonDefaultContext    uint8 = 0x08
	FlagNetworkByteOrder     uint8 = 0x10
)

// Type is the type of a varbind's value; the numbers are the BER tags of
// the same SNMP types (so gosnmp.Asn1BER values convert directly).
type Type uint16

// Varbind value types.
const (
	Integer          Type = 2
	OctetString      Type = 4
	Null             Type = 5
	ObjectIdentifier Type = 6
	IPAddress        Type = 64
	Counter32        Type = 65
	Gauge32          Type = 66
	TimeTicks        Type = 67
	Opaque           Type = 68
	Counter64        Type = 70
	NoSuchObject     Type = 128
	NoSuchInstance   Type = 129
	EndOfMibView     Type = 130
)

// Error is the res.error field of a Response: an SNMP error status or an
// AgentX administrative error (RFC 2741 6.2.16).
type Error uint16

// Errors used here.
const (
	NoError               Error = 0
	GenErr                Error = 5
	NoAccess              Error = 6
	CommitFailed          Error = 14
	UndoFailed            Error = 15
	NotWritable           Error = 17
	OpenFailed            Error = 256
	NotOpen               Error = 257
	IndexWrongType        Error = 258
	IndexAlreadyAllocated Error = 259
	IndexNoneAvailable    Error = 260
	IndexNotAllocated     Error = 261
	UnsupportedContext    Error = 262
	DuplicateRegistration Error = 263
	UnknownRegistration   Error = 264
	UnknownAgentCaps      Error = 265
	ParseError            Error = 266
	RequestDenied         Error = 267
	ProcessingError       Error = 268
)

var errorNames = map[Error]string{NoError: "noError", GenErr: "genErr", NoAccess: "noAccess", CommitFailed: "commitFailed",
	UndoFailed: "undoFailed", NotWritable: "notWritable", OpenFailed: "openFailed", NotOpen: "notOpen",
	IndexWrongType: "indexWrongType", IndexAlreadyAllocated: "indexAlreadyAllocated", IndexNoneAvailable: "indexNoneAvailable",
	IndexNotAllocated: "indexNotAllocated", UnsupportedContext: "unsupportedContext", DuplicateRegistration: "duplicateRegistration",
	UnknownRegistration: "unknownRegistration", UnknownAgentCaps: "unknownAgentCaps", ParseError: "parseError",
	RequestDenied: "requestDenied", ProcessingError: "processingError"}

func (e Error) String() string {
	if s, ok := errorNames[e]; ok {
		return s
	}
	return "error-" + strconv.Itoa(int(e))
}

// CloseReason is the reason field of a Close PDU.
type CloseReason uint8

// Close reasons.
const (
	ReasonOther         CloseReason = 1
	ReasonParseError    CloseReason = 2
	ReasonProtocolError CloseReason = 3
	ReasonTimeouts      CloseReason = 4
	ReasonShutdown      CloseReason = 5
	ReasonByManager     CloseReason = 6
)

func (r CloseReason) String() string {
	switch r {
	case ReasonOther:
		return "other"
	case ReasonParseError:
		return "parseError"
	case ReasonProtocolError:
		return "protocolError"
	case ReasonTimeouts:
		return "timeouts"
	case ReasonShutdown:
		return "shutdown"
	case ReasonByManager:
		return "byManager"
	}
	return "reason-" + strconv.Itoa(int(r))
}

// OID is an object identifier as its sub-identifiers.
type OID []uint32

// String returns the OID dotted, without a leading dot.
func (o OID) String() string {
	b := make([]byte, 0, 4*len(o))
	for i, n := range o {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return string(b)
}

// VarBind is a variable binding. Value holds, by Type: Integer: int (int32
// and int64 are accepted when encoding); Counter32, Gauge32, TimeTicks:
// uint32; Counter64: uint64; OctetString, Opaque, IPAddress: []byte (string
// accepted when encoding); ObjectIdentifier: OID; Null and the three
// exceptions: nil. But for OIDs, these are the forms gosnmp.SnmpPDU.Value
// takes, so values pass between the two unchanged.
type VarBind struct {
	Name  OID
	Type  Type
	Value any
}

// SearchRange is a range of a Get, GetNext or GetBulk PDU: Start (itself
// included when Include is set) up to End, excluded (nil: unbounded).
type SearchRange struct {
	Start   OID
	Include bool
	End     OID
}

// Header is the fixed 20-octet header of every PDU.
type Header struct {
	Version       uint8 // always 1
	Type          PDUType
	Flags         uint8
	SessionID     uint32
	TransactionID uint32
	PacketID      uint32
	PayloadLength uint32
}

// HeaderSize is the size of the header, which payload_length excludes.
const HeaderSize = 20

// MaxPayload bounds the payload a Session accepts: larger PDUs close the
// session (no master sends them to a subagent).
const MaxPayload = 1 << 20

// maxSubIDs is the largest OID RFC 2741 5.1 allows.
const maxSubIDs = 128

func (h *Header) bigEndian() bool { return h.Flags&FlagNetworkByteOrder != 0 }

// ErrMalformed wraps every decoding error.
var ErrMalformed = errors.New("agentx: malformed PDU")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// DecodeHeader decodes the header at the start of b.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, malformed("header of %d octets", len(b))
	}
	h := Header{Version: b[0], Type: PDUType(b[1]), Flags: b[2]}
	var order binary.ByteOrder = binary.LittleEndian
	if h.bigEndian() {
		order = binary.BigEndian
	}
	h.SessionID, h.TransactionID, h.PacketID = order.Uint32(b[4:]), order.Uint32(b[8:]), order.Uint32(b[12:])
	h.PayloadLength = order.Uint32(b[16:])
	switch {
	case h.Version != 1:
		return h, malformed("version %d (only 1 exists)", h.Version)
	case h.PayloadLength%4 != 0:
		return h, malformed("payload length %d is not a multiple of 4", h.PayloadLength)
	}
	return h, nil
}

// PDU is a decoded PDU: its header and the fields of its type. The slices
// (OIDs, ranges, varbinds) of a PDU decoded by Decode share storage that
// the next Decode into the same PDU reuses; values of varbinds are copies.
type PDU struct {
	Header
	Context string // when FlagNonDefaultContext is set
	// Open
	Timeout     uint8
	ID          OID
	Description string
	// Close
	Reason CloseReason
	// Register (Timeout too)
	Priority   uint8
	RangeSubID uint8
	Subtree    OID
	UpperBound uint32
	// Get, GetNext, GetBulk
	NonRepeaters, MaxRepetitions uint16
	Ranges                       []SearchRange
	// TestSet, Notify, Response
	VarBinds []VarBind
	// Response
	SysUpTime uint32
	Error     Error
	Index     uint16

	subids []uint32 // storage of the OIDs of Ranges
}

// Decode decodes a whole PDU (header and payload) into p.
func (p *PDU) Decode(b []byte) error {
	h, err := DecodeHeader(b)
	if err != nil {
		return err
	}
	if int64(len(b)-HeaderSize) != int64(h.PayloadLength) {
		return malformed("payload of %d octets, header says %d", len(b)-HeaderSize, h.PayloadLength)
	}
	*p = PDU{Header: h, Ranges: p.Ranges[:0], VarBinds: p.VarBinds[:0], subids: p.subids[:0]}
	d := decoder{b: b[HeaderSize:], big: h.bigEndian()}
	if h.Flags&FlagNonDefaultContext != 0 && h.Type.hasContext() {
		c, err := d.octets()
		if err != nil {
			return err
		}
		p.Context = string(c)
	}
	switch h.Type {
	case TypeOpen:
		if p.Timeout, err = d.u8pad(); err == nil {
			if p.ID, _, err = d.oid(nil); err == nil {
				var s []byte
				s, err = d.octets()
				p.Description = string(s)
			}
		}
	case TypeClose:
		var r uint8
		r, err = d.u8pad()
		p.Reason = CloseReason(r)
	case TypeRegister, TypeUnregister:
		err = p.decodeRegister(&d)
	case TypeGet, TypeGetNext, TypeGetBulk:
		if h.Type == TypeGetBulk {
			if p.NonRepeaters, err = d.u16(); err == nil {
				p.MaxRepetitions, err = d.u16()
			}
		}
		for err == nil && !d.done() {
			var r SearchRange
			if r.Start, r.Include, err = d.oid(&p.subids); err == nil {
				r.End, _, err = d.oid(&p.subids)
			}
			p.Ranges = append(p.Ranges, r)
		}
	case TypeTestSet, TypeNotify:
		p.VarBinds, err = d.varbinds(p.VarBinds)
	case TypeResponse:
		if p.SysUpTime, err = d.u32(); err == nil {
			var e uint16
			if e, err = d.u16(); err == nil {
				p.Error = Error(e)
				if p.Index, err = d.u16(); err == nil {
					p.VarBinds, err = d.varbinds(p.VarBinds)
				}
			}
		}
	case TypeCommitSet, TypeUndoSet, TypeCleanupSet, TypePing:
	case TypeIndexAllocate, TypeIndexDeallocate:
		p.VarBinds, err = d.varbinds(p.VarBinds)
	case TypeAddAgentCaps:
		if p.ID, _, err = d.oid(nil); err == nil {
			var s []byte
			s, err = d.octets()
			p.Description = string(s)
		}
	case TypeRemoveAgentCaps:
		p.ID, _, err = d.oid(nil)
	default:
		return malformed("unknown PDU type %d", h.Type)
	}
	if err == nil && !d.done() {
		err = malformed("%d octets after the %s payload", len(d.b)-d.off, h.Type)
	}
	return err
}

func (p *PDU) decodeRegister(d *decoder) (err error) {
	var b [4]byte
	for i := range b {
		if b[i], err = d.u8(); err != nil {
			return err
		}
	}
	p.Timeout, p.Priority, p.RangeSubID = b[0], b[1], b[2]
	if p.Subtree, _, err = d.oid(nil); err != nil {
		return err
	}
	if p.RangeSubID != 0 {
		if int(p.RangeSubID) > len(p.Subtree) {
			return malformed("range_subid %d beyond the subtree's %d sub-identifiers", p.RangeSubID, len(p.Subtree))
		}
		p.UpperBound, err = d.u32()
	}
	return err
}

// decoder reads the fields of a payload in its byte order.
type decoder struct {
	b   []byte
	off int
	big bool
}

func (d *decoder) done() bool { return d.off >= len(d.b) }

func (d *decoder) need(n int, what string) error {
	if n > len(d.b)-d.off {
		return malformed("%s truncated at payload offset %d", what, d.off)
	}
	return nil
}

func (d *decoder) u8() (uint8, error) {
	if err := d.need(1, "octet"); err != nil {
		return 0, err
	}
	d.off++
	return d.b[d.off-1], nil
}

// u8pad reads one octet followed by three reserved ones.
func (d *decoder) u8pad() (uint8, error) {
	if err := d.need(4, "field"); err != nil {
		return 0, err
	}
	d.off += 4
	return d.b[d.off-4], nil
}

func (d *decoder) u16() (uint16, error) {
	if err := d.need(2, "16-bit field"); err != nil {
		return 0, err
	}
	d.off += 2
	if d.big {
		return binary.BigEndian.Uint16(d.b[d.off-2:]), nil
	}
	return binary.LittleEndian.Uint16(d.b[d.off-2:]), nil
}

func (d *decoder) u32() (uint32, error) {
	if err := d.need(4, "32-bit field"); err != nil {
		return 0, err
	}
	d.off += 4
	if d.big {
		return binary.BigEndian.Uint32(d.b[d.off-4:]), nil
	}
	return binary.LittleEndian.Uint32(d.b[d.off-4:]), nil
}

func (d *decoder) u64() (uint64, error) {
	if err := d.need(8, "64-bit field"); err != nil {
		return 0, err
	}
	d.off += 8
	if d.big {
		return binary.BigEndian.Uint64(d.b[d.off-8:]), nil
	}
	return binary.LittleEndian.Uint64(d.b[d.off-8:]), nil
}

// oid reads an OID (RFC 2741 5.1) and its include field. With store set the
// sub-identifiers are appended to *store and the OID shares it (no
// allocation once the store has grown); otherwise the OID is a new slice.
func (d *decoder) oid(store *[]uint32) (OID, bool, error) {
	if err := d.need(4, "OID header"); err != nil {
		return nil, false, err
	}
	n, prefix, include := int(d.b[d.off]), d.b[d.off+1], d.b[d.off+2]
	d.off += 4
	if n > maxSubIDs {
		return nil, false, malformed("OID of %d sub-identifiers (at most %d)", n, maxSubIDs)
	}
	if include > 1 {
		return nil, false, malformed("include field %d", include)
	}
	if err := d.need(4*n, "OID"); err != nil {
		return nil, false, err
	}
	total := n
	if prefix != 0 {
		total += 5
	}
	var o OID
	if total == 0 {
		return nil, include == 1, nil // the null OID: no bound
	}
	if store != nil {
		start := len(*store)
		*store = append(*store, make([]uint32, total)...)
		o = (*store)[start : start+total : start+total]
	} else {
		o = make(OID, total)
	}
	i := 0
	if prefix != 0 {
		o[0], o[1], o[2], o[3], o[4] = 1, 3, 6, 1, uint32(prefix)
		i = 5
	}
	for ; i < total; i++ {
		if d.big {
			o[i] = binary.BigEndian.Uint32(d.b[d.off:])
		} else {
			o[i] = binary.LittleEndian.Uint32(d.b[d.off:])
		}
		d.off += 4
	}
	return o, include == 1, nil
}

// octets reads an Octet String (RFC 2741 5.3), returning a slice of the
// payload.
func (d *decoder) octets() ([]byte, error) {
	l, err := d.u32()
	if err != nil {
		return nil, err
	}
	padded := (uint64(l) + 3) &^ 3
	if padded > uint64(len(d.b)-d.off) {
		return nil, malformed("octet string of %d octets beyond the payload", l)
	}
	s := d.b[d.off : d.off+int(l)]
	d.off += int(padded)
	return s, nil
}

func (d *decoder) varbinds(out []VarBind) ([]VarBind, error) {
	for !d.done() {
		t, err := d.u16()
		if err != nil {
			return out, err
		}
		if _, err := d.u16(); err != nil { // reserved
			return out, err
		}
		vb := VarBind{Type: Type(t)}
		if vb.Name, _, err = d.oid(nil); err != nil {
			return out, err
		}
		switch vb.Type {
		case Integer:
			var v uint32
			v, err = d.u32()
			vb.Value = int(int32(v))
		case Counter32, Gauge32, TimeTicks:
			vb.Value, err = d.u32()
		case Counter64:
			vb.Value, err = d.u64()
		case OctetString, Opaque, IPAddress:
			var s []byte
			if s, err = d.octets(); err == nil {
				vb.Value = append([]byte{}, s...)
			}
		case ObjectIdentifier:
			vb.Value, _, err = d.oid(nil)
		case Null, NoSuchObject, NoSuchInstance, EndOfMibView:
		default:
			err = malformed("varbind type %d", t)
		}
		if err != nil {
			return out, err
		}
		out = append(out, vb)
	}
	return out, nil
}

// encoder appends a PDU to b in one byte order.
type encoder struct {
	b   []byte
	big bool
	err error // the first value that could not be encoded
}

func (e *encoder) u8pad(v uint8) { e.b = append(e.b, v, 0, 0, 0) }

func (e *encoder) u16(v uint16) {
	if e.big {
		e.b = binary.BigEndian.AppendUint16(e.b, v)
	} else {
		e.b = binary.LittleEndian.AppendUint16(e.b, v)
	}
}

func (e *encoder) u32(v uint32) {
	if e.big {
		e.b = binary.BigEndian.AppendUint32(e.b, v)
	} else {
		e.b = binary.LittleEndian.AppendUint32(e.b, v)
	}
}

func (e *encoder) u64(v uint64) {
	if e.big {
		e.b = binary.BigEndian.AppendUint64(e.b, v)
	} else {
		e.b = binary.LittleEndian.AppendUint64(e.b, v)
	}
}

// header starts a PDU; finish fills in its payload length.
func (e *encoder) header(h Header) int {
	start := len(e.b)
	flags := h.Flags &^ FlagNetworkByteOrder
	if e.big {
		flags |= FlagNetworkByteOrder
	}
	e.b = append(e.b, 1, byte(h.Type), flags, 0)
	e.u32(h.SessionID)
	e.u32(h.TransactionID)
	e.u32(h.PacketID)
	e.u32(0)
	return start
}

func (e *encoder) finish(start int) {
	n := uint32(len(e.b) - start - HeaderSize)
	if e.big {
		binary.BigEndian.PutUint32(e.b[start+16:], n)
	} else {
		binary.LittleEndian.PutUint32(e.b[start+16:], n)
	}
}

func (e *encoder) oid(o OID, include bool) {
	if len(o) > maxSubIDs {
		e.fail(fmt.Errorf("agentx: OID of %d sub-identifiers (at most %d)", len(o), maxSubIDs))
		o = nil
	}
	prefix := uint32(0)
	subs := o
	if len(o) >= 5 && o[0] == 1 && o[1] == 3 && o[2] == 6 && o[3] == 1 && o[4] >= 1 && o[4] <= 255 {
		prefix, subs = o[4], o[5:]
	}
	inc := byte(0)
	if include {
		inc = 1
	}
	e.b = append(e.b, byte(len(subs)), byte(prefix), inc, 0)
	for _, s := range subs {
		e.u32(s)
	}
}

func (e *encoder) octets(s []byte) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.pad(len(s))
}

func (e *encoder) octetString(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.pad(len(s))
}

// pad aligns an octet string of n octets to 4.
func (e *encoder) pad(n int) {
	for ; n%4 != 0; n++ {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// varbind appends a varbind; a value that does not suit its type is
// recorded in e.err and encoded as Null.
func (e *encoder) varbind(vb *VarBind) {
	t := vb.Type
	at := len(e.b)
	e.u16(uint16(t))
	e.u16(0)
	e.oid(vb.Name, false)
	bad := func() {
		e.fail(fmt.Errorf("agentx: %s: value %T does not suit type %d", vb.Name, vb.Value, t))
		e.b = e.b[:at]
		e.u16(uint16(Null))
		e.u16(0)
		e.oid(vb.Name, false)
	}
	switch t {
	case Integer:
		var n int64
		switch v := vb.Value.(type) {
		case int:
			n = int64(v)
		case int32:
			n = int64(v)
		case int64:
			n = v
		default:
			bad()
			return
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			bad()
			return
		}
		e.u32(uint32(int32(n)))
	case Counter32, Gauge32, TimeTicks:
		v, ok := vb.Value.(uint32)
		if !ok {
			bad()
			return
		}
		e.u32(v)
	case Counter64:
		v, ok := vb.Value.(uint64)
		if !ok {
			bad()
			return
		}
		e.u64(v)
	case OctetString, Opaque, IPAddress:
		switch v := vb.Value.(type) {
		case []byte:
			e.octets(v)
		case string:
			e.octetString(v)
		default:
			bad()
		}
	case ObjectIdentifier:
		switch v := vb.Value.(type) {
		case OID:
			e.oid(v, false)
		case []uint32:
			e.oid(v, false)
		default:
			bad()
		}
	case Null, NoSuchObject, NoSuchInstance, EndOfMibView:
	default:
		bad()
	}
}

// AppendPDU appends the encoding of p to b: in network byte order when
// p.Flags has FlagNetworkByteOrder, little-endian otherwise. The context is
// encoded (and FlagNonDefaultContext set) when p.Context is not empty and
// the type carries one; the payload length is computed. A value that does
// not suit its varbind's type is encoded as Null and reported in the error
// (the rest of the PDU is still encoded).
func AppendPDU(b []byte, p *PDU) ([]byte, error) {
	e := encoder{b: b, big: p.Flags&FlagNetworkByteOrder != 0}
	h := p.Header
	withContext := p.Context != "" && p.Type.hasContext()
	if withContext {
		h.Flags |= FlagNonDefaultContext
	} else {
		h.Flags &^= FlagNonDefaultContext
	}
	start := e.header(h)
	if withContext {
		e.octetString(p.Context)
	}
	switch p.Type {
	case TypeOpen:
		e.u8pad(p.Timeout)
		e.oid(p.ID, false)
		e.octetString(p.Description)
	case TypeClose:
		e.u8pad(uint8(p.Reason))
	case TypeRegister, TypeUnregister:
		e.b = append(e.b, p.Timeout, p.Priority, p.RangeSubID, 0)
		e.oid(p.Subtree, false)
		if p.RangeSubID != 0 {
			e.u32(p.UpperBound)
		}
	case TypeGet, TypeGetNext, TypeGetBulk:
		if p.Type == TypeGetBulk {
			e.u16(p.NonRepeaters)
			e.u16(p.MaxRepetitions)
		}
		for _, r := range p.Ranges {
			e.oid(r.Start, r.Include)
			e.oid(r.End, false)
		}
	case TypeTestSet, TypeNotify, TypeIndexAllocate, TypeIndexDeallocate:
		for i := range p.VarBinds {
			e.varbind(&p.VarBinds[i])
		}
	case TypeResponse:
		e.u32(p.SysUpTime)
		e.u16(uint16(p.Error))
		e.u16(p.Index)
		for i := range p.VarBinds {
			e.varbind(&p.VarBinds[i])
		}
	case TypeCommitSet, TypeUndoSet, TypeCleanupSet, TypePing:
	case TypeAddAgentCaps:
		e.oid(p.ID, false)
		e.octetString(p.Description)
	case TypeRemoveAgentCaps:
		e.oid(p.ID, false)
	default:
		return b, fmt.Errorf("agentx: cannot encode PDU type %d", p.Type)
	}
	e.finish(start)
	return e.b, e.err
}
