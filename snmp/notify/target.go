package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/svgateway/svgateway/snmp"
)

// deliverer makes one delivery attempt of a notification.
type deliverer interface {
	// deliver returns nil once the notification is sent (trap), acknowledged
	// (inform) or accepted (AgentX master). ctx is not cancelled at shutdown
	// (the attempt in flight completes): the deliverer bounds the attempt by
	// its timeout.
	deliver(ctx context.Context, n snmp.NotificationVarbinds) error
	close()
}

// Master is what sends notifications through an AgentX master: the
// snmp.Subagent.
type Master interface {
	Notify(ctx context.Context, n snmp.NotificationVarbinds) error
}

// MasterTarget is the target name of notifications through the AgentX
// master, in metrics, logs and the outbox.
const MasterTarget = "agentx-master"

// outcomes of a delivery attempt, as counted.
type outcome uint8

const (
	outcomeSent outcome = iota
	outcomeAcked
	outcomeRetried
	outcomeExpired
	outcomeDropped
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"sent", "acked", "retried", "expired", "dropped_overflow"}

// Backoff between failed attempts: 1 s doubling to 1 min.
const (
	minRetryDelay = time.Second
	maxRetryDelay = time.Minute
)

// target is one destination: its queue, its deliverer and its limits.
type target struct {
	name    string
	inform  bool // deliveries are acknowledged (inform, AgentX Notify)
	retries int  // 0: until expire
	expire  time.Duration
	q       *queue
	d       deliverer
	limit   *rate.Limiter
	log     *slog.Logger
	counts  [numKinds][numOutcomes]prometheus.Counter
	onDone  func() // a delivery changed what the outbox must hold
	cancel  context.CancelFunc
	done    chan struct{} // closed when run, started by start, returned

	statMu    sync.Mutex // the delivery state below, for Targets
	lastOK    time.Time
	lastErr   string
	lastErrAt time.Time

	lastDropLog time.Time // of the overflow log line (guarded by q.mu via push's caller)
	dropsSince  int
}

func newTarget(name string, inform bool, retries int, expire time.Duration, queueSize int, perSecond float64, d deliverer,
	log *slog.Logger, vec *prometheus.CounterVec) *target {
	// The burst is a tenth of a second's worth: a storm reaches the manager
	// evenly paced, not as a second's worth of datagrams at once that its
	// socket buffer would drop (traps are not acknowledged).
	t := &target{name: name, inform: inform, retries: retries, expire: expire, q: newQueue(queueSize), d: d,
		limit: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10))), log: log.With("target", name)}
	for k := range numKinds {
		for o := range numOutcomes {
			t.counts[k][o] = vec.WithLabelValues(name, kind(k).String(), outcomeNames[o])
		}
	}
	return t
}

func (t *target) count(k kind, o outcome) { t.counts[k][o].Inc() }

// record notes the outcome of a delivery attempt for Targets.
func (t *target) record(err error) {
	t.statMu.Lock()
	defer t.statMu.Unlock()
	if err == nil {
		t.lastOK = time.Now()
		return
	}
	t.lastErr, t.lastErrAt = err.Error(), time.Now()
}

// start runs the target's delivery in a goroutine of its own, stopped by
// stop (or by ctx).
func (t *target) start(ctx context.Context) {
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go func() {
		defer close(t.done)
		t.run(ctx)
	}()
}

// stop ends the delivery (the attempt in flight completes, bounded by the
// deliverer's timeout), waits for it and closes the deliverer.
func (t *target) stop() {
	if t.cancel != nil {
		t.cancel()
		<-t.done
	}
	t.d.close()
}

// push queues ev, counting and logging (at most every 10 s) what the storm
// policy dropped.
func (t *target) push(ev *event, attempts int) {
	dropped := t.q.push(ev, attempts)
	if len(dropped) == 0 {
		return
	}
	for _, d := range dropped {
		t.count(d.kind, outcomeDropped)
	}
	t.dropsSince += len(dropped)
	if time.Since(t.lastDropLog) >= 10*time.Second {
		t.log.Warn("snmp: notification queue full; dropped notifications (those superseded by a newer one of their alarm first; the newest of each alarm and clears are kept while possible)", "dropped", t.dropsSince,
			"queue", t.q.len(), "latest_dropped", dropped[len(dropped)-1].kind.String())
		t.lastDropLog, t.dropsSince = time.Now(), 0
	}
}

// run delivers the queue in order until ctx is done. An attempt in flight
// when ctx is done completes (an inform waits for its acknowledgement, at
// most its timeout), so nothing is both delivered and kept.
func (t *target) run(ctx context.Context) {
	for {
		e := t.q.next(ctx)
		if e == nil {
			return
		}
		ev := e.ev
		if t.expire > 0 && time.Since(ev.created) > t.expire {
			t.q.done(e)
			t.count(ev.kind, outcomeExpired)
			t.log.Error("snmp: notification expired undelivered", "type", ev.kind.String(), "subject", ev.subject,
				"queued", ev.created, "attempts", e.attempts)
			t.onDone()
			continue
		}
		if err := t.limit.Wait(ctx); err != nil {
			t.q.release(e, false)
			return
		}
		// The attempt is not cut short by a shutdown: it completes, bounded
		// by the deliverer's timeout, and its outcome is recorded. Cancelled,
		// a notification the manager or the master may already have taken
		// would stay queued and be sent again after the restart.
		err := t.d.deliver(context.WithoutCancel(ctx), ev.n)
		t.record(err)
		if err == nil {
			t.q.done(e)
			if t.inform {
				t.count(ev.kind, outcomeAcked)
			} else {
				t.count(ev.kind, outcomeSent)
			}
			t.onDone()
			continue
		}
		if t.retries > 0 && e.attempts >= t.retries {
			t.q.done(e)
			t.count(ev.kind, outcomeExpired)
			t.log.Error("snmp: notification given up after its retries", "type", ev.kind.String(), "subject", ev.subject,
				"attempts", e.attempts+1, "err", err)
			t.onDone()
			continue
		}
		t.q.release(e, true)
		t.count(ev.kind, outcomeRetried)
		if ctx.Err() != nil {
			return // kept with its failed attempt for the next start
		}
		delay := min(minRetryDelay<<min(e.attempts-1, 10), maxRetryDelay)
		t.log.Warn("snmp: notification not delivered; will retry", "type", ev.kind.String(), "subject", ev.subject,
			"attempt", e.attempts, "retry_in", delay, "err", err)
		if !sleep(ctx, delay) {
			return
		}
	}
}

// snmpDeliverer sends to a manager with gosnmp.
type snmpDeliverer struct {
	cfg    snmp.Target
	engine *snmp.Engine
	host   string
	port   uint16
	g      *gosnmp.GoSNMP // connected; nil after an error (reconnect, rediscover)
}

func newSNMPDeliverer(cfg snmp.Target, engine *snmp.Engine) (*snmpDeliverer, error) {
	host, p, err := net.SplitHostPort(cfg.Address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", p, err)
	}
	return &snmpDeliverer{cfg: cfg, engine: engine, host: host, port: uint16(port)}, nil
}

// usm returns the target's USM parameters; with ours set, for our engine
// (v3 traps: we are authoritative), else for discovery of the manager's
// (informs).
func (d *snmpDeliverer) usm(ours bool) *gosnmp.UsmSecurityParameters {
	_, auth, priv := d.cfg.USM()
	sp := &gosnmp.UsmSecurityParameters{UserName: d.cfg.User, AuthenticationProtocol: auth, AuthenticationPassphrase: d.cfg.AuthPassphrase,
		PrivacyProtocol: priv, PrivacyPassphrase: d.cfg.PrivPassphrase}
	if ours {
		sp.AuthoritativeEngineID = string(d.engine.ID())
		sp.AuthoritativeEngineBoots = d.engine.Boots()
		sp.AuthoritativeEngineTime = d.engine.Time()
	}
	return sp
}

func (d *snmpDeliverer) client() (*gosnmp.GoSNMP, error) {
	if d.g != nil {
		return d.g, nil
	}
	g := &gosnmp.GoSNMP{Target: d.host, Port: d.port, Transport: "udp", Timeout: d.cfg.Timeout, Retries: 0,
		MaxOids: gosnmp.MaxOids, Context: context.Background()}
	if d.cfg.Version == snmp.VersionV3 {
		level, _, _ := d.cfg.USM()
		g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, level
		g.SecurityParameters = d.usm(d.cfg.Kind == snmp.KindTrap)
	} else if d.cfg.Version == snmp.VersionV1 {
		g.Version, g.Community = gosnmp.Version1, d.cfg.Community
	} else {
		g.Version, g.Community = gosnmp.Version2c, d.cfg.Community
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	d.g = g
	return g, nil
}

func (d *snmpDeliverer) deliver(_ context.Context, n snmp.NotificationVarbinds) error {
	g, err := d.client()
	if err != nil {
		return err
	}
	inform := d.cfg.Kind == snmp.KindInform
	if d.cfg.Version == snmp.VersionV3 && !inform {
		// A v3 trap carries our engine's ID, boots and time: a manager
		// configured with our engine ID accepts it, after restarts too.
		g.SecurityParameters = d.usm(true)
		g.ContextEngineID = string(d.engine.ID())
	}
	trap := gosnmp.SnmpTrap{Variables: n.PDUs(d.engine.Uptime()), IsInform: inform}
	if d.cfg.Version == snmp.VersionV1 {
		trap = n.V1Trap(d.engine.Uptime(), d.agentAddress(g))
	}
	// The attempt is bounded by the timeout, not by the caller's context:
	// an inform in flight at shutdown waits for its acknowledgement.
	if _, err := g.SendTrap(trap); err != nil {
		d.close() // start afresh: a new socket, and a new engine discovery for v3 informs
		if errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || isTimeout(err) {
			return fmt.Errorf("no acknowledgement within %v", d.cfg.Timeout)
		}
		return err
	}
	return nil
}

// agentAddress is the agent-addr of a v1 trap: the configured one, else
// the IPv4 source address of the socket (0.0.0.0 when it has none).
func (d *snmpDeliverer) agentAddress(g *gosnmp.GoSNMP) string {
	if d.cfg.AgentAddress != "" {
		return d.cfg.AgentAddress
	}
	if u, ok := g.Conn.LocalAddr().(*net.UDPAddr); ok {
		if ip4 := u.IP.To4(); ip4 != nil {
			return ip4.String()
		}
	}
	return "0.0.0.0"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (d *snmpDeliverer) close() {
	if d.g != nil {
		d.g.Conn.Close()
		d.g = nil
	}
}

// masterDeliverer sends through the AgentX master: Notify, which the
// master acknowledges once it has taken the notification for its sinks.
type masterDeliverer struct {
	m       Master
	timeout time.Duration
}

func (d masterDeliverer) deliver(ctx context.Context, n snmp.NotificationVarbinds) error {
	// Bounded by the timeout, not by the shutdown (run passes a context
	// without cancellation): a Notify in flight at shutdown completes, so
	// one the master took is recorded as delivered and not sent again after
	// the restart. While the master is away this fails and is retried with
	// backoff (and may expire) like an unacknowledged inform.
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return d.m.Notify(ctx, n)
}

func (masterDeliverer) close() {}
