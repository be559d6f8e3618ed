package sandbox

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Every endpoint answers the reference's shape, with its examples in place.
func TestEndpointShapes(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	for _, tc := range []struct {
		name, method, path, body string
		check                    func(t *testing.T, r response)
	}{
		{"asset list, electrical", "GET", "/asset/v1/list?accountNo=1&ibx=CH1&classification=Electrical", "", func(t *testing.T, r response) {
			var p assetListPayload
			r.payload(t, &p)
			gen := p.find("Global", "Generator")
			if p.Classification != "Electrical" || gen == nil || len(gen.Assets) < 3 {
				t.Fatalf("payload %s", r.body)
			}
			want := assetSummary{AssetID: "CH1.Gen-1", IBX: "CH1", AlarmStatus: "OK", ResiliencyStatus: "Resiliency as Designed",
				AlarmLastTriggeredTime: ptr("Sep 16,2016 04:41 PM"), AlarmLastClearedTime: ptr("Sep 16,2016 04:43 PM")}
			if got := gen.Assets[0]; !equalJSON(got, want) {
				t.Errorf("CH1.Gen-1 %+v, want %+v", got, want)
			}
		}},
		{"asset list, mechanical as documented", "GET", "/asset/v1/list?accountNo=1&ibx=CH1&classification=Mechanical", "", func(t *testing.T, r response) {
			var p assetListPayload
			r.payload(t, &p)
			var cats []string
			for _, c := range p.Categories {
				cats = append(cats, c.CategoryName)
			}
			if !slices.Equal(cats, []string{"Air Handling", "Cooling", "Fire, Smoke Detection", "Leak Detection"}) {
				t.Errorf("categories %q", cats)
			}
			fc := p.find("Air Handling", "Fan Coil")
			fans := p.find("Air Handling", "Fans")
			if fc == nil || fc.Assets[0].AssetID != "CH1.FC 2" || fc.Assets[0].AlarmLastTriggeredTime != nil || fans == nil || fans.Assets == nil {
				t.Errorf("Fan Coil / Fans: %s", r.body)
			}
			cwm := p.find("Cooling", "Cooling Plant").Assets[0]
			if cwm.AssetID != "CH1.Lead Chilled Water Manager" || cwm.AlarmStatus != "NOT OK" ||
				*cwm.AlarmLastTriggeredTime != "Feb 15,2019 02:59 AM" || *cwm.AlarmLastClearedTime != "Currently Active" {
				t.Errorf("Lead Chilled Water Manager %+v", cwm)
			}
		}},
		{"asset list filtered by cage", "GET", "/asset/v1/list?accountNo=1&ibx=CH1&classification=Electrical&cages=CH1:05:000550", "", func(t *testing.T, r response) {
			var p assetListPayload
			r.payload(t, &p)
			ids := p.ids()
			if !slices.Contains(ids, "CH1.Gen-1") || slices.Contains(ids, "CH1.ASTS-1-2-A") || slices.Contains(ids, "CH1.PDU-1-2A") {
				t.Errorf("assets serving CH1:05:000550: %q", ids)
			}
		}},
		{"asset details, CH1.Gen-1 verbatim", "GET", "/asset/v1/details?accountNo=1&ibx=CH1&assetId=CH1.Gen-1&classification=Electrical", "", func(t *testing.T, r response) {
			var d assetDetails
			r.payload(t, &d)
			if d.AssetID != "CH1.Gen-1" || d.AssetType != "Generator" || d.ManufacturerName != "CATERPILLAR" || d.EquipmentModelNumber != "SR-4B" ||
				d.EquipmentSerialNumber != "5JW00638" || d.LastMaintenanceDate != "Mar 17,2019" || d.AlarmLastTriggeredTime != nil || d.AlarmLastProcessedTime != nil {
				t.Errorf("details %+v", d)
			}
			var names []string
			for _, tg := range d.Tags {
				names = append(names, strings.TrimPrefix(tg.TagID, "CH1.Gen-1:"))
			}
			if !slices.Equal(names, []string{"fuelhours", "runningemergencyservice", "voltage", "alarm", "runningnonemergencyservice", "summary"}) {
				t.Errorf("tags %q", names)
			}
			want := tagPoint{Value: "78.5", TagID: "CH1.Gen-1:fuelhours", TagDisplayName: "Fuel Hours", Uom: "h", AlarmStatus: "OK", ReadingTime: "20190324023353"}
			if d.Tags[0] != want {
				t.Errorf("fuelhours %+v, want %+v", d.Tags[0], want)
			}
		}},
		{"asset details, CH1.FC 2 blank", "GET", "/asset/v1/details?accountNo=1&ibx=CH1&assetId=CH1.FC%202&classification=Mechanical", "", func(t *testing.T, r response) {
			var d assetDetails
			r.payload(t, &d)
			if d.AssetID != "CH1.FC 2" || d.AssetType != "" || d.Tags == nil || len(d.Tags) != 0 || d.LastMaintenanceDate != "Dec 19,2018" || d.UserPrefTimeZone != "America/New_York" {
				t.Errorf("details %s", r.body)
			}
		}},
		{"asset details, wrong classification is empty", "GET", "/asset/v1/details?accountNo=1&ibx=CH1&assetId=CH1.Gen-1&classification=Mechanical", "", func(t *testing.T, r response) {
			var d map[string]any
			r.payload(t, &d)
			if len(d) != 0 {
				t.Errorf("payload %s", r.body)
			}
		}},
		{"post asset details", "POST", "/asset/v1/details", `{"accountNo":"1","ibx":"CH1","assetIds":["CH1.FC 2","CH1.Lead Chilled Water Manager","CH1.Nope"],"classification":"Mechanical"}`, func(t *testing.T, r response) {
			var p struct {
				TotalCount   int            `json:"totalCount"`
				AssetDetails []assetDetails `json:"assetDetails"`
			}
			r.payload(t, &p)
			if p.TotalCount != 2 || len(p.AssetDetails) != 2 {
				t.Fatalf("payload %s", r.body)
			}
			cwm := p.AssetDetails[1]
			if cwm.AlarmLastTriggeredTime == nil || *cwm.AlarmLastTriggeredTime != "Dec 31,1969 07:00 PM" || *cwm.AlarmLastProcessedTime != "Currently Active" ||
				len(cwm.Tags) != 1 || cwm.Tags[0].AlarmStatus != "NOT OK" || cwm.Tags[0].Uom != "°C" {
				t.Errorf("Lead Chilled Water Manager %s", r.body)
			}
		}},
		{"affected assets of CH1.ASTS-1-2-A verbatim", "GET", "/asset/v1/tagpoint/affected-assets?accountNo=1&ibx=CH1&classification=Electrical&assetId=CH1.ASTS-1-2-A", "", func(t *testing.T, r response) {
			want := `{"cages":[{"name":"CH1:05:BCM000","type":"cage","cabinets":[{"name":"CH1:05:BCM000:9999","type":"cabinet","circuits":[{"name":"14488436","type":"circuit"},{"name":"M10294567","type":"circuit"},{"name":"20679430","type":"circuit"}]}],"circuits":null},{"name":"CH1:05:FE00021","type":"cage","cabinets":[{"name":"CH1:05:FE00021:0101","type":"cabinet","circuits":[{"name":"20744057","type":"circuit"}]}],"circuits":null}]}`
			var p json.RawMessage
			r.payload(t, &p)
			if string(p) != want {
				t.Errorf("payload\n%s\nwant\n%s", p, want)
			}
		}},
		{"affected assets of CH1.PDU-1-2A verbatim", "GET", "/asset/v1/tagpoint/affected-assets?accountNo=1&ibx=CH1&classification=Electrical&assetId=CH1.PDU-1-2A", "", func(t *testing.T, r response) {
			want := `{"cages":[{"name":"CH1:05:FE00021","type":"cage","cabinets":[{"name":"CH1:05:FE00021:0101","type":"cabinet","circuits":[{"name":"20744057","type":"circuit"}]}],"circuits":null},{"name":"CH1:05:BCM000","type":"cage","cabinets":[{"name":"CH1:05:BCM000:9999","type":"cabinet","circuits":[{"name":"15137957","type":"circuit"},{"name":"20679433","type":"circuit"},{"name":"20626057","type":"circuit"}]}],"circuits":null}]}`
			var p json.RawMessage
			r.payload(t, &p)
			if string(p) != want {
				t.Errorf("payload\n%s\nwant\n%s", p, want)
			}
		}},
		{"affected assets of a mechanical asset", "GET", "/asset/v1/tagpoint/affected-assets?accountNo=1&ibx=CH1&classification=Mechanical&assetId=CH1.FC%202", "", func(t *testing.T, r response) {
			var p struct {
				Cages []struct {
					Name     string `json:"name"`
					Type     string `json:"type"`
					Cabinets []struct {
						Name     string `json:"name"`
						Circuits []any  `json:"circuits"`
					} `json:"cabinets"`
				} `json:"cages"`
			}
			r.payload(t, &p)
			if len(p.Cages) == 0 || p.Cages[0].Type != "cage" || len(p.Cages[0].Cabinets) == 0 {
				t.Errorf("payload %s", r.body)
			}
		}},
		{"tag point, CH1.Gen-1:fuelhours", "GET", "/asset/v1/tagpoint/current?accountNo=1&ibx=CH1&tagId=CH1.Gen-1:fuelhours", "", func(t *testing.T, r response) {
			var p []map[string]any
			r.payload(t, &p)
			if len(p) != 1 || p[0]["value"] != "78.5" || p[0]["uom"] != "h" || p[0]["readingTime"] != "20190324023353" {
				t.Errorf("payload %s", r.body)
			}
			if _, ok := p[0]["alarmStatus"]; ok {
				t.Errorf("alarmStatus present, the reference's examples have none: %s", r.body)
			}
		}},
		{"tag points, POST in request order", "POST", "/asset/v1/tagpoint/current", `{"accountNo":"1","tagIds":["CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature","CH1.UPS-5:batterytimeremaining","CH1.Nope:x"],"ibx":"CH1"}`, func(t *testing.T, r response) {
			var p []tagPoint
			r.payload(t, &p)
			if len(p) != 2 || p[0].Value != "5.7" || p[0].ReadingTime != "20190218225701" || p[1].Value != "AVAILABLE DURING DISCHARGE" {
				t.Errorf("payload %s", r.body)
			}
		}},
		{"environment of an IBX", "GET", "/environment/v1/current?accountNo=1&ibx=CH1&levelType=IBX&levelValue=CH1", "", func(t *testing.T, r response) {
			var e environmentData
			r.payload(t, &e)
			if e.IBX != "CH1" || e.AccountNo != "1" || e.Zone != "ALL" || e.Cage != "ALL" || e.Cabinet != "ALL" || e.Sensor != "ALL" ||
				!decimalString(e.Temperature, 1) || !decimalString(e.Humidity, 2) || !epochMillisString(e.Timestamp) || e.TemperatureUom != "°C" || e.HumidityUom != "%" {
				t.Errorf("payload %s", r.body)
			}
		}},
		{"environment of a sensor", "GET", "/environment/v1/current?accountNo=1&ibx=CH1&levelType=SENSOR&levelValue=CH1.Colo.CH1_05_000550_0105", "", func(t *testing.T, r response) {
			var e environmentData
			r.payload(t, &e)
			if e.Zone != "CH1:1:05:ColoArea:2" || e.Cage != "CH1:05:000550" || e.Cabinet != "CH1:05:000550:0105" || e.Sensor != "CH1.Colo.CH1_05_000550_0105" {
				t.Errorf("payload %s", r.body)
			}
		}},
		{"environment of zones", "GET", "/environment/v1/listCurrent?accountNo=1&ibx=CH1&levelType=ZONE", "", func(t *testing.T, r response) {
			var p struct {
				TotalCount int               `json:"totalCount"`
				Data       []environmentData `json:"data"`
			}
			r.payload(t, &p)
			if p.TotalCount != 2 || len(p.Data) != 2 || p.Data[0].Zone != "CH1:1:05:ColoArea:2" || p.Data[1].Zone != "CH1:1:05:ColoArea:3" || p.Data[0].Cage != "ALL" {
				t.Errorf("payload %s", r.body)
			}
		}},
		{"power of an IBX", "GET", "/power/v1/current?accountNo=1&ibx=CH1&levelType=IBX&levelValue=CH1", "", func(t *testing.T, r response) {
			var m map[string]any
			r.payload(t, &m)
			checkPower(t, m, "IBX", "CH1")
			if m["amps"] != nil || m["cabinetRating"] != nil || m["soldAmps"] != nil || m["isAlarm"] != nil || path(m, "comparisonData", "datapoint") != "percentageKva" {
				t.Errorf("IBX power %s", r.body)
			}
		}},
		{"power of a circuit", "GET", "/power/v1/current?accountNo=1&ibx=SV4&levelType=circuit&levelValue=20853716", "", func(t *testing.T, r response) {
			var m map[string]any
			r.payload(t, &m)
			checkPower(t, m, "CIRCUIT", "20853716")
			if _, ok := m["amps"].(float64); !ok || m["soldAmps"] != float64(20) || m["isAlarm"] != "false" || m["redundantKva"] != float64(0) {
				t.Errorf("circuit power %s", r.body)
			}
		}},
		{"power of a cage by label", "GET", "/power/v1/current?accountNo=1&ibx=SV4&levelType=CAGE&levelValue=SV4:01:000120", "", func(t *testing.T, r response) {
			var m map[string]any
			r.payload(t, &m)
			checkPower(t, m, "CAGE", "SV4:01:000120")
		}},
		{"power of every cabinet, POST", "POST", "/power/v1/current", `{"accountNo":"1","ibx":"SV4","levelType":"CABINET"}`, func(t *testing.T, r response) {
			var p struct {
				Data []map[string]any `json:"data"`
			}
			r.payload(t, &p)
			if len(p.Data) != 10 {
				t.Fatalf("%d cabinets, want SV4's 10", len(p.Data))
			}
			for _, m := range p.Data {
				checkPower(t, m, "CABINET", m["levelValue"].(string))
				if m["cabinetRating"] != m["contractualKva"] {
					t.Errorf("cabinetRating %v", m)
				}
			}
		}},
		{"location hierarchy of SV4", "GET", "/hierarchy/v1/location?accountNo=123&ibx=SV4", "", func(t *testing.T, r response) {
			var nodes []hierarchyNode
			r.decode(t, &nodes)
			if len(nodes) != 1 || nodes[0].LevelType != "IBX" || nodes[0].Label != "SV4" {
				t.Fatalf("hierarchy %s", r.body)
			}
			for _, want := range []string{"ZONE SV4:1:01:ColoA:1 SV4:1:01:ColoA:1", "CAGE 1852 SV4:01:001150", "CABINET 138094 SV4:01:001150:0000",
				"CABINET 74147 SV4:01:001150:0101", "ZONE SV4:1:01:ColoB:2 SV4:1:01:ColoB:2", "CAGE 1948 SV4:01:002100", "CABINET 139474 SV4:01:002100:0000",
				"CABINET 78970 SV4:01:002100:0102", "CAGE 2053 SV4:01:002520", "CABINET 137692 SV4:01:002520:0000",
				// the power example's cages are there too
				"CAGE 1844 SV4:01:000120", "CAGE 104154 SV4:01:VBCM000-1-271"} {
				if !nodes[0].contains(want) {
					t.Errorf("location hierarchy lacks %s", want)
				}
			}
		}},
		{"power hierarchy of SV4", "GET", "/hierarchy/v1/power?accountNo=123&ibx=SV4", "", func(t *testing.T, r response) {
			var nodes []hierarchyNode
			r.decode(t, &nodes)
			if len(nodes) != 1 || len(nodes[0].Children) != 6 {
				t.Fatalf("hierarchy %s", r.body)
			}
			var cages []string
			for _, c := range nodes[0].Children[:3] {
				cages = append(cages, c.LevelValue+" "+c.Label)
			}
			if !slices.Equal(cages, []string{"1844 SV4:01:000120", "6451 SV4:01:000130", "104154 SV4:01:VBCM000-1-271"}) {
				t.Errorf("the documented cages first, in order: %q", cages)
			}
			for _, want := range []string{"CABINET 74006 SV4:01:000120:0101", "CIRCUIT 20853717 120V 20A 1Ph Red (3717)", "CIRCUIT 20853716 120V 20A 1Ph Pri (3716)",
				"CIRCUIT 14158128 120V 20A 1Ph Pri (8128)", "CIRCUIT 865343 120V 20A 1Ph Pri (5343)", "CIRCUIT 1129134 120V 20A 1Ph Red (9134)",
				"CABINET 104158 SV4:01:VBCM000-1-271:V9999", "CIRCUIT 20184661 120V 20A 1Ph Pri (4661)", "CAGE 1852 SV4:01:001150"} {
				if !nodes[0].contains(want) {
					t.Errorf("power hierarchy lacks %s", want)
				}
			}
		}},
		{"hierarchy of an unknown IBX", "GET", "/hierarchy/v1/power?accountNo=1&ibx=XX9", "", func(t *testing.T, r response) {
			if r.status != 200 || string(r.body) != "[]" {
				t.Errorf("%d %s", r.status, r.body)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tok, "application/json", tc.body)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			tc.check(t, r)
		})
	}
}

type assetSummary struct {
	AssetID                string  `json:"assetId"`
	IBX                    string  `json:"ibx"`
	AlarmStatus            string  `json:"alarmStatus"`
	ResiliencyStatus       string  `json:"resiliencyStatus"`
	AlarmLastTriggeredTime *string `json:"alarmLastTriggeredTime"`
	AlarmLastClearedTime   *string `json:"alarmLastClearedTime"`
}

type assetTemplatePayload struct {
	Assets     []assetSummary `json:"assets"`
	TemplateID string         `json:"templateId"`
}

type assetListPayload struct {
	Classification string `json:"classification"`
	Categories     []struct {
		Templates    []assetTemplatePayload `json:"templates"`
		CategoryName string                 `json:"categoryName"`
	} `json:"categories"`
}

func (p *assetListPayload) find(category, template string) *assetTemplatePayload {
	for _, c := range p.Categories {
		for i, t := range c.Templates {
			if c.CategoryName == category && t.TemplateID == template {
				return &c.Templates[i]
			}
		}
	}
	return nil
}

func (p *assetListPayload) ids() []string {
	var out []string
	for _, c := range p.Categories {
		for _, t := range c.Templates {
			for _, a := range t.Assets {
				out = append(out, a.AssetID)
			}
		}
	}
	return out
}

type tagPoint struct {
	Value          string `json:"value"`
	TagID          string `json:"tagId"`
	TagDisplayName string `json:"tagDisplayName"`
	Uom            string `json:"uom"`
	AlarmStatus    string `json:"alarmStatus"`
	ReadingTime    string `json:"readingTime"`
}

type assetDetails struct {
	AssetID                string     `json:"assetId"`
	AssetType              string     `json:"assetType"`
	UserPrefTimeZone       string     `json:"userPrefTimeZone"`
	Tags                   []tagPoint `json:"tags"`
	LastMaintenanceDate    string     `json:"lastMaintenanceDate"`
	ManufacturerName       string     `json:"manufacturerName"`
	EquipmentModelNumber   string     `json:"equipmentModelNumber"`
	EquipmentSerialNumber  string     `json:"equipmentSerialNumber"`
	AlarmLastTriggeredTime *string    `json:"alarmLastTriggeredTime"`
	AlarmLastProcessedTime *string    `json:"alarmLastProcessedTime"`
}

type environmentData struct {
	IBX, AccountNo, Zone, Cage, Cabinet, Sensor string
	Temperature, Humidity, Timestamp            string
	TemperatureUom                              string `json:"temperatureUom"`
	HumidityUom                                 string `json:"humidityUom"`
}

type hierarchyNode struct {
	LevelType  string          `json:"levelType"`
	LevelValue string          `json:"levelValue"`
	Label      string          `json:"label"`
	Children   []hierarchyNode `json:"children"`
}

// contains looks for "LEVELTYPE levelValue label" anywhere below n.
func (n *hierarchyNode) contains(want string) bool {
	for i := range n.Children {
		c := &n.Children[i]
		if c.LevelType+" "+c.LevelValue+" "+c.Label == want || c.contains(want) {
			return true
		}
	}
	return false
}

// checkPower checks PowerData's types and arithmetic: numbers are JSON numbers, kw and
// powerFactor "NA" in AMER, times epoch-ms strings, kva = primary + redundant, percentage =
// kva / contractual.
func checkPower(t *testing.T, m map[string]any, level, value string) {
	t.Helper()
	if m["levelType"] != level || m["levelValue"] != value || m["accountNo"] != "1" || m["kw"] != "NA" || m["powerFactor"] != "NA" || m["customerName"] == nil {
		t.Errorf("power %v", m)
	}
	var n = map[string]float64{}
	for _, k := range []string{"kva", "soldKva", "contractualKva", "percentageKva", "peakKvaLastSevenDays", "peakKvaLastSevenDaysPercentage",
		"peakKvaLastSevenDaysContractualKva", "primaryKva", "redundantKva"} {
		f, ok := m[k].(float64)
		if !ok {
			t.Errorf("%s = %#v is not a number", k, m[k])
		}
		n[k] = f
	}
	if d := n["kva"] - n["primaryKva"] - n["redundantKva"]; d > 0.002 || d < -0.002 {
		t.Errorf("kva %v != primary %v + redundant %v", n["kva"], n["primaryKva"], n["redundantKva"])
	}
	if d := n["percentageKva"] - n["kva"]/n["contractualKva"]*100; d > 0.1 || d < -0.1 {
		t.Errorf("percentageKva %v != kva/contractual %v", n["percentageKva"], n["kva"]/n["contractualKva"]*100)
	}
	if n["kva"] <= 0 || n["kva"] > n["soldKva"] || n["peakKvaLastSevenDays"] < n["kva"] {
		t.Errorf("kva %v, sold %v, peak %v", n["kva"], n["soldKva"], n["peakKvaLastSevenDays"])
	}
	for _, k := range []string{"readingTime", "lastUpdatedTime"} {
		if s, _ := m[k].(string); !epochMillisString(s) {
			t.Errorf("%s = %#v is not an epoch-ms string", k, m[k])
		}
	}
}

func decimalString(s string, decimals int) bool {
	i := strings.IndexByte(s, '.')
	return i > 0 && len(s)-i-1 == decimals && strings.Trim(s[:i]+s[i+1:], "0123456789") == ""
}

func epochMillisString(s string) bool {
	return len(s) == 13 && strings.Trim(s, "0123456789") == ""
}

func ptr[T any](v T) *T { return &v }

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
