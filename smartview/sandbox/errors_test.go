package sandbox

import (
	"strconv"
	"strings"
	"testing"
)

// The reference's documented errors and the sandbox's faults.
func TestDocumentedErrors(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	for _, tc := range []struct {
		name, method, path, contentType, body string
		status                                int
		statuscode                            string // envelope status, for HTTP 200
	}{
		{"unknown path", "GET", "/feedsubscription/v1/subscribed", "", "", 404, ""},
		{"unknown path without a token", "GET", "/nope", "", "", 404, ""},
		{"wrong method", "DELETE", "/asset/v1/list", "", "", 405, ""},
		{"form-encoded POST", "POST", "/power/v1/current", "application/x-www-form-urlencoded", "accountNo=1&ibx=CH1&levelType=IBX", 415, ""},
		{"invalid level type, environment", "GET", "/environment/v1/current/?accountNo=1&ibx=CH1&levelType=ibc&levelValue=CH1", "", "", 200, "3001"},
		{"invalid level type, environment list", "GET", "/environment/v1/listCurrent?accountNo=1&ibx=CH1&levelType=CABINET", "", "", 200, "3001"},
		{"invalid level type, power", "GET", "/power/v1/current?accountNo=1&ibx=CH1&levelType=ZONE&levelValue=x", "", "", 200, "3001"},
		{"invalid level type, power POST", "POST", "/power/v1/current", "application/json", `{"accountNo":"1","ibx":"CH1","levelType":"SENSOR"}`, 200, "3001"},
		{"missing ibx, environment", "GET", "/environment/v1/current/?accountNo=1&levelType=ibx&levelValue=CH1", "", "", 200, "4000"},
		{"missing levelValue, power", "GET", "/power/v1/current?accountNo=1&ibx=CH1&levelType=IBX", "", "", 200, "4000"},
		{"missing accountNo, asset list", "GET", "/asset/v1/list?ibx=CH1&classification=Electrical", "", "", 200, "4000"},
		{"bad classification", "GET", "/asset/v1/list?accountNo=1&ibx=CH1&classification=Plumbing", "", "", 200, "4000"},
		{"missing assetId", "GET", "/asset/v1/details?accountNo=1&ibx=CH1&classification=Electrical", "", "", 200, "4000"},
		{"missing assetIds, POST", "POST", "/asset/v1/details", "application/json", `{"accountNo":"1","ibx":"CH1","classification":"Electrical"}`, 200, "4000"},
		{"missing tagId", "GET", "/asset/v1/tagpoint/current?accountNo=1&ibx=CH1", "", "", 200, "4000"},
		{"missing tagIds, POST", "POST", "/asset/v1/tagpoint/current", "application/json", `{"accountNo":"1","ibx":"CH1"}`, 200, "4000"},
		{"missing ibx, hierarchy", "GET", "/hierarchy/v1/location?accountNo=1", "", "", 200, "4000"},
		{"missing accountNo, alarms", "GET", "/alarms/v1/smartview/alarms?limit=1", "", "", 200, "4000"},
		{"bad limit, alarms", "GET", "/alarms/v1/smartview/alarms?accountNo=1&limit=-1", "", "", 200, "4000"},
		{"malformed JSON body", "POST", "/power/v1/current", "application/json", `{"accountNo":`, 400, ""},
		{"unknown subscription", "GET", "/registration/v1/subscribe/000000000000000000000000", "", "", 404, ""},
		{"subscription without config", "POST", "/feedsubscriptions/v1/subscribe", "application/json", `{"power":[{"accountNo":"1","ibx":"CH1"}]}`, 400, ""},
		{"subscription with PUSH", "POST", "/feedsubscriptions/v1/subscribe", "application/json", `{"config":{"provider":"GOOGLE","method":"PUSH"}}`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tok, tc.contentType, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			m := r.object(t)
			switch {
			case tc.statuscode != "":
				msg := map[string]string{"3001": "Invalid Level Type", "4000": "INTERNAL_ERROR"}[tc.statuscode]
				if path(m, "status", "type") != "ERROR" || path(m, "status", "statuscode") != tc.statuscode || path(m, "status", "msg") != msg {
					t.Errorf("envelope %s", r.body)
				}
				if p, ok := m["payLoad"].(map[string]any); !ok || len(p) != 0 {
					t.Errorf("payLoad %v, want {}", m["payLoad"])
				}
			case strings.Contains(tc.path, "subscribe") && tc.status == 400:
				if m["status"] != "ERROR" || len(m["errors"].([]any)) != 1 {
					t.Errorf("subscription error %s", r.body)
				}
			default:
				wantPath, _, _ := strings.Cut(tc.path, "?")
				if m["code"] != strconv.Itoa(tc.status) || m["path"] != wantPath || !epochMillisString(m["timestamp"].(string)) {
					t.Errorf("error body %s", r.body)
				}
			}
		})
	}
	if r := h.get("/feedsubscription/v1/subscribed", tok); !strings.Contains(string(r.body), `"message":"Not Found - No message available"`) {
		t.Errorf("404 message %s", r.body)
	}
	st := h.s.Stats()
	if st.Requests["unmatched"][404] != 3 || st.Requests["POST /power/v1/current"][415] != 1 || st.Requests["GET /environment/v1/current"][200] != 2 {
		t.Errorf("request counters %v", st.Requests)
	}
}
