package opcua

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// services implements Services over a model.Store.
type services struct {
	store  *model.Store
	hist   *history.Store // nil: no history
	as     *addressSpace
	limits Limits
	log    *slog.Logger
	now    func() time.Time
	info   atomic.Pointer[func() uaserver.ServerInfo]
	// sessionDiag and subsCreated feed ServerDiagnostics (nodes_diagnostics.go)
	sessionDiag atomic.Pointer[func() uaserver.Diagnostics]
	subsCreated atomic.Uint32
	// redundancy is the redundant set the server is in; nil alone.
	redundancy Redundancy

	viewMu sync.Mutex
	view   atomic.Pointer[view]

	mu       sync.Mutex
	sessions map[*uaserver.Session]*sessionState
	// detached are closed sessions whose subscriptions were kept for
	// TransferSubscriptions (transfer.go).
	detached map[*sessionState]struct{}

	// conditions caches the asset → alarm index of the newest snapshot
	// browsed (events.go).
	conditions atomic.Pointer[conditionIndex]

	// roleOf returns a configured user's role ("" for none); see role.
	roleOf func(user string) string

	subIDs, itemIDs atomic.Uint32
	monitor         *monitor
	wg              sync.WaitGroup // subscription goroutines and the change-stream reader
}

// sessionState is what the services keep per session.
type sessionState struct {
	sess *uaserver.Session
	mu   sync.Mutex
	cps  map[string]*browser
	hcps map[string]*historyCursor // HistoryRead continuation points
	subs map[uint32]*subscription
	// publishQ holds parked Publish requests, oldest first.
	publishQ    []*parkedPublish
	lastPublish time.Time
	// notices wait for the next Publish request (a subscription
	// transferred away).
	notices []notice
	closed  bool
}

// New builds the OPC UA server of the gateway: the services over store,
// served by the channel and session layer configured by cfg. Run the
// returned Server; the services need nothing else (their goroutines live
// while subscriptions and monitored items do, and end with the sessions).
func New(cfg Config, store *model.Store, opts uaserver.Options, options ...Option) (*uaserver.Server, error) {
	if store == nil {
		return nil, errors.New("opcua: no model store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	svc, err := newServices(store, cfg.Limits, opts.Logger)
	if err != nil {
		return nil, err
	}
	for _, o := range options {
		o(svc)
	}
	srv, err := uaserver.NewServer(cfg.Config, svc, opts)
	if err != nil {
		return nil, err
	}
	svc.roleOf = srv.UserRole
	info := srv.Info() // what the Server object shows does not change while it runs
	info.Endpoints = nil
	svc.setInfo(func() uaserver.ServerInfo { return info })
	svc.setSessionDiagnostics(srv.Diagnostics)
	return srv, nil
}

func newServices(store *model.Store, limits Limits, log *slog.Logger) (*services, error) {
	bindings := serverBindings()
	for _, more := range []map[uint32]binding{diagnosticsBindings(), namespaceBindings(), redundancyBindings()} {
		maps.Copy(bindings, more)
	}
	as, err := newAddressSpace(bindings)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &services{store: store, as: as, limits: limits, log: log, now: time.Now, sessions: map[*uaserver.Session]*sessionState{},
		detached: map[*sessionState]struct{}{}}
	s.monitor = newMonitor(s)
	started := s.now()
	s.setInfo(func() uaserver.ServerInfo { return uaserver.ServerInfo{StartTime: started} })
	s.setSessionDiagnostics(func() uaserver.Diagnostics { return uaserver.Diagnostics{} })
	return s, nil
}

// setInfo sets where the Server object's identity and status come from.
func (s *services) setInfo(f func() uaserver.ServerInfo) { s.info.Store(&f) }

func (s *services) serverInfo() uaserver.ServerInfo { return (*s.info.Load())() }

// Offers implements Services: the services of the table in services.go.
func (s *services) Offers(req ua.Request) bool {
	_, ok := offered[reflect.TypeOf(req)]
	return ok
}

// Serve implements Services.
func (s *services) Serve(r *uaserver.Request) {
	responded := false
	respond := func(resp ua.Response) bool {
		responded = true
		if err := r.Respond(resp); err != nil {
			s.log.Debug("opcua: response not sent", "session", r.Session.Name, "err", err)
			return false
		}
		return true
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("opcua: service panicked", "request", fmt.Sprintf("%T", r.Body), "panic", p)
			if !responded {
				respond(uaserver.Fault(ua.StatusBadInternalError))
			}
		}
	}()
	h, ok := offered[reflect.TypeOf(r.Body)]
	switch {
	case !ok:
		respond(uaserver.Fault(ua.StatusBadServiceUnsupported))
	case h.parks:
		responded = true // from here on, the request is answered by the subscriptions
		h.serve(s, r)
	case h.undo != nil:
		resp, undo := h.undo(s, r)
		if !respond(resp) && undo != nil {
			undo()
		}
	default:
		respond(h.serve(s, r))
	}
}

// SessionClosed implements Services: the session's continuation points and
// parked Publish requests go with it, and its subscriptions unless the
// client asked to keep them for TransferSubscriptions (transfer.go).
func (s *services) SessionClosed(sess *uaserver.Session, deleteSubscriptions bool) {
	s.mu.Lock()
	st := s.sessions[sess]
	delete(s.sessions, sess)
	s.mu.Unlock()
	if st == nil {
		return
	}
	st.mu.Lock()
	st.closed = true
	n := len(st.subs)
	parked := st.publishQ
	st.publishQ, st.notices = nil, nil
	st.cps = map[string]*browser{}
	st.hcps = nil
	st.mu.Unlock()
	if deleteSubscriptions || n == 0 || !s.detach(st, n) {
		st.mu.Lock()
		subs := st.subs
		st.subs = map[uint32]*subscription{}
		st.mu.Unlock()
		for _, sub := range subs {
			sub.stopAndForget()
		}
	} else {
		s.log.Info("opcua: session closed; its subscriptions are kept for TransferSubscriptions",
			"session", sess.Name, "subscriptions", n)
	}
	for _, p := range parked {
		p.answer(uaserver.Fault(ua.StatusBadSessionClosed))
	}
}

// state returns the services' state of a session, creating it.
func (s *services) state(sess *uaserver.Session) *sessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sessions[sess]
	if !ok {
		st = &sessionState{sess: sess, cps: map[string]*browser{}, subs: map[uint32]*subscription{}}
		s.sessions[sess] = st
	}
	return st
}

// ctx returns an evalCtx on the current snapshot.
func (s *services) ctx() *evalCtx { return s.ctxAt(s.store.Snapshot()) }

func (s *services) ctxAt(snap *model.Snapshot) *evalCtx {
	return &evalCtx{as: s.as, srv: s, view: s.viewOf(snap.Structure()), snap: snap, now: s.now()}
}

// viewOf returns the view of a structure, building it once per structure
// generation.
func (s *services) viewOf(st *model.Structure) *view {
	if v := s.view.Load(); v != nil && v.st == st {
		return v
	}
	s.viewMu.Lock()
	defer s.viewMu.Unlock()
	cur := s.view.Load()
	if cur != nil && cur.st == st {
		return cur
	}
	v := newView(st)
	if cur == nil || st.Gen() > cur.st.Gen() {
		s.view.Store(v)
	}
	return v
}

// checkCount applies an operation limit to the number of operations of a
// request.
func (s *services) checkCount(n, limit int) ua.StatusCode {
	switch {
	case n == 0:
		return ua.StatusBadNothingToDo
	case limit > 0 && n > limit:
		return ua.StatusBadTooManyOperations
	}
	return ua.StatusGood
}
