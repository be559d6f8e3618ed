// Package feedtest helps the feed packages' tests: a model filled from the
// built-in sandbox through the real client and poller, a Receiver that
// records what a consumer delivers, documented-shape events, and the
// starting of the real peers (the Pub/Sub emulator, local-aws-sqs, the
// AMQP 1.0 stand-in in test/, a kfake Kafka broker fed by kcat) on loopback.
//
// It is for tests only; nothing in the gateway imports it.
package feedtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/poll"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// Rig is a sandbox served over HTTP, a client of it, and a model filled by
// one complete poll cycle.
type Rig struct {
	Sandbox *sandbox.Server
	Client  *smartview.Client
	Store   *model.Store
	Poller  *poll.Poller
	URL     string
}

// NewRig starts the small sandbox (not ticking: it changes only when told)
// and syncs it once into a fresh store.
func NewRig(t testing.TB) *Rig {
	t.Helper()
	return NewRigWith(t, sandbox.Config{Seed: 1})
}

// NewRigWith is NewRig with a sandbox of cfg.
func NewRigWith(t testing.TB, cfg sandbox.Config) *Rig {
	t.Helper()
	sb, err := sandbox.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	id, secret, _, _ := sb.Credentials()
	client, err := smartview.New(smartview.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret,
		AccountNo: sb.AccountNo(), RateLimit: -1}, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := model.NewStore(model.Options{StaleAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pc := poll.Config{}
	if err := pc.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := poll.New(pc, client, store, sb.IBXs(), poll.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if res := p.Cycle(ctx, true); res.Failed > 0 || !res.StructureOK {
		t.Fatalf("initial sync: %+v", res)
	}
	return &Rig{Sandbox: sb, Client: client, Store: store, Poller: p, URL: srv.URL}
}

// Subscriptions returns a subscription manager for the rig's sandbox API
// with its state file in dir.
func (r *Rig) Subscriptions(dir, provider string) *feed.Subscriptions {
	return &feed.Subscriptions{API: r.Client, AccountNo: r.Sandbox.AccountNo(), IBXs: r.Sandbox.IBXs(),
		Events: feed.EventKinds, Provider: feed.APIProvider(provider), Method: "PULL",
		StatePath: feed.StatePath(dir)}
}

// StartFeed runs a Feed with consumer c on the rig's store until the test
// ends. cfg is validated here (Provider defaults to "sandbox", the
// subscription is not managed unless cfg says so).
func (r *Rig) StartFeed(t testing.TB, cfg feed.Config, c feed.Consumer, opts feed.Options) *feed.Feed {
	t.Helper()
	if cfg.Provider == "" {
		cfg.Provider = feed.ProviderSandbox
	}
	if cfg.ManageSubscription == nil {
		no := false
		cfg.ManageSubscription = &no
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f, err := feed.New(cfg, r.Store, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	svctest.Start(t, f.Run)
	return f
}

// WaitFor polls cond every 20ms until it is true, failing after limit.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TagValue returns a tag's current text in the store ("" when unknown).
func TagValue(s *model.Store, tagID string) string {
	snap := s.Snapshot()
	i, ok := snap.Structure().TagIndex(tagID)
	if !ok {
		return ""
	}
	return snap.Tag(i).Value.String()
}

// TagEvent is a documented tagpoint_updated event.
func TagEvent(tagID, value string, readingTime time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"name": "tagpoint_updated", "data": map[string]any{
		"tagId": tagID, "value": value, "readingTime": fmt.Sprint(readingTime.UnixMilli())}})
	return b
}

// AlarmEvent is a documented alarm_updated event (lowercase fields,
// integer severity, numbers as strings).
func AlarmEvent(ibx, assetID, tagID, condition string, severity int, active bool, triggered, processed time.Time) []byte {
	b, _ := json.Marshal(map[string]any{"name": "alarm_updated", "alarm": map[string]any{
		"ibx": ibx, "assetid": assetID, "tagid": tagID, "conditionname": condition, "severity": severity,
		"status": active, "timetriggered": fmt.Sprint(triggered.UnixMilli()), "timeprocessed": fmt.Sprint(processed.UnixMilli()),
		"value": "1", "uom": "", "assetclassification": "Electrical", "assettype": "Generator", "accountno": "1"}})
	return b
}

// Recorder is a feed.Receiver that records deliveries. FailFirst makes its
// first n Deliver calls fail (nothing applied), to test redelivery.
type Recorder struct {
	mu           sync.Mutex
	FailFirst    int
	calls        int
	messages     []feed.Message
	connected    int
	disconnected int
}

// Deliver implements feed.Receiver.
func (r *Recorder) Deliver(_ context.Context, msgs ...feed.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.FailFirst {
		return fmt.Errorf("feedtest: delivery %d fails on purpose", r.calls)
	}
	for _, m := range msgs {
		m.Data = append([]byte(nil), m.Data...)
		r.messages = append(r.messages, m)
	}
	return nil
}

// Connected implements feed.Receiver.
func (r *Recorder) Connected() { r.mu.Lock(); r.connected++; r.mu.Unlock() }

// Disconnected implements feed.Receiver.
func (r *Recorder) Disconnected(error) { r.mu.Lock(); r.disconnected++; r.mu.Unlock() }

// Messages returns the messages delivered successfully so far.
func (r *Recorder) Messages() []feed.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]feed.Message(nil), r.messages...)
}

// Calls returns how many times Deliver was called.
func (r *Recorder) Calls() int { r.mu.Lock(); defer r.mu.Unlock(); return r.calls }

// Connections returns how often Connected and Disconnected were called.
func (r *Recorder) Connections() (connected, disconnected int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connected, r.disconnected
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of ds, sorting ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// TagWatcher reports when a store commits a change of one tag.
type TagWatcher struct {
	changed chan struct{}
}

// WatchTag follows the store's change stream until the test ends and
// signals every delta that changes tagID.
func WatchTag(t testing.TB, s *model.Store, tagID string) *TagWatcher {
	snap, sub := s.Subscribe()
	idx, ok := snap.Structure().TagIndex(tagID)
	if !ok {
		t.Fatalf("tag %s not in the model", tagID)
	}
	w := &TagWatcher{changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		for {
			d, err := sub.Next(ctx)
			if err != nil {
				return
			}
			if slices.Contains(d.Tags, int32(idx)) || d.StructureChanged {
				select {
				case w.changed <- struct{}{}:
				default:
				}
			}
		}
	}()
	return w
}

// Wait waits (at most limit) for the next change; false on timeout.
func (w *TagWatcher) Wait(limit time.Duration) bool {
	select {
	case <-w.changed:
		return true
	case <-time.After(limit):
		return false
	}
}

// Changes reads every delta waiting on sub and counts the tag changes and
// the raised alarms in them.
func Changes(t testing.TB, sub *model.Subscription) (tags, raised int) {
	t.Helper()
	for sub.Pending() > 0 {
		d, err := sub.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tags += len(d.Tags)
		for _, tr := range d.Alarms {
			if tr.Kind == model.AlarmRaised {
				raised++
			}
		}
	}
	return tags, raised
}

// Require returns p, a peer started for the package's tests, or ends the
// test: skipped when the peer is not installed here (and SVGATEWAY_E2E is
// not set), failed otherwise.
func Require(t testing.TB, p *Process, err error) *Process {
	t.Helper()
	if p == nil {
		if errors.Is(err, ErrMissing) && os.Getenv("SVGATEWAY_E2E") != "1" {
			t.Skipf("%v", err)
		}
		t.Fatalf("%v", err)
	}
	return p
}

// ReportLatency reports the median and 99th percentile of lat on b.
func ReportLatency(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(Percentile(lat, 50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(Percentile(lat, 99).Microseconds()), "p99-µs")
}
