package uaserver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
	"github.com/prometheus/client_golang/prometheus"
)

// Options are the dependencies of a Server.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	// StateDir holds opcua/pki (own certificate, trusted/ and rejected/
	// client certificates).
	StateDir string
	// Version is the software version reported in BuildInfo (default: the
	// main module's version from the build information).
	Version string
	// BuildDate is the build time reported in BuildInfo (default: the
	// server's start time).
	BuildDate time.Time
}

// ServerInfo describes the running server, for the services' Server object.
type ServerInfo struct {
	ApplicationURI  string
	ProductURI      string
	ApplicationName string
	StartTime       time.Time
	BuildInfo       ua.BuildInfo
	// Endpoints are the offered endpoint descriptions (as GetEndpoints
	// returns them).
	Endpoints []*ua.EndpointDescription
	// Sessions is the current number of sessions.
	Sessions int
}

// Server is the OPC UA channel and session layer: it accepts connections,
// opens secure channels, authenticates sessions and hands every request of
// an activated session to Services.
//
// Services.Serve runs on the connection's goroutine; Request.Respond may be
// called from any goroutine. It sends on the secure channel the request
// arrived on (request ids belong to a channel), splitting the response into
// chunks the client accepts, and returns an error once that channel has
// closed (the client reconnects and re-sends Publish requests on its new
// channel). It may block for up to send_timeout on a client that does not
// read: call it from a per-session or per-subscription goroutine, never
// from the model's change stream. A response gopcua cannot encode (a nil
// pointer field) or larger than the client accepts is replaced by a
// ServiceFault (Bad_InternalError, Bad_ResponseTooLarge).
type Server struct {
	cfg      Config
	services Services
	log      *slog.Logger
	metrics  *metrics
	diag     diagCounters
	own      *ownCert
	trust    *trustList
	ids      atomic.Pointer[identities] // swapped whole by Reload
	limiter  *activationLimiter
	start    time.Time
	build    ua.BuildInfo

	bound    chan struct{} // closed once Run has bound (or failed to)
	addr     net.Addr
	endpoint string // the advertised endpoint URL, with the bound port

	admission *admission
	mu        sync.Mutex
	channels  map[uint32]*channel // by secure channel id
	sessions  sessionTable
}

// NewServer prepares a server: validates cfg, loads or generates the
// application instance certificate, prepares the trust list and users.
// Run starts serving.
func NewServer(cfg Config, services Services, opts Options) (*Server, error) {
	if services == nil {
		return nil, errors.New("opcua: no services")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.StateDir == "" {
		return nil, errors.New("opcua: no state directory")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pkiDir := filepath.Join(opts.StateDir, "opcua", "pki")
	own, err := loadOrCreateOwnCert(pkiDir, &cfg, log)
	if err != nil {
		return nil, err
	}
	trust, err := newTrustList(pkiDir, cfg.AutoAcceptClients, log)
	if err != nil {
		return nil, fmt.Errorf("opcua: trust list: %w", err)
	}
	ids, err := newIdentities(cfg)
	if err != nil {
		return nil, err
	}
	version := opts.Version
	if bi, ok := debug.ReadBuildInfo(); ok && version == "" {
		version = bi.Main.Version
	}
	s := &Server{
		cfg:       cfg,
		services:  services,
		log:       log,
		metrics:   newMetrics(opts.Registerer),
		own:       own,
		trust:     trust,
		limiter:   newActivationLimiter(cfg.MaxFailedActivations, cfg.FailedActivationWindow),
		admission: newAdmission(&cfg),
		start:     time.Now(),
		bound:     make(chan struct{}),
		channels:  map[uint32]*channel{},
		sessions:  sessionTable{byToken: map[string]*session{}},
	}
	s.ids.Store(ids)
	buildDate := opts.BuildDate
	if buildDate.IsZero() {
		buildDate = s.start
	}
	s.build = ua.BuildInfo{
		ProductURI:       cfg.ProductURI,
		ManufacturerName: "svgateway",
		ProductName:      "svgateway OPC UA server",
		SoftwareVersion:  version,
		BuildNumber:      version,
		BuildDate:        buildDate,
	}
	return s, nil
}

// Run listens on the configured endpoint and serves until ctx is done, then
// closes every connection and session. It returns nil on a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	host, port, _ := splitEndpoint(s.cfg.Endpoint)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		close(s.bound)
		return fmt.Errorf("opcua: listen on %s: %w", s.cfg.Endpoint, err)
	}
	s.addr = ln.Addr()
	advertised := host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() && len(s.cfg.Hostnames) > 0 {
		advertised = s.cfg.Hostnames[0]
	}
	s.endpoint = "opc.tcp://" + net.JoinHostPort(advertised, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	close(s.bound)

	var offered []string
	for _, p := range s.cfg.endpoints {
		offered = append(offered, p.String())
	}
	s.log.Info("opcua: listening", "endpoint", s.endpoint, "security", offered,
		"allow_anonymous", s.ids.Load().allowAnonymous, "users", s.ids.Load().users.len())
	s.ids.Load().warn(s.log, time.Now())
	if s.cfg.OffersNone() {
		s.log.Warn("opcua: SecurityPolicy None is enabled: clients may connect without signing or encryption; use only with the sandbox")
	}
	if s.trust.autoAccept.Load() {
		s.log.Warn("opcua: auto_accept_clients = true: ANY client certificate is accepted; never use this in production")
	}

	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { s.expireSessions(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})

	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			cancel()
			wg.Wait()
			s.shutdown()
			return fmt.Errorf("opcua: accept: %w", err)
		}
		slot, why := s.admission.admit(conn.RemoteAddr())
		if slot == nil {
			s.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadTCPServerTooBusy)).Inc()
			s.metrics.refusedConnections.WithLabelValues(why).Inc()
			msg := "opcua: connection refused: max_connections reached"
			if why == "per_address" {
				msg = "opcua: connection refused: max_connections_per_address reached for this client"
			}
			s.log.Warn(msg, "remote", conn.RemoteAddr().String())
			go refuse(conn, ua.StatusBadTCPServerTooBusy)
			continue
		}
		s.metrics.channels.Inc()
		wg.Go(func() {
			defer slot.release()
			defer s.metrics.channels.Dec()
			c := newChannel(s, conn)
			c.reservedSlot = slot.reserved
			c.serve(ctx)
		})
	}
	wg.Wait()
	s.shutdown()
	s.log.Info("opcua: stopped")
	return nil
}

// refuse sends an Error message to a connection that is not served.
func refuse(conn net.Conn, code ua.StatusCode) {
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write(errorMessage(code, ""))
	conn.Close()
}

// Ready is closed once Run has bound its listener (or failed to).
func (s *Server) Ready() <-chan struct{} { return s.bound }

// Addr waits until Run has bound its listener and returns its address (nil
// if Run failed to bind).
func (s *Server) Addr() net.Addr {
	<-s.bound
	return s.addr
}

// EndpointURL waits until Run has bound its listener and returns the
// endpoint URL with the bound port ("" if Run failed to bind).
func (s *Server) EndpointURL() string {
	<-s.bound
	return s.endpoint
}

// Info describes the server.
func (s *Server) Info() ServerInfo {
	return ServerInfo{
		ApplicationURI:  s.cfg.ApplicationURI,
		ProductURI:      s.cfg.ProductURI,
		ApplicationName: s.cfg.ApplicationName,
		StartTime:       s.start,
		BuildInfo:       s.build,
		Endpoints:       s.endpointDescriptions(),
		Sessions:        s.sessions.count(),
	}
}

// register assigns a fresh, unused secure channel id to c.
func (s *Server) register(c *channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		id := randomUint32()
		if _, used := s.channels[id]; id != 0 && !used {
			c.id = id
			s.channels[id] = c
			return
		}
	}
}

func (s *Server) unregister(c *channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channels[c.id] == c {
		delete(s.channels, c.id)
	}
}

// shutdown closes every session once all connections are gone, then tells
// services that keep state beyond sessions (StoppedNotifier).
func (s *Server) shutdown() {
	for _, ss := range s.sessions.removeAll() {
		s.diag.aborts.Add(1)
		s.closeSession(ss, true, "server shutdown")
	}
	if n, ok := s.services.(StoppedNotifier); ok {
		n.ServerStopped()
	}
}

func randomUint32() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return binary.LittleEndian.Uint32(b[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// securityLevel ranks an endpoint for clients choosing among them.
func securityLevel(p securityPair) uint8 {
	return uapolicy.SecurityLevel(p.Policy, p.Mode)
}
