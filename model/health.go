package model

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// UpstreamState is the state of the REST connection to SmartView.
type UpstreamState uint8

// Upstream states.
const (
	// UpstreamStarting: no sync has finished yet.
	UpstreamStarting UpstreamState = iota
	// UpstreamOK: the last sync cycle succeeded.
	UpstreamOK
	// UpstreamDegraded: some calls of the last cycle failed; their values are stale.
	UpstreamDegraded
	// UpstreamDown: SmartView is unreachable or refuses us; every value is last-usable.
	UpstreamDown
)

func (s UpstreamState) String() string {
	switch s {
	case UpstreamOK:
		return "ok"
	case UpstreamDegraded:
		return "degraded"
	case UpstreamDown:
		return "down"
	}
	return "starting"
}

// FeedState is the state of the near-real-time feed consumer.
type FeedState uint8

// Feed states.
const (
	FeedDisabled FeedState = iota
	FeedConnecting
	FeedConnected
	FeedDown
)

func (s FeedState) String() string {
	switch s {
	case FeedConnecting:
		return "connecting"
	case FeedConnected:
		return "connected"
	case FeedDown:
		return "down"
	}
	return "disabled"
}

// Health is the state of the gateway's upstream connections.
type Health struct {
	Upstream      UpstreamState
	UpstreamSince time.Time // when Upstream last changed
	UpstreamError string    // the last sync error, safe to show (no secrets)
	// LastSync is when the sync last had everything read (structure, readings
	// and alarms of every IBX, each at least once, in any cycles) with no
	// failed call left to retry; zero until then.
	LastSync time.Time
	Feed     FeedHealth
	// Persist is whether what must survive a restart (the alarm ledger,
	// the notification outbox, other state_dir files) is being saved.
	Persist PersistHealth
	// Cluster is the gateway's place in a redundant pair; zero alone.
	Cluster ClusterHealth
}

// ClusterRole is what a gateway does in a redundant pair.
type ClusterRole uint8

// Cluster roles.
const (
	ClusterAlone ClusterRole = iota
	ClusterLeader
	ClusterStandby
)

func (r ClusterRole) String() string {
	switch r {
	case ClusterLeader:
		return "leader"
	case ClusterStandby:
		return "standby"
	}
	return "alone"
}

// ClusterHealth is the gateway's place in a redundant pair, as the
// cluster wiring reports it (Tx.SetCluster).
type ClusterHealth struct {
	Role ClusterRole
	// Node is this gateway's name, Leader the leading node's as last
	// known ("" unknown).
	Node, Leader string
	// Connected: the coordination store (etcd) is reachable.
	Connected bool
	// Term identifies the current leadership while Role is ClusterLeader
	// (the election's revision): a new term is a new leader, even the
	// same node again.
	Term int64
}

// PersistHealth is the state of the gateway's writes to state_dir. While a
// write fails the gateway keeps serving, but alarm notifications are held
// (an alarm id is never sent before the ledger naming it is on disk).
type PersistHealth struct {
	// Failing maps each component whose last save failed ("alarm ledger",
	// "notification outbox", …) to its error; empty while every save
	// succeeds. Treat it as read-only: it is shared between snapshots.
	Failing map[string]string
	// Since is when Failing last became empty or non-empty.
	Since time.Time
}

// OK reports whether every save succeeds.
func (p PersistHealth) OK() bool { return len(p.Failing) == 0 }

// Error describes the failing saves ("alarm ledger: …; notification
// outbox: …"), components in name order; empty when OK.
func (p PersistHealth) Error() string {
	var b strings.Builder
	for _, c := range slices.Sorted(maps.Keys(p.Failing)) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c + ": " + p.Failing[c])
	}
	return b.String()
}

// FeedHealth is the state of the feed consumer.
type FeedHealth struct {
	State    FeedState
	Provider string
	Since    time.Time // when State last changed
	Error    string
	// Events, Malformed and Unknown count events received, rejected as
	// malformed, and of an unknown kind.
	Events, Malformed, Unknown uint64
	// LastEvent is when the last event arrived; NewestEventTime is the newest
	// source time seen in an event. Lag = now − NewestEventTime.
	LastEvent       time.Time
	NewestEventTime time.Time
	// EventRate is events received per second, averaged over about a minute.
	EventRate float64
}
