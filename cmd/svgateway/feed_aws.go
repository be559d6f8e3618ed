//go:build !svgateway_noaws

package main

import (
	"log/slog"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/aws"
)

func init() {
	feedConsumers[feed.ProviderAWS] = func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error) {
		return aws.New(cfg.AWS, log), nil
	}
}
