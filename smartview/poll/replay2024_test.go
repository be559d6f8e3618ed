package poll

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

// replay2024 answers the 2024 catalog's paths with the 2024 descriptions' own examples
// (smartview/testdata/2024), each for the IBX the example names, and empty answers elsewhere; the
// documented paths, the alarms list included, answer 404. The examples are no consistent
// footprint (the location hierarchy is SV5's with XY3 zones, the power hierarchy XY1's, the
// assets CH1's, the power list ABC's): the test shows what each becomes.
func replay2024(t *testing.T) *httptest.Server {
	t.Helper()
	file := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "2024", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const ok = `"status":{"type":"INFO","statuscode":"1000","msg":"OK"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/v1/token" {
			w.Write([]byte(`{"access_token":"replay-token","token_timeout":"3600","token_type":"Bearer"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer replay-token" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var body struct {
			IBX       string `json:"ibx"`
			LevelType string `json:"levelType"`
		}
		if r.Method == http.MethodPost {
			raw, _ := io.ReadAll(r.Body)
			json.Unmarshal(raw, &body)
		}
		q := r.URL.Query()
		ibx := q.Get("ibx") + body.IBX
		answer := func(cond bool, name, otherwise string) {
			if cond {
				w.Write(file(name))
			} else {
				w.Write([]byte(otherwise))
			}
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /smartview/v1/hierarchy/location":
			answer(ibx == "SV5", "hierarchy_location.json", "[]")
		case "GET /smartview/v1/hierarchy/power":
			answer(ibx == "XY1", "hierarchy_power.json", "[]")
		case "GET /smartview/v1/asset/list":
			answer(ibx == "CH1" && q.Get("classification") == "Mechanical", "asset_list.json",
				`{"payLoad":{"classification":"`+q.Get("classification")+`","categories":[]},`+ok+`}`)
		case "POST /smartview/v1/asset/details":
			answer(ibx == "CH1", "asset_details_post.json", `{"payLoad":{"totalCount":0,"assetDetails":[]},`+ok+`}`)
		case "GET /smartview/v1/asset/tagpoint/affected-assets":
			answer(ibx == "CH1", "affected_assets.json", `{"payLoad":{"cages":[]},`+ok+`}`)
		case "POST /power/v1/current":
			answer(ibx == "ABC" && body.LevelType == "IBX", "power_current_post.json", `{"payLoad":{"data":[]},`+ok+`}`)
		case "GET /environment/v1/current":
			answer(ibx == "CH1", "environment_current.json", `{"payLoad":{},`+ok+`}`)
		case "GET /environment/v1/listCurrent":
			answer(ibx == "CH1" && q.Get("levelType") == "SENSOR", "environment_list.json", `{"payLoad":{"totalCount":0,"data":[]},`+ok+`}`)
		case "GET /smartview/v1/alerts/getAlerts":
			answer(ibx == "CH1" && q.Get("pageNum") == "1", "alerts.json", `{"payLoad":[{"alerts":[],"totalCount":0}],`+ok+`}`)
		case "GET /smartview/v1/alerts/getAlertActivityLog":
			answer(ibx == "CH1" && q.Get("pageNum") == "1", "alert_activity_log.json", `{"payLoad":[{"alerts":[],"totalCount":0}],`+ok+`}`)
		default:
			http.Error(w, `{"code":"404","message":"Not Found - No message available"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestLiveModeFrom2024Payloads points the real client, with catalog "2024", at a server
// answering the 2024 descriptions' own examples, and checks what one cycle makes of them: the
// gateway is ready without an alarms list, and each example lands in the model.
func TestLiveModeFrom2024Payloads(t *testing.T) {
	srv := replay2024(t)
	ibxs := []string{"SV5", "XY1", "CH1", "ABC"}
	cfg := smartview.Config{BaseURL: srv.URL, ClientID: "replay", ClientSecret: "replay-secret", AccountNo: "1", IBXs: ibxs,
		MaxAttempts: 1, RateLimit: -1, Catalog: smartview.Catalog2024}
	client, err := smartview.New(cfg, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := model.NewStore(model.Options{AlarmRetention: 200000 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The examples' alerts are from 2019: keep them.
	pcfg := Config{AlarmRetention: 200000 * time.Hour, SkipAffectedAssets: true}
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(pcfg, client, store, ibxs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Cycle(context.Background(), true)
	if res.Failed != 0 || !res.StructureOK {
		t.Fatalf("cycle: %+v", res)
	}
	snap := store.Snapshot()
	if snap.Health().LastSync.IsZero() {
		t.Fatal("not ready: the alarms list the 2024 catalog lacks must not hold it up")
	}
	st := snap.Structure()
	loc := func(id model.LocationID) *model.Location {
		t.Helper()
		i, ok := st.LocationIndex(id)
		if !ok {
			t.Fatalf("%v missing", id)
		}
		return st.Location(i)
	}
	// Location hierarchy: levelType "ibx" at the top, "ZONE", "CAGE" below.
	if c := loc(model.LocationID{IBX: "SV5", Level: model.LevelCage, Name: "XY3:03:021720"}); c.Number != "495" || c.Parent.Name != "XY3:1:03:LocoArea:1" {
		t.Errorf("SV5 cage = %+v", c)
	}
	// Power hierarchy: a redundant circuit by its label.
	if c := loc(model.LocationID{IBX: "XY1", Level: model.LevelCircuit, Name: "XYZA3693"}); c.Label != "208V 20A 1Ph Red (3693)" || c.Role != "redundant" {
		t.Errorf("XY1 circuit = %+v", c)
	}
	// Power list: levelType "ibx" in lower case.
	li, _ := st.LocationIndex(model.IBXLocation("ABC"))
	if pw := snap.Power(li); pw.KVA.Num != 54.402 || pw.KW.IsNum || pw.KW.String() != "NA" {
		t.Errorf("ABC power = %+v", pw.Power)
	}
	// Asset list: the asset's alarm status, the 2024 catalog's alarm state besides the feed.
	ai, ok := st.AssetIndex("CH1.Lead Chilled Water Manager")
	if !ok {
		t.Fatal("CH1.Lead Chilled Water Manager missing")
	}
	if s := snap.Asset(ai); s.AlarmStatus != "NOT OK" || s.AlarmTriggered.IsZero() {
		t.Errorf("asset state = %+v", s)
	}
	if n := len(snap.Alarms()); n != 0 {
		t.Errorf("%d alarms without an alarms list", n)
	}
	// Alerts: the occurrence of the activity log (acknowledged), and the definition's last
	// firing, which no occurrence matches (another trigger time): two alerts.
	alerts := map[string]*model.Alert{}
	for _, a := range snap.Alerts() {
		alerts[a.ID] = a
	}
	if a := alerts["15476966877480.828"]; a == nil || a.IBX != "CH1" || !a.Acknowledged || a.Triggered.UnixMilli() != 1547007734678 ||
		a.AcknowledgedAt.UnixMilli() != 1547008897864 || a.Threshold != "12" {
		t.Errorf("activity log alert = %+v", a)
	}
	if a := alerts["15476966877480.828@1547696687748"]; a == nil || a.Name != "Cage Draw kVA to Contractual kVA% Exceeds" || a.Unit != "%" {
		t.Errorf("definition alert = %+v", a)
	}
	if len(alerts) != 2 {
		t.Errorf("%d alerts, want 2: %v", len(alerts), alerts)
	}
}
