package notify

// Reload applies a new [[snmp.targets]] list to a running sender (SIGHUP):
// an operator adds a manager, rotates a community or a v3 passphrase, or
// retires a console without a restart, and without losing what is queued
// for the managers that stay.

import (
	"fmt"
	"reflect"

	"github.com/svgateway/svgateway/snmp"
)

// newSNMPTarget builds the target of one [[snmp.targets]] entry; with q it
// takes over that queue (a reloaded target keeps what was queued for it).
func (s *Sender) newSNMPTarget(tc snmp.Target, q *queue) (*target, error) {
	d, err := newSNMPDeliverer(tc, s.engine)
	if err != nil {
		return nil, fmt.Errorf("snmp.targets %s: %w", tc.Name, err)
	}
	t := newTarget(tc.Name, tc.Kind == snmp.KindInform, tc.Retries, tc.Expire, tc.QueueSize, tc.RateLimit, d, s.log, s.counts)
	if q != nil {
		q.mu.Lock()
		q.capacity, q.hardCap = tc.QueueSize, 4*tc.QueueSize
		q.mu.Unlock()
		t.q = q
	}
	s.configs[tc.Name] = tc
	return t, nil
}

// Reload replaces the targets by those of cfg (validated here; only its
// targets are applied). A target whose name stays and whose settings did
// not change goes on untouched; one whose settings changed (address,
// version, credentials, limits) finishes its attempt in flight and goes on
// with the new settings and its queue; a new target receives the
// notifications from now on; a removed target's queue is dropped (logged).
// On an error nothing changes.
func (s *Sender) Reload(cfg snmp.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()

	s.mu.Lock()
	old := map[string]*target{}
	for _, t := range s.targets {
		old[t.name] = t
	}
	var (
		next             []*target
		stopped, started []*target
		added, changed   []string
	)
	oldConfigs := s.configs
	s.configs = map[string]snmp.Target{}
	for _, tc := range cfg.Targets {
		prev := old[tc.Name]
		if prev != nil && reflect.DeepEqual(oldConfigs[tc.Name], tc) {
			s.configs[tc.Name] = tc
			next = append(next, prev)
			delete(old, tc.Name)
			continue
		}
		var q *queue
		if prev != nil {
			q = prev.q
		}
		t, err := s.newSNMPTarget(tc, q)
		if err != nil {
			for _, t := range started {
				t.d.close()
			}
			s.configs = oldConfigs
			s.mu.Unlock()
			return err
		}
		t.onDone = func() { s.outbox.kick() }
		next = append(next, t)
		started = append(started, t)
		if prev != nil {
			stopped = append(stopped, prev)
			delete(old, tc.Name)
			changed = append(changed, tc.Name)
		} else {
			added = append(added, tc.Name)
		}
	}
	var removed []string
	if m := old[MasterTarget]; m != nil { // the AgentX master is not a [[snmp.targets]] entry
		next = append(next, m)
		delete(old, MasterTarget)
	}
	for name, t := range old {
		removed = append(removed, name)
		stopped = append(stopped, t)
		if n := t.q.len(); n > 0 {
			s.log.Warn("snmp: notification target removed by a reload; its queued notifications are dropped", "target", name, "count", n)
		}
	}
	s.targets = next
	s.changes++
	ctx := s.runCtx
	s.mu.Unlock()

	// A changed target's old delivery stops before the new one takes its
	// queue, so the queue is delivered in order by one goroutine.
	for _, t := range stopped {
		t.stop()
	}
	if ctx != nil {
		for _, t := range started {
			t.start(ctx)
		}
	}
	s.outbox.kick()
	s.log.Info("snmp: notification targets reloaded", "targets", len(cfg.Targets), "added", added, "changed", changed, "removed", removed)
	return nil
}
