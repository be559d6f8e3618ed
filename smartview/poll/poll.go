// Package poll keeps the model current by polling the SmartView REST API:
// the structure (hierarchies, assets, tags, affected locations) on a slow
// interval, readings and alarms on a fast one. It prefers the batch (POST)
// endpoints, so API calls per refresh grow with IBXs and level types, not
// with assets or tags; it bounds the calls in flight; a failed call keeps
// the last-known values and marks them stale; and it records upstream
// health in the model.
//
// Two rules keep it honest when upstream misbehaves. Progress is kept:
// after failures, the next cycle re-reads only what failed (the parts of a
// structure read that succeeded are kept), and the gateway is ready once
// every IBX's structure and values have each been read at least once, in
// any cycles. Time is judged by the clock, not by cycles: a watchdog ages
// values every second and turns upstream degraded when a call is overdue,
// whatever the cycle in progress is doing.
//
// It must not serve anything or decide how values are presented: it only
// reads the API and writes the model (through package ingest).
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// Options are a Poller's runtime dependencies.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics not registered
	// CallDeadline is how long a call may stay unanswered before upstream is
	// degraded (default: the client's per-attempt timeout).
	CallDeadline time.Duration
	// Now is the clock of the watchdog (tests); default time.Now.
	Now func() time.Time
	// BeforeStructureRead, when set, is called as a cycle starts reading the
	// structure (every structure_interval) and as a links pass starts. What
	// such a read decodes (every hierarchy, asset list and detail, or every
	// asset's links) is alive beside the structure in force until it is
	// applied or found unchanged: on the large profile the RSS grew by ~85
	// MB at each refresh and the scavenger kept it for minutes. The gateway
	// collects garbage more often from here until the read has settled
	// (cmd/svgateway, heapWatcher). It must return at once.
	BeforeStructureRead func()
}

// Poller is the REST sync.
type Poller struct {
	cfg      Config
	client   *smartview.Client
	store    *model.Store
	ibxs     []string
	log      *slog.Logger
	metrics  *metrics
	sem      chan struct{}
	trigger  chan struct{}
	now      func() time.Time
	deadline time.Duration
	before   func() // Options.BeforeStructureRead, never nil

	mu      sync.Mutex
	sources map[string]*linkBase      // what is kept of the last structure read of each IBX, with its links
	partial map[string]*structureRead // structure reads in progress, kept across failed cycles
	failed  map[string]part           // values calls whose last attempt failed, by part key
	calls   map[uint64]time.Time      // calls in flight → when they started
	callSeq uint64
	overdue bool // the watchdog degraded upstream for overdue calls
	// unserved are the calls whose endpoint the account does not serve (logged once each).
	unserved map[string]bool
}

// New returns a Poller for the given IBXs. cfg must have been validated.
func New(cfg Config, client *smartview.Client, store *model.Store, ibxs []string, opts Options) (*Poller, error) {
	if len(ibxs) == 0 {
		return nil, errors.New("poll: no IBX to sync")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CallDeadline <= 0 {
		opts.CallDeadline = client.Timeout()
	}
	if opts.BeforeStructureRead == nil {
		opts.BeforeStructureRead = func() {}
	}
	m := newMetrics()
	if opts.Registerer != nil {
		if err := m.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	return &Poller{cfg: cfg, client: client, store: store, ibxs: append([]string(nil), ibxs...),
		log: opts.Logger, metrics: m, sem: make(chan struct{}, cfg.Concurrency), trigger: make(chan struct{}, 1),
		now: opts.Now, deadline: opts.CallDeadline, before: opts.BeforeStructureRead,
		sources: map[string]*linkBase{}, partial: map[string]*structureRead{},
		failed: map[string]part{}, calls: map[uint64]time.Time{}, unserved: map[string]bool{}}, nil
}

// RefreshNow asks for a values cycle as soon as possible (for example when
// the feed recovers, so the poll reconciles what the feed may have missed).
func (p *Poller) RefreshNow() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Run syncs until ctx is done: a full cycle at once, then values every
// ValuesInterval and the structure every StructureInterval, each structure
// read followed by a links pass in the background. After a cycle with
// failures, a retry cycle re-reads only what failed: 1s later, the wait
// doubling while retries fail, up to RetryInterval.
// A watchdog ages values and checks for overdue calls every second.
func (p *Poller) Run(ctx context.Context) error {
	var lastStructure time.Time
	var links sync.WaitGroup
	defer links.Wait()
	watchdog := make(chan struct{})
	go func() {
		defer close(watchdog)
		p.watch(ctx)
	}()
	defer func() { <-watchdog }()
	linksRunning := make(chan struct{}, 1)
	wait := time.Duration(0)
	retry := false
	firstRetry := min(time.Second, p.cfg.RetryInterval)
	retryWait := firstRetry
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		case <-p.trigger:
			retry = false
		}
		due := lastStructure.IsZero() || time.Since(lastStructure) >= p.cfg.StructureInterval
		var res Result
		if retry && (lastStructure.IsZero() || !due) {
			res = p.Retry(ctx) // the first structure read still being completed, or values that failed
		} else {
			res = p.Cycle(ctx, due)
		}
		if ctx.Err() != nil {
			return nil
		}
		if res.StructureOK {
			lastStructure = time.Now()
			if !p.cfg.SkipAffectedAssets {
				select {
				case linksRunning <- struct{}{}: // one links pass at a time
					links.Add(1)
					go func() {
						defer links.Done()
						p.RefreshLinks(ctx)
						<-linksRunning
					}()
				default:
				}
			}
		}
		wait, retry = p.cfg.ValuesInterval, false
		if res.Failed > 0 || p.pending() {
			// Calls failed (each already retried with backoff by the client):
			// re-read what failed sooner, to be complete as soon as upstream is
			// back; the wait doubles while retries keep failing.
			wait, retry = min(wait, retryWait), true
			retryWait = min(2*retryWait, p.cfg.RetryInterval)
		} else {
			retryWait = firstRetry
		}
	}
}

// Result sums up one cycle.
type Result struct {
	Calls, Failed int
	// StructureOK: the cycle completed the structure of every IBX (in this
	// cycle or, for a retry, with what earlier cycles read).
	StructureOK bool
	// Err is the first failure, safe to show.
	Err error
	// ByCall counts failed calls by endpoint.
	ByCall map[string]int
}

// cycle is the state of one Cycle.
type cycle struct {
	p       *Poller
	ctx     context.Context
	started time.Time
	wg      sync.WaitGroup
	retry   bool // re-read only what failed

	mu     sync.Mutex
	result Result
	// fetched: structures completed by this cycle's structure phase (with
	// their asset lists and details, so the values phase need not read them).
	fetched map[string]*ingest.IBXSources
}

func newCycle(p *Poller, ctx context.Context, retry bool) *cycle {
	return &cycle{p: p, ctx: ctx, started: time.Now(), retry: retry, fetched: map[string]*ingest.IBXSources{},
		result: Result{ByCall: map[string]int{}}}
}

// Cycle runs one full sync cycle: every values call, and the structure of
// every IBX if withStructure.
func (p *Poller) Cycle(ctx context.Context, withStructure bool) Result {
	return p.run(ctx, withStructure, false)
}

// Retry re-reads what failed: the values calls whose last attempt failed and
// the missing parts of unfinished structure reads.
func (p *Poller) Retry(ctx context.Context) Result {
	return p.run(ctx, p.pendingStructure(), true)
}

func (p *Poller) run(ctx context.Context, withStructure, retry bool) Result {
	c := newCycle(p, ctx, retry)
	kind := "values"
	switch {
	case retry:
		kind = "retry"
		if withStructure {
			c.structure()
		}
	case withStructure:
		kind = "structure"
		c.structure()
	}
	c.values()
	c.wg.Wait()
	res := c.result
	res.StructureOK = withStructure && p.structureKnown() && !p.pendingStructure()
	p.finish(c, res)
	p.metrics.cycle(kind, time.Since(c.started), res.Failed == 0)
	return res
}

// structureKnown reports whether every IBX's structure has been read.
func (p *Poller) structureKnown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sources) == len(p.ibxs)
}

// pendingStructure reports whether a structure read is unfinished.
func (p *Poller) pendingStructure() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.partial) > 0
}

// pending reports whether something failed and awaits a retry.
func (p *Poller) pending() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.partial) > 0 || len(p.failed) > 0
}

// call runs one API call under the concurrency bound and records its
// outcome. Failures are logged at DEBUG: the cycle logs one WARN with counts.
// A call whose endpoint the account does not serve (smartview.ErrNotServed:
// the alarms list of a 2024-catalog account, the alerts API of a documented
// one) is no failure: there is nothing to read, and readiness must not wait
// for it. It is logged once.
func (c *cycle) call(endpoint string, fn func(ctx context.Context) error) error {
	if err := c.acquire(); err != nil {
		return err
	}
	return c.callHeld(endpoint, fn)
}

// acquire takes a slot of the concurrency bound, or fails when the cycle is
// cancelled first.
func (c *cycle) acquire() error {
	select {
	case c.p.sem <- struct{}{}:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// callHeld is call for a caller that holds a slot; it releases it.
func (c *cycle) callHeld(endpoint string, fn func(ctx context.Context) error) error {
	id := c.p.started()
	err := fn(c.ctx)
	c.p.ended(id)
	<-c.p.sem
	if errors.Is(err, smartview.ErrNotServed) {
		c.p.notServed(endpoint, err)
		return nil // not a call of the cycle: an outage of the rest is still "down"
	}
	c.mu.Lock()
	c.result.Calls++
	if err != nil && c.ctx.Err() == nil {
		c.result.Failed++
		c.result.ByCall[endpoint]++
		if c.result.Err == nil {
			c.result.Err = err
		}
	}
	c.mu.Unlock()
	if err != nil && c.ctx.Err() == nil {
		c.p.log.Debug("sync call failed", "call", endpoint, "err", err)
	}
	return err
}

// notServed notes that a call's endpoint is not served. The client has
// logged it at INFO, once per endpoint; this is the poller's side, at DEBUG.
func (p *Poller) notServed(endpoint string, err error) {
	p.mu.Lock()
	first := !p.unserved[endpoint]
	p.unserved[endpoint] = true
	p.mu.Unlock()
	if first {
		p.log.Debug("sync: endpoint not served by this account; not read, readiness does not wait for it",
			"call", endpoint, "err", err)
	}
}

// goCall runs call in a goroutine of its own once a slot of the concurrency
// bound is free: the caller waits for the slot, so a phase of thousands of
// calls (the links pass: one per asset) runs no more goroutines than the
// bound instead of one per call parked on it. A cycle cancelled before a
// slot frees up runs nothing (as call, which returns the context's error
// uncounted).
func (c *cycle) goCall(endpoint string, fn func(ctx context.Context) error) {
	if c.acquire() != nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.callHeld(endpoint, fn)
	}()
}

// apply commits one batch, counting readings the structure does not know.
func (c *cycle) apply(what string, fn func(tx *model.Tx, unknown *int)) {
	unknown := 0
	_, err := c.p.store.Update(func(tx *model.Tx) error {
		fn(tx, &unknown)
		st := tx.Stats()
		c.p.metrics.readings(what, st, unknown)
		return nil
	})
	if err != nil { // fn never fails; an error here is a bug worth seeing
		c.p.log.Error("sync apply failed", "what", what, "err", err)
	}
	if unknown > 0 {
		c.p.log.Debug("readings for things not in the structure (skipped until the next structure refresh)", "what", what, "count", unknown)
	}
}

// markStale marks kinds of ibx stale after a failed call.
func (c *cycle) markStale(ibx string, kinds model.Kinds) {
	c.p.store.Update(func(tx *model.Tx) error { tx.MarkStale(ibx, kinds); return nil })
}

// finish records the cycle's outcome in the model: aging, upstream state
// and, once every IBX's structure and values have been read (in this cycle
// or earlier ones) with nothing left to retry, the last sync time.
func (p *Poller) finish(c *cycle, res Result) {
	state, errText := model.UpstreamOK, ""
	switch {
	case res.Failed > 0 && res.Failed == res.Calls:
		state = model.UpstreamDown
	case res.Failed > 0:
		state = model.UpstreamDegraded
	}
	if res.Err != nil {
		errText = fmt.Sprintf("%d of %d calls failed, first: %v", res.Failed, res.Calls, res.Err)
	}
	complete := p.structureKnown() && !p.pending()
	p.mu.Lock()
	p.overdue = false
	p.mu.Unlock()
	before := p.store.Snapshot().Health().Upstream
	p.store.Update(func(tx *model.Tx) error {
		tx.Age()
		tx.SetUpstream(state, errText)
		if complete && res.Calls > 0 {
			tx.SetLastSync(c.started)
		}
		return nil
	})
	if res.Failed > 0 {
		p.log.Warn("sync cycle failed", "calls", res.Calls, "failed", res.Failed, "by_call", res.ByCall, "retry", c.retry, "first_err", res.Err)
	}
	p.logState(before, state, "calls", res.Calls, "failed", res.Failed)
}

// logState logs a change of upstream state: WARN when it worsens, INFO when
// it is restored.
func (p *Poller) logState(before, state model.UpstreamState, args ...any) {
	if state == before {
		return
	}
	args = append([]any{"state", state.String(), "was", before.String()}, args...)
	if state == model.UpstreamOK {
		p.log.Info("upstream restored", args...)
	} else {
		p.log.Warn("upstream state", args...)
	}
}
