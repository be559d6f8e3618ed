package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/google"
)

// The Pub/Sub emulator is started by the first test that needs it and
// stopped by TestMain (stopPeers) at the end of the run: once per run.
var (
	emulatorOnce sync.Once
	emulator     *feedtest.Process
	emulatorErr  error
	topicSeq     atomic.Int64
)

// stopPeers stops what the tests of this file started for the whole run.
func stopPeers() {
	if emulator != nil {
		emulator.Stop()
	}
}

func pubsubEmulator(t testing.TB) string {
	t.Helper()
	emulatorOnce.Do(func() { emulator, emulatorErr = feedtest.StartPubSubEmulator(0) })
	if emulator == nil {
		if errors.Is(emulatorErr, feedtest.ErrMissing) && !e2eRequired() {
			t.Skipf("Pub/Sub emulator: %v", emulatorErr)
		}
		t.Fatalf("Pub/Sub emulator: %v", emulatorErr)
	}
	return emulator.Addr
}

// pubsubTopic creates a topic and subscription on the emulator, unique to
// the test, and returns a publisher for it.
func pubsubTopic(t testing.TB, host string) (topic, sub string, publish func(data []byte) string) {
	t.Helper()
	ctx := context.Background()
	client, err := google.NewClient(ctx, feed.GoogleConfig{EmulatorHost: host}, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	n := topicSeq.Add(1)
	topic = fmt.Sprintf("projects/e2e/topics/feed-%d", n)
	sub = fmt.Sprintf("projects/e2e/subscriptions/feed-%d", n)
	if err := google.EnsureTopic(ctx, client, topic, sub); err != nil {
		t.Fatal(err)
	}
	pub := client.Publisher(topic)
	t.Cleanup(pub.Stop)
	return topic, sub, func(data []byte) string {
		t.Helper()
		id, err := pub.Publish(ctx, &pubsub.Message{Data: data}).Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
}

// feedOf waits for the feed to be connected and returns the model.
func waitFeedConnected(t testing.TB, g *Gateway, provider string) {
	t.Helper()
	WaitFor(t, 60*time.Second, "feed connected", func() bool {
		m := g.Model()
		return m.Health.Feed.State == "connected" && m.Health.Feed.Provider == provider
	})
}

// TestFeedFromPubSubEmulator runs the gateway with [feed] provider =
// "google" reading a subscription of the real Pub/Sub emulator, with its
// SNMP agent, a v2c trap target (a real snmptrapd) and its OPC UA server (a
// node-opcua subscriber). Published events change /api/model: an alarm is
// raised (exactly one svgAlarmRaised at snmptrapd), a tag takes the event's
// value (net-snmp's snmpget reads it from the agent, the OPC UA subscriber
// is notified); the same events published again change nothing and send
// nothing; a malformed one is counted (in /api/model, /metrics,
// svgFeedMalformed.0 and the OPC UA Gateway object's FeedMalformed) and
// skipped; the alarm's clear reaches snmptrapd once and the subscriber
// monitoring the alarm's State. The sandbox does not tick
// and the poll runs only at start (values every 5m), so what changes during
// the test comes from the feed (a later poll would clear the alarm, which
// the sandbox does not list).
func TestFeedFromPubSubEmulator(t *testing.T) {
	host := pubsubEmulator(t)
	_, sub, publish := pubsubTopic(t, host)
	snmpPort, opcuaPort := freePort(t, "udp"), freePort(t, "tcp")
	trapd := startTrapd(t, 0)
	g := StartGateway(t, GatewayOptions{Tick: "1h", Sync: slowSync, Extra: fmt.Sprintf(`[feed]
provider = "google"
probe_interval = "1s"
[feed.google]
emulator_host = %q
subscription = %q
`, host, sub) + frontsTOML(snmpPort, trapd.Addr, opcuaPort)})
	url := fmt.Sprintf("opc.tcp://127.0.0.1:%d", opcuaPort)
	agent := fmt.Sprintf("127.0.0.1:%d", snmpPort)
	waitFeedConnected(t, g, "google")

	now := time.Now().Truncate(time.Millisecond)
	const asset, tag, condition = "CH1.Gen-2", "CH1.Gen-2:voltage", "Feed E2E Undervoltage"
	alarmEvent := feedtest.AlarmEvent("CH1", asset, tag, condition, 870, true, now, now)
	alarmOf := func(m *APIModel) *APIAlarm {
		for i := range m.Alarms {
			if a := &m.Alarms[i]; a.Tag == tag && a.Condition == condition {
				return a
			}
		}
		return nil
	}
	publish(alarmEvent)
	var raised APIAlarm
	WaitFor(t, 30*time.Second, "the alarm from the feed in /api/model", func() bool {
		if a := alarmOf(g.Model()); a != nil {
			raised = *a
			return true
		}
		return false
	})
	if raised.State != "active" || raised.Severity != "Urgent" || raised.IBX != "CH1" || raised.Asset != asset ||
		raised.Triggered == nil || !raised.Triggered.Equal(now) {
		t.Errorf("alarm = %+v", raised)
	}
	waitReceived(t, trapd, raised.ID, 1)
	fuel := "CH1.Gen-1:fuelhours"
	tagEvent := feedtest.TagEvent(fuel, "31337.5", now)
	fronts := tagThroughEveryFront(t, g, url, agent, raised.ID, fuel, "31337.5", tagEvent, func(b []byte) { publish(b) })
	subscriber, stateNode := fronts.subscriber, fronts.stateNode
	before := g.Model()

	// Redelivered (published again): received, changes nothing.
	publish(alarmEvent)
	publish(tagEvent)
	// Malformed: counted and skipped; the next event is still applied.
	publish([]byte(`{"name":"alarm_updated","alarm":"not an object"}`))
	publish(feedtest.TagEvent("CH1.Gen-1:fuellevel", "12.5", now))
	WaitFor(t, 30*time.Second, "the events after the duplicates", func() bool {
		f := g.Model().Health.Feed
		return f.Events >= before.Health.Feed.Events+4
	})
	after := g.Model()
	if a := alarmOf(after); a == nil || a.ID != raised.ID || a.Seq != raised.Seq || a.State != "active" {
		t.Errorf("after the duplicate: %+v, want %+v unchanged", a, raised)
	}
	n := 0
	for _, a := range after.Alarms {
		if a.Tag == tag && a.Condition == condition {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d alarms for one event published twice", n)
	}
	if b, a := before.Tag(fuel), after.Tag(fuel); a.Value.Text != "31337.5" || !a.ReadingTime.Equal(*b.ReadingTime) {
		t.Errorf("tag after the duplicate: %+v (before %+v)", a, b)
	}
	f := after.Health.Feed
	if f.Malformed != 1 || f.Unknown != 0 || f.LagSeconds == nil {
		t.Errorf("feed health %+v", f)
	}
	fronts.malformedCountedEverywhere(t, g, agent)

	// Cleared by the feed (and the clear redelivered): one svgAlarmCleared,
	// and the subscriber's State changes.
	clearEvent := feedtest.AlarmEvent("CH1", asset, tag, condition, 870, false, now, now.Add(time.Second))
	publish(clearEvent)
	publish(clearEvent)
	subscriber.await("the alarm's State cleared", func(e map[string]any) bool { return e["id"] == stateNode && e["value"] == "cleared" })
	waitReceived(t, trapd, raised.ID, 2)
	WaitFor(t, 30*time.Second, "the redelivered clear", func() bool { return g.Model().Health.Feed.Events >= before.Health.Feed.Events+6 })
	// A message the gateway did not acknowledge comes back after the
	// subscription's ack deadline: anything redelivered and sent again
	// would be at snmptrapd by then.
	time.Sleep(feedRedeliveryHorizon)
	if n := g.Model().Health.Feed.Events; n != before.Health.Feed.Events+6 {
		t.Errorf("%d feed events after the redelivery horizon, want the %d published: a message came again", n, before.Health.Feed.Events+6)
	}
	checkReceived(t, received(trapd, raised.ID), "v2c trap", "svgAlarmRaised", "svgAlarmCleared")
	noDuplicates(t, trapd)
}

// feedRedeliveryHorizon is the ack deadline of the subscriptions
// google.EnsureTopic creates (10 s), after which the emulator redelivers an
// unacknowledged message, and a margin.
const feedRedeliveryHorizon = 12 * time.Second

// slowSync polls once at start and then every 5 minutes: longer than a test.
const slowSync = "structure_interval = \"10m\"\nvalues_interval = \"5m\"\nstale_after = \"10m\"\n"

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSandboxFeedThroughEmulator: the sandbox provider with
// [feed.sandbox] pubsub_topic publishes the sandbox's own changes to the
// emulator and reads them back with the google consumer.
func TestSandboxFeedThroughEmulator(t *testing.T) {
	host := pubsubEmulator(t)
	n := topicSeq.Add(1)
	g := StartGateway(t, GatewayOptions{Tick: "1h", Sync: slowSync, Extra: fmt.Sprintf(`[feed]
provider = "sandbox"
[feed.sandbox]
pubsub_topic = "projects/e2e/topics/sandbox-%d"
[feed.google]
emulator_host = %q
`, n, host)})
	waitFeedConnected(t, g, "sandbox via pubsub emulator")
	g.SandboxPost("/_sandbox/tags", map[string]any{"tagId": "CH1.Gen-1:fuelhours", "value": "2468.5"})
	WaitFor(t, 30*time.Second, "the sandbox's change through the emulator", func() bool {
		m := g.Model()
		v := m.Tag("CH1.Gen-1:fuelhours")
		return v != nil && v.Value != nil && v.Value.Text == "2468.5" && m.Health.Feed.Events > 0
	})
}

// TestFeedSubscriptionLifecycle runs a gateway in live mode against
// `svgateway sandbox` (the stand-in for the SmartView API): its first start
// registers the feed subscription, restarts reuse it (no second one), and
// `svgateway unsubscribe` deletes it.
func TestFeedSubscriptionLifecycle(t *testing.T) {
	host := pubsubEmulator(t)
	_, sub, _ := pubsubTopic(t, host)
	dir := t.TempDir()
	api := StartSandbox(t, `tick = "1h"`)

	statusPort := freePort(t, "tcp")
	gwCfg := filepath.Join(dir, "gateway.toml") // written by each start, read by unsubscribe
	cfg := fmt.Sprintf(`state_dir = %q
%s
[sync]
values_interval = "1s"
stale_after = "10s"
[feed]
provider = "google"
[feed.google]
emulator_host = %q
subscription = %q
[status]
listen = "127.0.0.1:%d"
`, filepath.Join(dir, "state"), liveSmartView(api), host, sub, statusPort)
	status := fmt.Sprintf("http://127.0.0.1:%d", statusPort)
	calls := func() map[string]int64 {
		var st struct {
			Requests map[string]map[string]int64 `json:"requests"`
		}
		b, err := httpGetQuiet(api + "/_sandbox/stats")
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(b), &st)
		out := map[string]int64{}
		for route, byStatus := range st.Requests {
			method, path, _ := strings.Cut(route, " ")
			if strings.Contains(path, "/subscribe") {
				for _, n := range byStatus {
					out[method] += n
				}
			}
		}
		return out
	}
	run := func() {
		g := &Gateway{t: t, Dir: dir, StateDir: filepath.Join(dir, "state"), Config: cfg, StatusURL: status}
		g.launch(gatewayBin, nil, "gateway", 0)
		defer g.Stop()
		WaitFor(t, 60*time.Second, "the feed connected in live mode", func() bool {
			b, err := httpGetQuiet(status + "/api/model")
			if err != nil {
				return false
			}
			var m APIModel
			return json.Unmarshal([]byte(b), &m) == nil && m.Health.Feed.State == "connected"
		})
		WaitFor(t, 30*time.Second, "the subscription remembered", func() bool {
			_, err := os.Stat(filepath.Join(dir, "state", "feed", "subscription.json"))
			return err == nil
		})
	}
	run()
	first := calls()
	if first["POST"]+first["PUT"] != 1 {
		t.Errorf("first start: subscription calls %v, want one create or update", first)
	}
	run()
	run()
	if again := calls(); again["POST"] != first["POST"] || again["PUT"] != first["PUT"] {
		t.Errorf("restarts changed the subscription: %v, then %v", first, again)
	}

	out, err := exec.Command(gatewayBin, "-config", gwCfg, "unsubscribe").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "deleted feed subscription") {
		t.Fatalf("unsubscribe: %v\n%s", err, out)
	}
	if c := calls(); c["DELETE"] != 1 {
		t.Errorf("unsubscribe made %v", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "feed", "subscription.json")); !os.IsNotExist(err) {
		t.Errorf("subscription state after unsubscribe: %v", err)
	}
	out, err = exec.Command(gatewayBin, "-config", gwCfg, "unsubscribe").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "no feed subscription") {
		t.Errorf("second unsubscribe: %v\n%s", err, out)
	}
}

// snmpGetInstance returns the value of one instance ("column.index") of
// SVGATEWAY-MIB read with snmpget from agent (community public).
func snmpGetInstance(t *testing.T, agent, object string) string {
	t.Helper()
	out, err := snmpTool(t, "snmpget", "-v2c", "-c", "public", "-OQs", "-t", "5", "-r", "1", agent, "SVGATEWAY-MIB::"+object)
	if err != nil {
		t.Fatalf("snmpget %s: %v\n%s", object, err, out)
	}
	column, index, _ := strings.Cut(object, ".")
	return snmpRows(out)[column][index]
}

// frontsTOML is the feed tests' [snmp] and [opcua] tables: the agent on
// snmpPort (community public), one v2c trap target at trapAddr, OPC UA on
// opcuaPort without security.
func frontsTOML(snmpPort int, trapAddr string, opcuaPort int) string {
	return fmt.Sprintf(`[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[[snmp.targets]]
address = %q
community = "public"
[opcua]
endpoint = "opc.tcp://127.0.0.1:%d"
security = ["None"]
allow_anonymous = true
`, snmpPort, trapAddr, opcuaPort)
}

// feedFronts is an OPC UA subscriber on a raised alarm's State, a tag and
// the Gateway's FeedState and FeedMalformed, with the node ids of the two
// the tests go on reading.
type feedFronts struct {
	subscriber               *subscriber
	stateNode, malformedNode string
}

// tagThroughEveryFront is the feed tests' common middle: with an OPC UA
// subscriber on the raised alarm's State, the tag and the Gateway's feed
// variables, tagEvent (which sets tag to value) sent through the feed reaches
// /api/model, the subscriber and SNMP's svgTagValueText.
func tagThroughEveryFront(t *testing.T, g *Gateway, url, agent string, alarmID uint64, tag, value string, tagEvent []byte, send func([]byte)) feedFronts {
	t.Helper()
	f := feedFronts{stateNode: fmt.Sprintf("ns=2;s=CH1/ALARM/%d#State", alarmID), malformedNode: "ns=2;s=Gateway#FeedMalformed"}
	tagNode, feedStateNode := "ns=2;s=CH1/TAG/"+tag, "ns=2;s=Gateway#FeedState"
	f.subscriber = startSubscriber(t, url, f.stateNode, tagNode, feedStateNode, f.malformedNode)
	f.subscriber.await("the alarm's State", func(e map[string]any) bool { return e["id"] == f.stateNode && e["value"] == "active" })
	f.subscriber.await("the gateway's FeedState", func(e map[string]any) bool { return e["id"] == feedStateNode && e["value"] == "connected" })

	send(tagEvent)
	WaitFor(t, 60*time.Second, "the tag value from the feed", func() bool {
		v := g.Model().Tag(tag)
		return v != nil && v.Value != nil && v.Value.Text == value
	})
	want, _ := strconv.ParseFloat(value, 64)
	f.subscriber.await("the tag's data change", func(e map[string]any) bool { return e["id"] == tagNode && e["value"] == want })
	out, err := snmpTool(t, "snmpbulkwalk", "-v2c", "-c", "public", "-OQs", "-Cr50", "-t", "5", "-r", "1", agent, "SVGATEWAY-MIB::svgTagId")
	if err != nil {
		t.Fatalf("snmpbulkwalk svgTagId: %v\n%s", err, out)
	}
	tagIndex := ""
	for idx, id := range snmpRows(out)["svgTagId"] {
		if id == tag {
			tagIndex = idx
		}
	}
	if got := snmpGetInstance(t, agent, "svgTagValueText."+tagIndex); got != value {
		t.Errorf("SNMP svgTagValueText of %s after the feed event: %q", tag, got)
	}
	return f
}

// malformedCountedEverywhere checks that the one malformed event sent is
// counted over OPC UA, SNMP and /metrics, with the feed connected.
func (f feedFronts) malformedCountedEverywhere(t *testing.T, g *Gateway, agent string) {
	t.Helper()
	// node-opcua gives a UInt64 as [high, low].
	f.subscriber.await("FeedMalformed 1 over OPC UA", func(e map[string]any) bool {
		return e["id"] == f.malformedNode && fmt.Sprint(e["value"]) == "[0 1]"
	})
	if got := snmpGetInstance(t, agent, "svgFeedMalformed.0"); got != "1" {
		t.Errorf("SNMP svgFeedMalformed.0 = %q, want 1", got)
	}
	if got := snmpGetInstance(t, agent, "svgFeedState.0"); got != "connected" {
		t.Errorf("SNMP svgFeedState.0 = %q, want connected", got)
	}
	if metrics := string(g.Get("/metrics")); !strings.Contains(metrics, `svgateway_feed_events_total{kind="unknown",outcome="malformed"} 1`) ||
		!strings.Contains(metrics, `svgateway_model_feed_up{state="connected"} 1`) {
		t.Errorf("/metrics lacks the feed counters:\n%s", grepLines(metrics, "feed"))
	}
}
