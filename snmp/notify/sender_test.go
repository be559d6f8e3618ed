package notify

import (
	"context"
	"errors"
	"fmt"
	"github.com/gosnmp/gosnmp"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp"
)

// recorder is a deliverer that records what it is given; while down it
// fails every attempt.
type recorder struct {
	mu     sync.Mutex
	got    []snmp.NotificationVarbinds
	starts []string // coldStart, warmStart: apart, every start sends one
	down   atomic.Bool
	delay  time.Duration
}

func (r *recorder) deliver(_ context.Context, n snmp.NotificationVarbinds) error {
	if r.down.Load() {
		return errors.New("receiver down")
	}
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n.Notification == snmp.ColdStart || n.Notification == snmp.WarmStart {
		r.starts = append(r.starts, n.Notification.Name)
		return nil
	}
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) close() {}

// delivered lists what was delivered as "svgAlarmRaised:7" (the
// notification and the id of its alarm or alert).
func (r *recorder) delivered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		out = append(out, describe(n))
	}
	return out
}

func describe(n snmp.NotificationVarbinds) string {
	s := n.Notification.Name
	if first := n.Notification.Objects[0].Name; len(n.Varbinds) > 0 && first != "svgUpstreamState" && first != "svgPersistState" && n.Notification.Name != "svgHeartbeat" {
		s += fmt.Sprint(":", n.Varbinds[0].Value) // svgAlarmId or svgAlertNumber
	}
	return s
}

// testStore is a model store with a ledger in dir, reopened by reopen
// (a gateway restart as the model sees it).
type testStore struct {
	t     *testing.T
	dir   string
	store *model.Store
}

func openTestStore(t *testing.T, dir string) *testStore {
	ts := &testStore{t: t, dir: dir}
	ts.reopen()
	t.Cleanup(func() { ts.store.Close() })
	return ts
}

func (ts *testStore) reopen() {
	if ts.store != nil {
		if err := ts.store.Close(); err != nil {
			ts.t.Fatal(err)
		}
	}
	s, err := model.NewStore(model.Options{LedgerPath: filepath.Join(ts.dir, "alarms.json")})
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.store = s
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// alarmObs is a sighting of alarm i (the i-th UPS overload).
func alarmObs(i int, active, acked bool) model.AlarmObservation {
	o := model.AlarmObservation{IBX: "CH1", AssetID: fmt.Sprintf("CH1.UPS-%d", i), TagID: fmt.Sprintf("CH1.UPS-%d:load", i),
		Condition: "Overload", Severity: model.SeverityHigh, SeverityText: "High", Value: "101", Unit: "%",
		Active: active, Acknowledged: acked, Triggered: t0.Add(time.Duration(i) * time.Second), Processed: time.Now()}
	if !active {
		o.Cleared = time.Now()
	}
	return o
}

func (ts *testStore) observe(obs ...model.AlarmObservation) {
	ts.t.Helper()
	if _, err := ts.store.Update(func(tx *model.Tx) error {
		for _, o := range obs {
			tx.ObserveAlarm(o, "poll")
		}
		return nil
	}); err != nil {
		ts.t.Fatal(err)
	}
}

// alarmID returns the model's id of alarm i.
func (ts *testStore) alarmID(i int) uint64 {
	ts.t.Helper()
	o := alarmObs(i, true, false)
	a, ok := ts.store.Snapshot().Alarm(o.Key())
	if !ok {
		ts.t.Fatalf("no alarm %d", i)
	}
	return a.ID
}

// running is a Sender under test with recorders as deliverers.
type running struct {
	s    *Sender
	recs []*recorder
	reg  *prometheus.Registry
	stop func()
}

// startSender runs a sender of one v2c trap target (plus what mutate
// adds) whose deliverers are recorders.
func startSender(t *testing.T, store *model.Store, stateDir string, mutate func(*snmp.Config)) *running {
	t.Helper()
	cfg := snmp.Config{Listen: "off", Targets: []snmp.Target{{Address: "127.0.0.1:9", Community: "public"}}}
	if mutate != nil {
		mutate(&cfg)
	}
	mib, err := snmp.OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := snmp.OpenEngine("", "")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	s, err := New(cfg, store, Deps{StateDir: stateDir, MIB: mib, Engine: engine, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	r := &running{s: s, reg: reg}
	for _, tg := range s.targets {
		rec := &recorder{}
		tg.d = rec
		r.recs = append(r.recs, rec)
	}
	r.stop = svctest.Start(t, s.Run)
	waitReady(t, s)
	return r
}

// waitReady waits (bounded) until s follows the model's stream.
func waitReady(t testing.TB, s *Sender) {
	t.Helper()
	select {
	case <-s.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("sender not following the stream after 10s")
	}
}

// waitDelivered waits (bounded) until rec delivered n notifications, and
// checks they are want (when set).
func waitDelivered(t *testing.T, rec *recorder, want ...string) []string {
	t.Helper()
	for i := 0; ; i++ {
		got := rec.delivered()
		if len(got) >= len(want) {
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("delivered %q, want %q", got, want)
			}
			return got
		}
		if i == 200 {
			t.Fatalf("delivered %q after 20s, want %q", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// retryHorizon is how long after the queues drained anything repeated
// would have been delivered: the first retry delay or the held-entry
// recheck, whichever is later, and the time a worker takes to deliver.
const retryHorizon = max(minRetryDelay, heldRecheck) + 500*time.Millisecond

// settle gives a running sender time to deliver anything more it would
// (nothing must come): the stream is empty, every queue drained, and the
// retry horizon passed.
func settle(t *testing.T, r *running) {
	t.Helper()
	for i := 0; ; i++ {
		// Every transition queued (the sender holds them until the ledger
		// is on disk), and every queue drained.
		empty := r.s.cursor() >= r.s.store.Snapshot().TransitionSeq()
		for _, tg := range r.s.targets {
			empty = empty && tg.q.len() == 0
		}
		if empty {
			// Past the horizon of a repeat: a failed or held entry is
			// retried after minRetryDelay (or heldRecheck), so a late
			// duplicate would be delivered by then.
			time.Sleep(retryHorizon)
			return
		}
		if i == 200 {
			t.Fatal("queues not drained after 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestExactlyOncePerTransition(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	r := startSender(t, ts.store, t.TempDir(), nil)
	ts.observe(alarmObs(1, true, false))
	ts.observe(alarmObs(1, true, false)) // the feed sees it again: no transition
	ts.observe(alarmObs(1, true, true))
	ts.observe(alarmObs(1, true, true), alarmObs(1, true, true))
	ts.observe(alarmObs(1, false, false))
	id := ts.alarmID(1)
	waitDelivered(t, r.recs[0], fmt.Sprint("svgAlarmRaised:", id), fmt.Sprint("svgAlarmAcknowledged:", id), fmt.Sprint("svgAlarmCleared:", id))
	settle(t, r)
	if got := r.recs[0].delivered(); len(got) != 3 {
		t.Errorf("delivered %q", got)
	}
	if n := testutil.ToFloat64(r.s.targets[0].counts[alarmCleared][outcomeSent]); n != 1 {
		t.Errorf("counted %v cleared sent", n)
	}
}

// TestRestartBetweenAckAndClear stops the sender (and the model) after
// the acknowledgement; the alarm is cleared while it is down; after the
// restart only the clear is delivered.
func TestRestartBetweenAckAndClear(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	r := startSender(t, ts.store, state, nil)
	ts.observe(alarmObs(1, true, false))
	ts.observe(alarmObs(1, true, true))
	id := ts.alarmID(1)
	waitDelivered(t, r.recs[0], fmt.Sprint("svgAlarmRaised:", id), fmt.Sprint("svgAlarmAcknowledged:", id))
	r.stop()
	ts.reopen()
	ts.observe(alarmObs(1, false, false))
	r2 := startSender(t, ts.store, state, nil)
	waitDelivered(t, r2.recs[0], fmt.Sprint("svgAlarmCleared:", id))
	settle(t, r2)
	if got := r2.recs[0].delivered(); len(got) != 1 {
		t.Errorf("after the restart delivered %q, want the clear only", got)
	}
	// And a third start delivers nothing at all.
	r2.stop()
	ts.reopen()
	r3 := startSender(t, ts.store, state, nil)
	settle(t, r3)
	if got := r3.recs[0].delivered(); len(got) != 0 {
		t.Errorf("third start delivered %q", got)
	}
}

// TestPendingSurvivesRestart: what a target could not take before the stop
// is delivered after the start, once, in order, with its attempts kept.
func TestPendingSurvivesRestart(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	r := startSender(t, ts.store, state, nil)
	waitStarted(t, r.recs[0])
	r.recs[0].down.Store(true)
	ts.observe(alarmObs(1, true, false))
	ts.observe(alarmObs(2, true, false))
	for i := 0; testutil.ToFloat64(r.s.targets[0].counts[alarmRaised][outcomeRetried]) < 1; i++ {
		if i == 100 {
			t.Fatal("no failed attempt")
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.stop()
	data, err := os.ReadFile(filepath.Join(state, "snmp", "outbox.json"))
	if err != nil || !strings.Contains(string(data), `"attempts":1`) {
		t.Fatalf("outbox after the stop: %v\n%s", err, data)
	}
	r2 := startSender(t, ts.store, state, nil)
	waitDelivered(t, r2.recs[0], fmt.Sprint("svgAlarmRaised:", ts.alarmID(1)), fmt.Sprint("svgAlarmRaised:", ts.alarmID(2)))
	settle(t, r2)
	if got := r2.recs[0].delivered(); len(got) != 2 {
		t.Errorf("delivered %q", got)
	}
}

// TestMissedTransitionsDerived: transitions committed while no sender ran
// (or that a crash kept from the outbox) are derived from the alarms'
// states and what was last notified for them.
func TestMissedTransitionsDerived(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	r := startSender(t, ts.store, state, nil)
	ts.observe(alarmObs(1, true, false), alarmObs(2, true, false), alarmObs(6, true, false), alarmObs(8, true, false))
	ts.observe(alarmObs(6, true, true))
	waitDelivered(t, r.recs[0], fmt.Sprint("svgAlarmRaised:", ts.alarmID(1)), fmt.Sprint("svgAlarmRaised:", ts.alarmID(2)),
		fmt.Sprint("svgAlarmRaised:", ts.alarmID(6)), fmt.Sprint("svgAlarmRaised:", ts.alarmID(8)), fmt.Sprint("svgAlarmAcknowledged:", ts.alarmID(6)))
	r.stop()
	ts.reopen()
	ts.observe(alarmObs(1, true, true))   // acknowledged while down
	ts.observe(alarmObs(2, false, false)) // cleared while down
	ts.observe(alarmObs(3, true, true))   // new: raised and acknowledged while down
	ts.observe(alarmObs(4, true, false))  // new: raised …
	ts.observe(alarmObs(4, false, false)) // … and cleared while down
	ts.observe(alarmObs(5, true, false))  // new: raised while down
	ts.observe(alarmObs(7, true, true))   // new: raised, acknowledged …
	ts.observe(alarmObs(7, false, true))  // … and cleared while down
	ts.observe(alarmObs(8, false, true))  // acknowledged and cleared while down (one sighting)
	r2 := startSender(t, ts.store, state, nil)
	id := ts.alarmID
	waitDelivered(t, r2.recs[0],
		fmt.Sprint("svgAlarmAcknowledged:", id(1)), fmt.Sprint("svgAlarmCleared:", id(2)),
		fmt.Sprint("svgAlarmRaised:", id(3)), fmt.Sprint("svgAlarmAcknowledged:", id(3)),
		fmt.Sprint("svgAlarmRaised:", id(4)), fmt.Sprint("svgAlarmCleared:", id(4)),
		fmt.Sprint("svgAlarmRaised:", id(5)),
		fmt.Sprint("svgAlarmRaised:", id(7)), fmt.Sprint("svgAlarmAcknowledged:", id(7)), fmt.Sprint("svgAlarmCleared:", id(7)),
		fmt.Sprint("svgAlarmAcknowledged:", id(8)), fmt.Sprint("svgAlarmCleared:", id(8)))
	settle(t, r2)
	if got := r2.recs[0].delivered(); len(got) != 12 {
		t.Errorf("delivered %q", got)
	}
	// The inferred raise of alarm 4 shows it as it was raised.
	for _, n := range r2.recs[0].got {
		if n.Notification.Name == "svgAlarmRaised" && n.Varbinds[0].Value == uint32(id(4)) {
			if sev := n.Varbinds[1].Value; sev == 1 {
				t.Errorf("inferred raise has perceived severity cleared(1)")
			}
		}
	}
}

func TestUpstreamLostRestored(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	setUpstream := func(s model.UpstreamState) {
		if _, err := ts.store.Update(func(tx *model.Tx) error { tx.SetUpstream(s, "test"); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	r := startSender(t, ts.store, state, nil)
	setUpstream(model.UpstreamOK)
	setUpstream(model.UpstreamDegraded)
	setUpstream(model.UpstreamDown)
	setUpstream(model.UpstreamDown)
	waitDelivered(t, r.recs[0], "svgUpstreamLost")
	r.stop()
	// Restarted while SmartView is still down: nothing new; then it returns.
	r2 := startSender(t, ts.store, state, nil)
	setUpstream(model.UpstreamOK)
	waitDelivered(t, r2.recs[0], "svgUpstreamRestored")
	settle(t, r2)
	if got := r2.recs[0].delivered(); len(got) != 1 {
		t.Errorf("delivered %q", got)
	}
}

func TestHeartbeat(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	r := startSender(t, ts.store, "", func(c *snmp.Config) { c.HeartbeatInterval = time.Second })
	waitDelivered(t, r.recs[0], "svgHeartbeat")
}

// TestStorm raises and clears a thousand alarms at once into small,
// slow queues: every clear arrives, the overflow is counted, nothing
// arrives twice.
func TestStorm(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	r := startSender(t, ts.store, t.TempDir(), func(c *snmp.Config) {
		c.Targets[0].QueueSize = 300 // clears may reach 4x: 1200
		c.Targets[0].RateLimit = 2000
	})
	waitStarted(t, r.recs[0]) // the coldStart is delivered: delay is not read meanwhile
	r.recs[0].delay = time.Millisecond
	const n = 1000
	var raise, clear []model.AlarmObservation
	for i := range n {
		raise = append(raise, alarmObs(i, true, false))
		clear = append(clear, alarmObs(i, false, false))
	}
	for i := 0; i < n; i += 100 {
		ts.observe(raise[i : i+100]...)
		ts.observe(clear[i : i+100]...)
	}
	settle(t, r)
	seen := map[string]int{}
	clears := 0
	for _, d := range r.recs[0].delivered() {
		seen[d]++
		if seen[d] > 1 {
			t.Errorf("%s delivered twice", d)
		}
		if strings.HasPrefix(d, "svgAlarmCleared:") {
			clears++
		}
	}
	if clears != n {
		t.Errorf("%d clears delivered, want %d", clears, n)
	}
	dropped := testutil.ToFloat64(r.s.targets[0].counts[alarmRaised][outcomeDropped])
	if dropped == 0 || testutil.ToFloat64(r.s.targets[0].counts[alarmCleared][outcomeDropped]) != 0 {
		t.Errorf("dropped %v raises (want some) and %v clears (want none)", dropped, testutil.ToFloat64(r.s.targets[0].counts[alarmCleared][outcomeDropped]))
	}
	if int(dropped)+len(seen)-clears != n {
		t.Errorf("%d raises delivered + %v dropped != %d", len(seen)-clears, dropped, n)
	}
	m, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range m {
		found = found || mf.GetName() == "svgateway_snmp_notification_queue_depth"
	}
	if !found {
		t.Error("no queue depth metric")
	}
}

func TestOutboxCorrupt(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	os.MkdirAll(filepath.Join(state, "snmp"), 0o755)
	path := filepath.Join(state, "snmp", "outbox.json")
	os.WriteFile(path, []byte(`{"version":1,"events":[{"id":1,"kind":"nonsense"}]}`), 0o600)
	mib, _ := snmp.OpenMIB("", nil)
	engine, _ := snmp.OpenEngine("", "")
	cfg := snmp.Config{Targets: []snmp.Target{{Address: "127.0.0.1:9", Community: "public"}}}
	_, err := New(cfg, ts.store, Deps{StateDir: state, MIB: mib, Engine: engine})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("New with a corrupt outbox: %v", err)
	}
}

// TestEventStoreLoad: an event survives the outbox unchanged, every value
// type included.
func TestEventStoreLoad(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	ts.observe(alarmObs(1, true, false))
	mib, _ := snmp.OpenMIB("", nil)
	snap := ts.store.Snapshot()
	a := snap.Alarms()[0]
	var ns []snmp.NotificationVarbinds
	n, err := mib.AlarmNotification(snap, model.AlarmTransition{Kind: model.AlarmRaised, Seq: a.Seq, Alarm: *a})
	ns = append(ns, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() (snmp.NotificationVarbinds, error){
		func() (snmp.NotificationVarbinds, error) { return mib.UpstreamNotification(snap, true) },
		func() (snmp.NotificationVarbinds, error) { return mib.HeartbeatNotification(snap) },
	} {
		n, err := f()
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	for i, n := range ns {
		ev := &event{id: uint64(i + 1), seq: 9, kind: alarmRaised, subject: "alarm:1", created: t0, n: n}
		st, err := ev.store()
		if err != nil {
			t.Fatal(err)
		}
		back, err := st.load()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, ev) {
			t.Errorf("%s:\nstored %+v\nloaded %+v", n.Notification.Name, ev, back)
		}
	}
}

// TestEventLoadAfterReroot: a notification queued before enterprise_oid
// changed loads as the same notification under the new root, its varbinds
// and row pointers moved too.
func TestEventLoadAfterReroot(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	ts.observe(alarmObs(1, true, false))
	mib, _ := snmp.OpenMIB("", nil)
	snap := ts.store.Snapshot()
	a := snap.Alarms()[0]
	n, err := mib.AlarmNotification(snap, model.AlarmTransition{Kind: model.AlarmRaised, Seq: a.Seq, Alarm: *a})
	if err != nil {
		t.Fatal(err)
	}
	st, err := (&event{id: 1, seq: 1, kind: alarmRaised, subject: "alarm:1", created: t0, n: n}).store()
	if err != nil {
		t.Fatal(err)
	}
	old := snmp.RootOID()
	newRoot := snmp.MustParseOID("1.3.6.1.4.1.12345.7")
	if err := snmp.SetRoot(newRoot); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { snmp.SetRoot(old) })
	back, err := st.load()
	if err != nil {
		t.Fatal(err)
	}
	if back.n.Notification.Name != "svgAlarmRaised" || !back.n.Notification.OID.HasPrefix(newRoot) {
		t.Fatalf("loaded as %s %s", back.n.Notification.Name, back.n.Notification.OID)
	}
	for i, vb := range back.n.Varbinds {
		if !vb.OID.HasPrefix(newRoot) || !vb.OID[len(newRoot):].Equal(n.Varbinds[i].OID[len(old):]) {
			t.Errorf("varbind %d: %s (was %s)", i, vb.OID, n.Varbinds[i].OID)
		}
		if s, ok := vb.Value.(string); ok && vb.Type == gosnmp.ObjectIdentifier && strings.HasPrefix(s, old.String()+".") {
			t.Errorf("varbind %d: value %s still under the old root", i, s)
		}
	}
}

// gateMaster is an AgentX master whose Notify waits for proceed, then
// fails with the caller's context error if it was cancelled meanwhile (as
// an AgentX request does), else accepts.
type gateMaster struct {
	called  chan struct{}
	proceed chan struct{}
	got     atomic.Int32
}

func (m *gateMaster) Notify(ctx context.Context, _ snmp.NotificationVarbinds) error {
	select {
	case m.called <- struct{}{}:
	default: // the test waits for the first call only: never block on more
	}
	<-m.proceed
	if err := ctx.Err(); err != nil {
		return err
	}
	m.got.Add(1)
	return nil
}

// TestShutdownFinishesMasterNotify: a Notify in flight when the sender
// stops completes and is recorded as delivered, so it is neither saved as
// queued nor sent again after the restart.
func TestShutdownFinishesMasterNotify(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	mib, _ := snmp.OpenMIB("", nil)
	engine, _ := snmp.OpenEngine("", "")
	cfg := snmp.Config{Listen: "off"}
	m := &gateMaster{called: make(chan struct{}, 1), proceed: make(chan struct{})}
	s, err := New(cfg, ts.store, Deps{StateDir: state, MIB: mib, Engine: engine, Master: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(cancel)
	waitReady(t, s)
	ts.observe(alarmObs(1, true, false))
	select {
	case <-m.called:
	case <-time.After(20 * time.Second):
		t.Fatal("no Notify after 20s")
	}
	cancel() // the shutdown begins while the Notify is in flight
	close(m.proceed)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of the cancel")
	}
	if m.got.Load() != 1 || testutil.ToFloat64(s.targets[0].counts[alarmRaised][outcomeAcked]) != 1 {
		t.Fatalf("Notify accepted %d, counted %v acked", m.got.Load(), testutil.ToFloat64(s.targets[0].counts[alarmRaised][outcomeAcked]))
	}

	m2 := &gateMaster{called: make(chan struct{}, 10), proceed: make(chan struct{})}
	close(m2.proceed)
	s2, err := New(cfg, ts.store, Deps{StateDir: state, MIB: mib, Engine: engine, Master: m2})
	if err != nil {
		t.Fatal(err)
	}
	stop := svctest.Start(t, s2.Run)
	waitReady(t, s2) // restored and reconciled
	if n := s2.targets[0].q.len(); n != 0 {
		t.Errorf("after the restart %d queued for the master, want none", n)
	}
	stop()
	if n := m2.got.Load(); n != 0 {
		t.Errorf("after the restart the master got %d notifications", n)
	}
}

// TestSaveOnlyWhenChanged: a delta that queues nothing and changes nothing
// the outbox holds (values, health without an upstream notification, a
// transition queued before) asks for no save; one that queues does. The
// saved outbox restores what was queued.
func TestSaveOnlyWhenChanged(t *testing.T) {
	ts := openTestStore(t, t.TempDir())
	state := t.TempDir()
	mib, _ := snmp.OpenMIB("", nil)
	engine, _ := snmp.OpenEngine("", "")
	cfg := snmp.Config{Listen: "off", Targets: []snmp.Target{{Address: "127.0.0.1:9", Community: "public"}}}
	s, err := New(cfg, ts.store, Deps{StateDir: state, MIB: mib, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	kicked := func() bool {
		select {
		case <-s.outbox.kickc:
			return true
		default:
			return false
		}
	}
	update := func(fn func(tx *model.Tx)) *model.Delta {
		t.Helper()
		d, err := ts.store.Update(func(tx *model.Tx) error { fn(tx); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	s.reconcile(ts.store.Snapshot())
	kicked()
	raised := update(func(tx *model.Tx) { tx.ObserveAlarm(alarmObs(1, true, false), "poll") })
	s.apply(raised)
	if !kicked() {
		t.Fatal("no save asked after a raise")
	}
	for i, d := range []*model.Delta{
		update(func(tx *model.Tx) { tx.ObserveAlarm(alarmObs(1, true, false), "feed") }),
		update(func(tx *model.Tx) { tx.SetUpstream(model.UpstreamOK, "test") }),
		update(func(tx *model.Tx) { tx.SetUpstream(model.UpstreamDegraded, "test") }),
		{Seq: raised.Seq + 100, Tags: []int32{0}},
		raised, // replayed: queued already
	} {
		if d == nil {
			continue
		}
		s.apply(d)
		if kicked() {
			t.Errorf("delta %d asked for a save", i)
		}
	}
	if n := s.targets[0].q.len(); n != 2 {
		t.Fatalf("%d queued, want the start notification and the raise", n)
	}
	if err := s.outbox.save(s.snapshot()); err != nil {
		t.Fatal(err)
	}
	s2, err := New(cfg, ts.store, Deps{StateDir: state, MIB: mib, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	_, evs := s2.targets[0].q.snapshot()
	// This start's own start notification first, then the raise restored
	// (the previous start's start notification is not).
	if len(evs) != 2 || evs[0].n.Notification != snmp.ColdStart || describe(evs[1].n) != fmt.Sprint("svgAlarmRaised:", ts.alarmID(1)) || s2.state.Cursor != s.state.Cursor ||
		!reflect.DeepEqual(s2.state.Open, s.state.Open) {
		t.Errorf("restored %d events, cursor %d (want %d), open %v (want %v)", len(evs), s2.state.Cursor, s.state.Cursor, s2.state.Open, s.state.Open)
	}
}

// TestOpenForgetsWhatTheModelForgot: an alert never acknowledged stays
// open until the model forgets it after the retention; then the next save
// drops it from what was notified as open.
func TestOpenForgetsWhatTheModelForgot(t *testing.T) {
	var now atomic.Int64
	now.Store(t0.UnixNano())
	store, err := model.NewStore(model.Options{AlarmRetention: time.Hour, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := startSender(t, store, t.TempDir(), nil)
	update := func(fn func(tx *model.Tx)) {
		if _, err := store.Update(func(tx *model.Tx) error { fn(tx); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *model.Tx) {
		tx.ObserveAlert(model.AlertObservation{ID: "alert-1", IBX: "CH1", Asset: "CH1.UPS-1", Name: "Overload", Triggered: t0}, "feed")
	})
	for i := 0; len(r.recs[0].delivered()) == 0; i++ {
		if i == 200 {
			t.Fatal("alert not delivered after 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	open := func() []string {
		r.s.mu.Lock()
		defer r.s.mu.Unlock()
		var out []string
		for subject := range r.s.state.Open {
			out = append(out, subject)
		}
		return out
	}
	if got := open(); len(got) != 1 || !strings.HasPrefix(got[0], "alert:") {
		t.Fatalf("open %q, want the alert", got)
	}
	now.Add(int64(2 * time.Hour))
	update(func(tx *model.Tx) { tx.Age() })
	if n := len(store.Snapshot().Alerts()); n != 0 {
		t.Fatalf("the model still has %d alerts", n)
	}
	if f := r.s.snapshot(); len(f.Open) != 0 {
		t.Errorf("saved open %v", f.Open)
	}
	if got := open(); len(got) != 0 {
		t.Errorf("open %q after the model forgot the alert", got)
	}
}

// TestStartNotifications: the first start of a state directory sends
// coldStart, every later start warmStart, to each direct target (not to
// the AgentX master, which sends its own), before anything else.
func TestStartNotifications(t *testing.T) {
	state := t.TempDir()
	ts := openTestStore(t, t.TempDir())
	for i, want := range []string{"coldStart", "warmStart", "warmStart"} {
		mib, err := snmp.OpenMIB("", nil)
		if err != nil {
			t.Fatal(err)
		}
		engine, err := snmp.OpenEngine(state, "")
		if err != nil {
			t.Fatal(err)
		}
		cfg := snmp.Config{Listen: "off", Targets: []snmp.Target{{Address: "127.0.0.1:9", Community: "public"}}}
		s, err := New(cfg, ts.store, Deps{StateDir: state, MIB: mib, Engine: engine, Master: &gateMaster{}})
		if err != nil {
			t.Fatal(err)
		}
		recs := []*recorder{{}, {}}
		for j, tg := range s.targets {
			tg.d = recs[j]
		}
		stop := svctest.Start(t, s.Run)
		waitStarted(t, recs[0])
		stop()
		if got := recs[0].starts; !slices.Equal(got, []string{want}) {
			t.Errorf("start %d: target got %q, want %s", i+1, got, want)
		}
		if s.targets[1].name != MasterTarget || len(recs[1].starts) != 0 {
			t.Errorf("start %d: the AgentX master got %q", i+1, recs[1].starts)
		}
	}
}

// waitStarted waits (bounded) until rec received the start notification.
func waitStarted(t *testing.T, rec *recorder) {
	t.Helper()
	for i := 0; ; i++ {
		rec.mu.Lock()
		n := len(rec.starts)
		rec.mu.Unlock()
		if n > 0 {
			return
		}
		if i == 100 {
			t.Fatal("no start notification within 5s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
