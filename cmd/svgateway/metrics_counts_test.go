package main

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// TestStructureCountsMatchEveryScrapeCount: the location gauges a scrape
// exports from the counts kept per structure are the ones counting every
// location at each scrape gave (a map per IBX, as the collectors did), for
// the first structure, after locations are discovered, and after the
// structure changes again (the kept counts must follow).
func TestStructureCountsMatchEveryScrapeCount(t *testing.T) {
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newModelCollector(store), newPlacesCollector(store))

	// want counts as the collectors did before the counts were kept.
	want := func() map[string]float64 {
		st := store.Snapshot().Structure()
		out := map[string]float64{}
		for _, ibx := range st.IBXs() {
			from, to := st.IBXLocations(ibx)
			byLevel, byOrigin := map[model.Level]int{}, map[model.Origin]int{}
			for i := from; i < to; i++ {
				byLevel[st.Location(i).ID.Level]++
				byOrigin[st.Location(i).Discovered]++
			}
			for l := model.LevelIBX; l <= model.LevelSensor; l++ {
				out[fmt.Sprintf("svgateway_model_locations{ibx=%s,level=%s}", ibx, l)] = float64(byLevel[l])
			}
			for _, o := range []model.Origin{model.OriginReading, model.OriginLink, model.OriginAlarm} {
				out[fmt.Sprintf("svgateway_model_discovered_locations{ibx=%s,origin=%s}", ibx, o)] = float64(byOrigin[o])
			}
		}
		return out
	}
	got := func() map[string]float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			name := mf.GetName()
			if name != "svgateway_model_locations" && name != "svgateway_model_discovered_locations" {
				continue
			}
			for _, m := range mf.GetMetric() {
				l := m.GetLabel()
				out[fmt.Sprintf("%s{%s=%s,%s=%s}", name, l[0].GetName(), l[0].GetValue(), l[1].GetName(), l[1].GetValue())] = m.GetGauge().GetValue()
			}
		}
		return out
	}
	check := func(step string) {
		t.Helper()
		w, g := want(), got()
		if len(w) == 0 || len(w) != len(g) {
			t.Fatalf("%s: %d series, want %d", step, len(g), len(w))
		}
		for k, v := range w {
			if g[k] != v {
				t.Errorf("%s: %s = %v, want %v", step, k, g[k], v)
			}
		}
	}

	update := func(fn func(tx *model.Tx) error) {
		t.Helper()
		if _, err := store.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *model.Tx) error {
		tx.SetStructure(modeltest.Footprints(modeltest.Shape{IBXs: 2, Cages: 3, Cabinets: 2, Circuits: 2, Assets: 2, Tags: 1, Sensors: true}))
		return nil
	})
	check("first structure")
	check("same structure, counts kept")
	cage := model.LocationID{IBX: modeltest.IBX(0), Level: model.LevelCage, Name: modeltest.IBX(0) + ":01:000000"}
	update(func(tx *model.Tx) error {
		tx.Discover(model.OriginReading, cage, model.LocationID{IBX: cage.IBX, Level: model.LevelCabinet, Name: cage.Name + ":NEW1"})
		tx.Discover(model.OriginLink, cage, model.LocationID{IBX: cage.IBX, Level: model.LevelCabinet, Name: cage.Name + ":NEW2"})
		tx.Discover(model.OriginAlarm, cage, model.LocationID{IBX: cage.IBX, Level: model.LevelCabinet, Name: cage.Name + ":NEW3"},
			model.LocationID{IBX: cage.IBX, Level: model.LevelCircuit, Name: cage.Name + ":NEW3:1"})
		return nil
	})
	if w := want(); w[fmt.Sprintf("svgateway_model_discovered_locations{ibx=%s,origin=alarm}", cage.IBX)] != 2 {
		t.Fatalf("the discovered locations were not placed: %v", w)
	}
	check("discovered locations")
	update(func(tx *model.Tx) error {
		tx.SetStructure(modeltest.Footprints(modeltest.Shape{IBXs: 3, Cages: 2, Cabinets: 3, Circuits: 1, Assets: 1, Tags: 1}))
		return nil
	})
	check("another structure")
}
