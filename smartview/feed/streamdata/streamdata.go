// Package streamdata is the subscription_data feed provider: it reads the
// gateway's v2 streaming subscription through the REST endpoint
// /smartview/v2/streaming/subscriptionData/{id}, at an interval, every page
// to the last, and delivers each message to the Feed, whose dedupe by
// streamId and message time keeps a message read twice from being applied
// twice. It needs no cloud account.
//
// A page whose pagination does not start where it was asked to (a server
// that skips or repeats), or that repeats the previous page, is counted and
// logged (once a minute at most) and asked again once; what a page that is
// still out of place hides is read by the next pass, which starts from
// offset 0, and what it repeats is dropped by the Feed's dedupe. It must
// not manage the subscription (package feed does) or apply anything itself.
package streamdata

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
)

// API is the part of the SmartView client this consumer uses.
type API interface {
	StreamData(ctx context.Context, id string, q smartview.StreamDataQuery) (*smartview.StreamDataPage, error)
}

// Consumer reads subscriptionData. Build it with New.
type Consumer struct {
	api      API
	interval time.Duration
	pageSize int
	maxPages int
	maxBatch int
	log      *slog.Logger
	limiter  *feed.LogLimiter

	pages   *prometheus.CounterVec
	repeats atomic.Uint64
	skips   atomic.Uint64
}

// New returns a consumer of cfg's [feed.stream] settings.
func New(cfg feed.Config, api API, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Consumer{api: api, interval: cfg.Stream.PollInterval, pageSize: cfg.Stream.PageSize,
		maxPages: cfg.Stream.MaxPages, maxBatch: max(cfg.MaxBatch, 1), log: log,
		limiter: feed.NewLogLimiter(log, time.Minute),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_feed_stream_pages_total",
			Help: "subscriptionData pages read, by result (ok, repeat, skip).",
		}, []string{"result"})}
}

// Register registers the consumer's metrics.
func (c *Consumer) Register(r prometheus.Registerer) error { return r.Register(c.pages) }

// Anomalies returns how many pages repeated or skipped since the start.
func (c *Consumer) Anomalies() (repeats, skips uint64) { return c.repeats.Load(), c.skips.Load() }

// Receive implements feed.Consumer: name is the subscription id.
func (c *Consumer) Receive(ctx context.Context, id string, r feed.Receiver) error {
	if id == "" {
		return errors.New("streamdata: no v2 subscription id yet")
	}
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		if err := c.Read(ctx, id, r); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		r.Connected()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Read reads every page of subscription id once and delivers its messages.
func (c *Consumer) Read(ctx context.Context, id string, r feed.Receiver) error {
	offset := 0
	var prev [][]byte
	retried := false
	for n := 0; n < c.maxPages; n++ {
		page, err := c.api.StreamData(ctx, id, smartview.StreamDataQuery{Offset: offset, Limit: c.pageSize})
		if errors.Is(err, smartview.ErrNotFound) {
			return fmt.Errorf("streamdata: subscription %s: %w (%w)", id, feed.ErrSubscriptionGone, err)
		}
		if err != nil {
			return fmt.Errorf("streamdata: subscription %s, offset %d: %w", id, offset, err)
		}
		p := page.Pagination
		got := len(page.Messages)
		switch {
		case page.HasPagination && p.Offset > offset:
			c.anomaly("skip", &c.skips, id, offset, p)
			if !retried {
				retried = true
				n--
				continue // ask once more
			}
			// Still skipping: deliver what came, and end this pass; the next
			// pass reads from 0 again, so what was skipped is read then.
			if err := c.deliver(ctx, r, raw(page.Messages)); err != nil {
				return err
			}
			return nil
		case page.HasPagination && p.Offset < offset, got > 0 && samePage(prev, page.Messages):
			c.anomaly("repeat", &c.repeats, id, offset, p)
			if !retried {
				retried = true
				n--
				continue
			}
			// Deliver anyway: the dedupe drops what was already applied,
			// and whatever is new is not lost.
		default:
			c.pages.WithLabelValues("ok").Inc()
		}
		retried = false
		if err := c.deliver(ctx, r, raw(page.Messages)); err != nil {
			return err
		}
		prev = raw(page.Messages)
		next := offset + got
		if page.HasPagination {
			next = max(next, p.Offset+got)
		}
		switch {
		case got == 0:
			return nil
		case page.HasPagination && p.Total > 0 && next >= p.Total:
			return nil
		case page.HasPagination && p.Total == 0 && p.Next == "": // no total: the last page has no next
			return nil
		case !page.HasPagination && got < c.pageSize:
			return nil
		}
		offset = next
	}
	c.limiter.Warn("max_pages", "subscriptionData read stopped at feed.stream.max_pages; the rest is read by the next pass",
		"subscription", id, "max_pages", c.maxPages)
	return nil
}

func (c *Consumer) anomaly(kind string, counter *atomic.Uint64, id string, asked int, p smartview.StreamPagination) {
	counter.Add(1)
	c.pages.WithLabelValues(kind).Inc()
	c.limiter.Warn(kind, "subscriptionData page out of place ("+kind+"); asked again once, nothing applied twice",
		"subscription", id, "asked_offset", asked, "page_offset", p.Offset, "total", p.Total,
		"repeats", c.repeats.Load(), "skips", c.skips.Load())
}

// deliver hands msgs to r in batches of at most maxBatch.
func (c *Consumer) deliver(ctx context.Context, r feed.Receiver, msgs [][]byte) error {
	for len(msgs) > 0 {
		n := min(len(msgs), c.maxBatch)
		batch := make([]feed.Message, n)
		for i := range batch {
			batch[i] = feed.Message{Data: msgs[i]}
		}
		if err := r.Deliver(ctx, batch...); err != nil {
			return fmt.Errorf("streamdata: applying: %w", err)
		}
		msgs = msgs[n:]
	}
	return nil
}

func raw[T ~[]byte](msgs []T) [][]byte {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		out[i] = m
	}
	return out
}

// samePage reports whether a page holds exactly the previous page's messages.
func samePage[T ~[]byte](prev [][]byte, msgs []T) bool {
	if len(prev) != len(msgs) {
		return false
	}
	for i := range msgs {
		if !bytes.Equal(prev[i], msgs[i]) {
			return false
		}
	}
	return true
}
