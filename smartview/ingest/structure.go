package ingest

import (
	"regexp"
	"slices"
	"strings"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

// IBXSources is what the API says about one IBX's structure.
type IBXSources struct {
	IBX string
	// Location is the location hierarchy (IBX, zones, cages, cabinets);
	// Power the power hierarchy (IBX, cages, cabinets, circuits).
	Location, Power []smartview.HierarchyNode
	// Lists are the asset lists, one per classification.
	Lists []*smartview.AssetList
	// Details are keyed by asset id.
	Details map[string]*smartview.AssetDetails
	// Links are the locations the assets serve.
	Links Links
	// Sensors are the environment readings at the SENSOR level, which name
	// the sensors and the cage or cabinet they sit in.
	Sensors []smartview.Environment
}

// Links are the locations assets serve, as the affected-assets answers
// name them (see Affected).
type Links struct {
	// Table holds the distinct locations the lists of ByAsset name: one
	// table an IBX, kept from one links pass to the next.
	Table *model.LocationTable
	// ByAsset lists the locations each asset serves, by asset id. The lists
	// become the assets' Affects as they are: the model keeps them.
	ByAsset map[string]model.LocationList
	// Parents is the cage or cabinet the answers nest each location in, as
	// entries of Table: by the nested one's index, its parent's.
	Parents map[int32]int32
}

// Structure merges the two hierarchies, the assets and the sensors of one IBX
// into the model's structure. Cages and cabinets are named by their unique
// space id (the hierarchy's label, which the other endpoints use) and keep
// the hierarchy's numeric levelValue as Number; circuits are named by their
// number and labelled with the hierarchy's label. A cage known to both
// hierarchies keeps its zone from the location hierarchy. A location an
// asset serves that neither hierarchy lists is added as discovered by the
// link, under the cage or cabinet the affected-assets answer nests it in.
func Structure(src *IBXSources) model.IBXStructure { return link(unlinked(src), src.Links) }

// unlinked is Structure without the links (src.Links is not read).
func unlinked(src *IBXSources) model.IBXStructure {
	b := structureBuilder{ibx: src.IBX, index: map[model.LocationID]int{}}
	root := model.IBXLocation(src.IBX)
	b.add(model.Location{ID: root, Label: src.IBX})
	for _, tree := range [][]smartview.HierarchyNode{src.Location, src.Power} {
		for i := range tree {
			b.walk(&tree[i], model.LocationID{})
		}
	}
	for i := range src.Sensors {
		e := &src.Sensors[i]
		if all(e.Sensor) {
			continue
		}
		parent := root
		for _, p := range []model.LocationID{
			{IBX: src.IBX, Level: model.LevelZone, Name: e.Zone},
			{IBX: src.IBX, Level: model.LevelCage, Name: e.Cage},
			{IBX: src.IBX, Level: model.LevelCabinet, Name: e.Cabinet},
		} {
			if _, ok := b.index[p]; ok && !all(p.Name) {
				parent = p
			}
		}
		b.add(model.Location{ID: model.LocationID{IBX: src.IBX, Level: model.LevelSensor, Name: e.Sensor}, Parent: parent})
	}

	var out model.IBXStructure
	// The texts that repeat across assets and tags (a template's display
	// names and units, makes, models, time zones) are kept once per IBX:
	// each was decoded from its own answer.
	texts := map[string]string{}
	once := func(s string) string {
		if t, ok := texts[s]; ok {
			return t
		}
		texts[s] = s
		return s
	}
	for _, list := range src.Lists {
		if list == nil {
			continue
		}
		for _, cat := range list.Categories {
			for _, tpl := range cat.Templates {
				for _, sum := range tpl.Assets {
					a := model.Asset{ID: sum.AssetID, IBX: src.IBX, Classification: list.Classification, Category: cat.Name, Template: tpl.ID}
					if d := src.Details[sum.AssetID]; d != nil {
						a.Type, a.Manufacturer, a.Model, a.Serial, a.TimeZone = once(d.AssetType), once(d.ManufacturerName), once(d.EquipmentModelNumber), d.EquipmentSerialNumber, once(d.UserPrefTimeZone)
						for _, t := range d.Tags {
							out.Tags = append(out.Tags, model.Tag{ID: t.TagID, Asset: a.ID, IBX: src.IBX, DisplayName: once(t.TagDisplayName), Unit: once(t.UOM)})
						}
					}
					out.Assets = append(out.Assets, a)
				}
			}
		}
	}
	out.Locations = b.locs
	return out
}

// Parent returns the location the answers nest entry j of list in; zero if
// none.
func (l Links) Parent(list model.LocationList, j int) model.LocationID {
	if list.Table() != l.Table {
		return model.LocationID{}
	}
	p, ok := l.Parents[list.Index(j)]
	if !ok {
		return model.LocationID{}
	}
	return l.Table.At(p)
}

// link returns base (from unlinked) with the links: each asset's Affects,
// and each location an asset serves that base lacks, added as discovered by
// the link under the cage or cabinet the affected-assets answer nests it
// in. base is not modified. (model.Tx.SetLinks does the same to the
// structure the model has, for the links pass.)
func link(base model.IBXStructure, links Links) model.IBXStructure {
	out := model.IBXStructure{Locations: base.Locations, Assets: slices.Clone(base.Assets), Tags: base.Tags}
	var known map[model.LocationID]bool
	for i := range out.Assets {
		a := &out.Assets[i]
		a.Affects = links.ByAsset[a.ID]
		for j, id := range a.Affects.All() {
			if known == nil {
				known = make(map[model.LocationID]bool, len(base.Locations))
				for _, l := range base.Locations {
					known[l.ID] = true
				}
				out.Locations = slices.Clip(out.Locations) // appends copy: base stays as it is
			}
			if !known[id] {
				known[id] = true
				out.Locations = append(out.Locations, model.Location{ID: id, Label: id.Name, Parent: links.Parent(a.Affects, j), Discovered: model.OriginLink})
			}
		}
	}
	return out
}

type structureBuilder struct {
	ibx   string
	locs  []model.Location
	index map[model.LocationID]int
}

func (b *structureBuilder) add(l model.Location) {
	if i, ok := b.index[l.ID]; ok {
		// Known from the other hierarchy: fill in what it lacked.
		old := &b.locs[i]
		if old.Number == "" {
			old.Number = l.Number
		}
		if old.Role == "" {
			old.Role = l.Role
		}
		if (old.Parent.IsZero() || old.Parent.Level == model.LevelIBX) && !l.Parent.IsZero() {
			old.Parent = l.Parent
		}
		return
	}
	b.index[l.ID] = len(b.locs)
	b.locs = append(b.locs, l)
}

func (b *structureBuilder) walk(n *smartview.HierarchyNode, parent model.LocationID) {
	level, ok := model.ParseLevel(n.LevelType)
	if !ok {
		return
	}
	value, label := string(n.LevelValue), n.Label
	l := model.Location{Parent: parent}
	switch level {
	case model.LevelIBX:
		l.ID = model.IBXLocation(b.ibx)
		l.Label = b.ibx
		l.Parent = model.LocationID{}
	case model.LevelCage, model.LevelCabinet:
		name := label
		if name == "" {
			name = value
		}
		l.ID = model.LocationID{IBX: b.ibx, Level: level, Name: name}
		l.Label = name
		if value != name {
			l.Number = value
		}
	case model.LevelCircuit:
		l.ID = model.LocationID{IBX: b.ibx, Level: level, Name: value}
		l.Label = label
		l.Role = circuitRole(label)
	default: // zones and sensors are named by their levelValue
		l.ID = model.LocationID{IBX: b.ibx, Level: level, Name: value}
		l.Label = label
	}
	if l.ID.Name == "" {
		return
	}
	b.add(l)
	for i := range n.Children {
		b.walk(&n.Children[i], l.ID)
	}
}

var (
	primaryWord   = regexp.MustCompile(`(?i)\b(pri|primary)\b`)
	redundantWord = regexp.MustCompile(`(?i)\b(red|redundant)\b`)
)

// circuitRole reads a circuit's role from its label ("120V 20A 1Ph Red (3717)").
func circuitRole(label string) string {
	switch {
	case primaryWord.MatchString(label):
		return "primary"
	case redundantWord.MatchString(label):
		return "redundant"
	}
	return ""
}

// Affected lists the locations an asset's affected-assets answer names,
// each before those nested in it, as entries of table (the IBX's: the lists
// of its assets share it), and records in parents (when not nil) the entry
// each is nested in (see Links.Parents). The list becomes the asset's Affects, which
// the model keeps with the structure (one per asset: 10,000 in the large
// profile, ~230 locations each), so it is allocated at its exact length, an
// int32 a location.
func Affected(ibx string, a *smartview.AffectedLocations, table *model.LocationTable, parents map[int32]int32) model.LocationList {
	if a == nil {
		return model.LocationList{}
	}
	var count func(ls []smartview.AffectedLocation) int
	count = func(ls []smartview.AffectedLocation) int {
		n := len(ls)
		for i := range ls {
			n += count(ls[i].Cabinets) + count(ls[i].Circuits)
		}
		return n
	}
	idx := make([]int32, 0, count(a.Cages)+count(a.Circuits))
	var visit func(l *smartview.AffectedLocation, parent int32)
	visit = func(l *smartview.AffectedLocation, parent int32) {
		level, ok := model.ParseLevel(strings.TrimSpace(l.Type))
		if ok && l.Name != "" {
			i := table.Add(model.LocationID{IBX: ibx, Level: level, Name: string(l.Name)})
			idx = append(idx, i)
			if parents != nil && parent >= 0 {
				parents[i] = parent
			}
			parent = i
		}
		for i := range l.Cabinets {
			visit(&l.Cabinets[i], parent)
		}
		for i := range l.Circuits {
			visit(&l.Circuits[i], parent)
		}
	}
	for i := range a.Cages {
		visit(&a.Cages[i], -1)
	}
	for i := range a.Circuits {
		visit(&a.Circuits[i], -1)
	}
	return table.List(slices.Clip(idx))
}
