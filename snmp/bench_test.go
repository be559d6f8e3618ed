package snmp

import (
	"sync"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// The benchmarks run over the large profile (synthetic: 20 IBXs, 2,000
// cages, 20,000 cabinets, 80,000 circuits, 10,000 assets, 100,000 tags).
// They report ns and allocations per varbind served, the hot path of a
// walk. test/bench-snmp.sh measures the same over UDP with snmpbulkwalk.
// With -short (test/run.sh's run-once pass) the footprint is one IBX.

var large struct {
	once  sync.Once
	store *model.Store
	err   error
}

func largeStore(b *testing.B) *model.Store {
	b.Helper()
	large.once.Do(func() {
		shape := modeltest.Large
		if testing.Short() {
			// test/run.sh runs every benchmark once with -short so none
			// rots: one IBX of the same make-up (a twentieth) is enough.
			shape.IBXs = 1
		}
		large.store, large.err = modeltest.NewStore(shape, fixtureTime, func(tx *model.Tx) error {
			return modeltest.FillVaried(tx, fixtureTime, 0)
		})
	})
	if large.err != nil {
		b.Fatal(large.err)
	}
	return large.store
}

// BenchmarkViewNext walks the whole MIB with View.Next (what GETNEXT,
// GETBULK and the AgentX subagent do per varbind), one varbind per op.
func BenchmarkViewNext(b *testing.B) {
	mib, _ := OpenMIB("", nil)
	v := mib.View(largeStore(b).Snapshot())
	oid := rootOID
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		vb, ok := v.Next(oid, false, nil)
		if !ok {
			vb, _ = v.Next(rootOID, false, nil)
		}
		oid = vb.OID
	}
}

// bulkRequests encodes the GETBULK requests (max-repetitions 50) of a walk
// of the whole MIB, as a manager would send them.
func bulkRequests(b *testing.B, a *Agent, encode func(start OID) []byte) ([][]byte, int) {
	b.Helper()
	v := a.mib.View(a.store.Snapshot())
	var reqs [][]byte
	n := 0
	for oid := rootOID; ; {
		reqs = append(reqs, encode(oid))
		var vb Varbind
		for i := 0; i < 50; i++ {
			var ok bool
			if vb, ok = v.Next(oid, false, rootOID.SubtreeEnd()); !ok {
				return reqs, n
			}
			oid = vb.OID
			n++
		}
	}
}

// benchmarkBulk serves the requests round-robin, each from a scratch copy
// (handle zeroes a v3 MAC in place), and reports the time per varbind
// served (the agent's own count: a response cut by its size bound serves
// fewer than 50). A -benchtime of 100000x or more walks the whole MIB.
func benchmarkBulk(b *testing.B, a *Agent, reqs [][]byte) {
	var scratch, out []byte
	i := 0
	served0 := a.stats.varbinds.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		scratch = append(scratch[:0], reqs[i]...)
		// Into a reused buffer, as each of the agent's sockets answers.
		if out = a.respond(out[:0], scratch, testFrom); out == nil {
			b.Fatal("no response")
		}
		if i++; i == len(reqs) {
			i = 0
		}
	}
	cpu := processCPU(b) - cpu0
	served := a.stats.varbinds.Load() - served0
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(served), "ns/varbind")
	// The process's CPU time (user+sys, every thread: the GC's workers
	// too), which a loaded machine distorts less than the wall time.
	if cpu0 >= 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(served), "cpu-ns/varbind")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/op")
}

// BenchmarkGetBulkV2c serves v2c GETBULK packets (max-repetitions 50),
// decoding, lookup and encoding included, with v2c_max_bulk_size raised
// as test/bench-snmp.sh and test/bench-scale.sh raise it (the 1472-octet
// default cuts each answer at about 25 varbinds).
func BenchmarkGetBulkV2c(b *testing.B) {
	a, err := NewAgent(Config{Listen: "off", Communities: []Community{{Name: "public"}}, V2cMaxBulkSize: 65000}, largeStore(b), Deps{})
	if err != nil {
		b.Fatal(err)
	}
	reqs, n := bulkRequests(b, a, func(start OID) []byte {
		return v2cRequest(b, "public", gosnmp.GetBulkRequest, 0, 50, start.String())
	})
	b.Logf("whole MIB: %d varbinds in %d requests", n, len(reqs))
	benchmarkBulk(b, a, reqs)
}

// BenchmarkGetBulkV3AuthPriv is BenchmarkGetBulkV2c over SNMPv3 authPriv
// (SHA-256, AES-128).
func BenchmarkGetBulkV3AuthPriv(b *testing.B) {
	u := testUsers[0]
	a, err := NewAgent(Config{Listen: "off", Users: []User{u}}, largeStore(b), Deps{})
	if err != nil {
		b.Fatal(err)
	}
	c := newV3Client(b, u, a.engine.ID(), a.engine.Boots(), a.engine.Time())
	reqs, n := bulkRequests(b, a, func(start OID) []byte {
		p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgID: 1, MsgMaxSize: 65507, MsgFlags: gosnmp.AuthPriv | gosnmp.Reportable,
			SecurityModel: gosnmp.UserSecurityModel, SecurityParameters: c.sp.Copy(), ContextEngineID: string(a.engine.ID()),
			PDUType: gosnmp.GetBulkRequest, RequestID: 1, MaxRepetitions: 50, Variables: []gosnmp.SnmpPDU{{Name: start.String(), Type: gosnmp.Null}}}
		p.SecurityParameters.InitPacket(p)
		raw, err := p.MarshalMsg()
		if err != nil {
			b.Fatal(err)
		}
		return raw
	})
	b.Logf("whole MIB: %d varbinds in %d requests", n, len(reqs))
	benchmarkBulk(b, a, reqs)
}

// BenchmarkTreeBuild builds the tree of the large structure (what a
// structure change costs; a value change costs nothing).
func BenchmarkTreeBuild(b *testing.B) {
	st := largeStore(b).Snapshot().Structure()
	mib, _ := OpenMIB("", nil)
	b.ReportAllocs()
	for b.Loop() {
		mib.build(st)
	}
}
