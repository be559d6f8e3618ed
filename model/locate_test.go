package model

// Why this file: Tx.locate answers a location lookup from the last one (the
// same id, or the location after it) before asking the structure's index;
// its answers must be the index's, in any order of lookups.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLocateAnswersAsTheIndex looks up every location of a two-IBX
// structure, and ids it does not have, in the structure's order, reversed,
// shuffled, in runs of repeats and in order with gaps and strangers between,
// and compares each answer of Tx.locate with Structure.locationIndex's.
func TestLocateAnswersAsTheIndex(t *testing.T) {
	s, err := NewStore(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	parts := map[string]IBXStructure{}
	for _, ibx := range []string{"AA1", "BB2"} {
		var locs []Location
		for c := range 6 {
			cage := LocationID{ibx, LevelCage, fmt.Sprintf("%s:01:%03d", ibx, c)}
			locs = append(locs, Location{ID: cage})
			for k := range 4 {
				cab := LocationID{ibx, LevelCabinet, fmt.Sprintf("%s:%d", cage.Name, k)}
				locs = append(locs, Location{ID: cab, Parent: cage})
				for m := range 2 {
					locs = append(locs, Location{ID: LocationID{ibx, LevelCircuit, fmt.Sprintf("%s%d%02d%d", ibx, c, k, m)}, Parent: cab})
				}
			}
		}
		parts[ibx] = IBXStructure{Locations: locs}
	}
	if _, err := s.Update(func(tx *Tx) error { tx.SetStructure(parts); return nil }); err != nil {
		t.Fatal(err)
	}
	var all []LocationID
	for _, l := range s.Snapshot().Structure().Locations() {
		all = append(all, l.ID)
	}
	strangers := []LocationID{{"AA1", LevelCabinet, "AA1:01:000:9"}, {"CC3", LevelCage, "CC3:01:000"}, {}, {"BB2", LevelCircuit, "AA1000"}}
	rng := rand.New(rand.NewPCG(14, 14))
	orders := map[string][]LocationID{"sorted": all, "reversed": reversed(all)}
	shuffled := slices.Clone(all)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	orders["shuffled"] = shuffled
	var repeats, gaps []LocationID
	for i, id := range all {
		repeats = append(repeats, id, id, id)
		if i%3 != 1 {
			gaps = append(gaps, id)
		}
		if i%5 == 0 {
			gaps = append(gaps, strangers[i%len(strangers)])
		}
	}
	orders["repeats"], orders["gaps"] = repeats, gaps
	for name, order := range orders {
		s.Update(func(tx *Tx) error {
			for n, id := range order {
				i, ok := tx.locate(id)
				wi, wok := tx.structure.locationIndex(id)
				if i != wi || ok != wok {
					t.Fatalf("%s, lookup %d (%s): locate %d %v, the index %d %v", name, n, id, i, ok, wi, wok)
				}
			}
			return nil
		})
	}
}

func reversed(ids []LocationID) []LocationID {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}
