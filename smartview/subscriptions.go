package smartview

import (
	"context"
	"encoding/json"
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
// object; an array of them is accepted too.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	return nil, errNotImplemented
}

// Subscription fetches one subscription by id.
func (c *Client) Subscription(ctx context.Context, id string) (*Subscription, error) {
	return nil, errNotImplemented
}

// CreateSubscription registers a new subscription (POST).
func (c *Client) CreateSubscription(ctx context.Context, req SubscriptionRequest) (*Subscription, error) {
	return nil, errNotImplemented
}

// UpdateSubscription replaces the events of subscription id (PUT path/{id}).
func (c *Client) UpdateSubscription(ctx context.Context, id string, req SubscriptionRequest) (*Subscription, error) {
	return nil, errNotImplemented
}

// DeleteSubscription deletes subscription id (DELETE path/{id}), or the user's subscription when
// id is "" (DELETE path, as the documentation's example does).
func (c *Client) DeleteSubscription(ctx context.Context, id string) (*Subscription, error) {
	return nil, errNotImplemented
}
