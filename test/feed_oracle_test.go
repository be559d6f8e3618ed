package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// oracleFeedTOML is the [feed] table of a gateway reading stream from the
// test broker k: the user from the environment (OCI_STREAM_USER), the auth
// token from a file, the broker's certificate checked against the test CA.
func oracleFeedTOML(t *testing.T, k *feedtest.Kafka, stream string) string {
	t.Helper()
	t.Setenv("OCI_STREAM_USER", k.User)
	token := filepath.Join(t.TempDir(), "auth-token")
	if err := os.WriteFile(token, []byte(k.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`[feed]
provider = "oracle"
probe_interval = "1s"
reconnect_min = "100ms"
reconnect_max = "2s"
[feed.oracle]
bootstrap_servers = [%q]
stream = %q
group = "svgateway-e2e"
user = "env:OCI_STREAM_USER"
auth_token = "file:%s"
ca_file = %q
start_offset = "earliest"
`, k.Addr, stream, token, k.CAFile)
}

// TestFeedFromOracleStreaming runs the gateway with [feed] provider =
// "oracle" against a Kafka-protocol broker (franz-go's kfake, SASL/PLAIN
// over TLS, in this test's process on loopback), with every record
// produced by kcat. The gateway registers its subscription as ORACLE; an
// alarm record gives exactly one svgAlarmRaised at a real snmptrapd and its
// clear exactly one svgAlarmCleared; a tagpoint record gives a new value to
// snmpget and the OPC UA subscriber; replayed records change nothing and
// send nothing; a malformed record is counted in /api/model, /metrics,
// svgFeedMalformed.0 and the OPC UA Gateway object. Then the broker is
// stopped mid-stream and started again: the feed shows down, comes back,
// and every record produced before and after reaches the model. The
// sandbox does not tick and the poll runs at start only, so what changes
// comes from the feed.
func TestFeedFromOracleStreaming(t *testing.T) {
	requireTool(t, "kcat")
	k := feedtest.StartKafka(t, map[string]int32{"smartview-feed": 1})
	snmpPort, opcuaPort := freePort(t, "udp"), freePort(t, "tcp")
	trapd := startTrapd(t, 0)
	g := StartGateway(t, GatewayOptions{Tick: "1h", Sync: slowSync, Extra: oracleFeedTOML(t, k, "smartview-feed") + frontsTOML(snmpPort, trapd.Addr, opcuaPort)})
	agent := fmt.Sprintf("127.0.0.1:%d", snmpPort)
	snmpGet := func(object string) string { return snmpGetInstance(t, agent, object) }
	produce := func(records ...[]byte) { k.Produce(t, "smartview-feed", records...) }
	waitFeedConnected(t, g, "oracle")

	// The subscription was registered through the (sandbox's) Subscriptions API as ORACLE.
	WaitFor(t, 30*time.Second, "the ORACLE subscription remembered", func() bool {
		b, err := os.ReadFile(filepath.Join(g.StateDir, "feed", "subscription.json"))
		var st struct{ Provider string }
		return err == nil && json.Unmarshal(b, &st) == nil && st.Provider == "ORACLE"
	})

	now := time.Now().Truncate(time.Millisecond)
	const asset, tag, condition = "CH1.Gen-2", "CH1.Gen-2:voltage", "Oracle E2E Undervoltage"
	alarmRecord := feedtest.AlarmEvent("CH1", asset, tag, condition, 870, true, now, now)
	produce(alarmRecord)
	var raised APIAlarm
	WaitFor(t, 60*time.Second, "the alarm from the stream in /api/model", func() bool {
		if a := g.Model().AlarmOf(asset, tag); a != nil && a.Condition == condition {
			raised = *a
			return true
		}
		return false
	})
	if raised.State != "active" || raised.Severity != "Urgent" || !raised.Triggered.Equal(now) {
		t.Errorf("alarm = %+v", raised)
	}
	waitReceived(t, trapd, raised.ID, 1)

	const fuel = "CH1.Gen-1:fuelhours"
	tagRecord := feedtest.TagEvent(fuel, "4242.5", now)
	fronts := tagThroughEveryFront(t, g, fmt.Sprintf("opc.tcp://127.0.0.1:%d", opcuaPort), agent, raised.ID, fuel, "4242.5", tagRecord,
		func(b []byte) { produce(b) })
	subscriber, stateNode := fronts.subscriber, fronts.stateNode
	before := g.Model()

	// Replayed records change nothing; a malformed one is counted and skipped.
	produce(alarmRecord, tagRecord, []byte(`{"name":"alarm_updated","alarm":"not an object"}`))
	WaitFor(t, 60*time.Second, "the replayed and malformed records read", func() bool {
		return g.Model().Health.Feed.Events >= before.Health.Feed.Events+3
	})
	after := g.Model()
	if a := after.AlarmOf(asset, tag); a == nil || a.ID != raised.ID || a.Seq != raised.Seq || a.State != "active" {
		t.Errorf("after the replay: %+v, want %+v unchanged", a, raised)
	}
	if b, a := before.Tag(fuel), after.Tag(fuel); a.Value.Text != "4242.5" || !a.ReadingTime.Equal(*b.ReadingTime) {
		t.Errorf("tag after the replay: %+v (before %+v)", a, b)
	}
	if f := after.Health.Feed; f.Malformed != 1 || f.Unknown != 0 || f.LagSeconds == nil || f.State != "connected" {
		t.Errorf("feed health %+v", f)
	}
	fronts.malformedCountedEverywhere(t, g, agent)

	// The clear, twice: one svgAlarmCleared.
	clearRecord := feedtest.AlarmEvent("CH1", asset, tag, condition, 870, false, now, now.Add(time.Second))
	produce(clearRecord, clearRecord)
	subscriber.await("the alarm's State cleared", func(e map[string]any) bool { return e["id"] == stateNode && e["value"] == "cleared" })
	waitReceived(t, trapd, raised.ID, 2)

	// The broker stopped mid-stream and started again: nothing is lost.
	m := g.Model()
	want := map[string]string{}
	var records [][]byte
	for i, tg := range m.Tags[:120] {
		if tg.ID == fuel || tg.ID == tag {
			continue
		}
		v := fmt.Sprintf("%d.25", 7000+i)
		want[tg.ID] = v
		records = append(records, feedtest.TagEvent(tg.ID, v, now.Add(2*time.Second)))
	}
	half := len(records) / 2
	produce(records[:half]...)
	k.Stop()
	WaitFor(t, 60*time.Second, "the feed down in /api/model", func() bool { return g.Model().Health.Feed.State == "down" })
	if got := snmpGet("svgFeedState.0"); got != "down" {
		t.Errorf("SNMP svgFeedState.0 with the broker stopped = %q, want down", got)
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	waitFeedConnected(t, g, "oracle")
	produce(records[half:]...)
	WaitFor(t, 90*time.Second, "every record before and after the broker restart in the model", func() bool {
		m := g.Model()
		for id, v := range want {
			if tv := m.Tag(id); tv == nil || tv.Value == nil || tv.Value.Text != v {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // anything repeated would be sent by now
	checkReceived(t, received(trapd, raised.ID), "v2c trap", "svgAlarmRaised", "svgAlarmCleared")
	noDuplicates(t, trapd)
	if strings.Contains(g.Log.String(), k.Password) {
		t.Error("the auth token is in the gateway's log")
	}
}
