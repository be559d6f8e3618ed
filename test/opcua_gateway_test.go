package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// nodeScript runs one of test/opcua's node-opcua scripts to completion
// (bounded) and returns its JSON lines and exit code.
func nodeScript(t *testing.T, script string, args ...string) ([]map[string]any, int, string) {
	t.Helper()
	requireNodeOPCUA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("opcua", script)}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines, code, errOut.String()
}

func requireNodeOPCUA(t *testing.T) {
	t.Helper()
	requireTool(t, "node")
	if _, err := os.Stat("node_modules/node-opcua"); err != nil {
		if e2eRequired() {
			t.Fatal("node-opcua missing in test/node_modules (test/run.sh runs npm ci)")
		}
		t.Skip("node-opcua missing; run test/run.sh")
	}
}

// opcuaStatus is the OPC UA status a value of the given /api/model quality must have.
var opcuaStatus = map[string]string{
	"good": "Good", "stale": "UncertainLastUsableValue",
	"nocomm": "UncertainNoCommunicationLastUsableValue", "unavailable": "BadWaitingForInitialData",
}

const opcuaUser, opcuaPassword = "operator", "e2e opc ua password"

// opcuaGateway starts a gateway with a frozen sandbox and the OPC UA server
// offering None/anonymous (allowed with the sandbox) and Basic256Sha256 with a user.
func opcuaGateway(t *testing.T, tick string) (*Gateway, string) {
	port := freePort(t, "tcp")
	g := StartGateway(t, GatewayOptions{Tick: tick, Extra: fmt.Sprintf(`
[opcua]
endpoint = "opc.tcp://127.0.0.1:%d"
security = ["None", "Basic256Sha256:SignAndEncrypt", "Basic256Sha256:Sign"]
allow_anonymous = true
[[opcua.users]]
name = %q
password = %q
`, port, opcuaUser, opcuaPassword)})
	return g, fmt.Sprintf("opc.tcp://127.0.0.1:%d", port)
}

// TestOPCUACrawlEqualsModel crawls the gateway's whole SmartView tree with
// node-opcua (every Browse and BrowseNext must be Good) and compares every
// variable with /api/model: value, source timestamp, and the status its
// quality implies (BadWaitingForInitialData for the readings SmartView never
// sent, such as cabinet environment, which its API has no level for).
func TestOPCUACrawlEqualsModel(t *testing.T) {
	g, url := opcuaGateway(t, "1h")
	m := g.Model()
	pki := t.TempDir()
	lines, code, stderr := nodeScript(t, "crawl.js", "--url", url, "--pki", pki, "--dump", "--max-seconds", "150")
	if code != 0 && code != 4 { // 4: some value was not Good (checked below against the model)
		t.Fatalf("crawl exit %d: %s", code, stderr)
	}
	vars := map[string]map[string]any{}
	var summary map[string]any
	for _, l := range lines {
		if id, ok := l["var"].(string); ok {
			vars[id] = l
		} else if l["summary"] == true {
			summary = l
		}
	}
	if summary == nil || summary["badBrowse"] != 0.0 || summary["badDataTypes"] != 0.0 || len(summary["errors"].([]any)) != 0 {
		t.Fatalf("crawl summary %v", summary)
	}

	checked := 0
	check := func(node string, want any, quality string, src *time.Time) {
		t.Helper()
		checked++
		got, ok := vars["ns=2;s="+node]
		if !ok {
			t.Errorf("%s: not found by the crawl", node)
			return
		}
		if status := opcuaStatus[quality]; got["status"] != status {
			t.Errorf("%s: status %v, model quality %q (want %s)", node, got["status"], quality, status)
		}
		switch w := want.(type) {
		case float64:
			if v, ok := got["value"].(float64); !ok || math.Abs(v-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: value %v, model %v", node, got["value"], w)
			}
		case string:
			if got["value"] != want && !(w == "" && got["value"] == nil) { // an empty String travels as null
				t.Errorf("%s: value %#v, model %#v", node, got["value"], want)
			}
		default:
			if got["value"] != want {
				t.Errorf("%s: value %#v, model %#v", node, got["value"], want)
			}
		}
		if src != nil {
			if s, _ := got["src"].(string); s != src.UTC().Format("2006-01-02T15:04:05.000Z") {
				t.Errorf("%s: source timestamp %v, model reading time %v", node, got["src"], src)
			}
		}
	}
	number := func(v *APIValue) any { // Double variables: null when upstream sent no number
		if v == nil || v.Number == nil {
			return nil
		}
		return *v.Number
	}

	text := func(v *APIValue) any { // String variables (tags without a unit): upstream's text
		switch {
		case v == nil:
			return nil
		case v.Text == "" && v.Number != nil:
			return strconv.FormatFloat(*v.Number, 'f', -1, 64)
		}
		return v.Text
	}
	for _, tag := range m.Tags {
		want := number(tag.Value)
		if tag.Unit == "" {
			want = text(tag.Value)
		}
		check(tag.IBX+"/TAG/"+tag.ID, want, tag.Quality, tag.ReadingTime)
	}
	for _, loc := range m.Locations {
		check(loc.ID+"#Label", loc.Label, "good", nil)
		if p := loc.Power; p != nil {
			for member, v := range map[string]*APIValue{"KVA": p.KVA, "SoldKVA": p.SoldKVA, "KW": p.KW, "PowerFactor": p.PowerFactor, "PeakKVA7d": p.PeakKVA7d} {
				check(loc.ID+"#"+member, number(v), p.Quality, p.ReadingTime)
			}
			if loc.Level == "CIRCUIT" {
				check(loc.ID+"#Amps", number(p.Amps), p.Quality, p.ReadingTime)
			}
		}
		if e := loc.Environment; e != nil {
			check(loc.ID+"#Temperature", number(e.Temperature), e.Quality, e.ReadingTime)
			check(loc.ID+"#Humidity", number(e.Humidity), e.Quality, e.ReadingTime)
		}
	}
	for _, a := range m.Assets {
		check(a.IBX+"/ASSET/"+a.ID+"#Manufacturer", a.Manufacturer, a.State.Quality, nil)
		check(a.IBX+"/ASSET/"+a.ID+"#SerialNumber", a.Serial, a.State.Quality, nil)
		check(a.IBX+"/ASSET/"+a.ID+"#AlarmStatus", a.State.AlarmStatus, a.State.Quality, nil)
	}
	for _, a := range m.Alarms {
		if a.State == "cleared" { // the tree lists the IBX's alarms that are not cleared
			if _, ok := vars[fmt.Sprintf("ns=2;s=%s/ALARM/%d#State", a.IBX, a.ID)]; ok {
				t.Errorf("cleared alarm %d is in the tree", a.ID)
			}
			continue
		}
		check(fmt.Sprintf("%s/ALARM/%d#State", a.IBX, a.ID), a.State, "good", nil)
		check(fmt.Sprintf("%s/ALARM/%d#Severity", a.IBX, a.ID), a.Severity, "good", nil)
	}
	t.Logf("%d variables crawled, %d compared with /api/model", len(vars), checked)

	// The same tree over Basic256Sha256 SignAndEncrypt with a user, once an
	// administrator has trusted the client: first refused, its certificate
	// kept in rejected/, then moved into trusted/.
	secure := []string{"--url", url, "--pki", pki, "--security", "Basic256Sha256:SignAndEncrypt", "--user", opcuaUser + ":" + opcuaPassword, "--max-seconds", "150"}
	if _, code, _ := nodeScript(t, "crawl.js", secure...); code == 0 {
		t.Fatal("a client with an untrusted certificate was served")
	}
	rejected := filepath.Join(g.StateDir, "opcua", "pki", "rejected")
	entries, err := os.ReadDir(rejected)
	if err != nil || len(entries) != 1 {
		t.Fatalf("rejected/ holds %d entries (%v), want the client's certificate", len(entries), err)
	}
	if err := os.Rename(filepath.Join(rejected, entries[0].Name()), filepath.Join(g.StateDir, "opcua", "pki", "trusted", entries[0].Name())); err != nil {
		t.Fatal(err)
	}
	lines, code, stderr = nodeScript(t, "crawl.js", append(secure, "--strict")...)
	secureSummary := lines[len(lines)-1]
	if code != 0 && code != 4 || secureSummary["variables"] != summary["variables"] || secureSummary["badBrowse"] != 0.0 {
		t.Fatalf("secure crawl: exit %d, %v (None crawl: %v)\n%s", code, secureSummary, summary, stderr)
	}
	if _, code, _ := nodeScript(t, "crawl.js", "--url", url, "--pki", pki, "--security", "Basic256Sha256:SignAndEncrypt", "--user", opcuaUser+":wrong", "--max-seconds", "60"); code == 0 {
		t.Error("a wrong password was accepted")
	}
}

// TestOPCUASubscriptionSeesSandboxChange subscribes to a tag and a circuit's
// kVA through the gateway and changes both in the sandbox: the data changes
// arrive with the new values.
func TestOPCUASubscriptionSeesSandboxChange(t *testing.T) {
	g, url := opcuaGateway(t, "1h")
	tag, kva := "ns=2;s=CH1/TAG/CH1.Gen-1:fuelhours", "ns=2;s=SV4/CIRCUIT/20853716#KVA"
	sub := startSubscriber(t, url, tag, kva)
	sub.await("the monitored items", func(e map[string]any) bool {
		if e["created"] == nil {
			return false
		}
		if e["ok"] != 2.0 {
			t.Fatalf("monitored items not all created: %v", e)
		}
		return true
	})
	sub.await("initial values", func(e map[string]any) bool { return e["id"] == tag && e["status"] == "Good" })
	g.SandboxPost("/_sandbox/tags", map[string]any{"tagId": "CH1.Gen-1:fuelhours", "value": "4321.5"})
	g.SandboxPost("/_sandbox/power", map[string]any{"circuit": "20853716", "kva": 1.234})
	sub.await("the tag's change", func(e map[string]any) bool { return e["id"] == tag && e["value"] == 4321.5 })
	sub.await("the circuit's change", func(e map[string]any) bool { return e["id"] == kva && e["value"] == 1.234 })
}

// subscriber is a node-opcua client (opcua/subscribe.js) with one
// subscription (100 ms publishing interval) monitoring some variables; it
// runs until the test ends.
type subscriber struct {
	t      *testing.T
	events chan map[string]any
	stderr *svctest.Buffer // written by exec's copying goroutine while await reads it
}

// startSubscriber connects anonymously over SecurityPolicy None and
// monitors nodes.
func startSubscriber(t *testing.T, url string, nodes ...string) *subscriber {
	t.Helper()
	return startSubscriberWith(t, url, nil, nodes...)
}

// startSubscriberWith is startSubscriber with more subscribe.js flags
// (--security, --user).
func startSubscriberWith(t *testing.T, url string, flags []string, nodes ...string) *subscriber {
	t.Helper()
	requireNodeOPCUA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	args := append([]string{filepath.Join("opcua", "subscribe.js"), "--url", url, "--pki", t.TempDir(),
		"--nodes", strings.Join(nodes, ","), "--interval", "100", "--events", "--stdin", "--max-seconds", "170"}, flags...)
	cmd := exec.CommandContext(ctx, "node", args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	s := &subscriber{t: t, events: make(chan map[string]any, 1024), stderr: new(svctest.Buffer)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait(); cancel() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				s.events <- m
			}
		}
		close(s.events)
	}()
	return s
}

// await reads the subscriber's notifications until one satisfies ok
// (bounded: 60 s).
func (s *subscriber) await(what string, ok func(map[string]any) bool) {
	s.t.Helper()
	deadline := time.After(60 * time.Second)
	last := map[any]any{} // each node's last value seen, for the failure's message
	for {
		select {
		case e, open := <-s.events:
			if !open {
				s.t.Fatalf("subscriber ended before %s: %s", what, s.stderr.String())
			}
			if ok(e) {
				return
			}
			if id, has := e["id"]; has {
				last[id] = fmt.Sprint(e["value"], " ", e["status"], " ", e["src"])
			}
		case <-deadline:
			s.t.Fatalf("no %s within 60s (the last value of each node seen meanwhile: %v): %s", what, last, s.stderr.String())
		}
	}
}

// TestOPCUABuildDateIsBuildTime: a binary built with go build (no -X
// main.buildDate) reports the commit time go build recorded (vcs.time) as
// BuildInfo.BuildDate — or, without VCS information, when it was linked —
// never the time it started.
func TestOPCUABuildDateIsBuildTime(t *testing.T) {
	requireNodeOPCUA(t)
	meta, err := exec.Command("go", "version", "-m", gatewayBin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want time.Time
	for _, l := range strings.Split(string(meta), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "build\tvcs.time="); ok {
			if want, err = time.Parse(time.RFC3339, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want.IsZero() {
		fi, err := os.Stat(gatewayBin)
		if err != nil {
			t.Fatal(err)
		}
		want = fi.ModTime().UTC().Truncate(time.Second)
	}
	_, url := opcuaGateway(t, "1h")
	lines, _, stderr := nodeScript(t, "client.js", "--url", url, "--pki", t.TempDir(), "--step", "read=ns=0;i=2266,ns=0;i=2257")
	var results []any
	for _, l := range lines {
		if l["step"] == "read" {
			results, _ = l["results"].([]any)
		}
	}
	if len(results) != 2 {
		t.Fatalf("read BuildDate and StartTime: %v %s", lines, stderr)
	}
	value := func(i int) time.Time {
		r := results[i].(map[string]any)
		s, _ := r["value"].(string)
		v, err := time.Parse(time.RFC3339, s)
		if r["status"] != "Good" || err != nil {
			t.Fatalf("result %d: %v", i, r)
		}
		return v
	}
	build, start := value(0), value(1)
	if !build.Equal(want) || build.Equal(start) {
		t.Errorf("BuildDate %v, want %v (the build's; StartTime %v)", build, want, start)
	}
}
