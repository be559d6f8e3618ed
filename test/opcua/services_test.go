package e2e

import (
	"testing"

	"github.com/svgateway/svgateway/model/modeltest"
)

// checks indexes a script's {"check": NAME, ...} lines by name.
func checks(t *testing.T, lines []map[string]any) map[string]map[string]any {
	t.Helper()
	m := map[string]map[string]any{}
	for _, l := range lines {
		if c, ok := l["check"].(string); ok {
			m[c] = l
		}
	}
	return m
}

// TestTransferSubscriptionsAndTriggering: node-opcua moves a subscription
// to a new session (the old one is told GoodSubscriptionTransferred, the new
// one gets initial and live data), another user is refused, a session
// closed without deleting its subscriptions hands them on; SetTriggering
// links an item in Sampling mode to a reporting one. Bad ids get their
// specific status codes and the server keeps serving.
func TestTransferSubscriptionsAndTriggering(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 1, Tags: 1})
	ibx := modeltest.IBX(0)
	leaf := "ns=2;s=" + ibx + "/CAGE/" + ibx + ":01:000000#KVA"
	c := checks(t, s.script(t, "services.js", "--leaf", leaf, "--user", testUser+":"+testPassword))
	want := map[string]string{
		"before-transfer":                     "Good",
		"transfer":                            "Good",
		"transfer-old-session":                "GoodSubscriptionTransferred",
		"transfer-initial":                    "Good",
		"transfer-live":                       "Good",
		"transfer-other-user":                 "BadUserAccessDenied",
		"owner-keeps":                         "Good",
		"transfer-empty":                      "BadNothingToDo",
		"transfer-after-close":                "Good",
		"transfer-after-close-data":           "Good",
		"sampling-unlinked":                   "silent",
		"set-triggering":                      "Good",
		"triggered":                           "Good",
		"set-triggering-remove":               "Good",
		"set-triggering-unknown-item":         "BadMonitoredItemIdInvalid",
		"set-triggering-unknown-subscription": "BadSubscriptionIdInvalid",
		"set-triggering-nothing":              "BadNothingToDo",
		"alive":                               "Good",
	}
	for name, status := range want {
		if got := c[name]; got == nil || got["status"] != status {
			t.Errorf("%s: %v, want status %s", name, got, status)
		}
	}
	if r := c["transfer"]["results"]; !equalStrings(r, "Good", "BadSubscriptionIdInvalid") {
		t.Errorf("transfer results %v", r)
	}
	if r := c["transfer-old-session"]; r != nil && r["sub"] != r["expect"] {
		t.Errorf("status change for subscription %v, want %v", r["sub"], r["expect"])
	}
	if r := c["set-triggering"]; !equalStrings(r["add"], "Good", "BadMonitoredItemIdInvalid") || !equalStrings(r["remove"], "BadMonitoredItemIdInvalid") {
		t.Errorf("set-triggering results %v", r)
	}
	if r := c["set-triggering-remove"]; !equalStrings(r["remove"], "Good") {
		t.Errorf("set-triggering remove results %v", r)
	}
	for _, name := range []string{"before-transfer", "transfer-initial", "transfer-after-close-data", "triggered"} {
		if v, ok := c[name]["leaf"].(float64); !ok || v == 0 {
			t.Errorf("%s: the leaf's value is %v", name, c[name]["leaf"])
		}
	}
}

func equalStrings(v any, want ...string) bool {
	l, ok := v.([]any)
	if !ok || len(l) != len(want) {
		return false
	}
	for i, w := range want {
		if l[i] != w {
			return false
		}
	}
	return true
}
