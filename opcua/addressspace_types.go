package opcua

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// entityType is a type of the instance tree (CageType, AssetType, ...) as
// instantiated: its instance declarations, taken from the type nodes of the
// NodeSet2 files (inherited ones included), each bound to where its value
// comes from.
type entityType struct {
	name    string
	typeID  *ua.NodeID
	self    *member // variable types (tags): the variable itself
	members []member
	top     []int16 // members that are children of the entity itself
	byPath  map[string]int16
}

// member is one instance declaration of an entityType.
type member struct {
	path        string // NodeId suffix: "KVA", "KVA#EngineeringUnits"
	idSuffix    string // "#" + path, appended to the entity's NodeId
	browseName  ua.QualifiedName
	displayName string
	description string
	refType     int8 // from the parent
	typeDef     *ua.NodeID
	dataType    *ua.NodeID
	valueRank   int32
	arrayDims   []uint32
	parent      int16 // -1: the entity
	children    []int16
	bind        binding
	euRange     *ua.Range // a static EURange child, for percent deadbands
	// euRangeOf is an EURange child computed per instance (given the
	// entity's node), for percent deadbands
	euRangeOf func(c *evalCtx, n node) (ua.Range, bool)
}

// decl is an instance declaration found in a type.
type decl struct {
	static    int32
	refType   int8
	mandatory bool
}

// modellingRule reports whether static node i is an instance declaration
// and whether it is mandatory. Placeholders are not instantiated.
func (a *addressSpace) modellingRule(i int32) (mandatory, isDecl bool) {
	for _, r := range a.statics[i].refs {
		if !r.forward || r.refType != a.rtHasModellingRule || r.target.kind != kindStatic {
			continue
		}
		switch a.statics[r.target.idx].id.IntID() {
		case id.ModellingRule_Mandatory:
			return true, true
		case id.ModellingRule_Optional:
			return false, true
		}
	}
	return false, false
}

// supertype returns the supertype of a type node.
func (a *addressSpace) supertype(i int32) (int32, bool) {
	for _, r := range a.statics[i].refs {
		if !r.forward && r.target.kind == kindStatic && r.refType == a.rtHasSubtype {
			return r.target.idx, true
		}
	}
	return 0, false
}

// declarations returns the instance declarations below node i (a type or
// an instance declaration): its own, then those of its supertypes (for a
// type) or of its type definition (for a declaration), the most derived
// winning by BrowseName.
func (a *addressSpace) declarations(i int32) []decl {
	var out []decl
	seen := map[ua.QualifiedName]bool{}
	collect := func(n int32) {
		for _, r := range a.statics[n].refs {
			if !r.forward || r.target.kind != kindStatic ||
				(r.refType != a.rtHasComponent && r.refType != a.rtHasProperty) {
				continue
			}
			mandatory, ok := a.modellingRule(r.target.idx)
			if !ok || seen[a.statics[r.target.idx].browseName] {
				continue
			}
			seen[a.statics[r.target.idx].browseName] = true
			out = append(out, decl{r.target.idx, r.refType, mandatory})
		}
	}
	collect(i)
	if c := a.statics[i].class; c == ua.NodeClassObjectType || c == ua.NodeClassVariableType {
		for t, ok := a.supertype(i); ok; t, ok = a.supertype(t) {
			collect(t)
		}
		return out
	}
	if td, ok := a.static(a.statics[i].typeDef); ok {
		for t, ok := td, true; ok; t, ok = a.supertype(t) {
			collect(t)
		}
	}
	return out
}

// bindingsOf flattens the bindings of a type spec and its supertypes by path.
func bindingsOf(typeID uint32) map[string]binding {
	out := map[string]binding{}
	var add func(prefix string, ms []memberSpec)
	add = func(prefix string, ms []memberSpec) {
		for _, m := range ms {
			out[prefix+m.name] = m.bind
			add(prefix+m.name+"#", m.children)
		}
	}
	for t := typeID; t != 0; {
		i := slices.IndexFunc(typeSpecs, func(s typeSpec) bool { return s.id == t })
		if i < 0 {
			break
		}
		add("", typeSpecs[i].members)
		t = 0
		if s := typeSpecs[i].super; s.Namespace() == nsTypes {
			t = s.IntID()
		}
	}
	return out
}

// newEntityType instantiates the type with this id in the types namespace.
func (a *addressSpace) newEntityType(typeID uint32, extra map[string]binding, self *binding) (*entityType, error) {
	ti, ok := a.byKey[nodeKey{ns: nsTypes, num: typeID}]
	if !ok {
		return nil, fmt.Errorf("%w: type ns=%d;i=%d is not in the NodeSet", errModel, nsTypes, typeID)
	}
	binds := bindingsOf(typeID)
	for k, v := range extra {
		binds[k] = v
	}
	t := &entityType{name: a.statics[ti].browseName.Name, typeID: a.statics[ti].id, byPath: map[string]int16{}}
	used := map[string]bool{}
	var errs []string
	var add func(parent int16, prefix string, decls []decl)
	add = func(parent int16, prefix string, decls []decl) {
		for _, d := range decls {
			s := &a.statics[d.static]
			path := prefix + s.browseName.Name
			if _, dup := t.byPath[path]; dup {
				// the same name in another namespace (SmartViewAlarmType's
				// Severity, a String, and BaseEventType's): the type's own
				// member has the path; the event carries the other
				continue
			}
			b, ok := binds[path]
			if !ok {
				if d.mandatory && s.class == ua.NodeClassVariable { // methods are called, not instantiated (see call.go)
					errs = append(errs, fmt.Sprintf("%s: mandatory %s has no binding", t.name, path))
				}
				continue
			}
			used[path] = true
			if s.class != ua.NodeClassVariable {
				errs = append(errs, fmt.Sprintf("%s: %s is not a variable", t.name, path))
				continue
			}
			m := member{path: path, idSuffix: "#" + path, browseName: s.browseName, displayName: s.displayName, description: s.description,
				refType: d.refType, typeDef: s.typeDef, dataType: s.dataType, valueRank: s.valueRank,
				arrayDims: s.arrayDims, parent: parent, bind: b}
			idx := int16(len(t.members))
			t.members = append(t.members, m)
			t.byPath[path] = idx
			if parent < 0 {
				t.top = append(t.top, idx)
			} else {
				t.members[parent].children = append(t.members[parent].children, idx)
				if s.browseName.Name == "EURange" {
					t.members[parent].euRange, t.members[parent].euRangeOf = b.euRange, b.euRangeOf
				}
			}
			add(idx, path+"#", a.declarations(d.static))
		}
	}
	add(-1, "", a.declarations(ti))
	for p := range binds {
		if !used[p] {
			errs = append(errs, fmt.Sprintf("%s: binding %s has no declaration", t.name, p))
		}
	}
	if self != nil {
		s := &a.statics[ti]
		t.self = &member{browseName: s.browseName, refType: a.rtHasComponent, typeDef: s.id, dataType: s.dataType,
			valueRank: s.valueRank, arrayDims: s.arrayDims, parent: -1, bind: *self, children: t.top}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, fmt.Errorf("%w: %s", errModel, strings.Join(errs, "; "))
	}
	return t, nil
}

func (a *addressSpace) buildTypes() error {
	var err error
	inst := func(typeID uint32, extra map[string]binding, self *binding) *entityType {
		if err != nil {
			return nil
		}
		var t *entityType
		t, err = a.newEntityType(typeID, extra, self)
		return t
	}
	for level, typeID := range map[model.Level]uint32{model.LevelIBX: typeIBX, model.LevelZone: typeZone,
		model.LevelCage: typeCage, model.LevelCabinet: typeCabinet, model.LevelCircuit: typeCircuit, model.LevelSensor: typeSensor} {
		a.locationTypes[level] = inst(typeID, nil, nil)
	}
	a.assetType = inst(typeAsset, nil, nil)
	a.tagTypes[0] = inst(typeTag, nil, &textTagValue)
	a.tagTypes[1] = inst(typeAnalogTag, map[string]binding{"EngineeringUnits": tagUnit}, &numberTagValue)
	a.alarmType = inst(typeAlarm, conditionBindings(), nil)
	a.gatewayType = inst(typeGatewayStatus, nil, nil)
	return err
}
