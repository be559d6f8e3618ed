//go:build !svgateway_nooracle

package main

import (
	"log/slog"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/oracle"
)

func init() {
	feedConsumers[feed.ProviderOracle] = func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error) {
		return oracle.New(cfg.Oracle, cfg.ProbeInterval, log), nil
	}
}
