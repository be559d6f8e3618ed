package main

import (
	"bytes"
	"errors"
	"github.com/svgateway/svgateway/smartview/feed"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg, err := loadConfig("default", svgateway.DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Sandbox.Enabled || cfg.Status.Listen != "127.0.0.1:9163" || cfg.Sync.ValuesInterval != 30*time.Second {
		t.Errorf("default config = %+v", cfg)
	}
	if !cfg.History.Enabled || cfg.History.Retention != 7*24*time.Hour || cfg.History.MaxBytes() != 1<<30 {
		t.Errorf("default [history] = %+v", cfg.History)
	}
	if b := cfg.History.Backfill; !b.Enabled || b.Resolution != "fine" || b.PointsPerCycle != 200 || b.Concurrency != 2 || b.Rate != 2 || b.Retries != 3 || b.CyclePause != 10*time.Second {
		t.Errorf("default [history.backfill] = %+v", b)
	}
	// The backfill is on unless turned off; retries = -1 never retries.
	for doc, want := range map[string]bool{"state_dir = \"x\"\n": true, "state_dir = \"x\"\n[history.backfill]\nenabled = false\nretries = -1\n": false} {
		cfg, err := loadConfig("gateway.toml", []byte(sandboxMode(doc)))
		if err != nil || cfg.History.Backfill.Enabled != want || !want && cfg.History.Backfill.Retries != 0 {
			t.Errorf("%q: backfill %+v, %v", doc, cfg.History.Backfill, err)
		}
	}
	// Without a [history] table, history is on with its defaults; enabled = false turns it off.
	for doc, want := range map[string]bool{"state_dir = \"x\"\n": true, "state_dir = \"x\"\n[history]\nenabled = false\n": false} {
		cfg, err := loadConfig("gateway.toml", []byte(sandboxMode(doc)))
		if err != nil || cfg.History.Enabled != want || cfg.History.Retention != 7*24*time.Hour {
			t.Errorf("%q: history %+v, %v", doc, cfg.History, err)
		}
	}
	// The shipped file and the embedded copy are the same file.
	onDisk, err := os.ReadFile("../../gateway.toml")
	if err != nil || !bytes.Equal(onDisk, svgateway.DefaultConfig) {
		t.Errorf("gateway.toml differs from the embedded default (%v)", err)
	}
}

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	live := `state_dir = "/tmp/x"
[sandbox]
enabled = false
[smartview]
client_id = "id"
client_secret = "secret"
account_no = "1"
ibxs = ["CH1"]
`
	tests := []struct {
		name, toml string
		want       []string // substrings of the error
	}{
		{"unknown key", "state_dir = \"x\"\n[sync]\nvalues_intervall = \"1m\"\n", []string{"gateway.toml:3:", "sync.values_intervall: unknown key"}},
		{"unknown table", "state_dir = \"x\"\n\n[snmpp]\nlisten = \"x\"\n", []string{"gateway.toml:3:", "snmpp: unknown key", "gateway.toml:4:", "snmpp.listen: unknown key"}},
		{"syntax error", "state_dir = \"x\"\n[sync\n", []string{"gateway.toml:", "to end table name"}},
		{"wrong type", "state_dir = \"x\"\n[sync]\nconcurrency = \"four\"\n", []string{"gateway.toml:3:"}},
		{"bad duration", "state_dir = \"x\"\n[sync]\nvalues_interval = \"often\"\n", []string{"gateway.toml:3:", "often"}},
		{"invalid value", "state_dir = \"x\"\n[sync]\nconcurrency = 0\nvalues_interval = \"10ms\"\n", []string{"gateway.toml:4:", "sync.values_interval"}},
		{"bad level", "state_dir = \"x\"\n[sync]\npower_levels = [\n  \"IBX\",\n  \"ROOM\",\n]\n", []string{"gateway.toml:3:", "sync.power_levels[1]", `"ROOM"`}},
		{"default-filled key: table line", "state_dir = \"x\"\n[sandbox]\nprofile = \"huge\"\n", []string{"gateway.toml:3:", "sandbox.profile"}},
		{"missing state_dir", "[sync]\n", []string{"state_dir: must be set"}},
		{"live without IBXs", strings.Replace(live, `ibxs = ["CH1"]`, "", 1), []string{"smartview.ibxs"}},
		{"bad grant", strings.Replace(live, `[smartview]`, "[smartview]\ngrant_type = \"implicit\"", 1), []string{"gateway.toml:5:", "smartview.grant_type"}},
		{"status listen", "state_dir = \"x\"\n[status]\nlisten = \"9163\"\n", []string{"gateway.toml:3:", "status.listen"}},
		{"log level", "state_dir = \"x\"\nlog_level = \"loud\"\n", []string{"gateway.toml:2:", "log_level"}},
		{"v2 feed on the documented catalog", strings.Replace(live, `[smartview]`, "[feed]\nprovider = \"subscription_data\"\n[smartview]\ncatalog = \"documented\"", 1), []string{"feed.provider", "documented"}},
		{"bad catalog", strings.Replace(live, `[smartview]`, "[smartview]\ncatalog = \"2023\"", 1), []string{"gateway.toml:5:", "smartview.catalog", `"2023"`}},
		{"bad sandbox catalog", "state_dir = \"x\"\n[sandbox]\nenabled = true\ncatalog = \"v2\"\n", []string{"gateway.toml:4:", "sandbox.catalog"}},
		{"bad path", strings.Replace(live, `[smartview]`, "[smartview.paths]\nalerts = \"alerts\"\n[smartview]", 1), []string{"gateway.toml:5:", "smartview.paths.alerts"}},
		{"cluster lease", "state_dir = \"x\"\n[cluster]\netcd_endpoints = [\"http://127.0.0.1:2379\"]\nlease_ttl = \"1s\"\n", []string{"gateway.toml:4:", "cluster.lease_ttl"}},
		{"cluster endpoint", "state_dir = \"x\"\n[cluster]\netcd_endpoints = [\"127.0.0.1:2379\"]\n", []string{"gateway.toml:3:", "cluster.etcd_endpoints[0]"}},
		{"history size", "state_dir = \"x\"\n[history]\nretention = \"72h\"\nmax_size = \"lots\"\n", []string{"gateway.toml:4:", "history.max_size", `"lots"`}},
		{"history size unit", "state_dir = \"x\"\n[history]\nmax_size = \"500\"\n", []string{"gateway.toml:3:", "history.max_size", "no unit"}},
		{"history retention", "state_dir = \"x\"\n[history]\nretention = \"10m\"\n", []string{"gateway.toml:3:", "history.retention"}},
		{"history bare retention", "state_dir = \"x\"\n[history]\nretention = 168\n", []string{"gateway.toml:3:", "history.retention", "bare number"}},
		{"backfill resolution", "state_dir = \"x\"\n[history.backfill]\nenabled = true\nresolution = \"5s\"\n", []string{"gateway.toml:4:", "history.backfill.resolution", `"5s"`}},
		{"backfill rate", "state_dir = \"x\"\n[history.backfill]\nrate = -1\n", []string{"gateway.toml:3:", "history.backfill.rate"}},
		{"backfill concurrency", "state_dir = \"x\"\n[history.backfill]\nconcurrency = 64\n", []string{"gateway.toml:3:", "history.backfill.concurrency"}},
		{"backfill points", "state_dir = \"x\"\n[history.backfill]\npoints_per_cycle = -5\n", []string{"gateway.toml:3:", "history.backfill.points_per_cycle"}},
		{"backfill retries", "state_dir = \"x\"\n[history.backfill]\nretries = -2\n", []string{"gateway.toml:3:", "history.backfill.retries"}},
		{"backfill bare pause", "state_dir = \"x\"\n[history.backfill]\ncycle_pause = 10\n", []string{"gateway.toml:3:", "history.backfill.cycle_pause", "bare number"}},
		{"runtime memory limit", "state_dir = \"x\"\n[runtime]\nmemory_limit = \"lots\"\n", []string{"gateway.toml:3:", "runtime.memory_limit", `"lots"`}},
		{"runtime memory limit unit", "state_dir = \"x\"\n[runtime]\nmemory_limit = \"400\"\n", []string{"gateway.toml:3:", "runtime.memory_limit", "no unit"}},
		{"runtime memory limit small", "state_dir = \"x\"\n[runtime]\nmemory_limit = \"16MiB\"\n", []string{"gateway.toml:3:", "runtime.memory_limit", "under 64MiB"}},
		{"runtime gc percent", "state_dir = \"x\"\n[runtime]\ngc_percent = 5\n", []string{"gateway.toml:3:", "runtime.gc_percent", "between 10 and 1000"}},
		{"runtime gc percent type", "state_dir = \"x\"\n[runtime]\ngc_percent = \"off\"\n", []string{"gateway.toml:3:"}},
		{"runtime unknown key", "state_dir = \"x\"\n[runtime]\ngogc = 50\n", []string{"gateway.toml:3:", "runtime.gogc: unknown key"}},
		{"backfill unknown key", "state_dir = \"x\"\n[history.backfill]\nintervall = \"1h\"\n", []string{"gateway.toml:3:", "history.backfill.intervall: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig("gateway.toml", []byte(sandboxMode(tt.toml)))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %T is not a *ConfigError", err)
			}
		})
	}
}

// sandboxMode appends [sandbox] enabled = true to a document that has no
// [sandbox] table, so it validates without live credentials. (Appended, so
// line numbers in the document stay as written.)
func sandboxMode(doc string) string {
	if strings.Contains(doc, "[sandbox]") || !strings.HasPrefix(doc, "state_dir") {
		return doc
	}
	return doc + "\n[sandbox]\nenabled = true\n"
}

func TestSecretsFromEnvAndFiles(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SVG_TEST_PASSWORD", "from-the-env")
	base := `state_dir = "x"
[sandbox]
enabled = false
[smartview]
grant_type = "password"
client_id = "id"
user_name = "u"
account_no = "1"
ibxs = ["CH1"]
`
	cfg, err := loadConfig("gateway.toml", []byte(base+"client_secret = \"file:"+secretFile+"\"\nuser_password = \"env:SVG_TEST_PASSWORD\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SmartView.ClientSecret != "from-a-file" || cfg.SmartView.UserPassword != "from-the-env" {
		t.Errorf("secrets not resolved")
	}
	_, err = loadConfig("gateway.toml", []byte(base+"client_secret = \"env:SVG_TEST_UNSET\"\nuser_password = \"p\"\n"))
	if err == nil || !strings.Contains(err.Error(), "gateway.toml:10: smartview.client_secret: environment variable SVG_TEST_UNSET is not set") {
		t.Errorf("unset env: %v", err)
	}
	_, err = loadConfig("gateway.toml", []byte(base+"client_secret = \"file:"+filepath.Join(dir, "nope")+"\"\nuser_password = \"p\"\n"))
	if err == nil || !strings.Contains(err.Error(), "smartview.client_secret: reading the secret file") {
		t.Errorf("missing file: %v", err)
	}
	// A literal secret is used as written, and never echoed in an error.
	_, err = loadConfig("gateway.toml", []byte(base+"client_secret = \"hunter2\"\nuser_password = \"p\"\npassword_encoding = \"rot13\"\n"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v (must exist and not contain the secret)", err)
	}
	// With the sandbox enabled, [smartview]'s secrets are not needed.
	if _, err := loadConfig("gateway.toml", []byte("state_dir = \"x\"\n[sandbox]\nenabled = true\n[smartview]\nclient_secret = \"env:SVG_TEST_UNSET\"\n")); err != nil {
		t.Errorf("sandbox mode: %v", err)
	}
}

func TestCheckConfigCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	// The shipped file, on ports that are free whatever else runs on this machine.
	doc := strings.NewReplacer(`"127.0.0.1:9163"`, `"127.0.0.1:0"`, `"127.0.0.1:1161"`, `"127.0.0.1:0"`,
		`"opc.tcp://127.0.0.1:4840"`, `"opc.tcp://127.0.0.1:0"`, `state_dir = "state"`, `state_dir = "`+filepath.Join(dir, "state")+`"`).
		Replace(string(svgateway.DefaultConfig))
	os.WriteFile(good, []byte(doc), 0o600)
	os.WriteFile(bad, []byte("state_dir = \"x\"\n[sync]\nvalue_interval = \"1m\"\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := runMain([]string{"-config", good, "check-config"}, strings.NewReader(""), &out, &errOut); code != 0 || !strings.Contains(out.String(), "ok") || !strings.Contains(out.String(), "mode: sandbox") ||
		!strings.Contains(out.String(), "api catalog: auto (the sandbox serves both)") ||
		!strings.Contains(out.String(), "history backfill: on, from trending (resolution fine; 200 series per cycle, 10s between cycles, 2 in flight, 2 calls/s, 3 retries)") {
		t.Errorf("good config: code %d, out %q, err %q", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := runMain([]string{"check-config", "-config", bad}, strings.NewReader(""), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), bad+":3: sync.value_interval: unknown key") {
		t.Errorf("bad config: code %d, err %q", code, errOut.String())
	}
	if code := runMain([]string{"frobnicate"}, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Errorf("unknown command: code %d", code)
	}
	out.Reset()
	if code := runMain([]string{"version"}, strings.NewReader(""), &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "svgateway ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

func TestHashPasswordCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runMain([]string{"hash-password"}, strings.NewReader("correct horse\n"), &out, &errOut); code != 0 {
		t.Fatalf("code %d: %s", code, errOut.String())
	}
	hash := strings.TrimSpace(out.String())
	if !strings.HasPrefix(hash, "$2") || strings.Contains(hash, "correct horse") {
		t.Errorf("hash %q", hash)
	}
	// The hash is accepted by the configuration.
	doc := "state_dir = \"x\"\n[sandbox]\nenabled = true\n[opcua]\n[[opcua.users]]\nname = \"op\"\npassword_hash = \"" + hash + "\"\n"
	if _, err := loadConfig("gateway.toml", []byte(doc)); err != nil {
		t.Errorf("config with the hash: %v", err)
	}
	out.Reset()
	if code := runMain([]string{"hash-password"}, strings.NewReader(""), &out, &errOut); code != 1 {
		t.Errorf("empty password: code %d", code)
	}
}

func TestNoneRefusedInLiveMode(t *testing.T) {
	doc := `state_dir = "x"
[sandbox]
enabled = false
[smartview]
client_id = "id"
client_secret = "s"
account_no = "1"
ibxs = ["CH1"]
[opcua]
security = ["None"]
allow_anonymous = true
`
	_, err := loadConfig("gateway.toml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "gateway.toml:10: opcua.security") {
		t.Errorf("err = %v, want opcua.security located", err)
	}
}

// TestEnterpriseRootCommands: check-config warns while a live gateway
// serving SNMP uses the documentation PEN, not once enterprise_oid is set
// (nor in sandbox mode); `mib` prints the MIB rooted at enterprise_oid; a
// bad enterprise_oid is a located error.
func TestEnterpriseRootCommands(t *testing.T) {
	dir := t.TempDir()
	live := `state_dir = "` + dir + `"
[sandbox]
enabled = false
[smartview]
client_id = "x"
client_secret = "y"
account_no = "1"
ibxs = ["CH1"]
[status]
listen = "127.0.0.1:0"
[snmp]
listen = "127.0.0.1:0"
`
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name, config string
		warn         bool
	}{
		{"live, documentation PEN", live, true},
		{"live, own PEN", live + "enterprise_oid = \"1.3.6.1.4.1.12345.7\"\n", false},
		{"sandbox", strings.Replace(live, "enabled = false", "enabled = true", 1), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := runMain([]string{"check-config", "-config", write("c.toml", c.config)}, strings.NewReader(""), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if got := strings.Contains(errOut.String(), "warning: snmp.enterprise_oid: 1.3.6.1.4.1.32473"); got != c.warn {
				t.Errorf("warning %v, want %v: %q", got, c.warn, errOut.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := runMain([]string{"mib", "-config", write("own.toml", live+"enterprise_oid = \"1.3.6.1.4.1.12345.7\"\n")}, strings.NewReader(""), &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "\n    ::= { enterprises 12345 7 }\n") || !strings.HasPrefix(out.String(), "SVGATEWAY-MIB DEFINITIONS ::= BEGIN") {
		t.Errorf("mib: exit %d, %q…", code, out.String()[:min(200, out.Len())])
	}
	out.Reset()
	bad := write("bad.toml", live+"enterprise_oid = \"1.3.6.1.2.1\"\n")
	if code := runMain([]string{"check-config", "-config", bad}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), bad+":13: snmp.enterprise_oid:") {
		t.Errorf("bad enterprise_oid: exit %d: %s", code, errOut.String())
	}
	// A malformed v1 trap target and community: located errors.
	errOut.Reset()
	bad = write("badv1.toml", live+"\n[[snmp.communities]]\nname = \"c\"\nversions = [\"v1\", \"v3\"]\n"+
		"\n[[snmp.targets]]\naddress = \"127.0.0.1:162\"\nversion = \"v1\"\nkind = \"inform\"\ncommunity = \"c\"\nagent_address = \"::1\"\n")
	if code := runMain([]string{"check-config", "-config", bad}, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), bad+":16: snmp.communities[0].versions:") ||
		!strings.Contains(errOut.String(), bad+":21: snmp.targets[0].kind:") || !strings.Contains(errOut.String(), bad+":23: snmp.targets[0].agent_address:") {
		t.Errorf("bad v1 configuration: exit %d: %s", code, errOut.String())
	}
}

// The [opcua] keys of the protocol server live in an embedded struct
// (uaserver.Config): its secrets are still named by their place in the file.
func TestOPCUAPasswordSecretNamesItsKey(t *testing.T) {
	t.Setenv("SVGATEWAY_TEST_OPCUA_PASSWORD", "")
	doc := "state_dir = \"x\"\n[sandbox]\nenabled = true\n[opcua]\n[[opcua.users]]\nname = \"op\"\npassword = \"env:SVGATEWAY_TEST_OPCUA_PASSWORD\"\n"
	_, err := loadConfig("gateway.toml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "opcua.users[0].password:") {
		t.Errorf("err = %v, want one naming opcua.users[0].password", err)
	}
	t.Setenv("SVGATEWAY_TEST_OPCUA_PASSWORD", "s3cret")
	cfg, err := loadConfig("gateway.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.OPCUA.Users[0].Password; got != "s3cret" {
		t.Errorf("password resolved to %q", got)
	}
}

// A 2024-catalog account's feed is its v2 stream, read over REST unless the
// configuration names another provider.
func TestFeedDefaultFollowsCatalog(t *testing.T) {
	base := "state_dir = \"/tmp/x\"\n[sandbox]\nenabled = false\n[smartview]\nclient_id = \"id\"\nclient_secret = \"secret\"\naccount_no = \"1\"\nibxs = [\"CH1\"]\n"
	for catalog, want := range map[string]string{"2024": feed.ProviderSubscriptionData, "auto": feed.ProviderNone, "documented": feed.ProviderNone} {
		cfg, err := loadConfig("gateway.toml", []byte(base+"catalog = \""+catalog+"\"\n"))
		if err != nil {
			t.Fatalf("catalog %s: %v", catalog, err)
		}
		if cfg.Feed.Provider != want {
			t.Errorf("catalog %s: feed.provider = %q, want %q", catalog, cfg.Feed.Provider, want)
		}
	}
}

// TestCommunitySourcesRequiredInLiveMode: a live gateway's community must
// name the networks it answers (a community travels in clear, a UDP source
// can be forged); check-config and start (loadConfig) refuse one without
// sources, located. The sandbox, and an agent not listening, need none.
func TestCommunitySourcesRequiredInLiveMode(t *testing.T) {
	live := "state_dir = \"x\"\n[sandbox]\nenabled = false\n[smartview]\nclient_id = \"id\"\nclient_secret = \"s\"\naccount_no = \"1\"\nibxs = [\"CH1\"]\n"
	tests := []struct {
		name, toml string
		want       string // "" for no error about sources
	}{
		{"live, no sources", live + "[snmp]\n[[snmp.communities]]\nname = \"public\"\n[[snmp.communities]]\nname = \"ops\"\nsources = [\"10.0.0.0/24\"]\n",
			"gateway.toml:10: snmp.communities[0].sources: required in live mode"},
		{"live, sources", live + "[snmp]\n[[snmp.communities]]\nname = \"public\"\nsources = [\"10.0.0.0/24\"]\n", ""},
		{"live, agent off", live + "[snmp]\nlisten = \"off\"\n[[snmp.communities]]\nname = \"public\"\n", ""},
		{"sandbox, no sources", "state_dir = \"x\"\n[sandbox]\nenabled = true\n[snmp]\n[[snmp.communities]]\nname = \"public\"\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, load := range map[string]func(string, []byte) (*Config, error){"loadConfig": loadConfig, "checkConfig": checkConfig} {
				_, err := load("gateway.toml", []byte(tt.toml))
				got := err != nil && strings.Contains(err.Error(), "sources")
				if tt.want == "" && got || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
					t.Errorf("%s: %v, want %q", name, err, tt.want)
				}
			}
		})
	}
}
