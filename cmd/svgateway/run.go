package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/svgateway/svgateway/cluster"
	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/backfill"
	"github.com/svgateway/svgateway/smartview/poll"
	"github.com/svgateway/svgateway/smartview/sandbox"
	"github.com/svgateway/svgateway/snmp"
	"github.com/svgateway/svgateway/snmp/notify"
)

// service is a subsystem: Run blocks until ctx is done (nil: clean stop) or
// the subsystem fails.
type service interface {
	Run(ctx context.Context) error
}

// serviceFunc adapts a function to service.
type serviceFunc func(ctx context.Context) error

func (f serviceFunc) Run(ctx context.Context) error { return f(ctx) }

type namedService struct {
	name string
	svc  service
}

// gateway is everything runGateway wires together.
type gateway struct {
	cfg      *Config
	log      *slog.Logger
	registry *prometheus.Registry
	store    *model.Store
	heap     *heapWatcher
	history  *history.Store // nil: [history] enabled = false
	services []namedService

	// Set by wireSmartView for the subsystems wired after it (the feed).
	client    *smartview.Client
	poller    *poll.Poller
	sandbox   *sandbox.Server // nil in live mode
	ibxs      []string
	accountNo string

	// What a reload (SIGHUP, reload.go) reaches; nil when not running.
	opts     runOptions
	agent    *snmp.Agent
	notifier *notify.Sender
	opcua    *uaserver.Server

	// [cluster]: the node (nil alone) and the builder of a leadership
	// term's notification sender (nil without targets).
	node      *cluster.Node
	newSender func() (*notify.Sender, error)
}

// runOptions are what runGateway needs besides the configuration.
type runOptions struct {
	level  *slog.LevelVar   // the logger's level, changed by a reload
	source configSource     // read again on SIGHUP
	hup    <-chan os.Signal // SIGHUP; nil: no reloads
}

func (g *gateway) add(name string, svc service) {
	g.services = append(g.services, namedService{name, svc})
}

// ledgerFile is the alarm ledger of a single gateway, in state_dir.
const ledgerFile = "alarms.json"

// runGateway wires the subsystems and runs them until ctx is done or one fails.
func runGateway(ctx context.Context, cfg *Config, log *slog.Logger, opts runOptions) error {
	heap := applyRuntime(cfg.Runtime)
	log.Info("heap settings", "runtime", heap.String())
	g := &gateway{cfg: cfg, log: log, registry: prometheus.NewRegistry(), opts: opts}
	// Besides Go's defaults (go_gc_gogc_percent, go_gc_gomemlimit_bytes):
	// the live heap, to judge [runtime].
	g.registry.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newBuildInfoCollector())

	heapW := newHeapWatcher(heap, log.With("subsystem", "runtime"))
	mopts := model.Options{
		StaleAfter: cfg.Sync.StaleAfter, AlarmRetention: cfg.Sync.AlarmRetention,
		LedgerPath: filepath.Join(cfg.StateDir, ledgerFile), Logger: log.With("subsystem", "model"),
		BeforeRebuild: heapW.StructureWork,
	}
	if cfg.Cluster.Enabled() {
		node, err := cluster.New(cfg.Cluster, log.With("subsystem", "cluster"))
		if err != nil {
			return err
		}
		g.node = node
		mopts.LedgerBackend = node
	}
	store, err := model.NewStore(mopts)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("alarm ledger not saved at shutdown", "err", err)
		}
	}()
	g.store = store
	g.registry.MustRegister(newModelCollector(store))
	g.registry.MustRegister(newPlacesCollector(store))
	heapW.store, g.heap = store, heapW
	g.add("runtime", heapW)

	if cfg.History.Enabled {
		hopts := cfg.History.Options(cfg.StateDir)
		hopts.Logger = log.With("subsystem", "history")
		hs, err := history.Open(hopts)
		if err != nil {
			return err
		}
		defer func() {
			if err := hs.Close(); err != nil {
				log.Error("history store not closed cleanly", "err", err)
			}
		}()
		g.history = hs
		g.add("history", &history.Recorder{Store: hs, Model: store, Logger: hopts.Logger})
	}
	if err := g.wireSmartView(); err != nil {
		return err
	}
	g.wireBackfill()
	if err := g.wireFeed(); err != nil {
		return err
	}
	if err := g.wireSNMP(); err != nil {
		return err
	}
	if err := g.wireOPCUA(); err != nil {
		return err
	}
	g.wireCluster()
	if cfg.Status.Listen != "off" {
		status, err := newStatusServer(cfg.Status, store, g.registry, log.With("subsystem", "status"))
		if err != nil {
			return err
		}
		status.page = g.pageInfo()
		g.add("status", status)
	}
	if opts.hup != nil {
		g.add("reload", serviceFunc(g.reloadOnHUP))
	}
	return runNotifying(ctx, log, g.services)
}

// wireSmartView adds the sandbox (when enabled), the client and the poller.
func (g *gateway) wireSmartView() error {
	cfg := g.cfg
	apiCfg := cfg.SmartView
	ibxs := apiCfg.IBXs
	if cfg.Sandbox.Enabled {
		sb, ln, err := startSandbox(cfg.Sandbox, g.log.With("subsystem", "sandbox"))
		if err != nil {
			return err
		}
		g.add("sandbox", serviceFunc(func(ctx context.Context) error { return sb.Serve(ctx, ln) }))
		g.sandbox = sb
		apiCfg.BaseURL = "http://" + ln.Addr().String()
		apiCfg.TokenURL = ""
		apiCfg.ClientID, apiCfg.ClientSecret, _, _ = sb.Credentials()
		apiCfg.AccountNo = sb.AccountNo()
		ibxs = sb.IBXs()
		apiCfg.IBXs = ibxs
		apiCfg.RateLimit = -1 // the sandbox is in this process: the client-side rate limit is for the live API
		if err := apiCfg.Validate(); err != nil {
			return err
		}
		g.log.Warn("running against the built-in sandbox: simulated data, not a real SmartView account",
			"url", apiCfg.BaseURL, "profile", cfg.Sandbox.Profile, "ibxs", ibxs)
	}
	client, err := smartview.New(apiCfg, smartview.Options{Logger: g.log.With("subsystem", "smartview"), Registerer: g.registry})
	if err != nil {
		return err
	}
	poller, err := poll.New(cfg.Sync, client, g.store, ibxs, poll.Options{Logger: g.log.With("subsystem", "sync"), Registerer: g.registry,
		BeforeStructureRead: g.heap.StructureWork})
	if err != nil {
		return err
	}
	g.add("sync", poller)
	g.client, g.poller, g.ibxs, g.accountNo = client, poller, ibxs, apiCfg.AccountNo
	return nil
}

// wireBackfill adds the history backfill from trending, when history and
// its backfill are enabled.
func (g *gateway) wireBackfill() {
	if g.history == nil || !g.cfg.History.Backfill.Enabled {
		return
	}
	g.add("history-backfill", &backfill.Backfiller{
		Client: g.client, Store: g.history, Model: g.store, Config: g.cfg.History.Backfill,
		Lag: g.cfg.Sync.StaleAfter, Logger: g.log.With("subsystem", "history"), Registerer: g.registry,
	})
}

// startSandbox builds the simulated API and opens its listener.
func startSandbox(cfg sandbox.Config, log *slog.Logger) (*sandbox.Server, net.Listener, error) {
	sb, err := sandbox.New(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox.listen: %w", err)
	}
	return sb, ln, nil
}

// readier is a service that says when it serves (its listener is bound).
type readier interface {
	Ready() <-chan struct{}
}

// stillStoppingEvery is how often a stop that takes long names the
// services it waits for.
var stillStoppingEvery = 5 * time.Second

// runServices runs every service until ctx is done or one fails; then it
// cancels the others and waits for all of them, naming in the log every
// stillStoppingEvery those that have not returned (a stop should take a
// second or two; systemd kills the gateway after TimeoutStopSec). ready, if
// not nil, is called once every service that is a readier is ready.
func runServices(ctx context.Context, log *slog.Logger, services []namedService, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	done := make(chan result, len(services))
	for _, s := range services {
		go func() {
			err := s.svc.Run(ctx)
			if err == nil && ctx.Err() == nil {
				err = errors.New("stopped unexpectedly")
			}
			done <- result{s.name, err}
		}()
	}
	if ready != nil {
		go func() {
			for _, s := range services {
				if r, ok := s.svc.(readier); ok {
					select {
					case <-r.Ready():
					case <-ctx.Done():
						return
					}
				}
			}
			ready()
		}()
	}
	running := make(map[string]int, len(services)) // by name: how many of that name
	for _, s := range services {
		running[s.name]++
	}
	var first error
	var still <-chan time.Time
	var stopBegan time.Time
	stopping := ctx.Done()
	for left := len(services); left > 0; {
		select {
		case r := <-done:
			left--
			if running[r.name]--; running[r.name] == 0 {
				delete(running, r.name)
			}
			if r.err != nil && first == nil {
				first = fmt.Errorf("%s: %w", r.name, r.err)
				log.Error("subsystem failed; stopping the others", "subsystem", r.name, "err", r.err)
			}
			cancel()
		case <-stopping:
		case <-still:
			log.Warn("still stopping", "waiting_for", slices.Sorted(maps.Keys(running)), "since", time.Since(stopBegan).Round(time.Second))
		}
		if stopping != nil && ctx.Err() != nil {
			stopping, stopBegan = nil, time.Now()
			t := time.NewTicker(stillStoppingEvery)
			defer t.Stop()
			still = t.C
		}
	}
	return first
}

// runSandbox serves the simulated API alone.
func runSandbox(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	sc := cfg.Sandbox
	if sc.Listen == "127.0.0.1:0" || sc.Listen == "" {
		sc.Listen = "127.0.0.1:8080"
	}
	sb, ln, err := startSandbox(sc, log)
	if err != nil {
		return err
	}
	clientID, _, user, _ := sb.Credentials()
	fmt.Fprintf(stdout, "SmartView sandbox (profile %s, catalog %s) on http://%s\n  IBXs %v, account %s, client_id %q, user %q (secrets: [sandbox] in the configuration)\n  admin: http://%s/_sandbox/stats\n",
		sc.Profile, sc.Catalog, ln.Addr(), sb.IBXs(), sb.AccountNo(), clientID, user, ln.Addr())
	return sb.Serve(ctx, ln)
}
