package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/history"
)

// backfillGateway starts a gateway whose history (3 hours) is backfilled fast from the
// sandbox's trending endpoints; dir reuses an earlier gateway's state_dir for a restart.
func backfillGateway(t *testing.T, dir string) (*Gateway, string) {
	opcua, endpoint := anonymousOPCUA(t)
	g := StartGateway(t, GatewayOptions{Dir: dir, Tick: "1s", Extra: opcua + `
[history]
retention = "3h"
max_size = "64MiB"
[history.backfill]
rate = 200.0
concurrency = 4
points_per_cycle = 100
cycle_pause = "10ms"
`})
	return g, endpoint
}

// logLines counts the lines of a gateway's log that hold every part.
func logLines(log string, parts ...string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			n++
		}
	}
	return n
}

// metricSum sums the samples of a metric in a Prometheus text exposition.
func metricSum(exposition, name string) float64 {
	var sum float64
	for _, l := range strings.Split(exposition, "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		sum += v
	}
	return sum
}

// onGrid5m reports whether an OPC UA source time (ISO 8601) is on the trending grid.
func onGrid5m(src string) bool {
	at, err := time.Parse(time.RFC3339Nano, src)
	return err == nil && at.UnixMilli()%(5*60*1000) == 0
}

// TestHistoryBackfillFromTrending: a gateway starting with an empty history fills its 3 hours
// of retention from the sandbox's trending endpoints, as a node-opcua HistoryRead shows; stopped,
// its last 40 minutes of history removed (as if it had been down), and started again, it fills
// only that gap — nothing read before changes, no time appears twice, and trending is asked for
// a quarter of what the first start asked; then upstream goes down and comes back, and that gap
// is looked at once.
func TestHistoryBackfillFromTrending(t *testing.T) {
	g, url := backfillGateway(t, "")
	WaitFor(t, 120*time.Second, "the start's backfill", func() bool {
		return logLines(g.Log.String(), "history backfill: done", "reason=start") == 1
	})
	m := g.Model()
	var tag *APITag
	for i := range m.Tags {
		if tg := &m.Tags[i]; tg.Value != nil && tg.Value.Number != nil {
			tag = tg
			break
		}
	}
	if tag == nil || len(m.Locations) == 0 {
		t.Fatal("no numeric tag in the sandbox model")
	}
	node := "ns=2;s=" + tag.IBX + "/TAG/" + tag.ID
	plain := "ns=2;s=" + m.Locations[0].ID + "#Label"
	pki := t.TempDir()
	read := func() []histValue {
		t.Helper()
		lines, code, stderr := nodeScript(t, "history.js", "--url", url, "--pki", pki, "--node", node, "--plain", plain, "--max-seconds", "120")
		if code != 0 {
			t.Fatalf("history.js exit %d: %s %v", code, stderr, lines)
		}
		for _, l := range lines {
			if l["step"] == "full" {
				if l["status"] != "Good" {
					t.Fatalf("HistoryRead: %v", l)
				}
				vals := histValues(t, l)
				for i, v := range vals {
					if v.status != "Good" || v.v == nil {
						t.Errorf("value %d: %+v", i, v)
					}
					if i > 0 && v.src <= vals[i-1].src {
						t.Errorf("value %d at %s is not after %s: a time twice or out of order", i, v.src, vals[i-1].src)
					}
				}
				return vals
			}
		}
		t.Fatalf("history.js printed no full read: %v", lines)
		return nil
	}
	first := read()
	var grid int
	for _, v := range first {
		if onGrid5m(v.src) {
			grid++
		}
	}
	// 3 hours at 5 minutes are 36 trending samples; storage is on change, so repeats are not
	// stored again, but the sandbox's swing moves a tag's value most of the time.
	if grid < 12 || len(first) == 0 {
		t.Fatalf("%d of %d values on the trending grid after the first start: %v", grid, len(first), first)
	}
	oldest, _ := time.Parse(time.RFC3339Nano, first[0].src)
	// The retention horizon moves on while the test runs (a loaded machine takes minutes
	// between the fill and this read): the oldest may be up to that much older than 3 hours.
	if age := time.Since(oldest); !onGrid5m(first[0].src) || age > 3*time.Hour+5*time.Minute || age < 3*time.Hour-6*time.Minute {
		t.Errorf("oldest value at %s (%v ago), want trending's at the start of the 3-hour retention", first[0].src, age)
	}
	metrics1 := string(g.Get("/metrics"))
	fetched1 := metricSum(metrics1, "svgateway_history_backfill_fetched_total")
	if added := metricSum(metrics1, "svgateway_history_backfill_samples_total"); added == 0 || fetched1 < added {
		t.Errorf("first start: %v samples fetched, %v added", fetched1, added)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// Down for the last 40 minutes: what the history holds of them is removed.
	cut := time.Now().Add(-40 * time.Minute)
	hs, err := history.Open(history.Options{Path: filepath.Join(g.StateDir, history.FileName), Retention: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := hs.DropAfter(cut); err != nil || n == 0 {
		t.Fatalf("dropped %d samples: %v", n, err)
	}
	hs.Close()
	// The backfill may add samples a little before the cut: the gap starts where the recording
	// stopped, less the lag a reading's source time may have (stale_after, 10s here).
	cutSrc := cut.Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")

	g2, url2 := backfillGateway(t, g.Dir)
	url = url2
	WaitFor(t, 120*time.Second, "the restart's backfill", func() bool {
		return logLines(g2.Log.String(), "history backfill: done", "reason=start") == 1
	})
	second := read()
	var kept, gap []histValue
	for _, v := range second {
		switch {
		case v.src <= cutSrc:
			kept = append(kept, v)
		case onGrid5m(v.src):
			gap = append(gap, v)
		}
	}
	// The oldest values leave with the moving retention horizon meanwhile: compare what
	// lies well inside it (10 minutes past the horizon at this read).
	inside := time.Now().Add(-3*time.Hour + 10*time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
	kept = slices.DeleteFunc(kept, func(v histValue) bool { return v.src < inside })
	var want []histValue
	for _, v := range first {
		if v.src <= cutSrc && v.src >= inside {
			want = append(want, v)
		}
	}
	if fmt.Sprint(kept) != fmt.Sprint(want) {
		t.Errorf("the history before the gap changed:\n now  %v\n was  %v", kept, want)
	}
	// Trending's 8 or 9 samples of the gap, stored on change: at least one (the sandbox's swing
	// moves the value over 40 minutes), at most all.
	if len(gap) < 1 || len(gap) > 10 {
		t.Errorf("%d trending values in the 41-minute gap, want 1 to 10: %v", len(gap), gap)
	}
	metrics2 := string(g2.Get("/metrics"))
	fetched2 := metricSum(metrics2, "svgateway_history_backfill_fetched_total")
	// About 40/180 of the first start's; a series whose recording stopped earlier (on-change
	// storage, a slow recorder under load) starts its gap earlier, so allow up to half: a
	// refill of the whole retention would fetch as much as the first start.
	if fetched2 == 0 || fetched2*2 > fetched1 {
		t.Errorf("restart fetched %v samples, the first start %v: want only the gap (about 40/180, at most half)", fetched2, fetched1)
	}
	for _, l := range strings.Split(g.Log.String()+g2.Log.String(), "\n") {
		if strings.Contains(l, "history backfill:") || strings.Contains(l, "upstream") {
			t.Log(l) // what each gap asked for, to read a failure by
		}
	}
	t.Logf("first start: %v samples fetched, %d values of %s; restart: %v fetched, %d in the gap", fetched1, len(first), tag.ID, fetched2, len(gap))

	// Upstream down, then back: one more gap, looked at once.
	putQuiet(t, g2.SandboxURL+"/_sandbox/faults", `{"unavailable":1}`)
	WaitFor(t, 60*time.Second, "upstream down", func() bool { return g2.Model().Health.Upstream == "down" })
	putQuiet(t, g2.SandboxURL+"/_sandbox/faults", `{}`)
	WaitFor(t, 60*time.Second, "the outage's backfill", func() bool {
		l := g2.Log.String()
		return logLines(l, "history backfill: done", "reason=outage")+logLines(l, "history backfill: no gap", "reason=outage") == 1
	})
	if n := logLines(g2.Log.String(), "history backfill: filling gaps"); n > 2 {
		t.Errorf("%d lines announcing a gap, want one per gap", n)
	}
}

// TestHistoryBackfillWithoutTrending: against an account of the documented catalog (no
// trending), the gateway gets ready, says once that trending is not served, and fills nothing.
func TestHistoryBackfillWithoutTrending(t *testing.T) {
	sandboxURL := StartSandbox(t, `catalog = "documented"`)
	status, _, log := startLiveGateway(t, sandboxURL, "auto")
	WaitFor(t, 60*time.Second, "the start's backfill", func() bool {
		return logLines(log.String(), "history backfill: done", "reason=start") == 1
	})
	if n := logLines(log.String(), "does not serve trending"); n != 1 {
		t.Errorf("%d lines saying trending is not served, want 1", n)
	}
	metrics := httpGet(t, status+"/metrics")
	if n := metricSum(string(metrics), "svgateway_history_backfill_samples_total"); n != 0 {
		t.Errorf("%v samples backfilled without trending", n)
	}
	resp, err := http.Get(status + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("not ready after the backfill: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}
