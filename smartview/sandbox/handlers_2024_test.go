package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Each catalog switch serves its own paths and 404s the other's; the token endpoints and the
// paths both catalogs share are always served.
func TestCatalogSwitch(t *testing.T) {
	for _, tc := range []struct {
		catalog   string
		served    []string
		notServed []string
	}{
		{CatalogBoth, []string{"/asset/v1/list", "/smartview/v1/asset/list", "/alarms/v1/smartview/alarms", "/power/v1/trending"}, nil},
		{CatalogDocumented, []string{"/asset/v1/list", "/hierarchy/v1/location", "/alarms/v1/smartview/alarms", "/power/v1/current"},
			[]string{"/smartview/v1/asset/list", "/smartview/v1/hierarchy/location", "/power/v1/trending", "/smartview/v1/alerts/getAlerts"}},
		{Catalog2024, []string{"/smartview/v1/asset/list", "/smartview/v1/hierarchy/power", "/power/v1/current", "/environment/v1/trending"},
			[]string{"/asset/v1/list", "/hierarchy/v1/power", "/alarms/v1/smartview/alarms", "/alarm/v1/smartview/alarms"}},
	} {
		t.Run(tc.catalog, func(t *testing.T) {
			h := newHarness(t, Config{Catalog: tc.catalog})
			tok := h.token()
			for _, p := range tc.served {
				if r := h.get(p+"?accountNo=1&ibx=CH1&classification=Electrical", tok); r.status == http.StatusNotFound {
					t.Errorf("%s: 404", p)
				}
			}
			for _, p := range tc.notServed {
				if r := h.get(p+"?accountNo=1&ibx=CH1", tok); r.status != http.StatusNotFound {
					t.Errorf("%s: HTTP %d, want 404", p, r.status)
				}
			}
		})
	}
}

// The fault switches apply to the 2024 paths as to the documented ones.
func TestFaultsOn2024Paths(t *testing.T) {
	h := newHarness(t, Config{Catalog: Catalog2024})
	tok := h.token()
	if err := h.s.SetFaults(Faults{ServerError: 1}); err != nil {
		t.Fatal(err)
	}
	if r := h.get("/smartview/v1/asset/list?accountNo=1&ibx=CH1&classification=Electrical", tok); r.status != http.StatusInternalServerError {
		t.Errorf("HTTP %d with server_error = 1", r.status)
	}
}

func TestLowerCaseHierarchyLevelTypes(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.get("/smartview/v1/hierarchy/power?accountNo=1&ibx=SV4", h.token())
	body := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, `"levelType":"ibx"`) || !strings.Contains(body, `"levelType":"circuit"`) ||
		strings.Contains(body, `"levelType":"CAGE"`) {
		t.Errorf("HTTP %d: %.300s", r.status, body)
	}
}

func TestTrendingAnswers(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	now := h.clock.now().UnixMilli()
	day := (24 * time.Hour).Milliseconds()
	q := func(from, to int64, interval string) string {
		return "&interval=" + interval + "&fromDate=" + strconv.FormatInt(from, 10) + "&toDate=" + strconv.FormatInt(to, 10)
	}
	for _, tc := range []struct {
		name, path, status string // status: the envelope statuscode
		samples            int
	}{
		{"power hour", "/power/v1/trending?accountNo=1&ibx=CH1&levelType=ibx&levelValue=CH1" + q(now-3600_000, now, "15m"), "1000", 4},
		{"future cut", "/power/v1/trending?accountNo=1&ibx=CH1&levelType=cage&levelValue=CH1:05:000550" + q(now-3600_000, now+3600_000, "1h"), "1000", 1},
		{"tag", "/smartview/v1/asset/tagpoint/trending?accountNo=1&ibx=CH1&tagid=CH1.Gen-1:fuelhours" + q(now-day, now, "1h"), "1000", 24},
		{"environment", "/environment/v1/trending?accountNo=1&ibx=CH1&dataPoint=humidity&levelType=IBX&levelValue=CH1" + q(now-day, now, "1d"), "1000", 1},
		{"over a year", "/power/v1/trending?accountNo=1&ibx=CH1&levelType=ibx&levelValue=CH1" + q(now-400*day, now, "1d"), statusInvalidInput, 0},
		{"bad interval", "/power/v1/trending?accountNo=1&ibx=CH1&levelType=ibx&levelValue=CH1" + q(now-day, now, "7m"), statusInvalidInput, 0},
		{"bad data point", "/environment/v1/trending?accountNo=1&ibx=CH1&dataPoint=co2&levelType=IBX&levelValue=CH1" + q(now-day, now, "1h"), statusInvalidInput, 0},
		{"missing tag", "/smartview/v1/asset/tagpoint/trending?accountNo=1&ibx=CH1" + q(now-day, now, "1h"), statusInternalError, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(tc.path, tok)
			obj := r.object(t)
			if got := path(obj, "status", "statuscode"); got != tc.status {
				t.Fatalf("statuscode %v, want %s: %.300s", got, tc.status, r.body)
			}
			if tc.status != "1000" {
				return
			}
			list, _ := path(obj, "payLoad", "data").([]any)
			if list == nil {
				list, _ = path(obj, "payLoad", "series").([]any)
			}
			if len(list) != tc.samples {
				t.Errorf("%d samples, want %d: %.300s", len(list), tc.samples, r.body)
			}
		})
	}
}

func TestAlertsAnswers(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	if _, err := h.s.RaiseAlarm(AlarmSpec{AssetID: "CH1.Gen-1"}); err != nil {
		t.Fatal(err)
	}
	r := h.get("/smartview/v1/alerts/getAlertActivityLog?accountNo=1&ibx=CH1&pageNum=1&limit=1", tok)
	obj := r.object(t)
	if path(obj, "status", "info", "msg") != "OK" || path(obj, "payLoad", 0, "alerts", 0, "asset") != "CH1.Gen-1" ||
		path(obj, "payLoad", 0, "alerts", 0, "alertType", "id") != alarmAlertTypeID {
		t.Errorf("activity log: %.600s", r.body)
	}
	if _, ok := path(obj, "payLoad", 0, "alerts", 0, "conditionalAlert").([]any); !ok {
		t.Errorf("conditionalAlert is not a list: %.600s", r.body)
	}
	r = h.get("/smartview/v1/alerts/getAlerts?accountNo=1&ibx=CH1&pageNum=1&limit=10", tok)
	obj = r.object(t)
	if path(obj, "payLoad", 0, "totalCount") != float64(1) || path(obj, "payLoad", 0, "alerts", 0, "id") != "ALERTDEF-CH1" ||
		path(obj, "payLoad", 0, "alerts", 0, "lastTriggeredOn") != float64(h.clock.now().UnixMilli()) {
		t.Errorf("definitions: %.600s", r.body)
	}
	r = h.get("/smartview/v1/alerts/getAlerts?accountNo=1&limit=10", tok)
	if got := path(r.object(t), "status", "msg"); got != "Missing Pagenum" {
		t.Errorf("without pageNum: %v", got)
	}
}

func TestAssetSearch(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.get("/smartview/v1/asset/search?accountNo=1&ibx=CH1&searchString=gen-1", h.token())
	obj := r.object(t)
	if path(obj, "payLoad", "assetsList", 0, "assetId") != "CH1.Gen-1" || path(obj, "payLoad", "assetsList", 0, "type") != "Generator" ||
		path(obj, "payLoad", "assetsList", 0, "assetClassification") != "Electrical" {
		t.Errorf("search gen-1: %.400s", r.body)
	}
	r = h.get("/smartview/v1/asset/search?accountNo=1&ibx=CH1&searchString=(8436)", h.token())
	obj = r.object(t)
	if path(obj, "payLoad", "totalCount") != float64(1) || path(obj, "payLoad", "assetsList", 0, "assetId") != "14488436" ||
		path(obj, "payLoad", "assetsList", 0, "type") != "circuit" {
		t.Errorf("search by circuit label: %.400s", r.body)
	}
	r = h.get("/smartview/v1/asset/search?accountNo=1&ibx=CH1", h.token())
	if got := path(r.object(t), "status", "statuscode"); got != statusInternalError {
		t.Errorf("without searchString: %v", got)
	}
}
