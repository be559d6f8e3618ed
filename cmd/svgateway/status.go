package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/nodeset"
	"github.com/svgateway/svgateway/snmp"
)

// statusServer is the status HTTP listener: the status page (statuspage.go),
// liveness, readiness, metrics, the model as JSON, the MIB and the NodeSet. It binds where [status] listen says.
type statusServer struct {
	ln    net.Listener
	srv   *http.Server
	store *model.Store
	log   *slog.Logger
	page  statusPageInfo
}

func newStatusServer(cfg StatusConfig, store *model.Store, reg *prometheus.Registry, log *slog.Logger) (*statusServer, error) {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("status.listen: %w", err)
	}
	s := &statusServer{ln: ln, store: store, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.HandleFunc("GET /api/model", s.apiModel)
	mux.HandleFunc("GET /{$}", s.statusPage)
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
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	log.Info("status listener", "addr", ln.Addr().String())
	return s, nil
}

// Run serves until ctx is done, then shuts down gracefully.
func (s *statusServer) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
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
