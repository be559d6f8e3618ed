package google_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/google"
)

// emulator is the real Pub/Sub emulator, started once for the package's
// tests; nil when it is not installed (tests skip, or fail under test/run.sh).
var (
	emulator    *feedtest.Process
	emulatorErr error
)

func TestMain(m *testing.M) {
	emulator, emulatorErr = feedtest.StartPubSubEmulator(0)
	code := m.Run()
	if emulator != nil {
		emulator.Stop()
	}
	os.Exit(code)
}

func requireEmulator(t *testing.T) string {
	t.Helper()
	return feedtest.Require(t, emulator, emulatorErr).Addr
}

var seq atomic.Int64

// topic creates a topic and a subscription with names unique to the test.
func topic(t *testing.T, host string) (client *pubsub.Client, topic, sub string) {
	t.Helper()
	ctx := context.Background()
	client, err := google.NewClient(ctx, feed.GoogleConfig{EmulatorHost: host}, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	n := seq.Add(1)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	topic = fmt.Sprintf("projects/test/topics/%s-%d", name, n)
	sub = fmt.Sprintf("projects/test/subscriptions/%s-%d", name, n)
	if err := google.EnsureTopic(ctx, client, topic, sub); err != nil {
		t.Fatal(err)
	}
	return client, topic, sub
}

func publish(t *testing.T, client *pubsub.Client, topic string, data ...[]byte) {
	t.Helper()
	pub := client.Publisher(topic)
	defer pub.Stop()
	for _, d := range data {
		if _, err := pub.Publish(context.Background(), &pubsub.Message{Data: d}).Get(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func cfg(host, sub string) feed.Config {
	return feed.Config{Provider: feed.ProviderGoogle, Google: feed.GoogleConfig{EmulatorHost: host, Subscription: sub},
		ProbeInterval: 200 * time.Millisecond, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 500 * time.Millisecond}
}

func startFeed(t *testing.T, rig *feedtest.Rig, c feed.Config, opts feed.Options) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	rig.StartFeed(t, c, google.New(c.Google, c.ProbeInterval, nil), opts)
	feedtest.WaitFor(t, 30*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
}

const fuelHours = "CH1.Gen-1:fuelhours"

// TestEventsThroughEmulator: tag and alarm events published to the emulator
// change the model; the same events published again change nothing.
func TestEventsThroughEmulator(t *testing.T) {
	host := requireEmulator(t)
	rig := feedtest.NewRig(t)
	client, topic, sub := topic(t, host)
	startFeed(t, rig, cfg(host, sub), feed.Options{})

	now := time.Now().Truncate(time.Millisecond)
	tag := feedtest.TagEvent(fuelHours, "808.5", now)
	alarm := feedtest.AlarmEvent("CH1", "CH1.Gen-1", fuelHours, "Fuel Low", 820, true, now, now)
	_, stream := rig.Store.Subscribe()
	publish(t, client, topic, tag, alarm)
	feedtest.WaitFor(t, 30*time.Second, "both events applied", func() bool {
		return rig.Store.Snapshot().Health().Feed.Events == 2
	})
	if v := feedtest.TagValue(rig.Store, fuelHours); v != "808.5" {
		t.Errorf("tag = %q", v)
	}
	tags, raised := feedtest.Changes(t, stream)
	if tags != 1 || raised != 1 {
		t.Errorf("%d tag changes, %d raised", tags, raised)
	}

	publish(t, client, topic, tag, alarm, tag) // a redelivery looks like this
	feedtest.WaitFor(t, 30*time.Second, "the duplicates received", func() bool {
		return rig.Store.Snapshot().Health().Feed.Events == 5
	})
	if tags, raised := feedtest.Changes(t, stream); tags != 0 || raised != 0 {
		t.Errorf("duplicates changed %d tags, raised %d alarms", tags, raised)
	}
	if h := rig.Store.Snapshot().Health().Feed; h.Provider != "google" || h.NewestEventTime.IsZero() {
		t.Errorf("health %+v", h)
	}
}

// TestNackedMessageRedelivered: a message whose delivery fails is not
// acknowledged and comes back; once delivered it is acknowledged.
func TestNackedMessageRedelivered(t *testing.T) {
	host := requireEmulator(t)
	client, topic, sub := topic(t, host)
	rec := &feedtest.Recorder{FailFirst: 1}
	c := google.New(feed.GoogleConfig{EmulatorHost: host, Subscription: sub, Streams: 1, MaxOutstanding: 10}, time.Second, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Receive(ctx, "", rec) }()
	publish(t, client, topic, []byte(`{"name":"tagpoint_updated","data":{"tagId":"x","value":"1"}}`))
	feedtest.WaitFor(t, 30*time.Second, "the redelivery", func() bool { return len(rec.Messages()) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rec.Calls() != 2 {
		t.Errorf("%d deliveries, want 2 (failed, then redelivered)", rec.Calls())
	}
	if connected, _ := rec.Connections(); connected != 1 {
		t.Errorf("connected %d times", connected)
	}
}

// idRecorder passes deliveries on to the Feed and counts them by message id.
type idRecorder struct {
	feed.Receiver
	mu  sync.Mutex
	ids map[string]int
}

func (r *idRecorder) Deliver(ctx context.Context, msgs ...feed.Message) error {
	r.mu.Lock()
	for _, m := range msgs {
		r.ids[m.ID]++
	}
	r.mu.Unlock()
	return r.Receiver.Deliver(ctx, msgs...)
}

// waiting is a consumer that only waits: the test runs the real one itself.
type waiting struct{}

func (waiting) Receive(ctx context.Context, _ string, _ feed.Receiver) error {
	<-ctx.Done()
	return nil
}

// TestMalformedCountedAckedSkipped: a malformed event is counted, does not
// stop the events after it, and is acknowledged: once the session has ended
// and the subscription's ack deadline (10s) has passed, nothing is left to
// pull — an unacknowledged message would be delivered again by then.
func TestMalformedCountedAckedSkipped(t *testing.T) {
	host := requireEmulator(t)
	rig := feedtest.NewRig(t)
	client, topic, sub := topic(t, host)
	c := cfg(host, sub)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	f := rig.StartFeed(t, c, waiting{}, feed.Options{}) // applies what this test's session delivers
	rec := &idRecorder{Receiver: f, ids: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- google.New(c.Google, c.ProbeInterval, nil).Receive(ctx, "", rec) }()

	pub := client.Publisher(topic)
	defer pub.Stop()
	malformedID, err := pub.Publish(context.Background(), &pubsub.Message{Data: []byte(`{"name":"alarm_updated","alarm":"oops"}`)}).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	publish(t, client, topic, feedtest.TagEvent(fuelHours, "1.5", time.Now()))
	feedtest.WaitFor(t, 30*time.Second, "the valid event", func() bool { return feedtest.TagValue(rig.Store, fuelHours) == "1.5" })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	seen := rec.ids[malformedID]
	rec.mu.Unlock()
	if seen != 1 {
		t.Errorf("the malformed message was delivered %d times", seen)
	}
	if h := rig.Store.Snapshot().Health().Feed; h.Malformed != 1 || h.Events != 2 {
		t.Errorf("health %+v", h)
	}

	time.Sleep(11 * time.Second) // past the ack deadline: not a timing assertion, the protocol's timeout
	pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	resp, err := client.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 10})
	if err != nil && status.Code(err) != codes.DeadlineExceeded {
		t.Fatal(err)
	}
	if n := len(resp.GetReceivedMessages()); n != 0 {
		t.Errorf("%d messages still in the subscription: not acknowledged", n)
	}
}

// TestReconnectAfterEmulatorRestart: the emulator is killed (the feed goes
// down, the poll keeps the model) and started again on the same port with
// the subscription recreated, as the vendor's would be: the feed reconnects,
// asks the poll to reconcile, and applies new events.
func TestReconnectAfterEmulatorRestart(t *testing.T) {
	host := requireEmulator(t)
	rig := feedtest.NewRig(t)
	client, topicName, sub := topic(t, host)
	var recovered atomic.Int32
	startFeed(t, rig, cfg(host, sub), feed.Options{OnRecover: func() { recovered.Add(1) }})

	emulator.Kill()
	feedtest.WaitFor(t, 30*time.Second, "feed down", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedDown
	})
	port := host[strings.LastIndex(host, ":")+1:]
	var p int
	fmt.Sscan(port, &p)
	emulator, emulatorErr = feedtest.StartPubSubEmulator(p)
	if emulatorErr != nil {
		t.Fatal(emulatorErr)
	}
	client.Close()
	client, err := google.NewClient(context.Background(), feed.GoogleConfig{EmulatorHost: host}, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := google.EnsureTopic(context.Background(), client, topicName, sub); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 60*time.Second, "feed connected again", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	if recovered.Load() < 1 {
		t.Error("the poll was not asked to reconcile after the recovery")
	}
	publish(t, client, topicName, feedtest.TagEvent(fuelHours, "3.25", time.Now()))
	feedtest.WaitFor(t, 30*time.Second, "an event after the restart", func() bool {
		return feedtest.TagValue(rig.Store, fuelHours) == "3.25"
	})
}
