package feed

import (
	"context"
	"errors"
	"time"
)

// Message is one delivery from a provider: one event's JSON.
type Message struct {
	Data []byte
	// ID is the provider's message id, for logs ("" when it has none).
	ID string
	// Published is when the provider accepted the message; zero if unknown.
	Published time.Time
	// Attempt is the delivery attempt (1: the first) when the provider
	// says; 0 when it does not.
	Attempt int
}

// Receiver is what a Consumer delivers to. The Feed implements it.
type Receiver interface {
	// Deliver applies msgs to the model and returns once they are applied.
	// nil: every message is applied, or rejected for good (malformed, of an
	// unknown kind) and counted — acknowledge them all. An error: none may
	// be acknowledged; the provider must deliver them again.
	Deliver(ctx context.Context, msgs ...Message) error
	// Connected reports the subscription reachable (again).
	Connected()
	// Disconnected reports it unreachable while the consumer keeps
	// retrying by itself (a consumer that gives up returns from Receive).
	Disconnected(err error)
}

// Consumer reads one provider's subscription.
type Consumer interface {
	// Receive reads the subscription called name — the SmartView
	// subscription's subscriptionName, or "" when none is known; the
	// consumer's own configuration may override it — and delivers to r
	// until ctx is done (it then returns nil) or the connection fails for
	// good (it returns why; the Feed reconnects with backoff). It
	// acknowledges a message only after Deliver returned nil for it.
	Receive(ctx context.Context, name string, r Receiver) error
}

// ChannelConsumer delivers events from an in-process source such as the
// built-in sandbox's Server.Subscribe. There is nothing to acknowledge: an
// event the source dropped (its buffer full) is recovered by the next poll.
type ChannelConsumer struct {
	// Subscribe opens the source: a channel of event JSON and a function
	// that closes it.
	Subscribe func(buffer int) (<-chan []byte, func())
	// Buffer is passed to Subscribe.
	Buffer int
	// MaxBatch bounds the events handed to Deliver at once.
	MaxBatch int
}

// errSourceClosed is returned when the in-process source closes its channel.
var errSourceClosed = errors.New("feed: the in-process event source closed")

// Receive implements Consumer.
func (c *ChannelConsumer) Receive(ctx context.Context, _ string, r Receiver) error {
	events, cancel := c.Subscribe(c.Buffer)
	defer cancel()
	r.Connected()
	batch := make([]Message, 0, max(c.MaxBatch, 1))
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case data, ok := <-events:
			if !ok {
				return errSourceClosed
			}
			batch = append(batch, Message{Data: data})
		}
	fill: // take what is already queued, without waiting
		for len(batch) < cap(batch) {
			select {
			case data, ok := <-events:
				if !ok {
					break fill
				}
				batch = append(batch, Message{Data: data})
			default:
				break fill
			}
		}
		if err := r.Deliver(ctx, batch...); err != nil && ctx.Err() == nil {
			return err
		}
	}
}
