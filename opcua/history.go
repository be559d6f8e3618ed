package opcua

import (
	"crypto/rand"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// HistoryRead (OPC UA Part 11). The details ExtensionObject is decoded once,
// here, and dispatched by its type; each kind of history answers in its own
// file (ReadRawModifiedDetails: this one; ReadEventDetails, the alarm
// events of the ledger: history_events.go). A kind not listed is answered
// with Bad_HistoryOperationUnsupported for every node.

// WithHistory serves HistoryRead of values from h, and marks the variables
// it records as Historizing with the HistoryRead access bit. Without it no
// variable has history.
func WithHistory(h *history.Store) Option { return func(s *services) { s.hist = h } }

// historyRead answers a HistoryRead; the function it returns (values only:
// the events' continuation points are stateless) gives back the
// continuation points the answer took and issued, for when the client does
// not get it (larger than it accepts), so it can ask again for fewer nodes.
func (s *services) historyRead(r *uaserver.Request, req *ua.HistoryReadRequest) (ua.Response, func()) {
	if req.TimestampsToReturn > ua.TimestampsToReturnNeither {
		return uaserver.Fault(ua.StatusBadTimestampsToReturnInvalid), nil
	}
	if code := s.checkCount(len(req.NodesToRead), s.limits.MaxNodesPerHistoryReadData); code != ua.StatusGood {
		return uaserver.Fault(code), nil
	}
	var details any
	if req.HistoryReadDetails != nil {
		details = req.HistoryReadDetails.Value
	}
	var results []*ua.HistoryReadResult
	var undo func()
	switch d := details.(type) {
	case *ua.ReadRawModifiedDetails:
		if req.TimestampsToReturn == ua.TimestampsToReturnNeither {
			// Part 4: Neither is not valid for values (an event's fields
			// carry their own times, so event details ignore it).
			return uaserver.Fault(ua.StatusBadTimestampsToReturnInvalid), nil
		}
		results, undo = s.historyReadRaw(r.Session, req, d)
	case *ua.ReadEventDetails:
		results = s.historyReadEvents(r, d, req.NodesToRead, req.ReleaseContinuationPoints)
	case nil:
		results = historyFail(len(req.NodesToRead), ua.StatusBadHistoryOperationInvalid)
	default:
		results = historyFail(len(req.NodesToRead), ua.StatusBadHistoryOperationUnsupported)
	}
	return &ua.HistoryReadResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}, undo
}

// historyFail is the same status for every node of a request.
func historyFail(n int, code ua.StatusCode) []*ua.HistoryReadResult {
	out := make([]*ua.HistoryReadResult, n)
	for i := range out {
		out[i] = &ua.HistoryReadResult{StatusCode: code}
	}
	return out
}

// historyCursor is a ReadRaw in progress on one node: kept under a
// continuation point between two HistoryRead calls.
type historyCursor struct {
	nodeID  string
	key     string
	conv    func(history.Sample) sample
	rng     *indexRange
	reverse bool
	// next is the time the next page starts at (inclusive); stop the last
	// time that may be returned (inclusive).
	next, stop time.Time
	// lead is a Bad_BoundNotFound placeholder not yet returned (first
	// page); trail one to return after the last sample.
	lead, trail *ua.DataValue
	perCall     int // values per response: numValuesPerNode, else the server's limit
	left        int // values left when numValuesPerNode is the whole read (one time given); -1: no limit
	ts          ua.TimestampsToReturn
}

// The DateTime.MinValue of a request: the zero time (gopcua decodes the
// encoded 0 as the zero time; some clients send 1601-01-01).
func noTime(t time.Time) bool {
	return t.IsZero() || !t.After(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC))
}

var (
	timeMin = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)
	timeMax = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// heldCP is a history continuation point a request took, with its cursor
// as it was before the request moved it.
type heldCP struct {
	cp  []byte
	cur historyCursor
}

func (s *services) historyReadRaw(sess *uaserver.Session, req *ua.HistoryReadRequest, d *ua.ReadRawModifiedDetails) ([]*ua.HistoryReadResult, func()) {
	st := s.state(sess)
	results := make([]*ua.HistoryReadResult, len(req.NodesToRead))
	if req.ReleaseContinuationPoints {
		for i, rv := range req.NodesToRead {
			results[i] = &ua.HistoryReadResult{StatusCode: ua.StatusGood}
			if rv != nil && len(rv.ContinuationPoint) > 0 {
				if _, ok := st.takeHistoryCP(rv.ContinuationPoint); !ok {
					results[i].StatusCode = ua.StatusBadContinuationPointInvalid
				}
			}
		}
		return results, nil
	}
	c := s.ctx()
	var held []heldCP
	for i, rv := range req.NodesToRead {
		var h *heldCP
		results[i], h = s.readRawOne(st, c, rv, req.TimestampsToReturn, d)
		if h != nil {
			held = append(held, *h)
		}
	}
	undo := func() {
		for _, res := range results {
			if len(res.ContinuationPoint) > 0 {
				st.takeHistoryCP(res.ContinuationPoint)
			}
		}
		for _, h := range held {
			st.putHistoryCP(h.cp, &h.cur)
		}
	}
	return results, undo
}

// readRawOne reads one node's page; held is the client's continuation
// point it took, if any.
func (s *services) readRawOne(st *sessionState, c *evalCtx, rv *ua.HistoryReadValueID, ts ua.TimestampsToReturn, d *ua.ReadRawModifiedDetails) (_ *ua.HistoryReadResult, held *heldCP) {
	if rv == nil {
		return &ua.HistoryReadResult{StatusCode: ua.StatusBadNodeIDUnknown}, nil
	}
	if len(rv.ContinuationPoint) > 0 {
		cur, ok := st.takeHistoryCP(rv.ContinuationPoint)
		if !ok || rv.NodeID == nil || cur.nodeID != rv.NodeID.String() {
			return &ua.HistoryReadResult{StatusCode: ua.StatusBadContinuationPointInvalid}, nil
		}
		held = &heldCP{cp: rv.ContinuationPoint, cur: *cur}
		return s.historyPage(st, cur), held
	}
	return s.readRawStart(st, c, rv, ts, d), nil
}

// readRawStart reads one node's first page.
func (s *services) readRawStart(st *sessionState, c *evalCtx, rv *ua.HistoryReadValueID, ts ua.TimestampsToReturn, d *ua.ReadRawModifiedDetails) *ua.HistoryReadResult {
	n, ok := c.resolve(rv.NodeID)
	if !ok {
		return &ua.HistoryReadResult{StatusCode: ua.StatusBadNodeIDUnknown}
	}
	key, conv := c.historyOf(n)
	if key == "" {
		if c.class(n) != ua.NodeClassVariable {
			return &ua.HistoryReadResult{StatusCode: ua.StatusBadHistoryOperationUnsupported}
		}
		return &ua.HistoryReadResult{StatusCode: ua.StatusBadNotReadable}
	}
	if ts == ua.TimestampsToReturnServer {
		// Part 11: a TimestampsToReturn the history cannot give is
		// Bad_TimestampNotSupported; only source times are recorded.
		return &ua.HistoryReadResult{StatusCode: ua.StatusBadTimestampNotSupported}
	}
	if d.IsReadModified {
		// The gateway records what upstream reported and never modifies
		// history (no HistoryUpdate): there are no modified values to read.
		return &ua.HistoryReadResult{StatusCode: ua.StatusBadHistoryOperationUnsupported}
	}
	if customEncoding(rv.DataEncoding) {
		return &ua.HistoryReadResult{StatusCode: ua.StatusBadDataEncodingInvalid}
	}
	cur := &historyCursor{nodeID: rv.NodeID.String(), key: key, conv: conv, ts: ts, left: -1}
	if rv.IndexRange != "" {
		r, ok := parseIndexRange(rv.IndexRange)
		if !ok {
			return &ua.HistoryReadResult{StatusCode: ua.StatusBadIndexRangeInvalid}
		}
		cur.rng = &r
	}
	if code := s.plan(cur, d); code != ua.StatusGood {
		return &ua.HistoryReadResult{StatusCode: code}
	}
	return s.historyPage(st, cur)
}

// plan sets the time domain of a ReadRaw (Part 11, 6.4.3.2): at least two
// of startTime, endTime and numValuesPerNode; endTime before startTime, or
// endTime alone, reads newest first; the start is included, the end is not
// (unless the two are equal: one time, read forward). Bounding values, when
// asked for, are the samples at or beyond each end, or a null placeholder
// with Bad_BoundNotFound.
func (s *services) plan(cur *historyCursor, d *ua.ReadRawModifiedDetails) ua.StatusCode {
	hasStart, hasEnd, num := !noTime(d.StartTime), !noTime(d.EndTime), int(d.NumValuesPerNode)
	given := 0
	for _, b := range []bool{hasStart, hasEnd, num > 0} {
		if b {
			given++
		}
	}
	if given < 2 {
		return ua.StatusBadHistoryOperationInvalid
	}
	cur.perCall = s.limits.MaxHistoryValuesPerNode
	if cur.perCall <= 0 {
		cur.perCall = DefaultLimits.MaxHistoryValuesPerNode
	}
	if num > 0 {
		cur.perCall = min(num, cur.perCall)
	}
	if !hasStart || !hasEnd {
		cur.left = num // the range extends to return this many values
	}
	var a, b time.Time // the time the read begins at, and where it ends
	hasB := true
	switch {
	case hasStart && hasEnd:
		a, b = d.StartTime, d.EndTime
		cur.reverse = b.Before(a)
	case hasStart:
		a, hasB = d.StartTime, false
	default:
		a, hasB = d.EndTime, false
		cur.reverse = true
	}
	step := time.Nanosecond
	if cur.reverse {
		step = -step
	}
	cur.next = a
	if !hasStart { // endTime alone: the end time itself is not included
		cur.next = a.Add(step)
	}
	switch {
	case !hasB && cur.reverse:
		cur.stop = timeMin
	case !hasB:
		cur.stop = timeMax
	case a.Equal(b):
		cur.stop = b
	default:
		cur.stop = b.Add(-step)
	}
	if !d.ReturnBounds {
		return ua.StatusGood
	}
	// The bound at the beginning: the sample at it, or the nearest one outside.
	if smp, ok, err := s.hist.Nearest(cur.key, a, !cur.reverse); err != nil {
		return ua.StatusBadInternalError
	} else if ok {
		cur.next = smp.Time
	} else {
		cur.lead = boundNotFound(a)
	}
	if hasB {
		if smp, ok, err := s.hist.Nearest(cur.key, b, cur.reverse); err != nil {
			return ua.StatusBadInternalError
		} else if ok {
			cur.stop = smp.Time
		} else {
			cur.trail = boundNotFound(b)
		}
	}
	return ua.StatusGood
}

func boundNotFound(t time.Time) *ua.DataValue {
	dv := &ua.DataValue{Status: ua.StatusBadBoundNotFound, SourceTimestamp: t}
	dv.UpdateMask()
	return dv
}

// historyPage returns the next page of a read, with a continuation point
// if more remain.
func (s *services) historyPage(st *sessionState, cur *historyCursor) *ua.HistoryReadResult {
	room := cur.perCall
	if cur.left >= 0 {
		room = min(room, cur.left)
	}
	var values []*ua.DataValue
	if cur.lead != nil && room > 0 {
		values = append(values, cur.lead)
		cur.lead = nil
		room--
	}
	q := history.Query{From: cur.next, To: cur.stop, Reverse: cur.reverse, Limit: room}
	if cur.reverse {
		q.From, q.To = cur.stop, cur.next
	}
	more := false
	if room > 0 && !q.To.Before(q.From) {
		samples, m, err := s.hist.Read(cur.key, q)
		if err != nil {
			s.log.Warn("opcua: history read failed", "key", cur.key, "err", err)
			return &ua.HistoryReadResult{StatusCode: ua.StatusBadInternalError}
		}
		more = m
		for _, smp := range samples {
			values = append(values, cur.dataValue(smp))
		}
		if n := len(samples); n > 0 {
			if last := samples[n-1].Time; cur.reverse {
				cur.next = last.Add(-time.Nanosecond)
			} else {
				cur.next = last.Add(time.Nanosecond)
			}
		}
		room -= len(samples)
	} else if room == 0 && !q.To.Before(q.From) {
		more = true // the page is full (of the leading bound); samples may remain
	}
	if !more && cur.trail != nil {
		if room > 0 {
			values = append(values, cur.trail)
			cur.trail = nil
		} else {
			more = true
		}
	}
	if cur.left >= 0 {
		cur.left -= len(values)
		if cur.left <= 0 {
			more = false // a read from one time returns numValuesPerNode values in all
		}
	}
	res := &ua.HistoryReadResult{StatusCode: ua.StatusGood,
		HistoryData: ua.NewExtensionObject(&ua.HistoryData{DataValues: values})}
	if len(values) == 0 {
		res.StatusCode = ua.StatusGoodNoData
	}
	if more {
		cp, ok := st.storeHistoryCP(cur, s.limits.MaxHistoryContinuationPoints)
		if !ok {
			return &ua.HistoryReadResult{StatusCode: ua.StatusBadNoContinuationPoints}
		}
		res.ContinuationPoint = cp
		if res.StatusCode == ua.StatusGoodNoData {
			res.StatusCode = ua.StatusGood
		}
	}
	return res
}

// dataValue turns a recorded sample into what the client asked for.
func (cur *historyCursor) dataValue(smp history.Sample) *ua.DataValue {
	v := cur.conv(smp)
	if cur.rng != nil && v.v != nil {
		rv, code := cur.rng.apply(v.v)
		v.v = rv
		if code != ua.StatusGood {
			v.status = code
		}
	}
	dv := &ua.DataValue{Value: v.v, Status: v.status}
	// The gateway records the source time only: Both gets the source time
	// alone (Server alone was refused by readRawOne).
	dv.SourceTimestamp = v.source
	dv.UpdateMask()
	return dv
}

// historyOf returns the series a variable's history is kept in, and how a
// sample of it becomes the variable's value; "" when the variable has no
// history (or history is off).
func (c *evalCtx) historyOf(n node) (string, func(history.Sample) sample) {
	if c.srv.hist == nil || n.kind == kindStatic || c.class(n) != ua.NodeClassVariable {
		return "", nil
	}
	m := c.variableMember(n)
	if m == nil || m.bind.hist == histNone {
		return "", nil
	}
	var key string
	switch m.bind.hist {
	case histLocation:
		key = history.LocationKey(c.view.st.Location(int(n.idx)).ID, m.browseName.Name)
	case histTag:
		key = history.TagKey(c.view.st.Tag(int(n.idx)).ID)
	case histHealth:
		key = history.HealthKey(m.browseName.Name)
	}
	// a tag's member is its type's own (AnalogTagType Double with a unit,
	// TagType String without: entityType), so its data type is the tag's
	return key, historySample(m.dataType)
}

// historySample converts a recorded sample to a value of data type dt, as
// the variable's Read would have served it.
func historySample(dt *ua.NodeID) func(history.Sample) sample {
	switch dt.IntID() {
	case id.Double:
		return func(h history.Sample) sample { return numberSample(h.Value, h.Quality, h.Time) }
	case id.Boolean:
		return func(h history.Sample) sample {
			s := sample{status: qualityStatus(h.Quality), source: h.Time}
			if h.Value.Text == "true" || h.Value.Text == "false" {
				s.v = variant(h.Value.Text == "true")
			}
			return s
		}
	case id.String:
		return func(h history.Sample) sample { return textSample(h.Value, h.Quality, h.Time) }
	}
	return func(h history.Sample) sample {
		if h.Value.IsNum {
			return numberSample(h.Value, h.Quality, h.Time)
		}
		return textSample(h.Value, h.Quality, h.Time)
	}
}

// histKind says which series of package history a variable's values are
// recorded in.
type histKind uint8

const (
	histNone     histKind = iota
	histLocation          // history.LocationKey(location, member name)
	histTag               // history.TagKey(tag)
	histHealth            // history.HealthKey(member name)
)

// historized marks a binding as recorded in a series of kind k.
func historized(k histKind, b binding) binding {
	b.hist = k
	return b
}

// accessHistoryRead is the HistoryRead bit of AccessLevel.
const accessHistoryRead = 4

// accessLevel is the AccessLevel of a variable: readable, and with the
// HistoryRead bit exactly where history is kept.
func (c *evalCtx) accessLevel(n node) uint8 {
	if key, _ := c.historyOf(n); key != "" {
		return accessCurrentRead | accessHistoryRead
	}
	return accessCurrentRead
}

// History continuation points of a session.

func (st *sessionState) storeHistoryCP(cur *historyCursor, limit int) ([]byte, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.hcps == nil {
		st.hcps = map[string]*historyCursor{}
	}
	if limit > 0 && len(st.hcps) >= limit {
		return nil, false
	}
	cp := make([]byte, 16)
	rand.Read(cp) //nolint:errcheck // crypto/rand.Read does not fail
	st.hcps[string(cp)] = cur
	return cp, true
}

// putHistoryCP keeps cur under cp again: a point a request took and gives
// back (it was counted against the limit before).
func (st *sessionState) putHistoryCP(cp []byte, cur *historyCursor) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.hcps == nil {
		st.hcps = map[string]*historyCursor{}
	}
	st.hcps[string(cp)] = cur
}

// takeHistoryCP removes a continuation point and returns its cursor (a
// continuation point is used once; a new one is issued if more remain).
func (st *sessionState) takeHistoryCP(cp []byte) (*historyCursor, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	cur, ok := st.hcps[string(cp)]
	delete(st.hcps, string(cp))
	return cur, ok
}
