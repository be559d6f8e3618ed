package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// snmpTool runs a net-snmp client with SVGATEWAY-MIB and the base MIBs
// loaded, bounded in time, and returns its output.
func snmpTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	requireTool(t, name)
	mibs, _ := filepath.Abs("../mibs")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, append([]string{"-M", mibs + ":" + baseMIBs(t), "-m", "+SVGATEWAY-MIB"}, args...)...)
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS=", "SNMPCONFPATH="+t.TempDir(), "SNMP_PERSISTENT_DIR="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// baseMIBs is the directory with SNMPv2-SMI and friends (test/run.sh
// unpacks them from Debian's erlang-snmp into test/.cache/base-mibs).
func baseMIBs(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SVGATEWAY_BASE_MIBS")
	if dir == "" {
		dir, _ = filepath.Abs(".cache/base-mibs")
	}
	if _, err := os.Stat(filepath.Join(dir, "SNMPv2-SMI.txt")); err != nil {
		if e2eRequired() {
			t.Fatalf("base MIBs not found in %s (test/run.sh unpacks them)", dir)
		}
		t.Skipf("base MIBs not found in %s; run test/run.sh", dir)
	}
	return dir
}

// snmpRows parses `-OQs` output ("svgTagId.12 = "CH1.Gen-1:fuelhours"") into
// column → index → value, with string quotes removed.
func snmpRows(out string) map[string]map[string]string {
	rows := map[string]map[string]string{}
	line := regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*)\.(\d+) = (.*)$`)
	for _, l := range strings.Split(out, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if rows[m[1]] == nil {
			rows[m[1]] = map[string]string{}
		}
		rows[m[1]][m[2]] = strings.Trim(m[3], `"`)
	}
	return rows
}

const snmpV3 = `
[[snmp.users]]
name = "nms"
auth_protocol = "SHA-256"
auth_passphrase = "e2e-auth-passphrase"
priv_protocol = "AES"
priv_passphrase = "e2e-priv-passphrase"
`

// TestSNMPWalkEqualsModel walks the gateway's tag, circuit, power and IBX
// environment tables with net-snmp over v2c and v3 authPriv and compares
// every row with /api/model. The sandbox is frozen (a one-hour tick), so the
// walk and the model show the same values.
func TestSNMPWalkEqualsModel(t *testing.T) {
	port := freePort(t, "udp")
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: fmt.Sprintf(`
[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
%s`, port, snmpV3)})
	target := fmt.Sprintf("127.0.0.1:%d", port)
	v2c := []string{"-v2c", "-c", "public"}
	v3 := []string{"-v3", "-l", "authPriv", "-u", "nms", "-a", "SHA-256", "-A", "e2e-auth-passphrase", "-x", "AES", "-X", "e2e-priv-passphrase"}
	m := g.Model()

	walk := func(sec []string, table string) map[string]map[string]string {
		out, err := snmpTool(t, "snmpbulkwalk", append(sec, "-OQs", "-Cr50", "-t", "5", "-r", "1", target, "SVGATEWAY-MIB::"+table)...)
		if err != nil {
			t.Fatalf("snmpbulkwalk %s: %v\n%s", table, err, out)
		}
		return snmpRows(out)
	}
	for _, sec := range [][]string{v2c, v3} {
		name := sec[0]
		tags := walk(sec, "svgTagTable")
		if len(tags["svgTagId"]) != len(m.Tags) {
			t.Fatalf("%s: %d tag rows, /api/model has %d tags", name, len(tags["svgTagId"]), len(m.Tags))
		}
		for idx, id := range tags["svgTagId"] {
			tag := m.Tag(id)
			if tag == nil {
				t.Errorf("%s: svgTagId.%s = %q is not in /api/model", name, idx, id)
				continue
			}
			wantText := ""
			if tag.Value != nil {
				wantText = tag.Value.Text
			}
			if got := tags["svgTagValueText"][idx]; got != wantText {
				t.Errorf("%s: %s value text %q, model %q", name, id, got, wantText)
			}
			if tags["svgTagUnit"][idx] != tag.Unit || tags["svgTagDisplayName"][idx] != tag.DisplayName || tags["svgTagAssetId"][idx] != tag.Asset {
				t.Errorf("%s: %s unit/name/asset %q %q %q, model %q %q %q", name, id,
					tags["svgTagUnit"][idx], tags["svgTagDisplayName"][idx], tags["svgTagAssetId"][idx], tag.Unit, tag.DisplayName, tag.Asset)
			}
			scaled, hasScaled := tags["svgTagValue"][idx]
			if tag.Value != nil && tag.Value.Number != nil && math.Abs(*tag.Value.Number) < 2e6 {
				got, err := strconv.ParseFloat(scaled, 64) // DISPLAY-HINT "d-3" renders 78.5 as 78.500
				if !hasScaled || err != nil || math.Abs(got-*tag.Value.Number) > 0.0005 {
					t.Errorf("%s: %s svgTagValue %q, model %v", name, id, scaled, *tag.Value.Number)
				}
			} else if hasScaled {
				t.Errorf("%s: %s has svgTagValue %q but is not numeric in the model", name, id, scaled)
			}
			if q := tags["svgTagQuality"][idx]; q != "fresh" && tag.Quality == "good" {
				t.Errorf("%s: %s quality %q, model %q", name, id, q, tag.Quality)
			}
		}

		circuits := walk(sec, "svgCircuitTable")
		power := walk(sec, "svgPowerTable")
		seen := 0
		for _, loc := range m.Locations {
			if loc.Level != "CIRCUIT" {
				continue
			}
			seen++
			idx := ""
			for i, id := range circuits["svgCircuitId"] {
				if id == loc.Name {
					idx = i
				}
			}
			if idx == "" {
				t.Errorf("%s: circuit %s not in svgCircuitTable", name, loc.ID)
				continue
			}
			if circuits["svgCircuitLabel"][idx] != loc.Label {
				t.Errorf("%s: circuit %s label %q, model %q", name, loc.ID, circuits["svgCircuitLabel"][idx], loc.Label)
			}
			if loc.Power != nil && loc.Power.KVA != nil && power["svgPowerKvaText"][idx] != loc.Power.KVA.Text {
				t.Errorf("%s: circuit %s kVA text %q, model %q", name, loc.ID, power["svgPowerKvaText"][idx], loc.Power.KVA.Text)
			}
		}
		if seen == 0 || len(circuits["svgCircuitId"]) != seen {
			t.Errorf("%s: %d circuit rows, model has %d circuits", name, len(circuits["svgCircuitId"]), seen)
		}
	}

	// snmptable renders a whole table by MIB names.
	out, err := snmpTool(t, "snmptable", append(v2c, "-Cf", "|", target, "SVGATEWAY-MIB::svgAssetTable")...)
	if err != nil || !strings.Contains(out, "CH1.Gen-1") || !strings.Contains(out, "CATERPILLAR") {
		t.Errorf("snmptable svgAssetTable: %v\n%.2000s", err, out)
	}
	// A GET of a walked cell agrees with the walk.
	tags := walk(v2c, "svgTagId")
	for idx, id := range tags["svgTagId"] {
		if id != "CH1.Gen-1:fuelhours" {
			continue
		}
		out, err := snmpTool(t, "snmpget", append(v3, "-OQs", target, "SVGATEWAY-MIB::svgTagValueText."+idx)...)
		if err != nil || !strings.Contains(out, m.Tag(id).Value.Text) {
			t.Errorf("snmpget svgTagValueText.%s: %v %q, model %q", idx, err, out, m.Tag(id).Value.Text)
		}
	}

	// Refusals: a wrong community gets no answer; wrong v3 keys get a report, never data.
	out, err = snmpTool(t, "snmpget", "-v2c", "-c", "private", "-t", "1", "-r", "0", target, "SNMPv2-MIB::sysDescr.0")
	if err == nil || !strings.Contains(out, "Timeout") {
		t.Errorf("wrong community: %v %q, want a timeout", err, out)
	}
	bad := append([]string(nil), v3...)
	bad[8] = "wrong-auth-passphrase"
	out, err = snmpTool(t, "snmpget", append(bad, "-t", "2", "-r", "0", target, "SVGATEWAY-MIB::svgTagId.1")...)
	if err == nil || !strings.Contains(out, "Authentication failure") || strings.Contains(out, "STRING") {
		t.Errorf("wrong v3 key: %v %q, want an authentication failure report", err, out)
	}
}
