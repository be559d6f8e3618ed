package feed_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// BenchmarkApply measures feed events applied to the model per second:
// tagpoint events (each a newer reading, so each changes a value) decoded,
// applied and committed, with readers of the change stream standing in for
// the SNMP and OPC UA front ends (each reads every changed value from the
// latest snapshot). batch is how many events one Deliver carries (SQS gives
// up to 10, Service Bus up to 100, the in-process sandbox what is queued);
// parallel delivers single events from 8 goroutines, as Pub/Sub callbacks
// do, and lets the applier merge them.
func BenchmarkApply(b *testing.B) {
	for _, bc := range []struct {
		batch, readers int
		parallel       bool
	}{
		{batch: 1}, {batch: 1, readers: 2}, {batch: 10, readers: 2}, {batch: 100, readers: 2}, {batch: 1, readers: 2, parallel: true},
	} {
		name := fmt.Sprintf("batch=%d/readers=%d", bc.batch, bc.readers)
		if bc.parallel {
			name = fmt.Sprintf("parallel=8/readers=%d", bc.readers)
		}
		b.Run(name, func(b *testing.B) {
			rig := feedtest.NewRig(b)
			f := rig.StartFeed(b, feed.Config{}, idle{}, feed.Options{})
			st := rig.Store.Snapshot().Structure()
			tags := make([]string, len(st.Tags()))
			for i := range tags {
				tags[i] = st.Tag(i).ID
			}
			base := time.Now().Add(time.Hour)
			msgs := make([]feed.Message, b.N)
			for i := range msgs {
				msgs[i] = feed.Message{Data: feedtest.TagEvent(tags[i%len(tags)], strconv.Itoa(i), base.Add(time.Duration(i)*time.Millisecond))}
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range bc.readers {
				_, sub := rig.Store.Subscribe()
				wg.Add(1)
				go func() {
					defer wg.Done()
					read(ctx, rig.Store, sub)
				}()
			}
			b.ResetTimer()
			if bc.parallel {
				var next sync.Mutex
				i := 0
				var pw sync.WaitGroup
				for range 8 {
					pw.Add(1)
					go func() {
						defer pw.Done()
						for {
							next.Lock()
							j := i
							i++
							next.Unlock()
							if j >= len(msgs) {
								return
							}
							if err := f.Deliver(ctx, msgs[j]); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				pw.Wait()
			} else {
				for i := 0; i < len(msgs); i += bc.batch {
					if err := f.Deliver(ctx, msgs[i:min(i+bc.batch, len(msgs))]...); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			cancel()
			wg.Wait()
		})
	}
}

// read is a change-stream reader: it reads every changed tag's value.
func read(ctx context.Context, s *model.Store, sub *model.Subscription) {
	var sink float64
	for {
		d, err := sub.Next(ctx)
		if err != nil {
			return
		}
		snap := s.Snapshot()
		if d.Structure != snap.Structure() {
			continue
		}
		for _, i := range d.Tags {
			sink += snap.Tag(int(i)).Value.Num
		}
	}
}

// BenchmarkLatencyInProcess measures an event published by the built-in
// sandbox (a tag set through its admin call, encoded as a documented event
// and handed to its subscribers) until the change is committed to the model
// and seen by a change-stream reader, through the in-process sandbox
// provider. It reports the median and 99th percentile.
func BenchmarkLatencyInProcess(b *testing.B) {
	rig := feedtest.NewRig(b)
	rig.StartFeed(b, feed.Config{}, &feed.ChannelConsumer{Subscribe: rig.Sandbox.Subscribe, Buffer: 4096, MaxBatch: 512}, feed.Options{})
	feedtest.WaitFor(b, 10*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	const tag = "CH1.Gen-1:fuelhours"
	w := feedtest.WatchTag(b, rig.Store, tag)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := rig.Sandbox.SetTag(tag, strconv.Itoa(10000+i)); err != nil {
			b.Fatal(err)
		}
		if !w.Wait(10 * time.Second) {
			b.Fatalf("event %d not applied within 10s", i)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	feedtest.ReportLatency(b, lat)
}
