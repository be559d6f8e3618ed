// Package azure is the feed consumer for Azure Service Bus: a receiver on
// the topic subscription SmartView delivers to, in PeekLock mode. A message
// is completed only after the Feed applied it and abandoned (delivered
// again) when it could not be; the connection string is a secret and never
// logged.
//
// It must not decode or apply events (package feed does).
package azure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/svgateway/svgateway/smartview/feed"
)

// Consumer reads one Service Bus topic subscription.
type Consumer struct {
	cfg feed.AzureConfig
	log *slog.Logger
}

// New returns a consumer; cfg must have been validated (feed.Config.Validate).
func New(cfg feed.AzureConfig, log *slog.Logger) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Consumer{cfg: cfg, log: log}
}

// settleTimeout bounds one complete or abandon.
const settleTimeout = 30 * time.Second

// Entity returns the topic and subscription to read: [feed.azure] topic and
// subscription, else the SmartView subscription's name
// "TOPIC/subscriptions/SUBSCRIPTION".
func (c *Consumer) Entity(name string) (topic, sub string, err error) {
	if c.cfg.Topic != "" {
		return c.cfg.Topic, c.cfg.Subscription, nil
	}
	parts := strings.Split(name, "/")
	if len(parts) == 3 && strings.EqualFold(parts[1], "subscriptions") && parts[0] != "" && parts[2] != "" {
		return parts[0], parts[2], nil
	}
	return "", "", fmt.Errorf("azure: set feed.azure.topic and feed.azure.subscription: the SmartView subscription name %q is not TOPIC/subscriptions/SUBSCRIPTION", name)
}

// Receive implements feed.Consumer.
func (c *Consumer) Receive(ctx context.Context, name string, r feed.Receiver) error {
	topic, subName, err := c.Entity(name)
	if err != nil {
		return err
	}
	client, err := azservicebus.NewClientFromConnectionString(c.cfg.ConnectionString, &azservicebus.ClientOptions{
		RetryOptions: azservicebus.RetryOptions{MaxRetries: 3, RetryDelay: 500 * time.Millisecond, MaxRetryDelay: 5 * time.Second},
	})
	if err != nil {
		// The SDK's parse errors do not echo the string; say which key, not the value.
		return fmt.Errorf("azure: feed.azure.connection_string: %w", err)
	}
	defer client.Close(context.WithoutCancel(ctx))
	recv, err := client.NewReceiverForSubscription(topic, subName, &azservicebus.ReceiverOptions{ReceiveMode: azservicebus.ReceiveModePeekLock})
	if err != nil {
		return fmt.Errorf("azure: %s/subscriptions/%s: %w", topic, subName, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		defer cancel()
		recv.Close(cctx)
	}()
	// A peek proves the links (and the $cbs token) work before any message
	// arrives: ReceiveMessages blocks until one does.
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	_, err = recv.PeekMessages(pctx, 1, nil)
	cancel()
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("azure: %s/subscriptions/%s: %w", topic, subName, err)
	}
	r.Connected()
	for {
		msgs, err := recv.ReceiveMessages(ctx, c.cfg.MaxMessages, nil)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("azure: receiving from %s/subscriptions/%s: %w", topic, subName, err)
		}
		batch := make([]feed.Message, len(msgs))
		for i, m := range msgs {
			batch[i] = feed.Message{Data: m.Body, ID: m.MessageID, Attempt: int(m.DeliveryCount)}
			if m.EnqueuedTime != nil {
				batch[i].Published = *m.EnqueuedTime
			}
		}
		applied := r.Deliver(ctx, batch...) == nil
		if err := c.settle(ctx, recv, msgs, applied); err != nil {
			return err
		}
	}
}

// settle completes applied messages and abandons the others (delivered
// again at once). A settlement that fails because the lock or the link was
// lost is harmless: the message comes back, and a duplicate changes nothing.
func (c *Consumer) settle(ctx context.Context, recv *azservicebus.Receiver, msgs []*azservicebus.ReceivedMessage, applied bool) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	for _, m := range msgs {
		var err error
		if applied {
			err = recv.CompleteMessage(sctx, m, nil)
		} else {
			err = recv.AbandonMessage(sctx, m, nil)
		}
		if err == nil {
			continue
		}
		c.log.Warn("feed message not settled; Service Bus delivers it again (harmless)", "message_id", m.MessageID, "completed", applied, "err", err)
		if sbErr := (*azservicebus.Error)(nil); errors.As(err, &sbErr) && sbErr.Code == azservicebus.CodeConnectionLost {
			return fmt.Errorf("azure: settling: %w", err) // reconnect
		}
	}
	return nil
}
