package snmp

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/svgateway/svgateway/snmp/agentx"
)

// BenchmarkSubagentGetNext is the subagent's side of a walk through an
// AgentX master, over the large profile: GetNext PDUs of one SearchRange
// each (the range end the registered subtree's end), as snmpd 5.9 sends
// one per GETBULK repetition, round-tripped over a unix socket by a
// minimal master that only writes the PDU and reads the answer. One PDU
// (one varbind) per op: compare with the ~55-65 µs per round trip snmpd's
// master costs itself.
func BenchmarkSubagentGetNext(b *testing.B) {
	store := largeStore(b)
	mib, _ := OpenMIB("", nil)
	s := &Subagent{cfg: AgentXConfig{Timeout: 5 * time.Second}, maxVarbinds: 1024, store: store, mib: mib}

	// The PDUs of a walk of the whole MIB.
	end := agentx.OID(rootOID.SubtreeEnd())
	v := mib.View(store.Snapshot())
	var pdus [][]byte
	for oid := rootOID; len(pdus) < 300_000; {
		p := &agentx.PDU{Header: agentx.Header{Version: 1, Type: agentx.TypeGetNext, SessionID: 1, PacketID: uint32(len(pdus))},
			Ranges: []agentx.SearchRange{{Start: agentx.OID(oid), End: end}}}
		buf, err := agentx.AppendPDU(nil, p)
		if err != nil {
			b.Fatal(err)
		}
		pdus = append(pdus, buf)
		vb, ok := v.Next(oid, false, nil)
		if !ok {
			break
		}
		oid = vb.OID
	}

	ln, err := net.Listen("unix", filepath.Join(b.TempDir(), "master"))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	conn, err := agentx.Dial(context.Background(), "unix:"+ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	master := <-accepted
	defer master.Close()
	sess := agentx.NewSession(conn, &subagentHandler{s: s}, agentx.Options{Timeout: 5 * time.Second})
	go sess.Serve()
	defer func() {
		// The minimal master never answers the Close: do not wait the
		// session's 5 s timeout for it (nor count it, see StopTimer).
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		sess.Close(ctx, agentx.ReasonShutdown)
	}()

	hdr := make([]byte, agentx.HeaderSize)
	payload := make([]byte, 64<<10)
	read := func() agentx.Header {
		if _, err := io.ReadFull(master, hdr); err != nil {
			b.Fatal(err)
		}
		h, err := agentx.DecodeHeader(hdr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(master, payload[:h.PayloadLength]); err != nil {
			b.Fatal(err)
		}
		return h
	}
	// Open: the master assigns session 1.
	opened := make(chan error, 1)
	go func() { opened <- sess.Open(context.Background(), 0, agentx.OID(rootOID), "bench") }()
	h := read()
	resp, _ := agentx.AppendPDU(nil, &agentx.PDU{Header: agentx.Header{Version: 1, Type: agentx.TypeResponse, SessionID: 1, PacketID: h.PacketID}})
	master.Write(resp)
	if err := <-opened; err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := master.Write(pdus[i%len(pdus)]); err != nil {
			b.Fatal(err)
		}
		if h := read(); h.Type != agentx.TypeResponse {
			b.Fatalf("got %s", h.Type)
		}
	}
	b.StopTimer()
}
