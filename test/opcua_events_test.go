package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Alarms & Conditions over OPC UA, with node-opcua as the operator console
// (test/opcua/events.js) and the sandbox's admin API raising, acknowledging
// and clearing alarms upstream.

const (
	opcuaOperator, opcuaOperatorPassword = "console", "e2e operator password"
	opcuaViewer, opcuaViewerPassword     = "viewer", "e2e viewer password"
)

// alarmGateway starts a gateway whose OPC UA server has an operator and a
// read-only user (and anonymous sessions, read-only); it returns the
// gateway, the OPC UA endpoint and the options to start it again.
func alarmGateway(t *testing.T, extra string) (*Gateway, string, GatewayOptions) {
	opcua, endpoint := anonymousOPCUA(t)
	o := GatewayOptions{Tick: "1h", Extra: opcua + fmt.Sprintf(`[opcua.limits]
min_publishing_interval = "1ms"
[[opcua.users]]
name = %q
password = %q
role = "operator"
[[opcua.users]]
name = %q
password = %q
role = "read-only"
`, opcuaOperator, opcuaOperatorPassword, opcuaViewer, opcuaViewerPassword) + extra}
	return StartGateway(t, o), endpoint, o
}

// console is a running events.js.
type console struct {
	t     testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan map[string]any
	done  chan struct{}
	kept  []map[string]any // event lines do handed to keep, for callers that want their times
}

// startConsole runs events.js as user ("" anonymous) and waits until its
// event item exists.
func startConsole(t testing.TB, url, user string, args ...string) *console {
	t.Helper()
	requireTool(t, "node")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	a := []string{filepath.Join("opcua", "events.js"), "--url", url, "--pki", t.TempDir(), "--max-seconds", "230"}
	if user != "" {
		a = append(a, "--user", user)
	}
	cmd := exec.CommandContext(ctx, "node", append(a, args...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, cmd: cmd, in: in, lines: make(chan map[string]any, 100000), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				c.lines <- m
			}
		}
	}()
	t.Cleanup(func() {
		_, _ = io.WriteString(in, `{"cmd":"quit"}`+"\n")
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
		}
		cancel()
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("events.js stderr:\n%s", stderr.String())
		}
	})
	if l := c.next(60*time.Second, func(m map[string]any) bool { return m["ready"] == true || m["result"] == "open" }); l["ready"] != true {
		t.Fatalf("events.js did not start: %v", l)
	} else {
		t.Logf("events.js: %v", l)
	}
	return c
}

// next returns the next line that satisfies match (skipping others), or
// fails the test after limit.
func (c *console) next(limit time.Duration, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case l := <-c.lines:
			if match(l) {
				return l
			}
		case <-c.done:
			c.t.Fatal("events.js ended")
		case <-deadline:
			c.t.Fatalf("no matching line from events.js within %v", limit)
		}
	}
}

// do runs a command and returns its result line; events read meanwhile
// are handed to keep and appended to kept (keep nil: dropped).
func (c *console) do(cmd map[string]any, keep func(ev map[string]any)) map[string]any {
	c.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		c.t.Fatal(err)
	}
	return c.next(2*time.Minute, func(m map[string]any) bool {
		if ev, ok := m["event"].(map[string]any); ok && keep != nil {
			keep(ev)
			c.kept = append(c.kept, m)
		}
		return m["result"] == cmd["cmd"]
	})
}

// event returns the next event that satisfies match.
func (c *console) event(limit time.Duration, match func(ev map[string]any) bool) map[string]any {
	c.t.Helper()
	return c.next(limit, func(m map[string]any) bool {
		ev, ok := m["event"].(map[string]any)
		return ok && match(ev)
	})["event"].(map[string]any)
}

// drain returns the events that arrive within d.
func (c *console) drain(d time.Duration) []map[string]any {
	var out []map[string]any
	deadline := time.After(d)
	for {
		select {
		case l := <-c.lines:
			if ev, ok := l["event"].(map[string]any); ok {
				out = append(out, ev)
			}
		case <-deadline:
			return out
		}
	}
}

func alarmIDOf(ev map[string]any) uint64 {
	v, _ := ev["3:AlarmId"].(float64)
	return uint64(v)
}

// TestOPCUAAlarmConditions: an alarm raised, acknowledged and cleared
// upstream reaches a node-opcua console subscribed to the Server object's
// events as exactly three events with the condition's fields; an operator
// acknowledgement is recorded (events, /api/model), a read-only user's and
// an anonymous one's are refused; ConditionRefresh after a reconnect brackets
// every active alarm; bad filters and method calls get their status codes
// and the server keeps serving.
func TestOPCUAAlarmConditions(t *testing.T) {
	requireNodeOPCUA(t)
	requireTool(t, "snmpget")
	snmpTOML, agent := withAgent(t, targetsTOML(""))
	g, url, opts := alarmGateway(t, snmpTOML)
	op := startConsole(t, url, opcuaOperator+":"+opcuaOperatorPassword)

	// raise, acknowledge, clear upstream: three events, in order.
	sandboxAlarm(g, "raise")
	raised := op.event(30*time.Second, func(ev map[string]any) bool { return ev["3:TagId"] == "CH1.Gen-2:voltage" })
	id := alarmIDOf(raised)
	sandboxAlarm(g, "ack")
	acked := op.event(30*time.Second, func(ev map[string]any) bool { return alarmIDOf(ev) == id })
	sandboxAlarm(g, "clear")
	cleared := op.event(30*time.Second, func(ev map[string]any) bool { return alarmIDOf(ev) == id })
	for _, ev := range op.drain(2 * time.Second) {
		if alarmIDOf(ev) == id {
			t.Errorf("a fourth event for alarm %d: %v", id, ev)
		}
	}
	cond := fmt.Sprintf("ns=2;s=CH1/ALARM/%d", id)
	for i, c := range []struct {
		ev                    map[string]any
		active, acked, retain bool
		user                  string
	}{{raised, true, false, true, ""}, {acked, true, true, true, "Equinix operations"}, {cleared, false, true, false, ""}} {
		ev := c.ev
		want := map[string]any{"EventType": "ns=3;i=1020", "SourceNode": "ns=2;s=CH1/ASSET/CH1.Gen-2", "SourceName": "CH1.Gen-2",
			"Severity": 700.0, "LastSeverity": 700.0, "ConditionName": "Low Voltage", "ConditionId": cond, "Retain": c.retain,
			"EnabledState.Id": true, "ActiveState.Id": c.active, "AckedState.Id": c.acked, "Quality": "Good",
			"ClientUserId": c.user, "3:IBX": "CH1", "3:AssetId": "CH1.Gen-2", "3:UpstreamAcknowledged": c.acked}
		if c.user == "" {
			want["ClientUserId"] = nil // an empty String travels as null
		}
		for k, w := range want {
			if ev[k] != w {
				t.Errorf("event %d: %s = %#v, want %#v", i, k, ev[k], w)
			}
		}
		if s, _ := ev["Message"].(string); !strings.Contains(s, "Low Voltage") {
			t.Errorf("event %d: Message %q", i, ev["Message"])
		}
		for _, k := range []string{"Time", "ReceiveTime"} {
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(ev[k])); err != nil {
				t.Errorf("event %d: %s = %v", i, k, ev[k])
			}
		}
	}
	if raised["EventId"] == acked["EventId"] || acked["EventId"] == cleared["EventId"] || raised["EventId"] == nil {
		t.Errorf("event ids not unique: %v %v %v", raised["EventId"], acked["EventId"], cleared["EventId"])
	}
	if raised["ActiveState"] != "Active" || cleared["ActiveState"] != "Inactive" || acked["AckedState"] != "Acknowledged" {
		t.Errorf("state texts: %v %v %v", raised["ActiveState"], cleared["ActiveState"], acked["AckedState"])
	}

	// An operator acknowledges a second alarm at the console.
	raiseOn(g, "Fuel Low")
	second := op.event(30*time.Second, func(ev map[string]any) bool { return ev["ConditionName"] == "Fuel Low" })
	id2 := alarmIDOf(second)
	cond2 := fmt.Sprintf("ns=2;s=CH1/ALARM/%d", id2)
	ackCmd := map[string]any{"cmd": "ack", "conditionId": cond2, "eventId": second["EventId"], "comment": "generator crew called"}

	for _, user := range []string{opcuaViewer + ":" + opcuaViewerPassword, ""} {
		other := startConsole(t, url, user)
		if r := other.do(ackCmd, nil); r["status"] != "BadUserAccessDenied" {
			t.Errorf("Acknowledge by %q: %v", user, r)
		}
	}
	var opEvent map[string]any
	if r := op.do(ackCmd, func(ev map[string]any) {
		if alarmIDOf(ev) == id2 {
			opEvent = ev
		}
	}); r["status"] != "Good" {
		t.Fatalf("operator Acknowledge: %v", r)
	}
	if opEvent == nil {
		opEvent = op.event(30*time.Second, func(ev map[string]any) bool { return alarmIDOf(ev) == id2 })
	}
	if opEvent["AckedState.Id"] != true || opEvent["ClientUserId"] != opcuaOperator || opEvent["Comment"] != "generator crew called" ||
		opEvent["3:OperatorAckUser"] != opcuaOperator || opEvent["3:UpstreamAcknowledged"] != false || opEvent["ActiveState.Id"] != true {
		t.Errorf("operator acknowledgement event %v", opEvent)
	}
	if r := op.do(ackCmd, nil); r["status"] != "BadConditionBranchAlreadyAcked" {
		t.Errorf("second Acknowledge: %v", r)
	}
	var modelOp map[string]any
	WaitFor(t, 10*time.Second, "the operator acknowledgement in /api/model", func() bool {
		var m struct {
			Alarms []struct {
				ID       uint64         `json:"id"`
				State    string         `json:"state"`
				Operator map[string]any `json:"operator"`
			} `json:"alarms"`
		}
		if json.Unmarshal(g.Get("/api/model"), &m) != nil {
			return false
		}
		for _, a := range m.Alarms {
			if a.ID == id2 && a.Operator != nil {
				modelOp = a.Operator
				return a.State == "active" // never acknowledged upstream
			}
		}
		return false
	})
	if modelOp["ack_user"] != opcuaOperator || modelOp["comment"] != "generator crew called" || modelOp["ack_time"] == nil {
		t.Errorf("/api/model operator record %v", modelOp)
	}
	checkOperatorSNMP(t, agent, id2, "active(1)") // never acknowledged upstream

	// Reconnect and refresh: every alarm not cleared, between start and end.
	rc := op.do(map[string]any{"cmd": "reconnect"}, nil)
	if rc["status"] != "Good" {
		t.Fatalf("reconnect: %v", rc)
	}
	sub, item := rc["subscription"], rc["item"]
	// the refresh's events may arrive before the Call's answer, or after
	var early []map[string]any
	if r := op.do(map[string]any{"cmd": "refresh"}, func(ev map[string]any) { early = append(early, ev) }); r["status"] != "Good" {
		t.Fatalf("ConditionRefresh: %v", r)
	}
	nextEvent := func() map[string]any {
		if len(early) > 0 {
			ev := early[0]
			early = early[1:]
			return ev
		}
		return op.event(30*time.Second, func(map[string]any) bool { return true })
	}
	isType := func(ev map[string]any, n int) bool {
		return ev["EventType"] == fmt.Sprintf("ns=0;i=%d", n) || ev["EventType"] == fmt.Sprintf("i=%d", n)
	}
	for ev := nextEvent(); !isType(ev, 2787); ev = nextEvent() { // RefreshStartEvent
	}
	var refreshed []map[string]any
	for ev := nextEvent(); !isType(ev, 2788); ev = nextEvent() { // until RefreshEndEvent
		refreshed = append(refreshed, ev)
	}
	want := map[uint64]bool{}
	for _, a := range g.Model().Alarms {
		if a.State != "cleared" {
			want[a.ID] = true
		}
	}
	got := map[uint64]bool{}
	for _, ev := range refreshed {
		got[alarmIDOf(ev)] = true
		if ev["Retain"] != true {
			t.Errorf("refreshed condition not retained: %v", ev)
		}
	}
	if len(got) != len(want) || len(refreshed) != len(want) || !got[id2] || got[id] {
		t.Errorf("ConditionRefresh sent %d conditions %v, want the %d active alarms %v", len(refreshed), got, len(want), want)
	}

	// Bad input: specific status codes, and the server keeps serving.
	for _, cs := range []struct {
		cmd  map[string]any
		want map[string]any
	}{
		{map[string]any{"cmd": "filter", "where": "bad-operator"}, map[string]any{"status": "BadEventFilterInvalid", "elements": "[BadFilterOperatorUnsupported]"}},
		{map[string]any{"cmd": "filter", "where": "operand-count"}, map[string]any{"status": "BadEventFilterInvalid", "elements": "[BadFilterOperandCountMismatch]"}},
		{map[string]any{"cmd": "filter", "where": "cycle"}, map[string]any{"status": "BadEventFilterInvalid", "elements": "[BadFilterOperandInvalid]"}},
		{map[string]any{"cmd": "filter", "select": []string{"EventId", "NoSuchField", "ActiveState.Nope"}}, map[string]any{"status": "Good", "select": "[Good BadNodeIdUnknown BadNodeIdUnknown]"}},
		{map[string]any{"cmd": "call", "objectId": cond2, "methodId": "i=9111", "args": [][]any{{"ByteString", "00"}}}, map[string]any{"status": "BadArgumentsMissing"}},
		{map[string]any{"cmd": "call", "objectId": cond2, "methodId": "i=9111", "args": [][]any{{"String", "x"}, {"String", "y"}}}, map[string]any{"status": "BadInvalidArgument", "inputArgumentResults": "[BadTypeMismatch BadTypeMismatch]"}},
		{map[string]any{"cmd": "call", "objectId": cond2, "methodId": "i=9111", "args": [][]any{{"ByteString", "0102"}, {"LocalizedText", map[string]string{"text": "x"}}}}, map[string]any{"status": "BadEventIdUnknown"}},
		{map[string]any{"cmd": "call", "objectId": "i=2253", "methodId": "i=3875", "args": [][]any{{"UInt32", 424242}}}, map[string]any{"status": "BadSubscriptionIdInvalid"}},
		{map[string]any{"cmd": "call", "objectId": "i=2253", "methodId": "i=9111", "args": [][]any{}}, map[string]any{"status": "BadMethodInvalid"}},
		{map[string]any{"cmd": "call", "objectId": "ns=2;s=CH1/ALARM/999999", "methodId": "i=9111", "args": [][]any{}}, map[string]any{"status": "BadNodeIdUnknown"}},
		{map[string]any{"cmd": "refresh2"}, map[string]any{"status": "Good"}},
	} {
		r := op.do(cs.cmd, nil)
		for k, w := range cs.want {
			if fmt.Sprint(r[k]) != fmt.Sprint(w) {
				t.Errorf("%v: %s = %v, want %v (%v)", cs.cmd, k, r[k], w, r)
			}
		}
	}
	// GetMonitoredItems lists the console's event item (client handles
	// are node-opcua's own numbering; the server handle is the item id).
	r := op.do(map[string]any{"cmd": "call", "objectId": "i=2253", "methodId": "i=11492", "args": [][]any{{"UInt32", sub}}}, nil)
	if r["status"] != "Good" || fmt.Sprint(r["outputArguments"]) == "[[] []]" || !strings.Contains(fmt.Sprint(r["outputArguments"]), fmt.Sprint(item)) {
		t.Errorf("GetMonitoredItems: %v (item %v)", r, item)
	}
	r = op.do(map[string]any{"cmd": "call", "objectId": "i=2253", "methodId": "i=11492", "args": [][]any{{"UInt32", 0}}}, nil)
	if r["status"] != "BadSubscriptionIdInvalid" {
		t.Errorf("GetMonitoredItems of subscription 0: %v", r)
	}

	// HistoryRead of the Server's events: the first alarm's three
	// transitions and the operator's acknowledgement, from the ledger.
	h := op.do(map[string]any{"cmd": "history", "start": time.Now().Add(-time.Hour).Format(time.RFC3339),
		"end": time.Now().Add(time.Hour).Format(time.RFC3339)}, nil)
	var hist []string
	if evs, ok := h["events"].([]any); ok {
		for _, e := range evs {
			ev := e.(map[string]any)
			if a := alarmIDOf(ev); a == id || a == id2 {
				hist = append(hist, fmt.Sprintf("%d/%v/%v/%v", a, ev["ActiveState.Id"], ev["AckedState.Id"], ev["ClientUserId"]))
			}
		}
	}
	wantHist := fmt.Sprintf("[%d/true/false/<nil> %d/true/true/Equinix operations %d/false/true/<nil> %d/true/false/<nil> %d/true/true/%s]",
		id, id, id, id2, id2, opcuaOperator)
	if h["status"] != "Good" || fmt.Sprint(hist) != wantHist {
		t.Errorf("HistoryRead events: %v %v\nwant %s", h["status"], hist, wantHist)
	}
	for _, bad := range []map[string]any{
		{"cmd": "history", "start": time.Now().Format(time.RFC3339), "end": time.Now().Add(-time.Hour).Format(time.RFC3339)},
		{"cmd": "history"},
	} {
		if h := op.do(bad, nil); h["status"] != "BadInvalidTimestampArgument" {
			t.Errorf("HistoryRead %v: %v", bad, h)
		}
	}

	// The acknowledgement is in the alarm ledger: it survives a restart.
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	opts.Dir = g.Dir
	g = StartGateway(t, opts)
	found := false
	for _, a := range g.Model().Alarms {
		if a.ID == id2 {
			found = true
		}
	}
	var m struct {
		Alarms []struct {
			ID       uint64         `json:"id"`
			Operator map[string]any `json:"operator"`
		} `json:"alarms"`
	}
	if err := json.Unmarshal(g.Get("/api/model"), &m); err != nil || !found {
		t.Fatalf("/api/model after restart: %v, alarm %d found %v", err, id2, found)
	}
	for _, a := range m.Alarms {
		if a.ID == id2 && (a.Operator == nil || a.Operator["ack_user"] != opcuaOperator) {
			t.Errorf("after a restart, alarm %d operator record %v", id2, a.Operator)
		}
	}
	// the sandbox restarted without the alarm: cleared, its record kept
	checkOperatorSNMP(t, agent, id2, "cleared(3)")
}

// checkOperatorSNMP checks the operator columns and the state of alarm id
// with snmpget.
func checkOperatorSNMP(t *testing.T, agent string, id uint64, state string) {
	t.Helper()
	for name, want := range map[string]string{"svgAlarmOperatorAckUser": "STRING: " + opcuaOperator + "\n",
		"svgAlarmOperatorComment": "STRING: generator crew called\n", "svgAlarmOperatorAckTime": "STRING: 20",
		"svgAlarmState": state} {
		if v := mustTool(t, "snmpget", "-v2c", "-c", "public", agent, fmt.Sprintf("SVGATEWAY-MIB::%s.%d", name, id)); !strings.Contains(v, want) {
			t.Errorf("%s.%d: %q, want %q", name, id, v, want)
		}
	}
}
