package poll

import (
	"bufio"
	"context"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// BenchmarkSyncLarge measures one full sync of the large sandbox profile
// (~20 IBXs, 2,000 cages, 20,000 cabinets, 80,000 circuits, 10,000 assets,
// ~100,000 tags) over loopback HTTP: the first cycle (structure, readings,
// alarms: what /readyz waits for), a values cycle, and the links pass (one
// affected-assets call per asset). It reports API calls and the live heap
// after the links (and after a second links pass reading the same links),
// the most goroutines the values cycle and the links pass ran at once and
// the process's peak RSS (sandbox included). Run: go test -run x -bench SyncLarge -benchtime 1x ./smartview/poll
func BenchmarkSyncLarge(b *testing.B) {
	cfg := sandbox.Config{Profile: "large"}
	if testing.Short() {
		// test/run.sh runs every benchmark once with -short so none rots:
		// the small profile exercises the same code in a second.
		cfg.Profile = "small"
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	sb, err := sandbox.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	id, secret, _, _ := sb.Credentials()
	c := smartview.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, AccountNo: sb.AccountNo(), RateLimit: -1}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	client, err := smartview.New(c, smartview.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		store, _ := model.NewStore(model.Options{})
		pc := Config{}
		pc.Validate()
		p, err := New(pc, client, store, sb.IBXs(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var first, values, links Result
		firstPeak := peakGoroutines(func() { first = p.Cycle(ctx, true) })
		t1 := time.Now()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuTime()
		valuesPeak := peakGoroutines(func() { values = p.Cycle(ctx, false) })
		t2 := time.Now()
		// What the values cycle cost, the sandbox's serving included (the
		// same in any before/after pair): CPU and bytes allocated.
		cpu1 := cpuTime()
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		b.ReportMetric((cpu1 - cpu0).Seconds(), "values-cpu-s")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/1e6, "values-alloc-MB")
		b.ReportMetric(float64(ms1.NumGC-ms0.NumGC), "values-GCs")
		linksPeak := peakGoroutines(func() { links = p.RefreshLinks(ctx) })
		b.ReportMetric(float64(firstPeak), "first-cycle-goroutines-max")
		b.ReportMetric(float64(valuesPeak), "values-goroutines-max")
		b.ReportMetric(float64(linksPeak), "links-goroutines-max")
		t3 := time.Now()
		b.ReportMetric(t1.Sub(t0).Seconds(), "first-cycle-s")
		b.ReportMetric(t2.Sub(t1).Seconds(), "values-cycle-s")
		b.ReportMetric(t3.Sub(t2).Seconds(), "links-s")
		if first.Failed+values.Failed+links.Failed > 0 {
			b.Fatalf("failed calls: %+v %+v %+v", first, values, links)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(first.Calls), "first-cycle-calls")
		b.ReportMetric(float64(values.Calls), "values-cycle-calls")
		b.ReportMetric(float64(links.Calls), "links-calls")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
		if *heapProfile != "" {
			writeHeapProfile(b, *heapProfile)
		}
		if hwm, ok := vmHWM(); ok {
			b.ReportMetric(float64(hwm)/(1<<20), "VmHWM-MiB")
		}
		// A second links pass reads the same links (a running gateway's
		// next one, a structure_interval later): what it leaves held.
		if again := p.RefreshLinks(ctx); again.Failed > 0 {
			b.Fatalf("second links pass: %+v", again)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-2nd-links-MiB")
		runtime.KeepAlive(store)
		runtime.KeepAlive(p) // what the poller keeps counts too
	}
}

// peakGoroutines runs fn and returns the most goroutines that ran at once
// meanwhile (sampled every 5 ms).
func peakGoroutines(fn func()) int {
	done, peak := make(chan struct{}), make(chan int)
	go func() {
		most := 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			most = max(most, runtime.NumGoroutine())
			select {
			case <-done:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	return <-peak
}

// heapProfile names a file for BenchmarkSyncLarge's heap profile once the
// links are applied (the store still alive, after a GC): go test's own
// -memprofile is written after the benchmark, when the store is gone.
var heapProfile = flag.String("heapprofile", "", "write BenchmarkSyncLarge's heap profile after the links pass to this file")

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the process's user+system CPU time: what a loaded machine
// does not distort as it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM returns the peak resident set size of this process (Linux), in bytes.
func vmHWM() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
