package opcua

import (
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// TranslateBrowsePathsToNodeIds, RegisterNodes and UnregisterNodes.

// maxPathTargets bounds the nodes one browse path may fan out to, so a
// path of wildcard-like elements cannot make the server walk everything.
const maxPathTargets = 1000

func (s *services) translate(req *ua.TranslateBrowsePathsToNodeIDsRequest) ua.Response {
	if code := s.checkCount(len(req.BrowsePaths), s.limits.MaxNodesPerTranslateBrowsePaths); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	c := s.ctx()
	results := make([]*ua.BrowsePathResult, len(req.BrowsePaths))
	for i, p := range req.BrowsePaths {
		results[i] = c.translate(p)
	}
	return &ua.TranslateBrowsePathsToNodeIDsResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results}
}

func badPath(code ua.StatusCode) *ua.BrowsePathResult {
	return &ua.BrowsePathResult{StatusCode: code, Targets: []*ua.BrowsePathTarget{}}
}

func (c *evalCtx) translate(p *ua.BrowsePath) *ua.BrowsePathResult {
	if p == nil {
		return badPath(ua.StatusBadNodeIDUnknown)
	}
	start, ok := c.resolve(p.StartingNode)
	if !ok {
		return badPath(ua.StatusBadNodeIDUnknown)
	}
	if p.RelativePath == nil || len(p.RelativePath.Elements) == 0 {
		return badPath(ua.StatusBadNothingToDo)
	}
	elems := p.RelativePath.Elements
	for i, e := range elems {
		if e == nil || e.TargetName == nil || e.TargetName.Name == "" {
			if i < len(elems)-1 || e == nil {
				return badPath(ua.StatusBadBrowseNameInvalid)
			}
		}
	}
	current := []node{start}
	for _, e := range elems {
		rt := int8(-1)
		if !isNull(e.ReferenceTypeID) {
			t, ok := c.as.refTypeOf(e.ReferenceTypeID)
			if !ok {
				return badPath(ua.StatusBadReferenceTypeIDInvalid)
			}
			rt = t
		}
		var next []node
		seen := map[node]bool{}
		for _, n := range current {
			for _, sp := range c.refs(n) {
				for k := 0; k < sp.n; k++ {
					t, forward := c.refTypeAt(n, &sp, k)
					if forward == e.IsInverse || (rt >= 0 && !c.as.includes(rt, e.IncludeSubtypes, t)) {
						continue
					}
					target := sp.target(k)
					if e.TargetName != nil && e.TargetName.Name != "" && c.browseName(target) != *e.TargetName {
						continue
					}
					if seen[target] {
						continue
					}
					seen[target] = true
					next = append(next, target)
					if len(next) > maxPathTargets {
						return badPath(ua.StatusBadTooManyMatches)
					}
				}
			}
		}
		if len(next) == 0 {
			return badPath(ua.StatusBadNoMatch)
		}
		current = next
	}
	res := &ua.BrowsePathResult{StatusCode: ua.StatusGood}
	for _, n := range current {
		res.Targets = append(res.Targets, &ua.BrowsePathTarget{
			TargetID: ua.NewExpandedNodeID(c.nodeID(n), "", 0), RemainingPathIndex: 0xffffffff})
	}
	return res
}

// registerNodes returns the NodeIds as given: every NodeId of this server
// is already as cheap to use as a registered one.
func (s *services) registerNodes(req *ua.RegisterNodesRequest) ua.Response {
	if code := s.checkCount(len(req.NodesToRegister), s.limits.MaxNodesPerRegisterNodes); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	ids := make([]*ua.NodeID, len(req.NodesToRegister))
	for i, n := range req.NodesToRegister {
		if n == nil {
			n = ua.NewTwoByteNodeID(0)
		}
		ids[i] = n
	}
	return &ua.RegisterNodesResponse{ResponseHeader: uaserver.Header(ua.StatusGood), RegisteredNodeIDs: ids}
}

func (s *services) unregisterNodes(req *ua.UnregisterNodesRequest) ua.Response {
	if code := s.checkCount(len(req.NodesToUnregister), s.limits.MaxNodesPerRegisterNodes); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	return &ua.UnregisterNodesResponse{ResponseHeader: uaserver.Header(ua.StatusGood)}
}
