package opcua

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// Test helpers: a store filled with a synthetic footprint, and requests
// served through Serve with their responses captured (and checked to
// encode, as the session layer will encode them).

func testLimits() Limits {
	return Limits{
		MaxNodesPerRead: 1000, MaxNodesPerBrowse: 100, MaxNodesPerTranslateBrowsePaths: 100,
		MaxMonitoredItemsPerCall: 10000, MaxNodesPerRegisterNodes: 100, MaxBrowseContinuationPoints: 10,
		MaxReferencesPerNode: 1000, MaxSubscriptionsPerSession: 10, MaxMonitoredItemsPerSubscription: 20000,
		MinPublishingInterval: 10 * time.Millisecond, MinSamplingInterval: 0, MaxQueueSize: 100,
		MaxNotificationsPerPublish: 0, MaxPublishRequestsPerSession: 10,
	}
}

// footprint builds a synthetic IBX: a zone, cages × cabinets × circuits, and
// assets with tags (asset k affects cage k%cages; tag 0 of each asset has
// no unit).
func footprint(ibx string, cages, cabinets, circuits, assets, tags int) model.IBXStructure {
	return modeltest.Footprint(ibx, modeltest.Shape{Cages: cages, Cabinets: cabinets, Circuits: circuits, Assets: assets, Tags: tags,
		Templates: []string{"UPS", "Generator"}, TextTags: 1})
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fill sets every reading of the store's structure, at reading time at.
func fill(t testing.TB, store *model.Store, at time.Time, value float64) {
	t.Helper()
	if _, err := store.Update(func(tx *model.Tx) error { return modeltest.FillUniform(tx, at, value) }); err != nil {
		t.Fatal(err)
	}
}

func newStore(t testing.TB, parts map[string]model.IBXStructure) *model.Store {
	t.Helper()
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Update(func(tx *model.Tx) error {
		if w := tx.SetStructure(parts); len(w) > 0 {
			return fmt.Errorf("structure warnings: %v", w)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return store
}

// newTestServices returns services over a store with IBX SV4 (2 cages × 2
// cabinets × 2 circuits, 3 assets × 3 tags), all readings set.
func newTestServices(t testing.TB, limits Limits) (*services, *model.Store) {
	t.Helper()
	store := newStore(t, map[string]model.IBXStructure{"SV4": footprint("SV4", 2, 2, 2, 3, 3)})
	fill(t, store, t0, 10)
	s, err := newServices(store, limits, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.setInfo(func() uaserver.ServerInfo {
		return uaserver.ServerInfo{ApplicationURI: "urn:test:svgateway", ProductURI: "https://github.com/svgateway/svgateway", StartTime: t0,
			BuildInfo: ua.BuildInfo{ProductName: "svgateway", ManufacturerName: "svgateway", SoftwareVersion: "test"}}
	})
	t.Cleanup(func() {
		s.mu.Lock()
		var sessions []*uaserver.Session
		for sess := range s.sessions {
			sessions = append(sessions, sess)
		}
		s.mu.Unlock()
		for _, sess := range sessions {
			s.SessionClosed(sess, true)
		}
		s.wg.Wait()
	})
	return s, store
}

func newSession(name string) *uaserver.Session {
	return &uaserver.Session{ID: ua.NewNumericNodeID(1, 1), Name: name, User: "anonymous"}
}

// checkEncodes encodes a response as the session layer will, and decodes it.
func checkEncodes(t testing.TB, resp ua.Response) {
	t.Helper()
	b, err := ua.Encode(resp)
	if err != nil {
		t.Fatalf("%T does not encode: %v", resp, err)
	}
	back := reflect.New(reflect.TypeOf(resp).Elem()).Interface()
	if _, err := ua.Decode(b, back); err != nil {
		t.Fatalf("%T does not decode: %v", resp, err)
	}
}

// serve sends a request and returns the response, which must come at once.
func serve(t testing.TB, s *services, sess *uaserver.Session, body ua.Request) ua.Response {
	t.Helper()
	ch := make(chan ua.Response, 1)
	s.Serve(uaserver.NewRequest(sess, body, func(r ua.Response) error { ch <- r; return nil }))
	select {
	case r := <-ch:
		checkEncodes(t, r)
		return r
	default:
		t.Fatalf("%T: no response", body)
		return nil
	}
}

// serviceResult returns a response's service result.
func serviceResult(r ua.Response) ua.StatusCode { return r.Header().ServiceResult }

func strID(s string) *ua.NodeID { return ua.NewStringNodeID(nsInstances, s) }

func read(t testing.TB, s *services, sess *uaserver.Session, ts ua.TimestampsToReturn, ids ...*ua.ReadValueID) []*ua.DataValue {
	t.Helper()
	r := serve(t, s, sess, &ua.ReadRequest{NodesToRead: ids, TimestampsToReturn: ts})
	resp, ok := r.(*ua.ReadResponse)
	if !ok {
		t.Fatalf("Read: %T %v", r, serviceResult(r))
	}
	return resp.Results
}

func rv(n *ua.NodeID, attr ua.AttributeID) *ua.ReadValueID {
	return &ua.ReadValueID{NodeID: n, AttributeID: attr}
}

func value(t testing.TB, s *services, n *ua.NodeID) *ua.DataValue {
	t.Helper()
	return read(t, s, newSession("r"), ua.TimestampsToReturnBoth, rv(n, ua.AttributeIDValue))[0]
}

var hierarchical = ua.NewNumericNodeID(0, id.HierarchicalReferences)

func browseReq(n *ua.NodeID, dir ua.BrowseDirection, rt *ua.NodeID, subtypes bool) *ua.BrowseDescription {
	if rt == nil {
		rt = ua.NewTwoByteNodeID(0)
	}
	return &ua.BrowseDescription{NodeID: n, BrowseDirection: dir, ReferenceTypeID: rt, IncludeSubtypes: subtypes,
		ResultMask: uint32(ua.BrowseResultMaskAll)}
}

func browse(t testing.TB, s *services, sess *uaserver.Session, max uint32, ds ...*ua.BrowseDescription) []*ua.BrowseResult {
	t.Helper()
	r := serve(t, s, sess, &ua.BrowseRequest{View: &ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0)},
		RequestedMaxReferencesPerNode: max, NodesToBrowse: ds})
	resp, ok := r.(*ua.BrowseResponse)
	if !ok {
		t.Fatalf("Browse: %T %v", r, serviceResult(r))
	}
	return resp.Results
}

// children returns the BrowseNames → NodeIds of a node's forward
// hierarchical references.
func children(t testing.TB, s *services, n *ua.NodeID) map[string]*ua.ReferenceDescription {
	t.Helper()
	res := browse(t, s, newSession("b"), 0, browseReq(n, ua.BrowseDirectionForward, hierarchical, true))[0]
	if res.StatusCode != ua.StatusGood {
		t.Fatalf("Browse %v: %v", n, res.StatusCode)
	}
	out := map[string]*ua.ReferenceDescription{}
	for _, r := range res.References {
		out[r.BrowseName.Name] = r
	}
	return out
}
