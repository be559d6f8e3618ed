//go:build !svgateway_noazure

package main

import (
	"log/slog"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/azure"
)

func init() {
	feedConsumers[feed.ProviderAzure] = func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error) {
		return azure.New(cfg.Azure, log), nil
	}
}
