package e2e

// The v2 streaming API end to end: the gateway in sandbox mode with
// [feed] provider = "subscription_data" registers its v2 subscription in
// the sandbox and reads its data over REST; an alarm raised, acknowledged
// and cleared through the sandbox's admin API reaches a real snmptrapd once
// each, the acknowledgement with the sandbox's own acknowledgement time
// (status.acknowledgementTime) as svgAlarmAckTime. The webhook and
// aws_iot_core providers of the binary take the sandbox's pushes.

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/smartview/feed/feedtest"
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

// TestV2PushProvidersInTheBinary: the binary's webhook and aws_iot_core
// providers, each registered as a v2 subscription in the embedded sandbox,
// which pushes to them (an HTTPS POST trusting the certificate the gateway
// offered as sslCertificate; an MQTT publish through a real mosquitto with
// client certificates): a raised alarm reaches /api/model through each, and
// a body curl posts that does not parse is refused and counted in /metrics.
func TestV2PushProvidersInTheBinary(t *testing.T) {
	pki := feedtest.NewPKI(t)
	t.Run("webhook", func(t *testing.T) {
		curl := requireTool(t, "curl")
		cert, key := pki.Server(t, "gateway-webhook")
		port := freePort(t, "tcp")
		url := fmt.Sprintf("https://127.0.0.1:%d/smartview/v2", port)
		g := StartGateway(t, GatewayOptions{Tick: "1h", Sync: "structure_interval = \"1h\"\nvalues_interval = \"1h\"\nstale_after = \"3h\"\n",
			Extra: fmt.Sprintf("[feed]\nprovider = \"webhook\"\n[feed.webhook]\nlisten = \"127.0.0.1:%d\"\nurl = %q\ncert_file = %q\nkey_file = %q\n",
				port, url, cert, key)})
		waitFeedConnected(t, g, "webhook")
		raiseAndSee(t, g, "Webhook Binary")
		out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pki.CAFile,
			"-H", "Content-Type: application/json", "--data-binary", `{"type":"power","data":`, url).CombinedOutput()
		if err != nil || string(out) != "400" {
			t.Errorf("malformed body: %s, %v", out, err)
		}
		if n := metric(g, `svgateway_feed_webhook_requests_total{result="malformed"}`); n != 1 {
			t.Errorf("malformed deliveries in /metrics: %v", n)
		}
		if n := metric(g, `svgateway_feed_webhook_requests_total{result="accepted"}`); n < 1 {
			t.Errorf("accepted deliveries in /metrics: %v", n)
		}
	})
	t.Run("aws_iot_core", func(t *testing.T) {
		p, err := feedtest.StartMosquitto(t, pki)
		broker := feedtest.Require(t, p, err)
		gwCert, gwKey := pki.Client(t, "gateway-thing")
		sbCert, sbKey := pki.Client(t, "sandbox-publisher")
		g := StartGateway(t, GatewayOptions{Tick: "1h", Sync: "structure_interval = \"1h\"\nvalues_interval = \"1h\"\nstale_after = \"3h\"\n",
			Extra: fmt.Sprintf("[sandbox.stream]\nmqtt_broker = \"ssl://%s\"\nmqtt_cert_file = %q\nmqtt_key_file = %q\nmqtt_ca_file = %q\n\n"+
				"[feed]\nprovider = \"aws_iot_core\"\n[feed.aws_iot_core]\nbroker = \"ssl://%s\"\ncert_file = %q\nkey_file = %q\nca_file = %q\ntopics = [\"smartview/v2/#\"]\n",
				broker.Addr, sbCert, sbKey, pki.CAFile, broker.Addr, gwCert, gwKey, pki.CAFile)})
		waitFeedConnected(t, g, "aws_iot_core")
		raiseAndSee(t, g, "MQTT Binary")
	})
}

// raiseAndSee raises an alarm in the gateway's sandbox and waits for it in
// /api/model (the poll does not run: it can only come from the feed).
func raiseAndSee(t *testing.T, g *Gateway, condition string) {
	t.Helper()
	g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "raise", "assetId": "CH1.Gen-2", "tagId": "CH1.Gen-2:voltage",
		"conditionName": condition, "severity": 850})
	WaitFor(t, 30*time.Second, "the pushed alarm in /api/model", func() bool {
		for _, a := range g.Model().Alarms {
			if a.Condition == condition && a.State == "active" {
				return true
			}
		}
		return false
	})
}
