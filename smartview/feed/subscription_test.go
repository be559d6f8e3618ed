package feed_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// subscriptionCalls counts the sandbox's subscription requests by method.
func subscriptionCalls(sb *sandbox.Server) map[string]int64 {
	out := map[string]int64{}
	for route, byStatus := range sb.Stats().Requests {
		method, path, _ := strings.Cut(route, " ")
		if !strings.Contains(path, "/subscribe") {
			continue
		}
		for _, n := range byStatus {
			out[method] += n
		}
	}
	return out
}

// TestSubscriptionIdempotentAcrossRestarts: the first start adopts or
// creates a subscription covering every IBX and event kind; later starts
// (the same state file) change nothing; losing the state file finds the same
// subscription again instead of creating a second; unsubscribe deletes it.
func TestSubscriptionIdempotentAcrossRestarts(t *testing.T) {
	rig := feedtest.NewRig(t)
	dir := t.TempDir()
	ctx := context.Background()
	subs := rig.Subscriptions(dir, feed.ProviderAWS) // the sandbox starts with a GOOGLE one: not ours
	first, err := subs.Ensure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if calls := subscriptionCalls(rig.Sandbox); calls["POST"] != 1 || calls["PUT"] != 0 {
		t.Errorf("first start: %v", calls)
	}
	if first.Config.Provider != "AWS" || first.Config.Method != "PULL" || first.SubscriptionName == "" {
		t.Errorf("created %+v", first)
	}
	for _, kind := range [][]smartview.SubscriptionScope{first.Power, first.Asset, first.Alarm, first.Alert, first.Environment} {
		var ibxs []string
		for _, sc := range kind {
			if string(sc.AccountNo) != rig.Sandbox.AccountNo() {
				t.Errorf("scope %+v of another account", sc)
			}
			ibxs = append(ibxs, sc.IBX)
		}
		want := rig.Sandbox.IBXs()
		slices.Sort(ibxs)
		slices.Sort(want)
		if !slices.Equal(ibxs, want) {
			t.Errorf("subscribed IBXs %v, want %v", ibxs, want)
		}
	}

	for range 3 { // restarts
		again, err := rig.Subscriptions(dir, feed.ProviderAWS).Ensure(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again.SubscriptionID != first.SubscriptionID || again.SubscriptionName != first.SubscriptionName {
			t.Errorf("restart found %s, want %s", again.SubscriptionID, first.SubscriptionID)
		}
	}
	if calls := subscriptionCalls(rig.Sandbox); calls["POST"] != 1 || calls["PUT"] != 0 {
		t.Errorf("after restarts: %v", calls)
	}

	// Without the state file the listing finds it: still no second one.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	again, err := rig.Subscriptions(dir, feed.ProviderAWS).Ensure(ctx)
	if err != nil || again.SubscriptionID != first.SubscriptionID {
		t.Fatalf("without state: %v, %v", again, err)
	}
	if calls := subscriptionCalls(rig.Sandbox); calls["POST"] != 1 {
		t.Errorf("without state: %v", calls)
	}

	deleted, err := rig.Subscriptions(dir, feed.ProviderAWS).Delete(ctx)
	if err != nil || deleted == nil || deleted.SubscriptionID != first.SubscriptionID {
		t.Fatalf("delete: %+v, %v", deleted, err)
	}
	if _, err := rig.Client.Subscription(ctx, string(first.SubscriptionID)); err == nil {
		t.Error("the deleted subscription is still there")
	}
	if _, err := os.Stat(feed.StatePath(dir)); !os.IsNotExist(err) {
		t.Errorf("state file after delete: %v", err)
	}
	if gone, err := rig.Subscriptions(dir, feed.ProviderAWS).Delete(ctx); err != nil || gone != nil {
		t.Errorf("second delete: %+v, %v", gone, err)
	}
}

// TestSubscriptionUpdatedToCover: an existing subscription of this account
// and provider that lacks IBXs or kinds is updated (PUT), keeping what it had.
func TestSubscriptionUpdatedToCover(t *testing.T) {
	rig := feedtest.NewRig(t)
	ctx := context.Background()
	// The sandbox's seeded subscription: GOOGLE, power and asset of CH1 only.
	sub, err := rig.Subscriptions(t.TempDir(), feed.ProviderGoogle).Ensure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if calls := subscriptionCalls(rig.Sandbox); calls["POST"] != 0 || calls["PUT"] != 1 {
		t.Errorf("calls %v", calls)
	}
	if len(sub.Environment) != len(rig.Sandbox.IBXs()) || len(sub.Power) != len(rig.Sandbox.IBXs()) {
		t.Errorf("updated subscription %+v", sub)
	}
}
