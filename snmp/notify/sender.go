package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp"
)

// Deps are what New needs besides the configuration and the model.
type Deps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not exported
	// StateDir holds snmp/outbox.json; "" keeps the outbox in memory (tests).
	StateDir string
	// OutboxStore, when set, keeps the outbox instead of StateDir (a
	// cluster: the leader's sender saves it where the next leader reads it).
	OutboxStore OutboxStore
	// MIB builds the notifications; Engine sends v3 traps (open it once
	// per gateway start and share it with the agent).
	MIB    *snmp.MIB
	Engine *snmp.Engine
	// Master, when set (the AgentX subagent), receives every notification
	// too, through its own queue.
	Master Master
	// ReportPersist, when set, is told the outcome of outbox saves that
	// change from failing to succeeding or back (the gateway's persist
	// health: Store.ReportPersist).
	ReportPersist func(component string, err error)
}

// Sender turns the model's alarm, alert and health transitions into
// SVGATEWAY-MIB notifications and delivers them to every target. It is a
// model subscriber: it never blocks the model's writer.
type Sender struct {
	store     *model.Store
	mib       *snmp.MIB
	log       *slog.Logger
	heartbeat time.Duration
	cold      bool      // the first start of the state directory: coldStart, else warmStart
	targets   []*target // guarded by mu: Reload replaces them
	outbox    *outbox
	engine    *snmp.Engine
	counts    *prometheus.CounterVec
	configs   map[string]snmp.Target // of the targets, by name, for Reload

	reloadMu sync.Mutex      // one Reload at a time
	runCtx   context.Context // of Run, once it runs (guarded by mu): Reload starts targets in it

	mu     sync.Mutex // the state below, and enqueueing to every target
	state  outboxState
	nextID uint64
	// changes counts changes of what the outbox holds (queued events, the
	// state), so that deltas that change neither cost no save.
	changes uint64

	ready chan struct{} // closed once Run follows the stream (subscribed, targets delivering)
}

// OutboxFile is where the sender keeps its state, relative to state_dir.
const OutboxFile = "snmp/outbox.json"

// OutboxComponent names the outbox in the persist health.
const OutboxComponent = "notification outbox"

// New returns the sender of cfg's targets (cfg is validated here too) and,
// with deps.Master, of the AgentX master. It loads the outbox: what was
// queued at the last stop is queued again.
func New(cfg snmp.Config, store *model.Store, deps Deps) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.MIB == nil || deps.Engine == nil {
		return nil, errors.New("notify: a MIB and an Engine are required")
	}
	s := &Sender{store: store, mib: deps.MIB, log: deps.Logger, heartbeat: cfg.HeartbeatInterval, ready: make(chan struct{}),
		cold: deps.Engine.Boots() <= 1, engine: deps.Engine, configs: map[string]snmp.Target{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "svgateway_snmp_notifications_total",
		Help: "SNMP notifications by target, type and outcome (sent: trap sent; acked: inform or AgentX Notify acknowledged; retried: failed attempt; expired: given up; dropped_overflow: dropped from a full queue)."},
		[]string{"target", "type", "outcome"})
	cursor := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "svgateway_snmp_notification_cursor",
		Help: "Model transition sequence number up to which notifications were queued."}, func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(s.state.Cursor)
	})
	if deps.Registerer != nil {
		for _, c := range []prometheus.Collector{vec, cursor, queueDepth{s}} {
			if err := deps.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("notify: registering metrics: %w", err)
			}
		}
	}
	s.counts = vec
	for _, tc := range cfg.Targets {
		t, err := s.newSNMPTarget(tc, nil)
		if err != nil {
			return nil, err
		}
		s.addTarget(t)
	}
	if deps.Master != nil {
		ax := cfg.AgentX
		s.addTarget(newTarget(MasterTarget, true, 0, defaultMasterExpire, ax.QueueSize, ax.RateLimit,
			masterDeliverer{m: deps.Master, timeout: ax.Timeout}, s.log, vec))
	}
	path := ""
	if deps.StateDir != "" {
		path = filepath.Join(deps.StateDir, filepath.FromSlash(OutboxFile))
	}
	s.outbox = newOutbox(path, s.log)
	s.outbox.store = deps.OutboxStore
	if deps.ReportPersist != nil {
		s.outbox.report = func(err error) { deps.ReportPersist(OutboxComponent, err) }
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// defaultMasterExpire is how long a notification waits for the AgentX
// master (snmpd down) before it is given up.
const defaultMasterExpire = 24 * time.Hour

func (s *Sender) addTarget(t *target) {
	t.onDone = func() { s.outbox.kick() }
	s.targets = append(s.targets, t)
}

var descQueueDepth = prometheus.NewDesc("svgateway_snmp_notification_queue_depth", "Notifications waiting for a target.", []string{"target"}, nil)

// queueDepth exports the length of every target's queue when scraped.
type queueDepth struct{ s *Sender }

func (c queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- descQueueDepth }

func (c queueDepth) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	targets := c.s.targets
	c.s.mu.Unlock()
	for _, t := range targets {
		ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(t.q.len()), t.name)
	}
}

// Run delivers until ctx is done, then lets each target finish the attempt
// in flight, saves the outbox and returns nil.
func (s *Sender) Run(ctx context.Context) error {
	snap, sub := s.store.Subscribe()
	// The targets deliver from the start: what the outbox restored, and a
	// svgPersistFailed while the first reconcile waits for the ledger.
	s.mu.Lock()
	s.runCtx = ctx
	for _, t := range s.targets {
		t.start(ctx)
	}
	n := len(s.targets)
	s.mu.Unlock()
	var wg sync.WaitGroup
	saved := make(chan struct{})
	go func() {
		s.outbox.run(ctx, s.snapshot)
		close(saved)
	}()
	if s.heartbeat > 0 {
		wg.Go(func() { s.beat(ctx) })
	}
	close(s.ready)
	if s.waitDurable(ctx, snap.TransitionSeq()) {
		s.reconcile(snap)
	}
	s.log.Info("snmp: notification sender started", "targets", n, "cursor", s.cursor())
	for {
		d, err := sub.Next(ctx)
		if err != nil {
			break
		}
		if d.Resync {
			s.log.Warn("snmp: notification sender fell behind the model; reconciling alarms", "missed", d.Missed)
			snap := s.store.Snapshot()
			if !s.waitDurable(ctx, snap.TransitionSeq()) {
				break
			}
			s.reconcile(snap)
			continue
		}
		if !s.waitDurable(ctx, lastSeq(d)) {
			break
		}
		s.apply(d)
	}
	wg.Wait()
	s.reloadMu.Lock() // no Reload swaps targets from here on
	defer s.reloadMu.Unlock()
	for _, t := range s.targets {
		t.stop()
	}
	<-saved
	final := s.snapshot()
	final.Clean = true
	switch err := s.outbox.save(final); {
	case fenced(err):
		s.log.Info("snmp: outbox left to the next leader (this gateway no longer leads its pair)")
	case err != nil:
		s.log.Error("snmp: outbox not saved at shutdown; queued notifications may be lost or repeated", "err", err)
	}
	return nil
}

// lastSeq is the sequence number of d's last alarm or alert transition, 0
// without one.
func lastSeq(d *model.Delta) uint64 {
	var seq uint64
	if n := len(d.Alarms); n > 0 {
		seq = d.Alarms[n-1].Seq
	}
	if n := len(d.Alerts); n > 0 {
		seq = max(seq, d.Alerts[n-1].Seq)
	}
	return seq
}

// heldRecheck is how often a sender holding notifications for the ledger
// re-reads the persist health (it also wakes at every write attempt).
const heldRecheck = time.Second

// waitDurable returns once the model's alarm ledger holds seq on disk, so
// that no notification names an alarm id a crash could give to another
// alarm; false if ctx ended first. While it holds, a change of the persist
// health is still notified (svgPersistFailed).
func (s *Sender) waitDurable(ctx context.Context, seq uint64) bool {
	for held := false; ; held = true {
		durable, changed := s.store.Durable()
		if durable >= seq {
			if held {
				s.log.Info("snmp: alarm ledger saved; held notifications released", "seq", seq)
				s.health(s.store.Snapshot())
			}
			return true
		}
		if !held {
			s.log.Debug("snmp: holding notifications until the alarm ledger is saved", "seq", seq, "durable", durable)
		}
		s.health(s.store.Snapshot())
		select {
		case <-ctx.Done():
			return false
		case <-changed:
		case <-time.After(heldRecheck):
		}
	}
}

// health queues the upstream and persist notifications snap's health
// calls for, once each per change (it takes s.mu).
func (s *Sender) health(snap *model.Snapshot) {
	s.mu.Lock()
	before := s.changes
	s.upstream(snap)
	s.persist(snap)
	s.leader(snap)
	changed := s.changes != before
	s.mu.Unlock()
	if changed {
		s.outbox.kick()
	}
}

func (s *Sender) cursor() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Cursor
}

// queueStart queues coldStart (the first start of the state directory: the
// SNMP engine's first boot) or warmStart to every direct target, before
// anything the outbox replays. The AgentX master is left out: snmpd sends
// its own.
func (s *Sender) queueStart() {
	k := warmStart
	if s.cold {
		k = coldStart
	}
	ev := s.newEvent(0, k, "start", s.mib.StartNotification(s.cold))
	for _, t := range s.targets {
		if t.name != MasterTarget {
			t.push(ev, 0)
		}
	}
}

// enqueue builds nothing: it queues ev to every target (s.mu held).
func (s *Sender) enqueue(ev *event) {
	s.changes++
	for _, t := range s.targets {
		t.push(ev, 0)
	}
}

// newEvent numbers an event (s.mu held).
func (s *Sender) newEvent(seq uint64, k kind, subject string, n snmp.NotificationVarbinds) *event {
	s.nextID++
	return &event{id: s.nextID, seq: seq, kind: k, subject: subject, created: time.Now(), n: n}
}

// apply queues the notifications of one delta, in transition order.
func (s *Sender) apply(d *model.Delta) {
	if len(d.Alarms) == 0 && len(d.Alerts) == 0 && !d.HealthChanged {
		return // most deltas: values only, nothing to send
	}
	snap := s.store.Snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.changes
	ai, li := 0, 0
	for ai < len(d.Alarms) || li < len(d.Alerts) {
		if li == len(d.Alerts) || (ai < len(d.Alarms) && d.Alarms[ai].Seq < d.Alerts[li].Seq) {
			s.alarmTransition(snap, d.Alarms[ai])
			ai++
		} else {
			s.alertTransition(d.Alerts[li])
			li++
		}
	}
	if d.HealthChanged {
		s.upstream(snap)
		s.persist(snap)
		s.leader(snap)
	}
	// Most deltas are values and health without a transition: a save (the
	// whole outbox, fsynced) only when this one queued or noted something.
	if s.changes != before {
		s.outbox.kick()
	}
}

// alarmTransition queues one alarm transition of the stream unless it was
// queued already (before a restart) (s.mu held).
func (s *Sender) alarmTransition(snap *model.Snapshot, tr model.AlarmTransition) {
	if tr.Seq <= s.state.Cursor {
		return
	}
	if _, ok := alarmKinds[tr.Kind]; !ok {
		// An operator's acknowledgement or comment at the gateway: shown in
		// svgAlarmTable's operator columns, not notified (it changes
		// nothing upstream; a manager that wants it polls the table).
		s.state.Cursor = max(s.state.Cursor, tr.Seq)
		s.changes++
		return
	}
	s.queueAlarm(snap, tr)
}

// alarmKinds maps an alarm transition to its notification.
var alarmKinds = map[model.TransitionKind]kind{model.AlarmRaised: alarmRaised, model.AlarmAcknowledgedKind: alarmAcknowledged,
	model.AlarmClearedKind: alarmCleared}

// queueAlarm queues the notification of an alarm transition (s.mu held).
func (s *Sender) queueAlarm(snap *model.Snapshot, tr model.AlarmTransition) {
	k := alarmKinds[tr.Kind]
	n, err := s.mib.AlarmNotification(snap, tr)
	s.record(tr.Seq, k, alarmSubject(tr.Alarm.ID), k == alarmCleared, n, err)
}

// alertTransition queues one alert transition of the stream unless it was
// queued already (s.mu held).
func (s *Sender) alertTransition(tr model.AlertTransition) {
	if tr.Seq > s.state.Cursor {
		s.queueAlert(tr)
	}
}

// queueAlert queues the notification of an alert transition (s.mu held).
func (s *Sender) queueAlert(tr model.AlertTransition) {
	k := alertTriggered
	if tr.Kind == model.AlertAcknowledged {
		k = alertAcknowledged
	}
	n, err := s.mib.AlertNotification(tr)
	s.record(tr.Seq, k, alertSubject(tr.Alert.Number), k == alertAcknowledged, n, err)
}

// record queues the notification n of transition seq (unless it could not
// be built: err) and notes what was notified: the subject is open or, with
// closes, no more; the cursor moves to seq (s.mu held).
func (s *Sender) record(seq uint64, k kind, subject string, closes bool, n snmp.NotificationVarbinds, err error) {
	if err != nil {
		s.log.Error("snmp: no notification for a transition", "subject", subject, "type", k.String(), "err", err)
	} else {
		s.enqueue(s.newEvent(seq, k, subject, n))
	}
	if closes {
		delete(s.state.Open, subject)
	} else {
		s.state.Open[subject] = k.String()
	}
	s.state.Cursor = max(s.state.Cursor, seq)
	s.changes++
}

// upstream queues svgUpstreamLost when the upstream goes down and
// svgUpstreamRestored when it comes back, once each (s.mu held).
func (s *Sender) upstream(snap *model.Snapshot) {
	state := snap.Health().Upstream
	var lost bool
	switch {
	case state == model.UpstreamDown && !s.state.UpstreamLost:
		lost = true
	case (state == model.UpstreamOK || state == model.UpstreamDegraded) && s.state.UpstreamLost:
		lost = false
	default:
		return
	}
	n, err := s.mib.UpstreamNotification(snap, lost)
	if err != nil {
		s.log.Error("snmp: no upstream notification", "err", err)
		return
	}
	k := upstreamRestored
	if lost {
		k = upstreamLost
	}
	s.enqueue(s.newEvent(0, k, "upstream", n))
	s.state.UpstreamLost = lost
}

// persist queues svgPersistFailed when saving state starts failing and
// svgPersistRestored when it succeeds again, once each (s.mu held).
func (s *Sender) persist(snap *model.Snapshot) {
	failing := !snap.Health().Persist.OK()
	if failing == s.state.PersistFailing {
		return
	}
	n, err := s.mib.PersistNotification(snap, failing)
	if err != nil {
		s.log.Error("snmp: no persist notification", "err", err)
		return
	}
	k := persistRestored
	if failing {
		k = persistFailed
	}
	s.enqueue(s.newEvent(0, k, "persist", n))
	s.state.PersistFailing = failing
}

// leader queues svgClusterLeaderChanged once per leadership term of a
// redundant pair: a sender runs only on the leader, so it announces its
// own term, which the shared outbox says was not announced yet (s.mu held).
func (s *Sender) leader(snap *model.Snapshot) {
	c := snap.Health().Cluster
	if c.Role != model.ClusterLeader || c.Term == 0 || c.Term == s.state.LeaderTerm {
		return
	}
	n, err := s.mib.ClusterNotification(snap)
	if err != nil {
		s.log.Error("snmp: no leader notification", "err", err)
		return
	}
	s.enqueue(s.newEvent(0, leaderChanged, "cluster", n))
	s.state.LeaderTerm = c.Term
}

// reconcile queues what the snapshot holds that was committed but never
// queued: transitions after the cursor, which only the alarms' current
// states tell (at a start, or after the sender fell behind the stream).
// What an alarm went through is inferred from what was last notified for
// it (Open) and where it stands now:
//
//	now \ last notified   nothing            raised / acknowledged
//	active                raised             raised (it was cleared and raised again)
//	acknowledged          raised, ack'd      acknowledged (raised, ack'd when it was ack'd before)
//	cleared               raised, cleared    cleared
//
// with an acknowledgement before the clear when the alarm was acknowledged
// in its current life and the last notification was not that one; and
// likewise for alerts (triggered, acknowledged).
func (s *Sender) reconcile(snap *model.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq := snap.TransitionSeq(); seq < s.state.Cursor {
		// The model's ledger is behind the outbox: the model lost its newest
		// transitions (a crash) and will report them again. Better twice
		// than never: follow the model from where it is.
		s.log.Warn("snmp: the alarm ledger is behind the notification outbox (crash?); transitions after it may be notified twice",
			"ledger_seq", seq, "outbox_cursor", s.state.Cursor)
		s.state.Cursor = seq
	}
	type item struct {
		seq   uint64
		alarm *model.Alarm
		alert *model.Alert
	}
	var items []item
	present := map[string]bool{}
	for _, a := range snap.Alarms() {
		present[alarmSubject(a.ID)] = true
		if a.Seq > s.state.Cursor {
			items = append(items, item{seq: a.Seq, alarm: a})
		}
	}
	for _, a := range snap.Alerts() {
		present[alertSubject(a.Number)] = true
		if a.Seq > s.state.Cursor {
			items = append(items, item{seq: a.Seq, alert: a})
		}
	}
	for subject := range s.state.Open {
		if !present[subject] {
			delete(s.state.Open, subject) // forgotten by the model (a lost ledger)
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.seq, b.seq) })
	for _, it := range items {
		if it.alarm != nil {
			a := *it.alarm
			last := s.state.Open[alarmSubject(a.ID)]
			var kinds []model.TransitionKind
			switch a.State {
			case model.AlarmActive:
				if last != alarmRaised.String() { // else: newer by an operator's action only
					kinds = []model.TransitionKind{model.AlarmRaised}
				}
			case model.AlarmAcknowledged:
				if last != alarmRaised.String() && last != alarmAcknowledged.String() {
					kinds = append(kinds, model.AlarmRaised)
				}
				if last != alarmAcknowledged.String() {
					kinds = append(kinds, model.AlarmAcknowledgedKind)
				}
			case model.AlarmCleared:
				if last == "" {
					kinds = append(kinds, model.AlarmRaised)
				}
				if a.WasAcknowledged && last != alarmAcknowledged.String() {
					kinds = append(kinds, model.AlarmAcknowledgedKind)
				}
				kinds = append(kinds, model.AlarmClearedKind)
			}
			for _, k := range kinds {
				at := a // an inferred earlier transition shows the alarm as it was then
				switch k {
				case model.AlarmRaised:
					at.State, at.Cleared = model.AlarmActive, time.Time{}
				case model.AlarmAcknowledgedKind:
					at.State, at.Cleared = model.AlarmAcknowledged, time.Time{}
				}
				s.queueAlarm(snap, model.AlarmTransition{Kind: k, Seq: a.Seq, Alarm: at, Source: "outbox"})
			}
			continue
		}
		a := *it.alert
		var kinds []model.TransitionKind
		if !a.Acknowledged || s.state.Open[alertSubject(a.Number)] == "" {
			kinds = append(kinds, model.AlertTriggered)
		}
		if a.Acknowledged {
			kinds = append(kinds, model.AlertAcknowledged)
		}
		for _, k := range kinds {
			s.queueAlert(model.AlertTransition{Kind: k, Seq: a.Seq, Alert: a, Source: "outbox"})
		}
	}
	s.state.Cursor = max(s.state.Cursor, snap.TransitionSeq())
	// The health as it is now: snap may be older than what waitDurable
	// already notified.
	now := s.store.Snapshot()
	s.upstream(now)
	s.persist(now)
	s.leader(now)
	s.outbox.kick()
}

// beat queues a heartbeat every interval.
func (s *Sender) beat(ctx context.Context) {
	t := time.NewTicker(s.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.mib.HeartbeatNotification(s.store.Snapshot())
		if err != nil {
			s.log.Error("snmp: no heartbeat notification", "err", err)
			continue
		}
		s.mu.Lock()
		s.enqueue(s.newEvent(0, heartbeat, "heartbeat", n))
		s.mu.Unlock()
		s.outbox.kick()
	}
}
