package model

import (
	"slices"
	"strings"
	"sync"
)

// SmartView's readings, asset links and alarms name zones, cages, cabinets,
// circuits and sensors that neither hierarchy lists (the documentation's own
// examples do: zones CH1:1:05:ColoArea:2 and :3, cage CH1:05:BCM000). What
// upstream names is data, so such a location becomes a location of the model,
// marked with how it was discovered, and is served like any other. It is
// placed under the nearest parent the payload implies (an environment
// reading's zone, cage and cabinet; an asset link's cage and cabinet; an
// alarm's cage and cabinet) or, failing that, its name implies (a cabinet
// SV4:01:001150:0101 sits in cage SV4:01:001150), else under its IBX.
//
// A discovered location keeps its LocationID when a hierarchy later lists
// it: the hierarchy's entry replaces it in place, with its values, its SNMP
// index and its OPC UA NodeId (both derive from the LocationID). It stays in
// the model until a hierarchy lists it or its IBX is removed; it is not
// persisted: after a restart it returns with the next payload that names it.
//
// What cannot be placed at all (no IBX, an IBX the model does not hold, no
// level or no name) is counted by reason ([Store.Unplaced]) and logged once
// per id at WARN.

// Origin says how the model learned of a location no hierarchy lists.
type Origin uint8

// Origins. OriginHierarchy (zero) is a location a hierarchy lists.
const (
	OriginHierarchy Origin = iota
	// OriginReading: named by a power or environment reading.
	OriginReading
	// OriginLink: named by an asset's affected locations.
	OriginLink
	// OriginAlarm: named by an alarm's cage, cabinet or circuit.
	OriginAlarm
)

var originNames = [...]string{OriginHierarchy: "hierarchy", OriginReading: "reading", OriginLink: "link", OriginAlarm: "alarm"}

// String returns "hierarchy", "reading", "link" or "alarm".
func (o Origin) String() string {
	if int(o) < len(originNames) {
		return originNames[o]
	}
	return "unknown"
}

// Unplaced is why something upstream named cannot become a location.
type Unplaced uint8

// Reasons a location cannot be placed.
const (
	// UnplacedNoIBX: the payload names no IBX.
	UnplacedNoIBX Unplaced = iota + 1
	// UnplacedIBXNotInModel: the IBX is not one the model holds (not
	// synced by this gateway, or its structure not read yet).
	UnplacedIBXNotInModel
	// UnplacedNoLevel: no level type, or one that is not a location level
	// (or an IBX level naming another IBX).
	UnplacedNoLevel
	// UnplacedNoName: a level type without a name.
	UnplacedNoName
	numUnplaced
)

var unplacedNames = [numUnplaced]string{UnplacedNoIBX: "no_ibx", UnplacedIBXNotInModel: "ibx_not_in_model",
	UnplacedNoLevel: "no_level", UnplacedNoName: "no_name"}

// String returns the reason as the metric label spells it ("no_ibx").
func (u Unplaced) String() string {
	if u < numUnplaced && unplacedNames[u] != "" {
		return unplacedNames[u]
	}
	return "invalid"
}

// UnplacedReasons lists every reason, for exporting zero counts.
func UnplacedReasons() []Unplaced {
	return []Unplaced{UnplacedNoIBX, UnplacedIBXNotInModel, UnplacedNoLevel, UnplacedNoName}
}

// Places returns the locations an alarm names, outermost first (cage,
// cabinet, circuit), for [Tx.Discover].
func (o *AlarmObservation) Places() []LocationID {
	var chain []LocationID
	for _, p := range []struct {
		level Level
		name  string
	}{{LevelCage, o.Cage}, {LevelCabinet, o.Cabinet}, {LevelCircuit, o.Circuit}} {
		if p.name != "" {
			chain = append(chain, LocationID{IBX: o.IBX, Level: p.level, Name: p.name})
		}
	}
	return chain
}

// Discover makes sure every location of chain is in the model. chain is
// what one payload names, outermost first (an environment reading's zone,
// cage, cabinet and sensor): each location no hierarchy lists is added,
// marked with origin, under the one before it in chain (or, for the first,
// the nearest parent its name implies, else its IBX). Locations already in
// the model are left as they are. One that cannot be placed is counted and
// logged (see [Unplaced]); the rest of chain is still placed.
//
// Locations are added to the structure once per batch, when it is next
// needed (the readings given for them meanwhile are applied then), so a
// batch that discovers many costs one structure change.
func (tx *Tx) Discover(origin Origin, chain ...LocationID) {
	if len(chain) > 0 {
		tx.discovering = chain[len(chain)-1]
	}
	var parent LocationID
	for _, id := range chain {
		if tx.knows(id) {
			parent = id
			continue
		}
		if reason := tx.placeable(id); reason != 0 {
			if reason == UnplacedNoIBX || reason == UnplacedIBXNotInModel {
				// The whole chain shares the IBX: the payload counts once,
				// by its own location (the last).
				tx.Unplaceable(reason, chain[len(chain)-1].String())
				return
			}
			tx.Unplaceable(reason, id.String())
			continue
		}
		if origin == OriginHierarchy {
			origin = OriginReading
		}
		if tx.pendingIndex == nil {
			tx.pendingIndex = map[LocationID]bool{}
		}
		tx.pendingIndex[id] = true
		tx.pending = append(tx.pending, Location{ID: id, Label: id.Name, Parent: parent, Discovered: origin})
		parent = id
	}
}

// Unplaceable records something upstream named that cannot become a
// location: it is counted by reason and logged once per key at WARN when
// the batch commits.
func (tx *Tx) Unplaceable(reason Unplaced, key string) {
	tx.unplaced = append(tx.unplaced, unplacedRef{reason: reason, key: key})
}

// knows reports whether id is in the structure or waiting to be added.
func (tx *Tx) knows(id LocationID) bool {
	_, ok := tx.locate(id)
	return ok || tx.pendingIndex[id]
}

// placeable returns why id cannot be placed, or 0.
func (tx *Tx) placeable(id LocationID) Unplaced {
	if id.IBX != "" && tx.structure.parts[id.IBX] == nil {
		return UnplacedIBXNotInModel
	}
	return unplaceableIn(id.IBX, id)
}

// discoverFor makes sure a reading's location is in the model; false when
// it cannot be placed (then it has been counted, once: a caller that gave
// the reading's chain to Discover just before has counted it).
func (tx *Tx) discoverFor(id LocationID) bool {
	if tx.knows(id) {
		return true
	}
	if tx.discovering == id { // Discover was just given its chain
		tx.discovering = LocationID{}
		return false
	}
	tx.Discover(OriginReading, id)
	return tx.pendingIndex[id]
}

// placePending adds the locations discovered in this batch to the
// structure, then applies the readings that were waiting for them.
func (tx *Tx) placePending() {
	if len(tx.pending) == 0 {
		return
	}
	byIBX := map[string][]Location{}
	for _, l := range tx.pending {
		byIBX[l.ID.IBX] = append(byIBX[l.ID.IBX], l)
	}
	added := slices.Clone(tx.pending)
	tx.pending, tx.pendingIndex = tx.pending[:0], nil
	next := make(map[string]*IBXStructure, len(tx.structure.parts))
	for ibx, p := range tx.structure.parts {
		next[ibx] = p
	}
	for ibx, locs := range byIBX {
		old := next[ibx]
		in := IBXStructure{Locations: append(slices.Clip(old.Locations), locs...), Assets: old.Assets, Tags: old.Tags}
		next[ibx], _ = normalizeIBX(ibx, in, nil, tx.Unplaceable)
	}
	tx.rebuild(next)
	for _, l := range added { // as placed
		if i, ok := tx.structure.locationIndex(l.ID); ok {
			tx.discovered = append(tx.discovered, tx.structure.locations[i])
		}
	}
	waiting := tx.waiting
	tx.waiting = nil
	// Their readings were counted as applied when they were given.
	stats := tx.stats
	for _, fn := range waiting {
		fn()
	}
	tx.stats = stats
}

// impliedParent returns the nearest location id's name implies that is in
// known, or zero: a cabinet "SV4:01:001150:0101" sits in cage
// "SV4:01:001150"; a sensor "CH1.Colo.CH1_05_000550_0105" in cabinet
// "CH1:05:000550:0105" (or its cage).
func impliedParent(id LocationID, known func(LocationID) bool) LocationID {
	var cabinet string
	switch id.Level {
	case LevelCabinet:
		cage, _, ok := cutLast(id.Name, ":")
		if c := (LocationID{IBX: id.IBX, Level: LevelCage, Name: cage}); ok && known(c) {
			return c
		}
		return LocationID{}
	case LevelSensor:
		_, last, _ := cutLast(id.Name, ".")
		cabinet = strings.ReplaceAll(last, "_", ":")
	default:
		return LocationID{}
	}
	if c := (LocationID{IBX: id.IBX, Level: LevelCabinet, Name: cabinet}); known(c) {
		return c
	}
	if cage, _, ok := cutLast(cabinet, ":"); ok {
		if c := (LocationID{IBX: id.IBX, Level: LevelCage, Name: cage}); known(c) {
			return c
		}
	}
	return LocationID{}
}

// cutLast is strings.Cut at the last sep; without sep, after is s.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

type unplacedRef struct {
	reason Unplaced
	key    string
}

// maxWarnedUnplaced bounds the keys remembered as already logged: they come
// from upstream and could be many.
const maxWarnedUnplaced = 10000

// unplacedBook counts what could not be placed and remembers what was logged.
type unplacedBook struct {
	mu     sync.Mutex // the writer adds, the metrics collector reads
	counts [numUnplaced]uint64
	warned map[string]bool
}

// Unplaced returns how many references could not be placed, by reason,
// since the Store was created.
func (s *Store) Unplaced() map[Unplaced]uint64 {
	s.unplaced.mu.Lock()
	defer s.unplaced.mu.Unlock()
	out := make(map[Unplaced]uint64, len(UnplacedReasons()))
	for _, r := range UnplacedReasons() {
		out[r] = s.unplaced.counts[r]
	}
	return out
}

// recordPlaces counts and logs what a committed batch could not place, and
// logs the locations it discovered.
func (s *Store) recordPlaces(unplaced []unplacedRef, discovered []Location) {
	for _, l := range discovered {
		s.log.Info("location discovered outside the hierarchies", "location", l.ID.String(), "origin", l.Discovered.String(), "parent", l.Parent.String())
	}
	if len(unplaced) == 0 {
		return
	}
	b := &s.unplaced
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.warned == nil {
		b.warned = map[string]bool{}
	}
	for _, u := range unplaced {
		b.counts[u.reason]++
		key := u.reason.String() + " " + u.key
		if b.warned[key] {
			continue
		}
		switch {
		case len(b.warned) < maxWarnedUnplaced:
			b.warned[key] = true
			s.log.Warn("reference cannot be placed in the model: counted, not served", "reason", u.reason.String(), "id", u.key)
		case len(b.warned) == maxWarnedUnplaced:
			b.warned[""] = true
			s.log.Warn("more references cannot be placed: counted in svgateway_model_unplaced_total, no longer logged one by one")
		}
	}
}

// await defers a reading for a location waiting to be added; it counts as
// applied (a new location has no value yet).
func (tx *Tx) await(fn func()) {
	tx.waiting = append(tx.waiting, fn)
	tx.stats.Applied++
}
