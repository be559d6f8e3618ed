package feed_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

const fuelHours = "CH1.Gen-1:fuelhours"

// idle is a consumer that connects and then only waits: the tests deliver
// through the Feed (the Receiver) themselves.
type idle struct{}

func (idle) Receive(ctx context.Context, _ string, r feed.Receiver) error {
	r.Connected()
	<-ctx.Done()
	return nil
}

func waitConnected(t *testing.T, s *model.Store) {
	t.Helper()
	feedtest.WaitFor(t, 10*time.Second, "feed connected", func() bool {
		return s.Snapshot().Health().Feed.State == model.FeedConnected
	})
}

// TestSandboxEventsReachModel: the sandbox's own events, in-process, change
// the model's tag, power, environment and alarms without any poll.
func TestSandboxEventsReachModel(t *testing.T) {
	rig := feedtest.NewRig(t)
	rig.StartFeed(t, feed.Config{}, &feed.ChannelConsumer{Subscribe: rig.Sandbox.Subscribe, Buffer: 1024, MaxBatch: 64}, feed.Options{})
	waitConnected(t, rig.Store)

	if err := rig.Sandbox.SetTag(fuelHours, "4321.5"); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 10*time.Second, "fuelhours 4321.5 from the feed", func() bool {
		return feedtest.TagValue(rig.Store, fuelHours) == "4321.5"
	})

	ref, err := rig.Sandbox.RaiseAlarm(sandbox.AlarmSpec{AssetID: "CH1.Gen-2", TagID: "CH1.Gen-2:voltage", ConditionName: "Low Voltage", Severity: 650})
	if err != nil {
		t.Fatal(err)
	}
	var alarm *model.Alarm
	feedtest.WaitFor(t, 10*time.Second, "the raised alarm in the model", func() bool {
		for _, a := range rig.Store.Snapshot().Alarms() {
			if a.TagID == ref.TagID && a.Condition == "Low Voltage" && a.Triggered.UnixMilli() == ref.TimeTriggered {
				alarm = a
				return true
			}
		}
		return false
	})
	if alarm.State != model.AlarmActive || alarm.Severity != model.SeverityHigh || alarm.IBX != "CH1" {
		t.Errorf("alarm from the feed = %+v", alarm)
	}
	h := rig.Store.Snapshot().Health().Feed
	if h.Events == 0 || h.Malformed != 0 || h.Unknown != 0 || h.Provider != "sandbox" || h.NewestEventTime.IsZero() || h.LastEvent.IsZero() {
		t.Errorf("feed health = %+v", h)
	}
}

// TestRedeliveryChangesNothing: the same tag and alarm events delivered
// twice produce one change and one alarm transition; an older reading after
// a newer one is ignored.
func TestRedeliveryChangesNothing(t *testing.T) {
	rig := feedtest.NewRig(t)
	f := rig.StartFeed(t, feed.Config{}, idle{}, feed.Options{})
	waitConnected(t, rig.Store)
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)

	tag := feed.Message{Data: feedtest.TagEvent(fuelHours, "77.25", now.Add(time.Hour))}
	alarm := feed.Message{Data: feedtest.AlarmEvent("CH1", "CH1.Gen-1", fuelHours, "High Fuel Hours", 850, true, now, now)}
	_, sub := rig.Store.Subscribe()
	if err := f.Deliver(ctx, tag, alarm); err != nil {
		t.Fatal(err)
	}
	tags, raised := feedtest.Changes(t, sub)
	if tags != 1 || raised != 1 || feedtest.TagValue(rig.Store, fuelHours) != "77.25" {
		t.Fatalf("first delivery: %d tag changes, %d raised, value %q", tags, raised, feedtest.TagValue(rig.Store, fuelHours))
	}
	for range 3 { // redelivered, together and one by one
		if err := f.Deliver(ctx, tag, alarm); err != nil {
			t.Fatal(err)
		}
		if err := f.Deliver(ctx, alarm); err != nil {
			t.Fatal(err)
		}
	}
	older := feed.Message{Data: feedtest.TagEvent(fuelHours, "1.0", now)}
	if err := f.Deliver(ctx, older); err != nil {
		t.Fatal(err)
	}
	if tags, raised := feedtest.Changes(t, sub); tags != 0 || raised != 0 {
		t.Errorf("redeliveries changed %d tags and raised %d alarms", tags, raised)
	}
	if v := feedtest.TagValue(rig.Store, fuelHours); v != "77.25" {
		t.Errorf("after an older reading the value is %q", v)
	}
	if h := rig.Store.Snapshot().Health().Feed; h.Events != 12 || h.Malformed != 0 {
		t.Errorf("feed health = %+v", h)
	}
}

// TestPollAndFeedOneTransition: an alarm seen by the feed and then by a
// poll is raised once.
func TestPollAndFeedOneTransition(t *testing.T) {
	rig := feedtest.NewRig(t)
	rig.StartFeed(t, feed.Config{}, &feed.ChannelConsumer{Subscribe: rig.Sandbox.Subscribe, Buffer: 1024, MaxBatch: 64}, feed.Options{})
	waitConnected(t, rig.Store)
	_, sub := rig.Store.Subscribe()
	ref, err := rig.Sandbox.RaiseAlarm(sandbox.AlarmSpec{AssetID: "CH1.Gen-1", TagID: fuelHours, ConditionName: "Fuel", Severity: 820})
	if err != nil {
		t.Fatal(err)
	}
	var raised []model.AlarmTransition
	collect := func() {
		for sub.Pending() > 0 {
			d, _ := sub.Next(context.Background())
			for _, tr := range d.Alarms {
				if tr.Alarm.TagID == ref.TagID && tr.Alarm.Condition == "Fuel" {
					raised = append(raised, tr)
				}
			}
		}
	}
	feedtest.WaitFor(t, 10*time.Second, "the alarm from the feed", func() bool { collect(); return len(raised) > 0 })
	if res := rig.Poller.Cycle(context.Background(), false); res.Failed > 0 {
		t.Fatalf("poll: %+v", res)
	}
	collect()
	if len(raised) != 1 || raised[0].Kind != model.AlarmRaised || raised[0].Source != "feed" {
		t.Errorf("transitions of the alarm: %+v", raised)
	}
}

// TestMalformedAndUnknownCountedAndLoggedOnce: rejected events are
// acknowledged (Deliver returns nil), counted, and logged once per kind.
func TestMalformedAndUnknownCountedAndLoggedOnce(t *testing.T) {
	rig := feedtest.NewRig(t)
	var logs svctest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	f := rig.StartFeed(t, feed.Config{}, idle{}, feed.Options{Logger: log})
	waitConnected(t, rig.Store)
	bad := []string{
		`{not json`,
		`{"name":"alarm_updated"}`,
		`{"name":"tagpoint_updated","data":{"value":"1"}}`,
		`{"name":"power_updated","data":{"ibx":"CH1","levelType":"rack","levelValue":"x"}}`,
		`{"name":"alarm_active","alarm":{"severity":800}}`,
		`[1,2,3]`,
	}
	for range 5 {
		for _, b := range bad {
			if err := f.Deliver(context.Background(), feed.Message{Data: []byte(b)}); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
		}
		if err := f.Deliver(context.Background(), feed.Message{Data: []byte(`{"name":"cabinet_opened","data":{}}`)}); err != nil {
			t.Fatal(err)
		}
	}
	h := rig.Store.Snapshot().Health().Feed
	if h.Events != 35 || h.Malformed != 30 || h.Unknown != 5 {
		t.Errorf("counters: events %d malformed %d unknown %d", h.Events, h.Malformed, h.Unknown)
	}
	text := logs.String()
	if n := strings.Count(text, "unknown kind skipped"); n != 1 {
		t.Errorf("unknown kind logged %d times:\n%s", n, text)
	}
	// one line per malformed kind: unknown (bad JSON), alarm, tagpoint, power
	if n := strings.Count(text, "malformed feed event"); n != 4 {
		t.Errorf("malformed logged %d times:\n%s", n, text)
	}
}

// flaky fails its first n connections, then connects and waits.
type flaky struct {
	fails    atomic.Int32
	attempts atomic.Int32
	dropped  chan struct{} // closed: a connected session is lost once
}

func (c *flaky) Receive(ctx context.Context, _ string, r feed.Receiver) error {
	if c.attempts.Add(1) <= c.fails.Load() {
		return errors.New("connection refused")
	}
	r.Connected()
	select {
	case <-ctx.Done():
		return nil
	case <-c.dropped:
		c.dropped = make(chan struct{}) // only once; Receive is never concurrent
		c.fails.Store(c.attempts.Load() + 2)
		return errors.New("connection reset")
	}
}

// TestReconnectAndRecover: failed connections are retried with backoff,
// shown as down in the model, and the poll is asked to reconcile whenever
// the feed comes back after being down.
func TestReconnectAndRecover(t *testing.T) {
	rig := feedtest.NewRig(t)
	c := &flaky{dropped: make(chan struct{})}
	c.fails.Store(2)
	var recovered atomic.Int32
	rig.StartFeed(t, feed.Config{ReconnectMin: 20 * time.Millisecond, ReconnectMax: 100 * time.Millisecond}, c,
		feed.Options{OnRecover: func() { recovered.Add(1) }})
	waitConnected(t, rig.Store)
	if c.attempts.Load() != 3 || recovered.Load() != 1 {
		t.Errorf("attempts %d, recoveries %d", c.attempts.Load(), recovered.Load())
	}
	_, sub := rig.Store.Subscribe()
	close(c.dropped)
	feedtest.WaitFor(t, 10*time.Second, "a second recovery", func() bool { return recovered.Load() == 2 })
	changes := 0 // down, then connected again
	for sub.Pending() > 0 {
		if d, _ := sub.Next(context.Background()); d.HealthChanged {
			changes++
		}
	}
	if changes < 2 {
		t.Errorf("%d feed health changes after the drop, want down and connected", changes)
	}
	if h := rig.Store.Snapshot().Health().Feed; h.State != model.FeedConnected || h.Error != "" {
		t.Errorf("health = %+v", h)
	}
}

// downAPI is a Subscriptions API that cannot be reached.
type downAPI struct{ feed.SubscriptionAPI }

func (downAPI) Subscriptions(context.Context) ([]smartview.Subscription, error) {
	return nil, errors.New("connection refused")
}

// TestConsumesWhileSubscriptionAPIDown: when the provider's own keys name
// the subscription, the feed consumes even while the SmartView API cannot
// register it; the registration error shows in the feed health and is retried.
func TestConsumesWhileSubscriptionAPIDown(t *testing.T) {
	rig := feedtest.NewRig(t)
	subs := rig.Subscriptions(t.TempDir(), feed.ProviderGoogle)
	subs.API = downAPI{}
	yes := true
	rig.StartFeed(t, feed.Config{Provider: feed.ProviderGoogle, ManageSubscription: &yes, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 50 * time.Millisecond,
		Google: feed.GoogleConfig{Subscription: "projects/p/subscriptions/s", EmulatorHost: "127.0.0.1:1"}}, idle{}, feed.Options{Subscriptions: subs})
	waitConnected(t, rig.Store)
	feedtest.WaitFor(t, 10*time.Second, "the registration error in the feed health", func() bool {
		return strings.Contains(rig.Store.Snapshot().Health().Feed.Error, "connection refused")
	})
}

// TestEventsDiscoverLocations: an environment event for a zone, cage and
// sensor the hierarchies do not list, and an alarm on a cage and cabinet
// they do not list, add those locations to the model, nested as the events
// say; an event for an IBX the model does not hold is counted as unplaced.
func TestEventsDiscoverLocations(t *testing.T) {
	rig := feedtest.NewRig(t)
	f := rig.StartFeed(t, feed.Config{}, idle{}, feed.Options{})
	waitConnected(t, rig.Store)
	now := time.Now().Truncate(time.Millisecond)
	env := []byte(`{"name":"environment_updated","data":{"ibx":"CH1","zone":"CH1:1:09:ColoNew:1","cage":"CH1:09:NEW001","cabinet":"ALL",
		"sensor":"CH1.Colo.CH1_09_NEW001_0101","temperature":"23.5","humidity":"40","timestamp":"` + fmt.Sprint(now.UnixMilli()) + `"}}`)
	alarm := []byte(`{"name":"alarm_updated","alarm":{"ibx":"CH1","cage":"CH1:09:NEW002","cabinet":"CH1:09:NEW002:0001","conditionname":"Breaker Trip",
		"severity":850,"status":true,"timetriggered":"` + fmt.Sprint(now.UnixMilli()) + `"}}`)
	elsewhere := []byte(`{"name":"environment_updated","data":{"ibx":"ZZ9","zone":"ZZ9:1:01:X:1","cage":"ALL","cabinet":"ALL","sensor":"ALL","temperature":"1"}}`)
	if err := f.Deliver(context.Background(), feed.Message{Data: env}, feed.Message{Data: alarm}, feed.Message{Data: elsewhere}); err != nil {
		t.Fatal(err)
	}
	snap := rig.Store.Snapshot()
	st := snap.Structure()
	for _, tt := range []struct {
		level        model.Level
		name, parent string
		origin       model.Origin
	}{
		{model.LevelZone, "CH1:1:09:ColoNew:1", "CH1", model.OriginReading},
		{model.LevelCage, "CH1:09:NEW001", "CH1:1:09:ColoNew:1", model.OriginReading},
		{model.LevelSensor, "CH1.Colo.CH1_09_NEW001_0101", "CH1:09:NEW001", model.OriginReading},
		{model.LevelCage, "CH1:09:NEW002", "CH1", model.OriginAlarm},
		{model.LevelCabinet, "CH1:09:NEW002:0001", "CH1:09:NEW002", model.OriginAlarm},
	} {
		i, ok := st.LocationIndex(model.LocationID{IBX: "CH1", Level: tt.level, Name: tt.name})
		if !ok {
			t.Errorf("%v %s not discovered", tt.level, tt.name)
			continue
		}
		if l := st.Location(i); l.Parent.Name != tt.parent || l.Discovered != tt.origin {
			t.Errorf("%s: parent %q origin %v, want %q %v", l.ID, l.Parent.Name, l.Discovered, tt.parent, tt.origin)
		}
	}
	si, _ := st.LocationIndex(model.LocationID{IBX: "CH1", Level: model.LevelSensor, Name: "CH1.Colo.CH1_09_NEW001_0101"})
	if e := snap.Environment(si); e.Temperature.String() != "23.5" || e.Quality != model.QualityGood {
		t.Errorf("sensor environment = %+v", e)
	}
	if n := rig.Store.Unplaced()[model.UnplacedIBXNotInModel]; n != 1 {
		t.Errorf("unplaced ibx_not_in_model = %d, want 1", n)
	}
}
