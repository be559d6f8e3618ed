//go:build !svgateway_noawsiot

package main

import (
	"log/slog"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/awsiot"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

func init() {
	// The embedded sandbox plays SmartView's AWS_IOT_CORE channel with the
	// same MQTT client ([sandbox.stream] mqtt_broker).
	sandbox.DialMQTT = awsiot.DialPublisher
	feedConsumers[feed.ProviderAWSIoTCore] = func(cfg feed.Config, log *slog.Logger) (feed.Consumer, error) {
		return awsiot.New(cfg.AWSIoTCore, log), nil
	}
}
