package smartview

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEndpointsDecodeDocumentedExamples calls every endpoint against a server answering the
// reference's own example and asserts on the decoded values and on the request sent.
func TestEndpointsDecodeDocumentedExamples(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	la, _ := time.LoadLocation("America/Los_Angeles")
	tests := []struct {
		name      string
		pattern   string // server route
		file      string // testdata answer
		call      func(*Client) (any, error)
		wantQuery url.Values // GET: the query sent
		wantBody  string     // POST/PUT: the JSON body sent
		check     func(*testing.T, any)
	}{
		{
			name: "asset list mechanical", pattern: "GET /asset/v1/list", file: "asset_list_mechanical.json",
			call: func(c *Client) (any, error) {
				return c.AssetList(context.Background(), "CH1", ClassificationMechanical, []string{"CH1:05:000550", "CH1:05:BCM000"})
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Mechanical"}, "cages": {"CH1:05:000550", "CH1:05:BCM000"}},
			check: func(t *testing.T, v any) {
				l := v.(*AssetList)
				if l.Classification != "Mechanical" || len(l.Categories) != 4 {
					t.Fatalf("got %q with %d categories", l.Classification, len(l.Categories))
				}
				cooling := l.Categories[1]
				a := cooling.Templates[1].Assets[0]
				if cooling.Name != "Cooling" || cooling.Templates[1].ID != "Cooling Plant" || a.AssetID != "CH1.Lead Chilled Water Manager" ||
					a.AlarmStatus != "NOT OK" || !a.AlarmLastClearedTime.Active || a.AlarmLastClearedTime.Valid ||
					!a.AlarmLastTriggeredTime.Time.Equal(time.Date(2019, 2, 15, 2, 59, 0, 0, time.UTC)) {
					t.Errorf("cooling plant asset: %+v", a)
				}
				fc := l.Categories[0].Templates[0].Assets[0]
				if fc.AssetID != "CH1.FC 2" || fc.ResiliencyStatus != "Resiliency Not Configured" || fc.AlarmLastTriggeredTime.Valid || fc.AlarmLastTriggeredTime.Raw != "" {
					t.Errorf("fan coil asset: %+v", fc)
				}
				if n := len(l.Categories[0].Templates[1].Assets); n != 0 {
					t.Errorf("empty template has %d assets", n)
				}
			},
		},
		{
			name: "asset list electrical", pattern: "GET /asset/v1/list", file: "asset_list_electrical.json",
			call: func(c *Client) (any, error) {
				return c.AssetList(context.Background(), "CH1", ClassificationElectrical, nil)
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Electrical"}},
			check: func(t *testing.T, v any) {
				assets := v.(*AssetList).Categories[0].Templates[0].Assets
				if len(assets) != 3 || assets[2].AssetID != "CH1.Gen-3" ||
					!assets[2].AlarmLastClearedTime.Time.Equal(time.Date(2016, 10, 4, 8, 41, 0, 0, time.UTC)) {
					t.Errorf("generators: %+v", assets)
				}
			},
		},
		{
			name: "asset details generator", pattern: "GET /asset/v1/details", file: "asset_details_generator.json",
			call: func(c *Client) (any, error) {
				return c.AssetDetails(context.Background(), "CH1", ClassificationElectrical, "CH1.Gen-1")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Electrical"}, "assetId": {"CH1.Gen-1"}},
			check: func(t *testing.T, v any) {
				d := v.(*AssetDetails)
				if d.AssetType != "Generator" || d.ManufacturerName != "CATERPILLAR" || d.EquipmentSerialNumber != "5JW00638" || len(d.Tags) != 6 {
					t.Fatalf("details: %+v", d)
				}
				fuel := d.Tags[0]
				if fuel.TagID != "CH1.Gen-1:fuelhours" || !fuel.Value.Valid || fuel.Value.Value != 78.5 || fuel.UOM != "h" || fuel.AlarmStatus != "OK" {
					t.Errorf("fuel hours: %+v", fuel)
				}
				// userPrefTimeZone America/Los_Angeles applies to the asset's own times; tag
				// reading times stay in time_zone (UTC), as in the tag point answers.
				if want := time.Date(2019, 3, 24, 2, 33, 53, 0, time.UTC); !fuel.ReadingTime.Time.Equal(want) {
					t.Errorf("reading time %v, want %v", fuel.ReadingTime.Time, want)
				}
				if want := time.Date(2019, 3, 17, 0, 0, 0, 0, la); !d.LastMaintenanceDate.Time.Equal(want) {
					t.Errorf("last maintenance %v, want %v", d.LastMaintenanceDate.Time, want)
				}
				if s := d.Tags[5]; s.Value.Valid || s.Value.Text != "READY TO START, AUTO" {
					t.Errorf("summary tag: %+v", s.Value)
				}
				if d.AlarmLastTriggeredTime.Valid || d.AlarmLastProcessedTime.Valid {
					t.Error("null alarm times decoded as set")
				}
			},
		},
		{
			name: "asset details GET", pattern: "GET /asset/v1/details", file: "asset_details.json",
			call: func(c *Client) (any, error) {
				return c.AssetDetails(context.Background(), "CH1", ClassificationMechanical, "CH1.FC 2")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Mechanical"}, "assetId": {"CH1.FC 2"}},
			check: func(t *testing.T, v any) {
				d := v.(*AssetDetails)
				if d.AssetID != "CH1.FC 2" || d.UserPrefTimeZone != "America/New_York" || d.Tags == nil || len(d.Tags) != 0 ||
					!d.LastMaintenanceDate.Time.Equal(time.Date(2018, 12, 19, 0, 0, 0, 0, ny)) {
					t.Errorf("details: %+v", d)
				}
			},
		},
		{
			name: "asset details POST", pattern: "POST /asset/v1/details", file: "asset_details_batch.json",
			call: func(c *Client) (any, error) {
				return c.AssetDetailsBatch(context.Background(), "CH1", ClassificationMechanical, []string{"CH1.FC 2", "CH1.Lead Chilled Water Manager"})
			},
			wantBody: `{"accountNo":"1","ibx":"CH1","assetIds":["CH1.FC 2","CH1.Lead Chilled Water Manager"],"classification":"Mechanical"}`,
			check: func(t *testing.T, v any) {
				list := v.([]AssetDetails)
				if len(list) != 2 {
					t.Fatalf("%d assets", len(list))
				}
				m := list[1]
				tag := m.Tags[0]
				if tag.Value.Value != 42.26 || tag.UOM != "°F" || tag.AlarmStatus != "NOT OK" ||
					!tag.ReadingTime.Time.Equal(time.Date(2019, 2, 18, 20, 56, 38, 0, time.UTC)) {
					t.Errorf("tag: %+v", tag)
				}
				// "Dec 31,1969 07:00 PM" is epoch zero in New York: unset, raw kept.
				if m.AlarmLastTriggeredTime.Valid || m.AlarmLastTriggeredTime.Raw != "Dec 31,1969 07:00 PM" || m.AlarmLastTriggeredTime.Unrecognized() {
					t.Errorf("epoch-zero time: %+v", m.AlarmLastTriggeredTime)
				}
				if !m.AlarmLastProcessedTime.Active || m.LastMaintenanceDate.Valid {
					t.Errorf("times: %+v %+v", m.AlarmLastProcessedTime, m.LastMaintenanceDate)
				}
			},
		},
		{
			name: "affected assets", pattern: "GET /asset/v1/tagpoint/affected-assets", file: "affected_assets.json",
			call: func(c *Client) (any, error) {
				return c.AffectedAssets(context.Background(), "CH1", ClassificationElectrical, "CH1.PDU-1-2A")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Electrical"}, "assetId": {"CH1.PDU-1-2A"}},
			check: func(t *testing.T, v any) {
				cages := v.(*AffectedLocations).Cages
				if len(cages) != 2 || cages[1].Name != "CH1:05:BCM000" || cages[1].Type != "cage" || cages[1].Circuits != nil {
					t.Fatalf("cages: %+v", cages)
				}
				cab := cages[1].Cabinets[0]
				if cab.Name != "CH1:05:BCM000:9999" || len(cab.Circuits) != 3 || cab.Circuits[2].Name != "20626057" || cab.Circuits[2].Type != "circuit" {
					t.Errorf("cabinet: %+v", cab)
				}
			},
		},
		{
			name: "affected assets how-to", pattern: "GET /asset/v1/tagpoint/affected-assets", file: "affected_assets_asts.json",
			call: func(c *Client) (any, error) {
				return c.AffectedAssets(context.Background(), "CH1", ClassificationElectrical, "CH1.ASTS-1-2-A")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "classification": {"Electrical"}, "assetId": {"CH1.ASTS-1-2-A"}},
			check: func(t *testing.T, v any) {
				cages := v.(*AffectedLocations).Cages
				if len(cages) != 2 || cages[0].Cabinets[0].Circuits[1].Name != "M10294567" {
					t.Errorf("cages: %+v", cages)
				}
			},
		},
		{
			name: "tag point GET", pattern: "GET /asset/v1/tagpoint/current", file: "tagpoint_get.json",
			call: func(c *Client) (any, error) {
				return c.TagPoint(context.Background(), "CH1", "CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "tagId": {"CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature"}},
			check: func(t *testing.T, v any) {
				tags := v.([]TagPoint)
				if len(tags) != 1 || tags[0].Value.Value != 5.7 || tags[0].UOM != "°C" || tags[0].TagDisplayName != "Primary Chilled Water Supply Temperature" ||
					!tags[0].ReadingTime.Time.Equal(time.Date(2019, 2, 18, 22, 57, 1, 0, time.UTC)) {
					t.Errorf("tags: %+v", tags)
				}
			},
		},
		{
			name: "tag point how-to", pattern: "GET /asset/v1/tagpoint/current", file: "tagpoint_fuelhours.json",
			call: func(c *Client) (any, error) {
				return c.TagPoint(context.Background(), "CH1", "CH1.Gen-1:fuelhours")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "tagId": {"CH1.Gen-1:fuelhours"}},
			check: func(t *testing.T, v any) {
				if tags := v.([]TagPoint); len(tags) != 1 || tags[0].Value.Value != 77.9 {
					t.Errorf("tags: %+v", tags)
				}
			},
		},
		{
			name: "tag points POST", pattern: "POST /asset/v1/tagpoint/current", file: "tagpoint_post.json",
			call: func(c *Client) (any, error) {
				return c.TagPoints(context.Background(), "CH1", []string{"CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature", "CH1.UPS-5:batterytimeremaining"})
			},
			wantBody: `{"accountNo":"1","tagIds":["CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature","CH1.UPS-5:batterytimeremaining"],"ibx":"CH1"}`,
			check: func(t *testing.T, v any) {
				tags := v.([]TagPoint)
				if len(tags) != 2 || tags[0].Value.Valid || tags[0].Value.Text != "AVAILABLE DURING DISCHARGE" || tags[1].Value.Value != 5.7 {
					t.Errorf("tags: %+v", tags)
				}
			},
		},
		{
			name: "environment current", pattern: "GET /environment/v1/current", file: "environment_current.json",
			call: func(c *Client) (any, error) {
				return c.Environment(context.Background(), "CH1", LevelIBX, "CH1")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "levelType": {"IBX"}, "levelValue": {"CH1"}},
			check: func(t *testing.T, v any) {
				e := v.(*Environment)
				if e.IBX != "CH1" || e.AccountNo != "1" || e.Zone != "ALL" || e.Temperature.Value != 21 || e.Humidity.Value != 35.78 ||
					e.TemperatureUOM != "°C" || e.HumidityUOM != "%" || !e.Timestamp.Time.Equal(time.UnixMilli(1552275932446)) || e.MinTemperature.Valid {
					t.Errorf("environment: %+v", e)
				}
			},
		},
		{
			name: "environment list", pattern: "GET /environment/v1/listCurrent", file: "environment_list.json",
			call: func(c *Client) (any, error) {
				return c.EnvironmentList(context.Background(), "CH1", LevelZone)
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "levelType": {"ZONE"}},
			check: func(t *testing.T, v any) {
				list := v.([]Environment)
				if len(list) != 2 || list[1].Zone != "CH1:1:05:ColoArea:3" || list[1].Temperature.Value != 20.7 || list[1].Humidity.Text != "28.80" ||
					!list[1].Timestamp.Time.Equal(time.UnixMilli(1552277787927)) {
					t.Errorf("list: %+v", list)
				}
			},
		},
		{
			name: "power GET", pattern: "GET /power/v1/current", file: "power_get.json",
			call: func(c *Client) (any, error) {
				return c.Power(context.Background(), "CH1", LevelIBX, "CH1")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"CH1"}, "levelType": {"IBX"}, "levelValue": {"CH1"}},
			check: func(t *testing.T, v any) {
				p := v.(*Power)
				if p.LevelType != "IBX" || p.LevelValue != "CH1" || p.IsAlarm.Valid || p.KVA.Value != 175.334 || p.Amps.Valid ||
					p.SoldKVA.Value != 1370.285 || p.ContractualKVA.Value != 373.9 || p.PercentageKVA.Value != 46.893 ||
					p.PrimaryKVA.Value != 111.586 || p.RedundantKVA.Value != 63.747 || p.KW.Valid || p.KW.Text != "NA" || p.PowerFactor.Text != "NA" ||
					p.PeakKVALastSevenDays.Value != 176.195 || p.PeakKVALastSevenDaysTime.Valid || p.CustomerName != "EQUINIX" ||
					!p.ReadingTime.Time.Equal(time.UnixMilli(1550379600000)) || !p.LastUpdatedTime.Time.Equal(time.UnixMilli(1550379960000)) {
					t.Errorf("power: %+v", p)
				}
				if c := p.Comparison; c == nil || c.DataPoint != "percentageKva" || c.Yesterday.Value != -0.106 || c.LastQuarter.Value != 2.964 {
					t.Errorf("comparison: %+v", c)
				}
			},
		},
		{
			name: "power POST", pattern: "POST /power/v1/current", file: "power_post.json",
			call: func(c *Client) (any, error) {
				return c.PowerList(context.Background(), "CH1", LevelIBX)
			},
			wantBody: `{"accountNo":"1","ibx":"CH1","levelType":"IBX"}`,
			check: func(t *testing.T, v any) {
				list := v.([]Power)
				if len(list) != 1 || list[0].KVA.Value != 175.951 || list[0].Comparison.LastWeek.Value != 0.497 ||
					!list[0].ReadingTime.Time.Equal(time.UnixMilli(1550506500000)) {
					t.Errorf("list: %+v", list)
				}
			},
		},
		{
			name: "location hierarchy", pattern: "GET /hierarchy/v1/location", file: "hierarchy_location.json",
			call: func(c *Client) (any, error) {
				return c.LocationHierarchy(context.Background(), "SV4")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"SV4"}},
			check: func(t *testing.T, v any) {
				nodes := v.([]HierarchyNode)
				if len(nodes) != 1 || nodes[0].LevelType != "IBX" || len(nodes[0].Children) != 2 {
					t.Fatalf("nodes: %+v", nodes)
				}
				cage := nodes[0].Children[0].Children[0]
				if cage.LevelType != "CAGE" || cage.LevelValue != "1852" || cage.Label != "SV4:01:001150" || len(cage.Children) != 2 ||
					cage.Children[1].LevelValue != "74147" || cage.Children[1].Label != "SV4:01:001150:0101" {
					t.Errorf("cage: %+v", cage)
				}
				if z := nodes[0].Children[1]; z.LevelType != "ZONE" || z.LevelValue != "SV4:1:01:ColoB:2" || len(z.Children) != 2 {
					t.Errorf("zone: %+v", z)
				}
			},
		},
		{
			name: "power hierarchy", pattern: "GET /hierarchy/v1/power", file: "hierarchy_power.json",
			call: func(c *Client) (any, error) {
				return c.PowerHierarchy(context.Background(), "SV4")
			},
			wantQuery: url.Values{"accountNo": {"1"}, "ibx": {"SV4"}},
			check: func(t *testing.T, v any) {
				ibx := v.([]HierarchyNode)[0]
				if len(ibx.Children) != 3 {
					t.Fatalf("cages: %d", len(ibx.Children))
				}
				circuit := ibx.Children[0].Children[0].Children[0]
				if circuit.LevelType != "CIRCUIT" || circuit.LevelValue != "20853717" || circuit.Label != "120V 20A 1Ph Red (3717)" {
					t.Errorf("circuit: %+v", circuit)
				}
				if c := ibx.Children[2]; c.Label != "SV4:01:VBCM000-1-271" || c.Children[0].Label != "SV4:01:VBCM000-1-271:V9999" {
					t.Errorf("virtual cage: %+v", c)
				}
			},
		},
		{
			name: "subscriptions list (one bare object)", pattern: "GET /feedsubscription/v1/subscribe", file: "subscriptions_list.json",
			call: func(c *Client) (any, error) {
				return c.Subscriptions(context.Background())
			},
			wantQuery: url.Values{},
			check: func(t *testing.T, v any) {
				subs := v.([]Subscription)
				if len(subs) != 1 {
					t.Fatalf("%d subscriptions", len(subs))
				}
				s := subs[0]
				if s.SubscriptionID != "5c509e8aabe10e6cda419128" || s.SubscriptionName != "projects/equinix-dcim-feeds/subscriptions/joe23%40abc.com" ||
					s.Status != "OK" || s.Config.Method != "PULL" || s.Config.Provider != "GOOGLE" ||
					!reflect.DeepEqual(s.Power, []SubscriptionScope{{AccountNo: "1", IBX: "CH1"}}) || len(s.Asset) != 0 || s.Asset == nil {
					t.Errorf("subscription: %+v", s)
				}
			},
		},
		{
			name: "subscription by id", pattern: "GET /feedsubscription/v1/subscribe/{id}", file: "subscription_get.json",
			call: func(c *Client) (any, error) {
				return c.Subscription(context.Background(), "5c4f7103ce9a9d4903419128")
			},
			wantQuery: url.Values{},
			check: func(t *testing.T, v any) {
				s := v.(*Subscription)
				if len(s.Asset) != 1 || s.Asset[0].IBX != "CH1" || s.Asset[0].UcmID != "" {
					t.Errorf("subscription: %+v", s)
				}
			},
		},
		{
			name: "create subscription", pattern: "POST /feedsubscription/v1/subscribe", file: "subscription_create.json",
			call: func(c *Client) (any, error) {
				return c.CreateSubscription(context.Background(), SubscriptionRequest{
					Power:  []SubscriptionScope{{AccountNo: "1", IBX: "CH1"}},
					Config: SubscriptionConfig{Provider: "GOOGLE", Method: "PULL"},
				})
			},
			wantBody: `{"power":[{"accountNo":"1","ibx":"CH1"}],"config":{"provider":"GOOGLE","method":"PULL"}}`,
			check: func(t *testing.T, v any) {
				if s := v.(*Subscription); s.SubscriptionID != "5c509e8aabe10e6cda419128" || len(s.Power) != 1 {
					t.Errorf("subscription: %+v", s)
				}
			},
		},
		{
			name: "update subscription", pattern: "PUT /feedsubscription/v1/subscribe/{id}", file: "subscription_update.json",
			call: func(c *Client) (any, error) {
				return c.UpdateSubscription(context.Background(), "5c4f7103ce9a9d4903419128", SubscriptionRequest{
					Power:  []SubscriptionScope{{AccountNo: "1", IBX: "CH1"}},
					Asset:  []SubscriptionScope{{AccountNo: "1", IBX: "CH1"}},
					Config: SubscriptionConfig{Provider: "GOOGLE", Method: "PULL"},
				})
			},
			wantBody: `{"power":[{"accountNo":"1","ibx":"CH1"}],"asset":[{"accountNo":"1","ibx":"CH1"}],"config":{"provider":"GOOGLE","method":"PULL"}}`,
			check: func(t *testing.T, v any) {
				if s := v.(*Subscription); len(s.Asset) != 1 || len(s.Power) != 1 {
					t.Errorf("subscription: %+v", s)
				}
			},
		},
		{
			name: "delete subscription", pattern: "DELETE /feedsubscription/v1/subscribe", file: "subscription_delete.json",
			call: func(c *Client) (any, error) {
				return c.DeleteSubscription(context.Background(), "")
			},
			wantQuery: url.Values{},
			check: func(t *testing.T, v any) {
				if s := v.(*Subscription); s.Status != "OK" || len(s.Power) != 1 {
					t.Errorf("subscription: %+v", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.serve(tt.pattern, tt.file)
			c := api.defaultClient()
			got, err := tt.call(c.Client)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
			if api.requestCount() != 1 {
				t.Fatalf("%d requests", api.requestCount())
			}
			r := api.requests[0]
			if tt.wantQuery != nil && !reflect.DeepEqual(r.URL.Query(), tt.wantQuery) {
				t.Errorf("query %v, want %v", r.URL.Query(), tt.wantQuery)
			}
			if strings.Contains(r.URL.RawQuery, "+") {
				t.Errorf("query %q encodes spaces as +, the docs use %%20", r.URL.RawQuery)
			}
			if tt.wantBody != "" && strings.TrimSpace(api.bodies[0]) != tt.wantBody {
				t.Errorf("body %s\nwant %s", api.bodies[0], tt.wantBody)
			}
		})
	}
}

func TestSubscriptionPaths(t *testing.T) {
	api := newTestAPI(t)
	var paths []string
	api.handle("/feedsubscription/v1/subscribe/", func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		w.Write(docExample(t, "subscription_get.json"))
	})
	c := api.defaultClient()
	ctx := context.Background()
	if _, err := c.Subscription(ctx, "a/b c"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteSubscription(ctx, "5c4f"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateSubscription(ctx, "", SubscriptionRequest{}); err == nil {
		t.Error("update without id: no error")
	}
	want := []string{"GET /feedsubscription/v1/subscribe/a%2Fb%20c", "DELETE /feedsubscription/v1/subscribe/5c4f"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
}

// The list endpoint is documented as one bare object; an array and an envelope are accepted too.
func TestSubscriptionsListShapes(t *testing.T) {
	one := string(docExample(t, "subscriptions_list.json"))
	for name, body := range map[string]string{
		"array":    "[" + one + "," + one + "]",
		"envelope": `{"payLoad":[` + one + `,` + one + `],"status":{"type":"INFO","statuscode":"1000","msg":"OK"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			api := newTestAPI(t)
			api.handle("GET /feedsubscription/v1/subscribe", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
			subs, err := api.defaultClient().Subscriptions(context.Background())
			if err != nil || len(subs) != 2 || subs[1].SubscriptionID != "5c509e8aabe10e6cda419128" {
				t.Errorf("got %+v, %v", subs, err)
			}
		})
	}
}

func TestConfiguredPathsAreUsed(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /alarm/v1/smartview/alarms", "alarms.json")
	api.serve("GET /registration/v1/subscribe", "subscriptions_list.json")
	cfg := api.config()
	cfg.Paths.Alarms = "/alarm/v1/smartview/alarms"
	cfg.Paths.Subscriptions = "/registration/v1/subscribe"
	c := api.client(cfg, Options{})
	if _, err := c.Alarms(context.Background(), AlarmQuery{}); err != nil {
		t.Error(err)
	}
	if _, err := c.Subscriptions(context.Background()); err != nil {
		t.Error(err)
	}
	// Alarms: the example's second page repeats the first (the handler ignores offset): stop.
	if n := api.requestCount(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// Every property of the feed schemas is a field of the matching Go type (keys match
// case-insensitively, as encoding/json does).
func TestFeedSchemasAreCovered(t *testing.T) {
	schemas := map[string]any{}
	var alarm map[string]any
	if err := json.Unmarshal(docExample(t, "schema_alarm.json"), &alarm); err != nil {
		t.Fatal(err)
	}
	schemas["Alarm"] = alarm
	for _, f := range []string{"schema_alert.txt", "schema_environment_data.txt", "schema_power_data.txt", "schema_tagpoint_data.txt"} {
		var m map[string]any
		if err := json.Unmarshal([]byte("{"+string(docExample(t, f))+"}"), &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range m {
			schemas[k] = v
		}
	}
	types := map[string]reflect.Type{
		"Alarm": reflect.TypeFor[Alarm](), "Alert": reflect.TypeFor[Alert](), "AlertType": reflect.TypeFor[AlertType](),
		"EnvironmentData": reflect.TypeFor[Environment](), "PowerData": reflect.TypeFor[Power](), "TagPointData": reflect.TypeFor[TagPoint](),
	}
	// Documented as "type": "null" and carrying nothing to decode.
	ignored := map[string]bool{"affectedCustomerAsset": true}
	for name, typ := range types {
		keys := map[string]bool{}
		for i := range typ.NumField() {
			keys[strings.ToLower(strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])] = true
		}
		keys["timetriggered"] = keys["timetriggered"] || typ == reflect.TypeFor[Alarm]()
		props := schemas[name].(map[string]any)["properties"].(map[string]any)
		for prop := range props {
			if !keys[strings.ToLower(prop)] && !ignored[prop] {
				t.Errorf("%s: schema property %q has no field in %s", name, prop, typ)
			}
		}
	}
}

// time_zone is the zone of zone-less times, except an asset's own times in asset details, which
// follow its userPrefTimeZone; tag reading times follow time_zone everywhere.
func TestTimeZoneDecision(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	ny, _ := time.LoadLocation("America/New_York")
	api := newTestAPI(t)
	api.serve("GET /asset/v1/list", "asset_list_mechanical.json")
	api.serve("POST /asset/v1/details", "asset_details_batch.json")
	api.serve("GET /asset/v1/tagpoint/current", "tagpoint_get.json")
	cfg := api.config()
	cfg.TimeZone = "America/Chicago"
	c := api.client(cfg, Options{})
	ctx := context.Background()
	list, err := c.AssetList(ctx, "CH1", ClassificationMechanical, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := list.Categories[2].Templates[0].Assets[0].AlarmLastTriggeredTime.Time; !got.Equal(time.Date(2018, 8, 21, 10, 52, 0, 0, chicago)) {
		t.Errorf("asset list time %v", got)
	}
	details, err := c.AssetDetailsBatch(ctx, "CH1", ClassificationMechanical, []string{"CH1.FC 2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := details[0].LastMaintenanceDate.Time; !got.Equal(time.Date(2018, 12, 19, 0, 0, 0, 0, ny)) {
		t.Errorf("userPrefTimeZone not applied: %v", got)
	}
	fromDetails := details[1].Tags[0].ReadingTime.Time
	tags, err := c.TagPoint(ctx, "CH1", "CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature")
	if err != nil {
		t.Fatal(err)
	}
	if !fromDetails.Equal(time.Date(2019, 2, 18, 20, 56, 38, 0, chicago)) || !tags[0].ReadingTime.Time.Equal(time.Date(2019, 2, 18, 22, 57, 1, 0, chicago)) {
		t.Errorf("reading times %v and %v, want both in Chicago", fromDetails, tags[0].ReadingTime.Time)
	}
}
