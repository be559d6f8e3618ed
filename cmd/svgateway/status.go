package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/net/netutil"

	"github.com/svgateway/svgateway/internal/httpshutdown"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/nodeset"
	"github.com/svgateway/svgateway/snmp"
)

// statusServer is the status HTTP listener: the status page (statuspage.go),
// liveness, readiness, metrics, the model as JSON, the MIB and the NodeSet. It binds where [status] listen says, with
// TLS and basic auth from status.web_config_file, timeouts and a connection limit.
type statusServer struct {
	ln    net.Listener
	srv   *http.Server
	cfg   StatusConfig
	store *model.Store
	log   *slog.Logger
	page  statusPageInfo
}

func newStatusServer(cfg StatusConfig, store *model.Store, reg *prometheus.Registry, log *slog.Logger) (*statusServer, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("status.listen: %w", err)
	}
	// Past max_connections, connections wait in the kernel's accept queue
	// rather than each costing a goroutine and buffers.
	ln = netutil.LimitListener(ln, cfg.MaxConnections)
	s := &statusServer{ln: ln, cfg: cfg, store: store, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /api/model", s.apiModel)
	mux.HandleFunc("GET /{$}", s.statusPage)
	if cfg.Pprof {
		// Opt-in ([status] pprof): the runtime's profiles, for benchmarks
		// (test/bench-scale.sh) and for diagnosing a deployment.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /mib/SVGATEWAY-MIB.txt", func(w http.ResponseWriter, r *http.Request) {
		// The module as this gateway serves it: rooted at [snmp] enterprise_oid.
		text, err := snmp.ModuleText(snmp.RootOID())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(text)
	})
	mux.HandleFunc("GET /nodeset/SmartView.NodeSet2.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write(nodeset.SmartViewXML())
	})
	// Every phase of a connection is bounded: a client that sends its
	// request slowly (slowloris) or never reads the answer is cut off.
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	httpshutdown.CloseUnused(s.srv) // a stop does not wait for connections that sent no request (a browser's preconnect)
	log.Info("status listener", "addr", ln.Addr().String(), "web_config_file", cfg.WebConfigFile, "max_connections", cfg.MaxConnections)
	if what := cfg.insecureExposure(); what != "" {
		log.Warn("the status listener is reachable from the network and "+what+" (status.allow_insecure = true): "+
			"anyone who reaches it reads the whole footprint and the metrics", "addr", ln.Addr().String())
	}
	return s, nil
}

// Run serves until ctx is done, then shuts down gracefully.
func (s *statusServer) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		if s.cfg.WebConfigFile == "" {
			errc <- s.srv.Serve(s.ln)
			return
		}
		// TLS and basic auth as Prometheus' exporter toolkit does them
		// (the file is read again per request and handshake).
		errc <- web.Serve(s.ln, s.srv, &web.FlagConfig{WebConfigFile: &s.cfg.WebConfigFile}, s.log)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(shutdown)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// readyz is ready once every IBX's structure and values have each been read
// (in any cycles: the poller sets LastSync then): from then on the gateway
// serves data (last-known values included, if upstream goes away).
// It is degraded (503, with the reason) while state_dir cannot be written.
func (s *statusServer) readyz(w http.ResponseWriter, r *http.Request) {
	h := s.store.Snapshot().Health()
	if h.LastSync.IsZero() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: not every IBX's structure and values read yet (upstream %s", h.Upstream)
		if h.UpstreamError != "" {
			fmt.Fprintf(w, ": %s", h.UpstreamError)
		}
		fmt.Fprintln(w, ")")
		return
	}
	if !h.Persist.OK() {
		// Serving, but alarm notifications are held until state_dir takes
		// writes again: not ready for what an alarm console relies on.
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "degraded: state not saved since %s (%s); alarm notifications held\n",
			h.Persist.Since.UTC().Format(time.RFC3339), h.Persist.Error())
		return
	}
	fmt.Fprintf(w, "ready: everything read by %s, upstream %s\n", h.LastSync.UTC().Format(time.RFC3339), h.Upstream)
}
