// Package poll keeps the model current by polling the SmartView REST API:
// the structure (hierarchies, assets, tags, affected locations) on a slow
// interval, readings and alarms on a fast one. It prefers the batch (POST)
// endpoints, so API calls per refresh grow with IBXs and level types, not
// with assets or tags; it bounds the calls in flight; a failed call keeps
// the last-known values and marks them stale; and it records upstream
// health in the model.
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
}

// Poller is the REST sync.
type Poller struct {
	cfg     Config
	client  *smartview.Client
	store   *model.Store
	ibxs    []string
	log     *slog.Logger
	metrics *metrics
	sem     chan struct{}
	trigger chan struct{}

	mu      sync.Mutex
	sources map[string]*ingest.IBXSources // the last structure read of each IBX, with its links
}

// New returns a Poller for the given IBXs. cfg must have been validated.
func New(cfg Config, client *smartview.Client, store *model.Store, ibxs []string, opts Options) (*Poller, error) {
	if len(ibxs) == 0 {
		return nil, errors.New("poll: no IBX to sync")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := newMetrics()
	if opts.Registerer != nil {
		if err := m.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	return &Poller{cfg: cfg, client: client, store: store, ibxs: append([]string(nil), ibxs...),
		log: opts.Logger, metrics: m, sem: make(chan struct{}, cfg.Concurrency), trigger: make(chan struct{}, 1),
		sources: map[string]*ingest.IBXSources{}}, nil
}

// RefreshNow asks for a values cycle as soon as possible (for example when
// the feed recovers, so the poll reconciles what the feed may have missed).
func (p *Poller) RefreshNow() {
	select {
	case p.trigger <- struct{}{}:
	default:
	}
}

// Run syncs until ctx is done: a full cycle at once (retried until it
// succeeds, at most every RetryInterval), then values every ValuesInterval
// and the structure every StructureInterval, each structure read followed
// by a links pass in the background.
func (p *Poller) Run(ctx context.Context) error {
	var lastStructure time.Time
	var links sync.WaitGroup
	defer links.Wait()
	linksRunning := make(chan struct{}, 1)
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		case <-p.trigger:
		}
		withStructure := lastStructure.IsZero() || time.Since(lastStructure) >= p.cfg.StructureInterval
		res := p.Cycle(ctx, withStructure)
		if ctx.Err() != nil {
			return nil
		}
		if withStructure && res.StructureOK {
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
		wait = p.cfg.ValuesInterval
		if res.Failed > 0 {
			// Calls failed (each already retried with backoff by the client):
			// try again sooner, to reconcile as soon as upstream is back.
			wait = min(wait, p.cfg.RetryInterval)
		}
	}
}

// Result sums up one cycle.
type Result struct {
	Calls, Failed int
	// StructureOK: the cycle refreshed the structure of every IBX.
	StructureOK bool
	// Err is the first failure, safe to show.
	Err error
}

// cycle is the state of one Cycle.
type cycle struct {
	p       *Poller
	ctx     context.Context
	started time.Time
	wg      sync.WaitGroup

	mu     sync.Mutex
	result Result
	// fetched: asset lists and details read by this cycle's structure phase,
	// so the values phase need not read them again.
	fetched map[string]*ingest.IBXSources
}

// Cycle runs one sync cycle, with the structure phase if withStructure.
func (p *Poller) Cycle(ctx context.Context, withStructure bool) Result {
	c := &cycle{p: p, ctx: ctx, started: time.Now(), fetched: map[string]*ingest.IBXSources{}}
	kind := "values"
	if withStructure {
		kind = "structure"
		c.structure()
	}
	c.values()
	c.wg.Wait()
	res := c.result
	if withStructure {
		res.StructureOK = c.structureComplete()
	}
	p.finish(c, res)
	p.metrics.cycle(kind, time.Since(c.started), res.Failed == 0)
	return res
}

// structureComplete reports whether every IBX's structure was fetched.
func (c *cycle) structureComplete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fetched) == len(c.p.ibxs)
}

// call runs one API call under the concurrency bound and records its outcome.
func (c *cycle) call(endpoint string, fn func(ctx context.Context) error) error {
	select {
	case c.p.sem <- struct{}{}:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	err := fn(c.ctx)
	<-c.p.sem
	c.mu.Lock()
	c.result.Calls++
	if err != nil && c.ctx.Err() == nil {
		c.result.Failed++
		if c.result.Err == nil {
			c.result.Err = err
		}
	}
	c.mu.Unlock()
	if err != nil && c.ctx.Err() == nil {
		c.p.log.Warn("sync call failed", "call", endpoint, "err", err)
	}
	return err
}

// goCall runs call in its own goroutine.
func (c *cycle) goCall(endpoint string, fn func(ctx context.Context) error, onErr func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.call(endpoint, fn); err != nil && onErr != nil {
			onErr()
		}
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
// and, after a complete success, the last sync time.
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
	before := p.store.Snapshot().Health().Upstream
	p.store.Update(func(tx *model.Tx) error {
		tx.Age()
		tx.SetUpstream(state, errText)
		if res.Failed == 0 && res.Calls > 0 {
			tx.SetLastSync(c.started)
		}
		return nil
	})
	if state != before {
		p.log.Info("upstream state", "state", state.String(), "calls", res.Calls, "failed", res.Failed)
	}
}
