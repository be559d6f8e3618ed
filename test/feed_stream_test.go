package e2e

// The v2 streaming API end to end: the gateway in sandbox mode with
// [feed] provider = "subscription_data" registers its v2 subscription in
// the sandbox and reads its data over REST; an alarm raised, acknowledged
// and cleared through the sandbox's admin API reaches a real snmptrapd once
// each, the acknowledgement with the sandbox's own acknowledgement time
// (status.acknowledgementTime) as svgAlarmAckTime.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestV2AlarmToSnmptrapd(t *testing.T) {
	trapd := startTrapd(t, 0)
	targets := []string{"v2c trap", "v3 inform"}
	// The sandbox does not tick and the poll runs only at start, so what
	// changes during the test comes from the v2 stream.
	g := StartGateway(t, GatewayOptions{Tick: "1h",
		Sync: "structure_interval = \"1h\"\nvalues_interval = \"1h\"\nstale_after = \"3h\"\n",
		Extra: targetsTOML(trapd.Addr, targets...) +
			"\n[feed]\nprovider = \"subscription_data\"\n\n[feed.stream]\npoll_interval = \"1s\"\npage_size = 50\n"})
	waitFeedConnected(t, g, "subscription_data")

	sandboxAlarm(g, "raise")
	id := testAlarmID(t, g, "active")
	waitReceived(t, trapd, id, 2)
	time.Sleep(150 * time.Millisecond) // the acknowledgement gets a decisecond of its own
	var ref struct {
		TimeAcknowledged int64 `json:"timeAcknowledged"`
	}
	out := g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "ack", "assetId": "CH1.Gen-2", "tagId": "CH1.Gen-2:voltage", "conditionName": "Low Voltage"})
	if err := json.Unmarshal(out, &ref); err != nil || ref.TimeAcknowledged == 0 {
		t.Fatalf("ack answer %s: %v", out, err)
	}
	testAlarmID(t, g, "acknowledged")
	waitReceived(t, trapd, id, 4)
	sandboxAlarm(g, "clear")
	testAlarmID(t, g, "cleared")
	waitReceived(t, trapd, id, 6)
	WaitFor(t, 30*time.Second, "the inform queue drained", func() bool {
		return metric(g, `svgateway_snmp_notification_queue_depth{target="`+trapd.Addr+`/v3/inform"}`) == 0
	})
	time.Sleep(2 * time.Second) // a few more reads of the same data: nothing more may arrive
	got := received(trapd, id)
	for _, tg := range targets {
		checkReceived(t, got, tg, "svgAlarmRaised", "svgAlarmAcknowledged", "svgAlarmCleared")
	}
	noDuplicates(t, trapd)

	// svgAlarmAckTime (DateAndTime, as snmptrapd shows it with the MIB) is
	// the sandbox's acknowledgement time, not when the gateway learned of it.
	at := time.UnixMilli(ref.TimeAcknowledged).UTC()
	want := fmt.Sprintf("%d-%d-%d,%d:%d:%d.%d,+0:0", at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), at.Nanosecond()/100_000_000)
	acks := 0
	for _, n := range trapd.Notifications() {
		if v, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0"); v != "OID: SVGATEWAY-MIB::svgAlarmAcknowledged" {
			continue
		}
		if v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmId.%d", id)); v == "" {
			continue
		}
		acks++
		v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmAckTime.%d", id))
		if !strings.Contains(v, want) {
			t.Errorf("%s: svgAlarmAckTime = %q, want the upstream acknowledgement time %s", n.PDU, v, want)
		}
	}
	if acks != len(targets) {
		t.Errorf("%d acknowledgements received, want %d", acks, len(targets))
	}
	if m := g.Model(); m.Health.Feed.Malformed != 0 {
		t.Errorf("feed health: %+v", m.Health.Feed)
	}
	if n := metric(g, `svgateway_feed_stream_pages_total{result="ok"}`); n < 3 {
		t.Errorf("subscriptionData pages read: %v", n)
	}
}
