package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// TestCatalog2024EndToEnd runs the gateway in live mode against a sandbox that serves only the
// 2024 catalog (/smartview/v1/…, trending, the alerts API; no alarms list): a stand-in for an
// account served by it. With catalog "2024", and with "auto", the gateway gets ready, net-snmp
// shows the data (tags, the asset in alarm, the alert of the alerts API), and the gateway asks
// only for paths the account serves (2024), or finds them with a bounded number of 404s that do
// not grow with cycles (auto).
func TestCatalog2024EndToEnd(t *testing.T) {
	sandboxURL := StartSandbox(t, `catalog = "2024"
tick = "1h"`)
	// An alarm of today on CH1.Gen-1: its asset turns NOT OK, and the alerts API lists it.
	postJSON(t, sandboxURL+"/_sandbox/alarms", `{"action":"raise","assetId":"CH1.Gen-1","conditionName":"Fuel Low"}`)

	for _, catalog := range []string{"2024", "auto"} {
		t.Run(catalog, func(t *testing.T) {
			before := sandboxStats(t, sandboxURL)
			status, snmpPort, log := startLiveGateway(t, sandboxURL, catalog)
			m := modelFrom(t, status)
			if m.Health.Upstream != "ok" || len(m.Tags) == 0 || m.Tag("CH1.Gen-1:fuelhours") == nil {
				t.Fatalf("health %+v, %d tags", m.Health, len(m.Tags))
			}
			if len(m.Alarms) != 0 {
				t.Errorf("%d alarms from an account without an alarms list", len(m.Alarms))
			}

			target := fmt.Sprintf("127.0.0.1:%d", snmpPort)
			v2c := []string{"-v2c", "-c", "public", "-t", "5", "-r", "1"}
			walk := func(table string) map[string]map[string]string {
				out, err := snmpTool(t, "snmpbulkwalk", append(v2c, "-OQs", "-Cr50", target, "SVGATEWAY-MIB::"+table)...)
				if err != nil {
					t.Fatalf("snmpbulkwalk %s: %v\n%s", table, err, out)
				}
				return snmpRows(out)
			}
			tags := walk("svgTagTable")
			if len(tags["svgTagId"]) != len(m.Tags) {
				t.Errorf("%d tag rows, /api/model has %d tags", len(tags["svgTagId"]), len(m.Tags))
			}
			fuelIdx := ""
			for idx, id := range tags["svgTagId"] {
				if id == "CH1.Gen-1:fuelhours" {
					fuelIdx = idx
				}
			}
			out, err := snmpTool(t, "snmpget", append(v2c, "-OQs", target, "SVGATEWAY-MIB::svgTagValueText."+fuelIdx)...)
			if want := m.Tag("CH1.Gen-1:fuelhours").Value.Text; fuelIdx == "" || err != nil || snmpRows(out)["svgTagValueText"][fuelIdx] != want {
				t.Errorf("snmpget fuelhours (row %q): %v %q, model %q", fuelIdx, err, out, want)
			}
			assets := walk("svgAssetTable")
			inAlarm := false
			for idx, id := range assets["svgAssetId"] {
				inAlarm = inAlarm || (id == "CH1.Gen-1" && assets["svgAssetAlarmStatusText"][idx] == "NOT OK")
			}
			if !inAlarm {
				t.Errorf("CH1.Gen-1 is not NOT OK in svgAssetTable: %v", assets["svgAssetAlarmStatusText"])
			}
			alerts := walk("svgAlertTable")
			found := false
			for idx, asset := range alerts["svgAlertAssetId"] {
				found = found || (asset == "CH1.Gen-1" && alerts["svgAlertIbx"][idx] == "CH1")
			}
			if !found {
				t.Errorf("no alert on CH1.Gen-1 in svgAlertTable (the alerts API's): %v", alerts)
			}

			// What the gateway asked for: nothing but 2024 paths with "2024"; with "auto", a
			// few 404s while it finds them, and none more once found.
			after := sandboxStats(t, sandboxURL)
			missed := after["unmatched"]["404"] - before["unmatched"]["404"]
			switch {
			case catalog == "2024" && missed != 0:
				t.Errorf("%d requests answered 404 with catalog 2024", missed)
			case catalog == "auto" && (missed == 0 || missed > 15):
				t.Errorf("%d requests answered 404 with catalog auto, want some, at most one per endpoint", missed)
			}
			time.Sleep(3 * time.Second) // three more values cycles
			if again := sandboxStats(t, sandboxURL)["unmatched"]["404"] - before["unmatched"]["404"]; again != missed {
				t.Errorf("404s grew from %d to %d over later cycles: paths not remembered", missed, again)
			}
			announced, unserved := 0, 0
			for _, l := range strings.Split(log.String(), "\n") {
				if strings.Contains(l, `level=INFO msg="smartview: the account answers on this catalog's paths"`) && strings.Contains(l, "catalog=2024") {
					announced++
				}
				if strings.Contains(l, `level=INFO msg="smartview: endpoint not served by this account`) && strings.Contains(l, "endpoint=alarms") {
					unserved++
				}
			}
			if catalog == "auto" && announced != 1 {
				t.Errorf("the catalog found is logged %d times, want once", announced)
			}
			if unserved != 1 {
				t.Errorf("%d lines saying the alarms list is not served, want 1", unserved)
			}
		})
	}
}

// startLiveGateway runs svgateway in live mode against a sandbox with the given catalog, with its
// status listener and a v2c SNMP agent on free loopback ports, and waits until it is ready; it
// is stopped when the test ends.
func startLiveGateway(t *testing.T, baseURL, catalog string) (statusURL string, snmpPort int, log *svctest.Buffer) {
	t.Helper()
	dir := t.TempDir()
	statusPort := freePort(t, "tcp")
	snmpPort = freePort(t, "udp")
	doc := fmt.Sprintf(`state_dir = %q
log_level = "debug"
%s
catalog = %q
[sync]
values_interval = "1s"
stale_after = "10s"
[status]
listen = "127.0.0.1:%d"
[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
`, filepath.Join(dir, "state"), liveSmartView(baseURL), catalog, statusPort, snmpPort)
	g := &Gateway{t: t, Dir: dir, StateDir: filepath.Join(dir, "state"), Config: doc, StatusURL: fmt.Sprintf("http://127.0.0.1:%d", statusPort)}
	g.launch(gatewayBin, nil, "gateway", 0)
	g.WaitReady(60 * time.Second)
	return g.StatusURL, snmpPort, g.Log
}

// sandboxStats is the sandbox's request counts: route → HTTP status → count.
func sandboxStats(t *testing.T, sandboxURL string) map[string]map[string]int64 {
	t.Helper()
	b, err := httpGetQuiet(sandboxURL + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Requests map[string]map[string]int64 `json:"requests"`
	}
	if err := json.Unmarshal([]byte(b), &st); err != nil {
		t.Fatalf("stats %q: %v", b, err)
	}
	return st.Requests
}

func postJSON(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, b)
	}
}
