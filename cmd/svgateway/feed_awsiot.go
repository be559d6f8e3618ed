//go:build !svgateway_noawsiot

package main

import (
	"log/slog"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/awsiot"
)

func init() {
	feedConsumers[feed.ProviderAWSIoTCore] = func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error) {
		return awsiot.New(cfg.AWSIoTCore, log), nil
	}
}
