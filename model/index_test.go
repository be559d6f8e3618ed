package model_test

import (
	"fmt"
	"testing"

	. "github.com/svgateway/svgateway/model"
)

// TestStructureLookups checks the structure's indexes by id: every
// location, asset and tag is found at its own index, ids that are not there
// are not found (other IBX, other level, near names), and an empty
// structure finds nothing.
func TestStructureLookups(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	empty := s.Snapshot().Structure()
	if _, ok := empty.LocationIndex(IBXLocation("IB00")); ok {
		t.Error("empty structure found a location")
	}
	if _, ok := empty.TagIndex("x"); ok {
		t.Error("empty structure found a tag")
	}
	parts := map[string]IBXStructure{}
	for i := range 3 {
		ibx := fmt.Sprintf("IB%02d", i)
		parts[ibx] = footprint(ibx, 5, 4, 3, 6, 4)
	}
	mustUpdate(t, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
	st := s.Snapshot().Structure()
	for i, l := range st.Locations() {
		if j, ok := st.LocationIndex(l.ID); !ok || j != i {
			t.Fatalf("LocationIndex(%s) = %d, %v; want %d", l.ID, j, ok, i)
		}
		for _, miss := range []LocationID{{IBX: "IB99", Level: l.ID.Level, Name: l.ID.Name},
			{IBX: l.ID.IBX, Level: l.ID.Level + 1, Name: l.ID.Name}, {IBX: l.ID.IBX, Level: l.ID.Level, Name: l.ID.Name + "x"}} {
			if j, ok := st.LocationIndex(miss); ok && st.Location(j).ID != miss {
				t.Fatalf("LocationIndex(%s) found %s", miss, st.Location(j).ID)
			}
		}
	}
	for i, a := range st.Assets() {
		if j, ok := st.AssetIndex(a.ID); !ok || j != i {
			t.Fatalf("AssetIndex(%s) = %d, %v; want %d", a.ID, j, ok, i)
		}
		if _, ok := st.AssetIndex(a.ID + "x"); ok {
			t.Fatalf("AssetIndex(%sx) found", a.ID)
		}
	}
	for i, tg := range st.Tags() {
		if j, ok := st.TagIndex(tg.ID); !ok || j != i {
			t.Fatalf("TagIndex(%s) = %d, %v; want %d", tg.ID, j, ok, i)
		}
		if _, ok := st.TagIndex(tg.ID + "x"); ok {
			t.Fatalf("TagIndex(%sx) found", tg.ID)
		}
	}
	if len(st.Locations()) < 100 || len(st.Tags()) < 50 {
		t.Fatalf("footprint too small to test the index: %d locations, %d tags", len(st.Locations()), len(st.Tags()))
	}
}

// BenchmarkStructureLookups looks up every location and tag of a 20-IBX
// structure (88,000 locations, 20,000 tags) by id, as a values cycle does
// for each reading it applies. Reported per lookup.
func BenchmarkStructureLookups(b *testing.B) {
	c := newClock()
	s := newTestStore(b, c, Options{})
	parts := map[string]IBXStructure{}
	for i := range 20 {
		ibx := fmt.Sprintf("IB%02d", i)
		parts[ibx] = footprint(ibx, 100, 10, 4, 100, 10)
	}
	mustUpdate(b, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
	st := s.Snapshot().Structure()
	var locs []LocationID
	for _, l := range st.Locations() {
		locs = append(locs, l.ID)
	}
	var tags []string
	for _, tg := range st.Tags() {
		tags = append(tags, tg.ID)
	}
	b.ResetTimer()
	n := 0
	for range b.N {
		for _, id := range locs {
			if _, ok := st.LocationIndex(id); !ok {
				b.Fatal(id)
			}
		}
		for _, id := range tags {
			if _, ok := st.TagIndex(id); !ok {
				b.Fatal(id)
			}
		}
		n += len(locs) + len(tags)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/lookup")
}
