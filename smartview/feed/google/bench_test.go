package google_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/google"
)

// BenchmarkLatencyEmulator measures an event published to the real Pub/Sub
// emulator until it is applied to the model and seen by a change-stream
// reader: publish (unbatched), StreamingPull, decode, apply, commit, ack.
// It reports the median and 99th percentile.
func BenchmarkLatencyEmulator(b *testing.B) {
	if emulator == nil {
		b.Skipf("Pub/Sub emulator: %v", emulatorErr)
	}
	host := emulator.Addr
	rig := feedtest.NewRig(b)
	ctx := context.Background()
	client, err := google.NewClient(ctx, feed.GoogleConfig{EmulatorHost: host}, "test")
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	n := seq.Add(1) // a subscription per run: b.N=1 first, then the real one
	topic, sub := fmt.Sprintf("projects/test/topics/bench-latency-%d", n), fmt.Sprintf("projects/test/subscriptions/bench-latency-%d", n)
	if err := google.EnsureTopic(ctx, client, topic, sub); err != nil {
		b.Fatal(err)
	}
	c := feed.Config{Provider: feed.ProviderGoogle, Google: feed.GoogleConfig{EmulatorHost: host, Subscription: sub}}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	delivered := &timed{inner: google.New(c.Google, c.ProbeInterval, nil)}
	rig.StartFeed(b, c, delivered, feed.Options{})
	feedtest.WaitFor(b, 30*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	const tag = "CH1.Gen-1:fuelhours"
	w := feedtest.WatchTag(b, rig.Store, tag)
	pub := client.Publisher(topic)
	pub.PublishSettings.CountThreshold = 1 // publish each event at once: this measures latency
	defer pub.Stop()
	base := time.Now()
	lat := make([]time.Duration, 0, b.N)
	pull := make([]time.Duration, 0, b.N) // publish → the consumer hands it to the Feed
	b.ResetTimer()
	for i := range b.N {
		data := feedtest.TagEvent(tag, "1", base.Add(time.Duration(i+1)*time.Millisecond))
		t0 := time.Now()
		res := pub.Publish(ctx, &pubsub.Message{Data: data})
		if !w.Wait(30 * time.Second) {
			_, err := res.Get(ctx)
			b.Fatalf("event %d not applied within 30s (publish: %v); feed %+v", i, err, rig.Store.Snapshot().Health().Feed)
		}
		lat = append(lat, time.Since(t0))
		pull = append(pull, time.Unix(0, delivered.last.Load()).Sub(t0))
		if _, err := res.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	feedtest.ReportLatency(b, lat)
	b.ReportMetric(float64(feedtest.Percentile(pull, 50).Microseconds()), "pull-p50-µs")
}

// timed wraps a consumer and records when it last delivered to the Feed.
type timed struct {
	inner feed.Consumer
	last  atomic.Int64 // unix ns
}

func (c *timed) Receive(ctx context.Context, name string, r feed.Receiver) error {
	return c.inner.Receive(ctx, name, &timedReceiver{Receiver: r, c: c})
}

type timedReceiver struct {
	feed.Receiver
	c *timed
}

func (r *timedReceiver) Deliver(ctx context.Context, msgs ...feed.Message) error {
	r.c.last.Store(time.Now().UnixNano())
	return r.Receiver.Deliver(ctx, msgs...)
}
