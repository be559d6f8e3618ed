package agentx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Handler answers the master's read requests.
type Handler interface {
	// View returns what answers one Get, GetNext or GetBulk PDU in a
	// context ("" is the default context): every varbind of the PDU is read
	// from it. ok is false for a context the handler does not serve; the PDU
	// is then answered as if the handler had nothing (noSuchObject,
	// endOfMibView).
	View(context string) (v View, ok bool)
}

// View answers the varbinds of one request PDU. It is used by one
// goroutine at a time.
type View interface {
	// Get returns the instance oid, or a NoSuchObject or NoSuchInstance
	// varbind named oid.
	Get(oid OID) VarBind
	// Next returns the first instance after start (at or after start when
	// include is set) and before end (nil: unbounded), and false when there
	// is none.
	Next(start OID, include bool, end OID) (VarBind, bool)
}

// Options tune a Session.
type Options struct {
	// Timeout bounds each request the session sends (Open, Register,
	// Notify, Ping, Close: waiting for the connection, writing, waiting
	// for the answer) and the writing of each Response. A master that does
	// not take a Response within it is dead to us: the session closes.
	// Default 5s.
	Timeout time.Duration
	// MaxVarBinds bounds the varbinds of a GetBulk response (default 1024).
	MaxVarBinds int
	// Counters, if set, count the PDUs received and sent by type; share one
	// across the sessions of a subagent to count across reconnects.
	Counters *Counters
}

// Counters count PDUs by type. Safe for concurrent use.
type Counters struct {
	received, sent [numTypes]atomic.Uint64
	malformed      atomic.Uint64
}

// Received returns how many PDUs of type t were received.
func (c *Counters) Received(t PDUType) uint64 { return c.get(&c.received, t) }

// Sent returns how many PDUs of type t were sent.
func (c *Counters) Sent(t PDUType) uint64 { return c.get(&c.sent, t) }

// Malformed returns how many received PDUs could not be decoded.
func (c *Counters) Malformed() uint64 { return c.malformed.Load() }

func (c *Counters) get(a *[numTypes]atomic.Uint64, t PDUType) uint64 {
	if int(t) < numTypes {
		return a[t].Load()
	}
	return 0
}

func (c *Counters) countReceived(t PDUType, ok bool) {
	if c == nil {
		return
	}
	if !ok {
		c.malformed.Add(1)
	}
	if int(t) < numTypes {
		c.received[t].Add(1)
	}
}

func (c *Counters) countSent(t PDUType) {
	if c != nil && int(t) < numTypes {
		c.sent[t].Add(1)
	}
}

// Types lists the PDU types, for exporting Counters.
func Types() []PDUType {
	out := make([]PDUType, 0, numTypes-1)
	for t := TypeOpen; t <= TypeResponse; t++ {
		out = append(out, t)
	}
	return out
}

// Errors of a Session.
var (
	// ErrClosed: the session's connection is closed (by either side, or
	// because it failed); requests in flight end with it.
	ErrClosed = errors.New("agentx: session closed")
	// ErrTimeout: the master did not answer a request in time.
	ErrTimeout = errors.New("agentx: no response from the master in time")
)

// ResponseError is a Response from the master carrying an error.
type ResponseError struct {
	Request PDUType
	Code    Error
	Index   uint16
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("agentx: the master answered %s with %s", e.Request, e.Code)
}

// ClosedByMaster is Serve's error when the master sent a Close PDU.
type ClosedByMaster struct{ Reason CloseReason }

func (e *ClosedByMaster) Error() string {
	return fmt.Sprintf("agentx: the master closed the session (%s)", e.Reason)
}

// Dial connects to a master agent. address is "unix:/path", "tcp:host:port"
// or a plain path (a unix socket), as snmpd's agentXSocket writes them.
func Dial(ctx context.Context, address string) (net.Conn, error) {
	network, addr := "unix", address
	switch {
	case strings.HasPrefix(address, "unix:"):
		addr = strings.TrimPrefix(address, "unix:")
	case strings.HasPrefix(address, "tcp:"):
		network, addr = "tcp", strings.TrimPrefix(address, "tcp:")
	case strings.HasPrefix(address, "/"):
	default:
		return nil, fmt.Errorf("agentx: socket %q is not unix:/path or tcp:host:port", address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Session is the subagent's end of one AgentX session over one connection.
// Run Serve in a goroutine first, then Open (and Register); every other
// method may be called from any goroutine.
type Session struct {
	conn net.Conn
	h    Handler
	opts Options

	id       atomic.Uint32 // h.sessionID, assigned by the master's Open response
	packetID atomic.Uint32

	// wlock serializes writes. It is a 1-buffered channel (holding the lock
	// is having sent to it) rather than a mutex so that waiting for it can
	// end with a context, a timeout or the session's close: a master that
	// stops reading blocks the write in progress, and a waiter on a mutex
	// would wait as long.
	wlock chan struct{}

	mu       sync.Mutex
	pending  map[uint32]chan *PDU // our requests awaiting a Response, by packetID
	draining bool                 // Drain called: no new requests but Close
	idle     chan struct{}        // closed when pending empties while draining
	closed   chan struct{}
	closeErr error

	// Serve's own, reused for every PDU.
	req, resp PDU
	out       []byte
	bulk      []SearchRange
}

// NewSession returns a session over conn whose reads are answered by h.
func NewSession(conn net.Conn, h Handler, opts Options) *Session {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxVarBinds <= 0 {
		opts.MaxVarBinds = 1024
	}
	return &Session{conn: conn, h: h, opts: opts, wlock: make(chan struct{}, 1), pending: map[uint32]chan *PDU{}, closed: make(chan struct{})}
}

// ID returns the session ID the master assigned (0 before Open).
func (s *Session) ID() uint32 { return s.id.Load() }

// Done is closed when the session's connection is closed.
func (s *Session) Done() <-chan struct{} { return s.closed }

// shut closes the connection once and fails every request in flight.
func (s *Session) shut(err error) error {
	s.mu.Lock()
	select {
	case <-s.closed:
		err = s.closeErr
	default:
		s.closeErr = err
		close(s.closed)
		s.pending = map[uint32]chan *PDU{}
		s.idle = nil // Drain's waiter sees closed
	}
	s.mu.Unlock()
	s.conn.Close()
	return err
}

// Serve reads PDUs until the connection fails or is closed, answering the
// master's requests and handing Responses to the requests waiting for
// them. It returns why it stopped: ErrClosed after Close, a
// *ClosedByMaster, or the read error.
func (s *Session) Serve() error {
	r := bufio.NewReaderSize(s.conn, 64<<10)
	buf := make([]byte, 0, 4096)
	for {
		buf = buf[:HeaderSize]
		if _, err := io.ReadFull(r, buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = ErrClosed
			}
			return s.shut(err)
		}
		h, err := DecodeHeader(buf)
		if err == nil && h.PayloadLength > MaxPayload {
			err = malformed("payload of %d octets (at most %d)", h.PayloadLength, MaxPayload)
		}
		if err != nil {
			// The framing cannot be trusted any more: close (RFC 2741 7.1.8).
			s.opts.Counters.countReceived(h.Type, false)
			s.sendClose(ReasonParseError)
			return s.shut(err)
		}
		n := HeaderSize + int(h.PayloadLength)
		if cap(buf) < n {
			buf = append(buf[:cap(buf)], make([]byte, n-cap(buf))...)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf[HeaderSize:]); err != nil {
			return s.shut(err)
		}
		if err := s.handle(buf); err != nil {
			return s.shut(err)
		}
	}
}

// handle processes one PDU; an error ends the session.
func (s *Session) handle(b []byte) (err error) {
	req := &s.req
	decodeErr := req.Decode(b)
	s.opts.Counters.countReceived(req.Type, decodeErr == nil)
	if decodeErr != nil {
		if req.Type != TypeResponse && req.Type != TypeCleanupSet && req.Type != TypeClose {
			return s.respond(req, ParseError, 0)
		}
		return nil
	}
	defer func() {
		// A bug in a handler costs one answer (genErr), never the session.
		if r := recover(); r != nil {
			err = s.respond(req, GenErr, 0)
		}
	}()
	switch req.Type {
	case TypeResponse:
		s.deliver(req)
		return nil
	case TypeClose:
		return &ClosedByMaster{Reason: req.Reason}
	case TypeCleanupSet:
		return nil // RFC 2741 7.2.4.4: no response
	}
	if id := s.id.Load(); id == 0 || req.SessionID != id {
		return s.respond(req, NotOpen, 0)
	}
	switch req.Type {
	case TypeGet, TypeGetNext, TypeGetBulk:
		return s.answerRead(req)
	case TypeTestSet:
		// Nothing is writable: RFC 2741 7.2.4.1, notWritable on the first
		// varbind.
		return s.respond(req, NotWritable, uint16(min(1, len(req.VarBinds))))
	case TypeCommitSet:
		return s.respond(req, CommitFailed, 0)
	case TypeUndoSet:
		return s.respond(req, UndoFailed, 0)
	case TypePing:
		return s.respond(req, NoError, 0)
	}
	return s.respond(req, ProcessingError, 0)
}

// respond answers req with an error and no varbinds.
func (s *Session) respond(req *PDU, e Error, index uint16) error {
	resp := s.response(req)
	resp.Error, resp.Index = e, index
	return s.writeResponse(resp)
}

// response prepares s.resp to answer req: same IDs, same byte order.
func (s *Session) response(req *PDU) *PDU {
	resp := &s.resp
	*resp = PDU{Header: Header{Version: 1, Type: TypeResponse, Flags: req.Flags & FlagNetworkByteOrder,
		SessionID: req.SessionID, TransactionID: req.TransactionID, PacketID: req.PacketID}, VarBinds: resp.VarBinds[:0]}
	return resp
}

func (s *Session) writeResponse(resp *PDU) error {
	out, err := AppendPDU(s.out[:0], resp)
	if err != nil {
		// A value the handler got wrong: genErr on that PDU, not a broken one.
		resp.VarBinds, resp.Error, resp.Index = resp.VarBinds[:0], GenErr, 0
		out, _ = AppendPDU(s.out[:0], resp)
	}
	s.out = out
	// Bounded like our requests' writes: a master that cannot take an
	// answer for Timeout is dead to us, and the error ends Serve (closing
	// the session) so that the owner reconnects, rather than Serve holding
	// the write lock for ever.
	if err := s.write(context.Background(), out, TypeResponse, time.Now().Add(s.opts.Timeout), ErrTimeout); err != nil {
		return fmt.Errorf("agentx: %w", err)
	}
	return nil
}

// lock takes the write lock, giving up when ctx is done, at deadline
// (with expired) or when the session closes.
func (s *Session) lock(ctx context.Context, deadline time.Time, expired error) error {
	select {
	case s.wlock <- struct{}{}: // uncontended: no timer
		return nil
	default:
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case s.wlock <- struct{}{}:
		return nil
	case <-s.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("agentx: the connection stayed busy (the master is not reading): %w", expired)
	}
}

func (s *Session) unlock() { <-s.wlock }

// write sends one encoded PDU, waiting for the write lock and writing
// until deadline at most (and waiting no longer than ctx); expired is the
// error when the wait reaches the deadline. Only a failed
// lock wait leaves the session usable: a failed write may have sent part
// of the PDU, so the caller closes the session.
func (s *Session) write(ctx context.Context, b []byte, t PDUType, deadline time.Time, expired error) (err error) {
	if err := s.lock(ctx, deadline, expired); err != nil {
		return err
	}
	defer s.unlock()
	if err := ctx.Err(); err != nil {
		return err // nothing written yet: the session is still usable
	}
	s.conn.SetWriteDeadline(deadline)
	if _, err := s.conn.Write(b); err != nil {
		return &writeError{t, err}
	}
	s.opts.Counters.countSent(t)
	return nil
}

// writeError is a failed write: the connection is no longer usable.
type writeError struct {
	t   PDUType
	err error
}

func (e *writeError) Error() string { return fmt.Sprintf("writing %s: %v", e.t, e.err) }
func (e *writeError) Unwrap() error { return e.err }

// answerRead answers a Get, GetNext or GetBulk PDU.
func (s *Session) answerRead(req *PDU) error {
	resp := s.response(req)
	view, ok := s.h.View(req.Context)
	if !ok {
		view = emptyView{}
	}
	switch req.Type {
	case TypeGet:
		for _, r := range req.Ranges {
			resp.VarBinds = append(resp.VarBinds, view.Get(r.Start))
		}
	case TypeGetNext:
		for _, r := range req.Ranges {
			resp.VarBinds = append(resp.VarBinds, next(view, r.Start, r.Include, r.End))
		}
	case TypeGetBulk:
		// RFC 2741 7.2.3.3: the first NonRepeaters ranges once, then the
		// others MaxRepetitions times, each repetition starting after the
		// previous one's result.
		nonRep := min(int(req.NonRepeaters), len(req.Ranges))
		for _, r := range req.Ranges[:nonRep] {
			resp.VarBinds = append(resp.VarBinds, next(view, r.Start, r.Include, r.End))
		}
		reps := append(s.bulk[:0], req.Ranges[nonRep:]...)
		s.bulk = reps
		for rep := 0; rep < int(req.MaxRepetitions) && len(reps) > 0; rep++ {
			ended := 0
			for i := range reps {
				if len(resp.VarBinds) >= s.opts.MaxVarBinds {
					return s.writeResponse(resp)
				}
				r := &reps[i]
				vb := next(view, r.Start, r.Include, r.End)
				if vb.Type == EndOfMibView {
					ended++
				} else {
					r.Start, r.Include = vb.Name, false
				}
				resp.VarBinds = append(resp.VarBinds, vb)
			}
			if ended == len(reps) {
				break
			}
		}
	}
	return s.writeResponse(resp)
}

// next is View.Next with endOfMibView (named start) when nothing is in range.
func next(v View, start OID, include bool, end OID) VarBind {
	if vb, ok := v.Next(start, include, end); ok {
		return vb
	}
	return VarBind{Name: start, Type: EndOfMibView}
}

// emptyView answers for a context the handler does not serve.
type emptyView struct{}

func (emptyView) Get(oid OID) VarBind                 { return VarBind{Name: oid, Type: NoSuchObject} }
func (emptyView) Next(OID, bool, OID) (VarBind, bool) { return VarBind{}, false }

// deliver hands a Response to the request waiting for it; one nobody waits
// for (it timed out) is dropped.
func (s *Session) deliver(p *PDU) {
	s.mu.Lock()
	ch := s.pending[p.PacketID]
	s.forgetLocked(p.PacketID)
	s.mu.Unlock()
	if ch != nil {
		cp := &PDU{Header: p.Header, SysUpTime: p.SysUpTime, Error: p.Error, Index: p.Index}
		cp.VarBinds = append(cp.VarBinds, p.VarBinds...)
		ch <- cp
	}
}

// forgetLocked drops a pending request (s.mu held), waking Drain when it
// was the last one.
func (s *Session) forgetLocked(packetID uint32) {
	delete(s.pending, packetID)
	if s.idle != nil && len(s.pending) == 0 {
		close(s.idle)
		s.idle = nil
	}
}

// request sends p (header fields filled in here) and waits for the
// master's Response. The whole of it (waiting to write, writing, waiting
// for the answer) is bounded by the Timeout and by ctx's deadline.
func (s *Session) request(ctx context.Context, p *PDU) (*PDU, error) {
	p.Version = 1
	p.Flags |= FlagNetworkByteOrder
	p.SessionID = s.id.Load()
	p.PacketID = s.packetID.Add(1)
	p.TransactionID = p.PacketID
	b, err := AppendPDU(nil, p)
	if err != nil {
		return nil, err
	}
	// When ctx's deadline comes first, reaching it is ctx's error, not
	// the master's: the timer and ctx's own may fire in either order.
	deadline, expired := time.Now().Add(s.opts.Timeout), ErrTimeout
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, expired = d, context.DeadlineExceeded
	}
	ch := make(chan *PDU, 1)
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return nil, ErrClosed
	default:
	}
	if s.draining && p.Type != TypeClose {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: closing, no new requests", ErrClosed)
	}
	s.pending[p.PacketID] = ch
	s.mu.Unlock()
	forget := func() {
		s.mu.Lock()
		s.forgetLocked(p.PacketID)
		s.mu.Unlock()
	}
	if err := s.write(ctx, b, p.Type, deadline, expired); err != nil {
		forget()
		var we *writeError
		if errors.As(err, &we) {
			s.shut(err)
			return nil, fmt.Errorf("%w: %w", ErrClosed, err)
		}
		return nil, err
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case resp := <-ch:
		if resp.Error != NoError {
			return resp, &ResponseError{Request: p.Type, Code: resp.Error, Index: resp.Index}
		}
		return resp, nil
	case <-s.closed:
		return nil, ErrClosed
	case <-timer.C:
		forget()
		return nil, expired
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	}
}

// Open opens the session (RFC 2741 6.2.1): id identifies the subagent (its
// sysObjectID-like OID), descr describes it; timeout is how long the master
// should wait for our answers (0: the master's default; at most 255 s).
func (s *Session) Open(ctx context.Context, timeout time.Duration, id OID, descr string) error {
	resp, err := s.request(ctx, &PDU{Header: Header{Type: TypeOpen}, Timeout: seconds(timeout), ID: id, Description: descr})
	if err != nil {
		return err
	}
	s.id.Store(resp.SessionID)
	return nil
}

func seconds(d time.Duration) uint8 {
	return uint8(min(255, max(0, (d+time.Second-1)/time.Second)))
}

// Register registers subtree in context ("" is the default) with a
// priority (1 highest, 255 lowest; 127 is the usual default) and a timeout
// for this region (0: the session's). A subtree another session registered
// with the same priority fails with a *ResponseError of
// DuplicateRegistration.
func (s *Session) Register(ctx context.Context, context string, subtree OID, priority uint8, timeout time.Duration) error {
	_, err := s.request(ctx, &PDU{Header: Header{Type: TypeRegister}, Context: context, Timeout: seconds(timeout), Priority: priority, Subtree: subtree})
	return err
}

// AddAgentCaps tells the master the subagent implements the MIB module (or
// capabilities statement) id (RFC 2741 6.2.8): net-snmp lists it in its
// sysORTable with descr.
func (s *Session) AddAgentCaps(ctx context.Context, context string, id OID, descr string) error {
	_, err := s.request(ctx, &PDU{Header: Header{Type: TypeAddAgentCaps}, Context: context, ID: id, Description: descr})
	return err
}

// Notify sends a notification through the master (RFC 2741 6.2.10):
// vbs starts with snmpTrapOID.0 (or sysUpTime.0 then snmpTrapOID.0; the
// master supplies its own sysUpTime when it is absent). It returns once
// the master acknowledged it.
func (s *Session) Notify(ctx context.Context, context string, vbs []VarBind) error {
	_, err := s.request(ctx, &PDU{Header: Header{Type: TypeNotify}, Context: context, VarBinds: vbs})
	return err
}

// Ping checks that the master still answers (RFC 2741 6.2.11). A Ping
// that times out (no answer, or the master not taking our writes, within
// the Timeout) closes the session: the master is dead to us, and Serve
// returns so that the owner reconnects.
func (s *Session) Ping(ctx context.Context, context string) error {
	_, err := s.request(ctx, &PDU{Header: Header{Type: TypePing}, Context: context})
	if errors.Is(err, ErrTimeout) {
		s.shut(fmt.Errorf("agentx: ping: %w", err))
	}
	return err
}

// Drain prepares a clean close: new requests (but Close) fail with
// ErrClosed from now on, and it waits, bounded by ctx, until the requests
// in flight have their answers (or fail). A Notify cut off by closing the
// session might still be forwarded by the master while its sender, seeing
// it fail, sends it again later: a duplicate.
func (s *Session) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	select {
	case <-s.closed:
		s.mu.Unlock()
		return nil
	default:
	}
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return nil
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-s.closed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("agentx: requests still in flight: %w", ctx.Err())
	}
}

// Close closes the session with a reason, waiting (bounded by ctx and the
// timeout) for the master's acknowledgement, then closes the connection.
// Serve then returns ErrClosed. It returns by ctx's end whatever the
// master does: the connection is then closed under the write or the wait
// in progress.
func (s *Session) Close(ctx context.Context, reason CloseReason) error {
	stop := context.AfterFunc(ctx, func() { s.shut(ErrClosed) })
	defer stop()
	var err error
	if s.id.Load() != 0 {
		_, err = s.request(ctx, &PDU{Header: Header{Type: TypeClose}, Reason: reason})
	}
	s.shut(ErrClosed)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("agentx: close: %w", ctx.Err())
	}
	if errors.Is(err, ErrClosed) {
		err = nil
	}
	return err
}

// sendClose sends a Close PDU without waiting for an answer (the session
// is being torn down for a protocol error).
func (s *Session) sendClose(reason CloseReason) {
	p := &PDU{Header: Header{Version: 1, Type: TypeClose, Flags: FlagNetworkByteOrder, SessionID: s.id.Load(), PacketID: s.packetID.Add(1)}, Reason: reason}
	if b, err := AppendPDU(nil, p); err == nil {
		s.write(context.Background(), b, TypeClose, time.Now().Add(s.opts.Timeout), ErrTimeout)
	}
}
