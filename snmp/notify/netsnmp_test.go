package notify

// Deliveries to a real snmptrapd, directly (v2c and v3, traps and informs)
// and through a real snmpd as AgentX master; snmptrapd loads
// SVGATEWAY-MIB, so what it logs is decoded by MIB names.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp"
)

const testEngineID = "0x80007ed90501020304aabbccdd"

// trapUser is the v3 user of the targets; snmptrapd knows it keyed to our
// engine (traps) and to its own (informs).
var trapUser = netsnmptest.User{Name: "trapuser", Auth: "SHA-256", AuthPass: "trap-auth-pass", Priv: "AES", PrivPass: "trap-priv-pass"}

func trapdUsers() []netsnmptest.User {
	traps := trapUser
	traps.EngineID = testEngineID
	return []netsnmptest.User{traps, trapUser}
}

func v3Target(addr, kind string) snmp.Target {
	return snmp.Target{Address: addr, Version: "v3", Kind: kind, User: trapUser.Name, AuthProtocol: "SHA-256",
		AuthPassphrase: trapUser.AuthPass, PrivProtocol: "AES", PrivPassphrase: trapUser.PrivPass, Timeout: time.Second}
}

// realSender runs a sender with real deliverers until the test ends.
type realSender struct {
	s    *Sender
	stop func()
}

func startRealSender(t *testing.T, cfg snmp.Config, store *model.Store, stateDir string, master Master) *realSender {
	t.Helper()
	cfg.Listen, cfg.EngineID = "off", testEngineID
	mib, err := snmp.OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := snmp.OpenEngine(stateDir, testEngineID)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, store, Deps{StateDir: stateDir, MIB: mib, Engine: engine, Master: master})
	if err != nil {
		t.Fatal(err)
	}
	stop := svctest.Start(t, s.Run)
	waitReady(t, s)
	return &realSender{s: s, stop: stop}
}

// alarmNotifications returns what snmptrapd logged for an alarm id, as
// "PDU kind" lines ("TRAP2, SNMP v2c, community public svgAlarmRaised").
func alarmNotifications(d *netsnmptest.Snmptrapd, id uint64) []string {
	var out []string
	for _, n := range d.Notifications() {
		if v, ok := n.Value(fmt.Sprintf("SVGATEWAY-MIB::svgAlarmId.%d", id)); ok && v == fmt.Sprintf("Gauge32: %d", id) {
			trap, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0")
			out = append(out, n.PDU+" "+strings.TrimPrefix(trap, "OID: SVGATEWAY-MIB::"))
		}
	}
	return out
}

// waitLogged waits (bounded) until snmptrapd logged at least n
// notifications of alarm id.
func waitLogged(t *testing.T, d *netsnmptest.Snmptrapd, id uint64, n int) []string {
	t.Helper()
	for i := 0; ; i++ {
		got := alarmNotifications(d, id)
		if len(got) >= n {
			return got
		}
		if i == 300 {
			t.Fatalf("snmptrapd logged %d notifications of alarm %d after 30s, want %d: %q", len(got), id, n, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSnmptrapdReceivesEachTransitionOnce sends raise, acknowledge and
// clear of one alarm to snmptrapd over v2c trap, v2c inform, v3 authPriv
// trap and v3 authPriv inform at once: each arrives exactly once per
// target, in order, decoded by MIB names.
func TestSnmptrapdReceivesEachTransitionOnce(t *testing.T) {
	trapd := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "public", Users: trapdUsers(), MIBPath: netsnmptest.MIBPath(t)})
	ts := openTestStore(t, t.TempDir())
	cfg := snmp.Config{Targets: []snmp.Target{
		{Address: trapd.Addr, Community: "public"},
		{Address: trapd.Addr, Community: "public", Kind: "inform", Timeout: time.Second},
		v3Target(trapd.Addr, "trap"),
		v3Target(trapd.Addr, "inform"),
	}}
	r := startRealSender(t, cfg, ts.store, t.TempDir(), nil)
	ts.observe(alarmObs(7, true, false))
	ts.observe(alarmObs(7, true, true))
	ts.observe(alarmObs(7, false, false))
	id := ts.alarmID(7)
	waitLogged(t, trapd, id, 12)
	settle(t, &running{s: r.s})
	got := alarmNotifications(trapd, id)
	for _, pdu := range []string{"TRAP2, SNMP v2c, community public", "INFORM, SNMP v2c, community public",
		"TRAP2, SNMP v3, user trapuser, context ", "INFORM, SNMP v3, user trapuser, context "} {
		var kinds []string
		for _, g := range got {
			if k, ok := strings.CutPrefix(g, pdu+" "); ok {
				kinds = append(kinds, k)
			}
		}
		if strings.Join(kinds, ",") != "svgAlarmRaised,svgAlarmAcknowledged,svgAlarmCleared" {
			t.Errorf("%s: received %q, want raised, acknowledged, cleared once each", pdu, kinds)
		}
	}
	if len(got) != 12 {
		t.Errorf("received %d notifications, want 12: %q", len(got), got)
	}
	// Decoded by the MIB: names, enumerations, display hints.
	var cleared netsnmptest.Notification
	for _, n := range trapd.Notifications() {
		if v, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0"); v == "OID: SVGATEWAY-MIB::svgAlarmCleared" {
			cleared = n
		}
	}
	for prefix, want := range map[string]string{
		"SNMPv2-MIB::sysUpTime.0":                                "Timeticks: ",
		"SVGATEWAY-MIB::svgAlarmPerceivedSeverity.":              "INTEGER: cleared(1)",
		"SVGATEWAY-MIB::svgAlarmSeverityText.":                   "STRING: High",
		"SVGATEWAY-MIB::svgAlarmAssetId.":                        "STRING: CH1.UPS-7",
		"SVGATEWAY-MIB::svgAlarmCondition.":                      "STRING: Overload",
		fmt.Sprintf("SVGATEWAY-MIB::svgAlarmState.%d", id):       "INTEGER: cleared(3)",
		fmt.Sprintf("SVGATEWAY-MIB::svgAlarmClearedTime.%d", id): "STRING: 20",
	} {
		if v, ok := cleared.Value(prefix); !ok || !strings.HasPrefix(v, want) {
			t.Errorf("%s = %q (present %v), want %q...", prefix, v, ok, want)
		}
	}
	for _, tg := range r.s.targets {
		want := outcomeSent
		if tg.inform {
			want = outcomeAcked
		}
		if n := testutil.ToFloat64(tg.counts[alarmCleared][want]); n != 1 {
			t.Errorf("%s: counted %v cleared %s", tg.name, n, outcomeNames[want])
		}
	}
}

// TestInformsSurviveLateReceiver: informs raised while snmptrapd is down
// are retried and arrive, once, when it starts.
func TestInformsSurviveLateReceiver(t *testing.T) {
	port := netsnmptest.FreeUDPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ts := openTestStore(t, t.TempDir())
	cfg := snmp.Config{Targets: []snmp.Target{
		{Address: addr, Community: "public", Kind: "inform", Timeout: 500 * time.Millisecond},
		v3Target(addr, "inform"),
	}}
	r := startRealSender(t, cfg, ts.store, t.TempDir(), nil)
	ts.observe(alarmObs(3, true, false))
	for i := 0; ; i++ {
		// The start notification (coldStart) is first in each queue.
		if testutil.ToFloat64(r.s.targets[0].counts[coldStart][outcomeRetried]) >= 1 &&
			testutil.ToFloat64(r.s.targets[1].counts[coldStart][outcomeRetried]) >= 1 {
			break
		}
		if i == 300 {
			t.Fatal("no failed inform attempt while the receiver is down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	trapd := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Port: port, Community: "public", Users: trapdUsers(), MIBPath: netsnmptest.MIBPath(t)})
	id := ts.alarmID(3)
	waitLogged(t, trapd, id, 2)
	settle(t, &running{s: r.s})
	got := alarmNotifications(trapd, id)
	slices.Sort(got)
	want := []string{"INFORM, SNMP v2c, community public svgAlarmRaised", "INFORM, SNMP v3, user trapuser, context  svgAlarmRaised"}
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want the raise once per inform target", got)
	}
}

// TestStormToSnmptrapd: a thousand alarms raised and cleared at once to a
// rate-limited trap target with a small queue: snmptrapd receives every
// clear once; raises overflow and are counted. The rate (400/s) is one a
// loaded machine's snmptrapd keeps up with: traps are UDP, and what its
// socket buffer cannot hold is lost before the count.
func TestStormToSnmptrapd(t *testing.T) {
	trapd := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "public"})
	ts := openTestStore(t, t.TempDir())
	cfg := snmp.Config{Targets: []snmp.Target{{Address: trapd.Addr, Community: "public", QueueSize: 300, RateLimit: 400}}}
	r := startRealSender(t, cfg, ts.store, t.TempDir(), nil)
	const n = 1000
	var raise, clear []model.AlarmObservation
	for i := range n {
		raise = append(raise, alarmObs(i, true, false))
		clear = append(clear, alarmObs(i, false, false))
	}
	ts.observe(raise...)
	ts.observe(clear...)
	settle(t, &running{s: r.s})
	clearOID := "OID: ." + snmp.Notifications()[2].OID.String() // svgAlarmCleared, numeric (no MIB loaded)
	if snmp.Notifications()[2].Name != "svgAlarmCleared" {
		t.Fatal("notification order changed")
	}
	var clears, others int
	for i := 0; ; i++ {
		clears, others = 0, 0
		for _, nt := range trapd.Notifications() {
			switch v, _ := nt.Value(".1.3.6.1.6.3.1.1.4.1.0"); v {
			case clearOID:
				clears++
			case "OID: ." + snmp.ColdStart.OID.String():
			default:
				others++
			}
		}
		if clears >= n || i == 300 { // bounded: 30 s
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	tg := r.s.targets[0]
	dropped := testutil.ToFloat64(tg.counts[alarmRaised][outcomeDropped])
	if clears != n || testutil.ToFloat64(tg.counts[alarmCleared][outcomeDropped]) != 0 {
		t.Errorf("snmptrapd received %d clears, want %d", clears, n)
	}
	if dropped == 0 || others+int(dropped) != n {
		t.Errorf("%d raises received + %v dropped, want %d in all with some dropped", others, dropped, n)
	}
}

// TestNotifyThroughSnmpd: in AgentX mode the notifications go to snmpd
// (Notify), which sends them to its trap sink, a snmptrapd; snmpd
// restarted with one pending: it arrives once after the subagent is back.
func TestNotifyThroughSnmpd(t *testing.T) {
	trapd := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "public", MIBPath: netsnmptest.MIBPath(t)})
	d := netsnmptest.StartSnmpd(t, netsnmptest.SnmpdOptions{Extra: []string{"trap2sink " + trapd.Addr + " public"}})
	ts := openTestStore(t, t.TempDir())
	cfg := snmp.Config{Listen: "off", AgentX: snmp.AgentXConfig{Enabled: true, Socket: d.Socket, PingInterval: time.Second}}
	sub, err := snmp.NewSubagent(cfg, ts.store, snmp.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	svctest.Start(t, sub.Run)
	r := startRealSender(t, cfg, ts.store, t.TempDir(), sub)
	ts.observe(alarmObs(1, true, false))
	ts.observe(alarmObs(1, true, true))
	ts.observe(alarmObs(1, false, false))
	id := ts.alarmID(1)
	waitLogged(t, trapd, id, 3)

	d.Kill()
	ts.observe(alarmObs(2, true, false))
	for i := 0; testutil.ToFloat64(r.s.targets[0].counts[alarmRaised][outcomeRetried]) < 1; i++ {
		if i == 300 {
			t.Fatal("the Notify did not fail while snmpd was down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.Start()
	id2 := ts.alarmID(2)
	waitLogged(t, trapd, id2, 1)
	settle(t, &running{s: r.s})

	want := "TRAP2, SNMP v2c, community public "
	if got := alarmNotifications(trapd, id); strings.Join(got, "|") != want+"svgAlarmRaised|"+want+"svgAlarmAcknowledged|"+want+"svgAlarmCleared" {
		t.Errorf("through snmpd, alarm %d: %q", id, got)
	}
	if got := alarmNotifications(trapd, id2); strings.Join(got, "|") != want+"svgAlarmRaised" {
		t.Errorf("through a restarted snmpd, alarm %d: %q", id2, got)
	}
}
