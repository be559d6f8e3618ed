package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/svgateway/svgateway/smartview"
)

// SubscriptionAPI is the part of the SmartView client that manages feed
// subscriptions (*smartview.Client implements it).
type SubscriptionAPI interface {
	Subscriptions(ctx context.Context) ([]smartview.Subscription, error)
	Subscription(ctx context.Context, id string) (*smartview.Subscription, error)
	CreateSubscription(ctx context.Context, req smartview.SubscriptionRequest) (*smartview.Subscription, error)
	UpdateSubscription(ctx context.Context, id string, req smartview.SubscriptionRequest) (*smartview.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) (*smartview.Subscription, error)
}

// Subscriptions keeps this gateway's SmartView feed subscription: one per
// gateway, found again across restarts through a small state file, and
// never duplicated.
type Subscriptions struct {
	API       SubscriptionAPI
	AccountNo string
	IBXs      []string
	Events    []string
	// Provider and Method are the API's config values ("GOOGLE", "PULL").
	Provider string
	Method   string
	// StatePath is the state file (state_dir/feed/subscription.json).
	StatePath string
	Log       *slog.Logger
	// observe, when set, counts each API operation.
	observe func(op string, err error)
}

// SubscriptionState is what the state file remembers.
type SubscriptionState struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Provider string    `json:"provider"`
	Updated  time.Time `json:"updated"`
}

// StatePath returns the subscription state file under a state directory.
func StatePath(stateDir string) string { return filepath.Join(stateDir, "feed", "subscription.json") }

// APIProvider maps a [feed] provider to the Subscriptions API's provider:
// the sandbox delivers as Google Pub/Sub does.
func APIProvider(provider string) string {
	switch provider {
	case ProviderAWS:
		return "AWS"
	case ProviderAzure:
		return "AZURE"
	case ProviderOracle:
		return "ORACLE"
	}
	return "GOOGLE"
}

// LoadState reads the state file; a missing file is the zero state.
func (s *Subscriptions) LoadState() (SubscriptionState, error) {
	return readStateFile[SubscriptionState](s.StatePath, "subscription state file")
}

func (s *Subscriptions) saveState(sub *smartview.Subscription) error {
	return writeStateFile(s.StatePath, SubscriptionState{ID: string(sub.SubscriptionID), Name: sub.SubscriptionName, Provider: sub.Config.Provider, Updated: time.Now().UTC()})
}

// Request is the subscription this gateway wants: every configured event
// kind for every configured IBX of its account, PULL.
func (s *Subscriptions) Request() smartview.SubscriptionRequest {
	req := smartview.SubscriptionRequest{Config: smartview.SubscriptionConfig{Provider: s.Provider, Method: s.Method}}
	for _, kind := range s.Events {
		scopes := make([]smartview.SubscriptionScope, 0, len(s.IBXs))
		for _, ibx := range s.IBXs {
			scopes = append(scopes, smartview.SubscriptionScope{AccountNo: smartview.Text(s.AccountNo), IBX: ibx})
		}
		*requestField(&req, kind) = scopes
	}
	return req
}

func requestField(req *smartview.SubscriptionRequest, kind string) *[]smartview.SubscriptionScope {
	switch kind {
	case "power":
		return &req.Power
	case "asset":
		return &req.Asset
	case "alarm":
		return &req.Alarm
	case "alert":
		return &req.Alert
	}
	return &req.Environment
}

func subscriptionField(sub *smartview.Subscription, kind string) []smartview.SubscriptionScope {
	switch kind {
	case "power":
		return sub.Power
	case "asset":
		return sub.Asset
	case "alarm":
		return sub.Alarm
	case "alert":
		return sub.Alert
	}
	return sub.Environment
}

// Ensure finds this gateway's subscription — the one remembered in the
// state file, else one of the account's listed subscriptions with the same
// provider — and creates it (POST) when there is none, or updates it (PUT)
// when it does not cover every wanted event kind and IBX. An update keeps
// what the subscription already had: it only adds. The result is
// remembered in the state file.
func (s *Subscriptions) Ensure(ctx context.Context) (*smartview.Subscription, error) {
	s.defaults()
	want := s.Request()
	cur, err := s.find(ctx)
	if err != nil {
		return nil, err
	}
	var sub *smartview.Subscription
	switch {
	case cur == nil:
		sub, err = s.API.CreateSubscription(ctx, want)
		s.count("create", err)
		if err != nil {
			return nil, fmt.Errorf("feed: creating the subscription: %w", err)
		}
		s.Log.Info("feed subscription created", "id", string(sub.SubscriptionID), "name", sub.SubscriptionName, "provider", s.Provider, "ibxs", s.IBXs, "events", s.Events)
	case !covers(cur, want, s.Events):
		merged := merge(cur, want)
		sub, err = s.API.UpdateSubscription(ctx, string(cur.SubscriptionID), merged)
		s.count("update", err)
		if err != nil {
			return nil, fmt.Errorf("feed: updating subscription %s: %w", cur.SubscriptionID, err)
		}
		s.Log.Info("feed subscription updated", "id", string(sub.SubscriptionID), "name", sub.SubscriptionName, "provider", s.Provider, "ibxs", s.IBXs, "events", s.Events)
	default:
		sub = cur
		s.Log.Info("feed subscription up to date", "id", string(sub.SubscriptionID), "name", sub.SubscriptionName)
	}
	if sub.SubscriptionID == "" {
		return nil, errors.New("feed: the Subscriptions API answered without a subscriptionId")
	}
	if strings.EqualFold(sub.Status, "PARTIAL") {
		s.Log.Warn("feed subscription only partly accepted", "id", string(sub.SubscriptionID), "errors", rawList(sub.Errors))
	}
	return sub, s.saveState(sub)
}

// find returns the remembered subscription if it still exists, else a
// listed one of this account and provider, else nil.
func (s *Subscriptions) find(ctx context.Context) (*smartview.Subscription, error) {
	st, err := s.LoadState()
	if err != nil {
		s.Log.Warn("ignoring the feed subscription state file", "err", err)
	}
	if st.ID != "" {
		sub, err := s.API.Subscription(ctx, st.ID)
		s.count("get", err)
		switch {
		case err == nil && string(sub.SubscriptionID) == st.ID:
			return sub, nil
		case err == nil, errors.Is(err, smartview.ErrNotFound):
			s.Log.Warn("the remembered feed subscription no longer exists; looking for another", "id", st.ID)
		default:
			return nil, fmt.Errorf("feed: reading subscription %s: %w", st.ID, err)
		}
	}
	list, err := s.API.Subscriptions(ctx)
	s.count("list", err)
	if err != nil && !errors.Is(err, smartview.ErrNotFound) { // 404: none at all
		return nil, fmt.Errorf("feed: listing subscriptions: %w", err)
	}
	for i := range list {
		if s.ours(&list[i]) {
			return &list[i], nil
		}
	}
	return nil, nil
}

// ours reports whether a listed subscription can be this gateway's: same
// provider, and its scopes (if any) name this account.
func (s *Subscriptions) ours(sub *smartview.Subscription) bool {
	if sub.SubscriptionID == "" || !strings.EqualFold(sub.Config.Provider, s.Provider) {
		return false
	}
	scoped := false
	for _, kind := range EventKinds {
		for _, sc := range subscriptionField(sub, kind) {
			scoped = true
			if string(sc.AccountNo) == s.AccountNo {
				return true
			}
		}
	}
	return !scoped
}

type scopeKey struct{ account, ibx string }

// covers reports whether sub delivers everything want asks for.
func covers(sub *smartview.Subscription, want smartview.SubscriptionRequest, kinds []string) bool {
	if !strings.EqualFold(sub.Config.Provider, want.Config.Provider) || !strings.EqualFold(sub.Config.Method, want.Config.Method) {
		return false
	}
	for _, kind := range kinds {
		have := map[scopeKey]bool{}
		for _, sc := range subscriptionField(sub, kind) {
			have[scopeKey{string(sc.AccountNo), sc.IBX}] = true
		}
		for _, sc := range *requestField(&want, kind) {
			if !have[scopeKey{string(sc.AccountNo), sc.IBX}] {
				return false
			}
		}
	}
	return true
}

// merge returns want plus every scope sub already has.
func merge(sub *smartview.Subscription, want smartview.SubscriptionRequest) smartview.SubscriptionRequest {
	for _, kind := range EventKinds {
		field := requestField(&want, kind)
		seen := map[scopeKey]bool{}
		var out []smartview.SubscriptionScope
		for _, sc := range slices.Concat(subscriptionField(sub, kind), *field) {
			k := scopeKey{string(sc.AccountNo), sc.IBX}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, smartview.SubscriptionScope{AccountNo: sc.AccountNo, IBX: sc.IBX})
		}
		*field = out
	}
	return want
}

// Delete deletes this gateway's subscription (the remembered one, else a
// listed one of this account and provider) and forgets it. It returns the
// deleted subscription, or nil when there was none.
func (s *Subscriptions) Delete(ctx context.Context) (*smartview.Subscription, error) {
	s.defaults()
	cur, err := s.find(ctx)
	if err != nil {
		return nil, err
	}
	if cur != nil {
		_, err = s.API.DeleteSubscription(ctx, string(cur.SubscriptionID))
		s.count("delete", err)
		if err != nil && !errors.Is(err, smartview.ErrNotFound) {
			return nil, fmt.Errorf("feed: deleting subscription %s: %w", cur.SubscriptionID, err)
		}
	}
	return cur, removeStateFile(s.StatePath)
}

func (s *Subscriptions) defaults() {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Method == "" {
		s.Method = "PULL"
	}
}

func (s *Subscriptions) count(op string, err error) {
	if s.observe != nil {
		s.observe(op, err)
	}
}

func rawList(raw []json.RawMessage) []string {
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = string(r)
	}
	return out
}
