package backfill

// What a fill holds while it runs, on the large footprint.

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// BenchmarkJobsLarge lists the jobs of a fill at start on the sandbox's large profile with an
// empty history (every series has a gap, the same one): the live heap of the list, which a fill
// holds until its last series is filled (hours at the shipped rate), is the heap after a GC with
// it less the heap after a GC without it. Reports its bytes in all and per job. Run with
// -benchtime=1x.
func BenchmarkJobsLarge(b *testing.B) { benchJobs(b, false) }

// BenchmarkJobsLargeRecorded is BenchmarkJobsLarge with a history that holds one sample of its
// own value per series two hours before the cutoff: every series has a gap of its own (the
// value before it differs), the case where the jobs share nothing.
func BenchmarkJobsLargeRecorded(b *testing.B) { benchJobs(b, true) }

func benchJobs(b *testing.B, recorded bool) {
	now := time.Now()
	ms, err := modeltest.NewStore(modeltest.Large, now, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, now) })
	if err != nil {
		b.Fatal(err)
	}
	defer ms.Close()
	hs, err := history.Open(history.Options{Path: filepath.Join(b.TempDir(), history.FileName), Retention: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer hs.Close()
	snap := ms.Snapshot()
	if recorded {
		st, n := snap.Structure(), 0
		samples := map[string][]history.Sample{}
		add := func(key string) {
			n++
			samples[key] = []history.Sample{{Time: now.Add(-2 * time.Hour), Value: model.Number(float64(n)), Quality: model.QualityGood}}
		}
		for _, l := range st.Locations() {
			add(history.LocationKey(l.ID, "KVA"))
			add(history.LocationKey(l.ID, "Temperature"))
			add(history.LocationKey(l.ID, "Humidity"))
		}
		for _, tg := range st.Tags() {
			add(history.TagKey(tg.ID))
		}
		if err := hs.Append(samples); err != nil {
			b.Fatal(err)
		}
	}
	bf := &Backfiller{Store: hs, Model: ms, Config: history.BackfillConfig{Resolution: history.ResolutionFine}}
	var held, n float64
	for range b.N {
		jobs, gt, _, err := bf.jobs(context.Background(), now.Add(-time.Minute), time.Time{}, now)
		if err != nil {
			b.Fatal(err)
		}
		n = float64(len(jobs))
		with := liveHeap()
		runtime.KeepAlive(jobs)
		runtime.KeepAlive(gt)
		jobs, gt = nil, nil
		held = float64(with - liveHeap())
	}
	b.ReportMetric(held/1e6, "jobs-MB")
	b.ReportMetric(held/n, "bytes/job")
	b.ReportMetric(n, "jobs")
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
