package e2e

import (
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
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
// one gets initial and live data), another user and an anonymous session
// without signing are refused, a session
// closed without deleting its subscriptions hands them on, so does one that
// timed out; SetTriggering
// links an item in Sampling mode to a reporting one. Bad ids get their
// specific status codes and the server keeps serving.
func TestTransferSubscriptionsAndTriggering(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 1, Tags: 1})
	ibx := modeltest.IBX(0)
	leaf := "ns=2;s=" + ibx + "/CAGE/" + ibx + ":01:000000#KVA"
	c := checks(t, s.script(t, "services.js", "--leaf", leaf, "--user", testUser+":"+testPassword, "--security", "Basic256Sha256:SignAndEncrypt"))
	want := map[string]string{
		"before-transfer":                     "Good",
		"transfer":                            "Good",
		"transfer-old-session":                "GoodSubscriptionTransferred",
		"transfer-initial":                    "Good",
		"transfer-live":                       "Good",
		"transfer-other-user":                 "BadUserAccessDenied",
		"transfer-unsigned-anonymous":         "BadUserAccessDenied",
		"owner-keeps":                         "Good",
		"transfer-empty":                      "BadNothingToDo",
		"transfer-after-close":                "Good",
		"transfer-after-close-data":           "Good",
		"session-timed-out":                   "Good",
		"transfer-after-timeout":              "Good",
		"transfer-after-timeout-data":         "Good",
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

// TestServerInfoForClients: what a client reads before subscribing. The
// ServerDiagnosticsSummary counts sessions, subscriptions and a refused
// activation as they happen; Server/Namespaces describes namespace 0 (a
// subset) and the SmartView namespace; a text tag is String and a numeric
// one Double before either has a value.
func TestServerInfoForClients(t *testing.T) {
	s := startWith(t, modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 1, Tags: 9}, nil)
	var text, numeric string
	for _, tag := range s.store.Snapshot().Structure().Tags() {
		switch {
		case tag.Unit == "" && text == "":
			text = "ns=2;s=" + tag.IBX + "/TAG/" + tag.ID
		case tag.Unit != "" && numeric == "":
			numeric = "ns=2;s=" + tag.IBX + "/TAG/" + tag.ID
		}
	}
	if text == "" || numeric == "" {
		t.Fatalf("the footprint has no text tag (%q) or no numeric one (%q)", text, numeric)
	}
	c := checks(t, s.script(t, "info.js", "--user", testUser+":"+testPassword, "--types", text+","+numeric))
	if c["info"] != nil {
		t.Fatalf("info.js: %v", c["info"])
	}

	before, after := c["diagnostics-before"], c["diagnostics-after"]
	if before == nil || after == nil {
		t.Fatalf("no diagnostics: %v", c)
	}
	if before["EnabledFlag"] != true || before["summaryStatus"] != "Good" || before["CurrentSessionCount"] != 1.0 || before["summaryCurrentSessionCount"] != 1.0 {
		t.Errorf("diagnostics with one session: %v", before)
	}
	for name, delta := range map[string]float64{"CurrentSessionCount": 1, "CumulatedSessionCount": 2, "CurrentSubscriptionCount": 1,
		"CumulatedSubscriptionCount": 1, "PublishingIntervalCount": 1, "SecurityRejectedSessionCount": 1, "RejectedSessionCount": 1,
		"SecurityRejectedRequestsCount": 1} {
		b, _ := before[name].(float64)
		a, _ := after[name].(float64)
		if a-b != delta {
			t.Errorf("%s: %v then %v, want +%v", name, before[name], after[name], delta)
		}
	}
	if after["refused"] == "none" || after["RejectedRequestsCount"].(float64) < after["SecurityRejectedRequestsCount"].(float64) {
		t.Errorf("after a refused activation: %v", after)
	}

	byName := map[string]map[string]any{}
	for _, o := range c["namespaces"]["objects"].([]any) {
		m := o.(map[string]any)
		byName[m["NamespaceUri"].(string)] = m
	}
	ua := byName["http://opcfoundation.org/UA/"]
	if ua == nil || ua["IsNamespaceSubset"] != true || ua["NamespaceVersion"] != "1.05.02" || ua["typeDefinition"] != "ns=0;i=11616" {
		t.Errorf("namespace 0 metadata: %v", ua)
	}
	sv := byName["https://github.com/svgateway/svgateway/UA/SmartView/"]
	if sv == nil || sv["IsNamespaceSubset"] != false || sv["NamespaceVersion"] != "1.0.0" ||
		sv["NamespacePublicationDate"] != "2026-11-23T00:00:00.000Z" || !equalNumbers(sv["StaticNodeIdTypes"], 0, 1) ||
		sv["StaticStringNodeIdPattern"] != ".*" || !containsString(sv["StaticNumericNodeIdRange"], "1001:1007") {
		t.Errorf("SmartView namespace metadata: %v (all: %v)", sv, c["namespaces"])
	}
	inst := byName["https://github.com/svgateway/svgateway/UA/SmartView/Instances/"]
	if inst == nil || inst["IsNamespaceSubset"] != false || inst["NamespaceVersion"] != "1.0.0" ||
		inst["browseName"] != "2:https://github.com/svgateway/svgateway/UA/SmartView/Instances/" ||
		!containsString(inst["StaticNumericNodeIdRange"], "5001:5008") {
		t.Errorf("instance namespace metadata: %v", inst)
	}

	types := map[string]map[string]any{}
	for _, l := range s.script(t, "info.js", "--user", testUser+":"+testPassword, "--types", text+","+numeric) {
		if l["check"] == "type" {
			types[l["id"].(string)] = l
		}
	}
	if ty := types[text]; ty["dataType"] != "ns=0;i=12" || ty["status"] != "BadWaitingForInitialData" {
		t.Errorf("text tag before its first value: %v", ty)
	}
	if ty := types[numeric]; ty["dataType"] != "ns=0;i=11" || ty["status"] != "BadWaitingForInitialData" {
		t.Errorf("numeric tag before its first value: %v", ty)
	}
	if _, err := s.store.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) }); err != nil {
		t.Fatal(err)
	}
	for _, l := range s.script(t, "info.js", "--user", testUser+":"+testPassword, "--types", text+","+numeric) {
		if l["check"] != "type" {
			continue
		}
		want := map[string]string{text: "String", numeric: "Double"}[l["id"].(string)]
		if l["status"] != "Good" || l["variantType"] != want {
			t.Errorf("%s after its first value: %v, want a %s", l["id"], l, want)
		}
	}
}

// TestPercentDeadband: a kVA variable has an EURange of 0 to its
// location's capacity; node-opcua's 10 % deadband on it is accepted and
// holds back a change within 10 % of the range, not one beyond.
func TestPercentDeadband(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 1, Tags: 1})
	ibx := modeltest.IBX(0)
	cage := model.LocationID{IBX: ibx, Level: model.LevelCage, Name: ibx + ":01:000000"}
	kva := "ns=2;s=" + ibx + "/CAGE/" + cage.Name + "#KVA"
	var amps string
	for _, l := range s.store.Snapshot().Structure().Locations() {
		if l.ID.Level == model.LevelCircuit {
			amps = "ns=2;s=" + l.ID.String() + "#Amps"
			break
		}
	}
	info := checks(t, s.script(t, "info.js", "--user", testUser+":"+testPassword, "--ranges", kva))
	r := info["range"]
	high, _ := r["high"].(float64)
	if r["status"] != "Good" || r["low"] != 0.0 || high <= 0 {
		t.Fatalf("EURange of %s: %v", kva, r)
	}

	sub := s.startScript(t, "subscribe.js", "--nodes", kva, "--events", "--stdin", "--interval", "50", "--deadband-percent", "10")
	if created := sub.next(t, "items", func(m map[string]any) bool { return m["created"] != nil }); created["ok"] != 1.0 {
		t.Fatalf("percent deadband on KVA: %v", created)
	}
	initial := sub.next(t, "initial value", func(m map[string]any) bool { return m["id"] == kva })
	v0 := initial["value"].(float64)
	set := func(v float64, at time.Time) {
		t.Helper()
		snap := s.store.Snapshot()
		i, ok := snap.Structure().LocationIndex(cage)
		if !ok {
			t.Fatalf("no cage %v", cage)
		}
		pw := snap.Power(i).Power
		pw.KVA, pw.ReadingTime = model.Number(v), at
		if _, err := s.store.Update(func(tx *model.Tx) error { return tx.SetPower(cage, pw, time.Time{}) }); err != nil {
			t.Fatal(err)
		}
	}
	small, large := v0+0.05*high, v0+0.2*high
	set(small, t0.Add(time.Minute))
	set(large, t0.Add(2*time.Minute))
	next := sub.next(t, "a change beyond the deadband", func(m map[string]any) bool { return m["id"] == kva })
	if next["value"] != large {
		t.Errorf("after %v (within 10%% of 0..%v) and %v: notified %v", small, high, large, next["value"])
	}
	sub.finish(t)

	// no capacity known for a circuit's current: the deadband is refused
	refused := s.startScript(t, "subscribe.js", "--nodes", amps, "--stdin", "--deadband-percent", "10")
	created := refused.next(t, "items", func(m map[string]any) bool { return m["created"] != nil })
	if bad, _ := created["bad"].(map[string]any); bad["BadMonitoredItemFilterUnsupported"] != 1.0 {
		t.Errorf("percent deadband on Amps: %v", created)
	}
	refused.finish(t)
}

func equalNumbers(v any, want ...float64) bool {
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

func containsString(v any, want string) bool {
	l, _ := v.([]any)
	for _, x := range l {
		if x == want {
			return true
		}
	}
	return false
}
