package e2e

// Alarm truth at the edges, from the real binary to a real snmptrapd: a
// poll that sees an alarm only after it was acknowledged and cleared still
// delivers raise, ack and clear, once each, the first two marked inferred;
// a state_dir that cannot be written holds alarm notifications, shows in
// /readyz, /metrics and SNMP, and no id is given twice across a crash; a
// lost ledger does not restart ids.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
)

// alarmNotifications lists, in arrival order, the alarm notifications
// snmptrapd logged for one target ("v2c trap", ...) and alarm:
// "svgAlarmRaised 7 inferred=true(1)".
func alarmNotifications(d *netsnmptest.Snmptrapd, target string, alarm uint64) []string {
	var out []string
	for _, n := range d.Notifications() {
		if _, ok := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmId.%d", alarm)); !ok {
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(n.PDU), pduOf[target]) {
			continue
		}
		trap, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0")
		name := strings.TrimPrefix(trap, "OID: SVGATEWAY-MIB::")
		if !strings.HasPrefix(name, "svgAlarm") {
			continue
		}
		id, _ := n.Value("SVGATEWAY-MIB::svgAlarmId.")
		inferred, _ := n.Value("SVGATEWAY-MIB::svgAlarmInferred.")
		out = append(out, fmt.Sprintf("%s %s inferred=%s", name, strings.TrimPrefix(id, "Gauge32: "), strings.TrimPrefix(inferred, "INTEGER: ")))
	}
	return out
}

// TestPollSeesAlarmOnlyAckedAndCleared: while every API call fails, the
// sandbox raises, acknowledges and clears an alarm; the first poll after
// the outage sees it only cleared and acknowledged. snmptrapd receives
// raise, ack and clear, once each per target, in order, raise and ack
// marked inferred; /api/model says which were inferred; severities are
// canonical (the sandbox's 650 is High, 600).
func TestPollSeesAlarmOnlyAckedAndCleared(t *testing.T) {
	trapd := startTrapd(t, 0)
	// Poll mode: no feed to see the alarm happen.
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: targetsTOML(trapd.Addr, "v2c trap", "v2c inform") + "\n[feed]\nprovider = \"none\"\n"})
	putQuiet(t, g.SandboxURL+"/_sandbox/faults", `{"unavailable":1}`)
	sandboxAlarm(g, "raise")
	sandboxAlarm(g, "ack")
	sandboxAlarm(g, "clear")
	putQuiet(t, g.SandboxURL+"/_sandbox/faults", `{}`)
	id := testAlarmID(t, g, "cleared")
	waitReceived(t, trapd, id, 6)
	WaitFor(t, 30*time.Second, "the inform queue drained", func() bool {
		return metric(g, `svgateway_snmp_notification_queue_depth{target="`+trapd.Addr+`/v2c/inform"}`) == 0
	})
	time.Sleep(time.Second) // anything repeated would be sent by now
	for _, tg := range []string{"v2c trap", "v2c inform"} {
		want := []string{
			fmt.Sprintf("svgAlarmRaised %d inferred=true(1)", id),
			fmt.Sprintf("svgAlarmAcknowledged %d inferred=true(1)", id),
			fmt.Sprintf("svgAlarmCleared %d inferred=false(2)", id),
		}
		if got := alarmNotifications(trapd, tg, id); !slices.Equal(got, want) {
			t.Errorf("%s received %q, want %q", tg, got, want)
		}
	}
	noDuplicates(t, trapd)
	for _, n := range trapd.Notifications() {
		if v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmId.%d", id)); v == "" {
			continue
		}
		for name, want := range map[string]string{"svgAlarmSeverityText": "STRING: High", "svgAlarmSeverity": "INTEGER: high(600)"} {
			if v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::%s.%d", name, id)); v != want {
				t.Errorf("%s: %s = %q, want %q", n.PDU, name, v, want)
			}
		}
	}
	for _, a := range g.Model().Alarms {
		if a.ID == id {
			if !slices.Equal(a.Inferred, []string{"raised", "acknowledged"}) || a.Severity != "High" || a.SeverityCode != 600 || a.SeverityRaw != "High" {
				t.Errorf("/api/model alarm %d: inferred %q, severity %q %d raw %q; want [raised acknowledged], High 600 High",
					id, a.Inferred, a.Severity, a.SeverityCode, a.SeverityRaw)
			}
		}
	}
}

// breakStateDir makes state_dir unwritable the way a full or lost disk
// does for the gateway (a file where the directory was; root ignores
// permissions) and returns the function that repairs it.
func breakStateDir(t *testing.T, dir string) (repair func()) {
	t.Helper()
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(dir+".away", dir); err != nil {
			t.Fatal(err)
		}
	}
}

// withAgent turns on the standalone agent (community public) in an [snmp]
// table made by targetsTOML; it returns the table and the agent's address.
func withAgent(t *testing.T, snmpTOML string) (string, string) {
	t.Helper()
	agent := fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp"))
	return strings.Replace(snmpTOML, `listen = "off"`, fmt.Sprintf("listen = %q", agent), 1) +
		"\n[[snmp.communities]]\nname = \"public\"\nsources = [\"127.0.0.1/32\"]\n", agent
}

// readyz returns the status code and body of /readyz.
func readyz(t *testing.T, g *Gateway) (int, string) {
	t.Helper()
	resp, err := http.Get(g.StatusURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Kill kills the gateway (SIGKILL: a crash) and waits for it to exit.
func (g *Gateway) Kill() {
	g.cmd.Process.Kill()
	<-g.exited
}

// TestFullDiskThenCrash: state_dir stops taking writes; an alarm raised
// then is held (svgPersistFailed goes out instead, svgPersistState and
// /readyz say why, the log line is not repeated every cycle); the gateway
// is killed (-9) in that state and restarted on a working disk. Every
// alarm id snmptrapd ever received names one alarm.
func TestFullDiskThenCrash(t *testing.T) {
	trapd := startTrapd(t, 0)
	extra, agent := withAgent(t, targetsTOML(trapd.Addr, "v2c trap", "v2c inform"))
	opcuaURL := fmt.Sprintf("opc.tcp://127.0.0.1:%d", freePort(t, "tcp"))
	extra += fmt.Sprintf("\n[opcua]\nendpoint = %q\nsecurity = [\"None\"]\nallow_anonymous = true\n", opcuaURL)
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: extra})
	sandboxAlarm(g, "raise")
	first := testAlarmID(t, g, "active")
	waitReceived(t, trapd, first, 2)
	const persistNode = "ns=2;s=Gateway#PersistState"
	opcuaPersist := startSubscriber(t, opcuaURL, persistNode)
	opcuaPersist.await("PersistState ok over OPC UA", func(e map[string]any) bool { return e["id"] == persistNode && e["value"] == "ok" })

	repair := breakStateDir(t, g.StateDir)
	raiseOn(g, "Held")
	WaitFor(t, 60*time.Second, "svgPersistFailed at snmptrapd", func() bool { return countTrap(trapd, "svgPersistFailed") >= 2 })
	code, body := readyz(t, g)
	if code != 503 || !strings.Contains(body, "degraded") || !strings.Contains(body, "alarm ledger") {
		t.Errorf("/readyz while the disk fails: %d %q, want 503 degraded naming the alarm ledger", code, body)
	}
	if metric(g, "svgateway_persist_ok ") != 0 || metric(g, `svgateway_persist_failing{component="alarm ledger"}`) != 1 {
		t.Errorf("persist metrics: ok %v, ledger failing %v", metric(g, "svgateway_persist_ok "), metric(g, `svgateway_persist_failing{component="alarm ledger"}`))
	}
	if out := mustTool(t, "snmpget", "-v2c", "-c", "public", agent, "SVGATEWAY-MIB::svgPersistState.0"); !strings.Contains(out, "failing(2)") {
		t.Errorf("svgPersistState: %q", out)
	}
	opcuaPersist.await("PersistState failing over OPC UA", func(e map[string]any) bool { return e["id"] == persistNode && e["value"] == "failing" })
	m := g.Model()
	if m.Health.Persist.State != "failing" || !strings.Contains(m.Health.Persist.Error, "alarm ledger") {
		t.Errorf("/api/model health.persist = %+v", m.Health.Persist)
	}
	var held uint64
	for _, a := range m.Alarms {
		if a.Condition == "Held" && a.State == "active" {
			held = a.ID
		}
	}
	time.Sleep(2 * time.Second)
	if held == 0 || len(received(trapd, held)) != 0 {
		t.Fatalf("alarm %d (raised while the disk fails): received %q, want nothing yet", held, received(trapd, held))
	}
	if n := strings.Count(g.Log.String(), "alarm ledger not saved"); n > 1 {
		t.Errorf("%d log lines 'alarm ledger not saved' within seconds, want one (rate-limited)", n)
	}

	g.Kill()
	repair()
	g2 := StartGateway(t, GatewayOptions{Dir: g.Dir, Tick: "1h", Extra: extra})
	raiseOn(g2, "After")
	// The restarted sandbox (in the gateway's process) has neither alarm of
	// the first run: the first is cleared, the held one was never sent.
	WaitFor(t, 60*time.Second, "the new alarm raised and the first cleared", func() bool {
		for _, a := range g2.Model().Alarms {
			if a.Condition == "After" && len(received(trapd, a.ID)) >= 2 {
				return len(received(trapd, first)) >= 4
			}
		}
		return false
	})
	owner := map[string]string{}
	for _, n := range trapd.Notifications() {
		id, _ := n.Value("SVGATEWAY-MIB::svgAlarmId.")
		tag, _ := n.Value("SVGATEWAY-MIB::svgAlarmTagId.")
		if id == "" {
			continue
		}
		if prev, ok := owner[id]; ok && prev != tag {
			t.Errorf("alarm id %s sent for %s and for %s", id, prev, tag)
		}
		owner[id] = tag
	}
	if countTrap(trapd, "svgPersistRestored") < 2 {
		t.Errorf("no svgPersistRestored after the repair")
	}
}

// TestLostLedgerIDsNeverRepeat: the ledger is deleted between two runs;
// the ids of the second run's alarms are all new.
func TestLostLedgerIDsNeverRepeat(t *testing.T) {
	trapd := startTrapd(t, 0)
	extra := targetsTOML(trapd.Addr, "v2c trap")
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: extra})
	sandboxAlarm(g, "raise")
	first := testAlarmID(t, g, "active")
	waitReceived(t, trapd, first, 1)
	var before []uint64
	for _, a := range g.Model().Alarms {
		before = append(before, a.ID)
	}
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(g.StateDir, "alarms.json")); err != nil {
		t.Fatal(err)
	}
	g2 := StartGateway(t, GatewayOptions{Dir: g.Dir, Tick: "1h", Extra: extra})
	raiseOn(g2, "After")
	WaitFor(t, 60*time.Second, "the new alarm", func() bool {
		for _, a := range g2.Model().Alarms {
			if a.Condition == "After" {
				return true
			}
		}
		return false
	})
	for _, a := range g2.Model().Alarms {
		if slices.Contains(before, a.ID) {
			t.Errorf("id %d of the first run given again (%s %s)", a.ID, a.Asset, a.Condition)
		}
	}
}

// raiseOn raises an alarm of the given condition on CH1.Gen-1's alarm point.
func raiseOn(g *Gateway, condition string) {
	g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "raise", "assetId": "CH1.Gen-1", "conditionName": condition})
}

// countTrap counts the notifications of one type snmptrapd logged.
func countTrap(d *netsnmptest.Snmptrapd, name string) int {
	n := 0
	for _, x := range d.Notifications() {
		if v, _ := x.Value("SNMPv2-MIB::snmpTrapOID.0"); v == "OID: SVGATEWAY-MIB::"+name {
			n++
		}
	}
	return n
}

// TestSeverityCanonicalFromFeed: an alarm learned from the feed (polls an
// hour apart) carries the feed's integer severity (650) upstream; SNMP and
// /api/model serve the same canonical severity as for a polled alarm (see
// TestPollSeesAlarmOnlyAckedAndCleared): High, 600, with 650 as the raw
// text beside it.
func TestSeverityCanonicalFromFeed(t *testing.T) {
	trapd := startTrapd(t, 0)
	extra, agent := withAgent(t, targetsTOML(trapd.Addr, "v2c trap"))
	g := StartGateway(t, GatewayOptions{Tick: "1h", Sync: "structure_interval = \"1h\"\nvalues_interval = \"1h\"\nstale_after = \"2h\"\n",
		Extra: extra})
	sandboxAlarm(g, "raise")
	id := testAlarmID(t, g, "active")
	waitReceived(t, trapd, id, 1)
	for name, want := range map[string]string{"svgAlarmSeverityText": "STRING: High", "svgAlarmSeverity": "INTEGER: high(600)",
		"svgAlarmSeverityRaw": "STRING: 650", "svgAlarmPerceivedSeverity": "INTEGER: major(4)"} {
		if v := mustTool(t, "snmpget", "-v2c", "-c", "public", agent, fmt.Sprintf("SVGATEWAY-MIB::%s.%d", name, id)); !strings.Contains(v, want) {
			t.Errorf("%s.%d: %q, want %q", name, id, v, want)
		}
	}
	for _, n := range trapd.Notifications() {
		if v, _ := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmSeverityText.%d", id)); v != "" && v != "STRING: High" {
			t.Errorf("notification svgAlarmSeverityText = %q, want High", v)
		}
	}
	for _, a := range g.Model().Alarms {
		if a.ID == id && (a.Severity != "High" || a.SeverityCode != 600 || a.SeverityRaw != "650") {
			t.Errorf("/api/model: severity %q %d raw %q, want High 600 650", a.Severity, a.SeverityCode, a.SeverityRaw)
		}
	}
}
