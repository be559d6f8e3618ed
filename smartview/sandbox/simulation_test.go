package sandbox

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// requests whose answers must be the same for the same profile, seed, clock and steps.
var determinismRequests = []struct{ method, path, body string }{
	{"GET", "/hierarchy/v1/location?accountNo=1&ibx=CH1", ""},
	{"GET", "/hierarchy/v1/power?accountNo=1&ibx=SV4", ""},
	{"GET", "/asset/v1/list?accountNo=1&ibx=DC5&classification=Electrical", ""},
	{"GET", "/asset/v1/list?accountNo=1&ibx=CH3&classification=Mechanical", ""},
	{"POST", "/asset/v1/details", `{"accountNo":"1","ibx":"CH3","classification":"Electrical","assetIds":["CH3.PDU-1","CH3.UPS-1","CH3.ASTS-1"]}`},
	{"POST", "/power/v1/current", `{"accountNo":"1","ibx":"CH1","levelType":"CIRCUIT"}`},
	{"GET", "/environment/v1/listCurrent?accountNo=1&ibx=SV4&levelType=SENSOR", ""},
	{"GET", "/alarm/v1/smartview/alarms?accountNo=1", ""},
}

func answers(t *testing.T, h *harness, tok string) []string {
	var out []string
	for _, rq := range determinismRequests {
		r := h.do(rq.method, rq.path, tok, "application/json", rq.body)
		if r.status != 200 {
			t.Fatalf("%s %s: %d %s", rq.method, rq.path, r.status, r.body)
		}
		out = append(out, string(r.body))
	}
	return out
}

func TestDeterminism(t *testing.T) {
	a, b := newHarness(t, Config{Seed: 42}), newHarness(t, Config{Seed: 42})
	other := newHarness(t, Config{Seed: 43})
	ta, tb, to := a.token(), b.token(), other.token()
	same := func(when string) {
		x, y := answers(t, a, ta), answers(t, b, tb)
		for i := range x {
			if x[i] != y[i] {
				t.Errorf("%s: %s %s differs between two servers of seed 42", when, determinismRequests[i].method, determinismRequests[i].path)
			}
		}
	}
	same("at start")
	for range 25 {
		for _, h := range []*harness{a, b} {
			h.clock.advance(2 * time.Second)
			h.s.Step()
		}
	}
	same("after 25 steps")
	if answers(t, other, to)[5] == answers(t, a, ta)[5] {
		t.Error("seed 43 gives the power of seed 42")
	}
}

func TestEvolution(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	events, cancel := h.s.Subscribe(4096)
	defer cancel()
	read := func() (tag tagPoint, ibxPower, climate map[string]any) {
		var tags []tagPoint
		h.get("/asset/v1/tagpoint/current?accountNo=1&ibx=CH1&tagId=CH1.Gen-1:fuelhours", tok).payload(t, &tags)
		h.get("/power/v1/current?accountNo=1&ibx=CH1&levelType=IBX&levelValue=CH1", tok).payload(t, &ibxPower)
		h.get("/environment/v1/current?accountNo=1&ibx=CH1&levelType=SENSOR&levelValue=CH1.Colo.CH1_05_000550_0105", tok).payload(t, &climate)
		return tags[0], ibxPower, climate
	}
	tag0, power0, climate0 := read()
	var values []string
	for range 5 {
		h.clock.advance(2 * time.Second)
		if r := h.post("/_sandbox/step", "", ""); r.status != 200 {
			t.Fatalf("step: %d %s", r.status, r.body)
		}
		tag, _, _ := read()
		values = append(values, tag.Value)
	}
	tag1, power1, climate1 := read()
	now := h.clock.now()
	if tag1.ReadingTime != now.UTC().Format("20060102150405") || tag1.ReadingTime == tag0.ReadingTime {
		t.Errorf("fuelhours readingTime %s → %s, want %s", tag0.ReadingTime, tag1.ReadingTime, now.UTC().Format("20060102150405"))
	}
	if !strings.Contains(strings.Join(values, " "), ".") || allEqual(append(values, tag0.Value)) {
		t.Errorf("fuelhours did not move: %s then %q", tag0.Value, values)
	}
	if power1["kva"] == power0["kva"] || power1["readingTime"] != itoaMillis(now) {
		t.Errorf("IBX power %v@%v → %v@%v", power0["kva"], power0["readingTime"], power1["kva"], power1["readingTime"])
	}
	checkPower(t, power1, "IBX", "CH1")
	if climate1["timestamp"] != itoaMillis(now) || climate1["temperature"] == climate0["temperature"] && climate1["humidity"] == climate0["humidity"] {
		t.Errorf("sensor %v → %v", climate0, climate1)
	}

	seen := map[string]int{}
	for len(events) > 0 {
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(<-events, &ev); err != nil {
			t.Fatal(err)
		}
		var name string
		json.Unmarshal(ev["name"], &name)
		var data map[string]any
		json.Unmarshal(ev["data"], &data)
		switch name {
		case "tagpoint_updated":
			if _, ok := data["alarmStatus"].(string); !ok || data["tagId"] == nil || len(data["readingTime"].(string)) != 14 {
				t.Errorf("tagpoint_updated %s", ev["data"])
			}
		case "power_updated":
			level := data["levelType"].(string)
			name += " " + level
			if _, ok := data["kva"].(float64); !ok || strings.ToLower(level) != level || data["type"] == nil {
				t.Errorf("power_updated %s", ev["data"])
			}
		case "environment_updated":
			if !decimalString(data["temperature"].(string), 1) || data["maxTemperature"] == nil {
				t.Errorf("environment_updated %s", ev["data"])
			}
		}
		seen[name]++
	}
	st := h.s.Stats()
	for _, want := range []string{"tagpoint_updated", "power_updated circuit", "power_updated cabinet", "power_updated cage", "power_updated ibx", "environment_updated"} {
		if seen[want] == 0 {
			t.Errorf("no %s event after 5 steps: %v", want, seen)
		}
	}
	if st.Ticks != 5 || st.EventsPublished == 0 || len(st.Subscribers) != 1 || st.Subscribers[0].Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func allEqual(vs []string) bool {
	for _, v := range vs {
		if v != vs[0] {
			return false
		}
	}
	return true
}

func itoaMillis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// The simulation raises alarms on its own, acknowledges and clears them, and never lets more
// than its profile's number be active.
func TestSimulatedAlarms(t *testing.T) {
	h := newHarness(t, Config{Seed: 7})
	for range 300 {
		h.clock.advance(2 * time.Second)
		h.s.Step()
		if n := activeSimulated(h.s); n > profiles["small"].simAlarms {
			t.Fatalf("%d simulated alarms active", n)
		}
	}
	var a alarmsAnswer
	h.get("/alarm/v1/smartview/alarms?accountNo=1", h.token()).decode(t, &a)
	var clearedAcked, clearedUnacked int
	for _, x := range a.Alarms[4:] { // after the documented four
		if !x.Status && x.TimeNormalProcessed > x.TimeTrigerred {
			if x.Ack {
				clearedAcked++
			} else {
				clearedUnacked++
			}
		}
	}
	if clearedAcked == 0 || clearedUnacked == 0 {
		t.Errorf("after 300 ticks: %d cleared after ack, %d without, of %d", clearedAcked, clearedUnacked, a.TotalCount)
	}
	// the documented alarms are left alone
	if !a.Alarms[0].Status || a.Alarms[2].Status || !a.Alarms[3].Status {
		t.Errorf("documented alarms changed: %+v", a.Alarms[:4])
	}
}

func activeSimulated(s *Server) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, a := range s.alarms.list {
		if a.active && !a.pinned {
			n++
		}
	}
	return n
}

// A subscriber that never reads loses events but never holds the simulation up.
func TestSlowSubscriber(t *testing.T) {
	h := newHarness(t, Config{})
	slow, cancelSlow := h.s.Subscribe(1)
	fast, cancelFast := h.s.Subscribe(100000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			h.s.Step()
		}
	}()
	<-done // would hang if publishing blocked on the slow subscriber
	st := h.s.Stats()
	if len(st.Subscribers) != 2 || st.Subscribers[0].Dropped == 0 || st.Subscribers[0].Delivered != 1 || st.Subscribers[1].Dropped != 0 ||
		st.Subscribers[1].Delivered != st.EventsPublished || len(fast) != int(st.EventsPublished) {
		t.Errorf("stats %+v, fast has %d", st, len(fast))
	}
	cancelSlow()
	cancelSlow() // twice is fine
	if _, ok := <-slow; !ok {
		t.Error("the one buffered event is gone")
	}
	if _, ok := <-slow; ok {
		t.Error("channel open after cancel")
	}
	cancelFast()
	if st := h.s.Stats(); len(st.Subscribers) != 0 {
		t.Errorf("subscribers after cancel: %+v", st.Subscribers)
	}
}

func TestAdminSetters(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/_sandbox/tags", `{"tagId":"CH1.Gen-1:fuelhours","value":"12.25"}`, 200},
		{"/_sandbox/tags", `{"tagId":"CH1.Gen-1:summary","value":"RUNNING"}`, 200},
		{"/_sandbox/tags", `{"tagId":"CH1.Gen-1:fuelhours","value":"lots"}`, 400},
		{"/_sandbox/tags", `{"tagId":"CH1.Nope:x","value":"1"}`, 404},
		{"/_sandbox/power", `{"circuit":"20853716","kva":1.5}`, 200},
		{"/_sandbox/power", `{"circuit":"0","kva":1.5}`, 404},
		{"/_sandbox/environment", `{"sensor":"CH1.Colo.CH1_05_000550_0105","temperature":31.5,"humidity":61}`, 200},
		{"/_sandbox/environment", `{"sensor":"CH1.Colo.CH1_05_000550_0105","temperature":20,"humidity":140}`, 400},
		{"/_sandbox/step?n=0", ``, 400},
		{"/_sandbox/nope", ``, 404},
	} {
		if r := h.post(tc.path, "", tc.body); r.status != tc.status {
			t.Errorf("POST %s %s: %d, want %d: %s", tc.path, tc.body, r.status, tc.status, r.body)
		}
	}
	var tags []tagPoint
	h.post("/asset/v1/tagpoint/current", tok, `{"accountNo":"1","ibx":"CH1","tagIds":["CH1.Gen-1:fuelhours","CH1.Gen-1:summary"]}`).payload(t, &tags)
	if tags[0].Value != "12.2" && tags[0].Value != "12.3" || tags[1].Value != "RUNNING" { // one decimal, as the point has
		t.Errorf("tags %+v", tags)
	}
	var circuit map[string]any
	h.get("/power/v1/current?accountNo=1&ibx=SV4&levelType=CIRCUIT&levelValue=20853716", tok).payload(t, &circuit)
	if circuit["kva"] != 1.5 || circuit["amps"] != 12.5 {
		t.Errorf("circuit %v", circuit)
	}
	var cabinet map[string]any
	h.get("/power/v1/current?accountNo=1&ibx=SV4&levelType=CABINET&levelValue=74006", tok).payload(t, &cabinet)
	checkPower(t, cabinet, "CABINET", "SV4:01:000120:0101")
	var env map[string]any
	h.get("/environment/v1/current?accountNo=1&ibx=CH1&levelType=SENSOR&levelValue=CH1.Colo.CH1_05_000550_0105", tok).payload(t, &env)
	if env["temperature"] != "31.5" || env["humidity"] != "61.00" {
		t.Errorf("sensor %v", env)
	}
	if r := h.get("/_sandbox", ""); r.status != 200 || !strings.Contains(string(r.body), "/_sandbox/alarms") {
		t.Errorf("admin index %d %s", r.status, r.body)
	}
	if r := h.get("/_sandbox/step", ""); r.status != 405 {
		t.Errorf("GET step: %d, want 405", r.status)
	}
}

// Requests read while the simulation writes (run with -race).
func TestConcurrentReadsAndSteps(t *testing.T) {
	h := newHarness(t, Config{})
	tok := h.token()
	events, cancel := h.s.Subscribe(16)
	defer cancel()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-events:
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 20 {
				answers(t, h, tok)
			}
		})
	}
	for range 50 {
		h.s.Step()
		h.s.Stats()
	}
	close(stop)
	wg.Wait()
}

func TestLargeProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("large profile: skipped with -short")
	}
	s, err := New(Config{Profile: "large"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFootprint(t, s, 1)
	if ibxs := s.IBXs(); ibxs[0] != "CH1" || ibxs[1] != "SV4" || len(ibxs) != 20 {
		t.Errorf("IBXs %q", ibxs)
	}
	h := &harness{t: t, s: s, url: newTestHTTPServer(t, s)}
	tok := h.token()
	var p struct {
		Data []json.RawMessage `json:"data"`
	}
	h.post("/power/v1/current", tok, `{"accountNo":"1","ibx":"AM3","levelType":"CIRCUIT"}`).payload(t, &p)
	if len(p.Data) != 4000 {
		t.Errorf("AM3 circuits: %d", len(p.Data))
	}
	s.Step()
}

// checkFootprint checks a profile's counts against scale times the large profile's, within 5 %.
func checkFootprint(t *testing.T, s *Server, scale int) {
	t.Helper()
	got := s.Stats().Footprint
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"IBXs", got.IBXs, 20}, {"cages", got.Cages, 2000}, {"cabinets", got.Cabinets, 20000}, {"circuits", got.Circuits, 80000},
		{"assets", got.Assets, 10000}, {"tags", got.Tags, 100000},
	} {
		want := c.want * scale
		if c.got < want*95/100 || c.got > want*105/100 {
			t.Errorf("%s: %d, want about %d", c.name, c.got, want)
		}
	}
}

// TestXLargeProfile: five times large (100 IBXs, ~500,000 tags), deterministic for a seed, every
// IBX code distinct, and a generated IBX served like the others.
func TestXLargeProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("xlarge profile: skipped with -short")
	}
	s, err := New(Config{Profile: "xlarge"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFootprint(t, s, 5)
	ibxs := s.IBXs()
	if len(ibxs) != 100 || ibxs[0] != "CH1" || ibxs[len(ibxs)-1] != "TR6" {
		t.Errorf("IBXs %d: %q … %q", len(ibxs), ibxs[0], ibxs[len(ibxs)-1])
	}
	seen := map[string]bool{}
	for _, code := range ibxs {
		if seen[code] {
			t.Errorf("IBX %s twice", code)
		}
		seen[code] = true
	}
	start := time.Unix(1700000000, 0)
	a, b := generate(profiles["xlarge"], 7, start), generate(profiles["xlarge"], 7, start)
	if len(a.tags) != len(b.tags) || len(a.circuits) != len(b.circuits) ||
		a.tags[len(a.tags)-1].id != b.tags[len(b.tags)-1].id || a.circuits[12345] != b.circuits[12345] {
		t.Error("xlarge: two generations with one seed differ")
	}
	h := &harness{t: t, s: s, url: newTestHTTPServer(t, s)}
	tok := h.token()
	var p struct {
		Data []json.RawMessage `json:"data"`
	}
	h.post("/power/v1/current", tok, `{"accountNo":"1","ibx":"TR6","levelType":"CIRCUIT"}`).payload(t, &p)
	if len(p.Data) != 4000 {
		t.Errorf("TR6 circuits: %d", len(p.Data))
	}
	s.Step()
}
