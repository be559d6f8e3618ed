package snmp

import (
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// v1Config has one community answering SNMPv1 and v2c.
func v1Config() Config {
	cfg := testConfig()
	cfg.Communities[0].Versions = []string{"v1", "v2c"}
	return cfg
}

// TestNetSNMPv1Walk walks the whole tree with snmpwalk -v1: the instances
// of a v2c walk, in order, with the same values, except the Counter64 ones
// SNMPv1 cannot carry (RFC 3584); the walk ends on the agent's noSuchName.
func TestNetSNMPv1Walk(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, v1Config(), store, Deps{})
	out, stderr, err := netsnmp(t, "snmpwalk", append(withMIB(t), "-v1", "-c", testCommunity, "-On", "-Oe", "-OU", addr, ".1")...)
	if err != nil || stderr != "" {
		t.Fatalf("snmpwalk -v1: %v\n%s", err, stderr)
	}
	// SNMPv1 has no endOfMibView: snmpwalk stops on the noSuchName that
	// ends the view and says so.
	out, ended := strings.CutSuffix(out, "End of MIB\n")
	if !ended {
		t.Errorf("snmpwalk -v1 did not end on noSuchName:\n…%s", out[max(0, len(out)-300):])
	}
	got := parseToolOutput(t, out)
	want, v := agentWalk(t, a)
	counter64 := 0
	for _, oid := range want {
		if vb := a.get(v, &access{}, oid); vb.typ == gosnmp.Counter64 {
			counter64++
		}
	}
	if counter64 == 0 {
		t.Fatal("the fixture serves no Counter64: the test proves nothing")
	}
	i := 0
	for _, oid := range want {
		if a.get(v, &access{}, oid).typ == gosnmp.Counter64 {
			continue
		}
		if i >= len(got) {
			t.Fatalf("v1 walk ended after %d instances; next in the v2c walk %s", i, oid)
		}
		if !got[i].oid.Equal(oid) {
			t.Fatalf("instance %d: v1 walk %s, want %s", i, got[i].oid, oid)
		}
		if oid.HasPrefix(rootOID) {
			typ, val := netsnmpText(t, v.Get(oid))
			if got[i].typ != typ || got[i].value != val {
				t.Errorf("%s: v1 printed %s: %q, the model holds %s: %q", oid, got[i].typ, got[i].value, typ, val)
			}
		}
		i++
	}
	if i != len(got) {
		t.Errorf("v1 walk has %d instances, want %d (%d Counter64 skipped)", len(got), i, counter64)
	}
	t.Logf("v1 walk: %d instances, %d Counter64 skipped", len(got), counter64)
}

// TestNetSNMPv1Errors: a v1 GET of a Counter64 or of an absent instance,
// and a GETNEXT past the end, fail with noSuchName and the index of the
// varbind (RFC 3584 4.2.2.1, RFC 1157); SET gets noSuchName (noAccess
// mapped, RFC 3584 4.4).
func TestNetSNMPv1Errors(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	_, addr := startAgent(t, v1Config(), store, Deps{})
	args := func(extra ...string) []string {
		return append([]string{"-On", "-t", "2", "-r", "0", "-v1", "-c", testCommunity, addr}, extra...)
	}
	upstream := "." + svgUpstreamState.OID.Append(0).String()
	counter64 := "." + svgFeedEvents.OID.Append(0).String()
	absent := "." + svgCageLabel.OID.Append(999999).String()
	for _, c := range []struct {
		name, tool string
		oids       []string
		failed     string // the varbind noSuchName names
	}{
		{"get Counter64", "snmpget", []string{upstream, counter64}, counter64},
		{"get absent", "snmpget", []string{absent}, absent},
		{"getnext past the end", "snmpgetnext", []string{".1.3.6.1.6.3.16"}, ".1.3.6.1.6.3.16"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := netsnmp(t, c.tool, args(c.oids...)...)
			if err == nil || !strings.Contains(stderr, "noSuchName") || !strings.Contains(stderr, "Failed object: "+c.failed) {
				t.Errorf("%s: %v\nstdout %q\nstderr %q", c.tool, err, out, stderr)
			}
		})
	}
	t.Run("get", func(t *testing.T) {
		out, stderr, err := netsnmp(t, "snmpget", args(upstream, "."+sysDescr.OID.Append(0).String())...)
		if err != nil || !strings.Contains(out, upstream+" = INTEGER: 2") || !strings.Contains(out, "svgateway") {
			t.Errorf("snmpget -v1: %v %q %q", err, out, stderr)
		}
	})
	t.Run("getnext steps over Counter64", func(t *testing.T) {
		before := "." + svgFeedError.OID.Append(0).String() // svgFeedEvents, -Malformed, -Unknown follow
		out, _, err := netsnmp(t, "snmpgetnext", args(before)...)
		if want := "." + svgFeedLastEvent.OID.Append(0).String() + " = "; err != nil || !strings.HasPrefix(out, want) {
			t.Errorf("snmpgetnext -v1 %s = %q (%v), want %s…", before, out, err, want)
		}
	})
	t.Run("set", func(t *testing.T) {
		out, stderr, err := netsnmp(t, "snmpset", args("."+svgCageLabel.OID.Append(3).String(), "s", "x")...)
		if err == nil || !strings.Contains(stderr, "noSuchName") {
			t.Errorf("snmpset -v1: %v %q %q", err, out, stderr)
		}
	})
}

// TestV1GetBulkDropped: GetBulk does not exist in SNMPv1; such a message is
// dropped as a parse error, not answered.
func TestV1GetBulkDropped(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, err := NewAgent(v1Config(), store, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pkt := v2cRequest(t, testCommunity, gosnmp.GetBulkRequest, 0, 10, rootOID.String())
	// The version is the first INTEGER of the message: 30 LL 02 01 VV.
	if pkt[2] != 0x02 || pkt[3] != 0x01 || pkt[4] != 0x01 {
		t.Fatalf("unexpected encoding %x", pkt[:8])
	}
	pkt[4] = 0x00
	before := a.stats.reasons[dropParse].Load()
	if a.handle(pkt, testFrom) != nil {
		t.Error("v1 GetBulk answered")
	}
	if a.stats.reasons[dropParse].Load() != before+1 {
		t.Error("not counted as a parse error")
	}
}
