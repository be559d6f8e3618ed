package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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

// BenchmarkScrape is one /metrics scrape of the status listener's registry
// (the Go and process collectors as runGateway registers them, the model's
// and the places' collectors) on a footprint of the large profile's size
// (20 IBXs, ~102,000 locations): with the location counts kept per
// structure, and counted again at each scrape as before.
func BenchmarkScrape(b *testing.B) {
	store, err := model.NewStore(model.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Update(func(tx *model.Tx) error {
		tx.SetStructure(modeltest.Footprints(modeltest.Shape{IBXs: 20, Cages: 100, Cabinets: 10, Circuits: 4, Assets: 500, Tags: 10}))
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, recount := range []bool{true, false} {
		name := map[bool]string{true: "count-each-scrape", false: "kept"}[recount]
		b.Run(name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			mc, pc := newModelCollector(store), newPlacesCollector(store)
			reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
				collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
				collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), mc, pc)
			h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				if recount {
					mc.counts.st, pc.counts.st = nil, nil
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
			// CPU per scrape, which a loaded machine distorts less than ns/op.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the test process's utime+stime.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
