package model

import (
	"iter"
	"math"
	"slices"
	"sync"
)

// This file exists because the links from assets to the locations they
// serve are the largest relation of the model: a generator or UPS serves a
// whole IBX (~230 cages, cabinets and circuits an asset in the large
// profile, 2.3 million links for 10,000 assets). Held as []LocationID they
// cost 40 bytes a link (~100 MB in large). A LocationList holds an int32 a
// link into a LocationTable of distinct ids that all the assets of one IBX
// share, so the writer (the poller's links pass), the model's structure
// parts and the poller's kept links hold the same compact lists, and nothing
// expands them. The indexes are held at 16 bits each when they fit (an IBX's
// table holds ~5,600 locations in the large profile), at 32 otherwise.

// LocationTable is an append-only table of distinct location ids, shared by
// the [LocationList]s made from it (typically one table per IBX). It is safe
// for concurrent use: entries are only ever appended, and an entry never
// changes once added, so a list keeps reading the entries below the length
// the table had when the list was made without locking.
type LocationTable struct {
	mu    sync.Mutex
	ids   []LocationID
	index map[LocationID]int32 // finds entries for Add; nil until needed
}

// NewLocationTable returns an empty table.
func NewLocationTable() *LocationTable { return &LocationTable{} }

// Add returns the index of id in t, appending it if t does not hold it yet.
func (t *LocationTable) Add(id LocationID) int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.index == nil {
		t.index = make(map[LocationID]int32, len(t.ids))
		for i, id := range t.ids {
			t.index[id] = int32(i)
		}
	}
	if i, ok := t.index[id]; ok {
		return i
	}
	i := int32(len(t.ids))
	t.ids = append(t.ids, id)
	t.index[id] = i
	return i
}

// Done releases what Add needs to find entries (a map as large as the
// table), for a writer that is done adding for a while: the table's lists
// are kept as long as the structure, the map need not be. A later Add
// rebuilds it.
func (t *LocationTable) Done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.index = nil
}

// At returns entry i of t (an index Add returned).
func (t *LocationTable) At(i int32) LocationID {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ids[i]
}

// Len returns the number of distinct ids in t.
func (t *LocationTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ids)
}

// List returns the list of t's entries idx, in that order; each must be an
// index [LocationTable.Add] returned. The list keeps idx: the caller must
// not modify it afterwards.
func (t *LocationTable) List(idx []int32) LocationList {
	if len(idx) == 0 {
		return LocationList{}
	}
	return LocationList{table: t, ids: t.entries(), idx: newEntries(idx)}
}

// entries returns the table's entries as they are now; they never change.
func (t *LocationTable) entries() []LocationID {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ids[:len(t.ids):len(t.ids)]
}

// LocationList is an immutable list of location ids (such as the locations
// an asset serves), held as indexes into a [LocationTable]. The zero value
// is the empty list. Lists are values: copying one copies three words, never
// the entries.
type LocationList struct {
	table *LocationTable
	ids   []LocationID // the table's entries when the list was made
	idx   entries
}

// LocationsOf returns a list of ids, in this order, with a table of its own.
// It is for writers that hold plain ids (discovery, feeds, fixtures); a
// writer of many lists of one IBX should share one table.
func LocationsOf(ids ...LocationID) LocationList {
	if len(ids) == 0 {
		return LocationList{}
	}
	t := &LocationTable{}
	idx := make([]int32, len(ids))
	for i, id := range ids {
		idx[i] = t.Add(id)
	}
	t.index = nil // the list is all there will be
	return t.List(idx)
}

// Len returns the number of entries.
func (l LocationList) Len() int { return l.idx.len() }

// At returns entry i.
func (l LocationList) At(i int) LocationID { return l.ids[l.idx.at(i)] }

// Table returns the table l indexes; nil for the empty list.
func (l LocationList) Table() *LocationTable { return l.table }

// Index returns the index of entry i in l's table.
func (l LocationList) Index(i int) int32 { return l.idx.at(i) }

// All yields each entry with its position.
func (l LocationList) All() iter.Seq2[int, LocationID] {
	return func(yield func(int, LocationID) bool) {
		for i := range l.idx.len() {
			if !yield(i, l.ids[l.idx.at(i)]) {
				return
			}
		}
	}
}

// IDs returns the entries as a new slice (40 bytes an entry: for tests and
// small lists, not for reading every asset's links).
func (l LocationList) IDs() []LocationID {
	out := make([]LocationID, l.idx.len())
	for i := range out {
		out[i] = l.ids[l.idx.at(i)]
	}
	return out
}

// Equal reports whether l and m hold the same ids in the same order.
func (l LocationList) Equal(m LocationList) bool {
	if l.idx.len() != m.idx.len() {
		return false
	}
	if l.table == m.table { // distinct entries: equal ids are equal indexes
		return l.idx.equal(m.idx)
	}
	for i := range l.idx.len() {
		if l.ids[l.idx.at(i)] != m.ids[m.idx.at(i)] {
			return false
		}
	}
	return true
}

// Latest returns l reading its table's entries as they are now. Lists made
// while the table grew hold the entries of the moment (the older arrays the
// table outgrew); a writer done adding can re-take its lists with Latest so
// that only the table's current array stays alive.
func (l LocationList) Latest() LocationList {
	if l.table == nil {
		return l
	}
	l.ids = l.table.entries()
	return l
}

// Without returns l without the entries drop reports, and without repeated
// entries (the first is kept). It returns l itself, sharing its indexes,
// when nothing is left out.
func (l LocationList) Without(drop func(id LocationID) bool) LocationList {
	seen := make([]uint64, (len(l.ids)+63)/64) // entries are distinct: repeated ids are repeated indexes
	var out []int32
	n := l.idx.len()
	for i := range n {
		j := l.idx.at(i)
		dup := seen[j/64]&(1<<(j%64)) != 0
		seen[j/64] |= 1 << (j % 64)
		if !dup && !drop(l.ids[j]) {
			if out != nil {
				out = append(out, j)
			}
			continue
		}
		if out == nil {
			out = make([]int32, i, n)
			for k := range i {
				out[k] = l.idx.at(k)
			}
		}
	}
	if out == nil {
		return l
	}
	if len(out) == 0 {
		return LocationList{}
	}
	l.idx = newEntries(out)
	return l
}

// entries is a list of indexes (into a LocationTable, or the assets of a
// structure), held at 16 bits each when every one is below 65,536, else at
// 32: the links are the largest relation of the model, and an IBX's table
// of locations, or a footprint's assets, rarely holds more.
type entries struct {
	narrow []uint16
	wide   []int32 // when not narrow
}

// newEntries returns idx as entries; it keeps idx when an index needs 32 bits.
func newEntries(idx []int32) entries {
	for _, e := range idx {
		if e < 0 || e > math.MaxUint16 {
			return entries{wide: idx}
		}
	}
	n := make([]uint16, len(idx))
	for i, e := range idx {
		n[i] = uint16(e)
	}
	return entries{narrow: n}
}

// makeEntries returns n zero entries that can each hold an index below limit.
func makeEntries(n, limit int) entries {
	if limit <= math.MaxUint16+1 {
		return entries{narrow: make([]uint16, n)}
	}
	return entries{wide: make([]int32, n)}
}

func (x entries) len() int { return len(x.narrow) + len(x.wide) }

func (x entries) at(i int) int32 {
	if x.wide != nil {
		return x.wide[i]
	}
	return int32(x.narrow[i])
}

// set sets entry i; v must fit (see makeEntries).
func (x entries) set(i int, v int32) {
	if x.wide != nil {
		x.wide[i] = v
		return
	}
	x.narrow[i] = uint16(v)
}

// slice returns entries [from, to).
func (x entries) slice(from, to int) entries {
	if x.wide != nil {
		return entries{wide: x.wide[from:to:to]}
	}
	return entries{narrow: x.narrow[from:to:to]}
}

func (x entries) equal(y entries) bool {
	switch {
	case x.len() != y.len():
		return false
	case x.wide == nil && y.wide == nil:
		return slices.Equal(x.narrow, y.narrow)
	case x.wide != nil && y.wide != nil:
		return slices.Equal(x.wide, y.wide)
	}
	for i := range x.len() {
		if x.at(i) != y.at(i) {
			return false
		}
	}
	return true
}
