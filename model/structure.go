package model

import (
	"cmp"
	"iter"
	"slices"
)

// IBXStructure is everything that exists in one IBX: its locations (the IBX
// itself, zones, cages, cabinets, circuits, sensors), its assets and their
// tags. Writers replace it whole with [Tx.SetStructure].
type IBXStructure struct {
	Locations []Location
	Assets    []Asset
	Tags      []Tag
}

// Structure is the immutable set of things that exist: locations, assets and
// tags, each in a fixed order with a dense index, plus the relations between
// them. All snapshots between two structure changes share one Structure, so
// an index built from it (SNMP OIDs, OPC UA nodes) stays valid until
// [Structure.Gen] changes. Slices returned by its methods must not be modified.
type Structure struct {
	gen       uint64
	ibxs      []string
	locations []Location // sorted by IBX, level, name
	assets    []Asset    // sorted by IBX, id
	tags      []Tag      // sorted by IBX, id
	parts     map[string]*IBXStructure

	// By id: hash indexes into locations, assets and tags (see idIndex).
	locIndex   idIndex
	assetIndex idIndex
	tagIndex   idIndex
	// Location i's direct children, by name, are childList[childFrom[i]:childFrom[i+1]]:
	// two flat arrays instead of a slice per location (24 bytes each, most empty).
	childFrom []int32
	childList []int32
	assetTags [][]int32 // asset → its tags
	// Asset i's affected locations are affectsTo[i][e] for each entry e of
	// its Affects list: the list's table resolved to location indexes once
	// per table (a few hundred KB), not a second array of every link.
	affectsTo [][]int32
	// The assets affecting location i are byList[byFrom[i]:byFrom[i+1]]
	// (16 bits an entry up to 65,536 assets).
	byFrom []int32
	byList entries
	ranges map[string]ibxRange
}

// ibxRange is where one IBX's entries lie in the sorted slices.
type ibxRange struct{ loc, asset, tag [2]int32 }

var emptyStructure = buildStructure(0, map[string]*IBXStructure{}, nil)

// Gen is the structure generation: it changes whenever anything is added,
// removed or renamed, and only then.
func (s *Structure) Gen() uint64 { return s.gen }

// SameLocations reports whether s and o hold the same locations, by id, in the
// same order: an index into one is the same location's in the other. A
// rebuild that changed only what assets affect (the links pass) keeps them;
// an index built on o's locations can then serve s.
func (s *Structure) SameLocations(o *Structure) bool {
	return sameIDs(s.locations, o.locations, func(l *Location) LocationID { return l.ID })
}

// SameTags is SameLocations for tags.
func (s *Structure) SameTags(o *Structure) bool {
	return sameIDs(s.tags, o.tags, func(t *Tag) string { return t.ID })
}

// SameAssets is SameLocations for assets.
func (s *Structure) SameAssets(o *Structure) bool {
	return sameIDs(s.assets, o.assets, func(a *Asset) string { return a.ID })
}

// sameIDs reports whether a and b hold elements of the same ids in the same
// order (the ids the structure's indexes find them by).
func sameIDs[E any, K comparable](a, b []E, id func(*E) K) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 0 && &a[0] == &b[0] { // one array, shared by a rebuild (buildStructure)
		return true
	}
	for i := range a {
		if id(&a[i]) != id(&b[i]) {
			return false
		}
	}
	return true
}

// IBXs returns the IBX codes, sorted.
func (s *Structure) IBXs() []string { return s.ibxs }

// Locations returns every location, sorted by IBX, level and name.
func (s *Structure) Locations() []Location { return s.locations }

// Location returns the location at index i.
func (s *Structure) Location(i int) *Location { return &s.locations[i] }

// LocationIndex returns the index of the location with this id.
func (s *Structure) LocationIndex(id LocationID) (int, bool) {
	i, ok := s.locationIndex(id)
	return int(i), ok
}

func (s *Structure) locationIndex(id LocationID) (int32, bool) {
	return s.locIndex.find(hashLocationID(id), func(i int32) bool { return s.locations[i].ID == id })
}

func (s *Structure) assetIndexOf(id string) (int32, bool) {
	return s.assetIndex.find(hashString(id), func(i int32) bool { return s.assets[i].ID == id })
}

func (s *Structure) tagIndexOf(id string) (int32, bool) {
	return s.tagIndex.find(hashString(id), func(i int32) bool { return s.tags[i].ID == id })
}

// Children returns the indexes of a location's direct children, by name.
func (s *Structure) Children(i int) []int32 {
	from, to := s.childFrom[i], s.childFrom[i+1]
	return s.childList[from:to:to]
}

// Assets returns every asset, sorted by IBX and id.
func (s *Structure) Assets() []Asset { return s.assets }

// Asset returns the asset at index i.
func (s *Structure) Asset(i int) *Asset { return &s.assets[i] }

// AssetIndex returns the index of the asset with this id.
func (s *Structure) AssetIndex(id string) (int, bool) {
	i, ok := s.assetIndexOf(id)
	return int(i), ok
}

// AssetTags returns the indexes of an asset's tags, by id.
func (s *Structure) AssetTags(i int) []int32 { return s.assetTags[i] }

// Affects returns the indexes of the locations an asset serves, in the
// order of its Affects list.
func (s *Structure) Affects(i int) Indexes {
	return Indexes{entries: s.assets[i].Affects.idx, to: s.affectsTo[i]}
}

// AffectedBy returns the indexes of the assets serving a location.
func (s *Structure) AffectedBy(i int) Indexes {
	return Indexes{entries: s.byList.slice(int(s.byFrom[i]), int(s.byFrom[i+1]))}
}

// Indexes is a list of structure indexes as the model keeps it, without a
// copy: what [Structure.Affects] (an asset's list of locations, read
// through its table: entry j is to[entries[j]]) and [Structure.AffectedBy]
// return.
type Indexes struct {
	entries entries
	to      []int32 // nil: the entries are the indexes
}

// Len returns the number of indexes.
func (x Indexes) Len() int { return x.entries.len() }

// At returns index j.
func (x Indexes) At(j int) int32 {
	if x.to == nil {
		return x.entries.at(j)
	}
	return x.to[x.entries.at(j)]
}

// All yields each index with its position.
func (x Indexes) All() iter.Seq2[int, int32] {
	return func(yield func(int, int32) bool) {
		for j := range x.entries.len() {
			if !yield(j, x.At(j)) {
				return
			}
		}
	}
}

// Slice returns the indexes as a new slice.
func (x Indexes) Slice() []int32 {
	out := make([]int32, x.entries.len())
	for j := range out {
		out[j] = x.At(j)
	}
	return out
}

// Tags returns every tag, sorted by IBX and id.
func (s *Structure) Tags() []Tag { return s.tags }

// Tag returns the tag at index i.
func (s *Structure) Tag(i int) *Tag { return &s.tags[i] }

// TagIndex returns the index of the tag with this id.
func (s *Structure) TagIndex(id string) (int, bool) {
	i, ok := s.tagIndexOf(id)
	return int(i), ok
}

// IBXLocations returns the index range [from, to) of an IBX's locations.
func (s *Structure) IBXLocations(ibx string) (from, to int) {
	r := s.ranges[ibx]
	return int(r.loc[0]), int(r.loc[1])
}

// IBXAssets returns the index range [from, to) of an IBX's assets.
func (s *Structure) IBXAssets(ibx string) (from, to int) {
	r := s.ranges[ibx]
	return int(r.asset[0]), int(r.asset[1])
}

// IBXTags returns the index range [from, to) of an IBX's tags.
func (s *Structure) IBXTags(ibx string) (from, to int) {
	r := s.ranges[ibx]
	return int(r.tag[0]), int(r.tag[1])
}

// normalizeIBX returns a cleaned copy of in for ibx and what had to be fixed:
// the IBX location is added if missing, entries of another IBX and duplicate
// ids are dropped (first wins), locations whose parent is unknown or part of
// a cycle are placed directly under the IBX, and tags of unknown assets are
// dropped. kept are locations discovered earlier (see [Tx.Discover]): they
// stay unless in lists them, which replaces them in place. A location an
// asset affects that neither in nor kept holds is discovered (OriginLink)
// (OriginLink); one that cannot be placed is reported to unplaced.
// Discovered locations without a parent in the result are placed under the
// nearest parent their name implies, else the IBX.
func normalizeIBX(ibx string, in IBXStructure, kept []Location, unplaced func(Unplaced, string)) (out *IBXStructure, warn []string) {
	warnf := func(format string, args ...any) { warn = append(warn, errorf(format, args...).Error()) }
	// Sized for what comes in: every IBX is rebuilt when the asset links
	// arrive, and grown by append these slices and maps were more than half
	// of that rebuild's garbage (BenchmarkSetLinks), which on xlarge comes
	// on top of two structures alive at once.
	n := 1 + len(in.Locations) + len(kept)
	out = &IBXStructure{Locations: make([]Location, 1, n), Assets: make([]Asset, 0, len(in.Assets)), Tags: make([]Tag, 0, len(in.Tags))}
	root := IBXLocation(ibx)
	seenLoc := make(map[LocationID]int, n)
	seenLoc[root] = 0
	out.Locations[0] = Location{ID: root, Label: ibx}
	for i := range n - 1 { // in.Locations, then kept
		var l Location
		if i < len(in.Locations) {
			l = in.Locations[i]
		} else {
			l = kept[i-len(in.Locations)]
		}
		if l.ID == root {
			if l.Label != "" {
				out.Locations[0].Label = l.Label
			}
			continue
		}
		switch {
		case l.ID.IBX != ibx:
			warnf("IBX %s: location %s belongs to another IBX: dropped", ibx, l.ID)
			continue
		case l.ID.Level < LevelIBX || l.ID.Level > LevelSensor || l.ID.Level == LevelIBX || l.ID.Name == "":
			warnf("IBX %s: location %q has no valid level and name: dropped", ibx, l.ID.String())
			continue
		}
		if _, dup := seenLoc[l.ID]; dup {
			if i < len(in.Locations) && l.Discovered == OriginHierarchy {
				warnf("IBX %s: duplicate location %s: first kept", ibx, l.ID)
			}
			continue
		}
		if l.Label == "" {
			l.Label = l.ID.Name
		}
		seenLoc[l.ID] = len(out.Locations)
		out.Locations = append(out.Locations, l)
	}

	seenAsset := make(map[string]bool, len(in.Assets))
	for _, a := range in.Assets {
		if a.ID == "" || seenAsset[a.ID] {
			warnf("IBX %s: empty or duplicate asset id %q: dropped", ibx, a.ID)
			continue
		}
		seenAsset[a.ID] = true
		a.IBX = ibx
		a.Affects = a.Affects.Without(func(id LocationID) bool {
			if _, ok := seenLoc[id]; ok {
				return false
			}
			if why := unplaceableIn(ibx, id); why != 0 {
				warnf("IBX %s: asset %s affects %q, which cannot be placed (%s): reference dropped", ibx, a.ID, id.String(), why)
				unplaced(why, id.String())
				return true
			}
			l := Location{ID: id, Label: id.Name, Discovered: OriginLink}
			seenLoc[id] = len(out.Locations)
			out.Locations = append(out.Locations, l)
			return false
		})
		out.Assets = append(out.Assets, a)
	}

	known := func(id LocationID) bool { _, ok := seenLoc[id]; return ok }
	for i := 1; i < len(out.Locations); i++ {
		l := &out.Locations[i]
		_, ok := seenLoc[l.Parent]
		switch {
		case l.Discovered != OriginHierarchy && (!ok || l.Parent == root):
			l.Parent = root
			if p := impliedParent(l.ID, known); !p.IsZero() {
				l.Parent = p
			}
		case !ok:
			if !l.Parent.IsZero() {
				warnf("IBX %s: parent %s of %s is unknown: placed under the IBX", ibx, l.Parent, l.ID)
			}
			l.Parent = root
		}
	}
	// Break cycles: walk up from each location; a walk longer than the number
	// of locations is a cycle.
	for i := 1; i < len(out.Locations); i++ {
		p, steps := out.Locations[i].Parent, 0
		for p != root && steps <= len(out.Locations) {
			p = out.Locations[seenLoc[p]].Parent
			steps++
		}
		if p != root {
			warnf("IBX %s: %s is in a parent cycle: placed under the IBX", ibx, out.Locations[i].ID)
			out.Locations[i].Parent = root
		}
	}

	seenTag := make(map[string]bool, len(in.Tags))
	for _, t := range in.Tags {
		switch {
		case t.ID == "" || seenTag[t.ID]:
			warnf("IBX %s: empty or duplicate tag id %q: dropped", ibx, t.ID)
			continue
		case !seenAsset[t.Asset]:
			warnf("IBX %s: tag %s of unknown asset %q: dropped", ibx, t.ID, t.Asset)
			continue
		}
		seenTag[t.ID] = true
		t.IBX = ibx
		out.Tags = append(out.Tags, t)
	}
	slices.SortFunc(out.Locations, compareLocations)
	slices.SortFunc(out.Assets, func(a, b Asset) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Tags, func(a, b Tag) int { return cmp.Compare(a.ID, b.ID) })
	return out, warn
}

// unplaceableIn returns why id cannot be a location of ibx, or 0.
func unplaceableIn(ibx string, id LocationID) Unplaced {
	switch {
	case id.IBX == "":
		return UnplacedNoIBX
	case id.IBX != ibx:
		return UnplacedIBXNotInModel
	case id.Level <= LevelIBX || id.Level > LevelSensor:
		return UnplacedNoLevel
	case id.Name == "":
		return UnplacedNoName
	}
	return 0
}

// IBXLinks are the locations the assets of one IBX serve, for [Tx.SetLinks].
type IBXLinks struct {
	// ByAsset lists them by asset id; an asset absent serves none.
	ByAsset map[string]LocationList
	// NestedIn returns the location the links' source nests entry i of l
	// in (zero: none known). Nil: none known for any.
	NestedIn func(l LocationList, i int) LocationID
}

// SetLinks replaces the locations the assets of the given IBXs serve,
// keeping the rest of their structure as the model has it: each asset's
// Affects becomes the list of its id, and a location a link names that the
// structure lacks is discovered (OriginLink) under the location NestedIn
// gives (zero: under the parent its name implies, else the IBX). It is
// SetStructure of those IBXs' parts with the new links — a no-op where they
// equal the current ones — for a writer that reads the links apart from the
// rest (the poller's links pass) and so need not keep the rest to rebuild
// it. The model keeps the lists. IBXs the model does not have are left
// alone.
func (tx *Tx) SetLinks(links map[string]IBXLinks) (warnings []string) {
	tx.placePending()
	parts := make(map[string]IBXStructure, len(links))
	for ibx, l := range links {
		old := tx.structure.parts[ibx]
		if old == nil {
			continue
		}
		// The hierarchy's locations as they are (the discovered ones are kept by
		// SetStructure): the part itself when it has no other, as a rule. Its
		// capacity is its length, so an append below copies it. A location is
		// known by the structure's index, not a map of the part's: on xlarge a
		// copy and a map of every location were ~150 MB of garbage at the
		// rebuild, the peak of memory.
		in := IBXStructure{Locations: old.Locations, Assets: slices.Clone(old.Assets), Tags: old.Tags}
		if slices.ContainsFunc(old.Locations, func(l Location) bool { return l.Discovered != OriginHierarchy }) {
			in.Locations = slices.DeleteFunc(slices.Clone(old.Locations), func(l Location) bool { return l.Discovered != OriginHierarchy })
		}
		var added map[LocationID]bool
		known := func(id LocationID) bool {
			i, ok := tx.structure.locationIndex(id)
			return ok && id.IBX == ibx && tx.structure.locations[i].Discovered == OriginHierarchy || added[id]
		}
		for i := range in.Assets {
			a := &in.Assets[i]
			a.Affects = l.ByAsset[a.ID]
			for j, id := range a.Affects.All() {
				if !known(id) {
					if added == nil {
						added = map[LocationID]bool{}
					}
					added[id] = true
					var parent LocationID
					if l.NestedIn != nil {
						parent = l.NestedIn(a.Affects, j)
					}
					in.Locations = append(in.Locations, Location{ID: id, Label: id.Name, Parent: parent, Discovered: OriginLink})
				}
			}
		}
		parts[ibx] = in
	}
	if len(parts) == 0 {
		return nil
	}
	return tx.SetStructure(parts)
}

// discoveredOf returns the discovered locations of a part.
func discoveredOf(p *IBXStructure) []Location {
	var out []Location
	for _, l := range p.Locations {
		if l.Discovered != OriginHierarchy {
			out = append(out, l)
		}
	}
	return out
}

func compareLocations(a, b Location) int {
	if c := cmp.Compare(a.ID.IBX, b.ID.IBX); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID.Level, b.ID.Level); c != 0 {
		return c
	}
	return cmp.Compare(a.ID.Name, b.ID.Name)
}

func equalIBX(a, b *IBXStructure) bool {
	return slices.Equal(a.Locations, b.Locations) && slices.Equal(a.Tags, b.Tags) &&
		slices.EqualFunc(a.Assets, b.Assets, func(x, y Asset) bool {
			return x.ID == y.ID && x.IBX == y.IBX && x.Classification == y.Classification &&
				x.Category == y.Category && x.Template == y.Template && x.Type == y.Type &&
				x.Manufacturer == y.Manufacturer && x.Model == y.Model && x.Serial == y.Serial &&
				x.TimeZone == y.TimeZone && x.Affects.Equal(y.Affects)
		})
}

// buildStructure assembles normalized per-IBX parts into one Structure.
// Where every part's locations (tags) equal those of prev (nil: none), the
// structure shares prev's array of them and the indexes built on it: the
// links pass rebuilds the structure to change what assets affect, and a
// second copy of the rest was most of a structure (~28 MB on the large
// profile) made and kept beside the first at the rebuild, the peak of memory.
// A Structure is immutable, so the two sharing them is safe.
func buildStructure(gen uint64, parts map[string]*IBXStructure, prev *Structure) *Structure {
	s := &Structure{gen: gen, parts: make(map[string]*IBXStructure, len(parts)), ranges: make(map[string]ibxRange, len(parts))}
	for ibx := range parts {
		s.ibxs = append(s.ibxs, ibx)
	}
	slices.Sort(s.ibxs)
	var nl, na, nt int
	for _, p := range parts {
		nl, na, nt = nl+len(p.Locations), na+len(p.Assets), nt+len(p.Tags)
	}
	sameLocations := partsEqual(parts, prev, func(p *IBXStructure) []Location { return p.Locations })
	sameTags := partsEqual(parts, prev, func(p *IBXStructure) []Tag { return p.Tags })
	s.assets = make([]Asset, 0, na)
	if sameLocations {
		s.locations = prev.locations
	} else {
		s.locations = make([]Location, 0, nl)
	}
	if sameTags {
		s.tags = prev.tags
	} else {
		s.tags = make([]Tag, 0, nt)
	}
	var r ibxRange
	for _, ibx := range s.ibxs {
		p := parts[ibx]
		r.loc[0], r.asset[0], r.tag[0] = r.loc[1], r.asset[1], r.tag[1]
		r.loc[1], r.asset[1], r.tag[1] = r.loc[0]+int32(len(p.Locations)), r.asset[0]+int32(len(p.Assets)), r.tag[0]+int32(len(p.Tags))
		if !sameLocations {
			s.locations = append(s.locations, p.Locations...)
		}
		s.assets = append(s.assets, p.Assets...)
		if !sameTags {
			s.tags = append(s.tags, p.Tags...)
		}
		s.ranges[ibx] = r
	}
	// Keep each part as a view of the flattened slices rather than a second copy.
	for ibx, r := range s.ranges {
		s.parts[ibx] = &IBXStructure{Locations: s.locations[r.loc[0]:r.loc[1]:r.loc[1]],
			Assets: s.assets[r.asset[0]:r.asset[1]:r.asset[1]], Tags: s.tags[r.tag[0]:r.tag[1]:r.tag[1]]}
	}

	if sameLocations {
		s.locIndex, s.childFrom, s.childList = prev.locIndex, prev.childFrom, prev.childList
	} else {
		s.indexLocations()
	}
	locIndex := func(id LocationID) int32 { i, _ := s.locationIndex(id); return i }

	// The asset ↔ location relations can hold millions of entries (a
	// generator serves a whole IBX): count first, then fill flat arrays.
	s.assetIndex = newIDIndex(na, func(i int32) uint64 { return hashString(s.assets[i].ID) },
		func(i, j int32) bool { return s.assets[i].ID == s.assets[j].ID }) // ids embed the IBX code; first wins if not
	s.affectsTo = make([][]int32, na)
	// Resolve each table entry once rather than each link: the assets of an
	// IBX share one table of the locations they serve.
	resolved := map[*LocationTable][]int32{}
	s.byFrom = make([]int32, nl+1)
	for _, a := range s.assets {
		l := a.Affects
		r := resolved[l.table]
		if len(r) < len(l.ids) {
			k := len(r)
			r = append(r, make([]int32, len(l.ids)-k)...)
			for ; k < len(r); k++ {
				r[k] = -1
			}
			resolved[l.table] = r
		}
		for k := range l.idx.len() {
			e := l.idx.at(k)
			if r[e] < 0 {
				r[e] = locIndex(l.ids[e]) // normalizeIBX has made every link a location
			}
			s.byFrom[r[e]+1]++
		}
	}
	for i := 1; i <= nl; i++ {
		s.byFrom[i] += s.byFrom[i-1]
	}
	s.byList = makeEntries(int(s.byFrom[nl]), na)
	fillBy := slices.Clone(s.byFrom[:nl])
	for i, a := range s.assets {
		r := resolved[a.Affects.table]
		s.affectsTo[i] = r
		for k := range a.Affects.idx.len() {
			l := r[a.Affects.idx.at(k)]
			s.byList.set(int(fillBy[l]), int32(i))
			fillBy[l]++
		}
	}
	if sameTags {
		s.tagIndex = prev.tagIndex
	} else {
		s.tagIndex = newIDIndex(nt, func(i int32) uint64 { return hashString(s.tags[i].ID) },
			func(i, j int32) bool { return s.tags[i].ID == s.tags[j].ID })
	}
	if sameTags && s.SameAssets(prev) {
		s.assetTags = prev.assetTags
	} else {
		s.assetTags = make([][]int32, na)
		for i, t := range s.tags {
			a, _ := s.assetIndexOf(t.Asset)
			s.assetTags[a] = append(s.assetTags[a], int32(i))
		}
	}
	return s
}

// indexLocations builds the index of the locations by id and the lists of
// their children.
func (s *Structure) indexLocations() {
	nl := len(s.locations)
	s.locIndex = newIDIndex(nl, func(i int32) uint64 { return hashLocationID(s.locations[i].ID) },
		func(i, j int32) bool { return s.locations[i].ID == s.locations[j].ID })
	locIndex := func(id LocationID) int32 { i, _ := s.locationIndex(id); return i }
	s.childFrom = make([]int32, nl+1)
	for _, l := range s.locations {
		if l.ID.Level != LevelIBX {
			s.childFrom[locIndex(l.Parent)+1]++
		}
	}
	for i := 1; i <= nl; i++ {
		s.childFrom[i] += s.childFrom[i-1]
	}
	s.childList = make([]int32, s.childFrom[nl])
	fill := slices.Clone(s.childFrom[:nl])
	for i, l := range s.locations {
		if l.ID.Level != LevelIBX {
			p := locIndex(l.Parent)
			s.childList[fill[p]] = int32(i)
			fill[p]++
		}
	}
	for i := range nl {
		slices.SortFunc(s.Children(i), func(a, b int32) int { return cmp.Compare(s.locations[a].ID.Name, s.locations[b].ID.Name) })
	}
}

// partsEqual reports whether parts and prev's parts are of the same IBXs, with
// equal elements of (locations or tags) in each.
func partsEqual[E comparable](parts map[string]*IBXStructure, prev *Structure, of func(*IBXStructure) []E) bool {
	if prev == nil || len(parts) != len(prev.parts) {
		return false
	}
	for ibx, p := range parts {
		q, ok := prev.parts[ibx]
		if !ok || !slices.Equal(of(p), of(q)) {
			return false
		}
	}
	return true
}
