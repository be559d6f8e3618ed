package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	const p = "/hierarchy/v1/location?accountNo=1&ibx=CH1"
	for _, tc := range []struct {
		name   string
		faults Faults
		status int
		check  func(t *testing.T, r response)
	}{
		{"rate limit", Faults{RateLimit: 1, RetryAfter: 1500 * time.Millisecond}, 429, func(t *testing.T, r response) {
			if got := r.header.Get("Retry-After"); got != "2" {
				t.Errorf("Retry-After %q, want \"2\" (1.5s rounded up)", got)
			}
		}},
		{"server error", Faults{ServerError: 1}, 500, nil},
		{"unavailable", Faults{Unavailable: 1}, 503, nil},
		{"latency", Faults{Latency: time.Millisecond}, 200, nil},
		{"malformed", Faults{Malformed: 1}, 200, func(t *testing.T, r response) {
			var v []map[string]any
			if json.Unmarshal(r.body, &v) == nil {
				t.Errorf("body decodes as the hierarchy it should not be: %s", r.body)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			tok := h.token()
			if err := h.s.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				r := h.get(p, tok)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if tc.status != 200 {
					m := r.object(t)
					if m["code"] == nil || m["message"] == nil {
						t.Errorf("error body %s", r.body)
					}
				}
				if tc.check != nil {
					tc.check(t, r)
				}
			}
			kind := map[string]string{"rate limit": "429", "server error": "500", "unavailable": "503", "latency": "latency", "malformed": "malformed"}[tc.name]
			if st := h.s.Stats(); st.FaultsInjected[kind] != 3 {
				t.Errorf("FaultsInjected %v, want 3 %s", st.FaultsInjected, kind)
			}
			// admin endpoints never fail
			if r := h.get("/_sandbox/stats", ""); r.status != 200 {
				t.Errorf("admin stats under faults: %d", r.status)
			}
		})
	}
}

func TestFaultFractions(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	if err := h.s.SetFaults(Faults{RateLimit: 0.25, Unavailable: 0.25}); err != nil {
		t.Fatal(err)
	}
	const n = 400
	got := map[int]int{}
	for range n {
		got[h.get("/hierarchy/v1/location?accountNo=1&ibx=CH1", tok).status]++
	}
	for _, status := range []int{200, 429, 503} {
		if got[status] < n/10 {
			t.Errorf("status %d seen %d times of %d: %v", status, got[status], n, got)
		}
	}
}

func TestWrongTypesStaysJSON(t *testing.T) {
	for _, body := range []string{
		`{"payLoad":[{"a":1}],"status":{"type":"INFO"}}`,
		`{"alarms":[],"groupedAlarms":null,"totalCount":3}`,
		`[{"levelType":"IBX"}]`,
		`{"access_token":"x","token_timeout":"3600"}`,
	} {
		out := wrongTypes([]byte(body))
		var v any
		if err := json.Unmarshal(out, &v); err != nil || string(out) == body {
			t.Errorf("%s → %s (%v)", body, out, err)
		}
		if strings.Contains(body, `"payLoad":[`) && !strings.Contains(string(out), `"payLoad":"unexpected"`) {
			t.Errorf("%s → %s", body, out)
		}
	}
}

func TestAdminFaults(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.do("PUT", "/_sandbox/faults", "", "application/json", `{"rate_limit":0.5,"retry_after":"3s","latency":"20ms","token_ttl":"10s"}`)
	if r.status != 200 {
		t.Fatalf("PUT faults: %d %s", r.status, r.body)
	}
	want := Faults{RateLimit: 0.5, RetryAfter: 3 * time.Second, Latency: 20 * time.Millisecond, TokenTTL: 10 * time.Second}
	if got := h.s.Faults(); got != want {
		t.Errorf("faults %+v, want %+v", got, want)
	}
	var echoed Faults
	h.get("/_sandbox/faults", "").decode(t, &echoed)
	if echoed != want {
		t.Errorf("GET faults %+v, want %+v", echoed, want)
	}
	for _, bad := range []string{`{"rate_limit":2}`, `{"latency":"forever"}`, `{"rate_limit":0.6,"unavailable":0.6}`, `{`} {
		if r := h.do("PUT", "/_sandbox/faults", "", "application/json", bad); r.status != 400 {
			t.Errorf("PUT %s: %d, want 400", bad, r.status)
		}
	}
	if r := h.do("PUT", "/_sandbox/faults", "", "application/json", `{}`); r.status != 200 || h.s.Faults().RateLimit != 0 {
		t.Errorf("clearing faults: %d %+v", r.status, h.s.Faults())
	}
}
