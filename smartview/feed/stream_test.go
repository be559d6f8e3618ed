package feed_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

func v2Alarm(status string, processed string) feed.Message {
	return feed.Message{Data: []byte(`{"type":"system-alert","data":{"streamId":"CH1.Gen-1:fuelhours#ABSOLUTE:HIGH","ibx":"CH1",
		"conditionName":"High Fuel","severity":850,"asset":{"id":"CH1.Gen-1","type":"Generator","classification":"Electrical"},
		"tag":{"id":"CH1.Gen-1:fuelhours"},"currentValue":{"value":"9","unit":"h"},"threshold":{},
		"triggeredTime":"2030-01-01T00:00:00","processedTime":"` + processed + `","status":` + status + `}}`)}
}

func v2Env(measure, value, at string) feed.Message {
	return feed.Message{Data: []byte(`{"type":"environmental","data":{"streamId":"CH1.CH1:` + measure + `","ibx":"CH1",
		"asset":{"id":"CH1","level":"IBX"},"tag":{"id":"` + measure + `"},"reading":{"value":"` + value + `","unit":"x"},"readingTime":"` + at + `"}}`)}
}

// TestV2DedupeAndAckTime: a v2 alarm's raise, acknowledgement (with its
// acknowledgementTime as the model's AckTime) and clear are each one
// transition however often they are delivered; a replay of an older message
// is a duplicate; a humidity message keeps the temperature.
func TestV2DedupeAndAckTime(t *testing.T) {
	rig := feedtest.NewRig(t)
	var logs svctest.Buffer
	f := rig.StartFeed(t, feed.Config{}, idle{}, feed.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	waitConnected(t, rig.Store)
	ctx := context.Background()
	_, sub := rig.Store.Subscribe()

	raised := v2Alarm(`{"acknowledged":false,"cleared":false,"active":true}`, "2030-01-01T00:00:01")
	acked := v2Alarm(`{"acknowledged":true,"acknowledgementTime":"2030-01-01T00:05:00.300","cleared":false,"active":true}`, "2030-01-01T00:00:01")
	cleared := v2Alarm(`{"acknowledged":true,"acknowledgementTime":"2030-01-01T00:05:00.300","cleared":true,"active":false}`, "2030-01-01T00:00:01")
	var kinds []string
	collect := func() {
		for sub.Pending() > 0 {
			d, _ := sub.Next(ctx)
			for _, tr := range d.Alarms {
				if tr.Alarm.Condition == "High Fuel" {
					kinds = append(kinds, tr.Kind.String())
				}
			}
		}
	}
	for _, batch := range [][]feed.Message{{raised}, {raised, raised}, {acked}, {raised, acked}, {cleared}, {cleared, acked, raised}} {
		if err := f.Deliver(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		collect()
	}
	if got := strings.Join(kinds, ","); got != "raised,acknowledged,cleared" {
		t.Errorf("transitions %q", got)
	}
	var a *model.Alarm
	for _, x := range rig.Store.Snapshot().Alarms() {
		if x.Condition == "High Fuel" {
			a = x
		}
	}
	if want := time.Date(2030, 1, 1, 0, 5, 0, 300e6, time.UTC); a == nil || !a.AckTime.Equal(want) || a.AckActor != model.AckActorUpstream {
		t.Errorf("alarm %+v: AckTime want %v", a, want)
	}
	if n := strings.Count(logs.String(), "v2 message already applied"); n != 1 {
		t.Errorf("duplicates logged %d times, want once", n)
	}

	if err := f.Deliver(ctx, v2Env("temperature", "21.5", "2030-01-01T00:00:00"), v2Env("humidity", "40", "2030-01-01T00:00:01")); err != nil {
		t.Fatal(err)
	}
	snap := rig.Store.Snapshot()
	li, ok := snap.Structure().LocationIndex(model.IBXLocation("CH1"))
	if !ok {
		t.Fatal("no CH1")
	}
	env := snap.Environment(li)
	if env.Temperature.String() != "21.5" || env.Humidity.String() != "40" {
		t.Errorf("environment after a temperature then a humidity message: %+v", env.Environment)
	}
	// An older temperature (a replay) is a duplicate and changes nothing.
	if err := f.Deliver(ctx, v2Env("temperature", "99", "2029-01-01T00:00:00")); err != nil {
		t.Fatal(err)
	}
	if env := rig.Store.Snapshot().Environment(li); env.Temperature.String() != "21.5" {
		t.Errorf("a replayed older temperature changed it to %s", env.Temperature.String())
	}
}

// fakeStreamAPI is a v2 Subscriptions API in memory whose create answers
// no body (the description's 201 with only a Location header).
type fakeStreamAPI struct {
	subs    []smartview.StreamSubscription
	n       int
	creates int
	updates int
}

func (f *fakeStreamAPI) StreamSubscriptions(context.Context) ([]smartview.StreamSubscription, error) {
	return append([]smartview.StreamSubscription(nil), f.subs...), nil
}

func (f *fakeStreamAPI) StreamSubscription(_ context.Context, id string) (*smartview.StreamSubscription, error) {
	for i := range f.subs {
		if f.subs[i].ID == id {
			s := f.subs[i]
			return &s, nil
		}
	}
	return nil, fmt.Errorf("subscription %s: %w", id, smartview.ErrNotFound)
}

func (f *fakeStreamAPI) CreateStreamSubscription(_ context.Context, req smartview.StreamSubscriptionRequest) (*smartview.StreamSubscription, error) {
	f.n++
	f.creates++
	f.subs = append(f.subs, smartview.StreamSubscription{ID: fmt.Sprint("sub-", f.n), Status: "ACTIVE", MessageType: req.MessageType, Channel: req.Channel})
	return nil, nil
}

func (f *fakeStreamAPI) UpdateStreamSubscription(_ context.Context, id string, req smartview.StreamSubscriptionRequest) error {
	f.updates++
	for i := range f.subs {
		if f.subs[i].ID == id {
			f.subs[i].MessageType, f.subs[i].Channel = req.MessageType, req.Channel
			return nil
		}
	}
	return smartview.ErrNotFound
}

func (f *fakeStreamAPI) DeleteStreamSubscription(_ context.Context, id string) error {
	for i := range f.subs {
		if f.subs[i].ID == id {
			f.subs = append(f.subs[:i], f.subs[i+1:]...)
			return nil
		}
	}
	return smartview.ErrNotFound
}

// TestStreamSubscriptionLifecycle: created once (found by listing when the
// create answers no body), kept across restarts, updated when an IBX or a
// message type is added (keeping what it had), found again by listing when
// the state file is lost, moved to another channel when the provider
// changes, and deleted.
func TestStreamSubscriptionLifecycle(t *testing.T) {
	api := &fakeStreamAPI{}
	dir := t.TempDir()
	mgr := func(types map[string][]string, ch *smartview.StreamChannel) *feed.StreamSubscriptions {
		return &feed.StreamSubscriptions{API: api, AccountNo: "1", Types: types, Channel: ch, StatePath: feed.StreamStatePath(dir)}
	}
	ctx := context.Background()
	id, err := mgr(map[string][]string{"CH1": {"systemAlert", "power"}}, nil).Ensure(ctx)
	if err != nil || id != "sub-1" {
		t.Fatalf("create: %q, %v", id, err)
	}
	for range 2 { // restarts
		if id, err := mgr(map[string][]string{"CH1": {"systemAlert", "power"}}, nil).Ensure(ctx); err != nil || id != "sub-1" {
			t.Fatalf("restart: %q, %v", id, err)
		}
	}
	if api.creates != 1 || api.updates != 0 {
		t.Fatalf("%d creates, %d updates", api.creates, api.updates)
	}
	if id, err := mgr(map[string][]string{"CH1": {"systemAlert"}, "SV4": {"systemAlert", "environmental"}}, nil).Ensure(ctx); err != nil || id != "sub-1" || api.updates != 1 {
		t.Fatalf("update: %q, %v, %d updates", id, err, api.updates)
	}
	mt := api.subs[0].MessageType
	if len(mt.Power) != 1 || strings.Join(mt.Power[0].IBX, ",") != "CH1" || strings.Join(mt.SystemAlert[0].IBX, ",") != "CH1,SV4" || len(mt.Environmental) != 1 {
		t.Errorf("after the update: %+v", mt)
	}
	if err := os.Remove(feed.StreamStatePath(dir)); err != nil {
		t.Fatal(err)
	}
	if id, err := mgr(map[string][]string{"CH1": {"systemAlert"}}, nil).Ensure(ctx); err != nil || id != "sub-1" || api.creates != 1 {
		t.Fatalf("without the state file: %q, %v, %d creates", id, err, api.creates)
	}
	hook := &smartview.StreamChannel{ChannelType: smartview.ChannelWebhook, Webhook: &smartview.StreamWebhook{URL: "https://gw.example/hook"}}
	// The gateway's subscription moves to the new channel: one per gateway.
	id2, err := mgr(map[string][]string{"CH1": {"systemAlert"}}, hook).Ensure(ctx)
	if err != nil || id2 != "sub-1" || api.creates != 1 || api.updates != 2 || api.subs[0].Channel == nil ||
		api.subs[0].Channel.Webhook.URL != "https://gw.example/hook" {
		t.Fatalf("another channel: %q, %v, %d creates, %d updates", id2, err, api.creates, api.updates)
	}
	if got, err := mgr(nil, hook).Delete(ctx); err != nil || got != id2 || len(api.subs) != 0 {
		t.Fatalf("delete: %q, %v, %d left", got, err, len(api.subs))
	}
	if _, err := os.Stat(feed.StreamStatePath(dir)); !os.IsNotExist(err) {
		t.Errorf("state file after delete: %v", err)
	}
}
