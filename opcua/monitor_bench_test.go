package opcua

import (
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// Benchmarks of the services without the network: figures, not assertions.
// The store holds one IBX of 20 cages × 10 cabinets × 4 circuits and 200
// assets × 10 tags (the peer benchmark's footprint, per IBX).

func benchServices(b *testing.B) (*services, *model.Store) {
	b.Helper()
	store := newStore(b, map[string]model.IBXStructure{"SV4": footprint("SV4", 20, 10, 4, 200, 10)})
	fill(b, store, t0, 1)
	s, err := newServices(store, Limits{MaxNodesPerRead: 10000, MaxNodesPerBrowse: 1000, MaxReferencesPerNode: 1000,
		MaxMonitoredItemsPerCall: 10000, MaxQueueSize: 10, MinPublishingInterval: 10 * time.Millisecond}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s, store
}

// BenchmarkBrowseCabinet: one Browse of a cabinet, all references both ways
// (its 4 circuits, 24 variables and properties, parent, type).
func BenchmarkBrowseCabinet(b *testing.B) {
	s, _ := benchServices(b)
	sess := newSession("bench")
	req := &ua.BrowseRequest{NodesToBrowse: []*ua.BrowseDescription{browseReq(strID("SV4/CABINET/SV4:01:000003:0005"),
		ua.BrowseDirectionBoth, nil, true)}}
	b.ReportAllocs()
	for b.Loop() {
		s.browse(uaserver.NewRequest(sess, nil, nil), req)
	}
}

// BenchmarkBrowse1000: one Browse request of 1000 cabinets' forward
// hierarchical references.
func BenchmarkBrowse1000(b *testing.B) {
	s, store := benchServices(b)
	sess := newSession("bench")
	req := &ua.BrowseRequest{}
	for _, l := range store.Snapshot().Structure().Locations() {
		if l.ID.Level == model.LevelCircuit && len(req.NodesToBrowse) < 1000 {
			req.NodesToBrowse = append(req.NodesToBrowse, browseReq(strID(locationIDString(l.ID)), ua.BrowseDirectionForward,
				ua.NewNumericNodeID(0, id.HierarchicalReferences), true))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.browse(uaserver.NewRequest(sess, nil, nil), req)
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1000, "ns/node")
}

// BenchmarkRead1000: one Read of 1000 Values (circuit KVA and Amps).
func BenchmarkRead1000(b *testing.B) {
	s, store := benchServices(b)
	req := &ua.ReadRequest{TimestampsToReturn: ua.TimestampsToReturnBoth}
	for _, l := range store.Snapshot().Structure().Locations() {
		if l.ID.Level == model.LevelCircuit && len(req.NodesToRead) < 1000 {
			for _, m := range []string{"#KVA", "#Amps"} {
				req.NodesToRead = append(req.NodesToRead, rv(strID(locationIDString(l.ID)+m), ua.AttributeIDValue))
			}
		}
	}
	req.NodesToRead = req.NodesToRead[:1000]
	b.ReportAllocs()
	for b.Loop() {
		s.read(req)
	}
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1000, "ns/value")
}

// BenchmarkFanOut: a model delta changing every tag, handed to 6000
// monitored items on one subscription (sampling and queueing included).
func BenchmarkFanOut(b *testing.B) {
	s, store := benchServices(b)
	c := newClient(b, s, "fanout")
	b.Cleanup(func() { s.SessionClosed(c.sess, true); s.wg.Wait() })
	sub := c.subscribe(3600000, 1000) // no publishing during the benchmark
	var specs []itemSpec
	for _, t := range store.Snapshot().Structure().Tags() {
		if t.Unit != "" && len(specs) < 6000 {
			specs = append(specs, itemSpec{id: "SV4/TAG/" + t.ID, handle: uint32(len(specs))})
		}
	}
	if len(specs) < 1800 {
		b.Fatalf("%d items", len(specs))
	}
	c.monitor(sub, specs...)
	s.monitor.mu.Lock()
	s.monitor.cancel() // the benchmark applies deltas itself
	s.monitor.cancel = nil
	s.monitor.mu.Unlock()
	b.ReportAllocs()
	var i int
	for b.Loop() {
		i++
		d, err := store.Update(func(tx *model.Tx) error {
			for _, t := range tx.Structure().Tags() {
				tx.SetTag(t.ID, model.TagReading{Value: model.Number(float64(i)), ReadingTime: t0.Add(time.Duration(i) * time.Second)}, time.Time{})
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		s.monitor.apply(d)
	}
	b.ReportMetric(float64(len(specs)), "items")
}

// BenchmarkViewBuild: the index built once per structure generation.
func BenchmarkViewBuild(b *testing.B) {
	_, store := benchServices(b)
	st := store.Snapshot().Structure()
	b.ReportAllocs()
	for b.Loop() {
		newView(st)
	}
	b.ReportMetric(float64(len(st.Locations())+len(st.Assets())+len(st.Tags())), "entities")
}
