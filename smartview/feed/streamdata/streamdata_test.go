package streamdata_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/streamdata"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

func streamConfig(t *testing.T) feed.Config {
	t.Helper()
	yes := true
	cfg := feed.Config{Provider: feed.ProviderSubscriptionData, ManageSubscription: &yes,
		Stream: feed.StreamConfig{PollInterval: time.Second, PageSize: 7}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func findAlarm(s *model.Store, tagID, condition string) *model.Alarm {
	for _, a := range s.Snapshot().Alarms() {
		if a.TagID == tagID && a.Condition == condition {
			return a
		}
	}
	return nil
}

// TestSubscriptionDataEndToEnd: the gateway's v2 subscription is created in
// the sandbox, its data read page by page (a page size smaller than the
// data), and an alarm raised, acknowledged and cleared, a tag and a sensor
// changed in the sandbox reach the model; the acknowledgement carries the
// sandbox's acknowledgement time. A restart finds the same subscription.
func TestSubscriptionDataEndToEnd(t *testing.T) {
	rig := feedtest.NewRig(t)
	cfg := streamConfig(t)
	dir := t.TempDir()
	subs := &feed.StreamSubscriptions{API: rig.Client, AccountNo: rig.Sandbox.AccountNo(),
		Types: cfg.StreamTypesByIBX(rig.Sandbox.IBXs()), StatePath: feed.StreamStatePath(dir)}
	var logs svctest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c := streamdata.New(cfg, rig.Client, log)
	rig.StartFeed(t, cfg, c, feed.Options{StreamSubscriptions: subs, Logger: log})
	feedtest.WaitFor(t, 15*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})

	const tagID, cond = "CH1.Gen-2:voltage", "Low Voltage v2"
	spec := sandbox.AlarmSpec{AssetID: "CH1.Gen-2", TagID: tagID, ConditionName: cond, Severity: 650}
	if _, err := rig.Sandbox.RaiseAlarm(spec); err != nil {
		t.Fatal(err)
	}
	// Enough other messages that the data spans several pages of 7.
	for i := range 20 {
		if err := rig.Sandbox.SetTag("CH1.Gen-1:fuelhours", fmt.Sprintf("%d.5", 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rig.Sandbox.SetSensor("CH1.Colo.CH1_05_000550_0105", 27.5, 44); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the v2 alarm, active", func() bool {
		a := findAlarm(rig.Store, tagID, cond)
		return a != nil && a.State == model.AlarmActive
	})
	feedtest.WaitFor(t, 15*time.Second, "the last fuelhours value", func() bool {
		return feedtest.TagValue(rig.Store, "CH1.Gen-1:fuelhours") == "119.5"
	})

	time.Sleep(5 * time.Millisecond) // the acknowledgement gets a time of its own
	ref, err := rig.Sandbox.AckAlarm(spec)
	if err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the acknowledgement", func() bool {
		a := findAlarm(rig.Store, tagID, cond)
		return a != nil && a.State == model.AlarmAcknowledged
	})
	a := findAlarm(rig.Store, tagID, cond)
	if want := time.UnixMilli(ref.TimeAcknowledged); !a.AckTime.Equal(want) || a.AckActor != model.AckActorUpstream {
		t.Errorf("AckTime = %v (%s), want the sandbox's acknowledgement time %v", a.AckTime, a.AckActor, want)
	}
	if _, err := rig.Sandbox.ClearAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the clear", func() bool {
		a := findAlarm(rig.Store, tagID, cond)
		return a != nil && a.State == model.AlarmCleared
	})
	if n := len(filter(rig.Store.Snapshot().Alarms(), func(a *model.Alarm) bool { return a.TagID == tagID && a.Condition == cond })); n != 1 {
		t.Errorf("%d alarms for one alarm's life", n)
	}
	h := rig.Store.Snapshot().Health().Feed
	if h.Malformed != 0 || h.Unknown != 0 {
		t.Errorf("feed health = %+v", h)
	}
	if r, s := c.Anomalies(); r != 0 || s != 0 {
		t.Errorf("the sandbox's pages repeated %d and skipped %d times", r, s)
	}

	// A restart: the same subscription is found (state file), none is added.
	id1, err := (&feed.StreamSubscriptions{StatePath: feed.StreamStatePath(dir)}).LoadID()
	if err != nil || id1 == "" {
		t.Fatalf("state file: %q, %v", id1, err)
	}
	again := &feed.StreamSubscriptions{API: rig.Client, AccountNo: rig.Sandbox.AccountNo(),
		Types: cfg.StreamTypesByIBX(rig.Sandbox.IBXs()), StatePath: feed.StreamStatePath(dir)}
	id2, err := again.Ensure(context.Background())
	if err != nil || id2 != id1 {
		t.Errorf("after a restart Ensure = %q, %v; want %q", id2, err, id1)
	}
	list, err := rig.Client.StreamSubscriptions(context.Background())
	if err != nil || len(list) != 1 {
		t.Errorf("subscriptions after a restart: %d, %v", len(list), err)
	}

	// Deleted upstream: the feed registers a new subscription and reads it.
	if err := rig.Client.DeleteStreamSubscription(context.Background(), id1); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	feedtest.WaitFor(t, 20*time.Second, "a new subscription", func() bool {
		list, err := rig.Client.StreamSubscriptions(context.Background())
		return err == nil && len(list) == 1 && list[0].ID != id1
	})
	feedtest.WaitFor(t, 20*time.Second, "the feed connected again", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	if err := rig.Sandbox.SetTag("CH1.Gen-1:fuelhours", "777.5"); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "a value through the new subscription", func() bool {
		return feedtest.TagValue(rig.Store, "CH1.Gen-1:fuelhours") == "777.5"
	})
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// pagedAPI serves a fixed list of messages in pages, with anomalies: the
// pages asked for at the offsets in skip answer one page further on once,
// those in repeat answer the previous page once.
type pagedAPI struct {
	mu     sync.Mutex
	msgs   []json.RawMessage
	skip   map[int]bool
	repeat map[int]bool
	noPag  bool
	// noTotal leaves pagination.total out (0) and says next instead.
	noTotal bool
}

func (p *pagedAPI) StreamData(_ context.Context, _ string, q smartview.StreamDataQuery) (*smartview.StreamDataPage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	off := q.Offset
	switch {
	case p.skip[off]:
		delete(p.skip, off)
		off += q.Limit
	case p.repeat[off]:
		delete(p.repeat, off)
		off = max(off-q.Limit, 0)
	}
	end := min(off+q.Limit, len(p.msgs))
	page := &smartview.StreamDataPage{Messages: slices.Clone(p.msgs[min(off, len(p.msgs)):end]), HasPagination: !p.noPag,
		Pagination: smartview.StreamPagination{Offset: off, Limit: q.Limit, Total: len(p.msgs)}}
	if p.noTotal {
		page.Pagination.Total = 0
		if end < len(p.msgs) {
			page.Pagination.Next = fmt.Sprintf("?offset=%d&limit=%d", end, q.Limit)
		}
	}
	return page, nil
}

// TestPagesThatRepeatOrSkip: a page answered out of place is counted,
// logged once per kind, asked again, and every message is delivered —
// none lost, and what is delivered twice is dropped by the Feed's dedupe.
func TestPagesThatRepeatOrSkip(t *testing.T) {
	var msgs []json.RawMessage
	for i := range 30 {
		msgs = append(msgs, json.RawMessage(fmt.Sprintf(`{"type":"tag-point","data":{"streamId":"S%d","ibx":"CH1","tag":{"id":"T%d"},"reading":{"value":"%d"},"readingTime":"2024-01-01T00:00:00","dataQuality":"Good"}}`, i, i, i)))
	}
	for _, tc := range []struct {
		name           string
		skip, repeat   map[int]bool
		repeats, skip_ uint64
		noTotal, noPag bool
	}{
		{"clean", nil, nil, 0, 0, false, false},
		{"no total, next links", nil, nil, 0, 0, true, false},
		{"no pagination", nil, nil, 0, 0, false, true},
		{"skip", map[int]bool{7: true, 21: true}, nil, 0, 2, false, false},
		{"repeat", nil, map[int]bool{14: true}, 1, 0, false, false},
		{"both", map[int]bool{0: true}, map[int]bool{7: true, 28: true}, 2, 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs svctest.Buffer
			cfg := streamConfig(t)
			api := &pagedAPI{msgs: msgs, skip: tc.skip, repeat: tc.repeat, noTotal: tc.noTotal, noPag: tc.noPag}
			c := streamdata.New(cfg, api, slog.New(slog.NewTextHandler(&logs, nil)))
			rec := &feedtest.Recorder{}
			if err := c.Read(context.Background(), "sub", rec); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, m := range rec.Messages() {
				var v struct{ Data struct{ StreamID string } }
				json.Unmarshal(m.Data, &v)
				seen[v.Data.StreamID]++
			}
			for i := range 30 {
				if seen[fmt.Sprintf("S%d", i)] == 0 {
					t.Errorf("message S%d lost", i)
				}
			}
			if r, s := c.Anomalies(); r != tc.repeats || s != tc.skip_ {
				t.Errorf("anomalies: %d repeats, %d skips; want %d, %d", r, s, tc.repeats, tc.skip_)
			}
			for _, kind := range []string{"repeat", "skip"} {
				if n := strings.Count(logs.String(), "page out of place ("+kind+")"); n > 1 {
					t.Errorf("%s logged %d times", kind, n)
				}
			}
		})
	}
}

// TestSubscriptionDataUnderFaults: with the sandbox's fault switches on
// (429 with Retry-After, 503, bodies cut short or of the wrong types), an
// alarm's raise, acknowledgement and clear still reach the model once each:
// the client retries, a page that does not decode fails the pass (the
// feed reconnects with backoff) and the next pass reads it again.
func TestSubscriptionDataUnderFaults(t *testing.T) {
	rig := feedtest.NewRig(t)
	cfg := streamConfig(t)
	cfg.ReconnectMin, cfg.ReconnectMax = 50*time.Millisecond, 200*time.Millisecond
	subs := &feed.StreamSubscriptions{API: rig.Client, AccountNo: rig.Sandbox.AccountNo(),
		Types: cfg.StreamTypesByIBX(rig.Sandbox.IBXs()), StatePath: feed.StreamStatePath(t.TempDir())}
	rig.StartFeed(t, cfg, streamdata.New(cfg, rig.Client, nil), feed.Options{StreamSubscriptions: subs})
	feedtest.WaitFor(t, 15*time.Second, "feed connected", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	if err := rig.Sandbox.SetFaults(sandbox.Faults{RateLimit: 0.1, RetryAfter: time.Second, Unavailable: 0.3, Malformed: 0.3}); err != nil {
		t.Fatal(err)
	}
	_, sub := rig.Store.Subscribe()
	var kinds []string
	collect := func() {
		for sub.Pending() > 0 {
			d, _ := sub.Next(context.Background())
			for _, tr := range d.Alarms {
				if tr.Alarm.Condition == "Faulty Data" {
					kinds = append(kinds, tr.Kind.String())
				}
			}
		}
	}
	spec := sandbox.AlarmSpec{AssetID: "CH1.Gen-2", TagID: "CH1.Gen-2:voltage", ConditionName: "Faulty Data", Severity: 850}
	for i, step := range []func(sandbox.AlarmSpec) (sandbox.AlarmRef, error){rig.Sandbox.RaiseAlarm, rig.Sandbox.AckAlarm, rig.Sandbox.ClearAlarm} {
		if _, err := step(spec); err != nil {
			t.Fatal(err)
		}
		feedtest.WaitFor(t, 60*time.Second, fmt.Sprintf("transition %d", i+1), func() bool { collect(); return len(kinds) > i })
	}
	time.Sleep(2 * time.Second) // more passes over the same data
	collect()
	if got := strings.Join(kinds, ","); got != "raised,acknowledged,cleared" {
		t.Errorf("transitions %q", got)
	}
	st := rig.Sandbox.Stats()
	t.Logf("sandbox faults: %v", st.FaultsInjected)
	if st.FaultsInjected["malformed"]+st.FaultsInjected["503"]+st.FaultsInjected["429"] == 0 {
		t.Error("no fault was drawn")
	}
}
