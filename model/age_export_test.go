package model

// Hooks for the tests of Tx.Age (age_test.go, package model_test).

import "time"

// AgeEveryCell is Tx.Age as it was before the floor: every element of every
// kind is looked at through the writers, and one confirmed before the cutoff
// is marked stale.
func AgeEveryCell(tx *Tx) {
	tx.placePending()
	cutoff := tx.now.Add(-tx.s.opts.StaleAfter)
	n := len(tx.structure.locations)
	scanEveryCell(tx, &tx.power, dirtyPower, n, cutoff, func(c *powerCell) *Freshness { return &c.f })
	scanEveryCell(tx, &tx.env, dirtyEnv, n, cutoff, func(c *envCell) *Freshness { return &c.f })
	scanEveryCell(tx, &tx.tags, dirtyTags, len(tx.structure.tags), cutoff, func(c *tagCell) *Freshness { return &c.f })
	scanEveryCell(tx, &tx.assets, dirtyAssets, len(tx.structure.assets), cutoff, func(c *assetCell) *Freshness { return &c.f })
	tx.pruneAlarms()
}

func scanEveryCell[T any](tx *Tx, w cellWriter[T], kind, n int, cutoff time.Time, fresh func(*T) *Freshness) {
	for i := 0; i < n; i++ {
		f := fresh(w.get(i))
		if f.Confirmed.IsZero() || f.stale || !f.Confirmed.Before(cutoff) {
			continue
		}
		fresh(w.set(i)).stale = true
		tx.dirty[kind].add(i)
	}
}

// FreshnessOf lists every element's freshness of every kind (a zero
// Freshness for an element without a cell).
func FreshnessOf(s *Snapshot) [4][]Freshness {
	var out [4][]Freshness
	n := len(s.structure.locations)
	for i := 0; i < n; i++ {
		var p, e Freshness
		if c := s.power.at(i); c != nil {
			p = c.f
		}
		if c := s.env.at(i); c != nil {
			e = c.f
		}
		out[dirtyPower] = append(out[dirtyPower], p)
		out[dirtyEnv] = append(out[dirtyEnv], e)
	}
	for i := range s.structure.tags {
		out[dirtyTags] = append(out[dirtyTags], s.tags.at(i).f)
	}
	for i := range s.structure.assets {
		out[dirtyAssets] = append(out[dirtyAssets], s.assets.at(i).f)
	}
	return out
}

// AgeFloorsBelow counts the kinds whose floor makes Age scan now.
func AgeFloorsBelow(tx *Tx) int {
	cutoff := tx.now.Add(-tx.s.opts.StaleAfter)
	n := 0
	for k := range tx.floor {
		if tx.floor[k].below(cutoff) {
			n++
		}
	}
	return n
}

// DirtyCount counts the cells the transaction has changed so far.
func DirtyCount(tx *Tx) int {
	n := 0
	for k := range tx.dirty {
		n += len(tx.dirty[k].list)
	}
	return n
}

// TagChunk returns the address of chunk k of the snapshot's tag column.
func TagChunk(s *Snapshot, k int) *[chunkSize]tagCell { return s.tags.chunks[k] }
