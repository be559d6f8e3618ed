package opcua

import (
	"strconv"
	"strings"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// Attributes and references of nodes, computed from the static nodes, the
// view and the snapshot of an evalCtx.

// class returns the NodeClass of a node.
func (c *evalCtx) class(n node) ua.NodeClass {
	switch {
	case n.kind == kindStatic:
		return c.as.statics[n.idx].class
	case n.member >= 0 || n.kind == kindTag:
		return ua.NodeClassVariable
	}
	return ua.NodeClassObject
}

// tagName is the BrowseName of a tag: its id without the asset's prefix
// ("CH1.Gen-1:fuelhours" → "fuelhours"), unique among the asset's tags.
func tagName(t *model.Tag) string {
	if s, ok := strings.CutPrefix(t.ID, t.Asset+":"); ok && s != "" {
		return s
	}
	return t.ID
}

func (c *evalCtx) browseName(n node) ua.QualifiedName {
	if n.kind == kindStatic {
		return c.as.statics[n.idx].browseName
	}
	if m := c.memberOf(n); m != nil {
		return m.browseName
	}
	return ua.QualifiedName{NamespaceIndex: nsInstances, Name: c.entityName(n)}
}

func (c *evalCtx) entityName(n node) string {
	st := c.view.st
	switch n.kind {
	case kindRoot:
		return rootID
	case kindGateway:
		return gatewayID
	case kindLocation:
		return st.Location(int(n.idx)).ID.Name
	case kindFolder:
		return c.view.folders[n.idx].name
	case kindAsset:
		return st.Asset(int(n.idx)).ID
	case kindTag:
		return tagName(st.Tag(int(n.idx)))
	case kindAlarm:
		return strconv.FormatUint(n.alarm, 10)
	}
	return ""
}

func (c *evalCtx) displayName(n node) string {
	switch {
	case n.kind == kindStatic:
		return c.as.statics[n.idx].displayName
	case n.member >= 0:
		return c.memberOf(n).displayName
	case n.kind == kindLocation:
		return c.view.st.Location(int(n.idx)).Label
	case n.kind == kindTag:
		if t := c.view.st.Tag(int(n.idx)); t.DisplayName != "" {
			return t.DisplayName
		}
	case n.kind == kindAlarm:
		if a := c.alarm(n.alarm); a != nil && a.Condition != "" {
			return "Alarm " + strconv.FormatUint(a.ID, 10) + ": " + a.Condition
		}
	}
	return c.entityName(n)
}

func (c *evalCtx) description(n node) string {
	switch {
	case n.kind == kindStatic:
		return c.as.statics[n.idx].description
	case n.member >= 0:
		return c.memberOf(n).description
	case n.kind == kindRoot:
		return "The SmartView footprint: one object per IBX, and the gateway's status."
	case n.kind == kindLocation:
		l := c.view.st.Location(int(n.idx))
		return l.ID.Level.String() + " " + l.ID.Name
	case n.kind == kindTag:
		return "Tag " + c.view.st.Tag(int(n.idx)).ID
	}
	return ""
}

// typeDefinition returns the type of an object or variable, or nil.
func (c *evalCtx) typeDefinition(n node) *ua.NodeID {
	switch {
	case n.kind == kindStatic:
		return c.as.statics[n.idx].typeDef
	case n.member >= 0:
		return c.memberOf(n).typeDef
	case n.kind == kindRoot || n.kind == kindFolder:
		return c.as.folderType
	}
	return c.entityType(n).typeID
}

// variableMember returns the member describing a variable node that is not
// static: a member of an entity, or a tag itself.
func (c *evalCtx) variableMember(n node) *member {
	if m := c.memberOf(n); m != nil {
		return m
	}
	if n.kind == kindTag {
		return c.entityType(n).self
	}
	return nil
}

// value returns the current value of a variable (or variable type).
func (c *evalCtx) value(n node) sample {
	if n.kind == kindStatic {
		s := &c.as.statics[n.idx]
		if s.bind != nil {
			return s.bind.value(c, n)
		}
		return good(s.value)
	}
	if m := c.variableMember(n); m != nil {
		return m.bind.value(c, n)
	}
	return sample{status: ua.StatusBadAttributeIDInvalid}
}

// source returns what makes a variable's value change.
func (c *evalCtx) source(n node) sourceKind {
	if n.kind == kindStatic {
		if b := c.as.statics[n.idx].bind; b != nil {
			return b.source
		}
		return srcStatic
	}
	if m := c.variableMember(n); m != nil {
		return m.bind.source
	}
	return srcStatic
}

// span is a run of references of one type and direction: n targets, the
// i-th given by at(i). Browse pages through spans without materializing
// them (a folder may hold thousands of assets).
type span struct {
	refType int8
	forward bool
	n       int
	at      func(i int) node // nil: the one target is single
	single  node
}

// one is a span of one target; it allocates nothing (a closure per
// reference did, for every node a crawl browses).
func one(rt int8, forward bool, target node) span {
	return span{refType: rt, forward: forward, n: 1, single: target}
}

// target is the i-th target of the span.
func (sp *span) target(i int) node {
	if sp.at == nil {
		return sp.single
	}
	return sp.at(i)
}

func (c *evalCtx) staticNode(id *ua.NodeID) node {
	i, _ := c.as.static(id)
	return node{kind: kindStatic, member: -1, idx: i}
}

// refs returns every reference of a node, forward and inverse.
func (c *evalCtx) refs(n node) []span {
	as, st := c.as, c.view.st
	if n.kind == kindStatic {
		s := as.statics[n.idx].refs
		return []span{{n: len(s), at: func(i int) node { return s[i].target }, refType: -1}}
	}
	out := make([]span, 0, 16)
	if td := c.typeDefinition(n); td != nil {
		out = append(out, one(as.rtHasTypeDefinition, true, c.staticNode(td)))
	}
	entity := node{kind: n.kind, member: -1, idx: n.idx, alarm: n.alarm}
	if m := c.memberOf(n); m != nil {
		out = c.memberSpans(out, entity, m.children)
		parent := entity
		if m.parent >= 0 {
			parent.member = m.parent
		}
		return append(out, one(m.refType, false, parent))
	}
	if t := c.entityType(n); t != nil {
		out = c.memberSpans(out, entity, t.top)
	}
	switch n.kind {
	case kindRoot:
		ibxs := st.IBXs()
		out = append(out,
			span{refType: as.rtOrganizes, forward: true, n: len(ibxs), at: func(i int) node {
				li, _ := st.LocationIndex(model.IBXLocation(ibxs[i]))
				return node{kind: kindLocation, member: -1, idx: int32(li)}
			}},
			one(as.rtOrganizes, true, node{kind: kindGateway, member: -1}),
			one(as.rtOrganizes, false, node{kind: kindStatic, member: -1, idx: as.objectsFolder}),
			// the notifier hierarchy (events.go): Server ← SmartView ← IBX
			one(as.rtHasNotifier, false, node{kind: kindStatic, member: -1, idx: as.server}),
			span{refType: as.rtHasNotifier, forward: true, n: len(ibxs), at: func(i int) node {
				li, _ := st.LocationIndex(model.IBXLocation(ibxs[i]))
				return node{kind: kindLocation, member: -1, idx: int32(li)}
			}})
	case kindGateway:
		out = append(out, one(as.rtOrganizes, false, node{kind: kindRoot, member: -1}))
	case kindLocation:
		l := st.Location(int(n.idx))
		children := st.Children(int(n.idx))
		out = append(out, span{refType: as.rtOrganizes, forward: true, n: len(children), at: func(i int) node {
			return node{kind: kindLocation, member: -1, idx: children[i]}
		}})
		if l.ID.Level == model.LevelIBX {
			f := c.view.ibxFolders[l.ID.IBX]
			from, to := st.IBXAssets(l.ID.IBX)
			out = append(out, one(as.rtOrganizes, true, node{kind: kindFolder, member: -1, idx: f[0]}),
				one(as.rtOrganizes, true, node{kind: kindFolder, member: -1, idx: f[1]}),
				one(as.rtHasNotifier, false, node{kind: kindRoot, member: -1}),
				// an IBX's assets are the sources of its alarms' events
				span{refType: as.rtHasEventSource, forward: true, n: to - from, at: func(i int) node { return node{kind: kindAsset, member: -1, idx: int32(from + i)} }})
		}
		by := st.AffectedBy(int(n.idx))
		out = append(out, span{refType: as.rtServes, forward: false, n: by.Len(), at: func(i int) node { return node{kind: kindAsset, member: -1, idx: by.At(i)} }})
		parent := node{kind: kindRoot, member: -1}
		if l.ID.Level != model.LevelIBX {
			pi, _ := st.LocationIndex(l.Parent)
			parent = node{kind: kindLocation, member: -1, idx: int32(pi)}
		}
		out = append(out, one(as.rtOrganizes, false, parent))
	case kindFolder:
		f := &c.view.folders[n.idx]
		out = append(out,
			span{refType: as.rtOrganizes, forward: true, n: len(f.folders), at: func(i int) node { return node{kind: kindFolder, member: -1, idx: f.folders[i]} }},
			span{refType: as.rtOrganizes, forward: true, n: len(f.assets), at: func(i int) node { return node{kind: kindAsset, member: -1, idx: f.assets[i]} }})
		if f.alarms {
			var ids []uint64
			for _, a := range c.snap.Alarms() {
				if a.IBX == f.ibx && c.listedAlarm(a) {
					ids = append(ids, a.ID)
				}
			}
			out = append(out, span{refType: as.rtOrganizes, forward: true, n: len(ids), at: func(i int) node { return node{kind: kindAlarm, member: -1, alarm: ids[i]} }})
		}
		out = append(out, one(as.rtOrganizes, false, f.parent))
	case kindAsset:
		tags, affects := st.AssetTags(int(n.idx)), st.Affects(int(n.idx))
		out = append(out,
			span{refType: as.rtHasComponent, forward: true, n: len(tags), at: func(i int) node { return node{kind: kindTag, member: -1, idx: tags[i]} }},
			span{refType: as.rtServes, forward: true, n: affects.Len(), at: func(i int) node { return node{kind: kindLocation, member: -1, idx: affects.At(i)} }},
			one(as.rtOrganizes, false, node{kind: kindFolder, member: -1, idx: c.view.assetFolder[n.idx]}))
		a := st.Asset(int(n.idx))
		if li, ok := st.LocationIndex(model.IBXLocation(a.IBX)); ok {
			out = append(out, one(as.rtHasEventSource, false, node{kind: kindLocation, member: -1, idx: int32(li)}))
		}
		// HasCondition: the asset's alarms (conditions) that are listed
		conds := c.conditionsOf(a.IBX, a.ID)
		out = append(out, span{refType: as.rtHasCondition, forward: true, n: len(conds), at: func(i int) node { return node{kind: kindAlarm, member: -1, alarm: conds[i]} }})
	case kindTag:
		ai, _ := st.AssetIndex(st.Tag(int(n.idx)).Asset)
		out = append(out, one(as.rtHasComponent, false, node{kind: kindAsset, member: -1, idx: int32(ai)}))
	case kindAlarm:
		if a := c.alarm(n.alarm); a != nil {
			out = append(out, one(as.rtOrganizes, false, node{kind: kindFolder, member: -1, idx: c.view.ibxFolders[a.IBX][1]}))
			if ai, ok := st.AssetIndex(a.AssetID); ok && st.Asset(ai).IBX == a.IBX {
				out = append(out, one(as.rtHasCondition, false, node{kind: kindAsset, member: -1, idx: int32(ai)}))
			}
		}
	}
	return out
}

// memberSpans appends to out the references from an entity (or a member)
// to the members ids that exist on this instance.
func (c *evalCtx) memberSpans(out []span, entity node, ids []int16) []span {
	t := c.entityType(entity)
	for _, mi := range ids {
		m := &t.members[mi]
		if m.bind.present != nil && !m.bind.present(c, entity) {
			continue
		}
		target := entity
		target.member = mi
		out = append(out, one(m.refType, true, target))
	}
	return out
}

// refTypeAt returns the reference type and direction of the i-th target of
// a span (static spans mix types; see refs).
func (c *evalCtx) refTypeAt(n node, s *span, i int) (int8, bool) {
	if s.refType >= 0 {
		return s.refType, s.forward
	}
	r := c.as.statics[n.idx].refs[i]
	return r.refType, r.forward
}
