package model_test

import (
	"slices"
	"testing"

	. "github.com/svgateway/svgateway/model"
)

// TestSetStructureLinks checks the change detection of links: an identical
// re-read (new lists, another table) changes nothing; a changed link is a
// structure change.
func TestSetStructureLinks(t *testing.T) {
	s := newTestStore(t, newClock(), Options{})
	cage, cab := LocationID{"SV4", LevelCage, "SV4:01:001150"}, LocationID{"SV4", LevelCabinet, "SV4:01:001150:0101"}
	part := func(links LocationList) map[string]IBXStructure {
		return map[string]IBXStructure{"SV4": {
			Locations: []Location{{ID: cage}, {ID: cab, Parent: cage}},
			Assets:    []Asset{{ID: "SV4.UPS-1", Affects: links}},
		}}
	}
	shared := NewLocationTable()
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(part(shared.List([]int32{shared.Add(cage), shared.Add(cab)})))
		return nil
	})
	gen := s.Snapshot().Structure().Gen()
	for _, tt := range []struct {
		name    string
		links   LocationList
		changed bool
	}{
		{"same table, same links", shared.List([]int32{shared.Add(cage), shared.Add(cab)}), false},
		{"other table, same links", LocationsOf(cage, cab), false},
		{"a link less", LocationsOf(cage), true},
		{"other order", LocationsOf(cab, cage), true},
		{"same again", LocationsOf(cab, cage), false},
	} {
		d := mustUpdate(t, s, func(tx *Tx) error { tx.SetStructure(part(tt.links)); return nil })
		st := s.Snapshot().Structure()
		if changed := st.Gen() != gen; changed != tt.changed || (d != nil && d.StructureChanged) != tt.changed {
			t.Errorf("%s: structure changed = %v (delta %+v), want %v", tt.name, changed, d, tt.changed)
		}
		gen = st.Gen()
		var got []LocationID
		for _, l := range st.Affects(0) {
			got = append(got, st.Location(int(l)).ID)
		}
		if !slices.Equal(got, tt.links.IDs()) {
			t.Errorf("%s: affects %v, want %v", tt.name, got, tt.links.IDs())
		}
	}
}
