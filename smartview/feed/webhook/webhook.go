// Package webhook is the webhook feed provider: the gateway's own HTTPS
// listener for the v2 streaming API's WEBHOOK channel. SmartView posts the
// subscription's messages to it (one message, an array of them, or a
// subscriptionData-shaped object); each accepted delivery is applied to the
// model before it is answered 200, so a delivery SmartView retries is
// idempotent (the Feed's dedupe by streamId and message time, and the
// model's newest-wins, drop what was already applied).
//
// It answers fast and bounds what it takes: the body size (413), the
// deliveries handled at once (503 with Retry-After), the content type (415)
// and the shape (400, nothing applied); each rejection is counted by reason
// and logged at most once a minute. It must not manage the subscription
// (package feed does) or serve anything but the one webhook path.
package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/internal/httpshutdown"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
)

// Rejection reasons, as the svgateway_feed_webhook_requests_total "result" label spells them.
const (
	ResultAccepted    = "accepted"
	ResultContentType = "wrong_content_type"
	ResultOversized   = "oversized"
	ResultMalformed   = "malformed"
	ResultBusy        = "busy"
	ResultMethod      = "wrong_method"
	ResultFailed      = "not_applied"
	ResultForbidden   = "forbidden"
)

// Consumer serves the webhook. Build it with New.
type Consumer struct {
	cfg      feed.WebhookConfig
	path     string
	log      *slog.Logger
	limiter  *feed.LogLimiter
	sem      chan struct{}
	requests *prometheus.CounterVec
	counts   map[string]*atomic.Uint64
	allow    []netip.Prefix // empty: any source
}

// New returns the webhook consumer of cfg ([feed.webhook], validated).
func New(cfg feed.WebhookConfig, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Consumer{cfg: cfg, path: cfg.WebhookPath(), log: log, limiter: feed.NewLogLimiter(log, time.Minute),
		sem: make(chan struct{}, cfg.MaxConcurrent), counts: map[string]*atomic.Uint64{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_feed_webhook_requests_total",
			Help: "Webhook deliveries received, by result (accepted, wrong_content_type, oversized, malformed, busy, wrong_method, not_applied, forbidden).",
		}, []string{"result"})}
	for _, a := range cfg.AllowFrom {
		if p, err := feed.ParseAllow(a); err == nil { // validated with the configuration
			c.allow = append(c.allow, p)
		}
	}
	for _, r := range []string{ResultAccepted, ResultContentType, ResultOversized, ResultMalformed, ResultBusy, ResultMethod, ResultFailed, ResultForbidden} {
		c.counts[r] = new(atomic.Uint64)
		c.requests.WithLabelValues(r)
	}
	return c
}

// Register registers the consumer's metrics.
func (c *Consumer) Register(r prometheus.Registerer) error { return r.Register(c.requests) }

// Count returns how many deliveries ended with result.
func (c *Consumer) Count(result string) uint64 {
	if n := c.counts[result]; n != nil {
		return n.Load()
	}
	return 0
}

// Receive implements feed.Consumer: it serves the webhook until ctx is done.
// The name (the subscription id) is not needed: deliveries name nothing.
func (c *Consumer) Receive(ctx context.Context, _ string, r feed.Receiver) error {
	cert, err := tls.LoadX509KeyPair(c.cfg.CertFile, c.cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("webhook: feed.webhook.cert_file: %w", err)
	}
	ln, err := net.Listen("tcp", c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("webhook: feed.webhook.listen: %w", err)
	}
	srv := &http.Server{
		Handler:           c.handler(ctx, r),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelDebug),
	}
	httpshutdown.CloseUnused(srv) // a stop does not wait for connections that sent no request
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	c.log.Info("webhook listening", "addr", ln.Addr().String(), "path", c.path)
	r.Connected()
	select {
	case err := <-served:
		return fmt.Errorf("webhook: serving %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-served
	return nil
}

func (c *Consumer) handler(ctx context.Context, r feed.Receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !c.allowed(req.RemoteAddr) {
			c.reject(w, http.StatusForbidden, ResultForbidden, "source not in feed.webhook.allow_from", req)
			return
		}
		if req.URL.Path != c.path {
			http.NotFound(w, req)
			return
		}
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			c.reject(w, http.StatusMethodNotAllowed, ResultMethod, "method "+req.Method, req)
			return
		}
		if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			c.reject(w, http.StatusUnsupportedMediaType, ResultContentType, "content type "+strconv.Quote(req.Header.Get("Content-Type")), req)
			return
		}
		select {
		case c.sem <- struct{}{}:
			defer func() { <-c.sem }()
		default:
			w.Header().Set("Retry-After", "1")
			c.reject(w, http.StatusServiceUnavailable, ResultBusy, fmt.Sprintf("more than %d deliveries at once", cap(c.sem)), req)
			return
		}
		if req.ContentLength > c.cfg.MaxBody {
			c.reject(w, http.StatusRequestEntityTooLarge, ResultOversized, fmt.Sprintf("%d bytes announced", req.ContentLength), req)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, c.cfg.MaxBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			c.reject(w, http.StatusRequestEntityTooLarge, ResultOversized, fmt.Sprintf("more than %d bytes", c.cfg.MaxBody), req)
			return
		case err != nil:
			c.reject(w, http.StatusBadRequest, ResultMalformed, "body: "+err.Error(), req)
			return
		}
		msgs, err := smartview.SplitStreamPayload(body)
		if err != nil {
			c.reject(w, http.StatusBadRequest, ResultMalformed, err.Error(), req)
			return
		}
		batch := make([]feed.Message, len(msgs))
		for i, m := range msgs {
			batch[i] = feed.Message{Data: m, ID: req.Header.Get("X-Request-Id")}
		}
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := r.Deliver(dctx, batch...); err != nil {
			// Not applied: SmartView's retry brings it again.
			w.Header().Set("Retry-After", "1")
			c.reject(w, http.StatusServiceUnavailable, ResultFailed, "not applied: "+err.Error(), req)
			return
		}
		c.count(ResultAccepted)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accepted":%d}`+"\n", len(msgs))
	})
}

// allowed reports whether a delivery from remote (host:port) is let in.
func (c *Consumer) allowed(remote string) bool {
	if len(c.allow) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	for _, p := range c.allow {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

func (c *Consumer) count(result string) {
	c.counts[result].Add(1)
	c.requests.WithLabelValues(result).Inc()
}

// reject answers status, counts the delivery and logs it (once a minute per reason).
func (c *Consumer) reject(w http.ResponseWriter, status int, result, why string, req *http.Request) {
	c.count(result)
	c.limiter.Warn(result, "webhook delivery rejected", "result", result, "status", status, "why", why,
		"remote", req.RemoteAddr, "total", c.counts[result].Load())
	http.Error(w, http.StatusText(status)+": "+why, status)
}
