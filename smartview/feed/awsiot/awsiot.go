// Package awsiot is the aws_iot_core feed provider: an MQTT-over-TLS
// session (Eclipse Paho) with the AWS IoT Core endpoint SmartView's v2
// AWS_IOT_CORE channel publishes to, authenticated by a client certificate
// as IoT Core authenticates things.
//
// Messages are QoS 1 and acknowledged (PUBACK) only after the Feed applied
// them; a delivery that could not be applied ends the session unacknowledged
// so the broker delivers it again (the session is persistent: clean session
// off, a fixed client id). A payload that does not parse is handed to the
// Feed as it is, which counts it malformed, logs it (once a minute) and
// acknowledges it, so it does not loop. It must not manage the subscription
// (package feed does) or publish anything.
package awsiot

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
)

// Consumer reads the AWS_IOT_CORE channel. Build it with New.
type Consumer struct {
	cfg feed.AWSIoTCoreConfig
	log *slog.Logger
}

// New returns the consumer of cfg ([feed.aws_iot_core], validated).
func New(cfg feed.AWSIoTCoreConfig, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Consumer{cfg: cfg, log: log}
}

func (c *Consumer) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.cfg.CertFile, c.cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("awsiot: feed.aws_iot_core.cert_file: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.cfg.CAFile != "" {
		b, err := os.ReadFile(c.cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("awsiot: feed.aws_iot_core.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("awsiot: feed.aws_iot_core.ca_file: %s holds no PEM certificate", c.cfg.CAFile)
		}
	}
	return tc, nil
}

// Receive implements feed.Consumer: one MQTT session, until ctx is done
// (nil) or the session fails (the Feed reconnects with backoff).
func (c *Consumer) Receive(ctx context.Context, _ string, r feed.Receiver) error {
	tc, err := c.tlsConfig()
	if err != nil {
		return err
	}
	lost := make(chan error, 1)
	fail := func(err error) {
		select {
		case lost <- err:
		default:
		}
	}
	opts := mqtt.NewClientOptions().AddBroker(c.cfg.Broker).SetClientID(c.cfg.ClientID).SetTLSConfig(tc).
		SetCleanSession(false).SetAutoReconnect(false).SetConnectRetry(false).SetKeepAlive(c.cfg.KeepAlive).
		SetConnectTimeout(30 * time.Second).SetOrderMatters(true).SetAutoAckDisabled(true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { fail(fmt.Errorf("awsiot: connection lost: %w", err)) })
	client := mqtt.NewClient(opts)
	if err := wait(ctx, client.Connect()); err != nil {
		return fmt.Errorf("awsiot: connecting to %s: %w", c.cfg.Broker, err)
	}
	defer client.Disconnect(250)

	handle := func(_ mqtt.Client, m mqtt.Message) {
		msgs, err := smartview.SplitStreamPayload(m.Payload())
		batch := make([]feed.Message, 0, max(len(msgs), 1))
		id := fmt.Sprintf("%s#%d", m.Topic(), m.MessageID())
		if err != nil {
			// The Feed counts it malformed, logs it and has it acknowledged.
			batch = append(batch, feed.Message{Data: m.Payload(), ID: id})
		}
		for _, raw := range msgs {
			batch = append(batch, feed.Message{Data: raw, ID: id})
		}
		if err := r.Deliver(ctx, batch...); err != nil {
			fail(fmt.Errorf("awsiot: not applied (left unacknowledged for redelivery): %w", err))
			return
		}
		m.Ack()
	}
	filters := make(map[string]byte, len(c.cfg.Topics))
	for _, t := range c.cfg.Topics {
		filters[t] = byte(c.cfg.QoS)
	}
	tok := client.SubscribeMultiple(filters, handle)
	if err := wait(ctx, tok); err != nil {
		return fmt.Errorf("awsiot: subscribing to %v: %w", c.cfg.Topics, err)
	}
	for t, q := range tok.(*mqtt.SubscribeToken).Result() {
		if q == 0x80 {
			return fmt.Errorf("awsiot: the broker refused the subscription to %q (not allowed by the thing's policy?)", t)
		}
	}
	c.log.Info("aws_iot_core connected", "broker", c.cfg.Broker, "client_id", c.cfg.ClientID, "topics", c.cfg.Topics)
	r.Connected()
	select {
	case <-ctx.Done():
		return nil
	case err := <-lost:
		return err
	}
}

// wait waits for tok, bounded by ctx.
func wait(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return errors.Join(ctx.Err(), errors.New("interrupted"))
	}
}
