package main

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

func TestRuntimeSettings(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name      string
		doc       string // the [runtime] table's body
		getenv    func(string) string
		cgroup    int64
		limit     int64
		limitFrom string
		gc        int
		gcFrom    string
	}{
		{"defaults, no cgroup", "", env(), 0, math.MaxInt64, "auto: none", defaultGCPercent, "runtime.gc_percent"},
		{"defaults in a 1GiB cgroup", "", env(), 1 << 30, 966367641, "auto: 90% of the cgroup limit of 1024 MiB", defaultGCPercent, "runtime.gc_percent"},
		{"explicit size wins over the cgroup", "memory_limit = \"400MiB\"\ngc_percent = 80\n", env(), 1 << 30, 400 << 20, "runtime.memory_limit", 80, "runtime.gc_percent"},
		{"off", "memory_limit = \"off\"\n", env(), 1 << 30, math.MaxInt64, "none: runtime.memory_limit is off", defaultGCPercent, "runtime.gc_percent"},
		{"environment wins", "memory_limit = \"400MiB\"\ngc_percent = 80\n", env("GOGC", "200", "GOMEMLIMIT", "1GiB"), 0, -1, "GOMEMLIMIT", 200, "GOGC"},
		{"GOGC=off", "", env("GOGC", "off"), 0, math.MaxInt64, "auto: none", -1, "GOGC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig("gateway.toml", []byte(sandboxMode("state_dir = \"x\"\n[runtime]\n"+tt.doc)))
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.Runtime.resolve(tt.getenv, tt.cgroup)
			if s.MemoryLimit != tt.limit || !strings.HasPrefix(s.LimitFrom, tt.limitFrom) || s.GCPercent != tt.gc || s.GCFrom != tt.gcFrom {
				t.Errorf("settings %+v, want limit %d (%s), GC %d (%s)", s, tt.limit, tt.limitFrom, tt.gc, tt.gcFrom)
			}
			if s.String() == "" {
				t.Error("no description")
			}
		})
	}
}

// TestCgroupMemoryLimit reads the limit from cgroup v2 and v1 layouts the
// way the kernel presents them (a fixture tree standing in for /sys/fs/cgroup).
func TestCgroupMemoryLimit(t *testing.T) {
	tests := []struct {
		name  string
		proc  string
		files map[string]string
		want  int64
	}{
		{"v2 limited", "0::/system.slice/svgateway.service\n", map[string]string{
			"system.slice/svgateway.service/memory.max": "536870912\n", "system.slice/memory.max": "max\n"}, 512 << 20},
		{"v2 the slice's limit is lower", "0::/system.slice/svgateway.service\n", map[string]string{
			"system.slice/svgateway.service/memory.max": "max\n", "system.slice/memory.max": "268435456\n"}, 256 << 20},
		{"v2 unlimited", "0::/user.slice\n", map[string]string{"user.slice/memory.max": "max\n"}, 0},
		{"v2 in a container namespace", "0::/\n", map[string]string{"memory.max": "1073741824\n"}, 1 << 30},
		{"v1 limited", "12:cpu,cpuacct:/docker/abc\n11:memory:/docker/abc\n", map[string]string{
			"memory/docker/abc/memory.limit_in_bytes": "805306368\n"}, 768 << 20},
		{"v1 unlimited", "11:memory:/\n", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"no cgroup file", "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "cgroup")
			for name, body := range tt.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			proc := filepath.Join(dir, "proc-self-cgroup")
			if tt.proc != "" {
				if err := os.WriteFile(proc, []byte(tt.proc), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := cgroupLimitFrom(proc, root); got != tt.want {
				t.Errorf("limit %d, want %d", got, tt.want)
			}
		})
	}
}

// TestHeapWatcher: a structure change is followed, once quiet, by the idle
// heap being returned to the operating system; a live heap above the
// memory limit is warned about once, naming the key.
func TestHeapWatcher(t *testing.T) {
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	shape := modeltest.Shape{IBXs: 1, Cages: 2, Cabinets: 2, Circuits: 2, Assets: 2, Tags: 2}
	store, err := modeltest.NewStore(shape, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var buf svctest.Buffer
	w := &heapWatcher{store: store, log: slog.New(slog.NewTextHandler(&buf, nil)), quiet: 10 * time.Millisecond, every: 10 * time.Millisecond,
		settings: runtimeSettings{MemoryLimit: 1, LimitFrom: "runtime.memory_limit"}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// Let the watcher subscribe, then change the structure.
	waitFor(t, &buf, "the live heap is above the memory limit")
	shape.Assets = 3
	if _, err := store.Update(func(tx *model.Tx) error { tx.SetStructure(modeltest.Footprints(shape)); return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &buf, "idle heap returned to the operating system")
	if n := strings.Count(buf.String(), "the live heap is above the memory limit"); n != 1 {
		t.Errorf("warned %d times, want once while it stays above:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "runtime.memory_limit") {
		t.Errorf("the warning does not name the key:\n%s", buf.String())
	}
}

func waitFor(t *testing.T, buf *svctest.Buffer, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(buf.String(), what) {
			return
		}
	}
	t.Fatalf("no %q in the log:\n%s", what, buf.String())
}
