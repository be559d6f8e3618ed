package smartview

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestAlarmsDocumentedExample(t *testing.T) {
	api := newTestAPI(t)
	api.serve("GET /alarms/v1/smartview/alarms", "alarms.json")
	list, err := api.defaultClient().Alarms(context.Background(), AlarmQuery{IBX: "CH3", PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Alarms) != 3 || list.TotalCount != 2389 || list.Complete || list.Grouped != nil {
		t.Fatalf("got %d alarms of %d, complete %v", len(list.Alarms), list.TotalCount, list.Complete)
	}
	q := api.requests[0].URL.Query()
	if q.Get("accountNo") != "1" || q.Get("ibx") != "CH3" || q.Get("limit") != "10" || q.Get("offset") != "0" || q.Has("groupByIBX") {
		t.Errorf("query %v", q)
	}
	a := list.Alarms[2]
	want := Alarm{
		IBX: "CH3", AccountNo: "1", AssetID: "CH3.STS-B1.A5", AssetType: "ASTS", AssetClassification: "Electrical",
		ConditionName: "Alarm", TagID: "CH3.STS-B1.A5:alarm", CustomerID: "ALL",
	}
	if a.IBX != want.IBX || a.AccountNo != want.AccountNo || a.AssetID != want.AssetID || a.AssetType != want.AssetType ||
		a.AssetClassification != want.AssetClassification || a.ConditionName != want.ConditionName || a.TagID != want.TagID ||
		a.CustomerID != want.CustomerID {
		t.Errorf("alarm %+v", a)
	}
	if a.Severity.Level != SeverityUrgent || a.Severity.Text != "Urgent" || !a.Status.Valid || a.Status.Value || !a.Ack.Valid || a.Ack.Value {
		t.Errorf("severity/status/ack: %+v %+v %+v", a.Severity, a.Status, a.Ack)
	}
	if !a.TimeTriggered.Time.Equal(time.UnixMilli(1546342538650)) || !a.TimeProcessed.Time.Equal(time.UnixMilli(1550509311772)) ||
		!a.TimeNormalProcessed.Time.Equal(time.UnixMilli(1550509435530)) {
		t.Errorf("times: %v %v %v", a.TimeTriggered.Time, a.TimeProcessed.Time, a.TimeNormalProcessed.Time)
	}
	if active := list.Alarms[0]; !active.Status.Value || active.TimeNormalProcessed.Valid || active.TimeNormalProcessed.Raw != "0" {
		t.Errorf("active alarm: %+v", active)
	}
}

// alarmServer serves n generated alarms with limit/offset paging. maxLimit caps the page size as
// a server might; noCount leaves totalCount out.
func alarmServer(t *testing.T, api *testAPI, n, maxLimit int, noCount bool) {
	api.handle("GET /alarms/v1/smartview/alarms", func(w http.ResponseWriter, r *http.Request) {
		limit, err1 := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, err2 := strconv.Atoi(r.URL.Query().Get("offset"))
		if err1 != nil || err2 != nil {
			t.Errorf("limit/offset: %v", r.URL.Query())
		}
		if maxLimit > 0 {
			limit = min(limit, maxLimit)
		}
		page := []map[string]any{}
		for i := offset; i < min(offset+limit, n); i++ {
			page = append(page, map[string]any{
				"ibx": "SV4", "assetId": fmt.Sprintf("SV4.UPS-%d", i), "tagId": fmt.Sprintf("SV4.UPS-%d:alarm", i),
				"severity": "High", "status": true, "timeTrigerred": 1546510663707 + i,
			})
		}
		resp := map[string]any{"alarms": page, "groupedAlarms": nil}
		if !noCount {
			resp["totalCount"] = n
		}
		json.NewEncoder(w).Encode(resp)
	})
}

func TestAlarmsPaging(t *testing.T) {
	tests := []struct {
		name         string
		n, maxLimit  int
		noCount      bool
		pageSize     int
		maxPages     int
		wantOffsets  []string
		wantAlarms   int
		wantComplete bool
	}{
		{name: "three pages", n: 7, pageSize: 3, wantOffsets: []string{"0", "3", "6"}, wantAlarms: 7, wantComplete: true},
		{name: "exact multiple", n: 6, pageSize: 3, wantOffsets: []string{"0", "3"}, wantAlarms: 6, wantComplete: true},
		{name: "no alarms", n: 0, pageSize: 3, wantOffsets: []string{"0"}, wantAlarms: 0, wantComplete: true},
		{name: "server caps the page size", n: 5, maxLimit: 2, pageSize: 4, wantOffsets: []string{"0", "2", "4"}, wantAlarms: 5, wantComplete: true},
		{name: "page cap", n: 10, pageSize: 3, maxPages: 2, wantOffsets: []string{"0", "3"}, wantAlarms: 6, wantComplete: false},
		{name: "no totalCount: a short page ends", n: 5, noCount: true, pageSize: 2, wantOffsets: []string{"0", "2", "4"}, wantAlarms: 5, wantComplete: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			alarmServer(t, api, tt.n, tt.maxLimit, tt.noCount)
			cfg := api.config()
			cfg.AlarmMaxPages = tt.maxPages
			list, err := api.client(cfg, Options{}).Alarms(context.Background(), AlarmQuery{PageSize: tt.pageSize})
			if err != nil {
				t.Fatal(err)
			}
			var offsets []string
			for _, r := range api.requests {
				offsets = append(offsets, r.URL.Query().Get("offset"))
			}
			if !reflect.DeepEqual(offsets, tt.wantOffsets) {
				t.Errorf("offsets %v, want %v", offsets, tt.wantOffsets)
			}
			if len(list.Alarms) != tt.wantAlarms || list.Complete != tt.wantComplete || list.Pages != len(tt.wantOffsets) {
				t.Errorf("%d alarms, complete %v, %d pages", len(list.Alarms), list.Complete, list.Pages)
			}
			for i, a := range list.Alarms {
				if a.AssetID != fmt.Sprintf("SV4.UPS-%d", i) || a.Severity.Level != SeverityHigh {
					t.Errorf("alarm %d: %s %v", i, a.AssetID, a.Severity)
				}
			}
		})
	}
}

// An alarm that moves from page 1 to page 2 while the listing is paged is kept once.
func TestAlarmsDeduplicatesShiftedPages(t *testing.T) {
	api := newTestAPI(t)
	api.handle("GET /alarms/v1/smartview/alarms", func(w http.ResponseWriter, r *http.Request) {
		pages := map[string]string{
			"0": `{"alarms":[{"ibx":"CH1","tagId":"a","timeTrigerred":1},{"ibx":"CH1","tagId":"b","timeTrigerred":2}],"totalCount":4}`,
			"2": `{"alarms":[{"ibx":"CH1","tagId":"b","timeTrigerred":2},{"ibx":"CH1","tagId":"c","timeTrigerred":3}],"totalCount":4}`,
			"4": `{"alarms":[],"totalCount":4}`,
		}
		w.Write([]byte(pages[r.URL.Query().Get("offset")]))
	})
	list, err := api.defaultClient().Alarms(context.Background(), AlarmQuery{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, a := range list.Alarms {
		tags = append(tags, a.TagID)
	}
	if !reflect.DeepEqual(tags, []string{"a", "b", "c"}) || list.Complete {
		t.Errorf("tags %v, complete %v", tags, list.Complete)
	}
}

func TestAlarmsGroupedByIBX(t *testing.T) {
	api := newTestAPI(t)
	api.handle("GET /alarms/v1/smartview/alarms", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("groupByIBX") != "true" {
			t.Errorf("query %v", r.URL.Query())
		}
		w.Write([]byte(`{"alarms":[{"ibx":"CH1","tagId":"a"}],"groupedAlarms":[{"ibx":"CH1","alarms":[{"tagId":"a"}]}],"totalCount":1}`))
	})
	list, err := api.defaultClient().Alarms(context.Background(), AlarmQuery{GroupByIBX: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Grouped) != 1 || string(list.Grouped[0]) != `[{"ibx":"CH1","alarms":[{"tagId":"a"}]}]` {
		t.Errorf("grouped %s", list.Grouped)
	}
}

func TestAlarmAcceptsTimeTriggeredSpelling(t *testing.T) {
	for _, in := range []string{`{"timeTrigerred":1546510663707}`, `{"timeTriggered":1546510663707}`, `{"timetriggered":"1546510663707"}`} {
		var a Alarm
		if err := json.Unmarshal([]byte(in), &a); err != nil || !a.TimeTriggered.Time.Equal(time.UnixMilli(1546510663707)) {
			t.Errorf("%s: %v %v", in, a.TimeTriggered, err)
		}
	}
}
