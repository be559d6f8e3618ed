package model_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

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
		for _, l := range st.Affects(0).All() {
			got = append(got, st.Location(int(l)).ID)
		}
		if !slices.Equal(got, tt.links.IDs()) {
			t.Errorf("%s: affects %v, want %v", tt.name, got, tt.links.IDs())
		}
	}
}

// TestSetLinks: the links pass gives the model only the links; the model
// adds them to the structure it has, which a later SetLinks with the same
// links leaves as it is.
func TestSetLinks(t *testing.T) {
	s := newTestStore(t, newClock(), Options{})
	cage, cab := LocationID{"SV4", LevelCage, "SV4:01:001150"}, LocationID{"SV4", LevelCabinet, "SV4:01:001150:0101"}
	circuit := LocationID{"SV4", LevelCircuit, "404"} // named by a link only
	sensor := LocationID{"SV4", LevelSensor, "T-1"}   // discovered by a reading
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"SV4": {
			Locations: []Location{{ID: cage}, {ID: cab, Parent: cage}},
			Assets:    []Asset{{ID: "SV4.UPS-1", Affects: LocationsOf(cage)}, {ID: "SV4.UPS-2", Affects: LocationsOf(cab)}},
			Tags:      []Tag{{ID: "SV4.UPS-1:load", Asset: "SV4.UPS-1"}},
		}})
		tx.Discover(OriginReading, cab, sensor)
		return nil
	})
	nested := func(l LocationList, i int) LocationID {
		if l.At(i) == circuit {
			return cab
		}
		return LocationID{}
	}
	links := map[string]LocationList{"SV4.UPS-1": LocationsOf(cage, circuit)} // UPS-2: none now
	gen := s.Snapshot().Structure().Gen()
	for _, tt := range []struct {
		name    string
		ibx     string
		changed bool
	}{
		{"new links", "SV4", true},
		{"the same again", "SV4", false},
		{"an IBX the model lacks", "XX1", false},
	} {
		mustUpdate(t, s, func(tx *Tx) error {
			tx.SetLinks(map[string]IBXLinks{tt.ibx: {ByAsset: links, NestedIn: nested}})
			return nil
		})
		st := s.Snapshot().Structure()
		if changed := st.Gen() != gen; changed != tt.changed {
			t.Errorf("%s: structure changed = %v, want %v", tt.name, changed, tt.changed)
		}
		gen = st.Gen()
		affects := func(id string) []LocationID {
			i, _ := st.AssetIndex(id)
			var out []LocationID
			for _, l := range st.Affects(i).All() {
				out = append(out, st.Location(int(l)).ID)
			}
			return out
		}
		if got := affects("SV4.UPS-1"); !slices.Equal(got, []LocationID{cage, circuit}) {
			t.Errorf("%s: UPS-1 affects %v", tt.name, got)
		}
		if got := affects("SV4.UPS-2"); len(got) != 0 {
			t.Errorf("%s: UPS-2 affects %v, want none (no links read for it)", tt.name, got)
		}
		ci, ok := st.LocationIndex(circuit)
		if l := st.Location(ci); !ok || l.Parent != cab || l.Discovered != OriginLink {
			t.Errorf("%s: circuit %+v, want discovered by the link under the cabinet", tt.name, l)
		}
		if si, ok := st.LocationIndex(sensor); !ok || st.Location(si).Discovered != OriginReading {
			t.Errorf("%s: the sensor discovered by a reading is gone or changed", tt.name)
		}
		if len(st.Tags()) != 1 || len(st.Assets()) != 2 {
			t.Errorf("%s: %d tags, %d assets; want the structure's 1 and 2", tt.name, len(st.Tags()), len(st.Assets()))
		}
	}
}

// BenchmarkSetLinks applies the asset links of a 20-IBX structure of the
// large profile's size (100 cages, 1,000 cabinets, 4,000 circuits, 500 assets
// and 5,000 tags an IBX; every circuit and tag holding a reading) as the links
// pass does: every IBX's structure is rebuilt once. Two link sets alternate
// (each asset affects two circuits, shifted by one), so every call is a
// structure change. -benchmem shows what a rebuild allocates: on xlarge, the
// rebuild is the peak of the heap.
func BenchmarkSetLinks(b *testing.B) {
	s := newTestStore(b, newClock(), Options{})
	parts := map[string]IBXStructure{}
	for i := range 20 {
		ibx := fmt.Sprintf("IB%02d", i)
		parts[ibx] = footprint(ibx, 100, 10, 4, 500, 10)
	}
	mustUpdate(b, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
	st := s.Snapshot().Structure()
	mustUpdate(b, s, func(tx *Tx) error { // a reading in every circuit's power cell and every tag
		for _, l := range st.Locations() {
			if l.ID.Level == LevelCircuit {
				if err := tx.SetPower(l.ID, Power{KVA: Number(1.5), Amps: Number(6), ReadingTime: time.Unix(1e9, 0)}, time.Time{}); err != nil {
					return err
				}
			}
		}
		for _, tg := range st.Tags() {
			if err := tx.SetTag(tg.ID, TagReading{Value: Number(2), ReadingTime: time.Unix(1e9, 0)}, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	var sets [2]map[string]IBXLinks
	for k := range sets {
		sets[k] = map[string]IBXLinks{}
		for _, ibx := range st.IBXs() {
			circuits := levelIn(st, ibx, LevelCircuit)
			byAsset := map[string]LocationList{}
			af, at := st.IBXAssets(ibx)
			for j := af; j < at; j++ {
				c := (j + k) % (len(circuits) - 1)
				byAsset[st.Asset(j).ID] = LocationsOf(circuits[c], circuits[c+1])
			}
			sets[k][ibx] = IBXLinks{ByAsset: byAsset}
		}
	}
	b.ResetTimer()
	for i := range b.N {
		mustUpdate(b, s, func(tx *Tx) error { tx.SetLinks(sets[i%2]); return nil })
	}
}
