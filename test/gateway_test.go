package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// TestGatewayOnSandbox runs the binary on the sandbox and checks the status
// listener: readiness, metrics, and the model as JSON, down to the
// documentation's own examples.
func TestGatewayOnSandbox(t *testing.T) {
	g := StartGateway(t, GatewayOptions{})
	if got := string(g.Get("/healthz")); !strings.HasPrefix(got, "ok") {
		t.Errorf("/healthz = %q", got)
	}
	if got := string(g.Get("/readyz")); !strings.HasPrefix(got, "ready") {
		t.Errorf("/readyz = %q", got)
	}

	m := g.Model()
	if strings.Join(m.IBXs, ",") != "CH1,CH3,DC5,SV4" || m.Health.Upstream != "ok" || m.Health.LastSync == nil {
		t.Errorf("ibxs %v, health %+v", m.IBXs, m.Health)
	}
	if m.Counts.Tags != len(m.Tags) || m.Counts.Locations != len(m.Locations) || len(m.Tags) == 0 {
		t.Errorf("counts %+v vs %d tags, %d locations", m.Counts, len(m.Tags), len(m.Locations))
	}
	fuel := m.Tag("CH1.Gen-1:fuelhours")
	if fuel == nil || fuel.Value == nil || fuel.Value.Number == nil || fuel.Unit != "h" || fuel.Quality != "good" || fuel.ReadingTime == nil || fuel.DisplayName != "Fuel Hours" {
		t.Errorf("CH1.Gen-1:fuelhours = %+v", fuel)
	}
	cage := m.Location("SV4/CAGE/SV4:01:001150")
	if cage == nil || cage.Number != "1852" || cage.Parent != "SV4/ZONE/SV4:1:01:ColoA:1" || cage.Power == nil || cage.Environment == nil {
		t.Errorf("SV4 cage = %+v", cage)
	}
	// The IBX's own temperature and humidity (read with /environment/v1/current, levelType IBX).
	for _, ibx := range m.IBXs {
		l := m.Location(ibx + "/IBX/" + ibx)
		if l == nil || l.Environment == nil || l.Environment.Temperature == nil || l.Environment.Temperature.Number == nil ||
			l.Environment.Humidity == nil || l.Environment.Humidity.Number == nil || l.Environment.Quality != "good" {
			t.Errorf("%s environment = %+v", ibx, l)
		}
	}
	circuit := m.Location("SV4/CIRCUIT/20853717")
	if circuit == nil || circuit.Label != "120V 20A 1Ph Red (3717)" || circuit.Role != "redundant" || circuit.Power == nil || circuit.Power.KVA == nil || circuit.Power.Quality != "good" {
		t.Errorf("SV4 circuit = %+v", circuit)
	}
	if a := m.AlarmOf("DC5.UPS-R1", ""); a == nil || a.Severity != "Urgent" || a.State != "acknowledged" {
		t.Errorf("documented DC5 alarm = %+v", a)
	}

	metrics := string(g.Get("/metrics"))
	for _, want := range []string{
		`svgateway_api_requests_total{code="200",endpoint="power_list"}`,
		`svgateway_sync_duration_seconds_count{kind="structure"}`,
		`svgateway_model_tags{ibx="CH1"}`,
		`svgateway_model_upstream_up{state="ok"} 1`,
		`svgateway_model_last_sync_timestamp_seconds`,
		`svgateway_model_alarms{state="acknowledged"}`,
		`go_goroutines`,
		`svgateway_build_info{build_date=`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	// Each state is exported once (issue 13): no second upstream gauge, no
	// second feed event counter.
	for _, gone := range []string{"svgateway_upstream_state", "svgateway_model_feed_events_total"} {
		if strings.Contains(metrics, gone) {
			t.Errorf("/metrics still has %s", gone)
		}
	}

	// Values evolve: the sandbox ticks every second and the sync polls every second.
	before := *fuel.ReadingTime
	WaitFor(t, 30*time.Second, "a newer fuelhours reading", func() bool {
		f := g.Model().Tag("CH1.Gen-1:fuelhours")
		return f != nil && f.ReadingTime != nil && f.ReadingTime.After(before)
	})
}

// TestAlarmLifecycleSurvivesRestart drives one alarm through raise, ack and
// clear in the sandbox, restarts the gateway on the same state_dir, and
// checks that the alarm keeps its id and that no transition is repeated.
func TestAlarmLifecycleSurvivesRestart(t *testing.T) {
	g := StartGateway(t, GatewayOptions{})
	var ref struct {
		TimeTriggered int64 `json:"timeTriggered"`
	}
	json.Unmarshal(g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "raise", "assetId": "CH1.Gen-2", "tagId": "CH1.Gen-2:voltage", "conditionName": "Low Voltage", "severity": 650}), &ref)
	alarm := func(m *APIModel) *APIAlarm {
		for i := range m.Alarms {
			a := &m.Alarms[i]
			if a.Tag == "CH1.Gen-2:voltage" && a.Condition == "Low Voltage" && a.Triggered != nil && a.Triggered.UnixMilli() == ref.TimeTriggered {
				return a
			}
		}
		return nil
	}
	var id uint64
	for _, step := range []struct{ action, state string }{{"", "active"}, {"ack", "acknowledged"}, {"clear", "cleared"}} {
		if step.action != "" {
			g.SandboxPost("/_sandbox/alarms", map[string]any{"action": step.action, "assetId": "CH1.Gen-2", "tagId": "CH1.Gen-2:voltage", "conditionName": "Low Voltage"})
		}
		WaitFor(t, 30*time.Second, "alarm "+step.state, func() bool {
			a := alarm(g.Model())
			if a != nil && a.State == step.state {
				if id == 0 {
					id = a.ID
				}
				return a.ID == id && a.Severity == "High"
			}
			return false
		})
	}
	before := g.Model()
	seqBefore := alarm(before).Seq
	if err := g.Stop(); err != nil {
		t.Fatalf("SIGTERM: exit %v, want a clean exit", err)
	}
	if _, err := os.Stat(filepath.Join(g.StateDir, "alarms.json")); err != nil {
		t.Fatalf("no alarm ledger in state_dir: %v", err)
	}

	g2 := StartGateway(t, GatewayOptions{Dir: g.Dir})
	after := g2.Model()
	a := alarm(after)
	if a == nil || a.ID != id || a.State != "cleared" || a.Seq != seqBefore {
		t.Fatalf("after restart: %+v, want id %d cleared with seq %d (no new transition)", a, id, seqBefore)
	}
	for _, b := range before.Alarms {
		if x := findAlarm(after, b.Key); x == nil || x.ID != b.ID {
			t.Errorf("alarm %s: id %d before the restart, %+v after", b.Key, b.ID, x)
		}
	}
}

func findAlarm(m *APIModel, key string) *APIAlarm {
	for i := range m.Alarms {
		if m.Alarms[i].Key == key {
			return &m.Alarms[i]
		}
	}
	return nil
}

// TestLiveModeNeverLogsSecrets runs `svgateway sandbox` as a stand-in for
// the live API and a gateway in live mode against it with the password
// grant, secrets from the environment and a file, debug logging, and token
// revocation and rate limiting forcing re-authentication and retries; no
// secret may appear in its log.
func TestLiveModeNeverLogsSecrets(t *testing.T) {
	dir := t.TempDir()
	statusPort := freePort(t, "tcp")
	const secret, password = "s3cr3t-Client-Secret-42", "P@ssw0rd-not-for-logs"
	sandboxURL := StartSandbox(t, fmt.Sprintf(`client_id = "live-client"
client_secret = %q
user_name = "ops@example.com"
user_password = %q
token_ttl = "2s"`, secret, password))

	secretFile := filepath.Join(dir, "client_secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	gwCfg := filepath.Join(dir, "gateway.toml")
	os.WriteFile(gwCfg, []byte(fmt.Sprintf(`state_dir = %q
log_level = "debug"
[sandbox]
enabled = false
[smartview]
base_url = %q
grant_type = "password"
client_id = "live-client"
client_secret = "file:%s"
user_name = "ops@example.com"
user_password = "env:SVG_E2E_PASSWORD"
account_no = "1"
ibxs = ["CH1", "SV4"]
[sync]
values_interval = "1s"
stale_after = "10s"
[status]
listen = "127.0.0.1:%d"
`, filepath.Join(dir, "state"), sandboxURL, secretFile, statusPort)), 0o600)
	gw := exec.Command(gatewayBin, "-config", gwCfg)
	gw.Env = append(os.Environ(), "SVG_E2E_PASSWORD="+password)
	gwLog := &svctest.Buffer{}
	gw.Stdout, gw.Stderr = gwLog, gwLog
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Process.Kill(); gw.Wait() })
	status := fmt.Sprintf("http://127.0.0.1:%d", statusPort)
	WaitFor(t, 60*time.Second, "live-mode gateway ready", func() bool {
		b, err := httpGetQuiet(status + "/readyz")
		return err == nil && strings.HasPrefix(b, "ready")
	})

	// Force re-authentication and retries: revoke every token until the
	// gateway was answered 401, then rate-limit a fifth of requests until
	// it was answered 429 and got through again. Each is asserted: a log
	// free of secrets proves nothing unless those paths ran.
	// answered counts the sandbox's API answers with an HTTP status.
	answered := func(status int) int64 {
		b, err := httpGetQuiet(sandboxURL + "/_sandbox/stats")
		if err != nil {
			t.Fatalf("sandbox stats: %v", err)
		}
		var st struct {
			Requests map[string]map[int]int64 `json:"requests"`
		}
		if err := json.Unmarshal([]byte(b), &st); err != nil {
			t.Fatalf("sandbox stats %q: %v", b, err)
		}
		var n int64
		for _, byStatus := range st.Requests {
			n += byStatus[status]
		}
		return n
	}
	unauthorized, limited := answered(http.StatusUnauthorized), answered(http.StatusTooManyRequests)
	postQuiet(sandboxURL+"/_sandbox/tokens/revoke", "")
	WaitFor(t, 30*time.Second, "a 401 for the revoked token", func() bool { return answered(http.StatusUnauthorized) > unauthorized })
	putQuiet(t, sandboxURL+"/_sandbox/faults", `{"rate_limit":0.2,"retry_after":"1s","unavailable":0.1}`)
	WaitFor(t, 30*time.Second, "a 429 from the rate limit", func() bool { return answered(http.StatusTooManyRequests) > limited })
	putQuiet(t, sandboxURL+"/_sandbox/faults", `{}`)
	ok := answered(http.StatusOK)
	WaitFor(t, 30*time.Second, "answers again after the faults", func() bool { return answered(http.StatusOK) > ok })

	logText := gwLog.String()
	if !strings.Contains(logText, "level=DEBUG") {
		t.Fatalf("no debug logging in:\n%s", logText)
	}
	for _, s := range []string{secret, password, "Bearer "} {
		if strings.Contains(logText, s) {
			t.Errorf("gateway log contains %q", s)
		}
	}
	m := modelFrom(t, status)
	if m.Tag("CH1.Gen-1:fuelhours") == nil || m.Health.LastSync == nil {
		t.Errorf("live mode did not fill the model: %+v", m.Health)
	}
}
