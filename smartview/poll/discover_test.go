package poll

import (
	"context"
	"slices"
	"testing"

	"github.com/svgateway/svgateway/model"
)

// TestDocumentedIdsWithNoHomeAreKept: the reference's zone readings
// (CH1:1:05:ColoArea:2/3) and affected-asset links (cage CH1:05:BCM000, its
// cabinet and circuits) name locations no hierarchy example lists; they
// become discovered locations of the model, nested as the payloads say,
// with their readings. When a hierarchy later lists one, it takes its place.
func TestDocumentedIdsWithNoHomeAreKept(t *testing.T) {
	doc, srv := newDocServer(t)
	p, store := newPoller(t, srv.URL, []string{"CH1", "SV4"})
	if res := p.Cycle(context.Background(), true); res.Failed != 0 || !res.StructureOK {
		t.Fatalf("cycle: %+v", res)
	}
	if res := p.RefreshLinks(context.Background()); res.Failed != 0 || res.Calls == 0 {
		t.Fatalf("links: %+v", res)
	}
	snap := store.Snapshot()
	st := snap.Structure()
	loc := func(level model.Level, name string) (*model.Location, int) {
		t.Helper()
		i, ok := st.LocationIndex(model.LocationID{IBX: "CH1", Level: level, Name: name})
		if !ok {
			t.Fatalf("CH1 %v %q is not in the model", level, name)
		}
		return st.Location(i), i
	}
	for _, tt := range []struct {
		level        model.Level
		name, parent string
		origin       model.Origin
	}{
		{model.LevelZone, "CH1:1:05:ColoArea:2", "CH1", model.OriginReading},
		{model.LevelZone, "CH1:1:05:ColoArea:3", "CH1", model.OriginReading},
		{model.LevelCage, "CH1:05:BCM000", "CH1", model.OriginLink},
		{model.LevelCabinet, "CH1:05:BCM000:9999", "CH1:05:BCM000", model.OriginLink},
		{model.LevelCircuit, "15137957", "CH1:05:BCM000:9999", model.OriginLink},
		{model.LevelCircuit, "14488436", "CH1:05:BCM000:9999", model.OriginLink},
		{model.LevelCage, "CH1:05:FE00021", "CH1", model.OriginLink},
		{model.LevelCircuit, "20744057", "CH1:05:FE00021:0101", model.OriginLink},
	} {
		if l, _ := loc(tt.level, tt.name); l.Parent.Name != tt.parent || l.Discovered != tt.origin {
			t.Errorf("%s: parent %q origin %v, want %q %v", l.ID, l.Parent.Name, l.Discovered, tt.parent, tt.origin)
		}
	}
	_, zi := loc(model.LevelZone, "CH1:1:05:ColoArea:2")
	if e := snap.Environment(zi); e.Temperature.String() != "21.1" || e.Humidity.String() != "35.50" || e.Quality != model.QualityGood {
		t.Errorf("zone 2 environment = %+v", e)
	}
	_, zi = loc(model.LevelZone, "CH1:1:05:ColoArea:3")
	if e := snap.Environment(zi); e.Temperature.String() != "20.7" {
		t.Errorf("zone 3 environment = %+v", e)
	}
	_, ci := loc(model.LevelCage, "CH1:05:BCM000")
	var by []string
	for _, a := range st.AffectedBy(ci).All() {
		by = append(by, st.Asset(int(a)).ID)
	}
	if !slices.Equal(by, []string{"CH1.ASTS-1-2-A", "CH1.PDU-1-2A"}) {
		t.Errorf("cage CH1:05:BCM000 affected by %q", by)
	}
	// SV4's hierarchies name everything SV4's payloads do: nothing discovered there.
	from, to := st.IBXLocations("SV4")
	for i := from; i < to; i++ {
		if l := st.Location(i); l.Discovered != model.OriginHierarchy {
			t.Errorf("SV4 location %s discovered (%v)", l.ID, l.Discovered)
		}
	}

	// A hierarchy now lists zone 2 with a cage in it: the zone becomes the
	// hierarchy's, keeps its reading; the discovered cage moves under it.
	doc.SetHierarchy("location", "CH1", []byte(`[{"levelType":"IBX","levelValue":"CH1","label":"CH1","children":[
		{"levelType":"ZONE","levelValue":"CH1:1:05:ColoArea:2","label":"CH1:1:05:ColoArea:2","children":[
			{"levelType":"CAGE","levelValue":"2051","label":"CH1:05:BCM000","children":[]}]}]}]`))
	if res := p.Cycle(context.Background(), true); res.Failed != 0 || !res.StructureOK {
		t.Fatalf("second cycle: %+v", res)
	}
	snap = store.Snapshot()
	st = snap.Structure()
	if l, i := loc(model.LevelZone, "CH1:1:05:ColoArea:2"); l.Discovered != model.OriginHierarchy || snap.Environment(i).Temperature.String() != "21.1" {
		t.Errorf("listed zone = %+v, environment %+v", l, snap.Environment(i))
	}
	if l, _ := loc(model.LevelCage, "CH1:05:BCM000"); l.Discovered != model.OriginHierarchy || l.Number != "2051" || l.Parent.Name != "CH1:1:05:ColoArea:2" {
		t.Errorf("listed cage = %+v", l)
	}
	if l, _ := loc(model.LevelCabinet, "CH1:05:BCM000:9999"); l.Discovered != model.OriginLink || l.Parent.Name != "CH1:05:BCM000" {
		t.Errorf("cabinet = %+v", l)
	}
	if l, _ := loc(model.LevelZone, "CH1:1:05:ColoArea:3"); l.Discovered != model.OriginReading {
		t.Errorf("zone 3 = %+v, want still discovered", l)
	}
}
