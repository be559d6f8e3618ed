// This file is the 2024 catalog's v2 streaming API (streaming-subscription v2):
// the subscriptions under /smartview/v2/streaming/subscriptions, which replace
// the documented feed subscriptions, and the REST read of a subscription's
// data, /smartview/v2/streaming/subscriptionData/{id}.

package smartview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint names of the v2 streaming API.
const (
	endpointStreamSubscriptions      = "stream_subscriptions"
	endpointStreamSubscriptionGet    = "stream_subscription_get"
	endpointStreamSubscriptionCreate = "stream_subscription_create"
	endpointStreamSubscriptionUpdate = "stream_subscription_update"
	endpointStreamSubscriptionDelete = "stream_subscription_delete"
	endpointStreamData               = "stream_data"
)

// Channel types of a v2 subscription.
const (
	ChannelAWSIoTCore = "AWS_IOT_CORE"
	ChannelWebhook    = "WEBHOOK"
	ChannelAzure      = "AZURE"
)

// StreamSubscription is a v2 streaming subscription as the API answers it
// (SubscriptionResponse).
type StreamSubscription struct {
	ID              string             `json:"id"`
	Status          string             `json:"status"` // PENDING, ACTIVE, FAILED, DELETE_IN_PROGRESS, DELETED
	MessageType     StreamMessageTypes `json:"messageType"`
	Channel         *StreamChannel     `json:"channel,omitempty"`
	OrgID           string             `json:"orgId,omitempty"`
	CreatedBy       string             `json:"createdBy,omitempty"`
	CreatedDateTime string             `json:"createdDateTime,omitempty"`
	UpdatedBy       string             `json:"updatedBy,omitempty"`
	UpdatedDateTime string             `json:"updatedDateTime,omitempty"`
}

// StreamSubscriptionRequest is the body of a create or update (an update
// replaces the subscription). Channel nil: no push channel, the data is read
// through subscriptionData only.
type StreamSubscriptionRequest struct {
	MessageType StreamMessageTypes `json:"messageType"`
	Channel     *StreamChannel     `json:"channel,omitempty"`
}

// StreamMessageTypes are the message types of a subscription, each a list
// of scopes (an account and its IBXs).
type StreamMessageTypes struct {
	Asset         []StreamScope `json:"asset,omitempty"`
	Environmental []StreamScope `json:"environmental,omitempty"`
	Power         []StreamScope `json:"power,omitempty"`
	MeteredPower  []StreamScope `json:"meteredPower,omitempty"`
	SystemAlert   []StreamScope `json:"systemAlert,omitempty"`
	CustomAlert   []StreamScope `json:"customAlert,omitempty"`
}

// StreamScope is one account and its IBXs for one message type. The
// optional fields belong to some types only: assetClassification and
// assetId to asset, level to environmental, user to customAlert.
type StreamScope struct {
	AccountNumber       Text     `json:"accountNumber"`
	IBX                 []string `json:"ibx"`
	AssetClassification []string `json:"assetClassification,omitempty"`
	AssetID             []string `json:"assetId,omitempty"`
	Level               []string `json:"level,omitempty"`
	User                string   `json:"user,omitempty"`
}

// StreamChannel is how a subscription's messages are pushed.
type StreamChannel struct {
	ChannelType string                `json:"channelType"`
	AWSIoTCore  *StreamAWSIoTCore     `json:"awsIotCoreChannelConfiguration,omitempty"`
	Webhook     *StreamWebhook        `json:"webhookChannelConfiguration,omitempty"`
	Azure       *StreamDeliveryTuning `json:"azureChannelConfiguration,omitempty"`
}

// StreamAWSIoTCore is an AWS_IOT_CORE channel: the customer's IoT Core endpoint.
type StreamAWSIoTCore struct {
	URL string `json:"url"`
}

// StreamWebhook is a WEBHOOK channel: the URL SmartView posts to and the
// certificate (base64 of the PEM) it is to trust there.
type StreamWebhook struct {
	URL            string `json:"url"`
	SSLCertificate string `json:"sslCertificate,omitempty"`
	StreamDeliveryTuning
}

// StreamDeliveryTuning are the delivery settings of the WEBHOOK and AZURE
// channels; zero means the API's default.
type StreamDeliveryTuning struct {
	NumberOfRetries         int `json:"numberOfRetries,omitempty"`         // 1–5
	NumberOfConcurrentCalls int `json:"numberOfConcurrentCalls,omitempty"` // 20–50
	BatchSize               int `json:"batchSize,omitempty"`               // 5–20
}

// StreamSubscriptions lists the organization's v2 subscriptions.
func (c *Client) StreamSubscriptions(ctx context.Context) ([]StreamSubscription, error) {
	var list []StreamSubscription
	r := request{endpoint: endpointStreamSubscriptions, method: http.MethodGet, path: c.cfg.Paths.StreamSubscriptions}
	err := c.do(ctx, r, func(body io.Reader) error {
		list = nil
		b, err := readSmall(body)
		if err != nil || len(b) == 0 {
			return err
		}
		if b[0] == '{' { // one bare object is accepted as a list of one
			var one StreamSubscription
			if err := json.Unmarshal(b, &one); err != nil {
				return describeJSONError(b, err)
			}
			list = []StreamSubscription{one}
			return nil
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return describeJSONError(b, err)
		}
		return nil
	})
	return list, err
}

// StreamSubscription fetches one v2 subscription.
func (c *Client) StreamSubscription(ctx context.Context, id string) (*StreamSubscription, error) {
	if id == "" {
		return nil, errors.New("smartview: StreamSubscription: empty subscription id")
	}
	return c.streamSubscription(ctx, request{endpoint: endpointStreamSubscriptionGet, method: http.MethodGet,
		path: c.streamSubscriptionPath(id)})
}

// CreateStreamSubscription creates a v2 subscription (POST, 201). The API
// answers with a Location header and, per the description, no body: the
// answer is the created subscription when the server sends it, else nil
// (find it by listing). It is repeated only when the server said it did not
// process it.
func (c *Client) CreateStreamSubscription(ctx context.Context, req StreamSubscriptionRequest) (*StreamSubscription, error) {
	return c.streamSubscription(ctx, request{endpoint: endpointStreamSubscriptionCreate, method: http.MethodPost,
		path: c.cfg.Paths.StreamSubscriptions, body: req, unprocessedOnly: true})
}

// UpdateStreamSubscription replaces subscription id (PUT, 204).
func (c *Client) UpdateStreamSubscription(ctx context.Context, id string, req StreamSubscriptionRequest) error {
	if id == "" {
		return errors.New("smartview: UpdateStreamSubscription: empty subscription id")
	}
	_, err := c.streamSubscription(ctx, request{endpoint: endpointStreamSubscriptionUpdate, method: http.MethodPut,
		path: c.streamSubscriptionPath(id), body: req, unprocessedOnly: true})
	return err
}

// DeleteStreamSubscription deletes subscription id (DELETE, 204).
func (c *Client) DeleteStreamSubscription(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("smartview: DeleteStreamSubscription: empty subscription id")
	}
	_, err := c.streamSubscription(ctx, request{endpoint: endpointStreamSubscriptionDelete, method: http.MethodDelete,
		path: c.streamSubscriptionPath(id), unprocessedOnly: true})
	return err
}

func (c *Client) streamSubscriptionPath(id string) string {
	return strings.TrimRight(c.cfg.Paths.StreamSubscriptions, "/") + "/" + url.PathEscape(id)
}

// streamSubscription performs r; an empty answer is nil.
func (c *Client) streamSubscription(ctx context.Context, r request) (*StreamSubscription, error) {
	var sub *StreamSubscription
	err := c.do(ctx, r, func(body io.Reader) error {
		sub = nil
		b, err := readSmall(body)
		if err != nil || len(b) == 0 {
			return err
		}
		var s StreamSubscription
		if err := json.Unmarshal(b, &s); err != nil {
			return describeJSONError(b, err)
		}
		sub = &s
		return nil
	})
	return sub, err
}

// maxSubscriptionBody bounds a subscription answer.
const maxSubscriptionBody = 4 << 20

// readSmall reads a small answer whole, trimmed; too large is an error.
func readSmall(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxSubscriptionBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSubscriptionBody {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrDecode, maxSubscriptionBody)
	}
	return bytes.TrimSpace(b), nil
}

// StreamDataQuery selects one page of a subscription's data.
type StreamDataQuery struct {
	Offset, Limit int // Limit 0: the API's default (250)
	IBXs          []string
	MessageTypes  []string // ALARM, ALERT, ENVIRONMENTAL, METERED_POWER, POWER, TAG_POINT
	StreamIDs     []string
}

// StreamPagination is a subscriptionData page's position.
type StreamPagination struct {
	Offset   int    `json:"offset"`
	Limit    int    `json:"limit"`
	Total    int    `json:"total"`
	Next     string `json:"next,omitempty"`
	Previous string `json:"previous,omitempty"`
}

// StreamDataPage is one page of subscriptionData: its messages, each the
// JSON of one {"type": …, "data": {…}} object (with "type" filled from the
// list it came in when the element lacks it), and its pagination.
type StreamDataPage struct {
	Messages   []json.RawMessage
	Pagination StreamPagination
	// HasPagination: the answer carried a pagination object.
	HasPagination bool
}

// streamDataLists are subscriptionData's message lists and the message type
// an element of each has.
var streamDataLists = []struct{ key, typ string }{
	{"alarmMessageData", "system-alert"},
	{"alertMessageData", "custom-alert"},
	{"environmentMessageData", "environmental"},
	{"meteredPowerMessageData", "metered-power"},
	{"powerMessageData", "power"},
	{"tagPointMessageData", "tag-point"},
}

// StreamData reads one page of subscription id's data.
func (c *Client) StreamData(ctx context.Context, id string, q StreamDataQuery) (*StreamDataPage, error) {
	if id == "" {
		return nil, errors.New("smartview: StreamData: empty subscription id")
	}
	v := url.Values{"offset": {strconv.Itoa(q.Offset)}}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	for _, x := range q.IBXs {
		v.Add("ibxs", x)
	}
	for _, x := range q.MessageTypes {
		v.Add("messageTypes", x)
	}
	for _, x := range q.StreamIDs {
		v.Add("streamIds", x)
	}
	r := request{endpoint: endpointStreamData, method: http.MethodGet,
		path: strings.TrimRight(c.cfg.Paths.StreamData, "/") + "/" + url.PathEscape(id), query: v}
	var page *StreamDataPage
	err := c.do(ctx, r, func(body io.Reader) error {
		var err error
		page, err = DecodeStreamData(body)
		return err
	})
	return page, err
}

// DecodeStreamData decodes a subscriptionData answer (SubscriptionData).
func DecodeStreamData(body io.Reader) (*StreamDataPage, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(body)
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("%w: subscriptionData: %w", ErrDecode, err)
	}
	page := &StreamDataPage{}
	if raw, ok := lookupFold(fields, "pagination"); ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &page.Pagination); err != nil {
			return nil, fmt.Errorf("%w: subscriptionData: pagination: %w", ErrDecode, err)
		}
		page.HasPagination = true
	}
	for _, l := range streamDataLists {
		raw, ok := lookupFold(fields, l.key)
		if !ok || isNull(raw) {
			continue
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, fmt.Errorf("%w: subscriptionData: %s: %w", ErrDecode, l.key, err)
		}
		for _, e := range elems {
			page.Messages = append(page.Messages, withType(e, l.typ))
		}
	}
	return page, nil
}

// withType returns a message element with "type" set to typ when it has none.
func withType(elem json.RawMessage, typ string) json.RawMessage {
	var probe struct {
		Type *string `json:"type"`
	}
	if json.Unmarshal(elem, &probe) != nil || probe.Type != nil {
		return elem
	}
	b := bytes.TrimSpace(elem)
	if len(b) < 2 || b[0] != '{' {
		return elem
	}
	out := []byte(`{"type":` + strconv.Quote(typ))
	if inner := bytes.TrimSpace(b[1 : len(b)-1]); len(inner) > 0 {
		out = append(append(out, ','), inner...)
	}
	return append(out, '}')
}

// SplitStreamPayload splits a pushed v2 delivery (a webhook body, an MQTT
// payload) into its messages. The description does not show the pushed
// form; accepted are one message object ({"type": …, "data": …}), an array
// of them (the channels' batchSize), and a subscriptionData-shaped object.
func SplitStreamPayload(b []byte) ([]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrDecode)
	}
	switch b[0] {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(b, &elems); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDecode, describeJSONError(b, err))
		}
		if len(elems) == 0 {
			return nil, fmt.Errorf("%w: empty array", ErrDecode)
		}
		return elems, nil
	case '{':
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDecode, describeJSONError(b, err))
		}
		if _, ok := lookupFold(fields, "type"); ok {
			return []json.RawMessage{b}, nil
		}
		page, err := DecodeStreamData(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if len(page.Messages) == 0 {
			return nil, fmt.Errorf(`%w: neither a message ("type") nor message lists`, ErrDecode)
		}
		return page.Messages, nil
	}
	return nil, fmt.Errorf("%w: not a JSON object or array", ErrDecode)
}
