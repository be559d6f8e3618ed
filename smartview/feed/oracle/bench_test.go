package oracle_test

import (
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/oracle"
)

// BenchmarkLatencyKafka measures a record written to a running kcat
// producer (linger 0) until it is applied to the model and seen by a
// change-stream reader: kcat produce, the broker (kfake, SASL/PLAIN over
// TLS), fetch, decode, apply, commit. It reports the median and 99th
// percentile, beside the google package's BenchmarkLatencyEmulator.
//
//	go test -run '^$' -bench LatencyKafka -benchtime 300x ./smartview/feed/oracle/
func BenchmarkLatencyKafka(b *testing.B) {
	k := feedtest.StartKafka(b, map[string]int32{"latency": 1})
	rig := feedtest.NewRig(b)
	cfg := oracleConfig(k, "latency")
	cfg.ProbeInterval = 15 * time.Second
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	rig.StartFeed(b, cfg, oracle.New(cfg.Oracle, cfg.ProbeInterval, nil), feed.Options{})
	feedtest.WaitFor(b, 30*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	w := feedtest.WatchTag(b, rig.Store, fuelHours)
	p := k.StartProducer(b, "latency")
	base := time.Now()
	// The first record waits for the group's first assignment: not measured.
	p.Send(b, feedtest.TagEvent(fuelHours, "0", base))
	if !w.Wait(60 * time.Second) {
		b.Fatal("the first record was not applied within 60s")
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		data := feedtest.TagEvent(fuelHours, "1", base.Add(time.Duration(i+1)*time.Millisecond))
		t0 := time.Now()
		p.Send(b, data)
		if !w.Wait(30 * time.Second) {
			b.Fatalf("record %d not applied within 30s; feed %+v", i, rig.Store.Snapshot().Health().Feed)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	feedtest.ReportLatency(b, lat)
}

// BenchmarkThroughputKafka measures records applied per second: b.N
// tagpoint records (each a newer reading of one of the small sandbox's
// tags) are produced by kcat before the timer starts; a new consumer group
// then reads them from the start, applies and commits them in batches of
// max_records (500). The rate is taken from the first record applied to
// the last, so joining the group (once per start) is not in it.
//
//	go test -run '^$' -bench ThroughputKafka -benchtime 20000x ./smartview/feed/oracle/
func BenchmarkThroughputKafka(b *testing.B) {
	k := feedtest.StartKafka(b, map[string]int32{"throughput": 1})
	rig := feedtest.NewRig(b)
	tags := rig.Store.Snapshot().Structure().Tags()
	base := time.Now()
	records := make([][]byte, b.N)
	for i := range records {
		records[i] = feedtest.TagEvent(tags[i%len(tags)].ID, "1", base.Add(time.Duration(i+1)*time.Millisecond))
	}
	k.Produce(b, "throughput", records...)
	cfg := oracleConfig(k, "throughput")
	cfg.ProbeInterval = 15 * time.Second
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rig.StartFeed(b, cfg, oracle.New(cfg.Oracle, cfg.ProbeInterval, nil), feed.Options{})
	applied := func() uint64 { return rig.Store.Snapshot().Health().Feed.Events }
	feedtest.WaitFor(b, time.Minute, "the first record applied", func() bool { return applied() > 0 })
	t0, first := time.Now(), applied()
	feedtest.WaitFor(b, 10*time.Minute, "every record applied", func() bool { return applied() >= uint64(b.N) })
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(uint64(b.N)-first)/elapsed.Seconds(), "records/s")
}
