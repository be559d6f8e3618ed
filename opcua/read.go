package opcua

import (
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// Read, and Write refused.

func (s *services) read(req *ua.ReadRequest) ua.Response {
	if req.MaxAge < 0 || math.IsNaN(req.MaxAge) {
		return uaserver.Fault(ua.StatusBadMaxAgeInvalid)
	}
	if req.TimestampsToReturn > ua.TimestampsToReturnNeither {
		return uaserver.Fault(ua.StatusBadTimestampsToReturnInvalid)
	}
	if code := s.checkCount(len(req.NodesToRead), s.limits.MaxNodesPerRead); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	c := s.ctx()
	results := make([]*ua.DataValue, len(req.NodesToRead))
	for i, rv := range req.NodesToRead {
		results[i] = c.read(rv, req.TimestampsToReturn)
	}
	return &ua.ReadResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}
}

// badValue is a DataValue carrying only a status.
func badValue(code ua.StatusCode) *ua.DataValue {
	return &ua.DataValue{EncodingMask: ua.DataValueStatusCode, Status: code}
}

func (c *evalCtx) read(rv *ua.ReadValueID, ts ua.TimestampsToReturn) *ua.DataValue {
	if rv == nil {
		return badValue(ua.StatusBadNodeIDUnknown)
	}
	n, ok := c.resolve(rv.NodeID)
	if !ok {
		return badValue(ua.StatusBadNodeIDUnknown)
	}
	var rng *indexRange
	if rv.IndexRange != "" {
		r, ok := parseIndexRange(rv.IndexRange)
		if !ok {
			return badValue(ua.StatusBadIndexRangeInvalid)
		}
		rng = &r
	}
	if rv.AttributeID != ua.AttributeIDValue {
		if customEncoding(rv.DataEncoding) {
			return badValue(ua.StatusBadDataEncodingInvalid)
		}
		v, code := c.attribute(n, rv.AttributeID)
		if code == ua.StatusGood && rng != nil {
			v, code = rng.apply(v)
		}
		if code != ua.StatusGood {
			return badValue(code)
		}
		return &ua.DataValue{EncodingMask: ua.DataValueValue, Value: v}
	}
	if code := c.checkAttribute(n, ua.AttributeIDValue); code != ua.StatusGood {
		return badValue(code)
	}
	smp := c.value(n)
	if enc := rv.DataEncoding; customEncoding(enc) {
		if smp.v == nil || smp.v.Type() != ua.TypeIDExtensionObject {
			return badValue(ua.StatusBadDataEncodingInvalid)
		}
		if enc.NamespaceIndex != 0 || enc.Name != "Default Binary" {
			return badValue(ua.StatusBadDataEncodingUnsupported)
		}
	}
	if rng != nil && smp.v != nil {
		v, code := rng.apply(smp.v)
		if code != ua.StatusGood {
			return badValue(code)
		}
		smp.v = v
	}
	return c.dataValue(smp, ts)
}

// dataValue turns a sample into a DataValue with the timestamps asked for.
func (c *evalCtx) dataValue(smp sample, ts ua.TimestampsToReturn) *ua.DataValue {
	dv := &ua.DataValue{Value: smp.v, Status: smp.status}
	if ts == ua.TimestampsToReturnSource || ts == ua.TimestampsToReturnBoth {
		dv.SourceTimestamp = smp.source
	}
	if ts == ua.TimestampsToReturnServer || ts == ua.TimestampsToReturnBoth {
		dv.ServerTimestamp = c.now
	}
	dv.UpdateMask()
	return dv
}

// accessCurrentRead is in the AccessLevel of every variable: the gateway
// is read-only (accessLevel adds HistoryRead where history is kept).
const accessCurrentRead = 1

// attribute returns an attribute other than Value.
func (c *evalCtx) attribute(n node, attr ua.AttributeID) (*ua.Variant, ua.StatusCode) {
	class := c.class(n)
	isVar := class == ua.NodeClassVariable
	isType := class == ua.NodeClassObjectType || class == ua.NodeClassVariableType ||
		class == ua.NodeClassReferenceType || class == ua.NodeClassDataType
	var st *staticNode
	if n.kind == kindStatic {
		st = &c.as.statics[n.idx]
	}
	switch attr {
	case ua.AttributeIDNodeID:
		return variant(c.nodeID(n)), ua.StatusGood
	case ua.AttributeIDNodeClass:
		return variant(int32(class)), ua.StatusGood
	case ua.AttributeIDBrowseName:
		bn := c.browseName(n)
		return variant(&bn), ua.StatusGood
	case ua.AttributeIDDisplayName:
		return variant(ua.NewLocalizedText(c.displayName(n))), ua.StatusGood
	case ua.AttributeIDDescription:
		return variant(ua.NewLocalizedText(c.description(n))), ua.StatusGood
	case ua.AttributeIDWriteMask, ua.AttributeIDUserWriteMask:
		return variant(uint32(0)), ua.StatusGood
	case ua.AttributeIDIsAbstract:
		if isType {
			return variant(st.isAbstract), ua.StatusGood
		}
	case ua.AttributeIDSymmetric:
		if class == ua.NodeClassReferenceType {
			return variant(st.symmetric), ua.StatusGood
		}
	case ua.AttributeIDInverseName:
		if class == ua.NodeClassReferenceType {
			return variant(ua.NewLocalizedText(st.inverseName)), ua.StatusGood
		}
	case ua.AttributeIDContainsNoLoops:
		if class == ua.NodeClassView {
			return variant(st.containsNoLoops), ua.StatusGood
		}
	case ua.AttributeIDEventNotifier:
		if class == ua.NodeClassObject || class == ua.NodeClassView {
			return variant(c.eventNotifier(n)), ua.StatusGood
		}
	case ua.AttributeIDDataType, ua.AttributeIDValueRank, ua.AttributeIDArrayDimensions:
		if !isVar && class != ua.NodeClassVariableType {
			break
		}
		dt, rank, dims := c.variableType(n)
		switch attr {
		case ua.AttributeIDDataType:
			return variant(dt), ua.StatusGood
		case ua.AttributeIDValueRank:
			return variant(rank), ua.StatusGood
		}
		return variant(dims), ua.StatusGood
	case ua.AttributeIDAccessLevel, ua.AttributeIDUserAccessLevel:
		if isVar {
			return variant(c.accessLevel(n)), ua.StatusGood
		}
	case ua.AttributeIDAccessLevelEx:
		if isVar {
			return variant(uint32(c.accessLevel(n))), ua.StatusGood
		}
	case ua.AttributeIDMinimumSamplingInterval:
		if isVar {
			if st != nil {
				return variant(st.minSampling), ua.StatusGood
			}
			return variant(float64(c.srv.limits.MinSamplingInterval.Milliseconds())), ua.StatusGood
		}
	case ua.AttributeIDExecutable, ua.AttributeIDUserExecutable:
		if class == ua.NodeClassMethod {
			// the methods of call.go's table run (for a user whose role
			// allows: the Call answers Bad_UserAccessDenied otherwise)
			_, ok := methods[st.id.IntID()]
			return variant(ok && st.id.Namespace() == 0), ua.StatusGood
		}
	case ua.AttributeIDHistorizing:
		if isVar {
			key, _ := c.historyOf(n)
			return variant(key != ""), ua.StatusGood
		}
	}
	return nil, ua.StatusBadAttributeIDInvalid
}

// variableType returns DataType, ValueRank and ArrayDimensions.
func (c *evalCtx) variableType(n node) (*ua.NodeID, int32, []uint32) {
	if n.kind == kindStatic {
		s := &c.as.statics[n.idx]
		return s.dataType, s.valueRank, s.arrayDims
	}
	m := c.variableMember(n)
	return m.dataType, m.valueRank, m.arrayDims
}

// write refuses every write: the gateway is read-only. Each operation gets
// the status a writable-looking request would fail with: BadNodeIdUnknown,
// BadAttributeIdInvalid, BadNotWritable.
func (s *services) write(req *ua.WriteRequest) ua.Response {
	if code := s.checkCount(len(req.NodesToWrite), s.limits.MaxNodesPerRead); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	c := s.ctx()
	results := make([]ua.StatusCode, len(req.NodesToWrite))
	for i, wv := range req.NodesToWrite {
		results[i] = c.refuseWrite(wv)
	}
	return &ua.WriteResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}
}

func (c *evalCtx) refuseWrite(wv *ua.WriteValue) ua.StatusCode {
	if wv == nil {
		return ua.StatusBadNodeIDUnknown
	}
	n, ok := c.resolve(wv.NodeID)
	if !ok {
		return ua.StatusBadNodeIDUnknown
	}
	if code := c.checkAttribute(n, wv.AttributeID); code != ua.StatusGood {
		return code
	}
	return ua.StatusBadNotWritable
}

// checkAttribute reports whether node n has attribute attr: StatusGood,
// or the status that says why not (a Value only on variables and variable
// types).
func (c *evalCtx) checkAttribute(n node, attr ua.AttributeID) ua.StatusCode {
	if attr == ua.AttributeIDValue {
		if cl := c.class(n); cl != ua.NodeClassVariable && cl != ua.NodeClassVariableType {
			return ua.StatusBadAttributeIDInvalid
		}
		return ua.StatusGood
	}
	_, code := c.attribute(n, attr)
	return code
}

// customEncoding reports whether a request names a data encoding other
// than the default (an empty QualifiedName).
func customEncoding(enc *ua.QualifiedName) bool {
	return enc != nil && (enc.Name != "" || enc.NamespaceIndex != 0)
}

// indexRange is a one-dimensional NumericRange ("3" or "2:5").
type indexRange struct{ lo, hi int }

// parseIndexRange parses a NumericRange. Multi-dimensional ranges parse
// but select nothing (every array here has one dimension).
func parseIndexRange(s string) (indexRange, bool) {
	dims := strings.Split(s, ",")
	var first indexRange
	for i, d := range dims {
		lo, hi, isRange := strings.Cut(d, ":")
		a, err1 := strconv.ParseUint(lo, 10, 31)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 31)
			if err2 == nil && b <= a {
				return indexRange{}, false
			}
		}
		if err1 != nil || err2 != nil {
			return indexRange{}, false
		}
		if i == 0 {
			first = indexRange{int(a), int(b)}
		}
	}
	if len(dims) > 1 {
		first.lo = -1
	}
	return first, true
}

// apply selects the range of an array, String or ByteString value.
func (r indexRange) apply(v *ua.Variant) (*ua.Variant, ua.StatusCode) {
	if v == nil || r.lo < 0 {
		return nil, ua.StatusBadIndexRangeNoData
	}
	switch x := v.Value().(type) {
	case string:
		if r.lo >= len(x) {
			return nil, ua.StatusBadIndexRangeNoData
		}
		return variant(x[r.lo:min(r.hi+1, len(x))]), ua.StatusGood
	case []byte:
		if r.lo >= len(x) {
			return nil, ua.StatusBadIndexRangeNoData
		}
		return variant(x[r.lo:min(r.hi+1, len(x))]), ua.StatusGood
	}
	rv := reflect.ValueOf(v.Value())
	if rv.Kind() != reflect.Slice || r.lo >= rv.Len() {
		return nil, ua.StatusBadIndexRangeNoData
	}
	return variant(rv.Slice(r.lo, min(r.hi+1, rv.Len())).Interface()), ua.StatusGood
}
