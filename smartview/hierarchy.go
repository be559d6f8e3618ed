package smartview

import "context"

// HierarchyNode is one node of a location or power hierarchy. For cages and cabinets LevelValue is
// a numeric id ("1852") and Label the unique space id the other endpoints use ("SV4:01:001150");
// for circuits LevelValue is the circuit number and Label a description ("120V 20A 1Ph Red
// (3717)"); for IBXs and zones both are the name.
type HierarchyNode struct {
	LevelType  string          `json:"levelType"` // IBX, ZONE, CAGE, CABINET, CIRCUIT, SENSOR
	LevelValue Text            `json:"levelValue"`
	Label      string          `json:"label"`
	Children   []HierarchyNode `json:"children"`
}

// LocationHierarchy fetches ibx's location tree: IBX, zones, cages, cabinets.
func (c *Client) LocationHierarchy(ctx context.Context, ibx string) ([]HierarchyNode, error) {
	return c.hierarchy(ctx, c.get(endpointLocationHierarchy, routeLocationHierarchy, "ibx", ibx))
}

// PowerHierarchy fetches ibx's power tree: IBX, cages, cabinets, circuits.
func (c *Client) PowerHierarchy(ctx context.Context, ibx string) ([]HierarchyNode, error) {
	return c.hierarchy(ctx, c.get(endpointPowerHierarchy, routePowerHierarchy, "ibx", ibx))
}

// hierarchy decodes a hierarchy answer: a bare array as documented, or the envelope.
func (c *Client) hierarchy(ctx context.Context, r request) ([]HierarchyNode, error) {
	return fetchList[HierarchyNode](ctx, c, r, false, "", nil)
}
