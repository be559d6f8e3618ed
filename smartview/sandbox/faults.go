package sandbox

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// faultInjector draws, per API request, whether a fault strikes. Its random stream is seeded
// from Config.Seed; with concurrent requests which request gets a fault is not reproducible, the
// proportions are.
type faultInjector struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

func newFaultInjector(f Faults, seed int64) faultInjector {
	return faultInjector{f: f, rng: rand.New(rand.NewPCG(uint64(seed), 0xfa0175))}
}

func (fi *faultInjector) get() Faults {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.f
}

func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.f = f
}

type faultDraw struct {
	status     int // 429, 500, 503 or 0
	retryAfter int // seconds, with 429
	latency    time.Duration
}

func (fi *faultInjector) draw() faultDraw {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	d := faultDraw{latency: fi.f.Latency}
	if fi.f.RateLimit+fi.f.ServerError+fi.f.Unavailable == 0 {
		return d
	}
	switch p := fi.rng.Float64(); {
	case p < fi.f.RateLimit:
		d.status = 429
		d.retryAfter = max(1, int(math.Ceil(fi.f.RetryAfter.Seconds())))
	case p < fi.f.RateLimit+fi.f.ServerError:
		d.status = 500
	case p < fi.f.RateLimit+fi.f.ServerError+fi.f.Unavailable:
		d.status = 503
	}
	return d
}

// malformed breaks a successful response body with probability Faults.Malformed, in one of two
// ways: cut in half (no longer JSON), or valid JSON of the wrong shape (wrongTypes).
func (fi *faultInjector) malformed(w *jsonWriter) bool {
	fi.mu.Lock()
	hit := fi.f.Malformed > 0 && fi.rng.Float64() < fi.f.Malformed
	truncate := fi.rng.IntN(2) == 0
	fi.mu.Unlock()
	if !hit || len(w.b) < 2 {
		return false
	}
	if truncate {
		w.b = w.b[:len(w.b)/2]
	} else {
		w.b = wrongTypes(w.b)
	}
	return true
}

// wrongTypes keeps a body valid JSON but gives every top-level member the wrong type: arrays
// become the string "unexpected", everything else is wrapped in an array; a top-level array
// becomes an object.
func wrongTypes(body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body[:len(body)/2]
	}
	switch top := v.(type) {
	case map[string]any:
		for k, m := range top {
			if _, isArray := m.([]any); isArray {
				top[k] = "unexpected"
			} else {
				top[k] = []any{m}
			}
		}
	default:
		v = map[string]any{"unexpected": top}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body[:len(body)/2]
	}
	return out
}

// SetFaults switches the faults at run time (validated; RetryAfter defaults to 1s).
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faults.set(f)
	s.log.Info("faults set", "rate_limit", f.RateLimit, "server_error", f.ServerError, "unavailable", f.Unavailable,
		"latency", f.Latency, "token_ttl", f.TokenTTL, "malformed", f.Malformed)
	return nil
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults { return s.faults.get() }
