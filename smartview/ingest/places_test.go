package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

func joined(ids []model.LocationID) string {
	var s []string
	for _, id := range ids {
		s = append(s, id.String())
	}
	return strings.Join(s, " > ")
}

// TestPlaces: what a reading names, outermost first, for the model to
// discover; or why it names no location.
func TestPlaces(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		env   bool
		chain string
		why   model.Unplaced
	}{
		{"documented zone reading", `{"ibx":"CH1","zone":"CH1:1:05:ColoArea:2","cage":"ALL","cabinet":"ALL","sensor":"ALL"}`, true, "CH1/ZONE/CH1:1:05:ColoArea:2", 0},
		{"documented sensor event", `{"ibx":"CH1","zone":"CH1:1:05:ColoArea:2","cage":"CH1:05:000550","cabinet":"ALL","sensor":"CH1.Colo.CH1_05_000550_0105"}`, true,
			"CH1/ZONE/CH1:1:05:ColoArea:2 > CH1/CAGE/CH1:05:000550 > CH1/SENSOR/CH1.Colo.CH1_05_000550_0105", 0},
		{"cabinet reading", `{"ibx":"CH1","zone":"Z","cage":"C","cabinet":"C:1","sensor":"ALL"}`, true, "CH1/ZONE/Z > CH1/CAGE/C > CH1/CABINET/C:1", 0},
		{"IBX reading", `{"ibx":"CH1","zone":"ALL"}`, true, "CH1/IBX/CH1", 0},
		{"environment without IBX", `{"zone":"Z"}`, true, "", model.UnplacedNoIBX},
		{"feed circuit power with its cage and cabinet", `{"ibx":"SV4","levelType":"circuit","levelValue":"20853717","cage":"SV4:01:000120","cabinet":"SV4:01:000120:0101"}`, false,
			"SV4/CAGE/SV4:01:000120 > SV4/CABINET/SV4:01:000120:0101 > SV4/CIRCUIT/20853717", 0},
		{"REST cage power", `{"ibx":"SV4","levelType":"CAGE","levelValue":"SV4:01:000120"}`, false, "SV4/CAGE/SV4:01:000120", 0},
		{"power without IBX", `{"levelType":"CAGE","levelValue":"X"}`, false, "", model.UnplacedNoIBX},
		{"power without level value", `{"ibx":"SV4","levelType":"CAGE"}`, false, "", model.UnplacedNoName},
		{"power at a zone", `{"ibx":"SV4","levelType":"ZONE","levelValue":"Z"}`, false, "", model.UnplacedNoLevel},
		{"power without level type", `{"ibx":"SV4","levelValue":"Z"}`, false, "", model.UnplacedNoLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var chain []model.LocationID
			var why model.Unplaced
			if tt.env {
				var e smartview.Environment
				if err := json.Unmarshal([]byte(tt.json), &e); err != nil {
					t.Fatal(err)
				}
				chain, why = EnvironmentPlaces(&e)
			} else {
				var p smartview.Power
				if err := json.Unmarshal([]byte(tt.json), &p); err != nil {
					t.Fatal(err)
				}
				chain, why = PowerPlaces(&p)
			}
			if got := joined(chain); got != tt.chain || why != tt.why {
				t.Errorf("got %q (%v), want %q (%v)", got, why, tt.chain, tt.why)
			}
		})
	}
}

// TestAffectedNesting: the documented affected-assets answer of
// CH1.PDU-1-2A names cage CH1:05:BCM000, which no hierarchy lists; its
// cabinet and circuits keep where the answer nests them, and Structure adds
// them as discovered by the link.
func TestAffectedNesting(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "affected_assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		PayLoad smartview.AffectedLocations `json:"payLoad"`
	}
	if err := json.Unmarshal(bytes.ReplaceAll(raw, []byte("\u00a0"), []byte(" ")), &env); err != nil {
		t.Fatal(err)
	}
	parents, table := map[int32]int32{}, model.NewLocationTable()
	ids := Affected("CH1", &env.PayLoad, table, parents)
	if ids.Len() != 8 {
		t.Fatalf("ids = %q", joined(ids.IDs()))
	}
	cage := model.LocationID{IBX: "CH1", Level: model.LevelCage, Name: "CH1:05:BCM000"}
	cab := model.LocationID{IBX: "CH1", Level: model.LevelCabinet, Name: "CH1:05:BCM000:9999"}
	circuit := model.LocationID{IBX: "CH1", Level: model.LevelCircuit, Name: "20626057"}
	links := Links{Table: table, ByAsset: map[string]model.LocationList{"CH1.PDU-1-2A": ids}, Parents: parents}
	nested := map[model.LocationID]model.LocationID{}
	for j, id := range ids.All() {
		nested[id] = links.Parent(ids, j)
	}
	if nested[cab] != cage || nested[circuit] != cab || !nested[cage].IsZero() {
		t.Errorf("parents: cabinet %v, circuit %v, cage %v", nested[cab], nested[circuit], nested[cage])
	}

	st := Structure(&IBXSources{IBX: "CH1",
		Lists: []*smartview.AssetList{{Classification: "Electrical", Categories: []smartview.AssetCategory{{Name: "Power",
			Templates: []smartview.AssetTemplate{{ID: "PDU", Assets: []smartview.AssetSummary{{AssetID: "CH1.PDU-1-2A"}}}}}}}},
		Links: links})
	got := map[model.LocationID]model.Location{}
	for _, l := range st.Locations {
		got[l.ID] = l
	}
	for id, parent := range map[model.LocationID]model.LocationID{cage: {}, cab: cage, circuit: cab} {
		if l, ok := got[id]; !ok || l.Parent != parent || l.Discovered != model.OriginLink {
			t.Errorf("%s = %+v, want discovered by the link under %v", id, l, parent)
		}
	}
	if a := st.Assets[0]; !a.Affects.Equal(ids) {
		t.Errorf("affects = %v, want %v", a.Affects.IDs(), ids.IDs())
	}
}

// TestAffectedSharedTable: the lists Affected returns are held as long as
// the model keeps the structure (they become Asset.Affects), so the assets of
// an IBX share one table of the locations and each list is an index a
// location; parents or not, the locations are the same.
func TestAffectedSharedTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "affected_assets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		PayLoad smartview.AffectedLocations `json:"payLoad"`
	}
	if err := json.Unmarshal(bytes.ReplaceAll(raw, []byte("\u00a0"), []byte(" ")), &env); err != nil {
		t.Fatal(err)
	}
	table := model.NewLocationTable()
	with := Affected("CH1", &env.PayLoad, table, map[int32]int32{})
	n := table.Len()
	without := Affected("CH1", &env.PayLoad, table, nil)
	if with.Len() == 0 || !with.Equal(without) || !with.Equal(Affected("CH1", &env.PayLoad, model.NewLocationTable(), nil)) {
		t.Fatalf("with parents %q, without %q", joined(with.IDs()), joined(without.IDs()))
	}
	if table.Len() != n || n != with.Len() {
		t.Errorf("table holds %d then %d entries for a list of %d distinct locations read twice", n, table.Len(), with.Len())
	}
	if l := Affected("CH1", nil, table, nil); l.Len() != 0 {
		t.Errorf("no answer gives %v", l.IDs())
	}
}

// TestLinkKeepsBase: Structure adds the links to the structure unlinked
// builds with link, which must leave that as it was: a link to a location the
// hierarchies lack adds it to the result only.
func TestLinkKeepsBase(t *testing.T) {
	cage := model.LocationID{IBX: "CH1", Level: model.LevelCage, Name: "CH1:05:BCM000"}
	circuit := model.LocationID{IBX: "CH1", Level: model.LevelCircuit, Name: "20626057"}
	src := &IBXSources{IBX: "CH1",
		Location: []smartview.HierarchyNode{{LevelType: "CAGE", LevelValue: "1", Label: cage.Name}},
		Lists: []*smartview.AssetList{{Classification: "Electrical", Categories: []smartview.AssetCategory{{Name: "Power",
			Templates: []smartview.AssetTemplate{{ID: "PDU", Assets: []smartview.AssetSummary{{AssetID: "CH1.PDU-1"}, {AssetID: "CH1.PDU-2"}}}}}}}}}
	table := model.NewLocationTable()
	ci, ri := table.Add(cage), table.Add(circuit)
	base := unlinked(src)
	if len(base.Locations) != 2 || len(base.Assets) != 2 || base.Assets[0].Affects.Len() != 0 {
		t.Fatalf("unlinked: %+v", base)
	}
	for _, tt := range []struct {
		name     string
		links    Links
		affects  [][]model.LocationID
		discover int // locations added by the links
	}{
		{"no links", Links{}, [][]model.LocationID{{}, {}}, 0},
		{"known cage", Links{ByAsset: map[string]model.LocationList{"CH1.PDU-1": model.LocationsOf(cage)}}, [][]model.LocationID{{cage}, {}}, 0},
		{"unknown circuit, twice", Links{Table: table, ByAsset: map[string]model.LocationList{"CH1.PDU-1": table.List([]int32{ci, ri}), "CH1.PDU-2": table.List([]int32{ri})},
			Parents: map[int32]int32{ri: ci}}, [][]model.LocationID{{cage, circuit}, {circuit}}, 1},
	} {
		got := link(base, tt.links)
		for i, a := range got.Assets {
			if !slices.Equal(a.Affects.IDs(), tt.affects[i]) {
				t.Errorf("%s: %s affects %v, want %v", tt.name, a.ID, a.Affects.IDs(), tt.affects[i])
			}
		}
		if n := len(got.Locations) - len(base.Locations); n != tt.discover {
			t.Errorf("%s: %d locations added, want %d", tt.name, n, tt.discover)
		}
		if tt.discover > 0 {
			if l := got.Locations[len(got.Locations)-1]; l.ID != circuit || l.Parent != cage || l.Discovered != model.OriginLink {
				t.Errorf("%s: added %+v, want %v discovered by the link under %v", tt.name, l, circuit, cage)
			}
		}
		if len(base.Locations) != 2 || base.Assets[0].Affects.Len() != 0 || base.Assets[1].Affects.Len() != 0 {
			t.Errorf("%s: Link modified its base: %+v", tt.name, base)
		}
	}
}

// TestRepeatedTextsKeptOnce: the texts that repeat across the assets and
// tags of an IBX (display names, units, makes, time zones), each decoded
// from its own answer, are kept once; and the alarm status of a tag reading
// or an asset is upstream's word held once, not the decoded copy.
func TestRepeatedTextsKeptOnce(t *testing.T) {
	fresh := func(s string) string { return strings.Clone(s) } // as decoded: memory of its own
	details := map[string]*smartview.AssetDetails{}
	for _, id := range []string{"CH1.PDU-1", "CH1.PDU-2"} {
		details[id] = &smartview.AssetDetails{AssetID: id, AssetType: fresh("PDU"), ManufacturerName: fresh("Acme"),
			UserPrefTimeZone: fresh("America/Chicago"), EquipmentSerialNumber: fresh("S-" + id),
			Tags: []smartview.TagPoint{{TagID: id + ":kw", TagDisplayName: fresh("Output kW"), UOM: fresh("kW")}}}
	}
	st := Structure(&IBXSources{IBX: "CH1",
		Lists: []*smartview.AssetList{{Classification: "Electrical", Categories: []smartview.AssetCategory{{Name: "Power",
			Templates: []smartview.AssetTemplate{{ID: "PDU", Assets: []smartview.AssetSummary{{AssetID: "CH1.PDU-1"}, {AssetID: "CH1.PDU-2"}}}}}}}},
		Details: details})
	if len(st.Assets) != 2 || len(st.Tags) != 2 {
		t.Fatalf("structure: %+v", st)
	}
	same := func(what, a, b string) {
		if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
			t.Errorf("%s: %q and %q are kept twice", what, a, b)
		}
	}
	a, b := st.Assets[0], st.Assets[1]
	same("asset type", a.Type, b.Type)
	same("manufacturer", a.Manufacturer, b.Manufacturer)
	same("time zone", a.TimeZone, b.TimeZone)
	same("display name", st.Tags[0].DisplayName, st.Tags[1].DisplayName)
	same("unit", st.Tags[0].Unit, st.Tags[1].Unit)
	if a.Serial == b.Serial || a.Serial != "S-CH1.PDU-1" {
		t.Errorf("serials %q, %q", a.Serial, b.Serial)
	}

	for _, word := range []string{"OK", "NOT OK"} {
		r1, r2 := Tag(&smartview.TagPoint{AlarmStatus: fresh(word)}), Tag(&smartview.TagPoint{AlarmStatus: fresh(word)})
		same("tag alarm status", r1.AlarmStatus, r2.AlarmStatus)
		s1 := AssetState(&smartview.AssetSummary{AlarmStatus: fresh(word)}, time.Time{})
		same("asset alarm status", s1.AlarmStatus, r1.AlarmStatus)
	}
	if r := Tag(&smartview.TagPoint{AlarmStatus: "ALARM"}); r.AlarmStatus != "ALARM" {
		t.Errorf("another alarm status became %q", r.AlarmStatus)
	}
}
