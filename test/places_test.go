package e2e

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/smartview/docreplay"
)

// snmpTable runs net-snmp's snmptable on a table (v2c, community public)
// and returns its rows as column → value, the "index" column included.
func snmpTable(t *testing.T, target, table string) []map[string]string {
	t.Helper()
	out, err := snmpTool(t, "snmptable", "-v2c", "-c", "public", "-t", "5", "-r", "1", "-Ci", "-Cf", "|", target, "SVGATEWAY-MIB::"+table)
	if err != nil {
		t.Fatalf("snmptable %s: %v\n%s", table, err, out)
	}
	// The output is MIB loading noise on stderr, "SNMP table: NAME", a blank
	// line, the column names and the rows.
	_, body, ok := strings.Cut(out, "SNMP table: SVGATEWAY-MIB::"+table+"\n\n")
	if !ok {
		t.Fatalf("snmptable %s: no table in\n%s", table, out)
	}
	var header []string
	var rows []map[string]string
	for _, line := range strings.Split(body, "\n") {
		if line == "" {
			break
		}
		cells := strings.Split(line, "|")
		if header == nil {
			header = cells
			continue
		}
		row := map[string]string{}
		for i, c := range cells {
			if i < len(header) {
				row[header[i]] = strings.Trim(c, `"`)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// rowWith returns the row whose column col is value, or nil.
func rowWith(rows []map[string]string, col, value string) map[string]string {
	for _, r := range rows {
		if r[col] == value {
			return r
		}
	}
	return nil
}

// TestDocumentedIdsWithNoHomeAreServed runs the gateway in live mode against
// a replay of the API reference's own payloads (smartview/docreplay). Their
// zone readings (CH1:1:05:ColoArea:2/3) and affected-asset links (cage
// CH1:05:BCM000) name locations no hierarchy example lists: they must appear
// in /api/model (marked discovered), in snmptable and in a node-opcua crawl,
// and keep their SNMP index and OPC UA NodeId when a hierarchy later lists
// them.
func TestDocumentedIdsWithNoHomeAreServed(t *testing.T) {
	requireTool(t, "snmptable")
	requireNodeOPCUA(t)
	doc, err := docreplay.New(filepath.Join("..", "smartview", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(doc) // loopback
	t.Cleanup(api.Close)

	dir := t.TempDir()
	statusPort, snmpPort, opcuaPort := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "tcp")
	g := &Gateway{t: t, Dir: dir, StateDir: filepath.Join(dir, "state"), StatusURL: fmt.Sprintf("http://127.0.0.1:%d", statusPort)}
	g.Config = fmt.Sprintf(`state_dir = %q
log_level = "debug"
[sandbox]
enabled = false
[smartview]
base_url = %q
grant_type = "password"
client_id = %q
client_secret = %q
user_name = %q
user_password = %q
account_no = %q
ibxs = ["CH1", "SV4"]
[sync]
structure_interval = "2s"
values_interval = "1s"
stale_after = "1m"
[status]
listen = "127.0.0.1:%d"
[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[opcua]
endpoint = "opc.tcp://127.0.0.1:%d"
security = ["Basic256Sha256:SignAndEncrypt"]
auto_accept_clients = true
[[opcua.users]]
name = %q
password = %q
`, filepath.Join(dir, "state"), api.URL, docreplay.ClientID, docreplay.ClientSecret, docreplay.UserName, docreplay.UserPassword,
		docreplay.AccountNo, statusPort, snmpPort, opcuaPort, opcuaUser, opcuaPassword)
	g.launch(gatewayBin, nil, "gateway", 0)
	status := g.StatusURL
	target := fmt.Sprintf("127.0.0.1:%d", snmpPort)
	opcuaURL := fmt.Sprintf("opc.tcp://127.0.0.1:%d", opcuaPort)

	const (
		zone2 = "CH1/ZONE/CH1:1:05:ColoArea:2"
		zone3 = "CH1/ZONE/CH1:1:05:ColoArea:3"
		cage  = "CH1/CAGE/CH1:05:BCM000"
		cab   = "CH1/CABINET/CH1:05:BCM000:9999"
	)
	var m *APIModel
	WaitFor(t, 60*time.Second, "the documented zones and cage in /api/model", func() bool {
		if _, err := httpGetQuiet(status + "/readyz"); err != nil {
			return false
		}
		m = modelFrom(t, status)
		return m.Location(zone2) != nil && m.Location(zone3) != nil && m.Location(cab) != nil
	})
	for _, tt := range []struct{ id, origin, parent, temperature string }{
		{zone2, "reading", "CH1/IBX/CH1", "21.1"},
		{zone3, "reading", "CH1/IBX/CH1", "20.7"},
		{cage, "link", "CH1/IBX/CH1", ""},
		{cab, "link", cage, ""},
		{"CH1/CIRCUIT/15137957", "link", cab, ""},
	} {
		l := m.Location(tt.id)
		if l == nil || !l.Discovered || l.Origin != tt.origin || l.Parent != tt.parent {
			t.Errorf("%s = %+v, want discovered by %s under %s", tt.id, l, tt.origin, tt.parent)
			continue
		}
		if tt.temperature != "" && (l.Environment == nil || l.Environment.Temperature == nil || l.Environment.Temperature.Text != tt.temperature || l.Environment.Quality != "good") {
			t.Errorf("%s environment = %+v, want %s, good", tt.id, l.Environment, tt.temperature)
		}
	}
	if l := m.Location("SV4/CAGE/SV4:01:001150"); l == nil || l.Discovered || l.Origin != "hierarchy" {
		t.Errorf("a hierarchy cage = %+v, want origin hierarchy", l)
	}

	// snmptable, the real net-snmp tool against the agent.
	zones, cages := snmpTable(t, target, "svgZoneTable"), snmpTable(t, target, "svgCageTable")
	z2, z3, c := rowWith(zones, "svgZoneId", "CH1:1:05:ColoArea:2"), rowWith(zones, "svgZoneId", "CH1:1:05:ColoArea:3"), rowWith(cages, "svgCageId", "CH1:05:BCM000")
	if z2 == nil || z3 == nil || c == nil {
		t.Fatalf("snmptable: zone 2 %v, zone 3 %v, cage %v\nzones %v\ncages %v", z2, z3, c, zones, cages)
	}
	env := rowWith(snmpTable(t, target, "svgEnvTable"), "index", z2["index"])
	if env == nil || env["svgEnvTemperatureText"] != "21.1" || env["svgEnvHumidityText"] != "35.50" || env["svgEnvQuality"] != "fresh" {
		t.Errorf("svgEnvTable row %s of zone 2 = %v", z2["index"], env)
	}

	// A node-opcua crawl of the whole tree reaches them by browsing.
	crawl := func() map[string]map[string]any {
		lines, code, stderr := nodeScript(t, "crawl.js", "--url", opcuaURL, "--pki", t.TempDir(), "--dump", "--max-seconds", "120",
			"--security", "Basic256Sha256:SignAndEncrypt", "--user", opcuaUser+":"+opcuaPassword)
		if code != 0 && code != 4 {
			t.Fatalf("crawl exit %d: %s", code, stderr)
		}
		vars := map[string]map[string]any{}
		for _, l := range lines {
			if id, ok := l["var"].(string); ok {
				vars[id] = l
			}
		}
		return vars
	}
	vars := crawl()
	for node, want := range map[string]any{zone2 + "#Temperature": 21.1, zone3 + "#Humidity": 28.8, cage + "#Label": "CH1:05:BCM000", cab + "#Label": "CH1:05:BCM000:9999"} {
		if got := vars["ns=2;s="+node]; got == nil || got["value"] != want || got["status"] != "Good" {
			t.Errorf("crawl %s = %v, want %v, Good", node, got, want)
		}
	}

	// A hierarchy now lists zone 2 with the cage in it: both become the
	// hierarchy's in place — same SNMP index, same NodeId, reading kept.
	doc.SetHierarchy("location", "CH1", []byte(`[{"levelType":"IBX","levelValue":"CH1","label":"CH1","children":[
		{"levelType":"ZONE","levelValue":"CH1:1:05:ColoArea:2","label":"CH1:1:05:ColoArea:2","children":[
			{"levelType":"CAGE","levelValue":"2051","label":"CH1:05:BCM000","children":[]}]}]}]`))
	WaitFor(t, 30*time.Second, "the hierarchy's zone and cage", func() bool {
		m = modelFrom(t, status)
		l := m.Location(cage)
		return l != nil && l.Origin == "hierarchy" && l.Parent == zone2
	})
	if l := m.Location(zone2); l == nil || l.Discovered || l.Environment == nil || l.Environment.Temperature.Text != "21.1" {
		t.Errorf("listed zone 2 = %+v", l)
	}
	if l := m.Location(zone3); l == nil || !l.Discovered {
		t.Errorf("zone 3 = %+v, want still discovered", l)
	}
	zones, cages = snmpTable(t, target, "svgZoneTable"), snmpTable(t, target, "svgCageTable")
	if r := rowWith(zones, "svgZoneId", "CH1:1:05:ColoArea:2"); r == nil || r["index"] != z2["index"] {
		t.Errorf("zone 2 row after the hierarchy listed it: %v, was index %s", r, z2["index"])
	}
	if r := rowWith(cages, "svgCageId", "CH1:05:BCM000"); r == nil || r["index"] != c["index"] || r["svgCageParent"] != z2["index"] || r["svgCageNumber"] != "2051" {
		t.Errorf("cage row after the hierarchy listed it: %v, was index %s, want parent %s and number 2051", r, c["index"], z2["index"])
	}
	vars = crawl()
	for node, want := range map[string]any{zone2 + "#Temperature": 21.1, cage + "#Label": "CH1:05:BCM000"} {
		if got := vars["ns=2;s="+node]; got == nil || got["value"] != want {
			t.Errorf("crawl after the hierarchy listed it: %s = %v, want %v", node, got, want)
		}
	}

	metrics := string(httpGet(t, status+"/metrics"))
	for _, want := range []string{`svgateway_model_discovered_locations{ibx="CH1",origin="reading"} 1`, `svgateway_model_unplaced_total{reason="ibx_not_in_model"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
}
