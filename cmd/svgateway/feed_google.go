//go:build !svgateway_nogoogle

package main

import (
	"context"
	"log/slog"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/google"
)

func init() {
	feedConsumers[feed.ProviderGoogle] = func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error) {
		return google.New(cfg.Google, cfg.ProbeInterval, log), nil
	}
	feedViaEmulator = func(cfg feed.Config, events <-chan []byte, log *slog.Logger) (func(context.Context) error, feed.Consumer) {
		gc := cfg.Google
		if gc.Subscription == "" {
			gc.Subscription = feed.SandboxSubscription(cfg.Sandbox.PubSubTopic)
		}
		forward := func(ctx context.Context) error {
			return google.Forward(ctx, gc, cfg.Sandbox.PubSubTopic, gc.Subscription, events, log)
		}
		return forward, google.New(gc, cfg.ProbeInterval, log)
	}
}
