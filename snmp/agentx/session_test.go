package agentx

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
)

// tableView is a View over a sorted list of varbinds.
type tableView []VarBind

func (v tableView) Get(oid OID) VarBind {
	for _, vb := range v {
		if slices.Equal(vb.Name, oid) {
			return vb
		}
	}
	return VarBind{Name: oid, Type: NoSuchObject}
}

func (v tableView) Next(start OID, include bool, end OID) (VarBind, bool) {
	i := sort.Search(len(v), func(i int) bool {
		c := slices.Compare(v[i].Name, start)
		return c > 0 || (include && c == 0)
	})
	if i == len(v) || (end != nil && slices.Compare(v[i].Name, end) >= 0) {
		return VarBind{}, false
	}
	return v[i], true
}

// testHandler serves table in the default context and "ctx"; the OID
// 1.3.6.1.4.1.32473.99 makes it panic.
type testHandler struct{ table tableView }

func (h testHandler) View(context string) (View, bool) {
	if context != "" && context != "ctx" {
		return nil, false
	}
	return panicky{h.table}, true
}

type panicky struct{ tableView }

func (p panicky) Get(oid OID) VarBind {
	if slices.Equal(oid, OID{1, 3, 6, 1, 4, 1, 32473, 99}) {
		panic("handler bug")
	}
	return p.tableView.Get(oid)
}

var root = OID{1, 3, 6, 1, 4, 1, 32473}

func testTable() tableView {
	return tableView{
		{Name: OID{1, 3, 6, 1, 4, 1, 32473, 1, 1, 0}, Type: Integer, Value: -5},
		{Name: OID{1, 3, 6, 1, 4, 1, 32473, 1, 2, 0}, Type: OctetString, Value: "two"},
		{Name: OID{1, 3, 6, 1, 4, 1, 32473, 2, 1, 1}, Type: Gauge32, Value: uint32(7)},
		{Name: OID{1, 3, 6, 1, 4, 1, 32473, 2, 1, 2}, Type: Counter64, Value: uint64(1 << 33)},
		{Name: OID{1, 3, 6, 1, 4, 1, 32473, 2, 2, 1}, Type: ObjectIdentifier, Value: OID{1, 3, 6, 1, 4, 1, 32473, 1}},
	}
}

// fakeMaster is the master's end of a session under test.
type fakeMaster struct {
	t    *testing.T
	conn net.Conn
}

func (m *fakeMaster) send(p *PDU) {
	m.t.Helper()
	p.Version = 1
	b, err := AppendPDU(nil, p)
	if err != nil {
		m.t.Fatal(err)
	}
	m.sendRaw(b)
}

func (m *fakeMaster) sendRaw(b []byte) {
	m.t.Helper()
	m.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := m.conn.Write(b); err != nil {
		m.t.Fatal(err)
	}
}

func (m *fakeMaster) recv() *PDU {
	m.t.Helper()
	m.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, HeaderSize)
	if _, err := io.ReadFull(m.conn, hdr); err != nil {
		m.t.Fatalf("master reading: %v", err)
	}
	h, err := DecodeHeader(hdr)
	if err != nil {
		m.t.Fatal(err)
	}
	b := append(hdr, make([]byte, h.PayloadLength)...)
	if _, err := io.ReadFull(m.conn, b[HeaderSize:]); err != nil {
		m.t.Fatal(err)
	}
	p := &PDU{}
	if err := p.Decode(b); err != nil {
		m.t.Fatal(err)
	}
	return p
}

// answer responds to a request of the subagent.
func (m *fakeMaster) answer(req *PDU, sessionID uint32, e Error) {
	m.send(&PDU{Header: Header{Type: TypeResponse, Flags: FlagNetworkByteOrder, SessionID: sessionID, TransactionID: req.TransactionID, PacketID: req.PacketID}, Error: e})
}

// openSession returns an open session (ID 42) served by a goroutine and
// its master; serveErr receives Serve's result.
func openSession(t *testing.T, opts Options) (*Session, *fakeMaster, chan error) {
	t.Helper()
	a, b := net.Pipe()
	s := NewSession(a, testHandler{testTable()}, opts)
	m := &fakeMaster{t: t, conn: b}
	serveErr := make(chan error, 1)
	served := make(chan struct{})
	go func() {
		serveErr <- s.Serve()
		close(served)
	}()
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-served
	})
	openErr := make(chan error, 1)
	go func() { openErr <- s.Open(context.Background(), 5*time.Second, root, "test subagent") }()
	p := m.recv()
	if p.Type != TypeOpen || p.Flags&FlagNetworkByteOrder == 0 || p.Timeout != 5 || !slices.Equal(p.ID, root) || p.Description != "test subagent" {
		t.Fatalf("Open = %+v", p)
	}
	m.answer(p, 42, NoError)
	if err := <-openErr; err != nil {
		t.Fatal(err)
	}
	if s.ID() != 42 {
		t.Fatalf("session ID %d, want 42", s.ID())
	}
	return s, m, serveErr
}

func TestSessionOpenRegister(t *testing.T) {
	s, m, _ := openSession(t, Options{})
	for _, c := range []struct {
		context string
		reply   Error
	}{{"", NoError}, {"ctx", DuplicateRegistration}} {
		errc := make(chan error, 1)
		go func() { errc <- s.Register(context.Background(), c.context, root, 127, 0) }()
		p := m.recv()
		if p.Type != TypeRegister || p.SessionID != 42 || p.Context != c.context || p.Priority != 127 || !slices.Equal(p.Subtree, root) {
			t.Errorf("Register = %+v", p)
		}
		if (p.Flags&FlagNonDefaultContext != 0) != (c.context != "") {
			t.Errorf("context %q: flags %x", c.context, p.Flags)
		}
		m.answer(p, 42, c.reply)
		err := <-errc
		var re *ResponseError
		if c.reply == NoError && err != nil || c.reply != NoError && (!errors.As(err, &re) || re.Code != c.reply) {
			t.Errorf("Register answered %s: %v", c.reply, err)
		}
	}
}

// TestSessionReads drives Get, GetNext and GetBulk in both byte orders and
// checks that every response echoes the IDs and the byte order.
func TestSessionReads(t *testing.T) {
	_, m, _ := openSession(t, Options{})
	tab := testTable()
	end := OID{1, 3, 6, 1, 4, 1, 32474}
	o := func(subs ...uint32) OID { return append(append(OID{}, root...), subs...) }
	eom := func(start OID) VarBind { return VarBind{Name: start, Type: EndOfMibView} }
	for _, big := range []bool{false, true} {
		flags := uint8(0)
		if big {
			flags = FlagNetworkByteOrder
		}
		for i, c := range []struct {
			req  PDU
			want []VarBind
		}{
			{PDU{Header: Header{Type: TypeGet}, Ranges: []SearchRange{{Start: o(1, 2, 0)}, {Start: o(1, 3, 0)}}},
				[]VarBind{tab[1], {Name: o(1, 3, 0), Type: NoSuchObject}}},
			{PDU{Header: Header{Type: TypeGetNext}, Ranges: []SearchRange{
				{Start: o(1, 1, 0), End: end}, {Start: o(1, 1, 0), Include: true, End: end}, {Start: o(2), End: o(2, 2)}, {Start: o(2, 2, 1), End: end}, {Start: root}}},
				[]VarBind{tab[1], tab[0], tab[2], eom(o(2, 2, 1)), tab[0]}},
			{PDU{Header: Header{Type: TypeGetNext}, Context: "ctx", Ranges: []SearchRange{{Start: root, End: end}}}, []VarBind{tab[0]}},
			{PDU{Header: Header{Type: TypeGetNext}, Context: "other", Ranges: []SearchRange{{Start: root, End: end}}}, []VarBind{eom(root)}},
			{PDU{Header: Header{Type: TypeGet}, Context: "other", Ranges: []SearchRange{{Start: o(1, 1, 0)}}}, []VarBind{{Name: o(1, 1, 0), Type: NoSuchObject}}},
			// One non-repeater, two repeaters of which one ends early.
			{PDU{Header: Header{Type: TypeGetBulk}, NonRepeaters: 1, MaxRepetitions: 3, Ranges: []SearchRange{
				{Start: root, End: end}, {Start: o(1), End: o(2)}, {Start: o(2), End: end}}},
				[]VarBind{tab[0], tab[0], tab[2], tab[1], tab[3], eom(o(1, 2, 0)), tab[4]}},
			// Every repeater ends: stop early.
			{PDU{Header: Header{Type: TypeGetBulk}, MaxRepetitions: 100, Ranges: []SearchRange{{Start: o(2, 2), End: end}}},
				[]VarBind{tab[4], eom(o(2, 2, 1))}},
		} {
			req := c.req
			req.Flags, req.SessionID, req.TransactionID, req.PacketID = flags, 42, uint32(1000+i), uint32(2000+i)
			m.send(&req)
			r := m.recv()
			if r.Type != TypeResponse || r.SessionID != 42 || r.TransactionID != uint32(1000+i) || r.PacketID != uint32(2000+i) ||
				(r.Flags&FlagNetworkByteOrder != 0) != big || r.Error != NoError {
				t.Errorf("big=%v %s #%d: response header %+v, error %s", big, req.Type, i, r.Header, r.Error)
			}
			want := &PDU{Header: r.Header, VarBinds: c.want}
			if !pduEqual(r, want) {
				t.Errorf("big=%v %s #%d:\n got %v\nwant %v", big, req.Type, i, r.VarBinds, c.want)
			}
		}
	}
}

func TestGetBulkBounded(t *testing.T) {
	_, m, _ := openSession(t, Options{MaxVarBinds: 3})
	m.send(&PDU{Header: Header{Type: TypeGetBulk, SessionID: 42, PacketID: 1}, MaxRepetitions: 50, Ranges: []SearchRange{{Start: root}, {Start: root}}})
	if r := m.recv(); len(r.VarBinds) != 3 {
		t.Errorf("GetBulk answered %d varbinds, MaxVarBinds is 3", len(r.VarBinds))
	}
}

// TestSessionRefusesSets: TestSet gets notWritable on its first varbind,
// CommitSet and UndoSet their failures, CleanupSet no answer at all.
func TestSessionRefusesSets(t *testing.T) {
	_, m, _ := openSession(t, Options{})
	h := func(ty PDUType, id uint32) Header {
		return Header{Type: ty, SessionID: 42, TransactionID: 7, PacketID: id}
	}
	m.send(&PDU{Header: h(TypeTestSet, 1), VarBinds: []VarBind{{Name: OID{1, 3, 6, 1, 4, 1, 32473, 1, 1, 0}, Type: Integer, Value: 3}, {Name: OID{1, 3}, Type: Null}}})
	if r := m.recv(); r.PacketID != 1 || r.Error != NotWritable || r.Index != 1 {
		t.Errorf("TestSet answered %+v", r)
	}
	m.send(&PDU{Header: h(TypeCommitSet, 2)})
	if r := m.recv(); r.PacketID != 2 || r.Error != CommitFailed {
		t.Errorf("CommitSet answered %+v", r)
	}
	m.send(&PDU{Header: h(TypeUndoSet, 3)})
	if r := m.recv(); r.PacketID != 3 || r.Error != UndoFailed {
		t.Errorf("UndoSet answered %+v", r)
	}
	m.send(&PDU{Header: h(TypeCleanupSet, 4)})
	m.send(&PDU{Header: h(TypePing, 5)})
	if r := m.recv(); r.PacketID != 5 || r.Error != NoError {
		t.Errorf("after CleanupSet, got %+v; want the answer to the Ping (CleanupSet gets none)", r)
	}
}

func TestSessionBadRequests(t *testing.T) {
	_, m, serveErr := openSession(t, Options{})
	// Not our session.
	m.send(&PDU{Header: Header{Type: TypeGet, SessionID: 41, PacketID: 1}, Ranges: []SearchRange{{Start: root}}})
	if r := m.recv(); r.PacketID != 1 || r.Error != NotOpen {
		t.Errorf("wrong session answered %+v", r)
	}
	// A payload that does not decode: parseError, IDs echoed.
	good, _ := AppendPDU(nil, &PDU{Header: Header{Version: 1, Type: TypeGetNext, SessionID: 42, TransactionID: 5, PacketID: 2},
		Ranges: []SearchRange{{Start: root}}})
	good[20] = 200 // n_subid beyond 128
	m.sendRaw(good)
	if r := m.recv(); r.PacketID != 2 || r.TransactionID != 5 || r.Error != ParseError {
		t.Errorf("malformed payload answered %+v", r)
	}
	// A handler that panics costs that answer only.
	m.send(&PDU{Header: Header{Type: TypeGet, SessionID: 42, PacketID: 3}, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 4, 1, 32473, 99}}}})
	if r := m.recv(); r.PacketID != 3 || r.Error != GenErr {
		t.Errorf("panicking handler answered %+v", r)
	}
	// A header that does not decode: the subagent closes the session.
	bad := append([]byte{}, good...)
	bad[0] = 9
	m.sendRaw(bad)
	if r := m.recv(); r.Type != TypeClose || r.Reason != ReasonParseError {
		t.Errorf("bad header: got %+v, want Close(parseError)", r)
	}
	if err := <-serveErr; !errors.Is(err, ErrMalformed) {
		t.Errorf("Serve returned %v, want ErrMalformed", err)
	}
}

func TestSessionNotifyPingClose(t *testing.T) {
	s, m, serveErr := openSession(t, Options{})
	vbs := []VarBind{{Name: OID{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}, Type: ObjectIdentifier, Value: OID{1, 3, 6, 1, 4, 1, 32473, 0, 1}},
		{Name: OID{1, 3, 6, 1, 4, 1, 32473, 2, 1, 1, 5}, Type: Gauge32, Value: uint32(5)}}
	for _, reply := range []Error{NoError, ProcessingError} {
		errc := make(chan error, 1)
		go func() { errc <- s.Notify(context.Background(), "", vbs) }()
		p := m.recv()
		if p.Type != TypeNotify || p.SessionID != 42 || !reflect.DeepEqual(p.VarBinds, vbs) {
			t.Errorf("Notify = %+v", p)
		}
		m.answer(p, 42, reply)
		if err := <-errc; (err == nil) != (reply == NoError) {
			t.Errorf("Notify answered %s: %v", reply, err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Ping(context.Background(), "") }()
	p := m.recv()
	if p.Type != TypePing {
		t.Errorf("Ping = %+v", p)
	}
	m.answer(p, 42, NoError)
	if err := <-errc; err != nil {
		t.Error(err)
	}
	// The master closes the session.
	m.send(&PDU{Header: Header{Type: TypeClose, SessionID: 42}, Reason: ReasonShutdown})
	var cm *ClosedByMaster
	if err := <-serveErr; !errors.As(err, &cm) || cm.Reason != ReasonShutdown {
		t.Errorf("Serve returned %v, want ClosedByMaster(shutdown)", err)
	}
	if err := s.Ping(context.Background(), ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping on a closed session: %v", err)
	}
}

func TestSessionTimeoutAndDrop(t *testing.T) {
	s, m, serveErr := openSession(t, Options{Timeout: 100 * time.Millisecond})
	// The master reads the Notify but never answers: it fails, the session
	// stays.
	errc := make(chan error, 1)
	go func() { errc <- s.Notify(context.Background(), "", nil) }()
	p := m.recv()
	if err := <-errc; !errors.Is(err, ErrTimeout) {
		t.Errorf("unanswered Notify: %v, want ErrTimeout", err)
	}
	m.answer(p, 42, NoError) // a late answer is dropped
	// The connection goes away with a Notify in flight.
	go func() { errc <- s.Notify(context.Background(), "", nil) }()
	m.recv()
	m.conn.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Notify in flight when the master went away: %v, want ErrClosed", err)
	}
	if err := <-serveErr; err == nil {
		t.Error("Serve returned nil after the connection broke")
	}
}

// TestSessionPingTimeoutCloses: a Ping the master reads but never answers
// closes the session, so that its owner reconnects.
func TestSessionPingTimeoutCloses(t *testing.T) {
	s, m, serveErr := openSession(t, Options{Timeout: 100 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- s.Ping(context.Background(), "") }()
	m.recv()
	if err := <-errc; !errors.Is(err, ErrTimeout) {
		t.Errorf("unanswered Ping: %v, want ErrTimeout", err)
	}
	if err := within(t, 10*time.Second, "Serve", func() error { return <-serveErr }); !errors.Is(err, ErrTimeout) {
		t.Errorf("Serve after an unanswered Ping: %v, want ErrTimeout", err)
	}
	if err := s.Notify(context.Background(), "", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Notify after an unanswered Ping: %v, want ErrClosed", err)
	}
}

// stuckSession returns an open session whose master has sent a Get and
// reads nothing more: over net.Pipe, Serve's answer blocks in Write, with
// the write lock held.
func stuckSession(t *testing.T, opts Options) (*Session, chan error) {
	t.Helper()
	s, m, serveErr := openSession(t, opts)
	m.send(&PDU{Header: Header{Type: TypeGet, SessionID: 42, PacketID: 1}, Ranges: []SearchRange{{Start: root}}})
	return s, serveErr
}

// within fails the test unless f returns within d ("returns at all": d is
// generous, timings are for benchmarks).
func within[T any](t *testing.T, d time.Duration, what string, f func() T) T {
	t.Helper()
	c := make(chan T, 1)
	go func() { c <- f() }()
	select {
	case v := <-c:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		panic("unreachable")
	}
}

// TestStuckMasterServe: a master that stops reading cannot block Serve in
// a Response's write for ever: the write times out and the session closes.
func TestStuckMasterServe(t *testing.T) {
	s, serveErr := stuckSession(t, Options{Timeout: 100 * time.Millisecond})
	err := within(t, 10*time.Second, "Serve", func() error { return <-serveErr })
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Serve: %v, want a write timeout", err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("session not closed after Serve returned")
	}
}

// TestStuckMasterPing: a Ping waiting behind a write the master does not
// take fails with the Timeout and closes the session.
func TestStuckMasterPing(t *testing.T) {
	s, serveErr := stuckSession(t, Options{Timeout: 200 * time.Millisecond})
	err := within(t, 10*time.Second, "Ping", func() error { return s.Ping(context.Background(), "") })
	if !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrClosed) {
		t.Errorf("Ping: %v, want ErrTimeout (or ErrClosed once Serve's write timed out)", err)
	}
	within(t, 10*time.Second, "Done", func() struct{} { return <-s.Done() })
	within(t, 10*time.Second, "Serve", func() error { return <-serveErr })
}

// TestStuckMasterContexts: with a Timeout far away, a request's context
// and Close's context still bound them.
func TestStuckMasterContexts(t *testing.T) {
	s, serveErr := stuckSession(t, Options{Timeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := within(t, 10*time.Second, "Notify", func() error { return s.Notify(ctx, "", nil) })
	if err == nil {
		t.Error("Notify through a stuck master succeeded")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// What matters is that Close returns despite the stuck master: at its
	// deadline (DeadlineExceeded) or, when the session was torn down first,
	// at once with nil (seen once in a -race run of the whole suite).
	err = within(t, 10*time.Second, "Close", func() error { return s.Close(ctx, ReasonShutdown) })
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v, want DeadlineExceeded or nil", err)
	}
	within(t, 10*time.Second, "Serve", func() error { return <-serveErr })
}

// TestSessionDrain: Drain waits for the Notify in flight to be answered,
// refuses new requests, and lets Close through afterwards.
func TestSessionDrain(t *testing.T) {
	s, m, serveErr := openSession(t, Options{})
	notified := make(chan error, 1)
	go func() { notified <- s.Notify(context.Background(), "", nil) }()
	p := m.recv()
	drained := make(chan error, 1)
	go func() { drained <- s.Drain(context.Background()) }()
	// Drain is under way or done: a new request is refused either way.
	for !s.drainingNow() {
		time.Sleep(time.Millisecond)
	}
	if err := s.Ping(context.Background(), ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping while draining: %v, want ErrClosed", err)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) with a Notify in flight", err)
	default:
	}
	m.answer(p, 42, NoError)
	if err := <-notified; err != nil {
		t.Errorf("Notify in flight while draining: %v", err)
	}
	if err := within(t, 10*time.Second, "Drain", func() error { return <-drained }); err != nil {
		t.Errorf("Drain: %v", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close(context.Background(), ReasonShutdown) }()
	if p := m.recv(); p.Type != TypeClose {
		t.Fatalf("after Drain got %s, want Close", p.Type)
	} else {
		m.answer(p, 42, NoError)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-serveErr; !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
}

// TestSessionDrainBounded: Drain gives up at its context's end when the
// master never answers.
func TestSessionDrainBounded(t *testing.T) {
	s, m, _ := openSession(t, Options{Timeout: time.Hour})
	go s.Notify(context.Background(), "", nil)
	m.recv()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := within(t, 10*time.Second, "Drain", func() error { return s.Drain(ctx) }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Drain: %v, want DeadlineExceeded", err)
	}
}

func (s *Session) drainingNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

func TestSessionClose(t *testing.T) {
	s, m, serveErr := openSession(t, Options{})
	errc := make(chan error, 1)
	go func() { errc <- s.Close(context.Background(), ReasonShutdown) }()
	p := m.recv()
	if p.Type != TypeClose || p.Reason != ReasonShutdown || p.SessionID != 42 {
		t.Errorf("Close = %+v", p)
	}
	m.answer(p, 42, NoError)
	if err := <-errc; err != nil {
		t.Error(err)
	}
	if err := <-serveErr; !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
}

func TestDialAddresses(t *testing.T) {
	if _, err := Dial(context.Background(), "udp:127.0.0.1:705"); err == nil {
		t.Error("udp: accepted")
	}
	dir := t.TempDir()
	ln, err := net.Listen("unix", dir+"/m")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	for _, a := range []string{"unix:" + dir + "/m", dir + "/m", "tcp:" + tcp.Addr().String()} {
		c, err := Dial(context.Background(), a)
		if err != nil {
			t.Errorf("%s: %v", a, err)
			continue
		}
		c.Close()
	}
}

// FuzzSession feeds arbitrary bytes to an open session: it must answer or
// close, never panic.
func FuzzSession(f *testing.F) {
	b, _ := AppendPDU(nil, &PDU{Header: Header{Version: 1, Type: TypeGetBulk, SessionID: 1}, NonRepeaters: 1, MaxRepetitions: 5,
		Ranges: []SearchRange{{Start: root}, {Start: OID{1, 3, 6, 1, 4, 1, 32473, 1}}}})
	f.Add(b)
	b, _ = AppendPDU(nil, &PDU{Header: Header{Version: 1, Type: TypeTestSet, SessionID: 1}, VarBinds: []VarBind{{Name: root, Type: Integer, Value: 1}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewSession(discardConn{}, testHandler{testTable()}, Options{MaxVarBinds: 64})
		s.id.Store(1)
		if len(in) >= HeaderSize {
			s.handle(in)
		}
	})
}

// discardConn is a net.Conn that swallows writes.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
