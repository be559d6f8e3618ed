package poll

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestWatchdogByTheClock: with a call that never returns, the watchdog turns
// upstream degraded once the call is overdue, and marks stale (committed, so
// subscribers see it) what was not confirmed within stale_after.
func TestWatchdogByTheClock(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	store, err := model.NewStore(model.Options{StaleAfter: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	client, err := smartview.New(smartview.Config{BaseURL: "http://127.0.0.1:1", ClientID: "x", ClientSecret: "y", AccountNo: "1"}, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, client, store, []string{"CH1"}, Options{Now: clock.Now, CallDeadline: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{"CH1": {Locations: []model.Location{{ID: model.IBXLocation("CH1")}}}})
		tx.SetUpstream(model.UpstreamOK, "")
		return tx.SetPower(model.IBXLocation("CH1"), model.Power{KVA: model.Number(1)}, time.Time{})
	})
	li, _ := store.Snapshot().Structure().LocationIndex(model.IBXLocation("CH1"))
	p.started() // a call that never answers
	steps := []struct {
		advance   time.Duration
		upstream  model.UpstreamState
		committed bool // the stale mark is committed (a delta for subscribers)
	}{
		{advance: 30 * time.Second, upstream: model.UpstreamOK},
		{advance: time.Second, upstream: model.UpstreamDegraded},
		{advance: 29 * time.Second, upstream: model.UpstreamDegraded},
		{advance: time.Second, upstream: model.UpstreamDegraded, committed: true},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		before := store.Snapshot().Seq()
		p.Check()
		snap := store.Snapshot()
		if h := snap.Health(); h.Upstream != st.upstream {
			t.Errorf("step %d: upstream %v, want %v", i, h.Upstream, st.upstream)
		} else if st.upstream == model.UpstreamDegraded && !strings.Contains(h.UpstreamError, "unanswered") {
			t.Errorf("step %d: upstream error %q does not say why", i, h.UpstreamError)
		}
		if committed := snap.Seq() != before && snap.Power(li).Quality == model.QualityStale; st.committed && !committed {
			t.Errorf("step %d: the stale value was not committed", i)
		}
	}
}

// TestHungUpstreamMarksValuesStale runs the poller against the sandbox over
// real HTTP, then makes every connection hang (accepted, never answered):
// within stale_after + 1 s of the last confirmation the values are stale,
// and upstream is no longer "ok" once calls are overdue, although the cycle
// in progress has not ended.
func TestHungUpstreamMarksValuesStale(t *testing.T) {
	sbCfg := sandbox.Config{Profile: "small"}
	if err := sbCfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(sbCfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var hang atomic.Bool
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select { // never answers; the connection stays open
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	id, secret, _, _ := sb.Credentials()
	apiCfg := smartview.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, AccountNo: sb.AccountNo(),
		RateLimit: -1, Timeout: 30 * time.Second, RetryBudget: time.Minute}
	if err := apiCfg.Validate(); err != nil {
		t.Fatal(err)
	}
	client, err := smartview.New(apiCfg, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const staleAfter = 2 * time.Second
	store, err := model.NewStore(model.Options{StaleAfter: staleAfter})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{ValuesInterval: time.Second, StaleAfter: staleAfter, SkipAffectedAssets: true}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg, client, store, sb.IBXs(), Options{CallDeadline: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	waitFor := func(what string, limit time.Duration, ok func(*model.Snapshot) bool) *model.Snapshot {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			snap := store.Snapshot()
			if ok(snap) {
				return snap
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v (health %+v)", what, limit, snap.Health())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("ready", time.Minute, func(s *model.Snapshot) bool { return !s.Health().LastSync.IsZero() })
	hang.Store(true)
	confirmed := func(s *model.Snapshot) time.Time {
		li, _ := s.Structure().LocationIndex(model.IBXLocation("CH1"))
		return s.Power(li).Confirmed
	}
	// Calls made before the hang may still confirm values: wait until no answer comes back.
	last := confirmed(store.Snapshot())
	time.Sleep(500 * time.Millisecond)
	for c := confirmed(store.Snapshot()); !c.Equal(last); c = confirmed(store.Snapshot()) {
		last = c
		time.Sleep(500 * time.Millisecond)
	}
	limit := time.Until(last.Add(staleAfter + time.Second))
	waitFor("CH1 power stale", limit, func(s *model.Snapshot) bool {
		li, _ := s.Structure().LocationIndex(model.IBXLocation("CH1"))
		return s.Power(li).Quality == model.QualityStale
	})
	t.Logf("stale %v after the last confirmation", time.Since(last).Round(time.Millisecond))
	// The calls in flight are overdue after the call deadline (1 s here): upstream is no longer "ok".
	snap := waitFor("upstream degraded", 10*time.Second, func(s *model.Snapshot) bool { return s.Health().Upstream != model.UpstreamOK })
	if !strings.Contains(snap.Health().UpstreamError, "unanswered") {
		t.Errorf("upstream error %q does not say calls are unanswered", snap.Health().UpstreamError)
	}
}
