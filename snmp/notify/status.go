package notify

// What the gateway's status page shows of each target.

import "time"

// TargetStatus is a target's delivery state, for the status page.
type TargetStatus struct {
	Name         string
	Kind         string // trap, inform, or agentx for the AgentX master
	Queued       int
	LastDelivery time.Time // last successful delivery; zero: none since start
	LastError    string    // of the last failed attempt, if after LastDelivery
	LastErrorAt  time.Time
}

// Targets returns the state of every target, in configuration order.
func (s *Sender) Targets() []TargetStatus {
	s.mu.Lock()
	targets := s.targets
	s.mu.Unlock()
	out := make([]TargetStatus, 0, len(targets))
	for _, t := range targets {
		kind := "trap"
		switch {
		case t.name == MasterTarget:
			kind = "agentx"
		case t.inform:
			kind = "inform"
		}
		t.statMu.Lock()
		st := TargetStatus{Name: t.name, Kind: kind, Queued: t.q.len(), LastDelivery: t.lastOK}
		if t.lastErrAt.After(t.lastOK) {
			st.LastError, st.LastErrorAt = t.lastErr, t.lastErrAt
		}
		t.statMu.Unlock()
		out = append(out, st)
	}
	return out
}
