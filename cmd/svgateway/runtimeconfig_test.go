package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
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
	const gib = int64(1) << 30
	tests := []struct {
		name      string
		doc       string // the [runtime] table's body
		getenv    func(string) string
		cgroup    int64
		limit     int64
		limitFrom string
		gc        int
		gcFrom    string
		says      string // what check-config prints after "runtime: "
	}{
		{"defaults, no cgroup", "", env(), 0, math.MaxInt64, `default "auto": no cgroup memory limit`, defaultGCPercent, "default",
			`memory limit none (default "auto": no cgroup memory limit), GC percent 40 (default)`},
		{"defaults in a 1GiB cgroup", "", env(), gib, 966367641, `default "auto": 90% of the cgroup limit of 1024 MiB`, defaultGCPercent, "default",
			`memory limit 921.6 MiB (default "auto": 90% of the cgroup limit of 1024 MiB), GC percent 40 (default)`},
		{"auto written out", "memory_limit = \"auto\"\n", env(), gib, 966367641, `runtime.memory_limit "auto": 90% of the cgroup limit of 1024 MiB`, defaultGCPercent, "default", ""},
		{"explicit size wins over the cgroup", "memory_limit = \"400MiB\"\ngc_percent = 80\n", env(), gib, 400 << 20, `runtime.memory_limit "400MiB"`, 80, "runtime.gc_percent",
			`memory limit 400 MiB (runtime.memory_limit "400MiB"), GC percent 80 (runtime.gc_percent)`},
		{"the default written out is the key's", "gc_percent = 40\n", env(), 0, math.MaxInt64, `default "auto"`, 40, "runtime.gc_percent", ""},
		{"off", "memory_limit = \"off\"\n", env(), gib, math.MaxInt64, `runtime.memory_limit "off"`, defaultGCPercent, "default",
			`memory limit none (runtime.memory_limit "off"), GC percent 40 (default)`},
		{"environment wins", "memory_limit = \"400MiB\"\ngc_percent = 80\n", env("GOGC", "200", "GOMEMLIMIT", "1GiB"), 0, gib,
			"GOMEMLIMIT environment variable, over runtime.memory_limit", 200, "GOGC environment variable, over runtime.gc_percent",
			"memory limit 1024 MiB (GOMEMLIMIT environment variable, over runtime.memory_limit), GC percent 200 (GOGC environment variable, over runtime.gc_percent)"},
		{"environment over defaults", "", env("GOGC", "75", "GOMEMLIMIT", "536870912"), gib, 512 << 20, "GOMEMLIMIT environment variable", 75, "GOGC environment variable",
			"memory limit 512 MiB (GOMEMLIMIT environment variable), GC percent 75 (GOGC environment variable)"},
		{"GOMEMLIMIT in bytes with B", "", env("GOMEMLIMIT", "1000000B"), 0, 1000000, "GOMEMLIMIT environment variable", defaultGCPercent, "default",
			"memory limit 1000000 bytes (GOMEMLIMIT"},
		{"GOMEMLIMIT=off", "memory_limit = \"400MiB\"\n", env("GOMEMLIMIT", "off"), 0, math.MaxInt64, "GOMEMLIMIT environment variable, over runtime.memory_limit", defaultGCPercent, "default",
			"memory limit none (GOMEMLIMIT environment variable, over runtime.memory_limit)"},
		{"GOGC=off", "", env("GOGC", "off"), 0, math.MaxInt64, `default "auto"`, -1, "GOGC environment variable", "GC percent off (GOGC environment variable)"},
		{"GOGC not a number is Go's 100", "", env("GOGC", "lots"), 0, math.MaxInt64, `default "auto"`, 100, "GOGC environment variable", "GC percent 100 (GOGC"},
		{"GOMEMLIMIT in SI units is not Go's", "", env("GOMEMLIMIT", "1GB"), 0, -1, `GOMEMLIMIT environment variable: "1GB" is not valid`, defaultGCPercent, "default", ""},
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
			if !strings.Contains(s.String(), tt.says) || s.String() == "" {
				t.Errorf("described as %q, want it to contain %q", s.String(), tt.says)
			}
		})
	}
}

// TestCheckConfigPrintsRuntimeInForce: check-config's runtime line says the
// values the environment sets, and labels a default as one.
func TestCheckConfigPrintsRuntimeInForce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway.toml")
	if err := os.WriteFile(path, []byte(sandboxMode("state_dir = \""+filepath.Join(dir, "state")+"\"\n[status]\nlisten = \"off\"\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	runtimeLine := func() string {
		var out, errOut bytes.Buffer
		if code := runMain([]string{"-config", path, "check-config"}, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("check-config: status %d\n%s%s", code, out.String(), errOut.String())
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if r, ok := strings.CutPrefix(l, "runtime: "); ok {
				return r
			}
		}
		t.Fatalf("no runtime line in\n%s", out.String())
		return ""
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if got := runtimeLine(); !strings.Contains(got, "GC percent 40 (default)") || strings.Contains(got, "runtime.gc_percent") {
		t.Errorf("defaults: %q", got)
	}
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "768MiB")
	if got := runtimeLine(); !strings.Contains(got, "memory limit 768 MiB (GOMEMLIMIT environment variable)") ||
		!strings.Contains(got, "GC percent 150 (GOGC environment variable)") {
		t.Errorf("with GOGC and GOMEMLIMIT: %q", got)
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
	t.Cleanup(func() { store.Close() })
	var buf svctest.Buffer
	w := newHeapWatcher(runtimeSettings{MemoryLimit: 1, LimitFrom: "runtime.memory_limit"}, slog.New(slog.NewTextHandler(&buf, nil)))
	w.store, w.quiet, w.every = store, 10*time.Millisecond, 10*time.Millisecond
	runWatcher(t, w)
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

// TestHeapWatcherCollectsMoreOftenThroughARebuild: from a structure
// rebuild's start until its release the collector runs at rebuildGCPercent,
// then at the configured percent again; a rebuild whose transaction is
// discarded is released after the bound; an operator's percent at or under
// rebuildGCPercent is left alone.
func TestHeapWatcherCollectsMoreOftenThroughARebuild(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tt := range []struct {
		name                 string
		configured, duringGC int
		discard              bool
	}{
		{"structure change", 40, rebuildGCPercent, false},
		{"transaction discarded", 40, rebuildGCPercent, true},
		{"operator's lower percent", 10, 10, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(tt.configured)
			var buf svctest.Buffer
			w := newHeapWatcher(runtimeSettings{MemoryLimit: 1, LimitFrom: "runtime.memory_limit", GCPercent: tt.configured},
				slog.New(slog.NewTextHandler(&buf, nil)))
			w.quiet, w.every, w.bound = 10*time.Millisecond, 10*time.Millisecond, time.Hour
			if tt.discard {
				w.bound = 50 * time.Millisecond // no change follows: only the bound releases
			}
			during := -1
			store, err := model.NewStore(model.Options{BeforeRebuild: func() { w.StructureWork(); during = int(readMetric("/gc/gogc:percent")) }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			w.store = store
			runWatcher(t, w)
			waitFor(t, &buf, "the live heap is above the memory limit") // subscribed
			shape := modeltest.Shape{IBXs: 1, Cages: 2, Cabinets: 2, Circuits: 2, Assets: 2, Tags: 2}
			discarded := errors.New("discarded")
			_, err = store.Update(func(tx *model.Tx) error {
				tx.SetStructure(modeltest.Footprints(shape))
				if tt.discard {
					return discarded
				}
				return nil
			})
			if !errors.Is(err, discarded) && err != nil {
				t.Fatal(err)
			}
			if during != tt.duringGC {
				t.Errorf("GC percent during the rebuild %d, want %d", during, tt.duringGC)
			}
			waitFor(t, &buf, "idle heap returned to the operating system")
			if got := int(readMetric("/gc/gogc:percent")); got != tt.configured {
				t.Errorf("GC percent after the release %d, want the configured %d", got, tt.configured)
			}
		})
	}
}

// runWatcher runs w until the test ends (before its store is closed).
func runWatcher(t *testing.T, w *heapWatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
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
