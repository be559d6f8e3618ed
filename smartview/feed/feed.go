package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
)

// ErrSubscriptionGone is returned (wrapped) by a consumer whose subscription
// no longer exists upstream (the API answers 404 for it): the Feed then
// registers the subscription again.
var ErrSubscriptionGone = errors.New("feed: the subscription no longer exists")

// Options are a Feed's runtime dependencies.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics not registered
	// Subscriptions manages the SmartView subscription; nil when
	// Config.Manage() is false.
	Subscriptions *Subscriptions
	// StreamSubscriptions manages the v2 streaming subscription instead
	// (the v2 providers); the consumer is given its id as the name to read.
	StreamSubscriptions *StreamSubscriptions
	// Location reads the events' zone-less times (default UTC).
	Location *time.Location
	// OnRecover is called when the feed connects again after being down:
	// the poller's RefreshNow, so a poll reconciles what was missed.
	OnRecover func()
	// ProviderLabel is the provider shown in the model's feed health
	// (default Config.Provider).
	ProviderLabel string
}

// Feed is the near-real-time feed subsystem: it keeps the SmartView
// subscription, runs the provider's consumer with reconnects, applies its
// events to the model and records the feed's health there.
type Feed struct {
	cfg      Config
	store    *model.Store
	consumer Consumer
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	applier  *applier
	limiter  *logLimiter

	mu     sync.Mutex
	health model.FeedHealth
	// wasDown: the feed was down since it last connected (recovery calls OnRecover).
	wasDown bool
	// connectedAt is when the current connection came up (zero: not up).
	connectedAt time.Time
	name        string // the subscription name to read, once known
	// renamed cancels the running Receive when the name changes.
	renamed   context.CancelFunc
	nameKnown chan struct{}
	rate      rateMeter
}

// New returns a Feed. cfg must have been validated.
func New(cfg Config, store *model.Store, consumer Consumer, opts Options) (*Feed, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.ProviderLabel == "" {
		opts.ProviderLabel = cfg.Provider
	}
	m := newMetrics()
	if opts.Registerer != nil {
		if err := m.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	f := &Feed{cfg: cfg, store: store, consumer: consumer, opts: opts, log: opts.Logger, metrics: m,
		limiter:   &logLimiter{log: opts.Logger, interval: time.Minute, keys: map[string]*limited{}},
		nameKnown: make(chan struct{})}
	f.health = model.FeedHealth{State: model.FeedConnecting, Provider: opts.ProviderLabel}
	f.applier = newApplier(store, opts.Location, cfg.MaxBatch, m, f.onBatch)
	observe := func(op string, err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.subOps.WithLabelValues(op, result).Inc()
	}
	if s := opts.Subscriptions; s != nil {
		s.observe = observe
		if s.Log == nil {
			s.Log = opts.Logger
		}
	}
	if s := opts.StreamSubscriptions; s != nil {
		s.observe = observe
		if s.Log == nil {
			s.Log = opts.Logger
		}
	}
	return f, nil
}

// Run runs the feed until ctx is done; it returns nil then. Failures are
// retried with bounded backoff and shown in the model's feed health: the
// REST sync goes on meanwhile.
func (f *Feed) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.applier.run(ctx, 5*time.Second, f.refreshRate)
	}()
	f.commitHealth()
	if !f.waitForStructure(ctx) {
		return nil
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.keepSubscription(ctx)
	}()
	select {
	case <-f.nameKnown:
	case <-ctx.Done():
		return nil
	}
	b := backoff{min: f.cfg.ReconnectMin, max: f.cfg.ReconnectMax}
	for {
		f.mu.Lock()
		name := f.name
		rctx, rcancel := context.WithCancel(ctx)
		f.renamed = rcancel
		f.mu.Unlock()
		err := f.consumer.Receive(rctx, name, f)
		renamed := rctx.Err() != nil
		rcancel()
		if ctx.Err() != nil {
			return nil
		}
		if renamed { // the name changed: read the new one at once
			continue
		}
		if errors.Is(err, ErrSubscriptionGone) && f.opts.StreamSubscriptions != nil {
			// Deleted upstream: register again (retried with backoff), then read the new one.
			f.log.Warn("the v2 stream subscription is gone upstream; registering it again", "err", err)
			f.Disconnected(err)
			f.keepStreamSubscription(ctx)
			continue
		}
		if err == nil {
			err = errors.New("the consumer stopped")
		}
		f.mu.Lock()
		if !f.connectedAt.IsZero() && time.Since(f.connectedAt) > 2*f.cfg.ReconnectMax {
			b.reset() // it was up for a good while: this is a new failure
		}
		f.mu.Unlock()
		f.metrics.reconnects.Inc()
		f.Disconnected(err)
		wait := b.next()
		f.log.Warn("feed connection failed; reconnecting", "provider", f.opts.ProviderLabel, "in", wait.Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// waitForStructure waits until the model has a structure (the first
// structure sync), so that early events are not skipped as unknown.
func (f *Feed) waitForStructure(ctx context.Context) bool {
	snap, sub := f.store.Subscribe()
	if len(snap.Structure().IBXs()) > 0 {
		return true
	}
	for {
		d, err := sub.Next(ctx)
		if err != nil {
			return false
		}
		if d.StructureChanged && len(f.store.Snapshot().Structure().IBXs()) > 0 {
			return true
		}
	}
}

// keepSubscription resolves the subscription name to read: the remembered
// one at once, then the SmartView subscription (created or updated, retried
// with backoff until it succeeds).
func (f *Feed) keepSubscription(ctx context.Context) {
	if f.opts.StreamSubscriptions != nil {
		f.keepStreamSubscription(ctx)
		return
	}
	s := f.opts.Subscriptions
	if s == nil {
		f.setName("")
		return
	}
	if st, err := s.LoadState(); err == nil && st.ID != "" && st.Name != "" {
		f.setName(st.Name) // start reading while the API is asked
	} else if f.cfg.namesSource() {
		f.setName("") // the consumer reads what its configuration names
	}
	b := backoff{min: f.cfg.ReconnectMin, max: f.cfg.ReconnectMax}
	for {
		sub, err := s.Ensure(ctx)
		if err == nil {
			f.setName(sub.SubscriptionName)
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait := b.next()
		f.log.Warn("feed subscription not registered; retrying", "in", wait.Round(time.Millisecond), "err", err)
		f.setError("subscription: " + err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// keepStreamSubscription is keepSubscription for the v2 streaming API:
// the name to read is the subscription's id.
func (f *Feed) keepStreamSubscription(ctx context.Context) {
	s := f.opts.StreamSubscriptions
	if id, err := s.LoadID(); err == nil && id != "" {
		f.setName(id) // start reading while the API is asked
	} else if f.cfg.namesSource() {
		f.setName("") // a push channel: its listener starts at once
	}
	b := backoff{min: f.cfg.ReconnectMin, max: f.cfg.ReconnectMax}
	for {
		id, err := s.Ensure(ctx)
		if err == nil {
			f.setName(id)
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait := b.next()
		f.log.Warn("v2 stream subscription not registered; retrying", "in", wait.Round(time.Millisecond), "err", err)
		f.setError("subscription: " + err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (f *Feed) setName(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// Only subscription_data reads by the name (the subscription id).
	if f.name != name && f.renamed != nil && f.cfg.Provider == ProviderSubscriptionData {
		f.renamed()
	}
	f.name = name
	select {
	case <-f.nameKnown:
	default:
		close(f.nameKnown)
	}
}

// Deliver implements Receiver.
func (f *Feed) Deliver(ctx context.Context, msgs ...Message) error {
	return f.applier.deliver(ctx, msgs)
}

// Connected implements Receiver.
func (f *Feed) Connected() {
	f.mu.Lock()
	recovered := f.wasDown
	changed := f.health.State != model.FeedConnected
	f.wasDown = false
	f.health.State, f.health.Error = model.FeedConnected, ""
	if changed {
		f.connectedAt = time.Now()
	}
	f.mu.Unlock()
	if !changed {
		return
	}
	f.commitHealth()
	f.log.Info("feed connected", "provider", f.opts.ProviderLabel)
	if recovered && f.opts.OnRecover != nil {
		f.opts.OnRecover()
	}
}

// Disconnected implements Receiver.
func (f *Feed) Disconnected(err error) {
	f.mu.Lock()
	changed := f.health.State != model.FeedDown
	f.wasDown = true
	f.connectedAt = time.Time{}
	f.health.State = model.FeedDown
	if err != nil {
		f.health.Error = err.Error()
	}
	f.mu.Unlock()
	f.commitHealth()
	if changed {
		f.log.Warn("feed down", "provider", f.opts.ProviderLabel, "err", err)
	}
}

func (f *Feed) setError(text string) {
	f.mu.Lock()
	f.health.Error = text
	f.mu.Unlock()
	f.commitHealth()
}

// commitHealth writes the feed health into the model.
func (f *Feed) commitHealth() {
	f.store.Update(func(tx *model.Tx) error {
		f.mu.Lock()
		tx.SetFeed(f.health)
		f.mu.Unlock()
		return nil
	})
}

// onBatch counts a batch in the feed health (inside its model transaction)
// and logs what was rejected, rate-limited per kind.
func (f *Feed) onBatch(tx *model.Tx, events []*event, outcomes []Outcome) {
	now := tx.Now()
	f.mu.Lock()
	h := &f.health
	h.Events += uint64(len(events))
	h.LastEvent = now
	for i, e := range events {
		switch outcomes[i] {
		case OutcomeMalformed:
			h.Malformed++
		case OutcomeUnknown:
			h.Unknown++
		}
		// A source time far in the future is upstream's clock or a bad
		// event; it must not hide the lag.
		if e.err == nil && e.source.After(h.NewestEventTime) && e.source.Before(now.Add(5*time.Minute)) {
			h.NewestEventTime = e.source
		}
	}
	tx.SetFeed(*h)
	f.mu.Unlock()
	for i, e := range events {
		switch outcomes[i] {
		case OutcomeMalformed:
			f.limiter.warn(now, "malformed:"+e.kind.String(), "malformed feed event skipped (acknowledged)",
				"kind", e.kind.String(), "message_id", e.msg.ID, "err", e.err, "event", excerpt(e.msg.Data))
		case OutcomeUnknown:
			f.limiter.warn(now, "unknown:"+e.ev.Name, "feed event of an unknown kind skipped (acknowledged)",
				"name", e.ev.Name, "message_id", e.msg.ID)
		case OutcomeDuplicate:
			f.limiter.warn(now, "duplicate:"+e.kind.String(), "v2 message already applied (a redelivery, a repeated page or a replay of an older one) skipped",
				"kind", e.kind.String(), "stream_id", e.ev.StreamID, "message_id", e.msg.ID)
		}
	}
}

// refreshRate updates the events-per-second average in the feed health.
func (f *Feed) refreshRate() {
	f.mu.Lock()
	f.rate.update(time.Now(), f.health.Events)
	rate := f.rate.value
	changed := math.Abs(rate-f.health.EventRate) > 1e-9
	f.health.EventRate = rate
	f.mu.Unlock()
	if changed {
		f.commitHealth()
	}
}

// rateMeter is an exponentially weighted events-per-second average over
// about a minute.
type rateMeter struct {
	last  time.Time
	count uint64
	value float64
}

func (r *rateMeter) update(now time.Time, count uint64) {
	if r.last.IsZero() {
		r.last, r.count = now, count
		return
	}
	dt := now.Sub(r.last).Seconds()
	if dt <= 0 {
		return
	}
	inst := float64(count-r.count) / dt
	alpha := 1 - math.Exp(-dt/60)
	r.value += alpha * (inst - r.value)
	if r.value < 1e-6 {
		r.value = 0
	}
	r.last, r.count = now, count
}

// backoff is a bounded exponential backoff with jitter.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	// ±20% jitter, so gateways restarted together do not reconnect in step.
	j := time.Duration(float64(b.cur) * (0.8 + 0.4*rand.Float64()))
	return min(j, b.max)
}

func (b *backoff) reset() { b.cur = 0 }

// excerpt returns at most 200 bytes of an event for a log line.
func excerpt(b []byte) string {
	const n = 200
	if len(b) > n {
		return fmt.Sprintf("%s… (%d bytes)", b[:n], len(b))
	}
	return string(b)
}

// The Feed is the Receiver its consumer delivers to.
var _ Receiver = (*Feed)(nil)
