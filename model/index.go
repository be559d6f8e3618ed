package model

// A structure's lookups by id (location, asset, tag) are hash indexes that
// store no keys: a Go map of the large profile's 111,693 locations held
// each 40-byte LocationID a second time (7.5 MB, and 3 MB for the tags'
// ids), while the ids are already in the structure's sorted slices.

import (
	"hash/maphash"
	"math/bits"
)

// idIndex finds an entry of a slice by its key. It holds only the slice
// positions (1 + index, 0 for an empty slot), in an open-addressing table at
// most half full: 4 to 8 bytes an entry. The key of a slot is read back from
// the slice to compare, so the index is valid only for the slice it was
// built over, which a Structure never changes.
type idIndex struct {
	slots []int32
	shift uint8 // 64 - log2(len(slots)): the hash's top bits pick the home slot
}

var indexSeed = maphash.MakeSeed()

func hashString(s string) uint64 { return maphash.String(indexSeed, s) }

func hashLocationID(id LocationID) uint64 {
	// Names repeat across IBXs and levels ("Z1" in every IBX): the IBX and
	// the level are mixed in.
	return hashString(id.Name) ^ bits.RotateLeft64(hashString(id.IBX), 17) ^ uint64(id.Level)*0x9e3779b97f4a7c15
}

// newIDIndex indexes n entries: hash(i) is entry i's hash, same(i, j)
// whether entries i and j have the same key. Where keys repeat, the first
// entry wins.
func newIDIndex(n int, hash func(i int32) uint64, same func(i, j int32) bool) idIndex {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	x := idIndex{slots: make([]int32, size), shift: uint8(64 - bits.TrailingZeros(uint(size)))}
	mask := uint64(size - 1)
	for i := range int32(n) {
		for p := hash(i) >> x.shift; ; p = (p + 1) & mask {
			s := x.slots[p]
			if s == 0 {
				x.slots[p] = i + 1
				break
			}
			if same(s-1, i) {
				break // a repeated key: the first entry stays
			}
		}
	}
	return x
}

// find returns the index of the entry whose key hashes to h and for which
// is says true.
func (x idIndex) find(h uint64, is func(i int32) bool) (int32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for p := h >> x.shift; ; p = (p + 1) & mask {
		s := x.slots[p]
		if s == 0 {
			return 0, false
		}
		if is(s - 1) {
			return s - 1, true
		}
	}
}
