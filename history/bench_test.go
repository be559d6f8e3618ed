package history

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// BenchmarkRecordLarge records the sandbox's large profile (100,000 tags,
// 80,000 circuits, ...) through the Recorder: each iteration is one sync
// cycle in which every reading changes, from the model's commit until the
// samples are on disk. Reports samples/s, and the file's bytes per sample.
func BenchmarkRecordLarge(b *testing.B) {
	start := time.Now().Add(-time.Hour)
	ms, err := modeltest.NewStore(modeltest.Large, start, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, start) })
	if err != nil {
		b.Fatal(err)
	}
	defer ms.Close()
	path := filepath.Join(b.TempDir(), FileName)
	hs, err := Open(Options{Path: path, MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{Store: hs, Model: ms, FlushInterval: 50 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	probe := TagKey(ms.Snapshot().Structure().Tag(0).ID)
	wait := func(n int) {
		for i := 0; ; i++ {
			got, _, _ := hs.Read(probe, Query{From: start, To: start.Add(24 * time.Hour)})
			if len(got) >= n {
				return
			}
			if i > 60000 {
				b.Fatalf("recorder stuck at %d samples of the probe", len(got))
			}
			time.Sleep(time.Millisecond)
		}
	}
	wait(1)
	before, _ := hs.Stats()
	fi0, _ := os.Stat(path)
	tx0 := hs.db.Stats().TxStats
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		at := start.Add(time.Duration(i) * 30 * time.Second)
		if _, err := ms.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, i, at) }); err != nil {
			b.Fatal(err)
		}
		// Wait until the last series of the cycle is written: the probe is
		// the first tag, so wait for the flush that follows it too.
		wait(i + 1)
		for {
			if r := pendingOf(hs, ms, at); r {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	// What the log holds is merged within the timed cycles: per cycle is
	// then the cycles' log writes and one merge of all of them (a merge
	// every b.N cycles; the recorder merges every few minutes, log.go).
	_, _, logBytes, _, _ := hs.wlog.summary()
	if err := hs.Merge(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	tx := hs.db.Stats().TxStats
	cancel()
	<-done
	b.ReportMetric(float64(logBytes)/n0(b)/1e6, "log-MB-unmerged-at-end/cycle")
	after, _ := hs.Stats()
	added := after.Samples - before.Samples
	n := float64(b.N)
	b.ReportMetric(float64(added)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(added)/n, "samples/cycle")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s/cycle")
	// What a cycle costs the file: the pages its write transactions wrote
	// (bbolt's own count: a touched page is rewritten whole), and how much
	// the file grew.
	b.ReportMetric(float64(tx.GetWrite()-tx0.GetWrite())/n, "pages-written/cycle")
	b.ReportMetric(float64(tx.GetPageAlloc()-tx0.GetPageAlloc())/n/1e6, "MB-written/cycle")
	fi, _ := os.Stat(path)
	b.ReportMetric(float64(fi.Size()-fi0.Size())/n/1e6, "MB-file-growth/cycle")
	b.ReportMetric(float64(fi.Size())/float64(after.Samples), "file-bytes/sample")
	b.ReportMetric(float64(after.UsedBytes)/float64(after.Samples), "used-bytes/sample")
	b.ReportMetric(float64(after.UsedBytes-before.UsedBytes)/float64(added), "used-bytes/added-sample")
}

func n0(b *testing.B) float64 { return float64(b.N) }

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecorderStateLarge: the live heap the recorder holds to skip
// repeated samples (its last sample per series) once it has recorded every
// value of the large profile, as at start: the heap after a GC with that
// state, less the heap after a GC without it. Reports its bytes in all and
// per series recorded. Run with -benchtime=1x (each iteration records the
// whole footprint into the store).
func BenchmarkRecorderStateLarge(b *testing.B) {
	start := time.Now().Add(-time.Hour)
	ms, err := modeltest.NewStore(modeltest.Large, start, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, start) })
	if err != nil {
		b.Fatal(err)
	}
	defer ms.Close()
	hs, err := Open(Options{Path: filepath.Join(b.TempDir(), FileName), MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer hs.Close()
	var held, series float64
	for range b.N {
		r := &Recorder{Store: hs, Model: ms, log: slog.New(slog.DiscardHandler)}
		r.begin()
		r.recordAll(ms.Snapshot())
		r.flush(r.log)
		before, _ := hs.Stats()
		with := liveHeap()
		series = float64(before.Samples) // every series' first sample: one each
		dropLastSamples(r)
		held = float64(with - liveHeap())
		runtime.KeepAlive(r)
	}
	b.ReportMetric(held/1e6, "state-MB")
	b.ReportMetric(held/series, "state-bytes/series")
	b.ReportMetric(series, "series")
}

// BenchmarkRecorderCompareLarge: the recorder's own CPU to decide a values cycle of the large
// profile in which every reading is newer and repeats its value (every one is compared, none is
// written, so the store costs nothing): per iteration, one cycle of about 1.4 million readings.
func BenchmarkRecorderCompareLarge(b *testing.B) {
	start := time.Now().Add(-time.Hour)
	at := func(i int) time.Time { return start.Add(time.Duration(i) * 30 * time.Second) }
	ms, err := modeltest.NewStore(modeltest.Large, start, func(tx *model.Tx) error { return modeltest.FillUniform(tx, at(0), 1) })
	if err != nil {
		b.Fatal(err)
	}
	defer ms.Close()
	hs, err := Open(Options{Path: filepath.Join(b.TempDir(), FileName), MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer hs.Close()
	r := &Recorder{Store: hs, Model: ms, log: slog.New(slog.DiscardHandler)}
	r.begin()
	r.recordAll(ms.Snapshot())
	r.flush(r.log)
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		b.StopTimer()
		if _, err := ms.Update(func(tx *model.Tx) error { return modeltest.FillUniform(tx, at(i), 1) }); err != nil {
			b.Fatal(err)
		}
		snap := ms.Snapshot()
		b.StartTimer()
		r.recordAll(snap)
		if r.npend != 0 {
			b.Fatalf("%d readings recorded, want none", r.npend)
		}
	}
}

// dropLastSamples forgets what the recorder keeps of the last samples.
func dropLastSamples(r *Recorder) {
	r.st, r.powAt, r.envAt, r.tags, r.healthLast = nil, nil, nil, nil, nil
	r.powSlots, r.envSlots = slotBlocks{}, slotBlocks{}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// pendingOf reports whether the last tag's and the last location's readings
// of time at are on disk (the recorder writes a cycle in several batches).
func pendingOf(hs *Store, ms *model.Store, at time.Time) bool {
	st := ms.Snapshot().Structure()
	last := TagKey(st.Tag(len(st.Tags()) - 1).ID)
	got, _, _ := hs.Read(last, Query{From: at, To: at})
	if len(got) == 0 {
		return false
	}
	locs := st.Locations()
	got, _, _ = hs.Read(LocationKey(locs[len(locs)-1].ID, "Temperature"), Query{From: at, To: at})
	return len(got) > 0
}

// BenchmarkStoreBytesPerSample: a week of one reading every 30 s for 200
// series (the shipped values_interval), appended as the recorder does
// (a batch per cycle). Reports the file's and the data's bytes per sample.
func BenchmarkStoreBytesPerSample(b *testing.B) {
	for range b.N {
		path := filepath.Join(b.TempDir(), FileName)
		now := time.Now()
		hs, err := Open(Options{Path: path, Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		const series, cycles = 200, 7 * 24 * 120
		t0 := now.Add(-7 * 24 * time.Hour)
		batch := map[string][]Sample{}
		for c := range cycles {
			at := t0.Add(time.Duration(c) * 30 * time.Second)
			for s := range series {
				k := fmt.Sprint("t/IB01.UPS-", s/10, ":tag", s%10)
				batch[k] = append(batch[k], Sample{Time: at, Value: model.Number(float64((c+s)%1000) / 10), Quality: model.QualityGood})
			}
			if c%120 == 119 { // one write per hour of readings keeps the benchmark short; the layout is the same
				if err := hs.Append(batch); err != nil {
					b.Fatal(err)
				}
				clear(batch)
			}
		}
		st, _ := hs.Stats()
		fi, _ := os.Stat(path)
		b.ReportMetric(float64(fi.Size())/float64(st.Samples), "file-bytes/sample")
		b.ReportMetric(float64(st.UsedBytes)/float64(st.Samples), "used-bytes/sample")
		hs.Close()
	}
}

// BenchmarkReadDay reads one day of one series (2,880 samples at 30 s)
// from a store holding a week of readings: a tag (a bucket of its own) and
// one of the 12 power fields of a circuit (stored interleaved with the
// other 11). p50 and p99 of Store.Read.
func BenchmarkReadDay(b *testing.B) {
	path := filepath.Join(b.TempDir(), FileName)
	now := time.Now()
	hs, err := Open(Options{Path: path, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer hs.Close()
	t0 := now.Add(-7 * 24 * time.Hour)
	week := func(offset int) []Sample {
		samples := make([]Sample, 7*24*120)
		for c := range samples {
			samples[c] = Sample{Time: t0.Add(time.Duration(c) * 30 * time.Second), Value: model.Number(float64(c + offset)), Quality: model.QualityGood}
		}
		return samples
	}
	for s := range 20 {
		if err := hs.Append(map[string][]Sample{fmt.Sprint("t/tag", s): week(s)}); err != nil {
			b.Fatal(err)
		}
	}
	// Locations as the recorder writes them: every field of a cycle
	// together, in time order (here an hour of cycles per write).
	for l := range 8 {
		w := week(l)
		for h := 0; h < len(w); h += 120 {
			batch := map[string][]Sample{}
			for _, f := range PowerFields {
				batch[LocationKey(model.LocationID{IBX: "IB01", Level: model.LevelCircuit, Name: fmt.Sprint(l)}, f.Name)] = w[h : h+120]
			}
			if err := hs.Append(batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	// As in a running gateway: the week merged into the rows, the last
	// minutes' cycles (10, every series) in the log, read through.
	if err := hs.Merge(context.Background()); err != nil {
		b.Fatal(err)
	}
	for c := range 10 {
		at := now.Add(time.Duration(c) * 30 * time.Second)
		batch := map[string][]Sample{}
		for s := range 20 {
			batch[fmt.Sprint("t/tag", s)] = []Sample{{Time: at, Value: model.Number(1), Quality: model.QualityGood}}
		}
		for l := range 8 {
			for _, f := range PowerFields {
				batch[LocationKey(model.LocationID{IBX: "IB01", Level: model.LevelCircuit, Name: fmt.Sprint(l)}, f.Name)] = []Sample{{Time: at, Value: model.Number(1), Quality: model.QualityGood}}
			}
		}
		if err := hs.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	from := now.Add(-48 * time.Hour)
	for _, key := range []string{"t/tag17", LocationKey(model.LocationID{IBX: "IB01", Level: model.LevelCircuit, Name: "7"}, "KW")} {
		name := "tag"
		if key[0] == 'l' {
			name = "location-field"
		}
		b.Run(name, func(b *testing.B) {
			durs := make([]time.Duration, 0, b.N)
			for range b.N {
				st := time.Now()
				got, _, err := hs.Read(key, Query{From: from, To: from.Add(24*time.Hour - time.Nanosecond)})
				durs = append(durs, time.Since(st))
				if err != nil || len(got) != 2880 {
					b.Fatalf("%d samples, %v", len(got), err)
				}
			}
			slices.Sort(durs)
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkAppendSteady: the store's write of a values cycle once every
// entity has history (its bucket is past bbolt's inline size, as after the
// first minutes of a run), which BenchmarkRecordLarge's fresh store does not
// reach in a few cycles. A tenth of the large profile: 10,000 locations
// (every power field at the first cycle, then the 7 that change, and an
// environment reading at every 5th) and 10,000 tags, 40 cycles of history
// written before the timer; an iteration appends one cycle in batches of the
// recorder's size (maxPending), series in the recorder's order. Reports CPU,
// pages and bytes written, file growth and bytes per sample added.
func BenchmarkAppendSteady(b *testing.B) {
	for _, ps := range benchPageSizes {
		b.Run(fmt.Sprint("page=", ps), func(b *testing.B) { appendSteady(b, ps, maxPending) })
	}
}

// appendSteady runs BenchmarkAppendSteady's cycles in batches of batch samples.
func appendSteady(b *testing.B, pageSize, batchSize int) {
	const locs, tags, warm = 10000, 10000, 40
	now := time.Now()
	path := filepath.Join(b.TempDir(), FileName)
	hs, err := Open(benchOptions(Options{Path: path, MaxBytes: 1 << 40, Now: func() time.Time { return now }}, pageSize))
	if err != nil {
		b.Fatal(err)
	}
	defer hs.Close()
	changing := []string{"KVA", "Amps", "PercentOfContract", "PrimaryKVA", "RedundantKVA", "KW", "PowerFactor"}
	var all []string
	for _, f := range PowerFields {
		all = append(all, f.Name)
	}
	type series struct {
		key  string
		text bool
	}
	cycleSeries := func(first bool) []series {
		var out []series
		fields := changing
		if first {
			fields = all
		}
		for l := range locs {
			id := model.LocationID{IBX: fmt.Sprintf("IB%02d", l%20), Level: model.LevelCircuit, Name: fmt.Sprint("C", l)}
			for _, f := range fields {
				out = append(out, series{LocationKey(id, f), f == "BreakerAlarm"})
			}
		}
		for l := 0; l < locs; l += 5 {
			id := model.LocationID{IBX: fmt.Sprintf("IB%02d", l%20), Level: model.LevelCircuit, Name: fmt.Sprint("C", l)}
			for _, f := range EnvironmentFields {
				out = append(out, series{LocationKey(id, f.Name), false})
			}
		}
		for t := range tags {
			out = append(out, series{TagKey(fmt.Sprintf("IB%02d.UPS-%d:tag%d", t%20, t/10, t%10)), false})
		}
		return out
	}
	firstSeries, steadySeries := cycleSeries(true), cycleSeries(false)
	t0 := now.Add(-time.Duration(warm+b.N+1) * 30 * time.Second)
	cycle := func(c int, list []series) {
		at := t0.Add(time.Duration(c) * 30 * time.Second)
		batch := map[string][]Sample{}
		n := 0
		for i, s := range list {
			v := model.Number(float64((c*31+i)%10000) / 10)
			if s.text {
				v = model.Text("false")
			}
			batch[s.key] = append(batch[s.key], Sample{Time: at, Value: v, Quality: model.QualityGood})
			if n++; n == batchSize {
				if err := hs.Append(batch); err != nil {
					b.Fatal(err)
				}
				batch, n = map[string][]Sample{}, 0
			}
		}
		if err := hs.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	merge := func() {
		if err := hs.Merge(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	cycle(0, firstSeries)
	for c := 1; c < warm; c++ {
		cycle(c, steadySeries)
		if c%6 == 5 { // as the recorder would: the log merged every few cycles
			merge()
		}
	}
	before, _ := hs.Stats()
	fi0, _ := os.Stat(path)
	tx0 := hs.db.Stats().TxStats
	runtime.GC()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		cycle(warm+i, steadySeries)
	}
	merge() // the cycles' log merged once: a merge every b.N cycles
	b.StopTimer()
	cpu := cpuTime() - cpu0
	tx := hs.db.Stats().TxStats
	after, _ := hs.Stats()
	fi, _ := os.Stat(path)
	n := float64(b.N)
	added := float64(after.Samples - before.Samples)
	b.ReportMetric(added/n, "samples/cycle")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s/cycle")
	b.ReportMetric(float64(tx.GetWrite()-tx0.GetWrite())/n, "pages-written/cycle")
	b.ReportMetric(float64(tx.GetPageAlloc()-tx0.GetPageAlloc())/n/1e6, "MB-written/cycle")
	b.ReportMetric(float64(fi.Size()-fi0.Size())/n/1e6, "MB-file-growth/cycle")
	b.ReportMetric(float64(after.UsedBytes-before.UsedBytes)/added, "used-bytes/added-sample")
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	b.ReportMetric(float64(rssFile())/1e6, "RssFile-MB")
}

// rssFile is the process's file-backed resident memory (RssFile of
// /proc/self/status: here the pages of the history file it mapped and
// read), 0 where not known.
func rssFile() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
