package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBareNumbers: a number where a duration or a size is expected is an
// error naming the key and showing the format, never nanoseconds or bytes.
func TestBareNumbers(t *testing.T) {
	live := "state_dir = \"x\"\n[sandbox]\nenabled = false\n[smartview]\nclient_id = \"id\"\nclient_secret = \"s\"\naccount_no = \"1\"\nibxs = [\"CH1\"]\n"
	tests := []struct {
		name, toml string
		want       []string
		notWant    []string
	}{
		{name: "timeout and retry budget, both reported",
			toml: live + "timeout = 30\nretry_budget = 60\n",
			want: []string{"gateway.toml:9: smartview.timeout: 30 is a bare number", `"30s"`, "gateway.toml:10: smartview.retry_budget: 60 is a bare number", `"60s"`},
			// no second error about the same keys, and no nanoseconds
			notWant: []string{"ns"}},
		{name: "sync table", toml: "state_dir = \"x\"\n[sync]\nvalues_interval = 30\n",
			want: []string{"gateway.toml:3: sync.values_interval: 30 is a bare number", `"30s"`}, notWant: []string{"30ns"}},
		{name: "float", toml: "state_dir = \"x\"\n[sync]\nstale_after = 1.5\n",
			want: []string{"gateway.toml:3: sync.stale_after: 1.5 is a bare number"}},
		{name: "nested table", toml: "state_dir = \"x\"\n[sandbox.faults]\nlatency = 50\n",
			want: []string{"gateway.toml:3: sandbox.faults.latency: 50 is a bare number", `"50s"`}},
		{name: "a key of an embedded table ([opcua] holds uaserver.Config's keys)", toml: "state_dir = \"x\"\n[opcua]\nhello_timeout = 30\n",
			want: []string{"gateway.toml:3: opcua.hello_timeout: 30 is a bare number", `"30s"`}},
		{name: "memory limit", toml: "state_dir = \"x\"\n[runtime]\nmemory_limit = 512\n",
			want:    []string{"gateway.toml:3: runtime.memory_limit: 512 is a bare number, not a size", `"512MiB"`, "KiB"},
			notWant: []string{"incompatible types", "int64"}},
		{name: "history size cap", toml: "state_dir = \"x\"\n[history]\nmax_size = 1024\n",
			want: []string{"gateway.toml:3: history.max_size: 1024 is a bare number, not a size", `"1024MiB"`}, notWant: []string{"incompatible types"}},
		{name: "a float size", toml: "state_dir = \"x\"\n[history]\nmax_size = 1.5\n",
			want: []string{"gateway.toml:3: history.max_size: 1.5 is a bare number, not a size", `"1.5MiB"`}},
		{name: "sizes and durations together, each located",
			toml: "state_dir = \"x\"\n[runtime]\nmemory_limit = 512\n[history]\nretention = 168\nmax_size = 64\n",
			want: []string{"gateway.toml:3: runtime.memory_limit", "gateway.toml:5: history.retention", "gateway.toml:6: history.max_size"}},
		{name: "a bare size does not hide the file's other errors",
			toml: "state_dir = \"x\"\n[runtime]\ngc_percent = 5\n[history]\nmax_size = 1024\n[sync]\nvalues_interval = \"10ms\"\n",
			want: []string{"gateway.toml:5: history.max_size: 1024 is a bare number", "gateway.toml:3: runtime.gc_percent: 5 is not between", "gateway.toml:7: sync.values_interval"}},
		{name: "a size string and a number where a number belongs are fine",
			toml:    "state_dir = \"x\"\n[runtime]\nmemory_limit = \"512MiB\"\ngc_percent = 80\n[history]\nmax_size = \"64MiB\"\n[sync]\nvalues_interval = 30\n",
			want:    []string{"sync.values_interval"},
			notWant: []string{"memory_limit", "max_size", "gc_percent"}},
		{name: "a number where a number belongs is fine, a duration string too",
			toml: "state_dir = \"x\"\n[sync]\nconcurrency = 3\nvalues_interval = 30\nstale_after = \"2m\"\n",
			want: []string{"sync.values_interval"}, notWant: []string{"sync.concurrency", "sync.stale_after"}},
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
			for _, w := range tt.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
		})
	}
}

// TestEveryErrorAtOnce: errors in several tables are all reported, each with
// its key and line.
func TestEveryErrorAtOnce(t *testing.T) {
	doc := "state_dir = \"x\"\nlog_level = \"loud\"\n[sync]\nconcurrency = 0\nvalues_interval = \"10ms\"\n[status]\nlisten = \"9163\"\n[snmp]\nlisten = \"nowhere\"\n[sandbox]\nenabled = true\nprofile = \"huge\"\n"
	_, err := loadConfig("gateway.toml", []byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"gateway.toml:2: log_level", "gateway.toml:5: sync.values_interval", "gateway.toml:7: status.listen",
		"gateway.toml:9: snmp.listen", "gateway.toml:12: sandbox.profile"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	for i, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "gateway.toml:") || errorKey(errors.New(strings.SplitN(line, ": ", 2)[1])) == "" {
			t.Errorf("error line %d %q is not located", i, line)
		}
	}
}

// TestCheckConfigChecksTheMachine: check-config binds the listen addresses
// and writes to state_dir, and reports every problem with its key.
func TestCheckConfigChecksTheMachine(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyUDP.Close()
	notADir := filepath.Join(dir, "file")
	os.WriteFile(notADir, nil, 0o600)
	base := func(stateDir, status, snmp string) string {
		return "state_dir = \"" + stateDir + "\"\n[sandbox]\nenabled = true\n[status]\nlisten = \"" + status + "\"\n" +
			"[snmp]\nlisten = \"" + snmp + "\"\n[[snmp.communities]]\nname = \"public\"\nsources = [\"127.0.0.1/32\"]\n"
	}
	tests := []struct {
		name, toml string
		want       []string // substrings of stderr; none: ok
	}{
		{"all fine", base(filepath.Join(dir, "new", "state"), "127.0.0.1:0", "127.0.0.1:0"), nil},
		{"busy status listener", base(dir, busy.Addr().String(), "127.0.0.1:0"),
			[]string{":5: status.listen: cannot listen on " + busy.Addr().String()}},
		{"busy snmp port and unwritable state_dir, together", base(filepath.Join(notADir, "state"), "127.0.0.1:0", busyUDP.LocalAddr().String()),
			[]string{":7: snmp.listen: cannot listen on " + busyUDP.LocalAddr().String() + " (udp)", ":1: state_dir: ", "not a directory"}},
		{"etcd not answering", base(dir, "127.0.0.1:0", "127.0.0.1:0") + "[cluster]\netcd_endpoints = [\"http://" + busy.Addr().String() + "\"]\nnode = \"a\"\ndial_timeout = \"300ms\"\n",
			[]string{"cluster.etcd_endpoints[0]: etcd at http://" + busy.Addr().String()}},
		{"non-local address", base(dir, "192.0.2.1:9163", "127.0.0.1:0"), []string{"status.listen: cannot listen on 192.0.2.1:9163"}},
		{"file errors and machine errors at once", base(dir, busy.Addr().String(), "127.0.0.1:0") + "[sync]\ntimeout_typo = 1\nvalues_interval = 30\n",
			[]string{"status.listen: cannot listen", "sync.timeout_typo: unknown key", "sync.values_interval: 30 is a bare number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "gateway.toml")
			os.WriteFile(path, []byte(tt.toml), 0o600)
			var out, errOut bytes.Buffer
			code := runMain([]string{"-config", path, "check-config"}, strings.NewReader(""), &out, &errOut)
			if tt.want == nil {
				if code != 0 {
					t.Fatalf("code %d: %s", code, errOut.String())
				}
				return
			}
			if code != 1 {
				t.Errorf("code %d, want 1", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q does not contain %q", errOut.String(), w)
				}
			}
		})
	}
}
