package opcua

import (
	"crypto/rand"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// Browse and BrowseNext.

// browser is one Browse operation in progress: what to return and where it
// stopped. A continuation point keeps it with the view and snapshot it
// started on, so a client paging through a large folder sees one
// consistent list even if the model changes meanwhile.
type browser struct {
	c          *evalCtx
	n          node
	dir        ua.BrowseDirection
	refType    int8 // -1: any
	subtypes   bool
	classMask  uint32
	resultMask uint32
	max        int // 0: no limit
	spans      []span
	span, pos  int
}

func isNull(id *ua.NodeID) bool {
	if id == nil {
		return true
	}
	k, ok := keyOf(id)
	return ok && k == nodeKey{}
}

// browse answers a Browse; the function it returns releases the
// continuation points of the answer, for when the client does not get it
// (larger than it accepts): they would otherwise count against the
// session's limit until it ends, and the client's retry in smaller pieces
// would get Bad_NoContinuationPoints.
func (s *services) browse(r *uaserver.Request, req *ua.BrowseRequest) (ua.Response, func()) {
	if req.View != nil && !isNull(req.View.ViewID) {
		return uaserver.Fault(ua.StatusBadViewIDUnknown), nil
	}
	if code := s.checkCount(len(req.NodesToBrowse), s.limits.MaxNodesPerBrowse); code != ua.StatusGood {
		return uaserver.Fault(code), nil
	}
	c := s.ctx()
	perNode := s.maxRefs(req.RequestedMaxReferencesPerNode)
	results := make([]*ua.BrowseResult, len(req.NodesToBrowse))
	for i, d := range req.NodesToBrowse {
		results[i] = s.browseOne(r.Session, c, d, perNode)
	}
	undo := func() {
		st := s.state(r.Session)
		for _, res := range results {
			if len(res.ContinuationPoint) > 0 {
				st.takeCP(res.ContinuationPoint)
			}
		}
	}
	return &ua.BrowseResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}, undo
}

// maxRefs is the number of references per node a Browse returns before a
// continuation point: the client's wish, capped by the server's limit.
func (s *services) maxRefs(requested uint32) int {
	n := int(requested)
	if requested > 1<<30 {
		n = 0
	}
	if l := s.limits.MaxReferencesPerNode; l > 0 && (n == 0 || n > l) {
		n = l
	}
	return n
}

func badBrowse(code ua.StatusCode) *ua.BrowseResult {
	return &ua.BrowseResult{StatusCode: code, ContinuationPoint: []byte{}, References: []*ua.ReferenceDescription{}}
}

func (s *services) browseOne(sess *uaserver.Session, c *evalCtx, d *ua.BrowseDescription, perNode int) *ua.BrowseResult {
	if d == nil {
		return badBrowse(ua.StatusBadNodeIDUnknown)
	}
	n, ok := c.resolve(d.NodeID)
	if !ok {
		return badBrowse(ua.StatusBadNodeIDUnknown)
	}
	if d.BrowseDirection > ua.BrowseDirectionBoth {
		return badBrowse(ua.StatusBadBrowseDirectionInvalid)
	}
	b := &browser{c: c, n: n, dir: d.BrowseDirection, refType: -1, subtypes: d.IncludeSubtypes,
		classMask: d.NodeClassMask, resultMask: d.ResultMask, max: perNode}
	if !isNull(d.ReferenceTypeID) {
		rt, ok := c.as.refTypeOf(d.ReferenceTypeID)
		if !ok {
			return badBrowse(ua.StatusBadReferenceTypeIDInvalid)
		}
		b.refType = rt
	}
	b.spans = c.refs(n)
	return s.page(sess, b, nil)
}

// page collects the next page of b; if more remain it keeps b under a
// continuation point (cp, the one b was taken from, or a new one).
func (s *services) page(sess *uaserver.Session, b *browser, cp []byte) *ua.BrowseResult {
	refs, more := b.next()
	res := &ua.BrowseResult{StatusCode: ua.StatusGood, ContinuationPoint: []byte{}, References: refs}
	if !more {
		return res
	}
	cp, ok := s.state(sess).storeCP(b, cp, s.limits.MaxBrowseContinuationPoints)
	if !ok {
		return badBrowse(ua.StatusBadNoContinuationPoints)
	}
	res.ContinuationPoint = cp
	return res
}

// next returns up to max matching references from where b stopped, and
// whether more remain.
func (b *browser) next() ([]*ua.ReferenceDescription, bool) {
	left := 0
	for i := b.span; i < len(b.spans); i++ {
		left += b.spans[i].n
	}
	left -= b.pos
	if b.max > 0 {
		left = min(left, b.max)
	}
	out := make([]*ua.ReferenceDescription, 0, left)
	for ; b.span < len(b.spans); b.span, b.pos = b.span+1, 0 {
		sp := &b.spans[b.span]
		for ; b.pos < sp.n; b.pos++ {
			rt, forward := b.c.refTypeAt(b.n, sp, b.pos)
			if !b.matches(rt, forward) {
				continue
			}
			target := sp.target(b.pos)
			class := b.c.class(target)
			if b.classMask != 0 && b.classMask&uint32(class) == 0 {
				continue
			}
			if b.max > 0 && len(out) == b.max {
				return out, true
			}
			out = append(out, b.describe(rt, forward, target, class))
		}
	}
	return out, false
}

func (b *browser) matches(rt int8, forward bool) bool {
	switch {
	case b.dir == ua.BrowseDirectionForward && !forward, b.dir == ua.BrowseDirectionInverse && forward:
		return false
	case b.refType < 0:
		return true
	}
	return b.c.as.includes(b.refType, b.subtypes, rt)
}

// refBlock is a ReferenceDescription with the values it points to, so
// that describing a reference is one allocation (a crawl describes every
// node of the tree once).
type refBlock struct {
	d      ua.ReferenceDescription
	id, td ua.ExpandedNodeID
	bn     ua.QualifiedName
	dn     ua.LocalizedText
}

// The null values of the fields a result mask leaves out, shared by every
// description: nothing writes to a description once built.
var (
	nullRefType    = ua.NewTwoByteNodeID(0)
	nullTypeDef    = ua.NewTwoByteExpandedNodeID(0)
	nullBrowseName = &ua.QualifiedName{}
	nullText       = ua.NewLocalizedText("")
)

// describe builds a ReferenceDescription with the fields the result mask
// asks for; the others are present but null.
func (b *browser) describe(rt int8, forward bool, target node, class ua.NodeClass) *ua.ReferenceDescription {
	c, m := b.c, ua.BrowseResultMask(b.resultMask)
	blk := new(refBlock)
	blk.id.NodeID = c.nodeID(target)
	d := &blk.d
	d.ReferenceTypeID, d.NodeID, d.BrowseName, d.DisplayName, d.TypeDefinition = nullRefType, &blk.id, nullBrowseName, nullText, nullTypeDef
	if m&ua.BrowseResultMaskReferenceTypeID != 0 {
		d.ReferenceTypeID = c.as.refTypes[rt].id
	}
	if m&ua.BrowseResultMaskIsForward != 0 {
		d.IsForward = forward
	}
	if m&ua.BrowseResultMaskNodeClass != 0 {
		d.NodeClass = class
	}
	if m&ua.BrowseResultMaskBrowseName != 0 {
		blk.bn = c.browseName(target)
		d.BrowseName = &blk.bn
	}
	if m&ua.BrowseResultMaskDisplayName != 0 {
		blk.dn.Text = c.displayName(target)
		blk.dn.UpdateMask()
		d.DisplayName = &blk.dn
	}
	if m&ua.BrowseResultMaskTypeDefinition != 0 && (class == ua.NodeClassObject || class == ua.NodeClassVariable) {
		if td := c.typeDefinition(target); td != nil {
			blk.td.NodeID = td
			d.TypeDefinition = &blk.td
		}
	}
	return d
}

// browseNext answers a BrowseNext; the function it returns puts the
// client's continuation points back where they were, for when the client
// does not get the answer (larger than it accepts): it can then ask again
// for fewer of them and lose no reference.
func (s *services) browseNext(r *uaserver.Request, req *ua.BrowseNextRequest) (ua.Response, func()) {
	if code := s.checkCount(len(req.ContinuationPoints), s.limits.MaxNodesPerBrowse); code != ua.StatusGood {
		return uaserver.Fault(code), nil
	}
	st := s.state(r.Session)
	results := make([]*ua.BrowseResult, len(req.ContinuationPoints))
	type taken struct {
		i         int
		b         *browser
		span, pos int
	}
	var paged []taken
	for i, cp := range req.ContinuationPoints {
		b, ok := st.takeCP(cp)
		switch {
		case !ok:
			results[i] = badBrowse(ua.StatusBadContinuationPointInvalid)
		case req.ReleaseContinuationPoints:
			results[i] = badBrowse(ua.StatusGood)
		default:
			paged = append(paged, taken{i, b, b.span, b.pos})
			results[i] = s.page(r.Session, b, cp)
		}
	}
	undo := func() {
		for _, t := range paged {
			cp := req.ContinuationPoints[t.i]
			if len(results[t.i].ContinuationPoint) > 0 {
				if _, ok := st.takeCP(cp); !ok {
					continue // taken meanwhile by another request with the same point
				}
			}
			t.b.span, t.b.pos = t.span, t.pos
			st.storeCP(t.b, cp, 0) // it was counted before this request
		}
	}
	return &ua.BrowseNextResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}, undo
}

// Continuation points of a session.

// storeCP keeps b under cp (nil: a new random one), within limit per session.
func (st *sessionState) storeCP(b *browser, cp []byte, limit int) ([]byte, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if limit > 0 && len(st.cps) >= limit {
		return nil, false
	}
	if cp == nil {
		cp = make([]byte, 16)
		rand.Read(cp) //nolint:errcheck // crypto/rand.Read does not fail
	}
	st.cps[string(cp)] = b
	return cp, true
}

// takeCP removes a continuation point and returns its browser: a browser
// is used by one request at a time, and BrowseNext puts it back if more
// remain.
func (st *sessionState) takeCP(cp []byte) (*browser, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b, ok := st.cps[string(cp)]
	delete(st.cps, string(cp))
	return b, ok
}
