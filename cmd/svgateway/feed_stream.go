// This file builds the v2 streaming API's providers that need no cloud SDK
// (subscription_data, webhook) and the v2 subscription they read; the
// aws_iot_core provider registers itself from feed_awsiot.go.

package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/streamdata"
	"github.com/svgateway/svgateway/smartview/feed/webhook"
)

// builtinStream reports whether provider is a v2 provider built into every binary.
func builtinStream(provider string) bool {
	return provider == feed.ProviderSubscriptionData || provider == feed.ProviderWebhook
}

// streamConsumer builds a subscription_data or webhook consumer and
// registers its metrics (reg nil: none).
func streamConsumer(cfg feed.Config, client *smartview.Client, reg prometheus.Registerer, log *slog.Logger) (feed.Consumer, error) {
	var c interface {
		feed.Consumer
		Register(prometheus.Registerer) error
	}
	switch cfg.Provider {
	case feed.ProviderSubscriptionData:
		c = streamdata.New(cfg, client, log)
	case feed.ProviderWebhook:
		c = webhook.New(cfg.Webhook, log)
	default:
		return nil, fmt.Errorf("feed.provider: %q is not a built-in v2 provider", cfg.Provider)
	}
	if reg != nil {
		if err := c.Register(reg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// streamSubscriptions is the manager of the gateway's v2 subscription:
// [feed.stream]'s message types per IBX, through the provider's channel
// (none for subscription_data).
func (g *gateway) streamSubscriptions(cfg feed.Config, client *smartview.Client, accountNo string, log *slog.Logger) (*feed.StreamSubscriptions, error) {
	s := &feed.StreamSubscriptions{API: client, AccountNo: accountNo, Types: cfg.StreamTypesByIBX(cfg.IBXs),
		StatePath: feed.StreamStatePath(g.cfg.StateDir), Log: log}
	switch cfg.Provider {
	case feed.ProviderWebhook:
		ch, err := cfg.Webhook.Channel()
		if err != nil {
			return nil, err
		}
		s.Channel = ch
	case feed.ProviderAWSIoTCore:
		s.Channel = cfg.AWSIoTCore.Channel()
	}
	return s, nil
}
