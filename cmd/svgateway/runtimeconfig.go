package main

// The [runtime] table: how the Go runtime manages the gateway's heap, so that
// a gateway on a small VM or in a container has a bounded footprint without
// tuning. Two knobs, with Go's own semantics:
//
//   - memory_limit is a soft limit on the memory the Go runtime uses
//     (debug.SetMemoryLimit, what GOMEMLIMIT sets). By default ("auto") it
//     is 90 % of the cgroup memory limit when the gateway runs under one (a
//     container's memory limit, systemd's MemoryMax=), as Prometheus's
//     auto-gomemlimit does; without a cgroup limit there is none.
//   - gc_percent is the heap growth allowed between collections
//     (debug.SetGCPercent, what GOGC sets). Go's default of 100 lets the
//     heap double before a collection. The gateway's live heap is mostly
//     long-lived (the model's structure and columns) and its RSS follows
//     the heap goal, so it uses 40 by default. The collector's CPU scales
//     with what a values cycle allocates, not with the live heap, so the
//     default follows the cycle's garbage: 50 when a cycle of the large
//     profile allocated ~280 MB (peak RSS through the links pass −19 to
//     −23 % against 100), 40 since it allocates ~200 MB (steady RSS −8 to
//     −15 MB, peak −24 MB against 50, for ~0.2 CPU-s more a cycle: still
//     ~0.3 less than 50 cost before; BENCHMARKS.md, issue 14).
//
// A structure change (the start, the links pass, a structure refresh) is
// the gateway's peak of memory: from the model's rebuild until the SNMP
// tree, the OPC UA nodes and the recorder have taken up the new structure,
// the old one and the new one are both alive, and the heap may grow by
// gc_percent over both. The collector runs at rebuildGCPercent from the
// rebuild's start until the change has settled, then the rebuild's garbage
// is returned to the operating system at once (debug.FreeOSMemory) instead
// of by the scavenger over minutes, and gc_percent is in force again.
//
// GOGC and GOMEMLIMIT in the environment win over the file when set. A
// memory limit below the live heap does not stop the gateway: the heap
// grows past it and Go caps the collector at half of the CPU, so the cost
// is CPU, not an out-of-memory kill; the watcher below logs a warning when
// that happens.

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
)

// RuntimeConfig is the [runtime] table.
type RuntimeConfig struct {
	// MemoryLimit is the soft memory limit: "auto" (default: 90 % of the
	// cgroup memory limit if there is one, else none), "off", or a size
	// ("512MiB", "1GB"; a bare number is refused, not taken as bytes).
	// GOMEMLIMIT in the environment wins.
	MemoryLimit string `toml:"memory_limit" size:"true"`
	// GCPercent is the heap growth between collections, in percent of the
	// live heap (default 40; 10 to 1000). GOGC in the environment wins.
	GCPercent int `toml:"gc_percent"`

	// Which keys the file left out (set by validate), so that the settings
	// say "default" rather than name a key the file does not have.
	limitDefault, gcDefault bool
}

// Runtime defaults and bounds.
const (
	defaultGCPercent   = 40
	autoLimitRatio     = 0.9      // of the cgroup memory limit, leaving room for what is not Go heap
	minMemoryLimit     = 64 << 20 // below this the limit would be mostly runtime overhead
	memoryLimitAuto    = "auto"
	memoryLimitOff     = "off"
	liveHeapCheckEvery = time.Minute
	releaseQuiet       = 5 * time.Second // after the last structure change before idle heap is returned
	// rebuildGCPercent is the GC percent from a structure rebuild's start
	// until its release: the heap grows by 20 % over both structures at
	// the peak instead of by gc_percent, for more collections during the
	// seconds of each structure change (xlarge's peak 1,503 -> 1,436 MB;
	// BENCHMARKS.md, issue 14, garbage14g). A gc_percent at or under it is
	// left alone.
	rebuildGCPercent = 20
	// rebuildBound is the longest the collector stays at rebuildGCPercent
	// without a structure change following (a structure refresh that found
	// nothing changed, a rebuild whose transaction was discarded); a
	// refresh of the large profile, with its links pass, takes ~10 s.
	rebuildBound = time.Minute
)

func (c *RuntimeConfig) validate() error {
	var errs []error
	switch c.MemoryLimit {
	case "":
		c.MemoryLimit, c.limitDefault = memoryLimitAuto, true
	case memoryLimitAuto, memoryLimitOff:
	default:
		n, err := history.ParseSize(c.MemoryLimit)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("runtime.memory_limit: %w, or \"auto\" or \"off\"", err))
		case n < minMemoryLimit:
			errs = append(errs, fmt.Errorf("runtime.memory_limit: %q is under 64MiB", c.MemoryLimit))
		}
	}
	switch {
	case c.GCPercent == 0:
		c.GCPercent, c.gcDefault = defaultGCPercent, true
	case c.GCPercent < 10 || c.GCPercent > 1000:
		errs = append(errs, fmt.Errorf("runtime.gc_percent: %d is not between 10 and 1000 (default %d)", c.GCPercent, defaultGCPercent))
	}
	return errors.Join(errs...)
}

// runtimeSettings are the heap settings in force and where each comes from.
type runtimeSettings struct {
	MemoryLimit int64 // bytes; math.MaxInt64: none
	// LimitFrom says where the limit comes from: the default ("auto"), the
	// key runtime.memory_limit, or the GOMEMLIMIT environment variable (then
	// LimitFromEnv), with what "auto" found.
	LimitFrom    string
	LimitFromEnv bool
	GCPercent    int // -1: off
	// GCFrom is "default", "runtime.gc_percent" or the GOGC environment
	// variable (then GCFromEnv).
	GCFrom    string
	GCFromEnv bool
}

func (s runtimeSettings) String() string {
	limit := "none"
	if s.MemoryLimit != math.MaxInt64 {
		limit = byteCount(s.MemoryLimit)
	}
	gc := strconv.Itoa(s.GCPercent)
	if s.GCPercent < 0 {
		gc = "off"
	}
	return fmt.Sprintf("memory limit %s (%s), GC percent %s (%s)", limit, s.LimitFrom, gc, s.GCFrom)
}

// byteCount writes n in MiB (to a tenth when not a whole number of them),
// or in bytes below 1 MiB.
func byteCount(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// resolve works out the settings from the table, the environment (getenv)
// and the cgroup limit (cgroup: bytes, 0 when none). The environment's
// values are read as the Go runtime reads them, so that check-config shows
// the values in force.
func (c RuntimeConfig) resolve(getenv func(string) string, cgroup int64) runtimeSettings {
	s := runtimeSettings{MemoryLimit: math.MaxInt64, GCPercent: c.GCPercent, GCFrom: "runtime.gc_percent"}
	if c.gcDefault {
		s.GCFrom = "default"
	}
	if v := getenv("GOGC"); v != "" {
		s.GCPercent, s.GCFromEnv = goGC(v), true
		s.GCFrom = "GOGC environment variable" + overrides("runtime.gc_percent", !c.gcDefault)
	}
	file := "runtime.memory_limit"
	if c.limitDefault {
		file = "default"
	}
	switch {
	case getenv("GOMEMLIMIT") != "":
		v := getenv("GOMEMLIMIT")
		s.LimitFromEnv = true
		s.LimitFrom = "GOMEMLIMIT environment variable" + overrides("runtime.memory_limit", !c.limitDefault)
		if n, ok := goMemLimit(v); ok {
			s.MemoryLimit = n
		} else {
			s.MemoryLimit = -1 // the runtime refuses to start with it; shown as read
			s.LimitFrom += fmt.Sprintf(": %q is not valid", v)
		}
	case c.MemoryLimit == memoryLimitOff:
		s.LimitFrom = file + ` "off"`
	case c.MemoryLimit == memoryLimitAuto || c.MemoryLimit == "":
		if cgroup > 0 {
			s.MemoryLimit = int64(float64(cgroup) * autoLimitRatio)
			s.LimitFrom = fmt.Sprintf("%s \"auto\": 90%% of the cgroup limit of %d MiB", file, cgroup>>20)
		} else {
			s.LimitFrom = file + ` "auto": no cgroup memory limit`
		}
	default:
		n, _ := history.ParseSize(c.MemoryLimit)
		s.MemoryLimit = n
		s.LimitFrom = fmt.Sprintf("runtime.memory_limit %q", c.MemoryLimit)
	}
	return s
}

// overrides notes the key an environment variable wins over, when the file
// sets it.
func overrides(key string, set bool) string {
	if !set {
		return ""
	}
	return ", over " + key
}

// goGC is GOGC's value as the Go runtime reads it: "off" is -1 (no
// collection), a number is the percent (negative: off), anything else the
// default of 100.
func goGC(v string) int {
	if v == "off" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 32)
	switch {
	case err != nil:
		return 100
	case n < 0:
		return -1
	}
	return int(n)
}

// goMemLimit is GOMEMLIMIT's value as the Go runtime reads it: "off" (no
// limit) or a byte count with an optional unit B, KiB, MiB, GiB or TiB (SI
// units are not Go's); ok is false for anything else (the runtime then
// refuses to start).
func goMemLimit(v string) (int64, bool) {
	if v == "off" {
		return math.MaxInt64, true
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = num, u.mult
			break
		}
	}
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// applyRuntime sets the heap settings of the process (what the environment
// has not set already) and returns them as in force.
func applyRuntime(c RuntimeConfig) runtimeSettings {
	s := c.resolve(os.Getenv, cgroupMemoryLimit())
	if !s.GCFromEnv {
		debug.SetGCPercent(s.GCPercent)
	} else {
		s.GCPercent = debug.SetGCPercent(-1)
		debug.SetGCPercent(s.GCPercent)
	}
	if !s.LimitFromEnv {
		debug.SetMemoryLimit(s.MemoryLimit)
	} else {
		s.MemoryLimit = debug.SetMemoryLimit(-1) // a negative input reads it
	}
	return s
}

// cgroupMemoryLimit is the memory limit of the cgroup the process is in
// (the smallest of it and its ancestors' under cgroup v2, where systemd's
// MemoryMax= of a slice applies too; memory.limit_in_bytes under v1), or 0
// when there is none or it cannot be read.
func cgroupMemoryLimit() int64 {
	return cgroupLimitFrom("/proc/self/cgroup", "/sys/fs/cgroup")
}

func cgroupLimitFrom(procCgroup, root string) int64 {
	f, err := os.Open(procCgroup)
	if err != nil {
		return 0
	}
	defer f.Close()
	var limit int64
	lower := func(n int64) {
		if n > 0 && n < 1<<62 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			for dir := filepath.Join(root, parts[2]); strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
				lower(readLimit(filepath.Join(dir, "memory.max")))
				if dir == root {
					break
				}
			}
		case hasController(parts[1], "memory"): // v1
			lower(readLimit(filepath.Join(root, "memory", parts[2], "memory.limit_in_bytes")))
			lower(readLimit(filepath.Join(root, "memory", "memory.limit_in_bytes")))
		}
	}
	return limit
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readLimit reads a cgroup limit file: a number of bytes, or "max" (0).
func readLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// heapWatcher returns idle heap to the operating system once a structure
// read or change has settled (the start, the links pass, each structure
// refresh and rebuild leave tens to hundreds of MB of garbage the scavenger
// would keep for minutes), collects more often from the read's or the
// rebuild's start until then (StructureWork), and
// warns when the live heap is above the memory limit (the collector then
// runs continuously, up to half of the CPU).
type heapWatcher struct {
	store    *model.Store // set before Run (the store takes StructureWork first)
	settings runtimeSettings
	log      *slog.Logger
	quiet    time.Duration // after the last structure change; default releaseQuiet
	every    time.Duration // live heap against the limit; default liveHeapCheckEvery
	bound    time.Duration // at rebuildGCPercent without a change; default rebuildBound

	mu         sync.Mutex
	tightened  bool          // the GC percent is rebuildGCPercent until release
	rebuilding chan struct{} // StructureWork to Run: arm the release (buffered, 1)
}

func newHeapWatcher(settings runtimeSettings, log *slog.Logger) *heapWatcher {
	return &heapWatcher{settings: settings, log: log, rebuilding: make(chan struct{}, 1)}
}

// StructureWork is the model's BeforeRebuild and the poller's
// BeforeStructureRead: the collector runs at rebuildGCPercent until the
// release (5 s after the last structure change, or rebuildBound after the
// first call when no change follows: a refresh that found the structure as
// it was). Called under the model's writers' lock, it returns at once.
func (w *heapWatcher) StructureWork() {
	if w.settings.GCPercent <= rebuildGCPercent { // the operator's own, lower, or off
		return
	}
	w.mu.Lock()
	if !w.tightened {
		w.tightened = true
		debug.SetGCPercent(rebuildGCPercent)
	}
	w.mu.Unlock()
	select {
	case w.rebuilding <- struct{}{}:
	default: // one already waits
	}
}

func (w *heapWatcher) Run(ctx context.Context) error {
	_, sub := w.store.Subscribe()
	deltas := make(chan bool)
	go func() {
		for {
			d, err := sub.Next(ctx)
			if err != nil {
				return
			}
			select {
			case deltas <- d.StructureChanged:
			case <-ctx.Done():
				return
			}
		}
	}()
	quiet, every, bound := cmp.Or(w.quiet, releaseQuiet), cmp.Or(w.every, liveHeapCheckEvery), cmp.Or(w.bound, rebuildBound)
	check := time.NewTicker(every)
	defer check.Stop()
	release := time.NewTimer(time.Hour)
	release.Stop()
	armed := false // release is due
	defer w.restoreGC()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.rebuilding:
			if !armed { // a change already seen arms the shorter wait
				release.Reset(bound)
				armed = true
			}
		case changed := <-deltas:
			if changed {
				release.Reset(quiet)
				armed = true
			}
		case <-release.C:
			armed = false
			w.release()
		case <-check.C:
			live := liveHeap()
			over := w.settings.MemoryLimit != math.MaxInt64 && live > uint64(w.settings.MemoryLimit)
			if over && !warned {
				w.log.Warn("the live heap is above the memory limit: the garbage collector runs continuously (at most half of the CPU); raise the limit (runtime.memory_limit, or GOMEMLIMIT when set)",
					"live_heap_mib", live>>20, "memory_limit_mib", w.settings.MemoryLimit>>20, "from", w.settings.LimitFrom)
			}
			warned = over
		}
	}
}

// release returns the idle heap to the operating system (a full
// collection, still at rebuildGCPercent if tightened, so that the heap goal
// after it is gc_percent over the live heap without the old structure;
// measured in BENCHMARKS.md, issue 14), and restores gc_percent.
func (w *heapWatcher) release() {
	started := time.Now()
	before := readMetric("/memory/classes/heap/released:bytes")
	debug.FreeOSMemory()
	w.restoreGC()
	// Signed: the scavenger may have released more before, and the heap grown since.
	w.log.Info("idle heap returned to the operating system", "released_mib", (int64(readMetric("/memory/classes/heap/released:bytes"))-int64(before))>>20,
		"live_heap_mib", liveHeap()>>20, "duration", time.Since(started).Round(time.Millisecond))
}

// restoreGC puts gc_percent back in force after StructureWork.
func (w *heapWatcher) restoreGC() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tightened {
		w.tightened = false
		debug.SetGCPercent(w.settings.GCPercent)
	}
}

func liveHeap() uint64 { return readMetric("/gc/heap/live:bytes") }

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
