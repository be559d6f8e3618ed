// This file keeps the gateway's v2 streaming subscription
// (/smartview/v2/streaming/subscriptions), as subscription.go keeps the
// documented v1 one: one per gateway, found again across restarts through a
// state file, never duplicated.

package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/svgateway/svgateway/smartview"
)

// StreamSubscriptionAPI is the part of the SmartView client that manages v2
// streaming subscriptions (*smartview.Client implements it).
type StreamSubscriptionAPI interface {
	StreamSubscriptions(ctx context.Context) ([]smartview.StreamSubscription, error)
	StreamSubscription(ctx context.Context, id string) (*smartview.StreamSubscription, error)
	CreateStreamSubscription(ctx context.Context, req smartview.StreamSubscriptionRequest) (*smartview.StreamSubscription, error)
	UpdateStreamSubscription(ctx context.Context, id string, req smartview.StreamSubscriptionRequest) error
	DeleteStreamSubscription(ctx context.Context, id string) error
}

// StreamSubscriptions keeps this gateway's v2 subscription.
type StreamSubscriptions struct {
	API       StreamSubscriptionAPI
	AccountNo string
	// Types are the message types ([feed.stream] message_types names) for
	// each IBX.
	Types map[string][]string
	// Channel is the push channel; nil for subscriptionData only.
	Channel *smartview.StreamChannel
	// StatePath is the state file (state_dir/feed/stream-subscription.json).
	StatePath string
	Log       *slog.Logger
	observe   func(op string, err error)
}

// StreamStatePath returns the v2 subscription state file under a state directory.
func StreamStatePath(stateDir string) string {
	return filepath.Join(stateDir, "feed", "stream-subscription.json")
}

// streamState is what the state file remembers.
type streamState struct {
	ID      string    `json:"id"`
	Channel string    `json:"channel"`
	Updated time.Time `json:"updated"`
}

// LoadID returns the remembered subscription id ("" when none).
func (s *StreamSubscriptions) LoadID() (string, error) {
	st, err := s.load()
	return st.ID, err
}

func (s *StreamSubscriptions) load() (streamState, error) {
	return readStateFile[streamState](s.StatePath, "stream subscription state file")
}

func (s *StreamSubscriptions) save(id string) error {
	return writeStateFile(s.StatePath, streamState{ID: id, Channel: s.channelType(), Updated: time.Now().UTC()})
}

func (s *StreamSubscriptions) channelType() string {
	if s.Channel == nil {
		return "REST"
	}
	return s.Channel.ChannelType
}

// Request is the subscription this gateway wants.
func (s *StreamSubscriptions) Request() smartview.StreamSubscriptionRequest {
	req := smartview.StreamSubscriptionRequest{Channel: s.Channel}
	ibxs := make([]string, 0, len(s.Types))
	for ibx := range s.Types {
		ibxs = append(ibxs, ibx)
	}
	slices.Sort(ibxs)
	for _, typ := range StreamMessageTypes {
		var scope []string
		for _, ibx := range ibxs {
			if slices.Contains(s.Types[ibx], typ) {
				scope = append(scope, ibx)
			}
		}
		if len(scope) > 0 {
			*streamField(&req.MessageType, typ) = []smartview.StreamScope{{AccountNumber: smartview.Text(s.AccountNo), IBX: scope}}
		}
	}
	return req
}

func streamField(m *smartview.StreamMessageTypes, typ string) *[]smartview.StreamScope {
	switch typ {
	case "asset":
		return &m.Asset
	case "environmental":
		return &m.Environmental
	case "power":
		return &m.Power
	case "meteredPower":
		return &m.MeteredPower
	case "systemAlert":
		return &m.SystemAlert
	}
	return &m.CustomAlert
}

// Ensure finds this gateway's subscription — the remembered one, else a
// listed one with the same channel naming this account — and creates it
// when there is none, or replaces it (PUT) when it does not deliver every
// wanted message type for every wanted IBX through the wanted channel. A
// replacement keeps the IBXs the subscription already had. It returns the
// subscription's id, remembered in the state file.
func (s *StreamSubscriptions) Ensure(ctx context.Context) (string, error) {
	s.defaults()
	want := s.Request()
	cur, err := s.find(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case cur == nil:
		created, err := s.API.CreateStreamSubscription(ctx, want)
		s.count("create", err)
		if err != nil {
			return "", fmt.Errorf("feed: creating the v2 subscription: %w", err)
		}
		if created == nil || created.ID == "" {
			// 201 with only a Location header: find what was created.
			if created, err = s.findListed(ctx); err != nil {
				return "", err
			}
			if created == nil {
				return "", errors.New("feed: the v2 subscription was created but is not listed")
			}
		}
		cur = created
		s.Log.Info("v2 stream subscription created", "id", cur.ID, "channel", s.channelType(), "types", s.Types)
	case !streamCovers(cur, want):
		merged := streamMerge(cur, want)
		err := s.API.UpdateStreamSubscription(ctx, cur.ID, merged)
		s.count("update", err)
		if err != nil {
			return "", fmt.Errorf("feed: updating v2 subscription %s: %w", cur.ID, err)
		}
		s.Log.Info("v2 stream subscription updated", "id", cur.ID, "channel", s.channelType(), "types", s.Types)
	default:
		s.Log.Info("v2 stream subscription up to date", "id", cur.ID, "status", cur.Status)
	}
	if strings.EqualFold(cur.Status, "FAILED") {
		s.Log.Warn("v2 stream subscription reported FAILED", "id", cur.ID)
	}
	return cur.ID, s.save(cur.ID)
}

// find returns the remembered subscription if it still exists, else a
// listed one that is this gateway's, else nil.
func (s *StreamSubscriptions) find(ctx context.Context) (*smartview.StreamSubscription, error) {
	st, err := s.load()
	if err != nil {
		s.Log.Warn("ignoring the v2 stream subscription state file", "err", err)
	}
	if st.ID != "" {
		sub, err := s.API.StreamSubscription(ctx, st.ID)
		s.count("get", err)
		switch {
		case err == nil && sub != nil && sub.ID == st.ID && !gone(sub):
			return sub, nil
		case err == nil, errors.Is(err, smartview.ErrNotFound):
			s.Log.Warn("the remembered v2 stream subscription no longer exists; looking for another", "id", st.ID)
		default:
			return nil, fmt.Errorf("feed: reading v2 subscription %s: %w", st.ID, err)
		}
	}
	return s.findListed(ctx)
}

func (s *StreamSubscriptions) findListed(ctx context.Context) (*smartview.StreamSubscription, error) {
	list, err := s.API.StreamSubscriptions(ctx)
	s.count("list", err)
	if err != nil && !errors.Is(err, smartview.ErrNotFound) {
		return nil, fmt.Errorf("feed: listing v2 subscriptions: %w", err)
	}
	for i := range list {
		if s.ours(&list[i]) {
			return &list[i], nil
		}
	}
	return nil, nil
}

func gone(sub *smartview.StreamSubscription) bool {
	return strings.EqualFold(sub.Status, "DELETED") || strings.EqualFold(sub.Status, "DELETE_IN_PROGRESS")
}

// ours reports whether a listed subscription can be this gateway's: same
// channel (type and URL), and a scope that names this account.
func (s *StreamSubscriptions) ours(sub *smartview.StreamSubscription) bool {
	if sub.ID == "" || gone(sub) || !sameChannel(sub.Channel, s.Channel) {
		return false
	}
	for _, typ := range StreamMessageTypes {
		for _, sc := range *streamField(&sub.MessageType, typ) {
			if string(sc.AccountNumber) == s.AccountNo {
				return true
			}
		}
	}
	return false
}

// sameChannel compares the channels' types and URLs; the certificate and
// tuning are compared by streamCovers.
func sameChannel(a, b *smartview.StreamChannel) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return strings.EqualFold(a.ChannelType, b.ChannelType) && channelURL(a) == channelURL(b)
}

func channelURL(c *smartview.StreamChannel) string {
	switch {
	case c.Webhook != nil:
		return c.Webhook.URL
	case c.AWSIoTCore != nil:
		return c.AWSIoTCore.URL
	}
	return ""
}

// streamCovers reports whether sub delivers everything want asks for, the
// way want asks for it.
func streamCovers(sub *smartview.StreamSubscription, want smartview.StreamSubscriptionRequest) bool {
	if !sameChannel(sub.Channel, want.Channel) {
		return false
	}
	if want.Channel != nil && want.Channel.Webhook != nil && sub.Channel.Webhook != nil &&
		sub.Channel.Webhook.SSLCertificate != "" && sub.Channel.Webhook.SSLCertificate != want.Channel.Webhook.SSLCertificate {
		return false // the certificate was renewed
	}
	for _, typ := range StreamMessageTypes {
		have := map[[2]string]bool{}
		for _, sc := range *streamField(&sub.MessageType, typ) {
			for _, ibx := range sc.IBX {
				have[[2]string{string(sc.AccountNumber), ibx}] = true
			}
		}
		for _, sc := range *streamField(&want.MessageType, typ) {
			for _, ibx := range sc.IBX {
				if !have[[2]string{string(sc.AccountNumber), ibx}] {
					return false
				}
			}
		}
	}
	return true
}

// streamMerge returns want plus every account's IBXs sub already has.
func streamMerge(sub *smartview.StreamSubscription, want smartview.StreamSubscriptionRequest) smartview.StreamSubscriptionRequest {
	for _, typ := range StreamMessageTypes {
		field := streamField(&want.MessageType, typ)
		byAccount := map[string][]string{}
		var order []string
		for _, sc := range slices.Concat(*streamField(&sub.MessageType, typ), *field) {
			acct := string(sc.AccountNumber)
			if _, ok := byAccount[acct]; !ok {
				order = append(order, acct)
			}
			for _, ibx := range sc.IBX {
				if !slices.Contains(byAccount[acct], ibx) {
					byAccount[acct] = append(byAccount[acct], ibx)
				}
			}
		}
		var out []smartview.StreamScope
		for _, acct := range order {
			out = append(out, smartview.StreamScope{AccountNumber: smartview.Text(acct), IBX: byAccount[acct]})
		}
		*field = out
	}
	return want
}

// Delete deletes this gateway's v2 subscription and forgets it. It returns
// the deleted subscription's id, "" when there was none.
func (s *StreamSubscriptions) Delete(ctx context.Context) (string, error) {
	s.defaults()
	cur, err := s.find(ctx)
	if err != nil {
		return "", err
	}
	var id string
	if cur != nil {
		id = cur.ID
		err = s.API.DeleteStreamSubscription(ctx, id)
		s.count("delete", err)
		if err != nil && !errors.Is(err, smartview.ErrNotFound) {
			return "", fmt.Errorf("feed: deleting v2 subscription %s: %w", id, err)
		}
	}
	return id, removeStateFile(s.StatePath)
}

func (s *StreamSubscriptions) defaults() {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
}

func (s *StreamSubscriptions) count(op string, err error) {
	if s.observe != nil {
		s.observe(op, err)
	}
}
