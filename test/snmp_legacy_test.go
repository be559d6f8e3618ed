package e2e

// The NMS paths of issue 10 from the real binary: an SNMPv1 walk, SNMPv1
// traps into snmptrapd with snmptt classifying them with the shipped
// mibs/snmptt.conf, and Prometheus snmp_exporter's generator and exporter
// (Debian's prometheus-snmp-exporter) with mibs/snmp_exporter/generator.yml.

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
)

// legacySNMP is an [snmp] table: the agent on port with a community that
// answers v1 and v2c, and a v1 trap target to each trapd.
func legacySNMP(port int, trapds ...string) string {
	s := fmt.Sprintf(`[snmp]
listen = "127.0.0.1:%d"
sys_contact = "noc@example.com"
sys_location = "Test lab"

[[snmp.communities]]
name = "public"
sources = ["127.0.0.0/8"]
versions = ["v1", "v2c"]
`, port)
	for _, a := range trapds {
		s += fmt.Sprintf("\n[[snmp.targets]]\naddress = %q\nversion = \"v1\"\ncommunity = \"public\"\n", a)
	}
	return s
}

// snmpttIni writes an snmptt.ini for standalone mode (run by snmptrapd's
// traphandle) loading the shipped mibs/snmptt.conf, logging to log.
func snmpttIni(t *testing.T, dir, log string) string {
	t.Helper()
	conf, _ := filepath.Abs("../mibs/snmptt.conf")
	ini := fmt.Sprintf(`[General]
snmptt_system_name = test
mode = standalone
multiple_event = 1
dns_enable = 0
net_snmp_perl_enable = 0
translate_integers = 0
[Logging]
stdout_enable = 0
log_enable = 1
log_file = %s
log_system_enable = 0
unknown_trap_log_enable = 0
syslog_enable = 0
syslog_system_enable = 0
[TrapFiles]
snmptt_conf_files = <<END
%s
END
`, log, conf)
	p := filepath.Join(dir, "snmptt.ini")
	if err := os.WriteFile(p, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLegacyConsole: a v1 walk of the gateway's whole tree; raise,
// acknowledge and clear of sandbox alarms reach snmptrapd as SNMPv1 traps
// (enterprise and specific trap decoded by MIB names, -Of), and snmptt,
// with the generated snmptt.conf and no hand-written rule, rates each by
// the alarm's severity: Urgent (850) Critical, Informational (250)
// Warning, clears Normal.
func TestLegacyConsole(t *testing.T) {
	snmptt := requireTool(t, "snmptt")
	dir := t.TempDir()
	ttLog := filepath.Join(dir, "snmptt.log")
	// One snmptrapd decodes by MIB names (-Of) for the test to read; the
	// console's snmptrapd hands every trap to snmptt, numerically as
	// snmptt's EVENT lines are.
	trapd := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "public", MIBPath: netsnmptest.MIBPath(t),
		Options: []string{"-Of"}})
	console := netsnmptest.StartSnmptrapd(t, netsnmptest.SnmptrapdOptions{Community: "public",
		TrapHandle: snmptt + " --ini=" + snmpttIni(t, dir, ttLog)})
	port := freePort(t, "udp")
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: legacySNMP(port, trapd.Addr, console.Addr)})
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	out, err := snmpTool(t, "snmpwalk", "-v1", "-c", "public", "-On", addr, ".1")
	if err != nil || !strings.HasSuffix(out, "End of MIB\n") || strings.Contains(out, "Counter64") {
		t.Fatalf("snmpwalk -v1: %v\n…%s", err, out[max(0, len(out)-500):])
	}
	if n := strings.Count(out, "\n"); n < 500 {
		t.Errorf("snmpwalk -v1 returned %d lines", n)
	}
	sys, err := snmpTool(t, "snmpget", "-v1", "-c", "public", addr, "SNMPv2-MIB::sysDescr.0", "SNMPv2-MIB::sysContact.0",
		"SNMPv2-MIB::sysLocation.0", "SNMPv2-MIB::sysORID.1")
	if err != nil || !regexp.MustCompile(`sysDescr.0 = STRING: svgateway \S+`).MatchString(sys) ||
		!strings.Contains(sys, "noc@example.com") || !strings.Contains(sys, "Test lab") || !strings.Contains(sys, "SVGATEWAY-MIB::svgatewayMIB") {
		t.Errorf("system group over v1: %v\n%s", err, sys)
	}

	for _, a := range []struct {
		asset, tag string
		severity   int
	}{{"CH1.Gen-2", "CH1.Gen-2:voltage", 850}, {"CH1.Gen-1", "CH1.Gen-1:voltage", 250}} {
		g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "raise", "assetId": a.asset, "tagId": a.tag, "conditionName": "Low Voltage", "severity": a.severity})
		g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "ack", "assetId": a.asset, "tagId": a.tag, "conditionName": "Low Voltage"})
		g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "clear", "assetId": a.asset, "tagId": a.tag, "conditionName": "Low Voltage"})
	}
	// The sandbox's changes reach the model by poll or feed, perhaps
	// coalesced (a raise and clear seen at once are both notified).
	var events []string
	WaitFor(t, 60*time.Second, "snmptt classified both alarms' clears", func() bool {
		data, _ := os.ReadFile(ttLog)
		events = lines(string(data))
		return strings.Count(string(data), oidOfNotification("svgAlarmCleared")+" Normal") >= 2
	})
	got := map[string]int{}
	for _, l := range events {
		for _, ev := range []string{"svgAlarmRaised", "svgAlarmAcknowledged", "svgAlarmCleared"} {
			if strings.Contains(l, "An alarm ") && strings.Contains(l, oidOfNotification(ev)+" ") {
				sev := strings.Fields(l[strings.Index(l, oidOfNotification(ev))+len(oidOfNotification(ev)):])[0]
				got[ev+" "+sev]++
			}
		}
	}
	for _, want := range []string{"svgAlarmRaised Critical", "svgAlarmRaised Warning", "svgAlarmAcknowledged Critical",
		"svgAlarmAcknowledged Warning", "svgAlarmCleared Normal"} {
		if got[want] == 0 {
			t.Errorf("snmptt logged no %q; it logged:\n%s", want, strings.Join(events, "\n"))
		}
	}
	if got["svgAlarmCleared Normal"] != 2 {
		t.Errorf("%d clears rated Normal, want 2", got["svgAlarmCleared Normal"])
	}
	// snmptrapd decoded the v1 traps by the MIB: enterprise and specific trap.
	specifics := map[string]bool{}
	for _, n := range trapd.Notifications() {
		if n.Version == "0" && n.Generic == "6" {
			if !strings.HasSuffix(n.Enterprise, ".enterprises.svgatewayMIB") {
				t.Errorf("enterprise %q", n.Enterprise)
			}
			specifics[n.Specific] = true
		}
	}
	for _, s := range []string{".svgAlarmRaised", ".svgAlarmAcknowledged", ".svgAlarmCleared"} {
		if !specifics[s] {
			t.Errorf("no v1 trap with specific-trap %s (got %v)", s, specifics)
		}
	}
	// The alarm on the generator is classified from the API's fields (asset
	// type Generator), and its acknowledgement says who acknowledged it.
	const entry = ".iso.org.dod.internet.private.enterprises.svgatewayMIB.svgObjects.svgAlarmTable.svgAlarmEntry."
	classified, acked := false, false
	for _, n := range trapd.Notifications() {
		if v, _ := n.Value(entry + "svgAlarmAssetId."); v != "STRING: CH1.Gen-2" {
			continue
		}
		typ, _ := n.Value(entry + "svgAlarmType.")
		cause, _ := n.Value(entry + "svgAlarmProbableCause.")
		event, _ := n.Value(entry + "svgAlarmEventType.")
		if !strings.HasSuffix(typ, ".svgAlarmTypes.svgAlarmTypeGenerator") || cause != "INTEGER: generatorFailure(111)" || event != "INTEGER: equipmentAlarm(5)" {
			t.Errorf("CH1.Gen-2 alarm classified as %q, %q, %q", typ, cause, event)
		}
		classified = true
		if n.Specific == ".svgAlarmAcknowledged" {
			actor, _ := n.Value(entry + "svgAlarmAckActor.")
			acked = actor == "STRING: Equinix operations"
		}
	}
	if !classified || !acked {
		t.Errorf("CH1.Gen-2's traps: classified %v, acknowledgement by Equinix operations %v", classified, acked)
	}
}

// oidOfNotification is the numeric OID (as snmptt logs it) of a
// notification of the MIB under the default root.
func oidOfNotification(name string) string {
	return map[string]string{"svgAlarmRaised": ".1.3.6.1.4.1.32473.0.1", "svgAlarmAcknowledged": ".1.3.6.1.4.1.32473.0.2",
		"svgAlarmCleared": ".1.3.6.1.4.1.32473.0.3"}[name]
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestSnmpExporter: the snmp_exporter generator turns the shipped
// generator.yml and the MIB into a module; the exporter scrapes the gateway
// with it, and power and environment metrics come out labelled with their
// IBX and location id, scaled to their units.
func TestSnmpExporter(t *testing.T) {
	generator := requireTool(t, "prometheus-snmp-generator")
	exporter := requireTool(t, "prometheus-snmp-exporter")
	dir := t.TempDir()
	mibs, _ := filepath.Abs("../mibs")
	shipped, err := os.ReadFile(filepath.Join(mibs, "snmp_exporter", "generator.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// This generator reads generator.yml from its working directory.
	if err := os.WriteFile(filepath.Join(dir, "generator.yml"), shipped, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gen := exec.CommandContext(ctx, generator, "generate", "--fail-on-parse-errors", "--output-path="+filepath.Join(dir, "snmp.yml"))
	gen.Dir = dir
	gen.Env = append(os.Environ(), "MIBDIRS="+mibs+":"+baseMIBs(t))
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, out)
	}
	port := freePort(t, "udp")
	g := StartGateway(t, GatewayOptions{Tick: "1h", Extra: legacySNMP(port)})
	httpPort := freePort(t, "tcp")
	exp := exec.CommandContext(ctx, exporter, "--config.file="+filepath.Join(dir, "snmp.yml"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", httpPort))
	logBuf := &strings.Builder{}
	exp.Stdout, exp.Stderr = logBuf, logBuf
	if err := exp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Process.Kill(); exp.Wait() })
	var body string
	WaitFor(t, 30*time.Second, "a scrape through snmp_exporter", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/snmp?module=svgateway&target=127.0.0.1:%d", httpPort, port))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200 && strings.Contains(body, "svgPowerKva{")
	})
	m := g.Model()
	checked := 0
	for _, l := range m.Locations {
		if l.Level != "CIRCUIT" || l.Power == nil || l.Power.KVA == nil || l.Power.KVA.Number == nil {
			continue
		}
		re := regexp.MustCompile(`svgPowerKva\{[^}]*svgPowerIbx="` + regexp.QuoteMeta(l.IBX) + `"[^}]*svgPowerLocationId="` +
			regexp.QuoteMeta(l.Name) + `"[^}]*\} (\S+)`)
		mm := re.FindStringSubmatch(body)
		if mm == nil {
			t.Errorf("no labelled svgPowerKva for circuit %s/%s", l.IBX, l.Name)
			continue
		}
		if want := fmt.Sprintf("%.3f", *l.Power.KVA.Number); !sameNumber(mm[1], want) {
			t.Errorf("circuit %s: svgPowerKva %s, model %s", l.Name, mm[1], want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatalf("no circuit power checked; scrape:\n%s", body[:min(len(body), 3000)])
	}
	if !regexp.MustCompile(`svgEnvTemperature\{[^}]*svgEnvIbx="[A-Z0-9]+"[^}]*svgEnvLocationId="[^"]+"`).MatchString(body) {
		t.Errorf("no labelled svgEnvTemperature:\n%s", body[:min(len(body), 3000)])
	}
	t.Logf("%d circuits' kVA checked through snmp_exporter", checked)
}

// sameNumber reports whether two decimal texts are the same number.
func sameNumber(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) < 1e-9
}

// TestSnmpttConfCurrent regenerates snmptt.conf with the shipped script
// and fails when mibs/snmptt.conf differs (run mibs/snmptt-generate.sh >
// mibs/snmptt.conf after changing the MIB).
func TestSnmpttConfCurrent(t *testing.T) {
	requireTool(t, "snmpttconvertmib")
	script, _ := filepath.Abs("../mibs/snmptt-generate.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script)
	cmd.Env = append(os.Environ(), "SVGATEWAY_BASE_MIBS="+baseMIBs(t))
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("snmptt-generate.sh: %v", err)
	}
	shipped, err := os.ReadFile("../mibs/snmptt.conf")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(shipped) {
		t.Error("mibs/snmptt.conf is out of date with the MIB: run mibs/snmptt-generate.sh > mibs/snmptt.conf")
	}
}
