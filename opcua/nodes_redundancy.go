// This file serves the Server object's redundancy nodes (Part 4 6.6.2,
// Part 5 6.3.8): RedundancySupport, ServerUriArray and ServiceLevel, for a
// gateway alone or one of a non-transparent redundant pair.

package opcua

import (
	"fmt"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/nodeset"
)

// Redundancy is what the Server object says of the redundant set the
// gateway belongs to; without one (New's default) it is alone:
// RedundancySupport None, ServiceLevel 255, ServerUriArray its own URI.
type Redundancy interface {
	// Support is the mode of the set (Hot: every server reads upstream
	// itself and serves current values).
	Support() ua.RedundancySupport
	// ServiceLevel is the server's current ability to serve (Part 4
	// 6.6.2.4.2): 200–255 healthy (the highest is the one clients should
	// pick), 2–199 degraded, 1 no data, 0 maintenance.
	ServiceLevel() uint8
	// ServerURIs are the ApplicationURIs of the servers of the set.
	ServerURIs() []string
}

// Option configures New.
type Option func(*services)

// WithRedundancy makes the server a member of a redundant set.
func WithRedundancy(r Redundancy) Option { return func(s *services) { s.redundancy = r } }

// serverURIArrayID is the NodeId (in the server's own namespace) of
// ServerRedundancy's ServerUriArray: the standard types the property but
// leaves its instance's NodeId to the server.
const serverURIArrayID = "ServerRedundancy.ServerUriArray"

// redundancyNodes is the ServerUriArray property, a small NodeSet loaded
// with the standard one (namespace 1 of it is the server's).
func redundancyNodes() *nodeset.Set {
	return &nodeset.Set{Nodes: []*nodeset.Node{{
		Class: ua.NodeClassVariable, NodeID: "ns=1;s=" + serverURIArrayID, BrowseName: "ServerUriArray",
		DisplayName: "ServerUriArray", DataType: fmt.Sprintf("i=%d", id.String), ValueRank: 1, ArrayDimensions: "0",
		AccessLevel: 1, UserAccessLevel: 1, ParentNodeID: fmt.Sprintf("i=%d", id.Server_ServerRedundancy),
		References: []nodeset.Reference{
			{Type: fmt.Sprintf("i=%d", id.HasTypeDefinition), Target: fmt.Sprintf("i=%d", id.PropertyType), Forward: true},
			{Type: fmt.Sprintf("i=%d", id.HasProperty), Target: fmt.Sprintf("i=%d", id.Server_ServerRedundancy), Forward: false},
		},
	}}}
}

// loadRedundancy adds redundancyNodes; call it before link.
func (a *addressSpace) loadRedundancy() error {
	return a.load(redundancyNodes(), []uint16{nsUA, nsLocal})
}

// bindRedundancy binds the ServerUriArray; call it after link.
func (a *addressSpace) bindRedundancy() error {
	i, ok := a.byKey[nodeKey{ns: nsLocal, str: serverURIArrayID}]
	if !ok {
		return fmt.Errorf("opcua: %s not loaded", serverURIArrayID)
	}
	b := binding{source: srcHealth, value: func(c *evalCtx, _ node) sample {
		if r := c.srv.redundancy; r != nil {
			return good(variant(r.ServerURIs()))
		}
		return good(variant([]string{c.srv.serverInfo().ApplicationURI}))
	}}
	a.statics[i].bind = &b
	return nil
}

// redundancyBindings are the values of the standard redundancy variables.
func redundancyBindings() map[uint32]binding {
	return map[uint32]binding{
		id.Server_ServiceLevel: {source: srcHealth, value: func(c *evalCtx, _ node) sample {
			if r := c.srv.redundancy; r != nil {
				return good(variant(r.ServiceLevel()))
			}
			return good(variant(uint8(255)))
		}},
		id.Server_ServerRedundancy_RedundancySupport: {source: srcHealth, value: func(c *evalCtx, _ node) sample {
			if r := c.srv.redundancy; r != nil {
				return good(variant(int32(r.Support())))
			}
			return good(variant(int32(ua.RedundancySupportNone)))
		}},
	}
}
