// Package feedtest helps the feed packages' tests: a model filled from the
// built-in sandbox through the real client and poller, a Receiver that
// records what a consumer delivers, documented-shape events, and the
// starting of the real peers (the Pub/Sub emulator, local-aws-sqs, the
// AMQP 1.0 stand-in in test/) on loopback.
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
	"path/filepath"
	"sync"
	"testing"
	"time"

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
	sb, err := sandbox.New(sandbox.Config{Seed: 1}, nil)
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("feed.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("feed.Run did not return within 30s of cancel")
		}
	})
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

// RepoRoot returns the module root (the directory holding go.mod), found
// upwards from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("feedtest: go.mod not found above the working directory")
}
