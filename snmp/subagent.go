package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp/agentx"
)

// Subagent serves SVGATEWAY-MIB to an AgentX master agent (snmpd): it
// connects to the master's socket, opens a session, registers the MIB's
// root subtree and answers the master's requests from model snapshots
// through the same View as the standalone agent. It also sends the
// notifications of the notification sender through the master (Notify),
// which forwards them to its own trap sinks.
//
// When the master goes away (snmpd restarted, socket gone, a Ping
// unanswered) the subagent reconnects and registers again, with a bounded
// exponential backoff (0.5 s doubling to 30 s), logging every failure.
// Requests being answered when the connection breaks are dropped (the
// master retries or fails them itself); a Notify in flight fails and the
// sender sends it again on the next session.
//
// When Run's context ends, the Notifies in flight get their answers
// before the session closes (bounded): one cut off might still be
// forwarded by the master and be sent again after restart, a duplicate.
// A master that does not take our writes for the timeout is dead to us:
// the session closes, so neither reconnects nor shutdown wait on it.
//
// Each master request (one PDU) is answered from one snapshot; consecutive
// PDUs reuse the same View while the snapshot is the same, so a GetNext
// costs the tree lookup and the encoding, no per-PDU setup.
type Subagent struct {
	cfg         AgentXConfig
	maxVarbinds int
	store       *model.Store
	mib         *MIB
	log         *slog.Logger

	counters   agentx.Counters
	reconnects atomic.Uint64
	notifies   [2]atomic.Uint64 // [ok, failed]

	mu      sync.Mutex
	session *agentx.Session // open and registered; nil while disconnected
	changed chan struct{}   // closed and replaced when session changes
}

// Reconnect backoff bounds.
const (
	minReconnectDelay = 500 * time.Millisecond
	maxReconnectDelay = 30 * time.Second
)

// maxShutdownWait bounds each step of a clean close (waiting for the
// Notifies in flight, then for the master's acknowledgement of Close):
// shutdown must not wait on a master that does not answer, whatever the
// configured timeout (up to 255 s).
const maxShutdownWait = 3 * time.Second

// NewSubagent returns the AgentX subagent of cfg.AgentX (validated here
// too) over store. deps.MIB is shared with the agent when set.
func NewSubagent(cfg Config, store *model.Store, deps Deps) (*Subagent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Subagent{cfg: cfg.AgentX, maxVarbinds: cfg.MaxVarbinds, store: store, mib: deps.MIB, log: deps.Logger, changed: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.mib == nil {
		var err error
		if s.mib, err = OpenMIB(deps.StateDir, s.log); err != nil {
			return nil, err
		}
	}
	if deps.Registerer != nil {
		if err := deps.Registerer.Register(subagentCollector{s}); err != nil {
			return nil, fmt.Errorf("snmp: registering AgentX metrics: %w", err)
		}
	}
	return s, nil
}

// Connected reports whether a session is open and registered.
func (s *Subagent) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session != nil
}

// current returns the open session (nil when disconnected) and a channel
// closed when that changes.
func (s *Subagent) current() (*agentx.Session, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session, s.changed
}

func (s *Subagent) setSession(sess *agentx.Session) {
	s.mu.Lock()
	s.session = sess
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Run keeps a registered session with the master until ctx is done, then
// closes it (reason shutdown) and returns nil.
func (s *Subagent) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { prepareTrees(ctx, s.store, s.mib) })
	delay := minReconnectDelay
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.reconnects.Add(1)
		}
		registered, err := s.serveSession(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if registered {
			delay = minReconnectDelay
		}
		s.log.Warn("snmp: AgentX master unavailable; reconnecting", "socket", s.cfg.Socket, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, maxReconnectDelay)
	}
}

// serveSession connects, opens, registers and serves one session until it
// breaks or ctx is done. registered tells whether it got that far.
func (s *Subagent) serveSession(ctx context.Context) (registered bool, err error) {
	dialCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	conn, err := agentx.Dial(dialCtx, s.cfg.Socket)
	cancel()
	if err != nil {
		return false, err
	}
	sess := agentx.NewSession(conn, &subagentHandler{s: s},
		agentx.Options{Timeout: s.cfg.Timeout, MaxVarBinds: s.maxVarbinds, Counters: &s.counters})
	served := make(chan error, 1)
	go func() { served <- sess.Serve() }()
	defer func() {
		// A no-op when already closed; bounded like the shutdown close.
		closeCtx, cancel := context.WithTimeout(context.Background(), min(s.cfg.Timeout, maxShutdownWait))
		sess.Close(closeCtx, agentx.ReasonOther)
		cancel()
		<-served
	}()

	root := agentx.OID(RootOID())
	if err := sess.Open(ctx, s.cfg.Timeout, root, "svgateway: SVGATEWAY-MIB (Equinix IBX SmartView)"); err != nil {
		return false, fmt.Errorf("open: %w", err)
	}
	if err := sess.Register(ctx, s.cfg.Context, root, uint8(s.cfg.Priority), 0); err != nil {
		var re *agentx.ResponseError
		if errors.As(err, &re) && re.Code == agentx.DuplicateRegistration {
			return false, fmt.Errorf("register %s: another session holds it at priority %d (another svgateway, or our previous session the master has not dropped yet): %w", RootOID(), s.cfg.Priority, err)
		}
		return false, fmt.Errorf("register %s: %w", RootOID(), err)
	}
	// snmpd's sysORTable lists SVGATEWAY-MIB, as the standalone agent's does.
	// Not fatal: the MIB is served either way.
	if err := sess.AddAgentCaps(ctx, s.cfg.Context, root, sysORs[0].descr); err != nil {
		s.log.Warn("snmp: AgentX master did not take our sysORTable entry", "err", err)
	}
	s.log.Info("snmp: AgentX subagent registered", "socket", s.cfg.Socket, "session", sess.ID(), "subtree", RootOID().String(),
		"context", s.cfg.Context, "priority", s.cfg.Priority)
	s.setSession(sess)
	defer s.setSession(nil)

	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			s.closeSession(sess)
			return true, nil
		case err := <-served:
			served <- err // for the deferred wait
			return true, err
		case <-ping.C:
			if err := sess.Ping(ctx, s.cfg.Context); err != nil && ctx.Err() == nil {
				return true, fmt.Errorf("ping: %w", err)
			}
		}
	}
}

// closeSession closes sess at shutdown: Notifies in flight first (new ones
// are refused and stay with the sender), then the Close PDU, each step
// bounded.
func (s *Subagent) closeSession(sess *agentx.Session) {
	wait := min(s.cfg.Timeout, maxShutdownWait)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	if err := sess.Drain(ctx); err != nil {
		s.log.Warn("snmp: AgentX Notify unanswered at shutdown; closing anyway", "err", err)
	}
	cancel()
	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := sess.Close(ctx, agentx.ReasonShutdown); err != nil {
		s.log.Debug("snmp: AgentX close not acknowledged", "err", err)
	}
}

// Notify sends a notification through the master, waiting (bounded by
// ctx) for a session when there is none. It returns once the master
// accepted it.
func (s *Subagent) Notify(ctx context.Context, n NotificationVarbinds) error {
	vbs := make([]agentx.VarBind, 0, len(n.Varbinds)+1)
	vbs = append(vbs, agentx.VarBind{Name: agentx.OID(snmpTrapOID.OID.Append(0)), Type: agentx.ObjectIdentifier, Value: agentx.OID(n.Notification.OID)})
	for _, vb := range n.Varbinds {
		vbs = append(vbs, toAgentX(vb))
	}
	for {
		sess, changed := s.current()
		if sess != nil {
			err := sess.Notify(ctx, s.cfg.Context, vbs)
			if err == nil {
				s.notifies[0].Add(1)
			} else {
				s.notifies[1].Add(1)
			}
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// subagentHandler answers the master's reads of one session (used by its
// Serve goroutine only).
type subagentHandler struct {
	s    *Subagent
	snap *model.Snapshot
	view viewAdapter
}

func (h *subagentHandler) View(context string) (agentx.View, bool) {
	if context != h.s.cfg.Context {
		return nil, false
	}
	if snap := h.s.store.Snapshot(); snap != h.snap {
		h.snap, h.view = snap, viewAdapter{h.s.mib.View(snap)}
	}
	return h.view, true
}

// viewAdapter serves a View to agentx: the types and values are the same,
// only the Go types differ.
type viewAdapter struct{ v *View }

func (a viewAdapter) Get(oid agentx.OID) agentx.VarBind { return toAgentX(a.v.Get(OID(oid))) }

func (a viewAdapter) Next(start agentx.OID, include bool, end agentx.OID) (agentx.VarBind, bool) {
	vb, ok := a.v.Next(OID(start), include, OID(end))
	return toAgentX(vb), ok
}

// toAgentX converts a varbind: the same type and value, but for an OID
// value, which gosnmp's form holds dotted.
func toAgentX(vb Varbind) agentx.VarBind {
	out := agentx.VarBind{Name: agentx.OID(vb.OID), Type: agentx.Type(vb.Type), Value: vb.Value}
	if s, ok := vb.Value.(string); ok && vb.Type == gosnmp.ObjectIdentifier {
		if o, err := ParseOID(s); err == nil {
			out.Value = agentx.OID(o)
		}
	}
	return out
}

var (
	descAXConnected  = prometheus.NewDesc("svgateway_snmp_agentx_connected", "1 while the AgentX subagent has a registered session with the master.", nil, nil)
	descAXReconnects = prometheus.NewDesc("svgateway_snmp_agentx_reconnects_total", "AgentX connection attempts after the first.", nil, nil)
	descAXPDUs       = prometheus.NewDesc("svgateway_snmp_agentx_pdus_total", "AgentX PDUs by direction and type.", []string{"direction", "type"}, nil)
	descAXMalformed  = prometheus.NewDesc("svgateway_snmp_agentx_malformed_total", "AgentX PDUs from the master that could not be decoded.", nil, nil)
	descAXNotifies   = prometheus.NewDesc("svgateway_snmp_agentx_notifies_total", "Notify PDUs sent to the master, by outcome.", []string{"outcome"}, nil)
)

type subagentCollector struct{ s *Subagent }

func (c subagentCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAXConnected, descAXReconnects, descAXPDUs, descAXMalformed, descAXNotifies} {
		ch <- d
	}
}

func (c subagentCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	up := 0.0
	if s.Connected() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descAXConnected, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descAXReconnects, prometheus.CounterValue, float64(s.reconnects.Load()))
	for _, t := range agentx.Types() {
		if n := s.counters.Received(t); n > 0 || t == agentx.TypeGetNext {
			ch <- prometheus.MustNewConstMetric(descAXPDUs, prometheus.CounterValue, float64(n), "received", t.String())
		}
		if n := s.counters.Sent(t); n > 0 || t == agentx.TypeResponse {
			ch <- prometheus.MustNewConstMetric(descAXPDUs, prometheus.CounterValue, float64(n), "sent", t.String())
		}
	}
	ch <- prometheus.MustNewConstMetric(descAXMalformed, prometheus.CounterValue, float64(s.counters.Malformed()))
	ch <- prometheus.MustNewConstMetric(descAXNotifies, prometheus.CounterValue, float64(s.notifies[0].Load()), "accepted")
	ch <- prometheus.MustNewConstMetric(descAXNotifies, prometheus.CounterValue, float64(s.notifies[1].Load()), "failed")
}
