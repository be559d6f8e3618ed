package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/svgateway/svgateway/internal/httpshutdown"
)

// Server is the simulated SmartView API: a footprint, its simulation, tokens, faults, counters
// and feed subscribers behind one http.Handler.
type Server struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	prof profile

	// mu guards the footprint, the alarms, the simulation state and the REST subscriptions.
	// Handlers encode under the read lock into their own buffer and write after releasing it,
	// so a slow client never holds up the simulation.
	mu     sync.RWMutex
	fp     *footprint
	alarms alarmBook
	sim    simulation
	subs   subscriptionStore

	auth   tokenStore
	faults faultInjector
	stats  counters
	hub    eventHub
	stream streamStore // the v2 streaming API (streaming.go)
	routes map[string][]route
}

// New builds a sandbox from cfg (validated and defaulted here) and generates its footprint.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	return newServer(cfg, log, time.Now)
}

// newServer is New with a clock, so tests can pin time.
func newServer(cfg Config, log *slog.Logger, now func() time.Time) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log.With("component", "sandbox"), now: now, prof: profiles[cfg.Profile]}
	start := now()
	s.fp = generate(s.prof, cfg.Seed, start)
	s.alarms.limit = s.prof.alarmHistory
	s.sim = newSimulation(s.fp, cfg.Seed)
	s.auth = newTokenStore(cfg)
	s.faults = newFaultInjector(cfg.Faults, cfg.Seed)
	s.stats.init()
	s.subs = newSubscriptionStore(cfg.AccountNo)
	s.stream.init()
	s.seedAlarms()
	s.routes = s.routeTable()
	return s, nil
}

// Handler serves the API and the admin endpoints under /_sandbox/.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve serves HTTP on ln and runs the simulation every Config.Tick until ctx is done, then
// shuts down gracefully (in-flight requests get a few seconds to finish).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	// A stop does not wait for connections that sent no request.
	httpshutdown.CloseUnused(srv)
	fp := s.fp
	s.log.Info("sandbox serving", "addr", ln.Addr().String(), "profile", s.cfg.Profile, "seed", s.cfg.Seed,
		"tick", s.cfg.Tick, "ibxs", len(fp.ibxs), "cages", len(fp.cages), "cabinets", len(fp.cabinets),
		"circuits", len(fp.circuits), "assets", len(fp.assets), "tags", len(fp.tags))

	tickCtx, stopTicks := context.WithCancel(ctx)
	ticksDone := make(chan struct{})
	go func() {
		defer close(ticksDone)
		t := time.NewTicker(s.cfg.Tick)
		defer t.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case <-t.C:
				s.Step()
			}
		}
	}()
	defer func() { stopTicks(); <-ticksDone }()
	pushDone := make(chan struct{})
	go func() { defer close(pushDone); s.RunPush(tickCtx) }()
	defer func() { stopTicks(); <-pushDone }()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("sandbox: serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		s.log.Warn("sandbox shutdown cut short", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: serve %s: %w", ln.Addr(), err)
	}
	s.log.Info("sandbox stopped")
	return nil
}

// IBXs lists the footprint's IBX codes in order.
func (s *Server) IBXs() []string {
	out := make([]string, len(s.fp.ibxs))
	for i := range s.fp.ibxs {
		out[i] = s.fp.ibxs[i].code
	}
	return out
}

// AccountNo is the account that owns the footprint.
func (s *Server) AccountNo() string { return s.cfg.AccountNo }

// Credentials are the configured credentials the sandbox accepts.
func (s *Server) Credentials() (clientID, clientSecret, user, password string) {
	return s.cfg.ClientID, s.cfg.ClientSecret, s.cfg.UserName, s.cfg.UserPassword
}

// route is one endpoint. Paths ending in "/{id}" match one more path segment.
type route struct {
	method, path string
	public       bool // no bearer token needed (the token endpoints)
	handle       func(s *Server, r *http.Request, w *jsonWriter) int
}

func (rt *route) name() string { return rt.method + " " + rt.path }

// Path variants the reference uses for the same endpoints.
var (
	alarmPaths        = []string{"/alarm/v1/smartview/alarms", "/alarms/v1/smartview/alarms"}
	subscriptionPaths = []string{"/feedsubscription/v1/subscribe", "/feedsubscriptions/v1/subscribe", "/registration/v1/subscribe"}
)

func (s *Server) routeTable() map[string][]route {
	table := []route{
		{method: http.MethodPost, path: "/oauth2/v1/token", public: true, handle: (*Server).handleToken},
		{method: http.MethodPost, path: "/oauth2/v1/refreshaccesstoken", public: true, handle: (*Server).handleRefresh},
		{method: http.MethodGet, path: "/asset/v1/list", handle: (*Server).handleAssetList},
		{method: http.MethodGet, path: "/asset/v1/details", handle: (*Server).handleAssetDetails},
		{method: http.MethodPost, path: "/asset/v1/details", handle: (*Server).handleAssetDetailsPost},
		{method: http.MethodGet, path: "/asset/v1/tagpoint/affected-assets", handle: (*Server).handleAffectedAssets},
		{method: http.MethodGet, path: "/asset/v1/tagpoint/current", handle: (*Server).handleTagCurrent},
		{method: http.MethodPost, path: "/asset/v1/tagpoint/current", handle: (*Server).handleTagCurrentPost},
		{method: http.MethodGet, path: "/environment/v1/current", handle: (*Server).handleEnvironmentCurrent},
		{method: http.MethodGet, path: "/environment/v1/listCurrent", handle: (*Server).handleEnvironmentList},
		{method: http.MethodGet, path: "/power/v1/current", handle: (*Server).handlePowerCurrent},
		{method: http.MethodPost, path: "/power/v1/current", handle: (*Server).handlePowerPost},
		{method: http.MethodGet, path: "/hierarchy/v1/location", handle: (*Server).handleLocationHierarchy},
		{method: http.MethodGet, path: "/hierarchy/v1/power", handle: (*Server).handlePowerHierarchy},
	}
	table = append(table, streamRoutes()...)
	for _, p := range alarmPaths {
		table = append(table, route{method: http.MethodGet, path: p, handle: (*Server).handleAlarms})
	}
	for _, p := range subscriptionPaths {
		for _, suffix := range []string{"", "/{id}"} {
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
				table = append(table, route{method: m, path: p + suffix, handle: (*Server).handleSubscription})
			}
		}
	}
	table = append(table, routes2024...)
	out := make(map[string][]route)
	for _, rt := range table {
		if s.serves(rt.path) {
			out[rt.path] = append(out[rt.path], rt)
		}
	}
	return out
}

// lookup finds the routes of a path (trailing slash ignored, as the reference's own error
// examples call "/environment/v1/current/"); id is the "{id}" segment if one matched.
func (s *Server) lookup(path string) (routes []route, id string) {
	if rs, ok := s.routes[path]; ok {
		return rs, ""
	}
	if i := strings.LastIndexByte(path, '/'); i > 0 && i < len(path)-1 {
		if rs, ok := s.routes[path[:i]+"/{id}"]; ok {
			return rs, path[i+1:]
		}
	}
	return nil, ""
}

const (
	maxRequestBody  = 8 << 20
	adminPathPrefix = "/_sandbox"
)

func (s *Server) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	if path == adminPathPrefix || strings.HasPrefix(path, adminPathPrefix+"/") {
		s.serveAdmin(rw, r, path)
		return
	}
	w := getWriter()
	defer putWriter(w)
	name, status := s.serveAPI(rw, r, path, w)
	s.stats.request(name, status)
}

// serveAPI answers one API request into w and writes it; it returns the stats key and status.
func (s *Server) serveAPI(rw http.ResponseWriter, r *http.Request, path string, w *jsonWriter) (string, int) {
	routes, id := s.lookup(path)
	name := "unmatched"
	var rt *route
	for i := range routes {
		if routes[i].method == r.Method {
			rt = &routes[i]
			name = rt.name()
		}
	}
	if rt == nil && len(routes) > 0 {
		name = "other method " + routes[0].path // methods are arbitrary tokens: keep the keys bounded
	}

	fault := s.faults.draw()
	if fault.latency > 0 {
		s.stats.fault("latency")
		select {
		case <-time.After(fault.latency):
		case <-r.Context().Done():
			return name, 499 // client went away; nothing is written
		}
	}
	var status int
	switch {
	case fault.status != 0:
		s.stats.fault(fmt.Sprint(fault.status))
		if fault.status == http.StatusTooManyRequests {
			rw.Header().Set("Retry-After", fmt.Sprint(fault.retryAfter))
		}
		status = s.httpError(w, fault.status, path)
	case len(routes) == 0:
		status = s.httpError(w, http.StatusNotFound, path)
	case rt == nil:
		methods := make([]string, len(routes))
		for i := range routes {
			methods[i] = routes[i].method
		}
		rw.Header().Set("Allow", strings.Join(methods, ", "))
		status = s.httpError(w, http.StatusMethodNotAllowed, path)
	case !rt.public && !s.auth.validBearer(r.Header.Get("Authorization"), s.now()):
		rw.Header().Set("WWW-Authenticate", `Bearer realm="sandbox"`)
		status = s.httpError(w, http.StatusUnauthorized, path)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && !isJSON(r.Header.Get("Content-Type")):
		status = s.httpError(w, http.StatusUnsupportedMediaType, path)
	default:
		if id != "" {
			r.SetPathValue("id", id)
		}
		r.Body = http.MaxBytesReader(rw, r.Body, maxRequestBody)
		status = rt.handle(s, r, w)
		if status == http.StatusOK && s.faults.malformed(w) {
			s.stats.fault("malformed")
		}
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Content-Length", strconv.Itoa(len(w.b)))
	rw.WriteHeader(status)
	rw.Write(w.b)
	return name, status
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// httpErrorMessages follow the reference's one error example ("Not Found - No message available").
var httpErrorMessages = map[int]string{
	http.StatusBadRequest:           "Bad Request - Validation Error",
	http.StatusUnauthorized:         "Unauthorized - Invalid or expired access token",
	http.StatusNotFound:             "Not Found - No message available",
	http.StatusMethodNotAllowed:     "Method Not Allowed - No message available",
	http.StatusUnsupportedMediaType: "Unsupported Media Type - Content type must be application/json",
	http.StatusTooManyRequests:      "Too Many Requests - Rate limit exceeded",
	http.StatusInternalServerError:  "Internal Server Error - Simulated fault",
	http.StatusServiceUnavailable:   "Service Unavailable - Simulated maintenance",
}

// httpError writes the error body of the reference's 404 example:
// {"code":"404","message":"Not Found - No message available","path":"/…","timestamp":"1544951546619"}.
func (s *Server) httpError(w *jsonWriter, status int, path string) int {
	return s.httpErrorMessage(w, status, httpErrorMessages[status], path)
}

func (s *Server) httpErrorMessage(w *jsonWriter, status int, message, path string) int {
	w.b, w.comma = w.b[:0], false
	w.objectStart()
	w.key("code")
	w.intString(int64(status))
	w.str("message", message)
	w.str("path", path)
	w.key("timestamp")
	w.intString(s.now().UnixMilli())
	w.objectEnd()
	return status
}

// Envelope status codes of the reference.
const (
	statusOK               = "1000"
	statusInvalidLevelType = "3001"
	statusInternalError    = "4000"
)

// envelopeStart opens {"payLoad": …; the caller writes the payload, then envelopeEnd.
func envelopeStart(w *jsonWriter) {
	w.objectStart()
	w.key("payLoad")
}

func envelopeEnd(w *jsonWriter, typ, code, msg string) int {
	w.key("status")
	w.objectStart()
	w.str("type", typ)
	w.str("statuscode", code)
	w.str("msg", msg)
	w.objectEnd()
	w.objectEnd()
	return http.StatusOK
}

func envelopeOK(w *jsonWriter) int { return envelopeEnd(w, "INFO", statusOK, "OK") }

// envelopeError answers HTTP 200 with an empty payload and an error status, as the reference's
// 3001 and 4000 examples show.
func envelopeError(w *jsonWriter, code, msg string) int {
	w.b, w.comma = w.b[:0], false
	envelopeStart(w)
	w.objectStart()
	w.objectEnd()
	return envelopeEnd(w, "ERROR", code, msg)
}

func missingParameter(w *jsonWriter) int {
	return envelopeError(w, statusInternalError, "INTERNAL_ERROR")
}

func invalidLevelType(w *jsonWriter) int {
	return envelopeError(w, statusInvalidLevelType, "Invalid Level Type")
}

// present reports whether every value is non-empty (the reference's mandatory parameters).
func present(values ...string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			return false
		}
	}
	return true
}
