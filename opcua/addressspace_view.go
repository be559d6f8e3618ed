package opcua

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// view is the instance tree of one model Structure: the folders the
// structure implies and the indexes to find them. It is immutable and
// built once per Structure; values are never part of it.
type view struct {
	st          *model.Structure
	folders     []folder
	byFolder    map[string]int32 // NodeId string → folder
	assetFolder []int32          // asset index → its template folder
	ibxFolders  map[string][2]int32
}

// folder is an Assets or Alarms folder of an IBX, or a folder grouping
// assets by classification, category and template.
type folder struct {
	id      string
	name    string
	parent  node
	ibx     string
	alarms  bool // the IBX's current alarms are its children
	folders []int32
	assets  []int32
}

const unspecified = "Unspecified"

func newView(st *model.Structure) *view {
	v := &view{st: st, byFolder: map[string]int32{}, assetFolder: make([]int32, len(st.Assets())),
		ibxFolders: map[string][2]int32{}}
	add := func(f folder) int32 {
		i := int32(len(v.folders))
		v.folders = append(v.folders, f)
		v.byFolder[f.id] = i
		if f.parent.kind == kindFolder {
			v.folders[f.parent.idx].folders = append(v.folders[f.parent.idx].folders, i)
		}
		return i
	}
	for _, ibx := range st.IBXs() {
		li, _ := st.LocationIndex(model.IBXLocation(ibx))
		ibxNode := node{kind: kindLocation, member: -1, idx: int32(li)}
		prefix := escapeSegment(ibx)
		assets := add(folder{id: prefix + "/Assets", name: "Assets", parent: ibxNode, ibx: ibx})
		alarms := add(folder{id: prefix + "/Alarms", name: "Alarms", parent: ibxNode, ibx: ibx, alarms: true})
		v.ibxFolders[ibx] = [2]int32{assets, alarms}

		from, to := st.IBXAssets(ibx)
		order := make([]int32, 0, to-from)
		for i := from; i < to; i++ {
			order = append(order, int32(i))
		}
		groups := func(a *model.Asset) [3]string {
			return [3]string{orUnspecified(a.Classification), orUnspecified(a.Category), orUnspecified(a.Template)}
		}
		slices.SortStableFunc(order, func(x, y int32) int {
			gx, gy := groups(st.Asset(int(x))), groups(st.Asset(int(y)))
			for k := range gx {
				if c := cmp.Compare(gx[k], gy[k]); c != 0 {
					return c
				}
			}
			return 0
		})
		var path [3]int32
		var last [3]string
		for n, ai := range order {
			g := groups(st.Asset(int(ai)))
			start := 0
			for n > 0 && start < len(g) && g[start] == last[start] {
				start++
			}
			for k := start; k < len(g); k++ {
				parent := node{kind: kindFolder, member: -1, idx: assets}
				if k > 0 {
					parent.idx = path[k-1]
				}
				path[k] = add(folder{id: v.folders[parent.idx].id + "/" + escapeSegment(g[k]), name: g[k], parent: parent, ibx: ibx})
			}
			last = g
			v.folders[path[2]].assets = append(v.folders[path[2]].assets, ai)
			v.assetFolder[ai] = path[2]
		}
	}
	return v
}

func orUnspecified(s string) string {
	if strings.TrimSpace(s) == "" {
		return unspecified
	}
	return s
}

// evalCtx is what a service call works on: the address space, one view and
// one snapshot (consistent with each other), and the time of the call.
type evalCtx struct {
	as   *addressSpace
	srv  *services
	view *view
	snap *model.Snapshot
	now  time.Time
}

// alarm returns the alarm with this ID in the snapshot, or nil.
func (c *evalCtx) alarm(id uint64) *model.Alarm {
	all := c.snap.Alarms()
	i := sort.Search(len(all), func(i int) bool { return all[i].ID >= id })
	if i < len(all) && all[i].ID == id {
		return all[i]
	}
	return nil
}

// listedAlarm reports whether an alarm appears in its IBX's Alarms folder.
func (c *evalCtx) listedAlarm(a *model.Alarm) bool {
	_, ok := c.view.ibxFolders[a.IBX]
	return ok && a.State != model.AlarmCleared
}

// entityType returns the type of the entity a node belongs to, or nil.
func (c *evalCtx) entityType(n node) *entityType {
	switch n.kind {
	case kindLocation:
		return c.as.locationTypes[c.view.st.Location(int(n.idx)).ID.Level]
	case kindAsset:
		return c.as.assetType
	case kindTag:
		if c.view.st.Tag(int(n.idx)).Unit != "" {
			return c.as.tagTypes[1]
		}
		return c.as.tagTypes[0]
	case kindAlarm:
		return c.as.alarmType
	case kindGateway:
		return c.as.gatewayType
	}
	return nil
}

// memberOf returns the member a node instantiates, or nil for an entity.
func (c *evalCtx) memberOf(n node) *member {
	if n.member < 0 {
		return nil
	}
	return &c.entityType(n).members[n.member]
}

// The NodeId scheme of the instance namespace. String ids, derived from
// SmartView identities and stable across refreshes and restarts:
//
//	SmartView                          the root folder
//	Gateway                            the gateway status object
//	SV4/CAGE/SV4:01:001150             a location: its LocationID "IBX/LEVEL/Name"
//	SV4/ASSET/SV4.UPS-1                an asset
//	SV4/TAG/SV4.UPS-1:load             a tag (a variable)
//	SV4/ALARM/17                       an alarm, by its gateway-assigned ID
//	SV4/Assets, SV4/Alarms             the IBX's folders
//	SV4/Assets/Electrical/Global/UPS   classification / category / template folders
//	<any of those>#KVA                 a variable of the object
//	<any of those>#KVA#EngineeringUnits  a property of that variable
//
// In names '%' and '#' (and '/' in IBX codes and folder names) are written
// %25, %23, %2F; nothing else is escaped.

const (
	rootID    = "SmartView"
	gatewayID = "Gateway"
)

func escapeName(s string) string {
	if !strings.ContainsAny(s, "%#") {
		return s
	}
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(s)
}

func escapeSegment(s string) string {
	if !strings.ContainsAny(s, "%#/") {
		return s
	}
	return strings.NewReplacer("%", "%25", "#", "%23", "/", "%2F").Replace(s)
}

// unescape reverses escapeName (slash false) or escapeSegment (slash
// true); it refuses anything escapeName would not have produced, so every
// node has exactly one NodeId.
func unescape(s string, slash bool) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, !slash || !strings.Contains(s, "/")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' && slash {
			return "", false
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		switch s[i+1 : i+3] {
		case "25":
			b.WriteByte('%')
		case "23":
			b.WriteByte('#')
		case "2F":
			if !slash {
				return "", false
			}
			b.WriteByte('/')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func locationIDString(id model.LocationID) string {
	return locationIDSuffix(id, "")
}

// locationIDSuffix is locationIDString with suffix appended, in one
// allocation.
func locationIDSuffix(id model.LocationID, suffix string) string {
	return escapeSegment(id.IBX) + "/" + id.Level.String() + "/" + escapeName(id.Name) + suffix
}

// entityID returns the NodeId string of an entity (member -1).
func (c *evalCtx) entityID(n node) string { return c.entityIDSuffix(n, "") }

// entityIDSuffix is entityID with suffix (a member's "#" + path)
// appended, built in one allocation: a crawl builds one per node.
func (c *evalCtx) entityIDSuffix(n node, suffix string) string {
	st := c.view.st
	switch n.kind {
	case kindRoot:
		return rootID + suffix
	case kindGateway:
		return gatewayID + suffix
	case kindLocation:
		return locationIDSuffix(st.Location(int(n.idx)).ID, suffix)
	case kindFolder:
		return c.view.folders[n.idx].id + suffix
	case kindAsset:
		a := st.Asset(int(n.idx))
		return escapeSegment(a.IBX) + "/ASSET/" + escapeName(a.ID) + suffix
	case kindTag:
		t := st.Tag(int(n.idx))
		return escapeSegment(t.IBX) + "/TAG/" + escapeName(t.ID) + suffix
	case kindAlarm:
		ibx := ""
		if a := c.alarm(n.alarm); a != nil {
			ibx = a.IBX
		}
		return escapeSegment(ibx) + "/ALARM/" + strconv.FormatUint(n.alarm, 10) + suffix
	}
	return suffix
}

// nodeID returns the NodeId of a node.
func (c *evalCtx) nodeID(n node) *ua.NodeID {
	if n.kind == kindStatic {
		return c.as.statics[n.idx].id
	}
	suffix := ""
	if m := c.memberOf(n); m != nil {
		suffix = m.idSuffix
	}
	return ua.NewStringNodeID(nsInstances, c.entityIDSuffix(n, suffix))
}

// resolve finds the node a NodeId names.
func (c *evalCtx) resolve(id *ua.NodeID) (node, bool) {
	if id == nil {
		return node{}, false
	}
	if id.Namespace() != nsInstances || id.Type() != ua.NodeIDTypeString {
		i, ok := c.as.static(id)
		return node{kind: kindStatic, member: -1, idx: i}, ok
	}
	base, path, hasPath := strings.Cut(id.StringID(), "#")
	n, ok := c.resolveEntity(base)
	if !ok || !hasPath {
		return n, ok
	}
	t := c.entityType(n)
	if t == nil {
		return node{}, false
	}
	m, ok := t.byPath[path]
	if !ok {
		return node{}, false
	}
	n.member = m
	if p := t.members[m].bind.present; p != nil && !p(c, node{kind: n.kind, member: -1, idx: n.idx}) {
		return node{}, false
	}
	return n, true
}

func (c *evalCtx) resolveEntity(s string) (node, bool) {
	st := c.view.st
	switch s {
	case rootID:
		return node{kind: kindRoot, member: -1}, true
	case gatewayID:
		return node{kind: kindGateway, member: -1}, true
	}
	if f, ok := c.view.byFolder[s]; ok {
		return node{kind: kindFolder, member: -1, idx: f}, true
	}
	ibxEsc, rest, ok1 := strings.Cut(s, "/")
	kind, nameEsc, ok2 := strings.Cut(rest, "/")
	ibx, ok3 := unescape(ibxEsc, true)
	name, ok4 := unescape(nameEsc, false)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return node{}, false
	}
	switch kind {
	case "ASSET":
		if i, ok := st.AssetIndex(name); ok && st.Asset(i).IBX == ibx {
			return node{kind: kindAsset, member: -1, idx: int32(i)}, true
		}
	case "TAG":
		if i, ok := st.TagIndex(name); ok && st.Tag(i).IBX == ibx {
			return node{kind: kindTag, member: -1, idx: int32(i)}, true
		}
	case "ALARM":
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil || strconv.FormatUint(n, 10) != name {
			return node{}, false
		}
		if a := c.alarm(n); a != nil && a.IBX == ibx {
			if _, ok := c.view.ibxFolders[ibx]; ok {
				return node{kind: kindAlarm, member: -1, alarm: n}, true
			}
		}
	default:
		level, ok := model.ParseLevel(kind)
		if !ok || level.String() != kind {
			return node{}, false
		}
		if i, ok := st.LocationIndex(model.LocationID{IBX: ibx, Level: level, Name: name}); ok {
			return node{kind: kindLocation, member: -1, idx: int32(i)}, true
		}
	}
	return node{}, false
}
