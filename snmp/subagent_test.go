package snmp

// Tests of the AgentX subagent under a real net-snmp snmpd acting as master
// (internal/netsnmptest starts it on loopback with a private
// configuration): what net-snmp's tools read through snmpd must be exactly
// what they read from the standalone agent, over v2c and v3 authPriv,
// through the unix and the TCP socket, and again after snmpd restarts.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp/agentx"
)

// snmpdUser is the v3 user of the test snmpd (net-snmp's protocol names).
var snmpdUser = netsnmptest.User{Name: "axuser", Auth: "SHA-256", AuthPass: authPass, Priv: "AES", PrivPass: privPass}

// startSubagent runs a subagent until the test ends (or stop is called)
// and waits until it is registered.
func startSubagent(t *testing.T, ax AgentXConfig, store *model.Store, deps Deps) (*Subagent, func()) {
	t.Helper()
	ax.Enabled = true
	s, err := NewSubagent(Config{Listen: "off", AgentX: ax}, store, deps)
	if err != nil {
		t.Fatal(err)
	}
	stop := svctest.Start(t, s.Run)
	waitConnected(t, s, true)
	return s, stop
}

// waitConnected waits (bounded) until the subagent is registered, or not.
func waitConnected(t *testing.T, s *Subagent, want bool) {
	t.Helper()
	for i := 0; s.Connected() != want; i++ {
		if i == 300 {
			t.Fatalf("subagent connected = %v after 30s, want %v", s.Connected(), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// toolRun runs a net-snmp tool and fails the test on any error output.
func toolRun(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := netsnmptest.Run(t, tool, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareWalks walks the MIB's subtree through snmpd and from the
// standalone agent with the same tool and options: the outputs must be
// identical and non-trivial, and every value must be the model's.
func compareWalks(t *testing.T, a *Agent, agentAddr string, d *netsnmptest.Snmpd) {
	t.Helper()
	root := "." + rootOID.String()
	for _, c := range []struct {
		name, tool   string
		agent, snmpd []string
	}{
		{"v2c bulkwalk", "snmpbulkwalk", append(v2cArgs(), "-Cr50"), []string{"-v2c", "-c", testCommunity, "-Cr50"}},
		{"v2c walk", "snmpwalk", v2cArgs(), []string{"-v2c", "-c", testCommunity}},
		{"v3 authPriv bulkwalk", "snmpbulkwalk", append(v3Args(testUsers[0]), "-Cr10"), append(snmpdUser.Args(), "-Cr10")},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := append(withMIB(t), "-On", "-Oe", "-OU")
			direct := toolRun(t, c.tool, append(append(append([]string{}, opts...), c.agent...), agentAddr, root)...)
			through := toolRun(t, c.tool, append(append(append([]string{}, opts...), c.snmpd...), d.Addr, root)...)
			if through != direct {
				t.Errorf("walk through snmpd differs from the standalone agent's:\nsnmpd (%d lines):\n%.2000s\nagent (%d lines):\n%.2000s",
					len(lines(through)), through, len(lines(direct)), direct)
			}
			got := parseToolOutput(t, through)
			v := a.mib.View(a.store.Snapshot())
			want := walk(t, v)
			if len(got) != len(want) || len(want) < 100 {
				t.Fatalf("walked %d instances through snmpd, the view has %d", len(got), len(want))
			}
			for i, g := range got {
				typ, val := netsnmpText(t, want[i])
				if !g.oid.Equal(want[i].OID) || g.typ != typ || g.value != val {
					t.Fatalf("instance %d: snmpd printed %s %s %q, the model holds %s %s %q", i, g.oid, g.typ, g.value, want[i].OID, typ, val)
				}
			}
		})
	}
}

func TestSubagentThroughSnmpd(t *testing.T) {
	d := netsnmptest.StartSnmpd(t, netsnmptest.SnmpdOptions{Community: testCommunity, RWCommunity: "private-rw", Users: []netsnmptest.User{snmpdUser}})
	store := newFixtureStore(t, smallFootprint())
	mib, err := OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, agentAddr := startAgent(t, testConfig(), store, Deps{MIB: mib})
	for _, socket := range []string{d.Socket, d.TCPSocket} {
		t.Run(strings.SplitN(socket, ":", 2)[0], func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			s, stop := startSubagent(t, AgentXConfig{Socket: socket}, store, Deps{MIB: mib, Registerer: reg})
			compareWalks(t, a, agentAddr, d)

			// GET through snmpd: an instance, a missing row, a missing object.
			oid := "." + svgCageLabel.OID.Append(0).String()
			walked := parseToolOutput(t, toolRun(t, "snmpgetnext", "-v2c", "-c", testCommunity, "-On", d.Addr, "."+svgCageLabel.OID.String()))
			out := toolRun(t, "snmpget", "-v2c", "-c", testCommunity, "-On", d.Addr, "."+walked[0].oid.String(), oid, "."+rootOID.Append(1, 99, 0).String())
			got := parseToolOutput(t, out)
			if len(got) != 3 || got[0].isException || !strings.HasPrefix(got[1].typ, "No Such Instance") || !strings.HasPrefix(got[2].typ, "No Such Object") {
				t.Errorf("GET through snmpd:\n%s", out)
			}

			// SET: a read-write community reaches the subagent, which refuses
			// (notWritable); a read-only one is refused by snmpd (noAccess).
			set := func(community string) string {
				_, err := netsnmptest.Run(t, "snmpset", "-v2c", "-c", community, "-On", "-t", "3", "-r", "0", d.Addr, "."+walked[0].oid.String(), "s", "x")
				if err == nil {
					t.Fatalf("SET with %s succeeded", community)
				}
				return err.Error()
			}
			testSets := s.counters.Received(agentx.TypeTestSet)
			if msg := set("private-rw"); !strings.Contains(msg, "notWritable") {
				t.Errorf("SET through a read-write community: %s; want notWritable", msg)
			}
			if s.counters.Received(agentx.TypeTestSet) != testSets+1 {
				t.Errorf("the subagent saw %d TestSets, want 1", s.counters.Received(agentx.TypeTestSet)-testSets)
			}
			if msg := set(testCommunity); !strings.Contains(msg, "noAccess") {
				t.Errorf("SET through a read-only community: %s; want noAccess", msg)
			}

			// snmpd's sysORTable lists SVGATEWAY-MIB (AddAgentCaps).
			if out := toolRun(t, "snmpwalk", "-v2c", "-c", testCommunity, "-On", d.Addr, ".1.3.6.1.2.1.1.9.1.2"); !strings.Contains(out, "OID: ."+rootOID.String()+"\n") {
				t.Errorf("snmpd's sysORID column does not list %s:\n%s", rootOID, out)
			}

			// A wrong community gets no answer from snmpd at all.
			if out, err := netsnmptest.Run(t, "snmpget", "-v2c", "-c", "wrong", "-t", "1", "-r", "0", d.Addr, oid); err == nil || !strings.Contains(err.Error(), "Timeout") {
				t.Errorf("wrong community: %q, %v; want a timeout", out, err)
			}

			if n := gaugeValue(t, reg, "svgateway_snmp_agentx_connected"); n != 1 {
				t.Errorf("svgateway_snmp_agentx_connected = %v", n)
			}
			if s.counters.Received(agentx.TypeGetNext) < 100 || s.counters.Sent(agentx.TypeResponse) < s.counters.Received(agentx.TypeGetNext) {
				t.Errorf("counted %d GetNext, %d Responses", s.counters.Received(agentx.TypeGetNext), s.counters.Sent(agentx.TypeResponse))
			}
			stop()
			if s.Connected() {
				t.Error("still connected after Run returned")
			}
		})
	}
}

// gaugeValue returns the value of an unlabelled gauge of reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestSubagentReconnects restarts snmpd twice under a registered subagent,
// once killed (no goodbye) and once stopped: each time the subagent
// registers again on the same socket and walks work again.
func TestSubagentReconnects(t *testing.T) {
	d := netsnmptest.StartSnmpd(t, netsnmptest.SnmpdOptions{Community: testCommunity, Users: []netsnmptest.User{snmpdUser}})
	store := newFixtureStore(t, smallFootprint())
	mib, err := OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, agentAddr := startAgent(t, testConfig(), store, Deps{MIB: mib})
	s, _ := startSubagent(t, AgentXConfig{Socket: d.Socket, PingInterval: time.Second}, store, Deps{MIB: mib})
	for _, restart := range []struct {
		name string
		stop func()
	}{{"killed", d.Kill}, {"stopped", d.Stop}} {
		t.Run(restart.name, func(t *testing.T) {
			before := s.reconnects.Load()
			restart.stop()
			waitConnected(t, s, false)
			d.Start()
			waitConnected(t, s, true)
			if s.reconnects.Load() == before {
				t.Error("no reconnect counted")
			}
			compareWalks(t, a, agentAddr, d)
		})
	}
}

// fakeMasterAX is a minimal AgentX master on a unix socket, for what snmpd
// cannot be made to do on purpose: stop reading, or hold an answer.
type fakeMasterAX struct {
	t    *testing.T
	conn net.Conn
}

// startFakeMaster runs a subagent against a fake master until the test
// ends (or stop is called) and returns them once the subagent registered.
func startFakeMaster(t *testing.T, ax AgentXConfig) (*Subagent, *fakeMasterAX, func()) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "master"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	mib, err := OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	ax.Enabled, ax.Socket = true, "unix:"+ln.Addr().String()
	s, err := NewSubagent(Config{Listen: "off", AgentX: ax}, newFixtureStore(t, smallFootprint()), Deps{MIB: mib})
	if err != nil {
		t.Fatal(err)
	}
	stop := svctest.Start(t, s.Run)
	var m *fakeMasterAX
	select {
	case c := <-accepted:
		m = &fakeMasterAX{t: t, conn: c}
		t.Cleanup(func() { c.Close() })
	case <-time.After(10 * time.Second):
		t.Fatal("the subagent did not connect")
	}
	for _, want := range []agentx.PDUType{agentx.TypeOpen, agentx.TypeRegister, agentx.TypeAddAgentCaps} {
		p := m.recv()
		if p.Type != want {
			t.Fatalf("got %s, want %s", p.Type, want)
		}
		m.answer(p)
	}
	waitConnected(t, s, true)
	return s, m, stop
}

func (m *fakeMasterAX) send(p *agentx.PDU) error {
	p.Version, p.Flags = 1, p.Flags|agentx.FlagNetworkByteOrder
	b, err := agentx.AppendPDU(nil, p)
	if err != nil {
		m.t.Fatal(err)
	}
	_, err = m.conn.Write(b)
	return err
}

// answer acknowledges a request of the subagent (session 7).
func (m *fakeMasterAX) answer(req *agentx.PDU) {
	m.t.Helper()
	m.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := m.send(&agentx.PDU{Header: agentx.Header{Type: agentx.TypeResponse, SessionID: 7, TransactionID: req.TransactionID, PacketID: req.PacketID}}); err != nil {
		m.t.Fatal(err)
	}
}

// recvWithin reads the next PDU, or returns the read error (a timeout
// after d).
func (m *fakeMasterAX) recvWithin(d time.Duration) (*agentx.PDU, error) {
	m.conn.SetReadDeadline(time.Now().Add(d))
	hdr := make([]byte, agentx.HeaderSize)
	if _, err := io.ReadFull(m.conn, hdr); err != nil {
		return nil, err
	}
	h, err := agentx.DecodeHeader(hdr)
	if err != nil {
		return nil, err
	}
	b := append(hdr, make([]byte, h.PayloadLength)...)
	if _, err := io.ReadFull(m.conn, b[agentx.HeaderSize:]); err != nil {
		return nil, err
	}
	p := &agentx.PDU{}
	return p, p.Decode(b)
}

func (m *fakeMasterAX) recv() *agentx.PDU {
	m.t.Helper()
	p, err := m.recvWithin(10 * time.Second)
	if err != nil {
		m.t.Fatalf("master reading: %v", err)
	}
	return p
}

// testNotification is a notification of the MIB, for Notify.
func testNotification() NotificationVarbinds {
	return NotificationVarbinds{Notification: svgHeartbeat}
}

// TestSubagentStuckMaster: a master that stops reading, with the
// subagent's answers filling the socket, and a timeout far away: Notify
// still ends with its context, and Run returns soon after its cancel
// (svctest bounds it), where it used to hang for ever.
func TestSubagentStuckMaster(t *testing.T) {
	s, m, stop := startFakeMaster(t, AgentXConfig{Timeout: time.Minute, PingInterval: time.Hour})
	// Flood GetBulks without reading the answers until the subagent stops
	// reading them too: it is then blocked writing an answer.
	flooded := make(chan error, 1)
	go func() {
		for i := uint32(1); ; i++ {
			m.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			err := m.send(&agentx.PDU{Header: agentx.Header{Type: agentx.TypeGetBulk, SessionID: 7, PacketID: i}, MaxRepetitions: 200,
				Ranges: []agentx.SearchRange{{Start: agentx.OID(RootOID())}}})
			if err != nil {
				flooded <- err
				return
			}
		}
	}()
	select {
	case err := <-flooded:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("flooding the subagent: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the subagent kept reading")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	notified := make(chan error, 1)
	go func() { notified <- s.Notify(ctx, testNotification()) }()
	select {
	case err := <-notified:
		if err == nil {
			t.Error("Notify through a stuck master succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Error("Notify through a stuck master did not return")
	}
	stop()
}

// TestSubagentShutdownWaitsForNotify: at shutdown the Notify in flight
// gets its answer before the subagent sends Close, so it is not reported
// failed (and sent again after restart) while the master forwards it.
func TestSubagentShutdownWaitsForNotify(t *testing.T) {
	s, m, stop := startFakeMaster(t, AgentXConfig{Timeout: 5 * time.Second, PingInterval: time.Hour})
	notified := make(chan error, 1)
	go func() { notified <- s.Notify(context.Background(), testNotification()) }()
	p := m.recv()
	if p.Type != agentx.TypeNotify {
		t.Fatalf("got %s, want Notify", p.Type)
	}
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	// Nothing (no Close) while the Notify is unanswered: the subagent
	// waits for it up to min(timeout, maxShutdownWait).
	if p, err := m.recvWithin(300 * time.Millisecond); err == nil {
		t.Fatalf("the subagent sent %s with a Notify in flight", p.Type)
	} else if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal(err)
	}
	m.answer(p)
	if err := <-notified; err != nil {
		t.Errorf("Notify in flight at shutdown: %v", err)
	}
	if p := m.recv(); p.Type != agentx.TypeClose || p.Reason != agentx.ReasonShutdown {
		t.Errorf("after the Notify got %s (%s), want Close(shutdown)", p.Type, p.Reason)
	} else {
		m.answer(p)
	}
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Error("Run did not return after Close")
	}
}
