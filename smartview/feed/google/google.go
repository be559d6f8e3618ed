// Package google is the feed consumer for Google Cloud Pub/Sub, the
// provider SmartView documents first: StreamingPull from the subscription
// the vendor provisioned, with the service-account key file the vendor
// provides, or plaintext to a Pub/Sub emulator. It also publishes the
// built-in sandbox's events to an emulator topic (Forward), so the sandbox
// can exercise this whole path.
//
// It must not decode or apply events (package feed does) and never
// publishes to anything but an emulator.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/svgateway/svgateway/smartview/feed"
)

// Consumer reads a Pub/Sub subscription with StreamingPull.
type Consumer struct {
	cfg   feed.GoogleConfig
	probe time.Duration
	log   *slog.Logger
}

// New returns a consumer. cfg must have been validated (feed.Config.Validate);
// probe is how often a connected stream checks that its subscription is
// still reachable (feed.Config.ProbeInterval).
func New(cfg feed.GoogleConfig, probe time.Duration, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Consumer{cfg: cfg, probe: probe, log: log}
}

// callTimeout bounds one admin call (probe, existence checks).
const callTimeout = 10 * time.Second

// Receive implements feed.Consumer. name is used when [feed.google]
// subscription is not set.
func (c *Consumer) Receive(ctx context.Context, name string, r feed.Receiver) error {
	sub := c.cfg.Subscription
	if sub == "" {
		sub = name
	}
	project, ok := feed.GoogleProject(sub)
	if !ok {
		return fmt.Errorf("google: %q is not a Pub/Sub subscription (projects/PROJECT/subscriptions/NAME); set feed.google.subscription", sub)
	}
	client, err := NewClient(ctx, c.cfg, project)
	if err != nil {
		return err
	}
	defer client.Close()
	if err := checkSubscription(ctx, client, sub); err != nil {
		return err
	}
	r.Connected()

	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		c.watch(rctx, client, sub, r, cancel)
	}()
	s := client.Subscriber(sub)
	s.ReceiveSettings.NumGoroutines = c.cfg.Streams
	s.ReceiveSettings.MaxOutstandingMessages = c.cfg.MaxOutstanding
	s.ReceiveSettings.ShutdownOptions = &pubsub.ShutdownOptions{Behavior: pubsub.ShutdownBehaviorNackImmediately, Timeout: 5 * time.Second}
	err = s.Receive(rctx, func(mctx context.Context, m *pubsub.Message) {
		msg := feed.Message{Data: m.Data, ID: m.ID, Published: m.PublishTime}
		if m.DeliveryAttempt != nil {
			msg.Attempt = *m.DeliveryAttempt
		}
		if err := r.Deliver(mctx, msg); err != nil {
			m.Nack() // not applied: deliver it again
			return
		}
		m.Ack()
	})
	cancel(nil)
	<-probeDone
	if ctx.Err() != nil {
		return nil
	}
	if cause := context.Cause(rctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return fmt.Errorf("google: receiving from %s: %w", sub, err)
	}
	return fmt.Errorf("google: the stream from %s ended", sub)
}

// watch checks the subscription every probe interval while the stream
// runs: the client library retries a lost stream by itself, so this is how
// the feed state learns that it is down, and comes back. A subscription
// that no longer exists ends the session.
func (c *Consumer) watch(ctx context.Context, client *pubsub.Client, sub string, r feed.Receiver, stop context.CancelCauseFunc) {
	t := time.NewTicker(c.probe)
	defer t.Stop()
	down := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := checkSubscription(ctx, client, sub)
		switch {
		case ctx.Err() != nil:
			return
		case status.Code(err) == codes.NotFound:
			stop(err)
			return
		case err != nil:
			down = true
			r.Disconnected(err)
		case down:
			down = false
			r.Connected()
		}
	}
}

func checkSubscription(ctx context.Context, client *pubsub.Client, sub string) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := client.SubscriptionAdminClient.GetSubscription(cctx, &pubsubpb.GetSubscriptionRequest{Subscription: sub}); err != nil {
		return fmt.Errorf("google: subscription %s: %w", sub, err)
	}
	return nil
}

// NewClient returns a Pub/Sub client for project: plaintext without
// credentials to cfg.EmulatorHost when set, else with cfg.CredentialsFile or
// the application default credentials (GOOGLE_APPLICATION_CREDENTIALS).
func NewClient(ctx context.Context, cfg feed.GoogleConfig, project string) (*pubsub.Client, error) {
	var opts []option.ClientOption
	switch {
	case cfg.EmulatorHost != "":
		conn, err := grpc.NewClient(cfg.EmulatorHost, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("google: emulator %s: %w", cfg.EmulatorHost, err)
		}
		opts = append(opts, option.WithGRPCConn(conn), option.WithTelemetryDisabled())
	case cfg.CredentialsFile != "":
		kind, err := credentialsType(cfg.CredentialsFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentialsFile(kind, cfg.CredentialsFile))
	}
	client, err := pubsub.NewClient(ctx, project, opts...)
	if err != nil {
		return nil, fmt.Errorf("google: %w", err)
	}
	return client, nil
}

// credentialsType reads the "type" of a Google credentials file.
func credentialsType(path string) (option.CredentialsType, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("google: feed.google.credentials_file: %w", err)
	}
	var f struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Type == "" {
		return "", fmt.Errorf("google: feed.google.credentials_file %s: not a Google credentials JSON file", path)
	}
	for _, t := range []option.CredentialsType{option.ServiceAccount, option.AuthorizedUser, option.ExternalAccount, option.ImpersonatedServiceAccount} {
		if string(t) == f.Type {
			return t, nil
		}
	}
	return "", fmt.Errorf("google: feed.google.credentials_file %s: unsupported credentials type %q", path, f.Type)
}

// EnsureTopic creates topic and subscription (to it) on an emulator when
// they do not exist.
func EnsureTopic(ctx context.Context, client *pubsub.Client, topic, sub string) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := client.TopicAdminClient.CreateTopic(cctx, &pubsubpb.Topic{Name: topic}); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("google: creating topic %s: %w", topic, err)
	}
	_, err := client.SubscriptionAdminClient.CreateSubscription(cctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: 10})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("google: creating subscription %s: %w", sub, err)
	}
	return nil
}

// Forward publishes every event from events to topic on the emulator of
// cfg (creating topic and subscription sub when missing) until ctx is done
// or events closes. It is how the sandbox provider reaches the google
// consumer: never point it at a real project.
func Forward(ctx context.Context, cfg feed.GoogleConfig, topic, sub string, events <-chan []byte, log *slog.Logger) error {
	if cfg.EmulatorHost == "" {
		return errors.New("google: Forward publishes to an emulator only (feed.google.emulator_host)")
	}
	project, _ := feed.GoogleProject(topic)
	client, err := NewClient(ctx, cfg, project)
	if err != nil {
		return err
	}
	defer client.Close()
	for attempt := 1; ; attempt++ { // the emulator may still be starting
		if err = EnsureTopic(ctx, client, topic, sub); err == nil || ctx.Err() != nil || attempt == 30 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return err
	}
	pub := client.Publisher(topic)
	pub.PublishSettings.DelayThreshold = time.Millisecond
	defer pub.Stop()
	inflight := make(chan struct{}, 256) // results awaited at once
	for {
		select {
		case <-ctx.Done():
			return nil
		case data, ok := <-events:
			if !ok {
				return nil
			}
			res := pub.Publish(ctx, &pubsub.Message{Data: data})
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			go func() {
				defer func() { <-inflight }()
				if _, err := res.Get(ctx); err != nil && ctx.Err() == nil {
					log.Warn("sandbox event not published to the emulator (the next poll brings the change)", "topic", topic, "err", err)
				}
			}()
		}
	}
}
