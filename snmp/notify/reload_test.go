package notify

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/snmp"
)

// TestReloadTargets moves a target from one real snmptrapd to another,
// adds one and removes one through Reload (what SIGHUP does): the next
// notifications go where the new configuration says; a Reload that does
// not validate changes nothing.
func TestReloadTargets(t *testing.T) {
	mibs := netsnmptest.MIBPath(t)
	first := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "public", MIBPath: mibs})
	second := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "rotated", MIBPath: mibs})
	ts := openTestStore(t, t.TempDir())
	cfg := snmp.Config{Targets: []snmp.Target{
		{Name: "console", Address: first.Addr, Community: "public"},
		{Name: "retired", Address: first.Addr, Community: "public", Kind: "inform", Timeout: time.Second},
	}}
	r := startRealSender(t, cfg, ts.store, t.TempDir(), nil)
	ts.observe(alarmObs(1, true, false))
	one := ts.alarmID(1)
	waitLogged(t, first, one, 2) // a trap and an inform

	// console moves to the second receiver with a new community; retired
	// goes; added arrives.
	next := snmp.Config{Listen: "off", EngineID: testEngineID, Targets: []snmp.Target{
		{Name: "console", Address: second.Addr, Community: "rotated"},
		{Name: "added", Address: second.Addr, Community: "rotated", Kind: "inform", Timeout: time.Second},
	}}
	if err := r.s.Reload(next); err != nil {
		t.Fatal(err)
	}
	ts.observe(alarmObs(2, true, false))
	two := ts.alarmID(2)
	got := waitLogged(t, second, two, 2)
	if !slices.Contains(got, "TRAP2, SNMP v2c, community rotated svgAlarmRaised") ||
		!slices.Contains(got, "INFORM, SNMP v2c, community rotated svgAlarmRaised") {
		t.Errorf("second receiver got %q, want a trap (console) and an inform (added) with the new community", got)
	}

	// A broken reload is refused and changes nothing.
	broken := next
	broken.Targets = []snmp.Target{{Name: "console", Address: second.Addr, Version: "v3", User: "u", AuthProtocol: "MD4"}}
	if err := r.s.Reload(broken); err == nil || !strings.Contains(err.Error(), "snmp.targets") {
		t.Errorf("broken reload: err = %v, want an snmp.targets error", err)
	}
	ts.observe(alarmObs(3, true, false))
	three := ts.alarmID(3)
	waitLogged(t, second, three, 2)
	settle(t, &running{s: r.s})
	if got := alarmNotifications(first, two); len(got) != 0 {
		t.Errorf("the first receiver got alarm %d after the reload: %q", two, got)
	}
	if got := alarmNotifications(first, three); len(got) != 0 {
		t.Errorf("the first receiver got alarm %d after the reload: %q", three, got)
	}
	var names []string
	for _, tg := range r.s.targets {
		names = append(names, tg.name)
	}
	if fmt.Sprint(names) != "[console added]" {
		t.Errorf("targets after the reloads: %v", names)
	}
}
