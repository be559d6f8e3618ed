// Package oracle is the feed consumer for Oracle Cloud: an OCI Streaming
// stream read through its Kafka-compatible API with franz-go (kgo), as a
// member of one consumer group, authenticated with SASL/PLAIN over TLS.
//
// Delivery is at least once: auto-commit is off and a batch's offsets are
// committed only after the Feed applied the batch; rebalances wait until
// the batch in hand is applied and committed (BlockRebalanceOnPoll), so a
// partition moves to another member with its offset up to date. A batch
// that could not be applied is not committed: Receive returns, and the next
// connection reads again from the committed offset. The SASL user and auth
// token are secrets and are never logged.
//
// It must not decode or apply events (package feed does).
package oracle

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/svgateway/svgateway/smartview/feed"
)

// Consumer reads one stream as a member of the configured consumer group.
type Consumer struct {
	cfg   feed.OracleConfig
	probe time.Duration
	log   *slog.Logger
}

// New returns a consumer; cfg must have been validated
// (feed.Config.Validate). probe is how often a connected consumer checks
// that a broker answers (the client reconnects by itself, silently).
func New(cfg feed.OracleConfig, probe time.Duration, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if probe <= 0 {
		probe = feed.DefaultProbeInterval
	}
	return &Consumer{cfg: cfg, probe: probe, log: log}
}

// Timeouts of the calls that must not hang a Receive.
const (
	checkTimeout  = 20 * time.Second
	commitTimeout = 30 * time.Second
	leaveTimeout  = 5 * time.Second
)

// Stream returns the stream to read: [feed.oracle] stream, else the
// SmartView subscription's name when it is a valid stream name.
func (c *Consumer) Stream(name string) (string, error) {
	if c.cfg.Stream != "" {
		return c.cfg.Stream, nil
	}
	if feed.StreamName.MatchString(name) {
		return name, nil
	}
	return "", fmt.Errorf("oracle: set feed.oracle.stream: the SmartView subscription name %q is not a stream name", name)
}

// TLSConfig is the client's TLS: the system roots, or only the CAs of
// [feed.oracle] ca_file.
func (c *Consumer) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.cfg.CAFile == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(c.cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("oracle: feed.oracle.ca_file: %w", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("oracle: feed.oracle.ca_file: %s holds no PEM certificate", c.cfg.CAFile)
	}
	return cfg, nil
}

func (c *Consumer) client(stream string) (*kgo.Client, error) {
	tlsCfg, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	start := kgo.NewOffset().AtEnd()
	if c.cfg.StartOffset == "earliest" {
		start = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.cfg.BootstrapServers...),
		kgo.ClientID("svgateway"),
		kgo.DialTLSConfig(tlsCfg),
		kgo.SASL(plain.Auth{User: c.cfg.User, Pass: c.cfg.AuthToken}.AsMechanism()),
		kgo.ConsumerGroup(c.cfg.Group),
		kgo.ConsumeTopics(stream),
		kgo.ConsumeResetOffset(start),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, p map[string][]int32) {
			c.log.Info("stream partitions assigned", "stream", stream, "partitions", p[stream])
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, p map[string][]int32) {
			c.log.Info("stream partitions revoked (their applied records are committed)", "stream", stream, "partitions", p[stream])
		}),
		kgo.WithLogger(kgoLogger{c.log}),
	)
	if err != nil {
		return nil, fmt.Errorf("oracle: %w", err)
	}
	return cl, nil
}

// Receive implements feed.Consumer.
func (c *Consumer) Receive(ctx context.Context, name string, r feed.Receiver) error {
	stream, err := c.Stream(name)
	if err != nil {
		return err
	}
	cl, err := c.client(stream)
	if err != nil {
		return err
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaveTimeout)
		cl.AllowRebalance()
		cl.LeaveGroupContext(lctx)
		cancel()
		cl.Close()
	}()
	// Proves the brokers answer, accept the credentials and hold the stream
	// before a record arrives (a poll blocks until one does, and waits for
	// a stream that does not exist without saying so).
	err = c.check(ctx, cl, stream)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	r.Connected()

	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.watch(ctx, cl, stream, r)
	}()
	for {
		fetches := cl.PollRecords(ctx, c.cfg.MaxRecords)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		if err := c.fetchError(fetches); err != nil {
			return err
		}
		records := fetches.Records()
		if len(records) == 0 {
			cl.AllowRebalance()
			continue
		}
		msgs := make([]feed.Message, len(records))
		for i, rec := range records {
			msgs[i] = message(rec)
		}
		if err := r.Deliver(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Not committed: the next connection reads them again.
			return fmt.Errorf("oracle: %d records of %s not applied (read again from the committed offset): %w", len(records), stream, err)
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		if err := cl.CommitRecords(cctx, records...); err != nil {
			c.log.Warn("applied stream records not committed; they will be delivered again (harmless)", "stream", stream, "count", len(records), "err", err)
		}
		cancel()
		cl.AllowRebalance()
	}
}

// fetchError returns the first error of a poll that ends the connection.
// Data loss (an offset past retention was reset) and a lost group session
// (the client joins again by itself) are logged only.
func (c *Consumer) fetchError(fetches kgo.Fetches) error {
	for _, fe := range fetches.Errors() {
		var loss *kgo.ErrDataLoss
		var session *kgo.ErrGroupSession
		switch {
		case errors.Is(fe.Err, context.Canceled):
		case errors.As(fe.Err, &loss):
			c.log.Warn("stream offset reset: records were lost upstream (retention); the poll reconciles", "stream", fe.Topic, "partition", fe.Partition, "err", fe.Err)
		case errors.As(fe.Err, &session):
			c.log.Warn("consumer group session lost; joining again (uncommitted records come again)", "err", fe.Err)
		default:
			return fmt.Errorf("oracle: reading %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
		}
	}
	return nil
}

// check asks a broker for the stream's metadata (bounded: checkTimeout).
func (c *Consumer) check(ctx context.Context, cl *kgo.Client, stream string) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	topic := kmsg.NewMetadataRequestTopic()
	topic.Topic = kmsg.StringPtr(stream)
	req.Topics = append(req.Topics, topic)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("oracle: %v: %w", c.cfg.BootstrapServers, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return fmt.Errorf("oracle: stream %q (feed.oracle.stream, or the subscription's name): %w", stream, err)
		}
	}
	return nil
}

// watch checks the stream every probe interval and reports it unreachable
// while no broker answers for it (the client keeps retrying by itself).
func (c *Consumer) watch(ctx context.Context, cl *kgo.Client, stream string, r feed.Receiver) {
	t := time.NewTicker(c.probe)
	defer t.Stop()
	down := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := c.check(ctx, cl, stream)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !down:
			down = true
			r.Disconnected(err)
		case err == nil && down:
			down = false
			r.Connected()
		}
	}
}

// message converts a record. Its id names where it is in the stream.
func message(rec *kgo.Record) feed.Message {
	return feed.Message{Data: rec.Value, ID: rec.Topic + "/" + strconv.Itoa(int(rec.Partition)) + "@" + strconv.FormatInt(rec.Offset, 10), Published: rec.Timestamp}
}

// kgoLogger passes franz-go's warnings and errors to slog (its info and
// debug lines are per request). It logs no credentials.
type kgoLogger struct{ log *slog.Logger }

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelWarn
	if level == kgo.LogLevelError {
		lv = slog.LevelError
	}
	l.log.Log(context.Background(), lv, "kafka client: "+msg, keyvals...)
}
