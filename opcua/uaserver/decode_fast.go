package uaserver

import (
	"encoding/binary"
	"math"
	"reflect"
	"time"

	"github.com/gopcua/opcua/ua"
)

// The crawl's requests — Browse of 100 nodes, BrowseNext, Read of 10,000
// attributes — are decoded here without reflection: the general path walks
// every element twice by reflection (the bounds check of decode.go, then
// gopcua's decoder, which allocates each field on its own), a fifth of the
// server's CPU per crawl. The elements of one array are allocated as one
// slice. The result is what gopcua decodes (TestDecodeFastMatchesGopcua);
// the request header, small and able to nest an ExtensionObject, still goes
// through the bounds check and gopcua. Anything unexpected — a truncated
// message, an array longer than the bytes left, an invalid NodeId — is left
// to the general path, so the errors stay its errors.

var (
	tRequestHeader     = reflect.TypeOf(ua.RequestHeader{})
	tBrowseRequest     = reflect.TypeOf(&ua.BrowseRequest{})
	tBrowseNextRequest = reflect.TypeOf(&ua.BrowseNextRequest{})
	tReadRequest       = reflect.TypeOf(&ua.ReadRequest{})
)

// decodeFast decodes body as a request of type t if t is one of the three;
// false: decode it the general way.
func decodeFast(t reflect.Type, body []byte) (req ua.Request, ok bool) {
	if t != tBrowseRequest && t != tBrowseNextRequest && t != tReadRequest {
		return nil, false
	}
	defer func() {
		if recover() != nil {
			req, ok = nil, false
		}
	}()
	c := checker{}
	n, err := c.value(body, tRequestHeader)
	if err != nil {
		return nil, false
	}
	h := new(ua.RequestHeader)
	if m, err := ua.Decode(body[:n], h); err != nil || m != n {
		return nil, false
	}
	d := fastDec{b: body, pos: n, ok: true, budget: maxElements - c.elements}
	switch t {
	case tBrowseRequest:
		r := &ua.BrowseRequest{RequestHeader: h, View: new(ua.ViewDescription)}
		r.View.ViewID = d.nodeID(new(ua.NodeID))
		r.View.Timestamp = d.time()
		r.View.ViewVersion = d.u32()
		r.RequestedMaxReferencesPerNode = d.u32()
		if k, isNil := d.count(); !isNil {
			descs, ids := make([]ua.BrowseDescription, k), make([]ua.NodeID, 2*k)
			r.NodesToBrowse = make([]*ua.BrowseDescription, k)
			for i := range descs {
				bd := &descs[i]
				bd.NodeID = d.nodeID(&ids[2*i])
				bd.BrowseDirection = ua.BrowseDirection(d.u32())
				bd.ReferenceTypeID = d.nodeID(&ids[2*i+1])
				bd.IncludeSubtypes = d.u8() > 0
				bd.NodeClassMask = d.u32()
				bd.ResultMask = d.u32()
				r.NodesToBrowse[i] = bd
			}
		}
		req = r
	case tBrowseNextRequest:
		r := &ua.BrowseNextRequest{RequestHeader: h}
		r.ReleaseContinuationPoints = d.u8() > 0
		if k, isNil := d.count(); !isNil {
			r.ContinuationPoints = make([][]byte, k)
			for i := range r.ContinuationPoints {
				r.ContinuationPoints[i] = d.byteString()
			}
		}
		req = r
	case tReadRequest:
		r := &ua.ReadRequest{RequestHeader: h}
		r.MaxAge = math.Float64frombits(d.u64())
		r.TimestampsToReturn = ua.TimestampsToReturn(d.u32())
		if k, isNil := d.count(); !isNil {
			rvs, ids, qns := make([]ua.ReadValueID, k), make([]ua.NodeID, k), make([]ua.QualifiedName, k)
			r.NodesToRead = make([]*ua.ReadValueID, k)
			for i := range rvs {
				rv := &rvs[i]
				rv.NodeID = d.nodeID(&ids[i])
				rv.AttributeID = ua.AttributeID(d.u32())
				rv.IndexRange = d.str()
				qns[i].NamespaceIndex = d.u16()
				qns[i].Name = d.str()
				rv.DataEncoding = &qns[i]
				r.NodesToRead[i] = rv
			}
		}
		req = r
	}
	if !d.ok {
		return nil, false
	}
	return req, true
}

// fastDec reads b from pos; ok turns false at the first thing the general
// path must judge, and every read after returns zero.
type fastDec struct {
	b      []byte
	pos    int
	ok     bool
	budget int // array elements the request may still have (decode.go's maxElements)
}

func (d *fastDec) take(n int) []byte {
	if !d.ok || n > len(d.b)-d.pos {
		d.ok = false
		return nil
	}
	p := d.b[d.pos : d.pos+n]
	d.pos += n
	return p
}

func (d *fastDec) u8() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *fastDec) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *fastDec) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *fastDec) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// time reads a DateTime as ua.Buffer.ReadTime does.
func (d *fastDec) time() time.Time {
	ts := d.u64()
	if ts == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64((ts-116444736000000000)*100)).UTC()
}

// count reads an array length: null is a nil array; a length the bytes
// left cannot hold, or past the request's element budget, is the general
// path's to refuse.
func (d *fastDec) count() (n int, isNil bool) {
	v := d.u32()
	if !d.ok {
		return 0, true
	}
	if v == 0xffffffff {
		return 0, true
	}
	if int64(v) > int64(len(d.b)-d.pos) || int64(v) > int64(d.budget) {
		d.ok = false
		return 0, true
	}
	d.budget -= int(v)
	return int(v), false
}

// str reads a String as ua.Buffer.ReadString does (null is "").
func (d *fastDec) str() string {
	v := d.u32()
	if v == 0 || v == 0xffffffff {
		return ""
	}
	if int64(v) > int64(len(d.b)-d.pos) {
		d.ok = false
		return ""
	}
	return string(d.take(int(v)))
}

// byteString reads a ByteString as gopcua's decoder reads a []byte field:
// null is nil, otherwise the bytes of the message.
func (d *fastDec) byteString() []byte {
	v := d.u32()
	if !d.ok || v == 0xffffffff {
		return nil
	}
	if int64(v) > int64(len(d.b)-d.pos) {
		d.ok = false
		return nil
	}
	return d.take(int(v))
}

// nodeID decodes a NodeId into n with gopcua's own NodeID.Decode.
func (d *fastDec) nodeID(n *ua.NodeID) *ua.NodeID {
	if !d.ok {
		return n
	}
	m, err := n.Decode(d.b[d.pos:])
	if err != nil {
		d.ok = false
		return n
	}
	d.pos += m
	return n
}
