package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// historyGateway starts a gateway with the sandbox moving every second and
// the OPC UA server on None/anonymous, recording live only (no backfill from
// trending: its samples would land between the test's reads); dir reuses an earlier gateway's
// directory (and state_dir) for a restart.
func historyGateway(t *testing.T, dir string) (*Gateway, string) {
	opcua, endpoint := anonymousOPCUA(t)
	g := StartGateway(t, GatewayOptions{Dir: dir, Tick: "1s", Extra: opcua + `
[history]
retention = "24h"
max_size = "64MiB"
[history.backfill]
enabled = false # this test reads what is recorded live; opcua_backfill_test.go reads the backfill
`})
	return g, endpoint
}

// histValue is one value of a HistoryRead as history.js prints it.
type histValue struct {
	v      any
	src    string
	status string
}

func histValues(t *testing.T, line map[string]any) []histValue {
	t.Helper()
	raw, _ := line["values"].([]any)
	out := make([]histValue, 0, len(raw))
	for _, r := range raw {
		m := r.(map[string]any)
		src, _ := m["src"].(string)
		status, _ := m["status"].(string)
		out = append(out, histValue{m["v"], src, status})
	}
	return out
}

// TestOPCUAHistoryRead reads a tag's history from the running gateway with
// node-opcua as a historian does (everything, then three values at a time
// through continuation points, then newest first), sends the bad input a
// server must refuse with its specific status, checks the server still
// answers, and after a restart finds everything it read before.
func TestOPCUAHistoryRead(t *testing.T) {
	g, url := historyGateway(t, "")
	m := g.Model()
	var tag *APITag
	for i := range m.Tags {
		if tg := &m.Tags[i]; tg.Unit != "" && tg.Value != nil && tg.Value.Number != nil && tg.ReadingTime != nil {
			tag = tg
			break
		}
	}
	if tag == nil || len(m.Locations) == 0 {
		t.Fatal("no numeric tag in the sandbox model")
	}
	node := "ns=2;s=" + tag.IBX + "/TAG/" + tag.ID
	plain := "ns=2;s=" + m.Locations[0].ID + "#Label"
	first := *tag.ReadingTime
	// Wait (bounded) until the tag's value has changed four times: history
	// is stored on change, so that many changes are that many samples
	// (readings that repeat a value add none).
	last, changes := *tag.Value.Number, 0
	WaitFor(t, 90*time.Second, "four changes of "+tag.ID, func() bool {
		for _, tg := range g.Model().Tags {
			if tg.ID == tag.ID && tg.Value != nil && tg.Value.Number != nil && *tg.Value.Number != last {
				last, changes = *tg.Value.Number, changes+1
			}
		}
		return changes >= 4
	})
	pki := t.TempDir()
	run := func() map[string]map[string]any {
		t.Helper()
		lines, code, stderr := nodeScript(t, "history.js", "--url", url, "--pki", pki, "--node", node, "--plain", plain, "--max-seconds", "120")
		if code != 0 {
			t.Fatalf("history.js exit %d: %s %v", code, stderr, lines)
		}
		steps := map[string]map[string]any{}
		for _, l := range lines {
			steps[l["step"].(string)] = l
			if e, ok := l["error"]; ok {
				t.Errorf("step %v: %v", l["step"], e)
			}
		}
		return steps
	}
	steps := run()

	if got := fmt.Sprint(steps["attributes"]["node"], steps["attributes"]["plain"]); got != "[true 5 5] [false 1 1]" {
		t.Errorf("Historizing, AccessLevel, UserAccessLevel of the tag and of a property: %s", got)
	}

	full := histValues(t, steps["full"])
	if steps["full"]["status"] != "Good" || steps["full"]["cp"] != false || len(full) < 4 {
		t.Fatalf("full read: %v, %d values", steps["full"]["status"], len(full))
	}
	for i, v := range full {
		if v.status != "Good" || v.v == nil {
			t.Errorf("value %d: %+v", i, v)
		}
		if i > 0 && v.src <= full[i-1].src {
			t.Errorf("value %d at %s is not after %s", i, v.src, full[i-1].src)
		}
	}
	// The reading the model had before the read is the history's value at
	// its time (the last sample at or before it: storage is on change).
	at := first.UTC().Format("2006-01-02T15:04:05.000Z")
	i := len(full) - 1
	for i >= 0 && full[i].src > at {
		i--
	}
	if i < 0 || v(full[i].v) != *tag.Value.Number {
		t.Errorf("the history of %s does not hold its reading at %s (%v): %v", tag.ID, at, *tag.Value.Number, full)
	}

	// The README's client reads the same values (and the ones recorded
	// since, after them) with its history step.
	lines, _, stderr := nodeScript(t, "client.js", "--url", url, "--pki", pki, "--step", "history="+node+":60")
	var readme []histValue
	for _, l := range lines {
		if l["step"] == "history" {
			if l["status"] != "Good" {
				t.Errorf("client.js history step: %v", l)
			}
			readme = histValues(t, l)
		}
	}
	if len(readme) < len(full) {
		t.Errorf("client.js history step read %d values, history.js %d: %v %s", len(readme), len(full), lines, stderr)
	} else if fmt.Sprint(readme[:len(full)]) != fmt.Sprint(full) {
		t.Errorf("client.js history step: %v\nhistory.js: %v", readme[:len(full)], full)
	}

	// Paged: the same values (and the ones recorded since, after them),
	// never more than three per response.
	paged := histValues(t, steps["paged"])
	if steps["paged"]["maxPage"].(float64) > 3 || steps["paged"]["pages"].(float64) < 2 || fmt.Sprint(steps["paged"]["statuses"]) != "[Good]" {
		t.Errorf("paged: %d pages, %v per page at most, statuses %v", int(steps["paged"]["pages"].(float64)), steps["paged"]["maxPage"], steps["paged"]["statuses"])
	}
	if len(paged) < len(full) || !slices.Equal(paged[:len(full)], full) {
		t.Errorf("paged read differs from the full read:\n paged %v\n full  %v", paged, full)
	}
	inverted := histValues(t, steps["inverted"])
	slices.Reverse(inverted)
	if steps["inverted"]["status"] != "Good" || len(inverted) < len(full) || !slices.Equal(inverted[:len(full)], full) {
		t.Errorf("inverted range is not the history newest first: %v", steps["inverted"])
	}

	for step, want := range map[string]string{
		"forged": "BadContinuationPointInvalid", "modified": "BadHistoryOperationUnsupported",
		"processed": "BadHistoryOperationUnsupported", "no-range": "BadHistoryOperationInvalid",
		"plain": "BadNotReadable", "unknown": "BadNodeIdUnknown", "after": "Good",
	} {
		if got := steps[step]["status"]; got != want {
			t.Errorf("%s: %v, want %s", step, got, want)
		}
	}
	if s, _ := steps["neither"]["status"].(string); !strings.Contains(s, "BadTimestampsToReturnInvalid") {
		t.Errorf("TimestampsToReturn Neither: %q", s)
	}
	if r := steps["release"]; r["issued"] != true || r["released"] != "Good" || r["after"] != "BadContinuationPointInvalid" {
		t.Errorf("release: %v", r)
	}
	if n, _ := steps["after"]["n"].(float64); int(n) < len(full) {
		t.Errorf("after bad input: %v values, had %d", n, len(full))
	}

	t.Logf("%s: %d values in one read, %d in %v pages of 3, %d newest first", tag.ID, len(full), len(paged), steps["paged"]["pages"], len(inverted))

	// A restart keeps the history.
	if err := g.Stop(); err != nil {
		t.Fatalf("gateway stop: %v", err)
	}
	_, url = historyGateway(t, g.Dir)
	steps = run()
	again := histValues(t, steps["full"])
	if len(again) < len(paged) || !slices.Equal(again[:len(paged)], paged) {
		t.Errorf("after a restart the history lost values:\n before %v\n after  %v", paged, again)
	}
	t.Logf("after the restart: %d values", len(again))
}

func v(x any) float64 {
	f, _ := x.(float64)
	return f
}
