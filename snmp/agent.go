package snmp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/svgateway/svgateway/model"
)

// Deps are what NewAgent needs besides its Config and the model.
type Deps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not exported
	StateDir   string                // holds snmp/indexes.json and snmp/engine.json; "" keeps them in memory (tests)
	// MIB and Engine may be shared with the AgentX subagent and the
	// notification sender; nil: NewAgent opens them from StateDir. Open the
	// Engine once per gateway start: opening it counts a boot.
	MIB    *MIB
	Engine *Engine
	// Version is the gateway's version, served in sysDescr.
	Version string
}

// Agent is the standalone SNMP agent: SNMPv1/v2c read-only communities and
// SNMPv3 USM users over UDP, serving SVGATEWAY-MIB from model snapshots plus
// the system, SNMP, engine and USM statistics groups a manager expects.
//
// Every request message is answered from one snapshot, taken when it
// arrives: all varbinds of a response (a GETBULK's repetitions too) are
// consistent with each other. A walk made of several requests may see newer
// values from one request to the next; rows keep their indexes, so a walk
// never sees a row move, only rows appear or disappear.
type Agent struct {
	cfg         Config
	store       *model.Store
	mib         *MIB
	engine      *Engine
	log         *slog.Logger
	limit       *logLimiter
	stats       stats
	credentials atomic.Pointer[credentials] // swapped whole by Reload
	locals      subtrees
	sysName     string
	version     string
	salt        atomic.Uint64

	ready chan struct{}
	addr  atomic.Pointer[net.UDPAddr]
}

type community struct {
	name    []byte
	sources []netip.Prefix
	access  *access
	v1, v2c bool // the versions it answers
}

// newCommunities builds the agent's communities, with the versions each
// answers, from validated configuration. It is the one place that state is
// built (a configuration reload rebuilds it here).
func newCommunities(cfg []Community) []community {
	out := make([]community, 0, len(cfg))
	for i, c := range cfg {
		srcs, _ := parseSources(c.Sources)
		view, _ := parseView(c.View)
		out = append(out, community{name: []byte(c.Name), sources: srcs,
			access: &access{name: fmt.Sprintf("community #%d", i+1), view: view},
			v1:     slices.Contains(c.Versions, VersionV1), v2c: slices.Contains(c.Versions, VersionV2c) || len(c.Versions) == 0})
	}
	return out
}

// allowsVersion reports whether the community answers SNMP version ver.
func (c *community) allowsVersion(ver gosnmp.SnmpVersion) bool {
	return (ver == gosnmp.Version1 && c.v1) || (ver == gosnmp.Version2c && c.v2c)
}

// NewAgent returns an agent for cfg (validated here too) over store.
func NewAgent(cfg Config, store *model.Store, deps Deps) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, store: store, mib: deps.MIB, engine: deps.Engine, log: deps.Logger,
		limit: newLogLimiter(10 * time.Second), ready: make(chan struct{})}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if a.mib == nil {
		if a.mib, err = OpenMIB(deps.StateDir, a.log); err != nil {
			return nil, err
		}
	}
	if a.engine == nil {
		if a.engine, err = OpenEngine(deps.StateDir, cfg.EngineID); err != nil {
			return nil, err
		}
	}
	creds, err := newCredentials(cfg, a.engine.id)
	if err != nil {
		return nil, err
	}
	a.credentials.Store(creds)
	a.version = deps.Version
	a.sysName = cfg.SysName
	if a.sysName == "" {
		a.sysName, _ = os.Hostname()
	}
	var seed [8]byte
	rand.Read(seed[:])
	a.salt.Store(binary.BigEndian.Uint64(seed[:]))
	a.locals = a.localGroups()
	if deps.Registerer != nil {
		if err := deps.Registerer.Register(collector{s: &a.stats, mib: a.mib}); err != nil {
			return nil, fmt.Errorf("snmp: registering metrics: %w", err)
		}
	}
	return a, nil
}

// MIB returns the agent's MIB (to share it).
func (a *Agent) MIB() *MIB { return a.mib }

// Engine returns the agent's SNMPv3 engine (to share it).
func (a *Agent) Engine() *Engine { return a.engine }

// Ready is closed once Run listens (or failed to).
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Addr returns the address Run listens on; nil before Ready or when disabled.
func (a *Agent) Addr() net.Addr {
	if u := a.addr.Load(); u != nil {
		return u
	}
	return nil
}

// Run serves requests until ctx is done, then returns nil. It fails only
// when it cannot listen.
func (a *Agent) Run(ctx context.Context) error {
	if a.cfg.Listen == "off" {
		close(a.ready)
		<-ctx.Done()
		return nil
	}
	conns, err := listenUDP(a.cfg.Listen, max(1, runtime.GOMAXPROCS(0)))
	if err != nil {
		close(a.ready)
		return fmt.Errorf("snmp: listen %q: %w", a.cfg.Listen, err)
	}
	a.addr.Store(conns[0].localAddr())
	close(a.ready)
	creds := a.credentials.Load()
	a.log.Info("snmp: agent listening", "addr", conns[0].localAddr().String(), "sockets", len(conns), "communities", len(creds.communities),
		"users", len(creds.users), "engine_id", fmt.Sprintf("%x", a.engine.id), "engine_boots", a.engine.boots)

	var wg sync.WaitGroup
	wg.Go(func() { prepareTrees(ctx, a.store, a.mib) })
	// One goroutine per socket: read, answer, write. No handoff, no lock.
	for _, c := range conns {
		wg.Go(func() { a.serveConn(c) })
	}
	<-ctx.Done()
	for _, c := range conns {
		c.close()
	}
	wg.Wait()
	for _, c := range conns {
		c.release()
	}
	return nil
}

// packetConn is one socket of the agent (listen_linux.go, listen_other.go),
// read and written by one goroutine; close wakes it (readFrom returns
// net.ErrClosed) and release, once it has returned, frees the socket.
type packetConn interface {
	readFrom(b []byte) (int, netip.AddrPort, error)
	writeTo(b []byte, to netip.AddrPort) error
	localAddr() *net.UDPAddr
	close() error
	release()
}

// prepareTrees builds the tree of each new structure as soon as it is
// committed, so requests rarely wait for one (the agent and the subagent
// run it on their shared MIB: the second finds the tree built).
func prepareTrees(ctx context.Context, store *model.Store, mib *MIB) {
	snap, sub := store.Subscribe()
	mib.View(snap)
	for {
		d, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if d.StructureChanged || d.Resync {
			mib.View(store.Snapshot())
		}
	}
}

func (a *Agent) serveConn(conn packetConn) {
	buf := make([]byte, 65536)
	var out []byte // each answer is written into it: one buffer per socket
	for {
		n, from, err := conn.readFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.limit.log(a.log, slog.LevelWarn, "read", "snmp: reading a request", "err", err)
			continue
		}
		if ans := a.handleSafely(out[:0], buf[:n], from); ans != nil {
			out = ans
			if err := conn.writeTo(out, from); err != nil {
				a.limit.log(a.log, slog.LevelWarn, "write", "snmp: sending a response", "to", from.String(), "err", err)
			}
		}
	}
}

// handleSafely is respond with a last line of defence: a bug must cost one
// answer, never the gateway.
func (a *Agent) handleSafely(dst, pkt []byte, from netip.AddrPort) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			a.stats.count(dropEncode)
			a.limit.log(a.log, slog.LevelError, "panic", "snmp: internal error handling a request", "from", from.String(), "panic", fmt.Sprint(r))
			out = nil
		}
	}()
	return a.respond(dst, pkt, from)
}

// handle answers one message; nil means no answer.
func (a *Agent) handle(pkt []byte, from netip.AddrPort) []byte { return a.respond(nil, pkt, from) }

// respond answers one message, written into dst's storage when it is large
// enough (the caller owns it again once the answer is sent); nil means no
// answer.
func (a *Agent) respond(dst, pkt []byte, from netip.AddrPort) []byte {
	a.stats.packets.Add(1)
	r := berReader{b: pkt}
	msg, _, err := r.expect(tagSequence, "message")
	if err == nil && !r.done() {
		err = malformed("octets after the message")
	}
	if err != nil {
		return a.drop(dropParse, from, err)
	}
	m := berReader{b: msg}
	ver, err := m.readInt("msgVersion")
	if err != nil {
		return a.drop(dropParse, from, err)
	}
	switch gosnmp.SnmpVersion(ver) {
	case gosnmp.Version1, gosnmp.Version2c:
		return a.handleCommunity(dst, &m, gosnmp.SnmpVersion(ver), from)
	case gosnmp.Version3:
		return a.handleV3(dst, pkt, &m, from)
	}
	return a.drop(dropBadVersion, from, fmt.Errorf("SNMP version %d is not served (v1, v2c and v3 are)", ver))
}

// drop counts and logs (rate-limited) a message that gets no answer.
func (a *Agent) drop(r reason, from netip.AddrPort, err error) []byte {
	a.stats.count(r)
	a.limit.log(a.log, slog.LevelWarn, reasonNames[r].label, "snmp: request dropped", "reason", reasonNames[r].label,
		"from", from.String(), "err", err)
	return nil
}

// handleCommunity answers an SNMPv1 or SNMPv2c message.
func (a *Agent) handleCommunity(dst []byte, m *berReader, ver gosnmp.SnmpVersion, from netip.AddrPort) []byte {
	name, _, err := m.readOctets("community")
	if err != nil {
		return a.drop(dropParse, from, err)
	}
	pduBytes := m.b[m.off:]
	var comm *community
	communities := a.credentials.Load().communities
	for i := range communities {
		c := &communities[i]
		// Compare every community in constant time so timing does not
		// tell how much of a guess was right.
		if subtle.ConstantTimeCompare(c.name, name) == 1 && c.allows(from.Addr()) && comm == nil {
			comm = c
		}
	}
	if comm == nil {
		// Like net-snmp: no answer. The community itself is never logged.
		return a.drop(dropBadCommunity, from, errors.New("unknown community or source not allowed"))
	}
	req, err := parsePDU(pduBytes)
	if err != nil && !errors.Is(err, errTooManyVarbinds) {
		return a.drop(dropParse, from, err)
	}
	if ver == gosnmp.Version1 && req.pduType == gosnmp.GetBulkRequest {
		// SNMPv1 has no GetBulk: the PDU is not valid in a v1 message.
		return a.drop(dropParse, from, errors.New("GetBulkRequest in an SNMPv1 message"))
	}
	pkt := &gosnmp.SnmpPacket{Version: ver, Community: string(name), PDUType: gosnmp.GetResponse}
	version := verV2c
	if ver == gosnmp.Version1 {
		version = verV1
	}
	if !comm.allowsVersion(ver) {
		return a.refuseVersion(dst, pkt, req, version, from)
	}
	maxSize := a.cfg.MaxMessageSize
	if req.pduType == gosnmp.GetBulkRequest {
		// A forged source address makes a GETBULK an amplifier: bound it
		// (Config.V2cMaxBulkSize).
		maxSize = a.cfg.V2cMaxBulkSize
	}
	return a.answer(dst, pkt, nil, req, err, comm.access, version, maxSize, maxSize-40-len(name), from)
}

func (c *community) allows(addr netip.Addr) bool {
	if len(c.sources) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range c.sources {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// requestKinds maps a request PDU to its index in the request counters.
var requestKinds = map[gosnmp.PDUType]int{gosnmp.GetRequest: reqGet, gosnmp.GetNextRequest: reqGetNext,
	gosnmp.GetBulkRequest: reqGetBulk, gosnmp.SetRequest: reqSet}

// Versions as the request counters index them.
const (
	verV2c = iota
	verV3
	verV1
	numVersions
)

// answer processes a decoded request and encodes the response into pkt
// (version, community or v3 security already set). parseErr is
// errTooManyVarbinds or nil. version is verV2c, verV3 or verV1.
func (a *Agent) answer(dst []byte, pkt *gosnmp.SnmpPacket, u *usmUser, req *request, parseErr error, acc *access, version int, maxSize, budget int, from netip.AddrPort) []byte {
	switch req.pduType {
	case gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest, gosnmp.SetRequest:
	default:
		return a.drop(dropUnexpectedPDU, from, fmt.Errorf("%s PDU sent to the agent", req.pduType))
	}
	if req.requestID < 0 {
		// gosnmp encodes request IDs unsigned: a negative one would come
		// back wrong, so the manager could not match it anyway.
		return a.drop(dropParse, from, errors.New("negative request-id"))
	}
	pkt.RequestID = uint32(req.requestID)
	a.stats.requests[version][requestKinds[req.pduType]].Add(1)

	var res result
	switch {
	case req.pduType == gosnmp.SetRequest:
		// Read-only agent: no community or user has a write view, so RFC
		// 3416 4.2.5 (1) applies: noAccess on the first varbind, the
		// varbinds echoed.
		a.stats.count(respNoAccess)
		res = result{status: gosnmp.NoAccess, index: 1}
		for i, raw := range req.values {
			t, v, ok := decodeValue(raw)
			if !ok {
				return a.drop(dropParse, from, errors.New("SET value of an unknown type"))
			}
			res.varbinds = append(res.varbinds, servedOf(Varbind{OID: req.oids[i], Type: t, Value: v}))
		}
		if len(req.values) == 0 {
			res.index = 0
		}
	case parseErr != nil || len(req.oids) > a.cfg.MaxVarbinds:
		res = result{status: gosnmp.TooBig}
	case version == verV1:
		v := a.mib.pooledView(a.store.Snapshot())
		defer v.release() // after encode: the varbinds' OIDs and octets are the view's
		res = a.serveV1(v, acc, req, budget)
	default:
		v := a.mib.pooledView(a.store.Snapshot())
		defer v.release()
		vbs := varbindPool.Get().(*[]served)
		res = a.serve(v, acc, req, budget, (*vbs)[:0])
		defer func(served []served) {
			clear(served) // hold no value or OID while pooled
			*vbs = served[:0]
			varbindPool.Put(vbs)
		}(res.varbinds)
	}
	if version == verV1 {
		res.status = v1Status(res.status)
	}
	return a.encode(dst, pkt, u, res, maxSize, from)
}

// encode marshals the response, shortening a GETBULK (or answering tooBig)
// when the result exceeds maxSize after all. The message is written by
// encode.go, the varbind list into a reused buffer.
func (a *Agent) encode(dst []byte, pkt *gosnmp.SnmpPacket, u *usmUser, res result, maxSize int, from netip.AddrPort) []byte {
	scratch := vblPool.Get().(*[]byte)
	defer vblPool.Put(scratch)
	for range 10 {
		if res.status == gosnmp.TooBig {
			res.varbinds, res.index = nil, 0
		}
		pkt.Error, pkt.ErrorIndex = res.status, uint8(min(res.index, math.MaxUint8))
		vbl, err := appendVarbinds((*scratch)[:0], res.varbinds)
		*scratch = vbl
		var out []byte
		switch {
		case err != nil:
		case pkt.Version == gosnmp.Version3:
			out, err = usmMessage(dst, pkt, vbl, u)
		default:
			out = communityMessage(dst, pkt.Version, pkt.Community, pkt.RequestID, pkt.Error, pkt.ErrorIndex, vbl)
		}
		if err != nil {
			return a.drop(dropEncode, from, err)
		}
		if len(out) <= maxSize {
			if res.status == gosnmp.TooBig {
				a.stats.count(respTooBig)
			}
			a.stats.varbinds.Add(uint64(len(res.varbinds)))
			return out
		}
		switch {
		case res.bulk && len(res.varbinds) > 1:
			res.varbinds = res.varbinds[:len(res.varbinds)*3/4]
		case res.status == gosnmp.TooBig:
			return a.drop(dropEncode, from, fmt.Errorf("even a tooBig response exceeds %d octets", maxSize))
		default:
			res = result{status: gosnmp.TooBig}
		}
	}
	return a.drop(dropEncode, from, errors.New("response does not fit"))
}

// varbindPool holds the varbind lists serve fills: one per request being
// answered, reused.
var varbindPool = sync.Pool{New: func() any { s := make([]served, 0, 64); return &s }}

// vblPool holds the buffers encode writes varbind lists into: one per
// request being answered, reused.
var vblPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
