package e2e

// Notifications and AgentX from the real binary: a real snmptrapd receives
// the alarms the sandbox raises, acknowledges and clears (directly over
// v2c and v3, traps and informs, and through a real snmpd as AgentX
// master), and a real snmpd serves the gateway's MIB as its subagent.

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
)

const e2eEngineID = "0x80007ed90501020304aabbccdd"

var e2eTrapUser = netsnmptest.User{Name: "trapuser", Auth: "SHA-256", AuthPass: "trap-auth-pass", Priv: "AES", PrivPass: "trap-priv-pass"}

// startTrapd starts snmptrapd accepting community public and the v3 trap
// user (keyed to the gateway's engine for traps, to its own for informs),
// with the MIB loaded; port 0 picks a free one.
func startTrapd(t *testing.T, port int) *netsnmptest.Snmptrapd {
	t.Helper()
	traps := e2eTrapUser
	traps.EngineID = e2eEngineID
	return netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Port: port, Community: "public",
		Users: []netsnmptest.User{traps, e2eTrapUser}, MIBPath: netsnmptest.MIBPath(t)})
}

// targetsTOML is the [snmp] table with the given targets ("v2c trap", "v3 inform", ...) to addr.
func targetsTOML(addr string, targets ...string) string {
	s := fmt.Sprintf("[snmp]\nlisten = \"off\"\nengine_id = %q\n", e2eEngineID)
	for _, tg := range targets {
		version, kind, _ := strings.Cut(tg, " ")
		s += fmt.Sprintf("\n[[snmp.targets]]\naddress = %q\nversion = %q\nkind = %q\ntimeout = \"1s\"\n", addr, version, kind)
		if version == "v2c" {
			s += "community = \"public\"\n"
		} else {
			s += fmt.Sprintf("user = %q\nauth_protocol = \"SHA-256\"\nauth_passphrase = %q\npriv_protocol = \"AES\"\npriv_passphrase = %q\n",
				e2eTrapUser.Name, e2eTrapUser.AuthPass, e2eTrapUser.PrivPass)
		}
	}
	return s
}

// informRetryHorizon is how long after the queues drained a repeated
// notification would have been sent: an unacknowledged inform is sent again
// after its timeout (1s in targetsTOML) and the first retry delay (1s);
// the rest is margin. "Nothing more was sent" is checked after it.
const informRetryHorizon = 3 * time.Second

// sandboxAlarm drives the test's alarm in the sandbox.
func sandboxAlarm(g *Gateway, action string) {
	body := map[string]any{"action": action, "assetId": "CH1.Gen-2", "tagId": "CH1.Gen-2:voltage", "conditionName": "Low Voltage"}
	if action == "raise" {
		body["severity"] = 650
	}
	g.SandboxPost("/_sandbox/alarms", body)
}

// testAlarmID waits (bounded) for the test's alarm in /api/model in the
// given state and returns its id.
func testAlarmID(t *testing.T, g *Gateway, state string) uint64 {
	t.Helper()
	var id uint64
	WaitFor(t, 30*time.Second, "the alarm "+state+" in the model", func() bool {
		for _, a := range g.Model().Alarms {
			if a.Tag == "CH1.Gen-2:voltage" && a.Condition == "Low Voltage" && a.State == state {
				id = a.ID
				return true
			}
		}
		return false
	})
	return id
}

// received lists what snmptrapd logged for an alarm: "PDU notification".
func received(d *netsnmptest.Snmptrapd, id uint64) []string {
	var out []string
	for _, n := range d.Notifications() {
		if v, ok := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmId.%d", id)); ok && v == fmt.Sprintf("Gauge32: %d", id) {
			trap, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0")
			out = append(out, strings.TrimSpace(n.PDU)+" "+strings.TrimPrefix(trap, "OID: SVGATEWAY-MIB::"))
		}
	}
	return out
}

func waitReceived(t *testing.T, d *netsnmptest.Snmptrapd, id uint64, n int) {
	t.Helper()
	WaitFor(t, 60*time.Second, fmt.Sprintf("%d notifications of alarm %d", n, id), func() bool { return len(received(d, id)) >= n })
}

// noDuplicates fails when snmptrapd logged any notification of any alarm
// twice for the same target (same PDU kind).
func noDuplicates(t *testing.T, d *netsnmptest.Snmptrapd) {
	t.Helper()
	seen := map[string]int{}
	for _, n := range d.Notifications() {
		id, ok := "", false
		for _, vb := range n.Varbinds {
			if strings.HasPrefix(vb.Name, "SVGATEWAY-MIB::svgAlarmId.") {
				id, ok = vb.Value, true
			}
		}
		if !ok {
			continue
		}
		trap, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0")
		key := n.PDU + " " + trap + " " + id
		if seen[key]++; seen[key] > 1 {
			t.Errorf("received twice: %s", key)
		}
	}
}

// metric returns the value of a metric line of /metrics (0 when absent).
func metric(g *Gateway, prefix string) float64 {
	sc := bufio.NewScanner(strings.NewReader(string(g.Get("/metrics"))))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, prefix) {
			v, _ := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			return v
		}
	}
	return 0
}

var allTargets = []string{"v2c trap", "v2c inform", "v3 trap", "v3 inform"}

// pduOf is how snmptrapd describes each kind of target.
var pduOf = map[string]string{
	"v2c trap": "TRAP2, SNMP v2c, community public", "v2c inform": "INFORM, SNMP v2c, community public",
	"v3 trap": "TRAP2, SNMP v3, user trapuser, context", "v3 inform": "INFORM, SNMP v3, user trapuser, context",
}

func checkReceived(t *testing.T, got []string, target string, want ...string) {
	t.Helper()
	var kinds []string
	for _, g := range got {
		if k, ok := strings.CutPrefix(g, pduOf[target]+" "); ok {
			kinds = append(kinds, k)
		}
	}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("%s: received %q, want %q once each", target, kinds, want)
	}
}

// TestAlarmNotificationsToSnmptrapd: raise, acknowledge and clear of a
// sandbox alarm reach snmptrapd exactly once each over v2c trap, v2c
// inform, v3 authPriv trap and v3 authPriv inform, decoded by MIB names.
func TestAlarmNotificationsToSnmptrapd(t *testing.T) {
	trapd := startTrapd(t, 0)
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: targetsTOML(trapd.Addr, allTargets...)})
	sandboxAlarm(g, "raise")
	id := testAlarmID(t, g, "active")
	waitReceived(t, trapd, id, 4)
	sandboxAlarm(g, "ack")
	testAlarmID(t, g, "acknowledged")
	waitReceived(t, trapd, id, 8)
	sandboxAlarm(g, "clear")
	testAlarmID(t, g, "cleared")
	waitReceived(t, trapd, id, 12)
	WaitFor(t, 30*time.Second, "every queue drained", func() bool {
		return metric(g, `svgateway_snmp_notification_queue_depth{target="`+trapd.Addr+`/v3/inform"}`) == 0 &&
			metric(g, `svgateway_snmp_notification_queue_depth{target="`+trapd.Addr+`/v2c/inform"}`) == 0
	})
	time.Sleep(informRetryHorizon) // anything repeated would be sent by now
	got := received(trapd, id)
	for _, tg := range allTargets {
		checkReceived(t, got, tg, "svgAlarmRaised", "svgAlarmAcknowledged", "svgAlarmCleared")
	}
	noDuplicates(t, trapd)
	// Decoded by the MIB: the severity the sandbox raised (650: High) as
	// the ITU perceived severity, the asset, the condition.
	for _, n := range trapd.Notifications() {
		if v, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0"); v != "OID: SVGATEWAY-MIB::svgAlarmRaised" {
			continue
		}
		if v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmId.%d", id)); v == "" {
			continue
		}
		for name, want := range map[string]string{"svgAlarmPerceivedSeverity": "INTEGER: major(4)", "svgAlarmAssetId": "STRING: CH1.Gen-2",
			"svgAlarmCondition": "STRING: Low Voltage", "svgAlarmIbx": "STRING: CH1", "svgAlarmState": "INTEGER: active(1)"} {
			if v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::%s.%d", name, id)); v != want {
				t.Errorf("%s: %s = %q, want %q", n.PDU, name, v, want)
			}
		}
	}
}

// TestNotificationsAcrossRestart: the gateway stops (SIGTERM) between the
// acknowledgement and the clear; the alarm is cleared while it is down
// (the restarted sandbox no longer has it, so the first complete poll
// clears it). After the start on the same state_dir the clear arrives
// exactly once and nothing earlier is repeated.
func TestNotificationsAcrossRestart(t *testing.T) {
	trapd := startTrapd(t, 0)
	extra := targetsTOML(trapd.Addr, "v2c inform", "v3 trap")
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: extra})
	sandboxAlarm(g, "raise")
	id := testAlarmID(t, g, "active")
	sandboxAlarm(g, "ack")
	testAlarmID(t, g, "acknowledged")
	waitReceived(t, trapd, id, 4)
	WaitFor(t, 30*time.Second, "the inform of the acknowledgement acknowledged", func() bool {
		return metric(g, `svgateway_snmp_notifications_total{outcome="acked",target="`+trapd.Addr+`/v2c/inform",type="alarm_acknowledged"}`) >= 1
	})
	if err := g.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	before := len(trapd.Notifications())

	g2 := StartGateway(t, GatewayOptions{Dir: g.Dir, Tick: "1h", Extra: extra})
	if cleared := testAlarmID(t, g2, "cleared"); cleared != id {
		t.Fatalf("cleared alarm %d, want %d", cleared, id)
	}
	waitReceived(t, trapd, id, 6)
	WaitFor(t, 30*time.Second, "the inform queue drained", func() bool {
		return metric(g2, `svgateway_snmp_notification_queue_depth{target="`+trapd.Addr+`/v2c/inform"}`) == 0
	})
	time.Sleep(informRetryHorizon) // anything repeated would be sent by now
	got := received(trapd, id)
	for _, tg := range []string{"v2c inform", "v3 trap"} {
		checkReceived(t, got, tg, "svgAlarmRaised", "svgAlarmAcknowledged", "svgAlarmCleared")
	}
	noDuplicates(t, trapd)
	// After the restart: the clear and the warmStart, once per target.
	warm := 0
	for _, n := range trapd.Notifications()[before:] {
		if v, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0"); v == "OID: SNMPv2-MIB::warmStart" {
			warm++
		}
	}
	if n := len(trapd.Notifications()) - before; n != 4 || warm != 2 {
		t.Errorf("after the restart snmptrapd received %d notifications (%d warmStart), want the 2 clears and 2 warmStarts", n, warm)
	}
}

// TestInformsToLateReceiver: an inform raised while no snmptrapd listens
// arrives, once, when snmptrapd starts.
func TestInformsToLateReceiver(t *testing.T) {
	port := freePort(t, "udp")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: targetsTOML(addr, "v2c inform", "v3 inform")})
	sandboxAlarm(g, "raise")
	id := testAlarmID(t, g, "active")
	// The coldStart is first in each queue: its informs fail first.
	WaitFor(t, 60*time.Second, "failed inform attempts", func() bool {
		return metric(g, `svgateway_snmp_notifications_total{outcome="retried",target="`+addr+`/v2c/inform",type="cold_start"}`) >= 1 &&
			metric(g, `svgateway_snmp_notifications_total{outcome="retried",target="`+addr+`/v3/inform",type="cold_start"}`) >= 1
	})
	trapd := startTrapd(t, port)
	waitReceived(t, trapd, id, 2)
	WaitFor(t, 30*time.Second, "the queues drained", func() bool {
		return metric(g, `svgateway_snmp_notification_queue_depth{target="`+addr+`/v2c/inform"}`) == 0 &&
			metric(g, `svgateway_snmp_notification_queue_depth{target="`+addr+`/v3/inform"}`) == 0
	})
	time.Sleep(informRetryHorizon) // anything repeated would be sent by now
	got := received(trapd, id)
	checkReceived(t, got, "v2c inform", "svgAlarmRaised")
	checkReceived(t, got, "v3 inform", "svgAlarmRaised")
	noDuplicates(t, trapd)
}

// stableWalk walks the gateway's subtree (-On: numeric names, values as
// the MIB formats them), without the gateway status scalars (svgLastSync
// and the feed counters move every poll) and without anything but the
// varbinds.
func stableWalk(t *testing.T, args ...string) string {
	t.Helper()
	out, err := snmpTool(t, "snmpbulkwalk", append(args, "1.3.6.1.4.1.32473")...)
	if err != nil {
		t.Fatalf("snmpbulkwalk: %v\n%.2000s", err, out)
	}
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, ".") && !strings.HasPrefix(l, ".1.3.6.1.4.1.32473.1.1.") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestAgentXThroughSnmpd runs the gateway as a subagent of a real snmpd
// (and as a standalone agent): walks through snmpd over v2c and v3
// authPriv equal the standalone agent's and /api/model's row counts; a SET
// is refused; notifications go through snmpd to its trap sink; snmpd is
// killed and started again, and the subagent registers again.
func TestAgentXThroughSnmpd(t *testing.T) {
	trapd := startTrapd(t, 0)
	snmpdUser := netsnmptest.User{Name: "axuser", Auth: "SHA", AuthPass: "ax-auth-pass", Priv: "AES", PrivPass: "ax-priv-pass"}
	d := netsnmptest.StartSnmpd(t, netsnmptest.SnmpdOptions{Community: "public", RWCommunity: "private-rw",
		Users: []netsnmptest.User{snmpdUser}, Extra: []string{"trap2sink " + trapd.Addr + " public"}})
	port := freePort(t, "udp")
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: fmt.Sprintf(`
[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[snmp.agentx]
enabled = true
socket = %q
ping_interval = "1s"
`, port, d.Socket)})
	agent := fmt.Sprintf("127.0.0.1:%d", port)
	WaitFor(t, 30*time.Second, "the subagent registered", func() bool { return metric(g, "svgateway_snmp_agentx_connected") == 1 })

	compare := func() {
		t.Helper()
		opts := []string{"-On", "-Cr50", "-t", "5", "-r", "1"}
		direct := stableWalk(t, append([]string{"-v2c", "-c", "public", agent}, opts...)...)
		for _, sec := range [][]string{{"-v2c", "-c", "public"}, snmpdUser.Args()} {
			through := stableWalk(t, append(append(sec, d.Addr), opts...)...)
			// The sandbox stamps readings with the time of each poll: a
			// DateAndTime may move between the two walks, nothing else.
			a, b := strings.Split(through, "\n"), strings.Split(direct, "\n")
			if len(a) != len(b) || len(a) < 1000 {
				t.Errorf("%s walk through snmpd: %d varbinds, standalone agent %d", sec[0], len(a), len(b))
			}
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] && !(dateAndTime.MatchString(a[i]) && dateAndTime.MatchString(b[i]) && oidOf(a[i]) == oidOf(b[i])) {
					t.Errorf("%s walk through snmpd differs from the standalone agent's at varbind %d:\n%s\n%s", sec[0], i, a[i], b[i])
					break
				}
			}
		}
		m := g.Model()
		tags := snmpRows(mustTool(t, "snmpbulkwalk", "-v2c", "-c", "public", "-OQs", "-Cr50", d.Addr, "SVGATEWAY-MIB::svgTagId"))
		if len(tags["svgTagId"]) != len(m.Tags) || len(m.Tags) == 0 {
			t.Errorf("svgTagId through snmpd: %d rows, /api/model has %d tags", len(tags["svgTagId"]), len(m.Tags))
		}
		for idx, id := range tags["svgTagId"] {
			if m.Tag(id) == nil {
				t.Errorf("svgTagId.%s = %q is not in /api/model", idx, id)
			}
		}
	}
	compare()

	out, err := snmpTool(t, "snmpset", "-v2c", "-c", "private-rw", "-t", "3", "-r", "0", d.Addr, "SVGATEWAY-MIB::svgTagId.1", "s", "x")
	if err == nil || !strings.Contains(out, "notWritable") {
		t.Errorf("SET through snmpd: %v %q, want notWritable", err, out)
	}
	out, err = snmpTool(t, "snmpget", "-v2c", "-c", "wrong", "-t", "1", "-r", "0", d.Addr, "SVGATEWAY-MIB::svgTagId.1")
	if err == nil || !strings.Contains(out, "Timeout") {
		t.Errorf("wrong community at snmpd: %v %q, want a timeout", err, out)
	}

	sandboxAlarm(g, "raise")
	id := testAlarmID(t, g, "active")
	sandboxAlarm(g, "ack")
	testAlarmID(t, g, "acknowledged")
	sandboxAlarm(g, "clear")
	testAlarmID(t, g, "cleared")
	waitReceived(t, trapd, id, 3)
	checkReceived(t, received(trapd, id), "v2c trap", "svgAlarmRaised", "svgAlarmAcknowledged", "svgAlarmCleared")

	d.Kill()
	WaitFor(t, 30*time.Second, "the subagent to notice", func() bool { return metric(g, "svgateway_snmp_agentx_connected") == 0 })
	d.Start()
	WaitFor(t, 60*time.Second, "the subagent registered again", func() bool { return metric(g, "svgateway_snmp_agentx_connected") == 1 })
	if metric(g, "svgateway_snmp_agentx_reconnects_total") < 1 {
		t.Error("no reconnect counted")
	}
	compare()
	noDuplicates(t, trapd)
}

var dateAndTime = regexp.MustCompile(` = STRING: \d+-\d+-\d+,\d+:\d+:\d+\.\d,[+-]\d+:\d+$`)

func oidOf(line string) string { return line[:strings.Index(line, " = ")] }

func mustTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := snmpTool(t, name, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%.2000s", name, err, out)
	}
	return out
}
