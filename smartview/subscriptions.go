package smartview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Subscription is a near-real-time feed subscription: which events, for which account and IBX,
// delivered how.
type Subscription struct {
	Power            []SubscriptionScope `json:"power"`
	Asset            []SubscriptionScope `json:"asset"`
	Alarm            []SubscriptionScope `json:"alarm"`
	Alert            []SubscriptionScope `json:"alert"`
	Environment      []SubscriptionScope `json:"environment"`
	SubscriptionID   Text                `json:"subscriptionId"`
	SubscriptionName string              `json:"subscriptionName"` // e.g. the Pub/Sub subscription path
	Status           string              `json:"status"`           // OK, PARTIAL, SUCCESS, ERROR
	Errors           []json.RawMessage   `json:"errors"`           // undocumented element shape
	Config           SubscriptionConfig  `json:"config"`
}

// SubscriptionScope is one account and IBX an event type is subscribed for.
type SubscriptionScope struct {
	UcmID     Text   `json:"ucmId,omitempty"`
	AccountNo Text   `json:"accountNo"`
	IBX       string `json:"ibx"`
}

// SubscriptionConfig says how events are delivered.
type SubscriptionConfig struct {
	Provider string `json:"provider"`          // GOOGLE, AZURE, AWS, ORACLE, PRIVATE
	Method   string `json:"method"`            // PULL (PUSH is documented but not implemented)
	PushURL  string `json:"pushurl,omitempty"` // for PUSH
}

// SubscriptionRequest is the body of a create or update: the event types to subscribe to and the
// delivery configuration.
type SubscriptionRequest struct {
	Power       []SubscriptionScope `json:"power,omitempty"`
	Asset       []SubscriptionScope `json:"asset,omitempty"`
	Alarm       []SubscriptionScope `json:"alarm,omitempty"`
	Alert       []SubscriptionScope `json:"alert,omitempty"`
	Environment []SubscriptionScope `json:"environment,omitempty"`
	Config      SubscriptionConfig  `json:"config"`
}

// Subscriptions lists the user's subscriptions. The documentation shows the answer as one bare
// object; an array of them is accepted too, and so is the envelope.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	r := request{endpoint: endpointSubscriptions, method: http.MethodGet, path: c.cfg.Paths.Subscriptions}
	return fetchList[Subscription](ctx, c, r, false, "", (*Subscription).statusError)
}

// Subscription fetches one subscription by id.
func (c *Client) Subscription(ctx context.Context, id string) (*Subscription, error) {
	return c.subscription(ctx, request{endpoint: endpointSubscriptionGet, method: http.MethodGet,
		path: c.subscriptionPath(id)})
}

// CreateSubscription registers a new subscription (POST). It is repeated only when the server
// said it did not process it (429, 503).
func (c *Client) CreateSubscription(ctx context.Context, req SubscriptionRequest) (*Subscription, error) {
	return c.subscription(ctx, request{endpoint: endpointSubscriptionCreate, method: http.MethodPost,
		path: c.cfg.Paths.Subscriptions, body: req, unprocessedOnly: true})
}

// UpdateSubscription replaces the events of subscription id (PUT path/{id}). It is repeated only
// when the server said it did not process it (429, 503).
func (c *Client) UpdateSubscription(ctx context.Context, id string, req SubscriptionRequest) (*Subscription, error) {
	if id == "" {
		return nil, errors.New("smartview: UpdateSubscription: empty subscription id")
	}
	return c.subscription(ctx, request{endpoint: endpointSubscriptionUpdate, method: http.MethodPut,
		path: c.subscriptionPath(id), body: req, unprocessedOnly: true})
}

// DeleteSubscription deletes subscription id (DELETE path/{id}), or the user's subscription when
// id is "" (DELETE path, as the documentation's example does). The answer is the deleted
// subscription.
func (c *Client) DeleteSubscription(ctx context.Context, id string) (*Subscription, error) {
	path := c.cfg.Paths.Subscriptions
	if id != "" {
		path = c.subscriptionPath(id)
	}
	return c.subscription(ctx, request{endpoint: endpointSubscriptionDelete, method: http.MethodDelete,
		path: path, unprocessedOnly: true})
}

func (c *Client) subscriptionPath(id string) string {
	return strings.TrimRight(c.cfg.Paths.Subscriptions, "/") + "/" + url.PathEscape(id)
}

// subscription performs r and decodes its answer: one subscription object (bare, or enveloped).
func (c *Client) subscription(ctx context.Context, r request) (*Subscription, error) {
	var sub Subscription
	err := c.do(ctx, r, func(body io.Reader) error {
		sub = Subscription{}
		if err := decodeOptionalEnvelope(body, &sub); err != nil {
			return err
		}
		return sub.statusError()
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

// statusError reports a subscription answer whose status is "ERROR" as an *APIError (matching
// ErrStatus), with the answer's errors as its message.
func (s *Subscription) statusError() error {
	if !strings.EqualFold(s.Status, "ERROR") {
		return nil
	}
	msgs := make([]string, 0, len(s.Errors))
	for _, e := range s.Errors {
		var compact bytes.Buffer
		if json.Compact(&compact, e) == nil {
			msgs = append(msgs, compact.String())
		}
	}
	return &APIError{StatusCode: s.Status, Msg: truncate(strings.Join(msgs, "; "))}
}
