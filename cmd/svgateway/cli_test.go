package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway"
)

// TestHelpListsCommandsAndFlags: -h, --help and help print, on stdout with
// status 0, every subcommand and flag.
func TestHelpListsCommandsAndFlags(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"check-config", "-h"}} {
		var out, errOut bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Errorf("%v: status %d, stderr %q", args, code, errOut.String())
		}
		for _, c := range commands {
			if !strings.Contains(out.String(), "  "+c.name+" ") {
				t.Errorf("%v: command %s missing from\n%s", args, c.name, out.String())
			}
		}
		for _, f := range []string{"-config FILE", "-sandbox", "-version", "-h, -help", "SIGHUP"} {
			if !strings.Contains(out.String(), f) {
				t.Errorf("%v: %q missing from\n%s", args, f, out.String())
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := runMain([]string{"-nonsense"}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-nonsense") {
		t.Errorf("unknown flag: status %d, stderr %q", code, errOut.String())
	}
}

func TestVersionFlag(t *testing.T) {
	defer func(v, d string) { version, buildDate = v, d }(version, buildDate)
	version, buildDate = "1.2.3", "2026-12-01T10:00:00Z"
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}, {"run", "--version"}} {
		var out, errOut bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &out, &errOut); code != 0 ||
			!strings.HasPrefix(out.String(), "svgateway 1.2.3 (built 2026-12-01T10:00:00Z, go") {
			t.Errorf("%v: status %d, stdout %q", args, code, out.String())
		}
	}
}

// TestRunRefusesEmbeddedSandboxWithoutTerminal: run with no -config and no
// ./gateway.toml, not from a terminal (as under systemd), does not start
// the built-in sandbox; check-config still describes it; -sandbox with
// -config is a usage error.
func TestRunRefusesEmbeddedSandboxWithoutTerminal(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	if code := runMain(nil, strings.NewReader(""), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "Refusing to run the built-in sandbox configuration") ||
		!strings.Contains(errOut.String(), "svgateway run -sandbox") {
		t.Errorf("run: status %d, stderr %q", code, errOut.String())
	}
	if _, err := os.Stat("state"); err == nil {
		t.Error("the refused run created a state directory")
	}
	out.Reset()
	errOut.Reset()
	switch code := runMain([]string{"check-config"}, strings.NewReader(""), &out, &errOut); {
	case code == 0 && strings.Contains(out.String(), "built-in default"):
	case code == 1 && strings.Contains(errOut.String(), "(built-in default):") && strings.Contains(errOut.String(), "address already in use"):
		// A gateway running on this machine holds the default ports, and
		// check-config says so, naming the built-in default.
	default:
		t.Errorf("check-config: status %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	errOut.Reset()
	if code := runMain([]string{"run", "-sandbox", "-config", "x.toml"}, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-sandbox") {
		t.Errorf("-sandbox -config: status %d, stderr %q", code, errOut.String())
	}
	// ./gateway.toml is taken when present.
	os.WriteFile("gateway.toml", []byte("state_dir = \"s\"\n[sandbox]\nenabled = true\n"), 0o600)
	src, err := findConfig(options{}, true)
	if err != nil || src.path != "gateway.toml" {
		t.Errorf("with ./gateway.toml: %+v %v", src, err)
	}
	if src, err := findConfig(options{sandbox: true}, true); err != nil || src.path != "" {
		t.Errorf("-sandbox: %+v %v, want the embedded configuration", src, err)
	}
}

// TestJSONLogDurationsInSeconds: a JSON log line gives a duration as
// seconds (a number), not integer nanoseconds; the text format is unchanged.
func TestJSONLogDurationsInSeconds(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&Config{LogLevel: "info", LogFormat: "json"}, new(slog.LevelVar), &buf)
	log.Info("x", "retry_in", 1500*time.Millisecond, slog.Group("g", "took", 2*time.Second))
	var line struct {
		RetryIn any            `json:"retry_in"`
		G       map[string]any `json:"g"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line.RetryIn != 1.5 || line.G["took"] != 2.0 {
		t.Errorf("durations %v, %v in %s; want 1.5 and 2 (seconds)", line.RetryIn, line.G["took"], buf.String())
	}
	buf.Reset()
	newLogger(&Config{LogLevel: "info", LogFormat: "text"}, new(slog.LevelVar), &buf).Info("x", "retry_in", 1500*time.Millisecond)
	if !strings.Contains(buf.String(), "retry_in=1.5s") {
		t.Errorf("text: %s", buf.String())
	}
}

// TestReloadKeys: what a reload applies and what it reports as needing a
// restart, for each kind of change (never a value: they may be secrets).
func TestReloadKeys(t *testing.T) {
	base := string(svgateway.DefaultConfig)
	load := func(doc string) *Config {
		t.Helper()
		cfg, err := loadConfig("gateway.toml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	old := load(base)
	for _, tc := range []struct {
		name             string
		from, to         string
		applied, restart []string
	}{
		{"nothing", "", "", nil, nil},
		{"log level", `log_level = "info"`, `log_level = "debug"`, []string{"log_level"}, nil},
		{"community", `name = "public"`, `name = "rotated-secret"`, []string{"snmp.communities"}, nil},
		{"opcua anonymous", `allow_anonymous = true`, `allow_anonymous = false
[[opcua.users]]
name = "op"
password_hash = "$2a$10$CwTycUXWue0Thq9StjUM0uJ8ZxPp6h2Gx4u6oH5sT5B3cLrBrCW1e"`, []string{"opcua.users", "opcua.allow_anonymous"}, nil},
		{"listeners", `listen = "127.0.0.1:9163"`, `listen = "127.0.0.1:9164"`, nil, []string{"status.listen"}},
		{"state and sync", `state_dir = "state"`, `state_dir = "/var/lib/svgateway"`, nil, []string{"state_dir"}},
		{"sandbox profile", `profile = "small"`, `profile = "large"`, nil, []string{"sandbox.profile"}},
		{"snmp listen", `listen = "127.0.0.1:1161"`, `listen = "127.0.0.1:1162"`, nil, []string{"snmp.listen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, tc.from, tc.to, 1)
			if tc.from != "" && doc == base {
				t.Fatalf("%q not in the shipped configuration", tc.from)
			}
			next := load(doc)
			restart := restartRequired(old, next)
			applied := changedKeys(old, next, reloadable)
			slices.Sort(applied)
			slices.Sort(tc.applied)
			if !slices.Equal(restart, tc.restart) || !slices.Equal(applied, tc.applied) {
				t.Errorf("restart %v applied %v; want restart %v applied %v", restart, applied, tc.restart, tc.applied)
			}
			if strings.Contains(strings.Join(append(restart, applied...), " "), "rotated-secret") {
				t.Error("a value in the keys")
			}
		})
	}
}

// TestHelpMatchesREADME: every subcommand and flag of README.md's
// "Commands" block is in the help, and every command of the help is in the
// block.
func TestHelpMatchesREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(readme), "## Commands\n\n```\n")
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("no Commands block in README.md")
	}
	var out bytes.Buffer
	usage(&out)
	help := out.String()
	var inREADME []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, "  ") // "svgateway [-config FILE] [-sandbox] [run]"
		for _, w := range strings.Fields(strings.NewReplacer("[", " ", "]", " ", "|", " ").Replace(cmd)) {
			if w == "svgateway" || w == "FILE" || w == "<" {
				continue
			}
			inREADME = append(inREADME, strings.TrimLeft(w, "-"))
			if !strings.Contains(help, w) {
				t.Errorf("README lists %q (%q); the help does not", w, line)
			}
		}
	}
	for _, c := range commands {
		if !slices.Contains(inREADME, c.name) {
			t.Errorf("command %s is not in README.md's Commands block", c.name)
		}
	}
}
