package uaserver

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/gopcua/opcua/ua"
)

// A whole-tree crawl is thousands of Browse, BrowseNext and Read responses
// of up to 10,000 results each, and gopcua's encoder walks every field of
// every result by reflection, allocating a slice per field and copying it
// into its parent's: profiled under test/opcua/bench.sh it was a third of
// the server's CPU per crawl. So these three responses are appended to one
// buffer here, field by field, producing exactly the bytes gopcua's encoder
// produces (TestEncodeFastMatchesGopcua compares them). Anything this file
// does not know how to write as gopcua would — a nil where gopcua writes
// nothing or fails, a Variant array, a GUID NodeId — either falls back to
// the value's own gopcua Encode for that one field or, for the whole
// response, to the generic encoder (encodeFast reports false).

// fastEnc appends to b; ok turns false at the first value it must leave to
// the generic encoder.
type fastEnc struct {
	b  []byte
	ok bool
}

// encodeFast encodes v with its type id as encodeService does, for the
// response types above; false: use the generic encoder.
func encodeFast(v any) ([]byte, bool) {
	var (
		h       *ua.ResponseHeader
		diags   []*ua.DiagnosticInfo
		browse  []*ua.BrowseResult
		read    []*ua.DataValue
		isBrows bool
		size    int
	)
	switch r := v.(type) {
	case *ua.BrowseResponse:
		h, browse, diags, isBrows = r.ResponseHeader, r.Results, r.DiagnosticInfos, true
		size = 64 + 128*len(browse)
		for _, res := range browse {
			if res != nil {
				size += 96 * len(res.References)
			}
		}
	case *ua.BrowseNextResponse:
		h, browse, diags, isBrows = r.ResponseHeader, r.Results, r.DiagnosticInfos, true
		size = 64 + 128*len(browse)
		for _, res := range browse {
			if res != nil {
				size += 96 * len(res.References)
			}
		}
	case *ua.ReadResponse:
		h, read, diags = r.ResponseHeader, r.Results, r.DiagnosticInfos
		size = 64 + 24*len(read)
	default:
		return nil, false
	}
	id := ua.ServiceTypeID(v)
	if id == 0 || id > math.MaxUint16 {
		return nil, false
	}
	e := fastEnc{b: make([]byte, 0, size), ok: true}
	e.b = append(e.b, byte(ua.NodeIDTypeFourByte), 0)
	e.b = binary.LittleEndian.AppendUint16(e.b, uint16(id))
	e.header(h)
	if isBrows {
		if e.count(browse == nil, len(browse)) {
			for _, res := range browse {
				e.browseResult(res)
			}
		}
	} else if e.count(read == nil, len(read)) {
		for _, dv := range read {
			e.dataValue(dv)
		}
	}
	if e.count(diags == nil, len(diags)) {
		for _, d := range diags {
			e.diagnostic(d)
		}
	}
	if !e.ok {
		return nil, false
	}
	return e.b, true
}

// count writes an array length (null for a nil slice) and reports whether
// elements follow.
func (e *fastEnc) count(isNil bool, n int) bool {
	if isNil {
		e.u32(0xffffffff)
		return false
	}
	if n > math.MaxInt32 {
		e.ok = false
		return false
	}
	e.u32(uint32(n))
	return n > 0
}

func (e *fastEnc) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *fastEnc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }

func (e *fastEnc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// str writes a String as ua.Buffer.WriteString does: "" is null.
func (e *fastEnc) str(s string) {
	if s == "" {
		e.u32(0xffffffff)
		return
	}
	if len(s) > math.MaxInt32 {
		e.ok = false
		return
	}
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
}

// bytes writes a ByteString as gopcua's encoder writes a []byte field.
func (e *fastEnc) bytes(d []byte) {
	if e.count(d == nil, len(d)) {
		e.b = append(e.b, d...)
	}
}

// time writes a DateTime as ua.Buffer.WriteTime does.
func (e *fastEnc) time(t time.Time) {
	var v uint64
	if !t.IsZero() {
		v = uint64(t.UTC().UnixNano()/100 + 116444736000000000)
	}
	e.b = binary.LittleEndian.AppendUint64(e.b, v)
}

// own appends a value's own gopcua encoding.
func (e *fastEnc) own(v ua.BinaryEncoder) {
	d, err := v.Encode()
	if err != nil {
		e.ok = false
		return
	}
	e.b = append(e.b, d...)
}

func (e *fastEnc) header(h *ua.ResponseHeader) {
	if h == nil || h.ServiceDiagnostics == nil {
		e.ok = false
		return
	}
	e.time(h.Timestamp)
	e.u32(h.RequestHandle)
	e.u32(uint32(h.ServiceResult))
	e.diagnostic(h.ServiceDiagnostics)
	if e.count(h.StringTable == nil, len(h.StringTable)) {
		for _, s := range h.StringTable {
			e.str(s)
		}
	}
	if h.AdditionalHeader == nil || h.AdditionalHeader.EncodingMask != ua.ExtensionObjectEmpty {
		e.own(h.AdditionalHeader) // gopcua encodes a nil one as the empty one
		return
	}
	e.expandedNodeID(h.AdditionalHeader.TypeID)
	e.b = append(e.b, ua.ExtensionObjectEmpty)
}

func (e *fastEnc) diagnostic(d *ua.DiagnosticInfo) {
	switch {
	case d == nil:
		e.ok = false
	case d.EncodingMask == 0:
		e.b = append(e.b, 0)
	default:
		e.own(d)
	}
}

func (e *fastEnc) browseResult(r *ua.BrowseResult) {
	if r == nil {
		e.ok = false
		return
	}
	e.u32(uint32(r.StatusCode))
	e.bytes(r.ContinuationPoint)
	if e.count(r.References == nil, len(r.References)) {
		for _, d := range r.References {
			e.reference(d)
		}
	}
}

func (e *fastEnc) reference(d *ua.ReferenceDescription) {
	if d == nil || d.BrowseName == nil || d.DisplayName == nil {
		e.ok = false
		return
	}
	e.nodeID(d.ReferenceTypeID)
	e.bool(d.IsForward)
	e.expandedNodeID(d.NodeID)
	e.u16(d.BrowseName.NamespaceIndex)
	e.str(d.BrowseName.Name)
	e.localizedText(d.DisplayName)
	e.u32(uint32(d.NodeClass))
	e.expandedNodeID(d.TypeDefinition)
}

func (e *fastEnc) localizedText(l *ua.LocalizedText) {
	if l == nil {
		e.ok = false
		return
	}
	e.b = append(e.b, l.EncodingMask)
	if l.Has(ua.LocalizedTextLocale) {
		e.str(l.Locale)
	}
	if l.Has(ua.LocalizedTextText) {
		e.str(l.Text)
	}
}

func (e *fastEnc) nodeID(n *ua.NodeID) {
	if n == nil {
		e.ok = false
		return
	}
	switch n.Type() {
	case ua.NodeIDTypeTwoByte:
		e.b = append(e.b, byte(n.EncodingMask()), byte(n.IntID()))
	case ua.NodeIDTypeFourByte:
		e.b = append(e.b, byte(n.EncodingMask()), byte(n.Namespace()))
		e.u16(uint16(n.IntID()))
	case ua.NodeIDTypeNumeric:
		e.b = append(e.b, byte(n.EncodingMask()))
		e.u16(n.Namespace())
		e.u32(n.IntID())
	case ua.NodeIDTypeString:
		s := n.StringID()
		if s == "" { // null or empty: only gopcua knows which
			e.own(n)
			return
		}
		e.b = append(e.b, byte(n.EncodingMask()))
		e.u16(n.Namespace())
		e.u32(uint32(len(s)))
		e.b = append(e.b, s...)
	default:
		e.own(n)
	}
}

func (e *fastEnc) expandedNodeID(x *ua.ExpandedNodeID) {
	switch {
	case x == nil:
		e.ok = false
	case x.NodeID == nil:
		e.b = append(e.b, 0, 0)
	default:
		e.nodeID(x.NodeID)
		if x.HasNamespaceURI() {
			e.str(x.NamespaceURI)
		}
		if x.HasServerIndex() {
			e.u32(x.ServerIndex)
		}
	}
}

func (e *fastEnc) dataValue(d *ua.DataValue) {
	if d == nil {
		e.ok = false
		return
	}
	e.b = append(e.b, d.EncodingMask)
	if d.Has(ua.DataValueValue) {
		e.variant(d.Value)
	}
	if d.Has(ua.DataValueStatusCode) {
		e.u32(uint32(d.Status))
	}
	if d.Has(ua.DataValueSourceTimestamp) {
		e.time(d.SourceTimestamp)
	}
	if d.Has(ua.DataValueSourcePicoseconds) {
		e.u16(d.SourcePicoseconds)
	}
	if d.Has(ua.DataValueServerTimestamp) {
		e.time(d.ServerTimestamp)
	}
	if d.Has(ua.DataValueServerPicoseconds) {
		e.u16(d.ServerPicoseconds)
	}
}

// variant writes the scalars a Read mostly returns; arrays and the other
// types are gopcua's own encoding.
func (e *fastEnc) variant(v *ua.Variant) {
	if v == nil {
		e.ok = false
		return
	}
	mask := v.EncodingMask()
	if v.Type() == ua.TypeIDNull {
		e.b = append(e.b, mask)
		return
	}
	if mask&(ua.VariantArrayValues|ua.VariantArrayDimensions) != 0 {
		e.own(v)
		return
	}
	switch x := v.Value().(type) {
	case float64:
		e.b = append(e.b, mask)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x))
	case float32:
		e.b = append(e.b, mask)
		e.u32(math.Float32bits(x))
	case string:
		e.b = append(e.b, mask)
		e.str(x)
	case bool:
		e.b = append(e.b, mask)
		e.bool(x)
	case int32:
		e.b = append(e.b, mask)
		e.u32(uint32(x))
	case uint32:
		e.b = append(e.b, mask)
		e.u32(x)
	case int64:
		e.b = append(e.b, mask)
		e.b = binary.LittleEndian.AppendUint64(e.b, uint64(x))
	case uint64:
		e.b = append(e.b, mask)
		e.b = binary.LittleEndian.AppendUint64(e.b, x)
	case time.Time:
		e.b = append(e.b, mask)
		e.time(x)
	case ua.StatusCode:
		e.b = append(e.b, mask)
		e.u32(uint32(x))
	case *ua.NodeID:
		if x == nil {
			e.ok = false
			return
		}
		e.b = append(e.b, mask)
		e.nodeID(x)
	case *ua.LocalizedText:
		e.b = append(e.b, mask)
		e.localizedText(x)
	case *ua.QualifiedName:
		if x == nil {
			e.ok = false
			return
		}
		e.b = append(e.b, mask)
		e.u16(x.NamespaceIndex)
		e.str(x.Name)
	case *ua.ExtensionObject:
		if !e.extensionBody(x, mask) {
			e.own(v)
		}
	default:
		e.own(v)
	}
}

// extensionBody writes a Variant holding an ExtensionObject of the two
// structures a crawl reads (the EngineeringUnits and EURange properties of
// every analog reading) and reports whether it did; the others are left to
// gopcua.
func (e *fastEnc) extensionBody(x *ua.ExtensionObject, mask byte) bool {
	if x == nil || x.TypeID == nil || x.EncodingMask != ua.ExtensionObjectBinary {
		return false
	}
	switch body := x.Value.(type) {
	case *ua.Range:
		if body == nil {
			return false
		}
		e.b = append(e.b, mask)
		e.expandedNodeID(x.TypeID)
		e.b = append(e.b, x.EncodingMask)
		e.u32(16)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(body.Low))
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(body.High))
		return true
	case *ua.EUInformation:
		if body == nil || body.DisplayName == nil || body.Description == nil {
			return false
		}
		e.b = append(e.b, mask)
		e.expandedNodeID(x.TypeID)
		e.b = append(e.b, x.EncodingMask)
		at := len(e.b)
		e.u32(0) // the body's length, once written
		e.str(body.NamespaceURI)
		e.u32(uint32(body.UnitID))
		e.localizedText(body.DisplayName)
		e.localizedText(body.Description)
		binary.LittleEndian.PutUint32(e.b[at:], uint32(len(e.b)-at-4))
		return true
	}
	return false
}
