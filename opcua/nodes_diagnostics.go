package opcua

import (
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// The Server object's ServerDiagnostics (Part 5, 6.3.3): the summary
// counts, kept by the session layer (sessions, rejected requests) and by
// the subscriptions here, always on (EnabledFlag true, read-only). The
// per-session and per-subscription diagnostic arrays are not served.

// diagnosticsSummary is the current ServerDiagnosticsSummary.
func (s *services) diagnosticsSummary() *ua.ServerDiagnosticsSummaryDataType {
	d := (*s.sessionDiag.Load())()
	cur, intervals := s.subscriptionCounts()
	return &ua.ServerDiagnosticsSummaryDataType{
		CurrentSessionCount: d.CurrentSessions, CumulatedSessionCount: d.CumulatedSessions,
		SecurityRejectedSessionCount: d.SecurityRejectedSessions, RejectedSessionCount: d.RejectedSessions,
		SessionTimeoutCount: d.SessionTimeouts, SessionAbortCount: d.SessionAborts,
		CurrentSubscriptionCount: cur, CumulatedSubscriptionCount: s.subsCreated.Load(),
		PublishingIntervalCount:       intervals,
		SecurityRejectedRequestsCount: d.SecurityRejectedRequests, RejectedRequestsCount: d.RejectedRequests,
	}
}

// setSessionDiagnostics sets where the session layer's counts come from.
func (s *services) setSessionDiagnostics(f func() uaserver.Diagnostics) { s.sessionDiag.Store(&f) }

// subscriptionCounts counts the subscriptions (of open sessions and kept
// for transfer) and their distinct publishing intervals.
func (s *services) subscriptionCounts() (n, intervals uint32) {
	s.mu.Lock()
	states := make([]*sessionState, 0, len(s.sessions)+len(s.detached))
	for _, st := range s.sessions {
		states = append(states, st)
	}
	for st := range s.detached {
		states = append(states, st)
	}
	s.mu.Unlock()
	var subs []*subscription
	for _, st := range states {
		st.mu.Lock()
		for _, sub := range st.subs {
			subs = append(subs, sub)
		}
		st.mu.Unlock()
	}
	seen := map[int64]bool{}
	for _, sub := range subs {
		sub.mu.Lock()
		seen[int64(sub.interval)] = true
		sub.mu.Unlock()
	}
	return uint32(len(subs)), uint32(len(seen))
}

// diagnosticsBindings are the values of Server/ServerDiagnostics. They are
// sampled like the clock, so a monitored item sees the counts change.
func diagnosticsBindings() map[uint32]binding {
	count := func(f func(d *ua.ServerDiagnosticsSummaryDataType) uint32) binding {
		return binding{source: srcClock, value: func(c *evalCtx, _ node) sample {
			return good(variant(f(c.srv.diagnosticsSummary())))
		}}
	}
	type S = ua.ServerDiagnosticsSummaryDataType
	return map[uint32]binding{
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary: {source: srcClock, value: func(c *evalCtx, _ node) sample {
			return good(variant(ua.NewExtensionObject(c.srv.diagnosticsSummary())))
		}},
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_ServerViewCount:     count(func(d *S) uint32 { return d.ServerViewCount }),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_CurrentSessionCount: count(func(d *S) uint32 { return d.CurrentSessionCount }),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_CumulatedSessionCount: count(func(d *S) uint32 {
			return d.CumulatedSessionCount
		}),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_SecurityRejectedSessionCount: count(func(d *S) uint32 {
			return d.SecurityRejectedSessionCount
		}),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_RejectedSessionCount: count(func(d *S) uint32 { return d.RejectedSessionCount }),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_SessionTimeoutCount:  count(func(d *S) uint32 { return d.SessionTimeoutCount }),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_SessionAbortCount:    count(func(d *S) uint32 { return d.SessionAbortCount }),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_PublishingIntervalCount: count(func(d *S) uint32 {
			return d.PublishingIntervalCount
		}),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_CurrentSubscriptionCount: count(func(d *S) uint32 {
			return d.CurrentSubscriptionCount
		}),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_CumulatedSubscriptionCount: count(func(d *S) uint32 {
			return d.CumulatedSubscriptionCount
		}),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_SecurityRejectedRequestsCount: count(func(d *S) uint32 {
			return d.SecurityRejectedRequestsCount
		}),
		id.Server_ServerDiagnostics_ServerDiagnosticsSummary_RejectedRequestsCount: count(func(d *S) uint32 {
			return d.RejectedRequestsCount
		}),
		id.Server_ServerDiagnostics_EnabledFlag: {value: func(*evalCtx, node) sample { return good(variant(true)) }},
	}
}
