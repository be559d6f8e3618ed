package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestStreamSubscriptionsAPI: the v2 subscriptions CRUD, its 400/422/404
// answers, and subscriptionData's offset pagination and filters over the
// messages the admin API's changes produce.
func TestStreamSubscriptionsAPI(t *testing.T) {
	h := newHarness(t, Config{Seed: 1})
	tok := h.token()
	const base = "/smartview/v2/streaming/subscriptions"
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"messageType":{}}`, 422, "names no message type"},
		{`{"messageType":{"weather":[{"accountNumber":"1","ibx":["CH1"]}]}}`, 422, "unknown message type"},
		{`{"messageType":{"power":[{"accountNumber":"1","ibx":["XX9"]}]}}`, 422, "XX9"},
		{`{"messageType":{"power":[{"accountNumber":"1","ibx":["CH1"]}]},"channel":{"channelType":"WEBHOOK","webhookChannelConfiguration":{"url":"http://x/y"}}}`, 422, "https"},
		{`{"messageType":{"power":[{"accountNumber":"1","ibx":["CH1"]}]},"channel":{"channelType":"FAX"}}`, 422, "FAX"},
		{`{"messageType":`, 400, "Bad Request"},
	} {
		if r := h.post(base, tok, tc.body); r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("POST %s: %d %s; want %d naming %q", tc.body, r.status, r.body, tc.status, tc.want)
		}
	}
	r := h.post(base, tok, `{"messageType":{"systemAlert":[{"accountNumber":"1","ibx":["CH1"]}],"asset":[{"accountNumber":"1","ibx":["CH1","SV4"]}]}}`)
	var sub struct{ ID, Status string }
	r.decode(t, &sub)
	if r.status != 201 || sub.ID == "" || sub.Status != "ACTIVE" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := h.get(base+"/"+sub.ID, tok); r.status != 200 || !strings.Contains(string(r.body), `"systemAlert"`) {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	if r := h.get(base+"/nope", tok); r.status != 404 {
		t.Errorf("get unknown: %d", r.status)
	}

	// 12 tag changes of CH1 and one of SV4, an alarm in CH1.
	for i := range 12 {
		if err := h.s.SetTag(fmt.Sprintf("CH1.Gen-%d:fuelhours", 1+i%2), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.s.RaiseAlarm(AlarmSpec{AssetID: "CH1.Gen-1", TagID: "CH1.Gen-1:fuelhours", ConditionName: "High"}); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Alarms     []json.RawMessage `json:"alarmMessageData"`
		Tags       []json.RawMessage `json:"tagPointMessageData"`
		Pagination struct {
			Offset, Limit, Total int
			Next                 string
		}
	}
	var all page
	h.get("/smartview/v2/streaming/subscriptionData/"+sub.ID+"?limit=1000", tok).decode(t, &all)
	if len(all.Alarms) != 1 || all.Pagination.Total != len(all.Alarms)+len(all.Tags) || all.Pagination.Next != "" {
		t.Fatalf("all: %d alarms, %d tags, %+v", len(all.Alarms), len(all.Tags), all.Pagination)
	}
	// Paged by 2: every message once, in order.
	var got []string
	for off := 0; ; {
		var p page
		r := h.get(fmt.Sprintf("/smartview/v2/streaming/subscriptionData/%s?offset=%d&limit=2", sub.ID, off), tok)
		r.decode(t, &p)
		if p.Pagination.Offset != off || p.Pagination.Total != all.Pagination.Total {
			t.Fatalf("page at %d: %+v", off, p.Pagination)
		}
		for _, m := range append(p.Alarms, p.Tags...) {
			got = append(got, string(m))
		}
		if p.Pagination.Next == "" {
			break
		}
		off += 2
	}
	if len(got) != all.Pagination.Total {
		t.Errorf("paged: %d messages, want %d", len(got), all.Pagination.Total)
	}
	var alarms page
	h.get("/smartview/v2/streaming/subscriptionData/"+sub.ID+"?messageTypes=ALARM", tok).decode(t, &alarms)
	if len(alarms.Alarms) != 1 || len(alarms.Tags) != 0 {
		t.Errorf("messageTypes=ALARM: %d alarms, %d tags", len(alarms.Alarms), len(alarms.Tags))
	}
	if r := h.get("/smartview/v2/streaming/subscriptionData/"+sub.ID+"?limit=0", tok); r.status != 400 {
		t.Errorf("limit=0: %d", r.status)
	}

	if r := h.do("PUT", base+"/"+sub.ID, tok, "application/json", `{"messageType":{"power":[{"accountNumber":"1","ibx":["CH1"]}]}}`); r.status != 204 {
		t.Errorf("put: %d %s", r.status, r.body)
	}
	var none page
	h.get("/smartview/v2/streaming/subscriptionData/"+sub.ID, tok).decode(t, &none)
	if len(none.Alarms)+len(none.Tags) != 0 {
		t.Errorf("after the update to power only: %d alarm and %d tag messages", len(none.Alarms), len(none.Tags))
	}
	if r := h.do("DELETE", base+"/"+sub.ID, tok, "", ""); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
	if r := h.get("/smartview/v2/streaming/subscriptionData/"+sub.ID, tok); r.status != http.StatusNotFound {
		t.Errorf("data of a deleted subscription: %d", r.status)
	}
	if r := h.get(base, ""); r.status != 401 {
		t.Errorf("without a token: %d", r.status)
	}
}
