package poll

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/docreplay"
)

func newDocServer(t *testing.T) (*docreplay.Server, *httptest.Server) {
	doc, err := docreplay.New(filepath.Join("..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(doc)
	t.Cleanup(srv.Close)
	return doc, srv
}

func newPoller(t *testing.T, baseURL string, ibxs []string) (*Poller, *model.Store) {
	return newPollerCatalog(t, baseURL, ibxs, "")
}

// newPollerCatalog is newPoller with the client's smartview.catalog ("": the default).
func newPollerCatalog(t *testing.T, baseURL string, ibxs []string, catalog string) (*Poller, *model.Store) {
	t.Helper()
	cfg := smartview.Config{BaseURL: baseURL, GrantType: "password", ClientID: docreplay.ClientID, ClientSecret: docreplay.ClientSecret,
		UserName: docreplay.UserName, UserPassword: docreplay.UserPassword, AccountNo: docreplay.AccountNo, IBXs: ibxs, MaxAttempts: 1, RateLimit: 1000,
		Catalog: catalog}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := smartview.New(cfg, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pcfg := Config{}
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(pcfg, client, store, ibxs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, store
}

// TestLiveModeFromDocumentedPayloads points the real client at a server that
// is not the sandbox, answering with the documentation's examples, and
// checks the model one cycle fills from them.
func TestLiveModeFromDocumentedPayloads(t *testing.T) {
	_, srv := newDocServer(t)
	p, store := newPoller(t, srv.URL, []string{"CH1", "SV4", "CH3", "DC5"})
	res := p.Cycle(context.Background(), true)
	if res.Failed != 0 || !res.StructureOK {
		t.Fatalf("cycle: %+v", res)
	}
	snap := store.Snapshot()
	st := snap.Structure()

	// SV4: both documented hierarchies merged.
	loc := func(level model.Level, name string) *model.Location {
		i, ok := st.LocationIndex(model.LocationID{IBX: "SV4", Level: level, Name: name})
		if !ok {
			t.Fatalf("SV4 %v %q missing", level, name)
		}
		return st.Location(i)
	}
	if c := loc(model.LevelCage, "SV4:01:001150"); c.Number != "1852" || c.Parent.Name != "SV4:1:01:ColoA:1" {
		t.Errorf("location-hierarchy cage = %+v", c)
	}
	if c := loc(model.LevelCage, "SV4:01:000120"); c.Number != "1844" || c.Parent.Level != model.LevelIBX {
		t.Errorf("power-hierarchy cage = %+v", c)
	}
	if c := loc(model.LevelCircuit, "20853717"); c.Label != "120V 20A 1Ph Red (3717)" || c.Role != "redundant" || c.Parent.Name != "SV4:01:000120:0101" {
		t.Errorf("circuit = %+v", c)
	}
	if c := loc(model.LevelCircuit, "20853716"); c.Role != "primary" {
		t.Errorf("circuit 20853716 role = %q", c.Role)
	}
	from, to := st.IBXLocations("SV4")
	if n := to - from; n != 1+2+6+10+10 { // IBX, zones, cages, cabinets, circuits
		t.Errorf("SV4 has %d locations, want 29", n)
	}

	// CH1: assets from both lists, tags and values from the details.
	ai, ok := st.AssetIndex("CH1.Gen-1")
	if !ok {
		t.Fatal("CH1.Gen-1 missing")
	}
	if a := st.Asset(ai); a.Manufacturer != "CATERPILLAR" || a.Model != "SR-4B" || a.Serial != "5JW00638" || a.Template != "Generator" || a.Category != "Global" {
		t.Errorf("CH1.Gen-1 = %+v", a)
	}
	if s := snap.Asset(ai); s.AlarmStatus != "OK" || s.ResiliencyStatus != "Resiliency as Designed" || s.LastMaintenance.IsZero() {
		t.Errorf("CH1.Gen-1 state = %+v", s)
	}
	ti, ok := st.TagIndex("CH1.Gen-1:fuelhours")
	if !ok {
		t.Fatal("CH1.Gen-1:fuelhours missing")
	}
	if tg, v := st.Tag(ti), snap.Tag(ti); tg.DisplayName != "Fuel Hours" || tg.Unit != "h" || v.Value.Num != 78.5 || !v.Value.IsNum || v.Quality != model.QualityGood || v.ReadingTime.IsZero() {
		t.Errorf("fuelhours = %+v %+v", tg, v)
	}
	ti, _ = st.TagIndex("CH1.Gen-1:summary")
	if v := snap.Tag(ti); v.Value.IsNum || v.Value.String() != "READY TO START, AUTO" {
		t.Errorf("summary = %+v", v.Value)
	}
	ai, _ = st.AssetIndex("CH1.Lead Chilled Water Manager")
	if s := snap.Asset(ai); !s.AlarmActive || s.AlarmStatus != "NOT OK" {
		t.Errorf("chilled water manager state = %+v (alarmLastClearedTime is Currently Active)", s)
	}
	li, _ := st.LocationIndex(model.IBXLocation("CH1"))
	if pw := snap.Power(li); pw.KVA.Num != 175.951 || pw.ContractualKVA.Num != 373.9 || pw.KW.IsNum || pw.KW.String() != "NA" || pw.ReadingTime.UnixMilli() != 1550506500000 {
		t.Errorf("CH1 power = %+v", pw.Power)
	}
	// The IBX's own environment comes from /environment/v1/current (levelType IBX): the
	// documented 21.0 °C and 35.78 %.
	if env := snap.Environment(li); env.Temperature.Num != 21 || env.Temperature.String() != "21.0" || env.TemperatureUnit != "°C" ||
		env.Humidity.Num != 35.78 || env.HumidityUnit != "%" || env.Quality != model.QualityGood {
		t.Errorf("CH1 environment = %+v", env)
	}

	// Alarms: the documented three; the list is incomplete (totalCount 2389), so nothing is reconciled.
	alarms := snap.Alarms()
	if len(alarms) != 3 {
		t.Fatalf("alarms = %d, want 3", len(alarms))
	}
	byAsset := map[string]*model.Alarm{}
	for _, a := range alarms {
		byAsset[a.AssetID] = a
	}
	if a := byAsset["DC5.UPS-R1"]; a == nil || a.State != model.AlarmAcknowledged || a.Severity != model.SeverityUrgent || a.Triggered.UnixMilli() != 1546510663707 {
		t.Errorf("DC5 alarm = %+v", a)
	}
	if a := byAsset["CH3.STS-B1.A5"]; a == nil || a.State != model.AlarmCleared || a.Cleared.UnixMilli() != 1550509435530 {
		t.Errorf("cleared CH3 alarm = %+v", a)
	}
	if h := snap.Health(); h.Upstream != model.UpstreamOK || h.LastSync.IsZero() {
		t.Errorf("health = %+v", h)
	}
}

func TestFailedCallKeepsValuesAndMarksThemStale(t *testing.T) {
	doc, srv := newDocServer(t)
	p, store := newPoller(t, srv.URL, []string{"CH1"})
	if res := p.Cycle(context.Background(), true); res.Failed != 0 {
		t.Fatalf("first cycle: %+v", res)
	}
	doc.Fail("/power/v1/current", http.StatusServiceUnavailable)
	res := p.Cycle(context.Background(), false)
	if res.Failed == 0 || res.Failed == res.Calls {
		t.Fatalf("second cycle: %+v, want some failed calls", res)
	}
	snap := store.Snapshot()
	li, _ := snap.Structure().LocationIndex(model.IBXLocation("CH1"))
	if pw := snap.Power(li); pw.KVA.Num != 175.951 || pw.Quality != model.QualityStale {
		t.Errorf("power after failure: %v quality %v, want the last value, stale", pw.KVA, pw.Quality)
	}
	ti, _ := snap.Structure().TagIndex("CH1.Gen-1:fuelhours")
	if v := snap.Tag(ti); v.Quality != model.QualityGood {
		t.Errorf("tag quality %v: a power failure must not stale tags", v.Quality)
	}
	if h := snap.Health(); h.Upstream != model.UpstreamDegraded || !strings.Contains(h.UpstreamError, "503") {
		t.Errorf("health = %+v", h)
	}

	// Everything down: upstream down, values kept as last usable.
	for _, path := range []string{"/power/v1/current", "/environment/v1/current", "/environment/v1/listCurrent", "/asset/v1/list", "/asset/v1/details", "/alarms/v1/smartview/alarms"} {
		doc.Fail(path, http.StatusServiceUnavailable)
	}
	if res := p.Cycle(context.Background(), false); res.Failed != res.Calls {
		t.Fatalf("third cycle: %+v", res)
	}
	snap = store.Snapshot()
	if pw := snap.Power(li); pw.KVA.Num != 175.951 || pw.Quality != model.QualityNoComm || snap.Health().Upstream != model.UpstreamDown {
		t.Errorf("all down: power %v quality %v upstream %v", pw.KVA, pw.Quality, snap.Health().Upstream)
	}
}

// TestCallsPerRefreshDoNotGrowWithAssets counts requests of a values cycle.
func TestCallsPerRefreshDoNotGrowWithAssets(t *testing.T) {
	doc, srv := newDocServer(t)
	p, _ := newPoller(t, srv.URL, []string{"CH1", "SV4"})
	p.Cycle(context.Background(), true)
	doc.ResetHits()
	res := p.Cycle(context.Background(), false)
	// per IBX: 4 power levels + 4 environment levels + 2 asset lists + 1 alarm page,
	// + 1 details batch per classification that has assets (CH1: 2).
	want := 2*(4+4+2+1) + 2
	if res.Calls != want {
		t.Errorf("values cycle made %d calls, want %d", res.Calls, want)
	}
	if hits := doc.Hits(); hits["/asset/v1/tagpoint/affected-assets"] != 0 || hits["/hierarchy/v1/location"] != 0 {
		t.Errorf("values cycle read structure: %v", hits)
	}
}
