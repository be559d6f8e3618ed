package sandbox

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"
)

type restAlarm struct {
	IBX                 string `json:"ibx"`
	AccountNo           string `json:"accountNo"`
	AssetID             string `json:"assetId"`
	AssetType           string `json:"assetType"`
	AssetClassification string `json:"assetClassification"`
	ConditionName       string `json:"conditionName"`
	Severity            string `json:"severity"`
	Status              bool   `json:"status"`
	Ack                 bool   `json:"ack"`
	TagID               string `json:"tagId"`
	CustomerID          string `json:"customerId"`
	TimeProcessed       int64  `json:"timeProcessed"`
	TimeTrigerred       int64  `json:"timeTrigerred"`
	TimeNormalProcessed int64  `json:"timeNormalProcessed"`
	CustomerAssets      []any  `json:"customerassets"`
}

type alarmsAnswer struct {
	Alarms        []restAlarm `json:"alarms"`
	GroupedAlarms []struct {
		IBX        string      `json:"ibx"`
		TotalCount int         `json:"totalCount"`
		Alarms     []restAlarm `json:"alarms"`
	} `json:"groupedAlarms"`
	TotalCount int `json:"totalCount"`
}

func TestAlarmsAsDocumented(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	r := h.get("/alarm/v1/smartview/alarms?accountNo=1&limit=10", tok)
	var a alarmsAnswer
	r.decode(t, &a)
	m := r.object(t)
	if _, ok := m["groupedAlarms"]; !ok || m["groupedAlarms"] != nil {
		t.Errorf("groupedAlarms should be null: %s", r.body)
	}
	if a.TotalCount != 4 || len(a.Alarms) != 4 {
		t.Fatalf("alarms %s", r.body)
	}
	want := restAlarm{IBX: "CH3", AccountNo: "1", AssetID: "CH3.STS-B1.A5", AssetType: "ASTS", AssetClassification: "Electrical",
		ConditionName: "Alarm", Severity: "Urgent", TagID: "CH3.STS-B1.A5:alarm", CustomerID: "ALL",
		TimeProcessed: 1550509311772, TimeTrigerred: 1546342538650, TimeNormalProcessed: 1550509435530, CustomerAssets: []any{}}
	if !equalJSON(a.Alarms[2], want) {
		t.Errorf("third alarm %+v\nwant %+v", a.Alarms[2], want)
	}
	if a.Alarms[0].AssetID != "DC5.UPS-R1" || !a.Alarms[0].Status || !a.Alarms[0].Ack || a.Alarms[0].TimeTrigerred != 1546510663707 ||
		a.Alarms[1].AssetID != "CH3.PDU-A3.A5" || a.Alarms[3].AssetID != "CH1.Lead Chilled Water Manager" {
		t.Errorf("alarms %s", r.body)
	}
	// both path variants
	if r2 := h.get("/alarms/v1/smartview/alarms?accountNo=1&limit=10", tok); string(r2.body) != string(r.body) {
		t.Errorf("/alarms/v1 answers differently: %s", r2.body)
	}
}

func TestAlarmPagingAndGrouping(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	for _, id := range []string{"SV4.PDU-1", "CH3.UPS-1", "CH1.Gen-2"} {
		if _, err := h.s.RaiseAlarm(AlarmSpec{AssetID: id}); err != nil {
			t.Fatal(err)
		}
	}
	// 7 alarms: DC5, CH3, CH3, CH1, SV4, CH3, CH1
	all := func(q string) alarmsAnswer {
		var a alarmsAnswer
		h.get("/alarm/v1/smartview/alarms?accountNo=1"+q, tok).decode(t, &a)
		return a
	}
	ids := func(as []restAlarm) (out []string) {
		for _, a := range as {
			out = append(out, a.AssetID)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		total int
		want  []string
	}{
		{"", 7, []string{"DC5.UPS-R1", "CH3.PDU-A3.A5", "CH3.STS-B1.A5", "CH1.Lead Chilled Water Manager", "SV4.PDU-1", "CH3.UPS-1", "CH1.Gen-2"}},
		{"&limit=2", 7, []string{"DC5.UPS-R1", "CH3.PDU-A3.A5"}},
		{"&limit=2&offset=2", 7, []string{"CH3.STS-B1.A5", "CH1.Lead Chilled Water Manager"}},
		{"&limit=10&offset=6", 7, []string{"CH1.Gen-2"}},
		{"&offset=99", 7, nil},
		{"&ibx=CH3", 3, []string{"CH3.PDU-A3.A5", "CH3.STS-B1.A5", "CH3.UPS-1"}},
		{"&ibx=CH3,DC5&limit=1&offset=1", 4, []string{"CH3.PDU-A3.A5"}},
	} {
		a := all(tc.query)
		if a.TotalCount != tc.total || !equalJSON(ids(a.Alarms), tc.want) {
			t.Errorf("%q: total %d %q, want %d %q", tc.query, a.TotalCount, ids(a.Alarms), tc.total, tc.want)
		}
	}

	g := all("&groupByIBX=true")
	var groups []string
	for _, gr := range g.GroupedAlarms {
		groups = append(groups, gr.IBX)
		if gr.TotalCount != len(gr.Alarms) {
			t.Errorf("group %s totalCount %d with %d alarms", gr.IBX, gr.TotalCount, len(gr.Alarms))
		}
		for _, a := range gr.Alarms {
			if a.IBX != gr.IBX {
				t.Errorf("alarm of %s in group %s", a.IBX, gr.IBX)
			}
		}
	}
	if g.Alarms != nil || g.TotalCount != 7 || !equalJSON(groups, []string{"CH1", "SV4", "CH3", "DC5"}) {
		t.Errorf("grouped: %+v", g)
	}
	if g := all("&groupByIBX=true&limit=3"); len(g.GroupedAlarms) != 2 || g.GroupedAlarms[0].TotalCount != 2 || g.GroupedAlarms[1].IBX != "SV4" {
		t.Errorf("grouped page: %+v", g)
	}
}

// An alarm raised, acknowledged and cleared through the admin API shows in REST and in the feed.
func TestAlarmLifecycle(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	events, cancel := h.s.Subscribe(100)
	defer cancel()

	admin := func(body string) (int, AlarmRef) {
		r := h.post("/_sandbox/alarms", "", body)
		var ref AlarmRef
		if r.status == 200 {
			r.decode(t, &ref)
		}
		return r.status, ref
	}
	status, raised := admin(`{"action":"raise","assetId":"CH1.Gen-2","severity":650}`)
	if status != 200 || raised.TagID != "CH1.Gen-2:alarm" || raised.ConditionName != "Alarm" || raised.Severity != "High" || !raised.Status || raised.Ack ||
		raised.TimeTriggered != h.clock.now().UnixMilli() || raised.IBX != "CH1" {
		t.Fatalf("raise: %d %+v", status, raised)
	}
	if status, _ := admin(`{"action":"raise","tagId":"CH1.Gen-2:alarm"}`); status != 409 {
		t.Errorf("raising it again: %d, want 409", status)
	}
	if status, _ := admin(`{"action":"raise","tagId":"CH1.Nope:alarm"}`); status != 404 {
		t.Errorf("unknown tag: %d, want 404", status)
	}
	if status, _ := admin(`{"action":"explode","tagId":"CH1.Gen-2:alarm"}`); status != 400 {
		t.Errorf("unknown action: %d, want 400", status)
	}

	restAlarmOf := func() restAlarm {
		var a alarmsAnswer
		h.get("/alarm/v1/smartview/alarms?accountNo=1&ibx=CH1", tok).decode(t, &a)
		for _, x := range a.Alarms {
			if x.TagID == "CH1.Gen-2:alarm" && x.TimeTrigerred == raised.TimeTriggered {
				return x
			}
		}
		t.Fatalf("alarm not listed: %+v", a)
		return restAlarm{}
	}
	assetState := func() (list assetSummary, details assetDetails) {
		var p assetListPayload
		h.get("/asset/v1/list?accountNo=1&ibx=CH1&classification=Electrical", tok).payload(t, &p)
		for _, a := range p.find("Global", "Generator").Assets {
			if a.AssetID == "CH1.Gen-2" {
				list = a
			}
		}
		h.get("/asset/v1/details?accountNo=1&ibx=CH1&classification=Electrical&assetId=CH1.Gen-2", tok).payload(t, &details)
		return list, details
	}

	a := restAlarmOf()
	list, details := assetState()
	if !a.Status || a.Ack || a.Severity != "High" || a.TimeNormalProcessed != 0 || list.AlarmStatus != "NOT OK" || *list.AlarmLastClearedTime != "Currently Active" ||
		*details.AlarmLastProcessedTime != "Currently Active" || details.Tags[3].Value != "ALARM" || details.Tags[3].AlarmStatus != "NOT OK" {
		t.Errorf("raised: %+v %+v %+v", a, list, details)
	}

	h.clock.advance(time.Minute)
	if status, ref := admin(`{"action":"ack","assetId":"CH1.Gen-2"}`); status != 200 || !ref.Ack || !ref.Status {
		t.Errorf("ack: %d %+v", status, ref)
	}
	if status, _ := admin(`{"action":"ack","assetId":"CH1.Gen-2"}`); status != 404 {
		t.Errorf("second ack: %d, want 404", status)
	}
	if a := restAlarmOf(); !a.Ack || !a.Status {
		t.Errorf("acknowledged: %+v", a)
	}

	h.clock.advance(time.Minute)
	status, cleared := admin(`{"action":"clear","tagId":"CH1.Gen-2:alarm","conditionName":"Alarm"}`)
	if status != 200 || cleared.Status || cleared.TimeTriggered != raised.TimeTriggered {
		t.Errorf("clear: %d %+v", status, cleared)
	}
	a = restAlarmOf()
	list, details = assetState()
	if a.Status || !a.Ack || a.TimeNormalProcessed != h.clock.now().UnixMilli() || list.AlarmStatus != "OK" ||
		*list.AlarmLastClearedTime != assetTime(h.clock.now().UnixMilli()) || details.AlarmLastProcessedTime != nil || details.Tags[3].Value != "NORMAL" {
		t.Errorf("cleared: %+v %+v %+v", a, list, details)
	}

	// the feed saw raise, ack and clear, each as alarm_updated and alert_updated
	var alarmStates []string
	var alertEvents []string
	for len(events) > 0 {
		var ev struct {
			Name  string          `json:"name"`
			Alarm json.RawMessage `json:"alarm"`
			Alert json.RawMessage `json:"alert"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(<-events, &ev); err != nil {
			t.Fatal(err)
		}
		switch ev.Name {
		case "alarm_updated":
			var fa map[string]any
			json.Unmarshal(ev.Alarm, &fa)
			if fa["tagid"] != "CH1.Gen-2:alarm" || fa["severity"] != float64(650) || fa["timetriggered"] != strconv.FormatInt(raised.TimeTriggered, 10) ||
				fa["assetclassification"] != "Electrical" || fa["ibx"] != "CH1" || fa["valuetype"] != "Bool" {
				t.Errorf("feed alarm %s", ev.Alarm)
			}
			alarmStates = append(alarmStates, fmtState(fa["status"], fa["ack"], fa["timenormalprocessed"]))
		case "alert_updated":
			var fa map[string]any
			json.Unmarshal(ev.Alert, &fa)
			alertEvents = append(alertEvents, fa["eventtype"].(string))
		case "tagpoint_updated":
		default:
			t.Errorf("unexpected event %s", ev.Name)
		}
	}
	wantStates := []string{"active unacked 0", "active acked 0", "cleared acked " + strconv.FormatInt(h.clock.now().UnixMilli(), 10)}
	if !equalJSON(alarmStates, wantStates) || !equalJSON(alertEvents, []string{"TRIGGERED", "ACKNOWLEDGED", "CLEARED"}) {
		t.Errorf("feed alarm states %q alerts %q", alarmStates, alertEvents)
	}
}

func fmtState(status, ack, normal any) string {
	s := "cleared "
	if status == true {
		s = "active "
	}
	if ack == true {
		s += "acked "
	} else {
		s += "unacked "
	}
	return s + normal.(string)
}

func TestAlarmGoAPIErrors(t *testing.T) {
	h := newHarness(t, Config{})
	if _, err := h.s.ClearAlarm(AlarmSpec{AssetID: "CH1.Gen-1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("clearing no alarm: %v", err)
	}
	if _, err := h.s.RaiseAlarm(AlarmSpec{AssetID: "CH1.Gen-1", TagID: "CH1.Gen-2:alarm"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("tag of another asset: %v", err)
	}
	if _, err := h.s.RaiseAlarm(AlarmSpec{AssetID: "CH1.Gen-1", Severity: 950}); err == nil {
		t.Error("severity 950 accepted")
	}
	ref, err := h.s.RaiseAlarm(AlarmSpec{TagID: "CH1.Gen-1:fuelhours", ConditionName: "Low", Severity: 450})
	if err != nil || ref.Severity != "Low" {
		t.Fatalf("raise on an analog point: %+v %v", ref, err)
	}
	if _, err := h.s.RaiseAlarm(AlarmSpec{TagID: "CH1.Gen-1:fuelhours", ConditionName: "Low"}); !errors.Is(err, ErrConflict) {
		t.Errorf("raising twice: %v", err)
	}
	if _, err := h.s.RaiseAlarm(AlarmSpec{TagID: "CH1.Gen-1:fuelhours", ConditionName: "High"}); err != nil {
		t.Errorf("another condition on the same point: %v", err)
	}
}
