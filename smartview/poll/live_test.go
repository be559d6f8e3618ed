package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

// docServer is a SmartView API that is not the sandbox: it answers with the
// documentation's example payloads, verbatim (smartview/testdata), and with
// empty answers where the documentation has no example. It counts requests
// and can be told to fail an endpoint.
type docServer struct {
	t    *testing.T
	mu   sync.Mutex
	hits map[string]int
	fail map[string]int // path → HTTP status to answer with
}

// testdata reads a documented example. The reference's HTML indents with
// non-breaking spaces, which are not JSON white space and never occur inside
// its strings (see smartview/testdata/README.md): they become spaces.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("\u00a0"), []byte(" "))
}

// payload returns the payLoad of a documented enveloped response.
func payload(t *testing.T, name string) json.RawMessage {
	var env struct {
		PayLoad json.RawMessage `json:"payLoad"`
	}
	if err := json.Unmarshal(testdata(t, name), &env); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return env.PayLoad
}

const okStatus = `"status":{"type":"INFO","statuscode":"1000","msg":"OK"}`

func enveloped(payload string) []byte {
	return []byte(`{"payLoad":` + payload + `,` + okStatus + `}`)
}

func (s *docServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	status := s.fail[r.URL.Path]
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, "unavailable", status)
		return
	}
	if r.URL.Path != "/oauth2/v1/token" && r.Header.Get("Authorization") != "Bearer qwErtY8zyW1abcdefGHI" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	var body struct {
		IBX            string   `json:"ibx"`
		Classification string   `json:"classification"`
		LevelType      string   `json:"levelType"`
		AssetIDs       []string `json:"assetIds"`
		GrantType      string   `json:"grant_type"`
	}
	if r.Method == http.MethodPost {
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &body)
	}
	q := r.URL.Query()
	ibx := q.Get("ibx") + body.IBX
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/oauth2/v1/token":
		w.Write(testdata(s.t, "token_password.json"))
	case "/hierarchy/v1/location":
		if ibx == "SV4" {
			w.Write(testdata(s.t, "hierarchy_location.json"))
		} else {
			w.Write([]byte("[]"))
		}
	case "/hierarchy/v1/power":
		if ibx == "SV4" {
			w.Write(testdata(s.t, "hierarchy_power.json"))
		} else {
			w.Write([]byte("[]"))
		}
	case "/asset/v1/list":
		switch {
		case ibx == "CH1" && q.Get("classification") == "Electrical":
			w.Write(testdata(s.t, "asset_list_electrical.json"))
		case ibx == "CH1" && q.Get("classification") == "Mechanical":
			w.Write(testdata(s.t, "asset_list_mechanical.json"))
		default:
			w.Write(enveloped(fmt.Sprintf(`{"classification":%q,"categories":[]}`, q.Get("classification"))))
		}
	case "/asset/v1/details":
		// Each asking asset answered with its documented details, where the documentation has them.
		documented := map[string]json.RawMessage{
			"CH1.Gen-1": payload(s.t, "asset_details_generator.json"),
			"CH1.FC 2":  payload(s.t, "asset_details.json"),
		}
		var batch struct {
			AssetDetails []json.RawMessage `json:"assetDetails"`
		}
		json.Unmarshal(payload(s.t, "asset_details_batch.json"), &batch)
		for _, d := range batch.AssetDetails {
			var id struct {
				AssetID string `json:"assetId"`
			}
			json.Unmarshal(d, &id)
			if _, ok := documented[id.AssetID]; !ok {
				documented[id.AssetID] = d
			}
		}
		var out []json.RawMessage
		for _, id := range body.AssetIDs {
			if d, ok := documented[id]; ok {
				out = append(out, d)
			}
		}
		list, _ := json.Marshal(out)
		w.Write(enveloped(fmt.Sprintf(`{"totalCount":%d,"assetDetails":%s}`, len(out), list)))
	case "/asset/v1/tagpoint/affected-assets":
		switch q.Get("assetId") {
		case "CH1.ASTS-1-2-A":
			w.Write(testdata(s.t, "affected_assets_asts.json"))
		case "CH1.PDU-1-2A":
			w.Write(testdata(s.t, "affected_assets.json"))
		default:
			w.Write(enveloped(`{"cages":[]}`))
		}
	case "/power/v1/current":
		if ibx == "CH1" && body.LevelType == "IBX" {
			w.Write(testdata(s.t, "power_post.json"))
		} else {
			w.Write(enveloped(`{"data":[]}`))
		}
	case "/environment/v1/current":
		if ibx == "CH1" && q.Get("levelType") == "IBX" && q.Get("levelValue") == "CH1" {
			w.Write(testdata(s.t, "environment_current.json"))
		} else {
			w.Write(enveloped(`{}`))
		}
	case "/environment/v1/listCurrent":
		switch {
		// The reference's listCurrent example asks levelType=IBX and answers the zones.
		case ibx == "CH1" && (q.Get("levelType") == "ZONE" || q.Get("levelType") == "IBX"):
			w.Write(testdata(s.t, "environment_list.json"))
		default:
			w.Write(enveloped(`{"totalCount":0,"data":[]}`))
		}
	case "/alarms/v1/smartview/alarms":
		if q.Get("offset") == "" || q.Get("offset") == "0" {
			w.Write(testdata(s.t, "alarms.json"))
		} else { // the documented totalCount (2389) is more than the example lists
			w.Write([]byte(`{"alarms":[],"groupedAlarms":null,"totalCount":2389}`))
		}
	default:
		http.NotFound(w, r)
	}
}

func newDocServer(t *testing.T) (*docServer, *httptest.Server) {
	s := &docServer{t: t, hits: map[string]int{}, fail: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func newPoller(t *testing.T, baseURL string, ibxs []string) (*Poller, *model.Store) {
	t.Helper()
	cfg := smartview.Config{BaseURL: baseURL, GrantType: "password", ClientID: "ABCDE12345", ClientSecret: "FGHIJ67890",
		UserName: "john.doe@example.com", UserPassword: "jd1@#$", AccountNo: "1", IBXs: ibxs, MaxAttempts: 1, RateLimit: 1000}
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
	doc.mu.Lock()
	doc.fail["/power/v1/current"] = http.StatusServiceUnavailable
	doc.mu.Unlock()
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
	doc.mu.Lock()
	for _, path := range []string{"/power/v1/current", "/environment/v1/current", "/environment/v1/listCurrent", "/asset/v1/list", "/asset/v1/details", "/alarms/v1/smartview/alarms"} {
		doc.fail[path] = http.StatusServiceUnavailable
	}
	doc.mu.Unlock()
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
	doc.mu.Lock()
	clear(doc.hits)
	doc.mu.Unlock()
	res := p.Cycle(context.Background(), false)
	// per IBX: 4 power levels + 4 environment levels + 2 asset lists + 1 alarm page,
	// + 1 details batch per classification that has assets (CH1: 2).
	want := 2*(4+4+2+1) + 2
	if res.Calls != want {
		t.Errorf("values cycle made %d calls, want %d", res.Calls, want)
	}
	doc.mu.Lock()
	defer doc.mu.Unlock()
	if doc.hits["/asset/v1/tagpoint/affected-assets"] != 0 || doc.hits["/hierarchy/v1/location"] != 0 {
		t.Errorf("values cycle read structure: %v", doc.hits)
	}
}
