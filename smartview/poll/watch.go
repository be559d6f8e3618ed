package poll

import (
	"context"
	"fmt"
	"time"

	"github.com/svgateway/svgateway/model"
)

// The watchdog judges by the clock what cycles only judge when they end: a
// hung upstream (connections that never answer) keeps a cycle from ending
// for as long as the client's retry budget, and values must not stay good,
// nor upstream "ok", meanwhile.

// watchPeriod is how often the watchdog looks: staleness is committed (and
// subscribers see it) at most this long after stale_after.
const watchPeriod = time.Second

// started records a call going out; ended its answer (or failure).
func (p *Poller) started() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.callSeq++
	p.calls[p.callSeq] = p.now()
	return p.callSeq
}

func (p *Poller) ended(id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.calls, id)
}

// watch runs Check every watchPeriod until ctx is done.
func (p *Poller) watch(ctx context.Context) {
	t := time.NewTicker(watchPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.Check()
		}
	}
}

// Check ages the values (a value not confirmed within stale_after becomes
// stale) and, when a call has been in flight longer than the call deadline,
// turns an "ok" upstream degraded. The next cycle to end sets the state from
// its results again.
func (p *Poller) Check() {
	now := p.now()
	p.mu.Lock()
	late, oldest := 0, time.Duration(0)
	for _, at := range p.calls {
		if d := now.Sub(at); d > p.deadline {
			late++
			oldest = max(oldest, d)
		}
	}
	degrade := late > 0 && !p.overdue
	if degrade {
		p.overdue = true
	}
	p.mu.Unlock()
	before := p.store.Snapshot().Health().Upstream
	state := before
	p.store.Update(func(tx *model.Tx) error {
		tx.Age()
		if degrade && (before == model.UpstreamOK || before == model.UpstreamStarting) {
			state = model.UpstreamDegraded
			tx.SetUpstream(state, fmt.Sprintf("%d calls unanswered for more than %v (oldest %v)", late, p.deadline, oldest.Round(time.Second)))
		}
		return nil
	})
	p.logState(before, state, "overdue_calls", late, "oldest", oldest.Round(time.Second))
}
