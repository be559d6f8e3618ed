package snmp

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reroot moves the MIB to root for the rest of the test.
func reroot(t *testing.T, root string) {
	t.Helper()
	old := RootOID()
	if err := SetRoot(MustParseOID(root)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := SetRoot(old); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEnterpriseRoot re-roots the MIB under another PEN: the printed
// module is smilint-clean at level 6, net-snmp reads every object,
// notification and alarm type at the OID the agent serves them, and a
// walk of the new root by MIB name matches the agent's tree.
func TestEnterpriseRoot(t *testing.T) {
	const root = "1.3.6.1.4.1.12345.7"
	text, err := ModuleText(MustParseOID(root))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "::= { enterprises 12345 7 }") || strings.Contains(string(text), "enterprises 32473 }") {
		t.Fatal("root line not rewritten")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "SVGATEWAY-MIB.txt"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(needTool(t, "smilint"), "-l", "6", "-s", "-m", filepath.Join(dir, "SVGATEWAY-MIB.txt"))
	cmd.Env = append(os.Environ(), "SMIPATH="+dir+":"+baseMIBs(t))
	out, _ := cmd.CombinedOutput()
	if regexp.MustCompile(`\[[0-3]\]`).Match(out) {
		t.Errorf("smilint -l 6 on the re-rooted MIB:\n%s", out)
	}

	reroot(t, root)
	tr, stderr, err := netsnmp(t, "snmptranslate", "-M", dir+":"+baseMIBs(t), "-m", "SVGATEWAY-MIB", "-Tz", "-On")
	if err != nil || stderr != "" {
		t.Fatalf("snmptranslate: %v\n%s", err, stderr)
	}
	oids := map[string]string{}
	for _, l := range lines(tr) {
		if f := strings.Fields(l); len(f) == 2 {
			oids[strings.Trim(f[0], `"`)] = strings.Trim(f[1], `"`)
		}
	}
	check := func(name string, oid OID) {
		if !oid.HasPrefix(MustParseOID(root)) {
			t.Errorf("%s at %s, not under %s", name, oid, root)
		}
		if got := oids[name]; got != oid.String() {
			t.Errorf("%s: the re-rooted MIB has %q, the agent %s", name, got, oid)
		}
	}
	for _, o := range Objects() {
		if o.Module == "SVGATEWAY-MIB" {
			check(o.Name, o.OID)
		}
	}
	for _, n := range Notifications() {
		check(n.Name, n.OID)
	}
	for _, at := range AlarmTypes() {
		check(at.Name, at.OID())
	}

	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, testConfig(), store, Deps{})
	walk, stderr, err := netsnmp(t, "snmpbulkwalk", append(v2cArgs(), "-M", dir+":"+baseMIBs(t), "-m", "SVGATEWAY-MIB", "-On", "-Oe", "-OU", addr, "SVGATEWAY-MIB::svgatewayMIB")...)
	if err != nil || stderr != "" {
		t.Fatalf("snmpbulkwalk: %v\n%s", err, stderr)
	}
	got := parseToolOutput(t, walk)
	want, _ := agentWalk(t, a)
	n := 0
	for _, o := range want {
		if o.HasPrefix(MustParseOID(root)) {
			if n >= len(got) || !got[n].oid.Equal(o) {
				t.Fatalf("instance %d: walk by name does not match the agent's %s", n, o)
			}
			n++
		}
	}
	if n != len(got) || n == 0 {
		t.Errorf("walked %d instances under the new root, the agent serves %d", len(got), n)
	}
	if out, _, _ := netsnmp(t, "snmpget", append(v2cArgs(), "-On", addr, ".1.3.6.1.2.1.1.2.0")...); !strings.Contains(out, "OID: ."+root+"\n") {
		t.Errorf("sysObjectID = %q, want %s", out, root)
	}
}

func TestParseEnterpriseOID(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"1.3.6.1.4.1.32473", true}, {".1.3.6.1.4.1.12345.7", true},
		{"1.3.6.1.4.1", false}, {"1.3.6.1.2.1.1", false}, {"enterprises.5", false}, {"", false},
	} {
		if _, err := ParseEnterpriseOID(c.in); (err == nil) != c.ok {
			t.Errorf("ParseEnterpriseOID(%q): %v", c.in, err)
		}
	}
}

// TestV1Trap translates notifications to SNMPv1 traps as RFC 3584 3.2
// says: enterprise, generic and specific trap, varbinds without Counter64
// and snmpTrapEnterprise.0.
func TestV1Trap(t *testing.T) {
	mib, err := OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cold := mib.StartNotification(true).V1Trap(42, "127.0.0.1")
	if cold.GenericTrap != 0 || cold.SpecificTrap != 0 || cold.Enterprise != "."+RootOID().String() || len(cold.Variables) != 0 || cold.Timestamp != 42 {
		t.Errorf("coldStart: %+v", cold)
	}
	if warm := mib.StartNotification(false).V1Trap(1, "10.0.0.1"); warm.GenericTrap != 1 || warm.AgentAddress != "10.0.0.1" {
		t.Errorf("warmStart: %+v", warm)
	}
	store := newFixtureStore(t, smallFootprint())
	hb, err := mib.HeartbeatNotification(store.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	tr := hb.V1Trap(7, "127.0.0.1")
	if tr.GenericTrap != 6 || tr.SpecificTrap != 8 || tr.Enterprise != "."+RootOID().String() || len(tr.Variables) != len(hb.Varbinds) {
		t.Errorf("svgHeartbeat: %+v", tr)
	}
	up, err := mib.UpstreamNotification(store.Snapshot(), true)
	if err != nil {
		t.Fatal(err)
	}
	// A Counter64 varbind is dropped, the others kept in order.
	up.Varbinds = append(up.Varbinds, Varbind{OID: svgFeedEvents.OID.Append(0), Type: svgFeedEvents.Type, Value: uint64(1)})
	if tr := up.V1Trap(7, "127.0.0.1"); tr.SpecificTrap != 6 || len(tr.Variables) != len(up.Varbinds)-1 {
		t.Errorf("svgUpstreamLost with a Counter64: %+v", tr)
	}
}
