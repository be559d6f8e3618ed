package azure_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/azure"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// The entities the stand-in serves: one topic per test.
var entities = []string{"apply/Subscriptions/gateway", "settle/Subscriptions/gateway", "restart/Subscriptions/gateway"}

// standIn is test/servicebus-standin.js (rhea), started once for the package.
var (
	standIn    *feedtest.Process
	standInErr error
)

func TestMain(m *testing.M) {
	standIn, standInErr = startStandIn(0)
	code := m.Run()
	if standIn != nil {
		standIn.Stop()
	}
	os.Exit(code)
}

func startStandIn(port int) (*feedtest.Process, error) {
	if port == 0 {
		var err error
		if port, err = svctest.FreePort("tcp"); err != nil {
			return nil, err
		}
	}
	root, err := svctest.ModuleRoot()
	if err != nil {
		return nil, err
	}
	return feedtest.StartNode(root, "servicebus-standin", "servicebus-standin.js", fmt.Sprintf("127.0.0.1:%d", port),
		append([]string{strconv.Itoa(port)}, entities...)...)
}

func requireStandIn(t *testing.T) string {
	t.Helper()
	return connectionString(feedtest.Require(t, standIn, standInErr).Addr)
}

// connectionString is what azservicebus needs to speak plain AMQP to addr.
func connectionString(addr string) string {
	return "Endpoint=sb://" + addr + ";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2VjcmV0LWtleQ==;UseDevelopmentEmulator=true"
}

func send(t *testing.T, conn, topic string, events ...[]byte) {
	t.Helper()
	client, err := azservicebus.NewClientFromConnectionString(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(context.Background())
	sender, err := client.NewSender(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range events {
		if err := sender.SendMessage(ctx, &azservicebus.Message{Body: e}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func azureConfig(conn, topic string) feed.Config {
	return feed.Config{Provider: feed.ProviderAzure, Azure: feed.AzureConfig{ConnectionString: conn, Topic: topic, Subscription: "gateway"},
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 500 * time.Millisecond}
}

const fuelHours = "CH1.Gen-1:fuelhours"

// TestEventsApplied: the real azservicebus client against the stand-in:
// events sent to the topic reach the model through the subscription.
func TestEventsApplied(t *testing.T) {
	conn := requireStandIn(t)
	rig := feedtest.NewRig(t)
	cfg := azureConfig(conn, "apply")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rig.StartFeed(t, cfg, azure.New(cfg.Azure, nil), feed.Options{})
	feedtest.WaitFor(t, 30*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	now := time.Now().Truncate(time.Millisecond)
	send(t, conn, "apply", feedtest.TagEvent(fuelHours, "9.75", now), feedtest.AlarmEvent("CH1", "CH1.Gen-1", fuelHours, "Fuel", 850, true, now, now))
	feedtest.WaitFor(t, 30*time.Second, "both events applied", func() bool { return rig.Store.Snapshot().Health().Feed.Events == 2 })
	if v := feedtest.TagValue(rig.Store, fuelHours); v != "9.75" {
		t.Errorf("tag = %q", v)
	}
	if h := rig.Store.Snapshot().Health().Feed; h.Malformed != 0 || h.Provider != "azure" {
		t.Errorf("health %+v", h)
	}
}

// TestAbandonedRedeliveredCompletedGone: a message whose delivery fails is
// abandoned and comes back (delivery count 2); once applied it is completed:
// a new receiver session gets only what was sent after.
func TestAbandonedRedeliveredCompletedGone(t *testing.T) {
	conn := requireStandIn(t)
	cfg := azureConfig(conn, "settle")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	session := func(rec *feedtest.Recorder, body []byte, want int) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- azure.New(cfg.Azure, nil).Receive(ctx, "", rec) }()
		feedtest.WaitFor(t, 30*time.Second, "connected", func() bool { c, _ := rec.Connections(); return c == 1 })
		send(t, conn, "settle", body)
		feedtest.WaitFor(t, 30*time.Second, "deliveries", func() bool { return len(rec.Messages()) == want })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	first := &feedtest.Recorder{FailFirst: 1}
	session(first, []byte(`{"name":"tagpoint_updated","data":{"tagId":"a","value":"1"}}`), 1)
	if m := first.Messages(); first.Calls() != 2 || m[0].Attempt != 2 || string(m[0].Data) != `{"name":"tagpoint_updated","data":{"tagId":"a","value":"1"}}` {
		t.Errorf("%d deliveries: %+v", first.Calls(), m)
	}
	second := &feedtest.Recorder{}
	session(second, []byte(`{"name":"tagpoint_updated","data":{"tagId":"b","value":"2"}}`), 1)
	if m := second.Messages(); len(m) != 1 || string(m[0].Data) != `{"name":"tagpoint_updated","data":{"tagId":"b","value":"2"}}` {
		t.Errorf("the new session got %+v", m)
	}
}

// TestReconnectAfterStandInRestart: the Service Bus side goes away (the
// feed shows down) and comes back on the same address: the feed
// reconnects, asks the poll to reconcile, and applies new events.
func TestReconnectAfterStandInRestart(t *testing.T) {
	requireStandIn(t)
	port, err := svctest.FreePort("tcp")
	if err != nil {
		t.Fatal(err)
	}
	own, err := startStandIn(port)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { own.Stop() }()
	conn := connectionString(own.Addr)
	rig := feedtest.NewRig(t)
	cfg := azureConfig(conn, "restart")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	recovered := make(chan struct{}, 10)
	rig.StartFeed(t, cfg, azure.New(cfg.Azure, nil), feed.Options{OnRecover: func() { recovered <- struct{}{} }})
	state := func(s model.FeedState) func() bool {
		return func() bool { return rig.Store.Snapshot().Health().Feed.State == s }
	}
	feedtest.WaitFor(t, 30*time.Second, "feed connected", state(model.FeedConnected))
	own.Kill()
	feedtest.WaitFor(t, 60*time.Second, "feed down", state(model.FeedDown))
	if own, err = startStandIn(port); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 60*time.Second, "feed connected again", state(model.FeedConnected))
	select {
	case <-recovered:
	default:
		t.Error("the poll was not asked to reconcile after the recovery")
	}
	send(t, conn, "restart", feedtest.TagEvent(fuelHours, "6.5", time.Now()))
	feedtest.WaitFor(t, 30*time.Second, "an event after the restart", func() bool { return feedtest.TagValue(rig.Store, fuelHours) == "6.5" })
}

func TestEntityFromSubscriptionName(t *testing.T) {
	c := azure.New(feed.AzureConfig{}, nil)
	topic, sub, err := c.Entity("TOPIC_AZURE_7786/subscriptions/TOPIC_AZURE_7786_subscriber") // the reference's example
	if err != nil || topic != "TOPIC_AZURE_7786" || sub != "TOPIC_AZURE_7786_subscriber" {
		t.Errorf("%q %q %v", topic, sub, err)
	}
	if _, _, err := c.Entity("projects/x/subscriptions/y"); err == nil {
		t.Error("a Google name accepted")
	}
}
