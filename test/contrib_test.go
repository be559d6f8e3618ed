package e2e

// contrib/: the Prometheus alert rules are checked and unit-tested by
// promtool (Debian's prometheus package); the scrape config is checked; the
// Grafana dashboard and the rules only name metrics a running gateway
// exports.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPrometheusRules(t *testing.T) {
	requireTool(t, "promtool")
	dir, _ := filepath.Abs("../contrib/prometheus")
	for _, args := range [][]string{
		{"check", "rules", "svgateway.rules.yml"},
		{"test", "rules", "svgateway.rules.test.yml"},
		{"check", "config", "prometheus.yml"},
	} {
		out, err := run(t, dir, nil, "promtool", args...)
		if err != nil || !strings.Contains(out, "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricNames are the svgateway_, go_ and process_ metric names an
// expression uses (a histogram's _bucket named by its family).
func metricNames(expr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\b(?:svgateway|go|process)_[a-z0-9_]+`).FindAllString(expr, -1) {
		m = strings.TrimSuffix(m, "_bucket")
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func TestDashboardAndRulesNameExportedMetrics(t *testing.T) {
	requireTool(t, "snmpget")
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	b, err := os.ReadFile("../contrib/grafana/svgateway.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	used := map[string]string{} // metric → where
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, m := range metricNames(q.Expr) {
				used[m] = "dashboard panel " + p.Title
			}
		}
	}
	rules, err := os.ReadFile("../contrib/prometheus/svgateway.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range regexp.MustCompile(`(?m)^\s+expr: (.*)$`).FindAllStringSubmatch(string(rules), -1) {
		for _, m := range metricNames(l[1]) {
			used[m] = "rule " + l[1]
		}
	}

	// A gateway with every subsystem that exports metrics, after an SNMP request.
	trapd := startTrapd(t, 0)
	port := freePort(t, "udp")
	g := StartGateway(t, GatewayOptions{Extra: fmt.Sprintf(`[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
[[snmp.targets]]
address = %q
community = "public"
[opcua]
endpoint = "opc.tcp://127.0.0.1:%d"
security = ["None"]
allow_anonymous = true
`, port, trapd.Addr, freePort(t, "tcp"))})
	if _, err := snmpTool(t, "snmpget", "-v2c", "-c", "public", fmt.Sprintf("udp:127.0.0.1:%d", port), "SNMPv2-MIB::sysUpTime.0"); err != nil {
		t.Fatal(err)
	}
	// The feed lag is exported once a feed event arrived.
	WaitFor(t, 60*time.Second, "a feed event", func() bool { return strings.Contains(string(g.Get("/metrics")), "svgateway_model_feed_lag_seconds ") })
	exported := string(g.Get("/metrics"))
	// A labelled counter appears once it counts something (retries, OPC UA
	// requests): those are found where the code declares them.
	var declared strings.Builder
	filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") && !strings.Contains(path, "node_modules") {
			b, _ := os.ReadFile(path)
			declared.Write(b)
		}
		return nil
	})
	for m, where := range used {
		if !regexp.MustCompile(`(?m)^# TYPE `+m+` `).MatchString(exported) && !strings.Contains(declared.String(), `"`+m+`"`) {
			t.Errorf("%s uses %s, which the gateway does not export", where, m)
		}
	}
	if len(used) < 15 {
		t.Errorf("only %d metrics used: %v", len(used), used)
	}
}
