//go:build linux

package history

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// minorFaults is the process's minor page faults so far.
func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}

// BenchmarkRefault: what mapping the history file's pages again costs after
// a drop. An iteration walks every entry of a ~20 MB store (Stats), with its
// pages mapped (resident) or after dropping them (dropped: the drop and the
// minor faults of the walk). The difference per MB is what the drops cost
// per MB the store touches again.
func BenchmarkRefault(b *testing.B) {
	defer func(d time.Duration) { pageDropInterval = d }(pageDropInterval)
	pageDropInterval = 0
	c := &clock{t0.Add(30 * 24 * time.Hour)}
	s, err := Open(Options{Path: filepath.Join(b.TempDir(), FileName), Retention: 60 * 24 * time.Hour, Now: c.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	pagesHistory(b, s, 200, 2000, t0)
	st, _ := s.Stats()
	mb := float64(st.FileBytes) / 1e6
	for _, drop := range []bool{false, true} {
		b.Run(fmt.Sprint("dropped=", drop), func(b *testing.B) {
			f0, cpu0 := minorFaults(), cpuTime()
			for b.Loop() {
				if drop {
					if err := s.dropPages(); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.Stats(); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N)
			b.ReportMetric(mb, "file-MB")
			b.ReportMetric(float64(minorFaults()-f0)/n, "minor-faults/op")
			b.ReportMetric((cpuTime()-cpu0).Seconds()/n*1e3/mb, "cpu-ms/MB")
		})
	}
}

// BenchmarkAppendSteadyDrops: BenchmarkAppendSteady (2 KiB pages) with the
// store's periodic drops off, at their default interval, and at 10 ms (a
// drop after nearly every write transaction): the CPU they and their
// refaults add to a values cycle's writing, and the RssFile left.
func BenchmarkAppendSteadyDrops(b *testing.B) {
	defer func(d time.Duration) { pageDropInterval = d }(pageDropInterval)
	for _, d := range []time.Duration{0, time.Second, 250 * time.Millisecond, 10 * time.Millisecond} {
		b.Run(fmt.Sprint("every=", d), func(b *testing.B) {
			pageDropInterval = d
			f0 := minorFaults()
			appendSteady(b, 2048, maxPending)
			b.ReportMetric(float64(minorFaults()-f0)/float64(b.N), "minor-faults/cycle(incl.warm-up)")
		})
	}
}

// BenchmarkAppendSteadyBatch: BenchmarkAppendSteady (2 KiB pages) written
// in write transactions of the recorder's batch (maxPending samples), half
// and a quarter of it: what a transaction allocates (B/op over tx/cycle:
// bbolt holds its nodes, their copies of the keys and values, and the
// batch's encoding until the commit, the recorder's part of the heap's
// peak) against CPU and pages written per cycle.
func BenchmarkAppendSteadyBatch(b *testing.B) {
	for _, n := range []int{maxPending, maxPending / 2, maxPending / 4} {
		b.Run(fmt.Sprint("batch=", n), func(b *testing.B) {
			appendSteady(b, 2048, n)
			b.ReportMetric(float64((84000+n-1)/n), "tx/cycle")
		})
	}
}
