package e2e

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// Alarms & Conditions benchmarks through the gateway binary and a node-opcua
// console (test/opcua/events.js) subscribed to the Server object's events
// with a 0 ms publishing interval (the server's minimum set to 1 ms, the
// least it revises to).

// benchAlarmGateway starts a gateway for the benchmarks: the sandbox's
// in-process feed, slow polls, a 1 ms publishing minimum.
func benchAlarmGateway(b *testing.B) (*Gateway, *console) {
	requireTool(b, "node")
	opcua, endpoint := anonymousOPCUA(b)
	g := StartGateway(b, GatewayOptions{Tick: "1h", Sync: slowSync, Extra: opcua + `[opcua.limits]
min_publishing_interval = "1ms"
`})
	waitFeedConnected(b, g, "sandbox")
	return g, startConsole(b, endpoint, "", "--interval", "0")
}

// epochMS converts events.js's receive time (ms since the epoch, fractional).
func epochMS(v any) time.Time {
	ms, _ := v.(float64)
	sec, frac := math.Modf(ms / 1000)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// BenchmarkOPCUAAlarmEvent measures an alarm transition reaching a
// node-opcua console as an event: one new alarm per op, raised through the
// sandbox's admin API (t0 just before the POST) and published in-process to
// the feed, waited for before the next, so the figure is latency, not
// throughput. Reported: p50/p99 from the POST to the console's receipt
// (µs), and of that the gateway's part, from the model's transition (the
// event's ReceiveTime) to the receipt.
//
//	go test -run X -bench OPCUAAlarmEvent -benchtime 200x ./test
func BenchmarkOPCUAAlarmEvent(b *testing.B) {
	g, con := benchAlarmGateway(b)
	var total, gateway []time.Duration
	b.ResetTimer()
	for i := range b.N {
		condition := fmt.Sprintf("Bench event %d", i)
		t0 := time.Now()
		g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "raise", "assetId": "CH1.Gen-2",
			"tagId": "CH1.Gen-2:voltage", "conditionName": condition, "severity": 870})
		l := con.next(30*time.Second, func(m map[string]any) bool {
			ev, ok := m["event"].(map[string]any)
			return ok && ev["ConditionName"] == condition
		})
		at := epochMS(l["t"])
		total = append(total, at.Sub(t0))
		if rt, err := time.Parse(time.RFC3339Nano, fmt.Sprint(l["event"].(map[string]any)["ReceiveTime"])); err == nil {
			gateway = append(gateway, at.Sub(rt))
		}
	}
	b.StopTimer()
	feedtest.ReportLatency(b, total)
	b.ReportMetric(float64(feedtest.Percentile(gateway, 50).Microseconds()), "gateway-p50-µs")
	b.ReportMetric(float64(feedtest.Percentile(gateway, 99).Microseconds()), "gateway-p99-µs")
}

// BenchmarkOPCUAConditionRefresh measures ConditionRefresh with 5,000
// retained conditions: 5,000 alarms raised through the sandbox's admin API
// (its limit is 10,000 active alarms), then per op one ConditionRefresh
// from the console, timed from the Call to the receipt of RefreshEndEvent
// with every condition received between.
//
//	go test -run X -bench OPCUAConditionRefresh -benchtime 5x ./test
func BenchmarkOPCUAConditionRefresh(b *testing.B) {
	const conditions = 5000
	g, con := benchAlarmGateway(b)
	raiseMany(b, g, conditions)
	WaitFor(b, 3*time.Minute, "5,000 alarms in the model", func() bool {
		n := 0
		for _, a := range g.Model().Alarms {
			if a.State != "cleared" {
				n++
			}
		}
		return n >= conditions
	})
	time.Sleep(2 * time.Second)
	for range con.drain(time.Second) { // the raise events
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		n := 0
		var end time.Time
		see := func(ev map[string]any, at any) {
			switch fmt.Sprint(ev["EventType"]) {
			case "ns=0;i=2787", "i=2787":
				n = 0
			case "ns=0;i=2788", "i=2788":
				end = epochMS(at)
			default:
				n++
			}
		}
		// the events may arrive before or after the Call's result
		r := con.do(map[string]any{"cmd": "refresh"}, func(map[string]any) {})
		for _, l := range con.kept {
			see(l["event"].(map[string]any), l["t"])
		}
		con.kept = nil
		if r["status"] != "Good" {
			b.Fatalf("ConditionRefresh: %v", r)
		}
		for end.IsZero() {
			l := con.next(2*time.Minute, func(m map[string]any) bool { _, ok := m["event"]; return ok })
			see(l["event"].(map[string]any), l["t"])
		}
		if n < conditions {
			b.Fatalf("%d conditions between start and end, want %d or more", n, conditions)
		}
		lat = append(lat, end.Sub(t0))
	}
	b.StopTimer()
	b.ReportMetric(float64(feedtest.Percentile(lat, 50).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(feedtest.Percentile(lat, 99).Milliseconds()), "p99-ms")
}

// raiseMany raises n alarms on one tag through the sandbox's admin API, a
// few requests at a time.
func raiseMany(b *testing.B, g *Gateway, n int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := fmt.Sprintf(`{"action":"raise","assetId":"CH1.Gen-2","tagId":"CH1.Gen-2:voltage","conditionName":"Bench refresh %d","severity":650}`, i)
				resp, err := http.Post(g.SandboxURL+"/_sandbox/alarms", "application/json", strings.NewReader(body))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						err = fmt.Errorf("raise %d: %s", i, resp.Status)
					}
				}
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
