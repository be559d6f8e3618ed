package smartview

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCatalog2024DecodesDescriptionExamples calls every endpoint of the 2024 catalog against a
// server answering the 2024 descriptions' own examples (testdata/2024) on the 2024 paths, and
// asserts on the decoded values and the request sent.
func TestCatalog2024DecodesDescriptionExamples(t *testing.T) {
	kathmandu, _ := time.LoadLocation("Asia/Katmandu")
	from, to := time.UnixMilli(1483228800000), time.UnixMilli(1514764800000) // 2017
	tests := []struct {
		name, pattern, file string
		call                func(*Client) (any, error)
		wantQuery           url.Values
		check               func(*testing.T, any)
	}{
		{
			name: "asset list", pattern: "GET /smartview/v1/asset/list", file: "asset_list.json",
			call: func(c *Client) (any, error) {
				return c.AssetList(context.Background(), "CH1", ClassificationMechanical, nil)
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Mechanical"}},
			check: func(t *testing.T, v any) {
				l := v.(*AssetList)
				a := l.Categories[0].Templates[0].Assets[0]
				if l.Classification != "Mechanical" || l.Categories[0].Name != "Cooling" || l.Categories[0].Templates[0].ID != "Cooling Plant" ||
					a.AssetID != "CH1.Lead Chilled Water Manager" || a.AlarmStatus != "NOT OK" || a.PrimaryParentAsset != "[CH1.UPS-5]" ||
					!a.AlarmLastTriggeredTime.Time.Equal(time.Date(2017, 8, 21, 4, 52, 0, 0, time.UTC)) {
					t.Errorf("asset list: %+v", l)
				}
			},
		},
		{
			name: "asset details", pattern: "GET /smartview/v1/asset/details", file: "asset_details.json",
			call: func(c *Client) (any, error) {
				return c.AssetDetails(context.Background(), "CH1", ClassificationMechanical, "CH1.Chiller-1")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Mechanical"}, "assetId": {"CH1.Chiller-1"}},
			check: func(t *testing.T, v any) {
				d := v.(*AssetDetails)
				if d.AssetType != "Cooling" || len(d.Tags) != 1 || d.Tags[0].Value.Value != 4.9 || d.Tags[0].AlarmStatus != "OK" ||
					!d.Tags[0].ReadingTime.Time.Equal(time.Date(2017, 9, 7, 6, 4, 49, 0, time.UTC)) ||
					!d.AlarmLastTriggeredTime.Time.Equal(time.Date(2017, 8, 21, 4, 38, 0, 0, kathmandu)) {
					t.Errorf("details: %+v", d)
				}
			},
		},
		{
			name: "asset details batch", pattern: "POST /smartview/v1/asset/details", file: "asset_details_post.json",
			call: func(c *Client) (any, error) {
				return c.AssetDetailsBatch(context.Background(), "CH1", ClassificationMechanical, []string{"CH1.Chiller-1"})
			},
			check: func(t *testing.T, v any) {
				l := v.([]AssetDetails)
				if len(l) != 1 || l[0].AssetID != "CH1.Chiller-1" || l[0].Tags[0].TagID != "CH1.Chiller-1:evapleavingwatertemperature" {
					t.Errorf("batch: %+v", l)
				}
			},
		},
		{
			name: "affected assets", pattern: "GET /smartview/v1/asset/tagpoint/affected-assets", file: "affected_assets.json",
			call: func(c *Client) (any, error) {
				return c.AffectedAssets(context.Background(), "CH1", ClassificationElectrical, "CH1.ASTS-1-2-A")
			},
			check: func(t *testing.T, v any) {
				a := v.(*AffectedLocations)
				// Circuit names are numbers in the description: read as text.
				if len(a.Cages) != 1 || a.Cages[0].Cabinets[0].Circuits[0].Name != "877484" || len(a.Circuits) != 1 || a.Circuits[0].Name != "877483" {
					t.Errorf("affected: %+v", a)
				}
			},
		},
		{
			name: "asset search", pattern: "GET /smartview/v1/asset/search", file: "asset_search.json",
			call:      func(c *Client) (any, error) { return c.AssetSearch(context.Background(), "CH1", "ASTS") },
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "searchString": {"ASTS"}},
			check: func(t *testing.T, v any) {
				l := v.([]AssetMatch)
				if len(l) != 1 || l[0].AssetID != "CH1.ASTS-1-2-A" || l[0].Type != "ASTS" || l[0].AssetClassification != "Electrical" {
					t.Errorf("search: %+v", l)
				}
			},
		},
		{
			name: "tag point", pattern: "GET /smartview/v1/asset/tagpoint/current", file: "tagpoint_current.json",
			call: func(c *Client) (any, error) {
				return c.TagPoint(context.Background(), "CH1", "CH1.Chiller-1:evapleavingwatertemperature")
			},
			// The 2024 description names the parameter "tagid".
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "tagid": {"CH1.Chiller-1:evapleavingwatertemperature"}},
			check: func(t *testing.T, v any) {
				l := v.([]TagPoint)
				if len(l) != 1 || l[0].Value.Value != 4.9 || !l[0].ReadingTime.Time.Equal(time.Date(2017, 9, 7, 12, 53, 36, 0, time.UTC)) {
					t.Errorf("tag point: %+v", l)
				}
			},
		},
		{
			name: "location hierarchy", pattern: "GET /smartview/v1/hierarchy/location", file: "hierarchy_location.json",
			call:      func(c *Client) (any, error) { return c.LocationHierarchy(context.Background(), "SV5") },
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"SV5"}},
			check: func(t *testing.T, v any) {
				l := v.([]HierarchyNode)
				// levelType "ibx" in lower case at the top, "ZONE" below: both kept as sent.
				if len(l) != 1 || l[0].LevelType != "ibx" || l[0].LevelValue != "SV5" || len(l[0].Children) != 3 ||
					l[0].Children[0].LevelType != "ZONE" || l[0].Children[0].Children[1].Children[1].Label != "XY3:03:020900:1012" {
					t.Errorf("location: %+v", l)
				}
			},
		},
		{
			name: "power hierarchy", pattern: "GET /smartview/v1/hierarchy/power", file: "hierarchy_power.json",
			call: func(c *Client) (any, error) { return c.PowerHierarchy(context.Background(), "XY1") },
			check: func(t *testing.T, v any) {
				l := v.([]HierarchyNode)
				if len(l) != 1 || l[0].LevelValue != "XY1" || len(l[0].Children) != 2 ||
					l[0].Children[0].Children[0].Children[0].Label != "208V 20A 1Ph Red (3693)" {
					t.Errorf("power: %+v", l)
				}
			},
		},
		{
			name: "power current", pattern: "GET /power/v1/current", file: "power_current.json",
			call: func(c *Client) (any, error) { return c.Power(context.Background(), "ABC", "IBX", "ABC") },
			check: func(t *testing.T, v any) {
				p := v.(*Power)
				if p.KVA.Value != 54.402 || p.KW.Valid || !p.IsAlarm.Value || p.Comparison == nil || p.Comparison.LastWeek.Value != -0.295 ||
					!p.ReadingTime.Time.Equal(time.UnixMilli(1497410400000)) {
					t.Errorf("power: %+v", p)
				}
			},
		},
		{
			name: "power list", pattern: "POST /power/v1/current", file: "power_current_post.json",
			call: func(c *Client) (any, error) { return c.PowerList(context.Background(), "ABC", "IBX") },
			check: func(t *testing.T, v any) {
				if l := v.([]Power); len(l) != 1 || l[0].PercentageKVA.Value != 15.928 {
					t.Errorf("power list: %+v", l)
				}
			},
		},
		{
			name: "environment current", pattern: "GET /environment/v1/current", file: "environment_current.json",
			call: func(c *Client) (any, error) {
				return c.Environment(context.Background(), "CH1", "SENSOR", "CH1.Colo.CH1_05_000550_0105")
			},
			check: func(t *testing.T, v any) {
				if e := v.(*Environment); e.Temperature.Value != 20 || e.Humidity.Value != 43 || !e.Timestamp.Time.Equal(time.UnixMilli(1506665106579)) {
					t.Errorf("environment: %+v", e)
				}
			},
		},
		{
			name: "environment list", pattern: "GET /environment/v1/listCurrent", file: "environment_list.json",
			call: func(c *Client) (any, error) { return c.EnvironmentList(context.Background(), "CH1", "SENSOR") },
			check: func(t *testing.T, v any) {
				if l := v.([]Environment); len(l) != 1 || l[0].Sensor != "CH1.Colo.CH1_05_000550_0105" {
					t.Errorf("environment list: %+v", l)
				}
			},
		},
		{
			name: "power trending", pattern: "GET /power/v1/trending", file: "power_trending.json",
			call: func(c *Client) (any, error) {
				return c.Trending(context.Background(), TrendPoint{Kind: TrendPower, IBX: "ABX", LevelType: "IBX", LevelValue: "ABX"}, from, to, Interval1h)
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"ABX"}, "levelType": {"ibx"}, "levelValue": {"ABX"}, "interval": {"1h"},
				"fromDate": {"1483228800000"}, "toDate": {"1514764800000"}},
			check: func(t *testing.T, v any) {
				s := v.(*Series)
				// "201701010004": yyyyMMddHHmm, read in time_zone (UTC).
				if s.Interval != "1h" || len(s.Samples) != 1 || s.Samples[0].Value.Value != 0.147 ||
					!s.Samples[0].Time.Equal(time.Date(2017, 1, 1, 0, 4, 0, 0, time.UTC)) {
					t.Errorf("power trending: %+v", s)
				}
			},
		},
		{
			name: "environment trending", pattern: "GET /environment/v1/trending", file: "environment_trending.json",
			call: func(c *Client) (any, error) {
				return c.Trending(context.Background(), TrendPoint{Kind: TrendEnvironment, IBX: "CH1", LevelType: "ibx", LevelValue: "CH1", DataPoint: "temperature"}, from, to, IntervalReading)
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "dataPoint": {"temperature"}, "levelType": {"IBX"}, "levelValue": {"CH1"},
				"interval": {"reading"}, "fromDate": {"1483228800000"}, "toDate": {"1514764800000"}},
			check: func(t *testing.T, v any) {
				s := v.(*Series)
				if len(s.Samples) != 1 || s.Samples[0].Value.Value != 21.11 || !reflect.DeepEqual(s.Samples[0].Modifiers, []string{"recorded"}) ||
					!s.Samples[0].Time.Equal(time.UnixMilli(1483977600000)) {
					t.Errorf("environment trending: %+v", s)
				}
			},
		},
		{
			name: "tag point trending", pattern: "GET /smartview/v1/asset/tagpoint/trending", file: "tagpoint_trending.json",
			call: func(c *Client) (any, error) {
				return c.Trending(context.Background(), TrendPoint{Kind: TrendTag, IBX: "CH1", TagID: "CH1.UPS-20:batterytimeremaining"}, from, to, Interval1h)
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "tagid": {"CH1.UPS-20:batterytimeremaining"}, "interval": {"1h"},
				"fromDate": {"1483228800000"}, "toDate": {"1514764800000"}},
			check: func(t *testing.T, v any) {
				s := v.(*Series)
				if s.UOM != "s" || s.TagDisplayName != "Battery Time Remaining" || len(s.Samples) != 1 ||
					!s.Samples[0].Value.Valid || s.Samples[0].Value.Value != 0 || !s.Samples[0].Time.Equal(time.UnixMilli(1504779867508)) {
					t.Errorf("tag trending: %+v", s)
				}
			},
		},
		{
			name: "alerts", pattern: "GET /smartview/v1/alerts/getAlerts", file: "alerts.json",
			call: func(c *Client) (any, error) {
				return c.Alerts(context.Background(), AlertQuery{IBX: "CH1", PageSize: 50})
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "pageNum": {"1"}, "limit": {"50"}},
			check: func(t *testing.T, v any) {
				l := v.(*AlertDefinitionList)
				if len(l.Alerts) != 1 || l.TotalCount != 1000 || l.Complete {
					t.Fatalf("alerts: %+v", l)
				}
				a := l.Alerts[0]
				// The id is a number in the description, a string by its type: read as text.
				if a.ID != "15476966877480.828" || a.AlertType == nil || a.AlertType.ID != "cageDrawExceeds" ||
					a.ThresholdValue.Value != 12 || a.CustomerAssets[0].AssetsName[0] != "SG1:03:A20011" ||
					!a.LastTriggeredOn.Time.Equal(time.UnixMilli(1547696687748)) || !a.AlertPaused.Value || string(a.ConditionalAlert) != `"test"` {
					t.Errorf("alert definition: %+v", a)
				}
			},
		},
		{
			name: "alert activity log", pattern: "GET /smartview/v1/alerts/getAlertActivityLog", file: "alert_activity_log.json",
			call: func(c *Client) (any, error) {
				return c.AlertActivityLog(context.Background(), AlertQuery{IBX: "CH1", PageSize: 50})
			},
			check: func(t *testing.T, v any) {
				l := v.(*AlertList)
				if len(l.Alerts) != 1 {
					t.Fatalf("activity log: %+v", l)
				}
				a := l.Alerts[0]
				// conditionalAlert is a list here, an object in the feed: both are read.
				if a.ID != "15476966877480.828" || !a.Acknowledge.Value || len(a.ConditionalAlert) != 1 || a.ConditionalAlert[0].ThresholdValue.Value != 12 ||
					a.CurrentValue.Value != 23.38019323671497 || a.Year != "2019" ||
					!a.TimeTriggered.Time.Equal(time.UnixMilli(1547007734678)) || !a.TimeAcknowledged.Time.Equal(time.UnixMilli(1547008897864)) {
					t.Errorf("alert: %+v", a)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.serve(tt.pattern, "2024/"+tt.file)
			cfg := api.config()
			cfg.Catalog = Catalog2024
			c := api.client(cfg, Options{})
			got, err := tt.call(c.Client)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
			if api.requestCount() < 1 {
				t.Fatal("no request")
			}
			r := api.requests[0]
			if tt.wantQuery != nil && !reflect.DeepEqual(r.URL.Query(), tt.wantQuery) {
				t.Errorf("query %v, want %v", r.URL.Query(), tt.wantQuery)
			}
		})
	}
}

// catalogAPI is a test API answering only one catalog's paths, recording every request, the
// 404s included.
func catalogAPI(t *testing.T, catalog string) (*testAPI, *[]string) {
	api := newTestAPI(t)
	var seen []string
	served := map[string]string{}
	switch catalog {
	case CatalogDocumented:
		served["GET /hierarchy/v1/location"] = "hierarchy_location.json"
		served["GET /asset/v1/list"] = "asset_list_mechanical.json"
		served["GET /alarms/v1/smartview/alarms"] = "alarms.json"
	case Catalog2024:
		served["GET /smartview/v1/hierarchy/location"] = "2024/hierarchy_location.json"
		served["GET /smartview/v1/asset/list"] = "2024/asset_list.json"
		served["GET /smartview/v1/alerts/getAlerts"] = "2024/alerts.json"
	}
	api.handle("/", func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		seen = append(seen, key)
		file, ok := served[key]
		if !ok {
			http.Error(w, `{"code":"404","message":"Not Found - No message available"}`, http.StatusNotFound)
			return
		}
		w.Write(docExample(t, file))
	})
	return api, &seen
}

func TestCatalogAuto(t *testing.T) {
	ctx := context.Background()
	t.Run("2024 account", func(t *testing.T) {
		api, seen := catalogAPI(t, Catalog2024)
		cfg := api.config()
		cfg.Catalog = CatalogAuto
		c := api.client(cfg, Options{})
		for range 2 {
			if _, err := c.LocationHierarchy(ctx, "SV5"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.AssetList(ctx, "CH1", ClassificationMechanical, nil); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := c.Alarms(ctx, AlarmQuery{IBX: "CH1"}); !errors.Is(err, ErrNotServed) {
				t.Fatalf("alarms: %v, want ErrNotServed", err)
			}
		}
		if _, err := c.Alerts(ctx, AlertQuery{}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"GET /hierarchy/v1/location",           // the documented path first: 404
			"GET /smartview/v1/hierarchy/location", // the other, once
			"GET /smartview/v1/hierarchy/location", // remembered
			"GET /smartview/v1/asset/list",         // the catalog that answered is tried first
			"GET /alarms/v1/smartview/alarms",      // 404, no 2024 path: not served
			"GET /smartview/v1/alerts/getAlerts",   // the second alarms call made no request
			// The example says totalCount 1000: page 2 is asked, repeats page 1, and ends it.
			"GET /smartview/v1/alerts/getAlerts",
		}
		if !reflect.DeepEqual(*seen, want) {
			t.Errorf("requests\n%q\nwant\n%q", *seen, want)
		}
		states := map[string]CatalogState{}
		for _, s := range c.Catalog() {
			states[s.Endpoint] = s
		}
		if s := states["location_hierarchy"]; s.Catalog != Catalog2024 || s.Path != "/smartview/v1/hierarchy/location" || s.NotServed {
			t.Errorf("location_hierarchy: %+v", s)
		}
		if s := states["alarms"]; !s.NotServed {
			t.Errorf("alarms: %+v", s)
		}
	})
	t.Run("documented account", func(t *testing.T) {
		api, seen := catalogAPI(t, CatalogDocumented)
		c := api.defaultClient() // catalog defaults to auto
		if _, err := c.LocationHierarchy(ctx, "SV4"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AssetList(ctx, "CH1", ClassificationMechanical, nil); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := c.Alerts(ctx, AlertQuery{}); !errors.Is(err, ErrNotServed) {
				t.Fatalf("alerts: %v, want ErrNotServed", err)
			}
		}
		want := []string{"GET /hierarchy/v1/location", "GET /asset/v1/list", "GET /smartview/v1/alerts/getAlerts"}
		if !reflect.DeepEqual(*seen, want) {
			t.Errorf("requests %q, want %q", *seen, want)
		}
	})
	t.Run("neither", func(t *testing.T) {
		api, seen := catalogAPI(t, "")
		c := api.defaultClient()
		// A footprint endpoint answering 404 on both paths is an error, never "not served".
		_, err := c.LocationHierarchy(ctx, "SV5")
		if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotServed) {
			t.Errorf("hierarchy: %v, want ErrNotFound", err)
		}
		if len(*seen) != 2 {
			t.Errorf("requests %q, want both paths once", *seen)
		}
	})
}

func TestCatalogExplicit(t *testing.T) {
	ctx := context.Background()
	t.Run("2024 has no alarms list", func(t *testing.T) {
		api, seen := catalogAPI(t, CatalogDocumented) // it would answer: not asked
		cfg := api.config()
		cfg.Catalog = Catalog2024
		c := api.client(cfg, Options{})
		if _, err := c.Alarms(ctx, AlarmQuery{}); !errors.Is(err, ErrNotServed) {
			t.Errorf("alarms: %v, want ErrNotServed", err)
		}
		// A 404 on the 2024 path of a footprint endpoint stays an error: no fallback.
		if _, err := c.LocationHierarchy(ctx, "SV4"); !errors.Is(err, ErrNotFound) {
			t.Errorf("hierarchy: %v, want ErrNotFound", err)
		}
		want := []string{"GET /smartview/v1/hierarchy/location"}
		if !reflect.DeepEqual(*seen, want) {
			t.Errorf("requests %q, want %q", *seen, want)
		}
	})
	t.Run("documented has no alerts or trending", func(t *testing.T) {
		api, seen := catalogAPI(t, Catalog2024)
		cfg := api.config()
		cfg.Catalog = CatalogDocumented
		c := api.client(cfg, Options{})
		if _, err := c.Alerts(ctx, AlertQuery{}); !errors.Is(err, ErrNotServed) {
			t.Errorf("alerts: %v, want ErrNotServed", err)
		}
		calls := 0
		err := c.TrendingGap(ctx, GapQuery{Points: []TrendPoint{{Kind: TrendTag, IBX: "CH1", TagID: "a"}, {Kind: TrendPower, IBX: "CH1", LevelType: "IBX", LevelValue: "CH1"}},
			From: time.Now().Add(-time.Hour), To: time.Now()}, func(TrendPoint, *Series) error { calls++; return nil })
		if !errors.Is(err, ErrNotServed) || calls != 0 || !strings.Contains(err.Error(), "tag CH1/a") {
			t.Errorf("trending gap: %v (%d series)", err, calls)
		}
		if len(*seen) != 0 {
			t.Errorf("requests %q, want none", *seen)
		}
	})
	t.Run("override wins", func(t *testing.T) {
		api, seen := catalogAPI(t, Catalog2024)
		cfg := api.config()
		cfg.Catalog = CatalogDocumented
		cfg.Paths.AssetList = "/smartview/v1/asset/list" // the 2024 default: follows the catalog
		cfg.Paths.LocationHierarchy = "/custom/location" // neither default: an override
		c := api.client(cfg, Options{})
		c.AssetList(ctx, "CH1", ClassificationMechanical, nil)
		c.LocationHierarchy(ctx, "SV5")
		want := []string{"GET /asset/v1/list", "GET /custom/location"}
		if !reflect.DeepEqual(*seen, want) {
			t.Errorf("requests %q, want %q", *seen, want)
		}
	})
}

func TestCatalogConfigKey(t *testing.T) {
	cfg := Config{ClientID: "a", ClientSecret: "b", AccountNo: "1", Catalog: "v2"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "smartview.catalog:") {
		t.Errorf("Validate: %v, want an error naming smartview.catalog", err)
	}
	cfg = Config{ClientID: "a", ClientSecret: "b", AccountNo: "1"}
	if err := cfg.Validate(); err != nil || cfg.Catalog != CatalogAuto {
		t.Errorf("default catalog %q (%v), want auto", cfg.Catalog, err)
	}
}

// A trending answer's samples come back sorted, one per time, within the range; a sample whose
// time cannot be read is counted, not placed anywhere.
func TestTrendingCleansSamples(t *testing.T) {
	api := newTestAPI(t)
	api.handle("GET /smartview/v1/asset/tagpoint/trending", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"payLoad":{"tagId":"T","uom":"h","data":[
			{"datetime":"1700000600000","value":"2"},
			{"datetime":"1700000000000","value":"1"},
			{"datetime":"1700000600000","value":"2"},
			{"datetime":"yesterday","value":"9"},
			{"datetime":"1600000000000","value":"0"},
			{"datetime":"1700001200000","value":"NORMAL"}]},
			"status":{"type":"INFO","statuscode":"1000","msg":"OK"}}`))
	})
	c := api.defaultClient()
	s, err := c.Trending(context.Background(), TrendPoint{Kind: TrendTag, IBX: "CH1", TagID: "T"},
		time.UnixMilli(1699999999000), time.UnixMilli(1700002000000), Interval5m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, smp := range s.Samples {
		got = append(got, strconv.FormatInt(smp.Time.UnixMilli(), 10)+"="+smp.Value.Text)
	}
	want := []string{"1700000000000=1", "1700000600000=2", "1700001200000=NORMAL"}
	if !reflect.DeepEqual(got, want) || s.Unreadable != 1 || s.Samples[2].Value.Valid {
		t.Errorf("samples %v (unreadable %d), want %v and 1", got, s.Unreadable, want)
	}
}

// The activity log is history: read newest first (as observed), paging stops at the first page
// wholly older than Since; in any other order the log is read whole. Either way only alerts
// since Since are returned.
func TestAlertActivityLogStopsAtHistory(t *testing.T) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	alert := func(id string, daysAgo int) string {
		return `{"id":"` + id + `","ibx":"CH1","timetriggeredMilisec":"` + strconv.FormatInt(base.AddDate(0, 0, -daysAgo).UnixMilli(), 10) + `"}`
	}
	for _, tc := range []struct {
		name  string
		pages [][]string
		reads int
	}{
		{"newest first", [][]string{{alert("a", 0), alert("b", 1)}, {alert("c", 10), alert("d", 11)}, {alert("e", 12), alert("f", 13)}}, 2},
		{"oldest first", [][]string{{alert("f", 13), alert("e", 12)}, {alert("d", 11), alert("c", 10)}, {alert("b", 1), alert("a", 0)}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newTestAPI(t)
			reads := 0
			api.handle("GET /smartview/v1/alerts/getAlertActivityLog", func(w http.ResponseWriter, r *http.Request) {
				reads++
				n, _ := strconv.Atoi(r.URL.Query().Get("pageNum"))
				page := "[]"
				if n >= 1 && n <= len(tc.pages) {
					page = "[" + strings.Join(tc.pages[n-1], ",") + "]"
				}
				w.Write([]byte(`{"payLoad":[{"alerts":` + page + `,"totalCount":6}],"status":{"type":"INFO","cause":"null","info":{"code":1000,"msg":"OK"}}}`))
			})
			cfg := api.config()
			cfg.Catalog = Catalog2024
			l, err := api.client(cfg, Options{}).AlertActivityLog(context.Background(), AlertQuery{IBX: "CH1", PageSize: 2, Since: base.AddDate(0, 0, -7)})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range l.Alerts {
				ids = append(ids, string(a.ID))
			}
			slices.Sort(ids)
			if !reflect.DeepEqual(ids, []string{"a", "b"}) || reads != tc.reads || !l.Complete {
				t.Errorf("alerts %v after %d pages (complete %v), want [a b] after %d", ids, reads, l.Complete, tc.reads)
			}
		})
	}
}
