package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
)

// feedConsumers builds the consumer of each cloud provider compiled into
// this binary: feed_google.go, feed_aws.go, feed_azure.go and feed_oracle.go register
// theirs (a build tag can leave one out; see README "Feed providers").
var feedConsumers = map[string]func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error){}

// feedViaEmulator, set by feed_google.go, builds the sandbox provider's
// path through a Pub/Sub emulator: a service publishing the sandbox's
// events to the topic, and the google consumer reading them back.
var feedViaEmulator func(cfg feed.Config, events <-chan []byte, log *slog.Logger) (forward func(context.Context) error, c feed.Consumer)

// validateFeed fills the [feed] defaults that depend on the mode and checks
// the table.
func (c *Config) validateFeed() error {
	f := &c.Feed
	if f.Provider == "" {
		f.Provider = feed.ProviderNone
		switch {
		case c.Sandbox.Enabled:
			f.Provider = feed.ProviderSandbox
		case c.SmartView.Catalog == smartview.Catalog2024:
			// A 2024 account's feed is the v2 stream; reading its data over
			// REST needs no cloud account.
			f.Provider = feed.ProviderSubscriptionData
		}
	}
	if f.IBXs == nil && !c.Sandbox.Enabled {
		f.IBXs = slices.Clone(c.SmartView.IBXs)
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if feed.IsStream(f.Provider) && c.SmartView.Catalog == smartview.CatalogDocumented {
		return fmt.Errorf("feed.provider: %q is the 2024 catalog's v2 streaming API; smartview.catalog = \"documented\" has none (use \"auto\" or \"2024\")", f.Provider)
	}
	if f.Provider == feed.ProviderSandbox && !c.Sandbox.Enabled {
		return errors.New(`feed.provider: "sandbox" delivers the built-in sandbox's events: it needs [sandbox] enabled = true`)
	}
	if f.Provider != feed.ProviderNone && f.Provider != feed.ProviderSandbox && !builtinStream(f.Provider) && feedConsumers[f.Provider] == nil {
		return fmt.Errorf("feed.provider: %q is not compiled into this binary (built without it; available: %v)", f.Provider, compiledProviders())
	}
	if f.Provider == feed.ProviderSandbox && f.Sandbox.PubSubTopic != "" && feedViaEmulator == nil {
		return errors.New("feed.sandbox.pubsub_topic: the google provider is not compiled into this binary")
	}
	return nil
}

func compiledProviders() []string {
	out := []string{feed.ProviderNone, feed.ProviderSandbox, feed.ProviderSubscriptionData, feed.ProviderWebhook}
	for p := range feedConsumers {
		out = append(out, p)
	}
	sort.Strings(out[4:])
	return out
}

// wireFeed adds the feed subsystem (and, for the sandbox through an
// emulator, the forwarder) unless the provider is "none".
func (g *gateway) wireFeed() error {
	cfg := g.cfg.Feed
	if cfg.Provider == feed.ProviderNone {
		g.log.Info("feed disabled (feed.provider = \"none\"): readings arrive with the poll only")
		return nil
	}
	log := g.log.With("subsystem", "feed")
	if cfg.IBXs == nil {
		cfg.IBXs = g.ibxs
	}
	loc, err := time.LoadLocation(g.cfg.SmartView.TimeZone)
	if err != nil {
		return fmt.Errorf("smartview.time_zone: %w", err)
	}
	label := cfg.Provider
	var consumer feed.Consumer
	switch {
	case cfg.Provider == feed.ProviderSandbox && cfg.Sandbox.PubSubTopic == "":
		consumer = &feed.ChannelConsumer{Subscribe: g.sandbox.Subscribe, Buffer: cfg.Sandbox.Buffer, MaxBatch: cfg.MaxBatch}
	case cfg.Provider == feed.ProviderSandbox:
		events, cancel := g.sandbox.Subscribe(cfg.Sandbox.Buffer)
		forward, c := feedViaEmulator(cfg, events, log)
		g.add("feed-forwarder", serviceFunc(func(ctx context.Context) error {
			defer cancel()
			return forward(ctx)
		}))
		consumer, label = c, "sandbox via pubsub emulator"
	case builtinStream(cfg.Provider):
		if consumer, err = streamConsumer(cfg, g.client, g.registry, log); err != nil {
			return err
		}
	default:
		if consumer, err = feedConsumers[cfg.Provider](cfg, log); err != nil {
			return err
		}
	}
	opts := feed.Options{Logger: log, Registerer: g.registry, Location: loc, OnRecover: g.poller.RefreshNow, ProviderLabel: label}
	switch {
	case cfg.Manage() && feed.IsStream(cfg.Provider):
		if opts.StreamSubscriptions, err = g.streamSubscriptions(cfg, g.client, g.accountNo, log); err != nil {
			return err
		}
	case cfg.Manage():
		opts.Subscriptions = g.subscriptions(cfg, g.client, g.accountNo, log)
	}
	f, err := feed.New(cfg, g.store, consumer, opts)
	if err != nil {
		return err
	}
	g.add("feed", f)
	return nil
}

func (g *gateway) subscriptions(cfg feed.Config, client *smartview.Client, accountNo string, log *slog.Logger) *feed.Subscriptions {
	return &feed.Subscriptions{API: client, AccountNo: accountNo, IBXs: cfg.IBXs, Events: cfg.Events,
		Provider: feed.APIProvider(cfg.Provider), Method: "PULL", StatePath: feed.StatePath(g.cfg.StateDir), Log: log}
}

// runUnsubscribe deletes this gateway's feed subscription through the
// SmartView Subscriptions API and forgets it.
func runUnsubscribe(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	if cfg.Sandbox.Enabled {
		for _, path := range []string{feed.StatePath(cfg.StateDir), feed.StreamStatePath(cfg.StateDir)} {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		fmt.Fprintln(stdout, "sandbox mode: the built-in sandbox keeps no subscription across runs; nothing to delete upstream")
		return nil
	}
	client, err := smartview.New(cfg.SmartView, smartview.Options{Logger: log.With("subsystem", "smartview")})
	if err != nil {
		return err
	}
	g := &gateway{cfg: cfg}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if feed.IsStream(cfg.Feed.Provider) {
		subs, err := g.streamSubscriptions(cfg.Feed, client, cfg.SmartView.AccountNo, log.With("subsystem", "feed"))
		if err != nil {
			return err
		}
		id, err := subs.Delete(ctx)
		if err != nil {
			return err
		}
		if id == "" {
			fmt.Fprintf(stdout, "no v2 stream subscription of account %s to delete\n", cfg.SmartView.AccountNo)
			return nil
		}
		fmt.Fprintf(stdout, "deleted v2 stream subscription %s\n", id)
		return nil
	}
	subs := g.subscriptions(cfg.Feed, client, cfg.SmartView.AccountNo, log.With("subsystem", "feed"))
	sub, err := subs.Delete(ctx)
	if err != nil {
		return err
	}
	if sub == nil {
		fmt.Fprintf(stdout, "no feed subscription of account %s (provider %s) to delete\n", cfg.SmartView.AccountNo, subs.Provider)
		return nil
	}
	fmt.Fprintf(stdout, "deleted feed subscription %s (%s)\n", sub.SubscriptionID, sub.SubscriptionName)
	return nil
}
