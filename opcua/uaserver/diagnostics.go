package uaserver

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Diagnostics are the session layer's counts for the Server object's
// ServerDiagnosticsSummary (Part 5, 6.3.3), counted since the server was
// made. Subscription counts are the services'.
type Diagnostics struct {
	CurrentSessions          uint32
	CumulatedSessions        uint32 // sessions created
	SecurityRejectedSessions uint32 // activations refused: identity, certificate, rate limit
	RejectedSessions         uint32 // CreateSession and ActivateSession refused, for any reason
	SessionTimeouts          uint32 // sessions closed because their client went silent
	SessionAborts            uint32 // sessions closed by the server (shutdown)
	SecurityRejectedRequests uint32 // requests and channels refused for security (the auth failures metric)
	RejectedRequests         uint32 // requests refused for any reason, security included
}

// diagCounters are the counts the metrics do not already keep.
type diagCounters struct {
	cumulated, rejected, securityRejected, timeouts, aborts atomic.Uint32
}

// Diagnostics returns the current counts.
func (s *Server) Diagnostics() Diagnostics {
	security := counterSum(s.metrics.authFailures)
	return Diagnostics{
		CurrentSessions:          uint32(s.sessions.count()),
		CumulatedSessions:        s.diag.cumulated.Load(),
		SecurityRejectedSessions: s.diag.securityRejected.Load(),
		RejectedSessions:         s.diag.rejected.Load(),
		SessionTimeouts:          s.diag.timeouts.Load(),
		SessionAborts:            s.diag.aborts.Load(),
		SecurityRejectedRequests: security,
		RejectedRequests:         security + counterSum(s.metrics.badRequests),
	}
}

// counterSum adds up the counters of a vector.
func counterSum(c prometheus.Collector) uint32 {
	ch := make(chan prometheus.Metric, 16)
	go func() { c.Collect(ch); close(ch) }()
	var total float64
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil && d.Counter != nil {
			total += d.Counter.GetValue()
		}
	}
	return uint32(min(total, float64(^uint32(0))))
}
