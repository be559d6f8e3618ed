package uaserver

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"
)

// gopcua's decoder allocates every array by the length the message claims
// before reading a single element: 49 bytes claiming 2^31 ReadValueIds make
// it reserve 16 GiB. It also recurses without a bound through nested
// Variants, DataValues, ExtensionObjects and DiagnosticInfos, and expands
// multi-dimensional Variant arrays by dimensions whose int32 product may
// overflow. So every request is first walked here, without allocating,
// against the Go type it will be decoded into: each array length must fit
// in the bytes left, nesting is bounded, Variant dimensions must multiply
// to the array length. Only then does gopcua decode it.

// maxNesting bounds Variant / DataValue / ExtensionObject / DiagnosticInfo
// nesting in a request.
const maxNesting = 32

// maxElements bounds the array elements of one request that gopcua
// allocates objects for (every element but fixed-size numbers): a
// one-byte element can become a hundred-byte object. Ten times the
// largest operation limit (10000 nodes per Read or monitored items per
// call) leaves room for every legitimate request.
const maxElements = 100000

// decodeRequest decodes a service request (type id + body).
func decodeRequest(b []byte) (req ua.Request, err error) {
	typeID := new(ua.ExpandedNodeID)
	n, err := typeID.Decode(b)
	if err != nil {
		return nil, errorf(ua.StatusBadDecodingError, "request type id: %v", err)
	}
	t := serviceType(b[:n])
	if t == nil {
		return nil, errorf(ua.StatusBadServiceUnsupported, "unknown service type %s", typeID.NodeID)
	}
	if req, ok := decodeFast(t, b[n:]); ok {
		return req, nil
	}
	c := checker{}
	if _, err := c.value(b[n:], t); err != nil {
		return nil, errorf(ua.StatusBadDecodingError, "%s: %v", t.Elem().Name(), err)
	}
	defer func() {
		if r := recover(); r != nil {
			req, err = nil, errorf(ua.StatusBadDecodingError, "%s: decoder panic: %v", t.Elem().Name(), r)
		}
	}()
	_, v, err := ua.DecodeService(b)
	if err != nil {
		return nil, errorf(ua.StatusBadDecodingError, "%s: %v", t.Elem().Name(), err)
	}
	req, ok := v.(ua.Request)
	if !ok || req.Header() == nil {
		return nil, errorf(ua.StatusBadServiceUnsupported, "%T is not a request", v)
	}
	return req, nil
}

// decodeRequestHeader decodes just the RequestHeader of an undecodable
// request, for the RequestHandle of its ServiceFault.
func decodeRequestHeader(b []byte) *ua.RequestHeader {
	typeID := new(ua.ExpandedNodeID)
	n, err := typeID.Decode(b)
	if err != nil {
		return nil
	}
	h := new(ua.RequestHeader)
	c := checker{}
	if _, err := c.value(b[n:], reflect.TypeOf(h)); err != nil {
		return nil
	}
	defer func() { _ = recover() }()
	if _, err := ua.Decode(b[n:], h); err != nil {
		return nil
	}
	return h
}

// typeCache maps type ids ("s" or "e" + NodeId) to the Go types gopcua
// decodes them into. Only registered types are cached, so its size is
// bounded by gopcua's registries whatever clients send.
var typeCache sync.Map // string -> reflect.Type

// serviceType is the Go type of the service whose type id is encoded in
// id, or nil.
func serviceType(id []byte) reflect.Type {
	return cachedType("s", id, func() any {
		// DecodeService creates the value before decoding its (here
		// empty) body, which fails at once without allocating.
		_, v, _ := ua.DecodeService(id)
		return v
	})
}

// extensionType is the Go type gopcua decodes the binary body of an
// ExtensionObject with encoded type id id into, or nil (body skipped).
func extensionType(id []byte) reflect.Type {
	return cachedType("e", id, func() any {
		// A one-byte body: gopcua creates the registered type, then fails
		// to decode it, without allocating.
		probe := append(append([]byte{}, id...), ua.ExtensionObjectBinary, 1, 0, 0, 0, 0)
		eo := new(ua.ExtensionObject)
		defer func() { _ = recover() }()
		_, _ = eo.Decode(probe)
		return eo.Value
	})
}

// cachedType looks up, or probes gopcua for and caches, a registered type.
func cachedType(prefix string, id []byte, probe func() any) reflect.Type {
	key, ok := typeKey(prefix, id)
	if !ok {
		return nil
	}
	if v, ok := typeCache.Load(key); ok {
		return v.(reflect.Type)
	}
	v := probe()
	if v == nil {
		return nil
	}
	t := reflect.TypeOf(v)
	typeCache.Store(key, t)
	return t
}

// typeKey is the cache key of an encoded type id: its NodeId, whatever
// encoding, namespace URI or server index came with it.
func typeKey(prefix string, id []byte) (key string, ok bool) {
	defer func() {
		if recover() != nil {
			key, ok = "", false
		}
	}()
	e := new(ua.ExpandedNodeID)
	if _, err := e.Decode(id); err != nil || e.NodeID == nil {
		return "", false
	}
	return prefix + e.NodeID.String(), true
}

var (
	tNodeID         = reflect.TypeOf(ua.NodeID{})
	tExpandedNodeID = reflect.TypeOf(ua.ExpandedNodeID{})
	tVariant        = reflect.TypeOf(ua.Variant{})
	tDataValue      = reflect.TypeOf(ua.DataValue{})
	tLocalizedText  = reflect.TypeOf(ua.LocalizedText{})
	tExtension      = reflect.TypeOf(ua.ExtensionObject{})
	tDiagnostic     = reflect.TypeOf(ua.DiagnosticInfo{})
	tGUID           = reflect.TypeOf(ua.GUID{})
	tTime           = reflect.TypeOf(time.Time{})
)

// checker walks an encoded value like gopcua's decoder would, consuming
// bytes but allocating nothing.
type checker struct {
	depth    int
	elements int
}

// count adds n allocated elements to the request's budget.
func (c *checker) count(n int) error {
	if c.elements += n; c.elements > maxElements {
		return fmt.Errorf("more than %d array elements", maxElements)
	}
	return nil
}

// fixedSize reports whether gopcua decodes t without allocating.
func fixedSize(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16, reflect.Int32, reflect.Uint32,
		reflect.Int64, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

type short struct{}

func (short) Error() string { return "message truncated" }

// need fails unless b holds n bytes.
func need(b []byte, n int) error {
	if n < 0 || len(b) < n {
		return short{}
	}
	return nil
}

func u32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// value checks b against type t and returns the bytes consumed.
func (c *checker) value(b []byte, t reflect.Type) (int, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case tNodeID:
		return c.nodeID(b)
	case tExpandedNodeID:
		return c.expandedNodeID(b)
	case tVariant:
		return c.nested(b, c.variant)
	case tDataValue:
		return c.nested(b, c.dataValue)
	case tLocalizedText:
		return c.localizedText(b)
	case tExtension:
		return c.nested(b, c.extension)
	case tDiagnostic:
		return c.nested(b, c.diagnostic)
	case tGUID:
		return 16, need(b, 16)
	case tTime:
		return 8, need(b, 8)
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int8, reflect.Uint8:
		return 1, need(b, 1)
	case reflect.Int16, reflect.Uint16:
		return 2, need(b, 2)
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return 4, need(b, 4)
	case reflect.Int64, reflect.Uint64, reflect.Float64:
		return 8, need(b, 8)
	case reflect.String:
		return byteString(b)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return byteString(b)
		}
		if err := need(b, 4); err != nil {
			return 0, err
		}
		n := u32(b)
		if n == 0xffffffff {
			return 4, nil
		}
		if int64(n) > int64(len(b)-4) || (t.Kind() == reflect.Array && int(n) > t.Len()) {
			return 0, fmt.Errorf("array of %d elements in %d bytes", n, len(b)-4)
		}
		if !fixedSize(t.Elem()) {
			if err := c.count(int(n)); err != nil {
				return 0, err
			}
		}
		pos := 4
		for range n {
			m, err := c.value(b[pos:], t.Elem())
			if err != nil {
				return 0, err
			}
			pos += m
		}
		return pos, nil
	case reflect.Struct:
		pos := 0
		for i := range t.NumField() {
			m, err := c.value(b[pos:], t.Field(i).Type)
			if err != nil {
				return 0, err
			}
			pos += m
		}
		return pos, nil
	}
	return 0, fmt.Errorf("unsupported type %s", t)
}

// nested runs f one nesting level deeper.
func (c *checker) nested(b []byte, f func([]byte) (int, error)) (int, error) {
	if c.depth >= maxNesting {
		return 0, fmt.Errorf("nested deeper than %d", maxNesting)
	}
	c.depth++
	defer func() { c.depth-- }()
	return f(b)
}

// byteString checks a String or ByteString (Int32 length, -1 = null).
func byteString(b []byte) (int, error) {
	if err := need(b, 4); err != nil {
		return 0, err
	}
	n := u32(b)
	if n == 0xffffffff {
		return 4, nil
	}
	if int64(n) > int64(len(b)-4) {
		return 0, short{}
	}
	return 4 + int(n), nil
}

func (c *checker) nodeID(b []byte) (int, error) {
	if err := need(b, 1); err != nil {
		return 0, err
	}
	switch b[0] & 0xf {
	case 0:
		return 2, need(b, 2)
	case 1:
		return 4, need(b, 4)
	case 2:
		return 7, need(b, 7)
	case 3, 5:
		if err := need(b, 3); err != nil {
			return 0, err
		}
		n, err := byteString(b[3:])
		return 3 + n, err
	case 4:
		return 19, need(b, 19)
	}
	return 0, fmt.Errorf("invalid NodeId encoding %#x", b[0])
}

func (c *checker) expandedNodeID(b []byte) (int, error) {
	pos, err := c.nodeID(b)
	if err != nil {
		return 0, err
	}
	if b[0]&0x80 != 0 {
		n, err := byteString(b[pos:])
		if err != nil {
			return 0, err
		}
		pos += n
	}
	if b[0]&0x40 != 0 {
		if err := need(b[pos:], 4); err != nil {
			return 0, err
		}
		pos += 4
	}
	return pos, nil
}

func (c *checker) localizedText(b []byte) (int, error) {
	if err := need(b, 1); err != nil {
		return 0, err
	}
	pos := 1
	for _, bit := range []byte{ua.LocalizedTextLocale, ua.LocalizedTextText} {
		if b[0]&bit != 0 {
			n, err := byteString(b[pos:])
			if err != nil {
				return 0, err
			}
			pos += n
		}
	}
	return pos, nil
}

func (c *checker) dataValue(b []byte) (int, error) {
	if err := need(b, 1); err != nil {
		return 0, err
	}
	mask, pos := b[0], 1
	if mask&ua.DataValueValue != 0 {
		n, err := c.variant(b[pos:])
		if err != nil {
			return 0, err
		}
		pos += n
	}
	for _, f := range []struct {
		bit  byte
		size int
	}{{ua.DataValueStatusCode, 4}, {ua.DataValueSourceTimestamp, 8}, {ua.DataValueSourcePicoseconds, 2},
		{ua.DataValueServerTimestamp, 8}, {ua.DataValueServerPicoseconds, 2}} {
		if mask&f.bit != 0 {
			pos += f.size
		}
	}
	return pos, need(b, pos)
}

func (c *checker) diagnostic(b []byte) (int, error) {
	if err := need(b, 1); err != nil {
		return 0, err
	}
	mask, pos := b[0], 1
	for _, bit := range []byte{ua.DiagnosticInfoSymbolicID, ua.DiagnosticInfoNamespaceURI, ua.DiagnosticInfoLocale, ua.DiagnosticInfoLocalizedText} {
		if mask&bit != 0 {
			pos += 4
		}
	}
	if err := need(b, pos); err != nil {
		return 0, err
	}
	if mask&ua.DiagnosticInfoAdditionalInfo != 0 {
		n, err := byteString(b[pos:])
		if err != nil {
			return 0, err
		}
		pos += n
	}
	if mask&ua.DiagnosticInfoInnerStatusCode != 0 {
		pos += 4
		if err := need(b, pos); err != nil {
			return 0, err
		}
	}
	if mask&ua.DiagnosticInfoInnerDiagnosticInfo != 0 {
		n, err := c.nested(b[pos:], c.diagnostic)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	return pos, nil
}

func (c *checker) extension(b []byte) (int, error) {
	idLen, err := c.expandedNodeID(b)
	if err != nil {
		return 0, err
	}
	pos := idLen
	if err := need(b[pos:], 1); err != nil {
		return 0, err
	}
	mask := b[pos]
	pos++
	if mask == ua.ExtensionObjectEmpty {
		return pos, nil
	}
	if err := need(b[pos:], 4); err != nil {
		return 0, err
	}
	n := u32(b[pos:])
	pos += 4
	if n == 0 || n == 0xffffffff {
		return pos, nil
	}
	if int64(n) > int64(len(b)-pos) {
		return 0, short{}
	}
	body := b[pos : pos+int(n)]
	if mask == ua.ExtensionObjectXML {
		if _, err := byteString(body); err != nil {
			return 0, err
		}
	} else if t := extensionType(b[:idLen]); t != nil {
		if _, err := c.value(body, t); err != nil {
			return 0, err
		}
	}
	return pos + int(n), nil
}

// variant checks a Variant (Part 6, 5.2.2.16).
func (c *checker) variant(b []byte) (int, error) {
	if err := need(b, 1); err != nil {
		return 0, err
	}
	mask, pos := b[0], 1
	typ := mask & 0x3f
	if typ == 0 {
		return pos, nil
	}
	if typ > 25 {
		return 0, fmt.Errorf("invalid Variant type %d", typ)
	}
	if mask&0x80 == 0 {
		n, err := c.scalar(b[pos:], typ)
		return pos + n, err
	}
	if err := need(b[pos:], 4); err != nil {
		return 0, err
	}
	length := int32(u32(b[pos:]))
	pos += 4
	if length < -1 || int64(length) > int64(ua.MaxVariantArrayLength) || int64(length) > int64(len(b)-pos) {
		return 0, fmt.Errorf("Variant array of %d elements", length)
	}
	if err := c.count(int(max(length, 0))); err != nil {
		return 0, err
	}
	for range max(length, 0) {
		n, err := c.scalar(b[pos:], typ)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	if mask&0x40 != 0 {
		if err := need(b[pos:], 4); err != nil {
			return 0, err
		}
		dims := int32(u32(b[pos:]))
		pos += 4
		if dims < 0 || int64(dims)*4 > int64(len(b)-pos) {
			return 0, fmt.Errorf("Variant with %d dimensions", dims)
		}
		product := int64(1)
		for range dims {
			d := int64(int32(u32(b[pos:])))
			pos += 4
			if d < 1 {
				return 0, fmt.Errorf("Variant dimension %d", d)
			}
			if product *= d; product > int64(ua.MaxVariantArrayLength) {
				return 0, fmt.Errorf("Variant dimensions too large")
			}
		}
		if dims > 0 && product != int64(length) {
			return 0, fmt.Errorf("Variant dimensions do not match its %d elements", length)
		}
	}
	return pos, nil
}

// scalar checks one Variant value of built-in type typ.
func (c *checker) scalar(b []byte, typ byte) (int, error) {
	switch typ {
	case 1, 2, 3: // Boolean, SByte, Byte
		return 1, need(b, 1)
	case 4, 5: // Int16, UInt16
		return 2, need(b, 2)
	case 6, 7, 10, 19: // Int32, UInt32, Float, StatusCode
		return 4, need(b, 4)
	case 8, 9, 11, 13: // Int64, UInt64, Double, DateTime
		return 8, need(b, 8)
	case 12, 15, 16: // String, ByteString, XmlElement
		return byteString(b)
	case 14: // Guid
		return 16, need(b, 16)
	case 17:
		return c.nodeID(b)
	case 18:
		return c.expandedNodeID(b)
	case 20: // QualifiedName
		if err := need(b, 2); err != nil {
			return 0, err
		}
		n, err := byteString(b[2:])
		return 2 + n, err
	case 21:
		return c.localizedText(b)
	case 22:
		return c.nested(b, c.extension)
	case 23:
		return c.nested(b, c.dataValue)
	case 24:
		return c.nested(b, c.variant)
	case 25:
		return c.nested(b, c.diagnostic)
	}
	return 0, fmt.Errorf("invalid Variant type %d", typ)
}
