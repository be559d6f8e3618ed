package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/snmp"
)

// TestV1TrapsToSnmptrapd sends raise, acknowledge and clear of an alarm as
// SNMPv1 Trap-PDUs to a real snmptrapd (MIB loaded, -Of): each arrives once
// with enterprise svgatewayMIB, generic-trap 6, specific-trap the
// notification's number, the agent-addr configured or the source address,
// and the varbinds decoded by MIB names (svgAlarmId, svgAlarmSeq first).
// The start notification arrives as generic-trap coldStart (0).
func TestV1TrapsToSnmptrapd(t *testing.T) {
	trapd := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "legacy", MIBPath: netsnmptest.MIBPath(t),
		Options: []string{"-Of"}})
	ts := openTestStore(t, t.TempDir())
	cfg := snmp.Config{Targets: []snmp.Target{
		{Address: trapd.Addr, Version: "v1", Community: "legacy", AgentAddress: "192.0.2.7"},
		{Name: "v1-source-address", Address: trapd.Addr, Version: "v1", Community: "legacy"},
	}}
	startRealSender(t, cfg, ts.store, t.TempDir(), nil)
	ts.observe(alarmObs(7, true, false))
	ts.observe(alarmObs(7, true, true))
	ts.observe(alarmObs(7, false, false))
	id := ts.alarmID(7)
	var got []netsnmptest.Notification
	for i := 0; ; i++ {
		got = got[:0]
		for _, n := range trapd.Notifications() {
			if strings.HasPrefix(n.PDU, "TRAP, SNMP v1") {
				got = append(got, n)
			}
		}
		if len(got) >= 8 || i == 300 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 8 {
		t.Fatalf("snmptrapd logged %d v1 traps, want 8 (start, raise, ack, clear to 2 targets)", len(got))
	}
	specific := map[string][]string{}
	for _, n := range got {
		if n.Generic == "0" { // coldStart
			if !strings.HasSuffix(n.Enterprise, ".svgatewayMIB") {
				t.Errorf("coldStart enterprise %q", n.Enterprise)
			}
			specific[n.AgentAddr] = append(specific[n.AgentAddr], "coldStart")
			continue
		}
		if n.Generic != "6" || !strings.HasSuffix(n.Enterprise, ".enterprises.svgatewayMIB") {
			t.Errorf("trap: generic %q enterprise %q, want 6 and svgatewayMIB", n.Generic, n.Enterprise)
		}
		// snmptrapd names the specific trap by the MIB's notification.
		specific[n.AgentAddr] = append(specific[n.AgentAddr], n.Specific)
		// A v1 trap has no sysUpTime.0 or snmpTrapOID.0 varbinds: the
		// transition's identity comes first.
		if len(n.Varbinds) < 2 || !strings.HasSuffix(n.Varbinds[0].Name, fmt.Sprintf(".svgAlarmId.%d", id)) ||
			!strings.HasSuffix(n.Varbinds[1].Name, fmt.Sprintf(".svgAlarmSeq.%d", id)) {
			t.Errorf("varbinds do not start with svgAlarmId, svgAlarmSeq: %v", n.Varbinds)
		}
		if v, ok := n.Value(".iso.org.dod.internet.private.enterprises.svgatewayMIB.svgObjects.svgAlarmTable.svgAlarmEntry.svgAlarmType."); !ok ||
			!strings.HasSuffix(v, ".svgAlarmTypes.svgAlarmTypeGeneric") {
			t.Errorf("svgAlarmType = %q", v)
		}
	}
	want := "coldStart .svgAlarmRaised .svgAlarmAcknowledged .svgAlarmCleared"
	for addr, want := range map[string]string{"192.0.2.7": want, "127.0.0.1": want} {
		if g := strings.Join(specific[addr], " "); g != want {
			t.Errorf("agent-addr %s: received %q, want %q", addr, g, want)
		}
	}
}
