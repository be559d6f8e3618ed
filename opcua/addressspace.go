package opcua

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/nodeset"
)

// The address space has three parts:
//
//   - static nodes, loaded once from the NodeSet2 files of package nodeset:
//     the standard nodes of namespace 0 (folders, the Server object, types)
//     and the SmartView types; the Server object's values are computed;
//   - the instance tree, a view built once per model Structure (see view):
//     nodes are not objects but handles (node) naming an entity of the
//     structure by its index, and a member of its type; every attribute and
//     reference is computed from the structure on demand, every value from
//     the current snapshot;
//   - alarms, which come and go without a structure change: resolved
//     against the snapshot being served.

// Namespaces served, in NamespaceArray order.
const (
	nsUA        = 0 // http://opcfoundation.org/UA/
	nsLocal     = 1 // the server's ApplicationURI (no nodes)
	nsInstances = 2 // InstancesURI
	nsTypes     = 3 // nodeset.TypesURI
)

// InstancesURI is the namespace of the instance nodes (IBXs, cages, assets,
// tags, ...). Their string NodeIds are SmartView identities, so the same
// cage has the same NodeId on every gateway.
const InstancesURI = "https://github.com/svgateway/svgateway/UA/SmartView/Instances/"

// node is a handle for a node of the address space. It is a small value,
// valid with the view it was resolved against.
type node struct {
	kind nodeKind
	// member is the instance declaration of the entity's type this node
	// instantiates (an index into entityType.members), or -1 for the entity
	// itself.
	member int16
	// idx is the static node index, or the entity's index in the
	// structure (location, folder, asset, tag).
	idx int32
	// alarm is the alarm ID of kindAlarm.
	alarm uint64
}

type nodeKind uint8

const (
	kindNone     nodeKind = iota
	kindStatic            // a node of the NodeSet2 files
	kindRoot              // Objects/SmartView
	kindGateway           // Objects/SmartView/Gateway
	kindLocation          // IBX, zone, cage, cabinet, circuit, sensor
	kindFolder            // Assets and Alarms folders of an IBX, asset grouping folders
	kindAsset
	kindTag
	kindAlarm
)

// staticNode is a node of the NodeSet2 files, with its namespace indexes
// mapped to the server's.
type staticNode struct {
	id              *ua.NodeID
	class           ua.NodeClass
	browseName      ua.QualifiedName
	displayName     string
	description     string
	isAbstract      bool
	symmetric       bool
	inverseName     string
	eventNotifier   uint8
	containsNoLoops bool
	dataType        *ua.NodeID
	valueRank       int32
	arrayDims       []uint32
	accessLevel     uint8
	minSampling     float64
	historizing     bool
	value           *ua.Variant // from the file
	bind            *binding    // computed value (the Server object)
	typeDef         *ua.NodeID  // HasTypeDefinition target
	refs            []staticRef
}

type staticRef struct {
	refType int8 // index into addressSpace.refTypes
	forward bool
	target  node
}

// refType is a reference type and the set of reference types it includes
// with includeSubtypes (as a bit set over addressSpace.refTypes).
type refType struct {
	static   int32
	id       *ua.NodeID
	subtypes uint64
}

// nodeKey identifies a numeric or string NodeId.
type nodeKey struct {
	ns  uint16
	num uint32
	str string
}

func keyOf(n *ua.NodeID) (nodeKey, bool) {
	if n == nil {
		return nodeKey{}, false
	}
	switch n.Type() {
	case ua.NodeIDTypeTwoByte, ua.NodeIDTypeFourByte, ua.NodeIDTypeNumeric:
		return nodeKey{ns: n.Namespace(), num: n.IntID()}, true
	case ua.NodeIDTypeString:
		return nodeKey{ns: n.Namespace(), str: n.StringID()}, true
	}
	return nodeKey{}, false
}

// addressSpace is everything about the address space that does not depend
// on the model: static nodes, reference types, and the types of instances.
type addressSpace struct {
	statics  []staticNode
	byKey    map[nodeKey]int32
	refTypes []refType
	refIndex map[int32]int8 // static index → refTypes index

	// reference types the instance tree uses
	rtOrganizes, rtHasComponent, rtHasProperty, rtHasTypeDefinition, rtServes int8
	rtHasSubtype, rtHasModellingRule                                          int8
	rtHasNotifier, rtHasEventSource, rtHasCondition                           int8
	server                                                                    int32 // the Server object

	locationTypes [7]*entityType // by model.Level
	assetType     *entityType
	tagTypes      [2]*entityType // [plain, analog]
	alarmType     *entityType
	gatewayType   *entityType
	folderType    *ua.NodeID
	objectsFolder int32

	pending []pendingRef // while loading
}

var errModel = errors.New("opcua: the SmartView types of nodeset/ and the server's bindings disagree")

// newAddressSpace loads the static nodes and builds the instance types.
// serverBindings gives the values of namespace-0 variables (by numeric id).
func newAddressSpace(serverBindings map[uint32]binding) (*addressSpace, error) {
	std, err := nodeset.Standard()
	if err != nil {
		return nil, err
	}
	sv, err := nodeset.SmartView()
	if err != nil {
		return nil, err
	}
	a := &addressSpace{byKey: map[nodeKey]int32{}, refIndex: map[int32]int8{}}
	if err := a.load(std, []uint16{nsUA}); err != nil {
		return nil, err
	}
	nsMap := []uint16{nsUA}
	for _, u := range sv.NamespaceURIs {
		if u != nodeset.TypesURI {
			return nil, fmt.Errorf("opcua: SmartView nodeset uses namespace %q", u)
		}
		nsMap = append(nsMap, nsTypes)
	}
	if err := a.load(sv, nsMap); err != nil {
		return nil, err
	}
	if err := a.load(instancesMetadata(), []uint16{nsUA, nsInstances}); err != nil {
		return nil, err
	}
	if err := a.loadRedundancy(); err != nil {
		return nil, err
	}
	if err := a.link(); err != nil {
		return nil, err
	}
	if err := a.bindRedundancy(); err != nil {
		return nil, err
	}
	for num, b := range serverBindings {
		i, ok := a.byKey[nodeKey{num: num}]
		if !ok || a.statics[i].class != ua.NodeClassVariable {
			return nil, fmt.Errorf("opcua: server variable i=%d is not in the standard subset", num)
		}
		a.statics[i].bind = &b
	}
	if err := a.buildTypes(); err != nil {
		return nil, err
	}
	return a, nil
}

// mapNodeID parses a NodeId of a file and maps its namespace index.
func mapNodeID(s string, nsMap []uint16) (*ua.NodeID, error) {
	n, err := ua.ParseNodeID(s)
	if err != nil {
		return nil, err
	}
	if int(n.Namespace()) >= len(nsMap) {
		return nil, fmt.Errorf("NodeId %s: namespace index out of range", s)
	}
	switch n.Type() {
	case ua.NodeIDTypeString:
		return ua.NewStringNodeID(nsMap[n.Namespace()], n.StringID()), nil
	case ua.NodeIDTypeTwoByte, ua.NodeIDTypeFourByte, ua.NodeIDTypeNumeric:
		return ua.NewNumericNodeID(nsMap[n.Namespace()], n.IntID()), nil
	}
	return nil, fmt.Errorf("NodeId %s: only numeric and string NodeIds are supported", s)
}

// pendingRef is a reference by NodeId, kept until every file is loaded.
type pendingRef struct {
	from            int32
	refType, target *ua.NodeID
	forward         bool
}

func (a *addressSpace) load(s *nodeset.Set, nsMap []uint16) error {
	for _, n := range s.Nodes {
		nid, err := mapNodeID(n.NodeID, nsMap)
		if err != nil {
			return fmt.Errorf("opcua: %w", err)
		}
		bns, bname := nodeset.SplitQualifiedName(n.BrowseName)
		if int(bns) >= len(nsMap) {
			return fmt.Errorf("opcua: %s: BrowseName namespace out of range", n.NodeID)
		}
		sn := staticNode{
			id: nid, class: n.Class, browseName: ua.QualifiedName{NamespaceIndex: nsMap[bns], Name: bname},
			displayName: n.DisplayName, description: n.Description, isAbstract: n.IsAbstract, symmetric: n.Symmetric,
			inverseName: n.InverseName, eventNotifier: n.EventNotifier, containsNoLoops: n.ContainsNoLoops,
			valueRank: n.ValueRank, accessLevel: n.AccessLevel, minSampling: n.MinimumSamplingInterval,
			historizing: n.Historizing,
		}
		if n.Class == ua.NodeClassVariable || n.Class == ua.NodeClassVariableType {
			if sn.dataType, err = mapNodeID(n.DataType, nsMap); err != nil {
				return fmt.Errorf("opcua: %s: DataType: %w", n.NodeID, err)
			}
			if sn.value, err = n.DecodeValue(); err != nil {
				return fmt.Errorf("opcua: %w", err)
			}
			sn.arrayDims = []uint32{}
			for _, d := range strings.Split(n.ArrayDimensions, ",") {
				var v uint32
				if _, err := fmt.Sscan(d, &v); err == nil {
					sn.arrayDims = append(sn.arrayDims, v)
				}
			}
		}
		k, _ := keyOf(nid)
		if _, dup := a.byKey[k]; dup {
			return fmt.Errorf("opcua: NodeId %s defined twice", nid)
		}
		idx := int32(len(a.statics))
		a.byKey[k] = idx
		a.statics = append(a.statics, sn)
		for _, r := range n.References {
			rt, err := mapNodeID(r.Type, nsMap)
			if err != nil {
				return fmt.Errorf("opcua: %s: %w", n.NodeID, err)
			}
			target, err := mapNodeID(r.Target, nsMap)
			if err != nil {
				return fmt.Errorf("opcua: %s: %w", n.NodeID, err)
			}
			a.pending = append(a.pending, pendingRef{idx, rt, target, r.Forward})
		}
	}
	return nil
}

// link resolves the references of all loaded files, adds the inverse of
// every reference the files state in one direction only, and computes the
// reference type hierarchy.
func (a *addressSpace) link() error {
	refs := a.pending
	a.pending = nil
	lookup := func(n *ua.NodeID) (int32, error) {
		k, _ := keyOf(n)
		i, ok := a.byKey[k]
		if !ok {
			return 0, fmt.Errorf("opcua: reference to %s, which no nodeset defines", n)
		}
		return i, nil
	}
	type edge struct{ from, rt, to int32 } // forward direction
	seen := map[edge]bool{}
	var edges []edge
	for _, r := range refs {
		rt, err := lookup(r.refType)
		if err != nil {
			return err
		}
		to, err := lookup(r.target)
		if err != nil {
			return err
		}
		e := edge{r.from, rt, to}
		if !r.forward {
			e = edge{to, rt, r.from}
		}
		if !seen[e] {
			seen[e] = true
			edges = append(edges, e)
		}
	}
	for i, s := range a.statics {
		if s.class == ua.NodeClassReferenceType {
			if len(a.refTypes) == 64 {
				return errors.New("opcua: more than 64 reference types")
			}
			a.refIndex[int32(i)] = int8(len(a.refTypes))
			a.refTypes = append(a.refTypes, refType{static: int32(i), id: s.id})
		}
	}
	hasSubtype := a.refIndex[a.byKey[nodeKey{num: id.HasSubtype}]]
	for _, e := range edges {
		rt, ok := a.refIndex[e.rt]
		if !ok {
			return fmt.Errorf("opcua: %s is used as a reference type but is none", a.statics[e.rt].id)
		}
		a.statics[e.from].refs = append(a.statics[e.from].refs, staticRef{rt, true, node{kind: kindStatic, idx: e.to}})
		a.statics[e.to].refs = append(a.statics[e.to].refs, staticRef{rt, false, node{kind: kindStatic, idx: e.from}})
		if rt == a.refIndex[a.byKey[nodeKey{num: id.HasTypeDefinition}]] {
			a.statics[e.from].typeDef = a.statics[e.to].id
		}
	}
	// subtypes: each reference type includes itself and, transitively, its HasSubtype targets
	for i := range a.refTypes {
		a.refTypes[i].subtypes = 1 << i
	}
	for changed := true; changed; {
		changed = false
		for _, e := range edges {
			parent, pok := a.refIndex[e.from]
			child, cok := a.refIndex[e.to]
			if a.refIndex[e.rt] != hasSubtype || !pok || !cok {
				continue
			}
			if m := a.refTypes[parent].subtypes | a.refTypes[child].subtypes; m != a.refTypes[parent].subtypes {
				a.refTypes[parent].subtypes = m
				changed = true
			}
		}
	}
	rt := func(k nodeKey) (int8, error) {
		i, ok := a.byKey[k]
		if !ok {
			return 0, fmt.Errorf("opcua: reference type %v missing", k)
		}
		return a.refIndex[i], nil
	}
	var errs []error
	must := func(dst *int8, k nodeKey) {
		v, err := rt(k)
		errs = append(errs, err)
		*dst = v
	}
	must(&a.rtOrganizes, nodeKey{num: id.Organizes})
	must(&a.rtHasComponent, nodeKey{num: id.HasComponent})
	must(&a.rtHasProperty, nodeKey{num: id.HasProperty})
	must(&a.rtHasTypeDefinition, nodeKey{num: id.HasTypeDefinition})
	must(&a.rtServes, nodeKey{ns: nsTypes, num: refServes})
	must(&a.rtHasSubtype, nodeKey{num: id.HasSubtype})
	must(&a.rtHasModellingRule, nodeKey{num: id.HasModellingRule})
	must(&a.rtHasNotifier, nodeKey{num: id.HasNotifier})
	must(&a.rtHasEventSource, nodeKey{num: id.HasEventSource})
	must(&a.rtHasCondition, nodeKey{num: id.HasCondition})
	a.folderType = ns0(id.FolderType)
	objects, ok := a.byKey[nodeKey{num: id.ObjectsFolder}]
	if !ok {
		errs = append(errs, errors.New("opcua: no Objects folder"))
	}
	a.objectsFolder = objects
	// Objects organizes the SmartView root.
	a.statics[objects].refs = append(a.statics[objects].refs, staticRef{a.rtOrganizes, true, node{kind: kindRoot, member: -1}})
	// The notifier hierarchy: Server ← SmartView ← IBX ← asset (see refs).
	server, ok := a.byKey[nodeKey{num: id.Server}]
	if !ok {
		errs = append(errs, errors.New("opcua: no Server object"))
	}
	a.server = server
	a.statics[server].refs = append(a.statics[server].refs, staticRef{a.rtHasNotifier, true, node{kind: kindRoot, member: -1}})
	return errors.Join(errs...)
}

// static returns the static node with this NodeId.
func (a *addressSpace) static(n *ua.NodeID) (int32, bool) {
	k, ok := keyOf(n)
	if !ok {
		return 0, false
	}
	i, ok := a.byKey[k]
	return i, ok
}

// refTypeOf returns the reference type with this NodeId.
func (a *addressSpace) refTypeOf(n *ua.NodeID) (int8, bool) {
	i, ok := a.static(n)
	if !ok {
		return 0, false
	}
	rt, ok := a.refIndex[i]
	return rt, ok
}

// includes reports whether a reference of type rt passes a filter for
// filter (with or without subtypes).
func (a *addressSpace) includes(filter int8, subtypes bool, rt int8) bool {
	if !subtypes {
		return filter == rt
	}
	return a.refTypes[filter].subtypes&(1<<rt) != 0
}
