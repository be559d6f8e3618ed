package sandbox

import (
	"sync"
)

// Stats are the sandbox's counters, for tests and the admin endpoint GET /_sandbox/stats.
type Stats struct {
	// Requests counts API requests by endpoint ("GET /asset/v1/list", the path variant as
	// called; "unmatched" for unknown paths) and HTTP status. Admin requests are not counted.
	Requests        map[string]map[int]int64 `json:"requests"`
	TokensIssued    int64                    `json:"tokensIssued"`    // access tokens from /oauth2/v1/token and refreshes
	TokensRefreshed int64                    `json:"tokensRefreshed"` // successful refreshes
	TokensActive    int                      `json:"tokensActive"`    // access and refresh tokens held
	// FaultsInjected counts injected faults by kind: "429", "500", "503", "latency", "malformed".
	FaultsInjected  map[string]int64  `json:"faultsInjected"`
	Ticks           int64             `json:"ticks"`
	ActiveAlarms    int               `json:"activeAlarms"`
	Alarms          int               `json:"alarms"` // active and cleared alarms kept
	EventsPublished int64             `json:"eventsPublished"`
	Subscribers     []SubscriberStats `json:"subscribers"`
	Footprint       FootprintSize     `json:"footprint"`
}

// SubscriberStats describes one feed subscriber (Subscribe).
type SubscriberStats struct {
	ID        int   `json:"id"`
	Buffer    int   `json:"buffer"`
	Delivered int64 `json:"delivered"`
	Dropped   int64 `json:"dropped"` // events lost because the subscriber's buffer was full
}

// FootprintSize counts the footprint's parts.
type FootprintSize struct {
	IBXs     int `json:"ibxs"`
	Zones    int `json:"zones"`
	Cages    int `json:"cages"`
	Cabinets int `json:"cabinets"`
	Circuits int `json:"circuits"`
	Sensors  int `json:"sensors"`
	Assets   int `json:"assets"`
	Tags     int `json:"tags"`
}

// counters are the request and fault counters; the keys are bounded (routes, statuses, kinds).
type counters struct {
	mu       sync.Mutex
	requests map[string]map[int]int64
	faults   map[string]int64
}

func (c *counters) init() {
	c.requests = make(map[string]map[int]int64)
	c.faults = make(map[string]int64)
}

func (c *counters) request(name string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.requests[name]
	if m == nil {
		m = make(map[int]int64)
		c.requests[name] = m
	}
	m[status]++
}

func (c *counters) fault(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults[kind]++
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	var st Stats
	s.stats.mu.Lock()
	st.Requests = make(map[string]map[int]int64, len(s.stats.requests))
	for k, m := range s.stats.requests {
		cp := make(map[int]int64, len(m))
		for status, n := range m {
			cp[status] = n
		}
		st.Requests[k] = cp
	}
	st.FaultsInjected = make(map[string]int64, len(s.stats.faults))
	for k, n := range s.stats.faults {
		st.FaultsInjected[k] = n
	}
	s.stats.mu.Unlock()

	st.TokensIssued, st.TokensRefreshed, st.TokensActive = s.auth.counts()
	st.EventsPublished, st.Subscribers = s.hub.stats()

	s.mu.RLock()
	defer s.mu.RUnlock()
	st.Ticks = s.sim.ticks
	st.Alarms = len(s.alarms.list)
	st.ActiveAlarms = s.alarms.activeCount()
	f := s.fp
	st.Footprint = FootprintSize{IBXs: len(f.ibxs), Zones: len(f.zones), Cages: len(f.cages), Cabinets: len(f.cabinets),
		Circuits: len(f.circuits), Sensors: len(f.sensors), Assets: len(f.assets), Tags: len(f.tags)}
	return st
}
