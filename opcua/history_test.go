package opcua

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// historyServices returns test services with a history store holding, for
// the first tag with a unit, one sample a minute for 1000 minutes from
// h0 (value = the minute), and the node id of that tag.
var h0 = t0.Add(-24 * time.Hour)

func historyServices(t *testing.T, limits Limits) (*services, *ua.NodeID, string) {
	t.Helper()
	if limits.MaxNodesPerHistoryReadData == 0 {
		limits.MaxNodesPerHistoryReadData = 100
	}
	s, store := newTestServices(t, limits)
	hs, err := history.Open(history.Options{Path: filepath.Join(t.TempDir(), history.FileName), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hs.Close() })
	s.hist = hs
	tag := store.Snapshot().Structure().Tag(1)
	if tag.Unit == "" {
		t.Fatalf("tag %s has no unit", tag.ID)
	}
	samples := make([]history.Sample, 1000)
	for i := range samples {
		samples[i] = history.Sample{Time: h0.Add(time.Duration(i) * time.Minute), Value: model.Number(float64(i)), Quality: model.QualityGood}
	}
	samples[7].Quality = model.QualityStale
	if err := hs.Append(map[string][]history.Sample{history.TagKey(tag.ID): samples}); err != nil {
		t.Fatal(err)
	}
	return s, strID("SV4/TAG/" + tag.ID), tag.ID
}

func raw(start, end time.Time, num uint32, bounds bool) *ua.ExtensionObject {
	return ua.NewExtensionObject(&ua.ReadRawModifiedDetails{StartTime: start, EndTime: end, NumValuesPerNode: num, ReturnBounds: bounds})
}

func minute(m int) time.Time { return h0.Add(time.Duration(m) * time.Minute) }

func readHistory(t *testing.T, s *services, sess string, details *ua.ExtensionObject, nodes ...*ua.HistoryReadValueID) *ua.HistoryReadResponse {
	t.Helper()
	r := serve(t, s, newSessionNamed(sess), &ua.HistoryReadRequest{HistoryReadDetails: details, TimestampsToReturn: ua.TimestampsToReturnBoth, NodesToRead: nodes})
	resp, ok := r.(*ua.HistoryReadResponse)
	if !ok {
		t.Fatalf("HistoryRead: %v", serviceResult(r))
	}
	return resp
}

var (
	namedMu sync.Mutex
	named   = map[string]*uaserver.Session{}
)

// newSessionNamed returns the same session for the same name, so
// continuation points carry over between calls of one test.
func newSessionNamed(name string) *uaserver.Session {
	namedMu.Lock()
	defer namedMu.Unlock()
	if named[name] == nil {
		named[name] = newSession(name)
	}
	return named[name]
}

// values renders a result's values as "minute:value" (a bound not found as
// "nf@minute").
func values(t *testing.T, res *ua.HistoryReadResult) []string {
	t.Helper()
	if res.HistoryData == nil {
		return nil
	}
	hd, ok := res.HistoryData.Value.(*ua.HistoryData)
	if !ok {
		t.Fatalf("history data is %T", res.HistoryData.Value)
	}
	var out []string
	for _, dv := range hd.DataValues {
		m := int(dv.SourceTimestamp.Sub(h0) / time.Minute)
		switch {
		case dv.Status == ua.StatusBadBoundNotFound:
			out = append(out, fmt.Sprint("nf@", m))
		case dv.Value == nil:
			out = append(out, fmt.Sprint(m, ":null"))
		default:
			out = append(out, fmt.Sprint(m, ":", dv.Value.Value()))
		}
	}
	return out
}

func TestHistoryReadRaw(t *testing.T) {
	s, tag, _ := historyServices(t, testLimits())
	never := time.Time{}
	tests := []struct {
		name    string
		details *ua.ExtensionObject
		want    string
	}{
		{"forward, end excluded", raw(minute(2), minute(5), 0, false), "[2:2 3:3 4:4]"},
		{"reverse, end excluded", raw(minute(5), minute(2), 0, false), "[5:5 4:4 3:3]"},
		{"equal times: one value", raw(minute(5), minute(5), 0, false), "[5:5]"},
		{"between samples", raw(minute(2).Add(time.Second), minute(3).Add(time.Second), 0, false), "[3:3]"},
		{"start and count", raw(minute(990), never, 20, false), "[990:990 991:991 992:992 993:993 994:994 995:995 996:996 997:997 998:998 999:999]"},
		{"end and count: newest first", raw(never, minute(3), 5, false), "[2:2 1:1 0:0]"},
		{"bounds inside", raw(minute(2).Add(time.Second), minute(4).Add(time.Second), 0, true), "[2:2 3:3 4:4 5:5]"},
		{"bounds at samples", raw(minute(2), minute(4), 0, true), "[2:2 3:3 4:4]"},
		{"bounds outside the data", raw(minute(-10), minute(2), 0, true), "[nf@-10 0:0 1:1 2:2]"},
		{"bounds past the end", raw(minute(998), minute(1010), 0, true), "[998:998 999:999 nf@1010]"},
		{"reverse bounds", raw(minute(4).Add(time.Second), minute(2).Add(time.Second), 0, true), "[5:5 4:4 3:3 2:2]"},
		{"stale sample keeps its status", raw(minute(7), minute(8), 0, false), "[7:7]"},
		{"outside the data: no data", raw(minute(2000), minute(3000), 0, false), "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readHistory(t, s, "raw", tt.details, &ua.HistoryReadValueID{NodeID: tag}).Results[0]
			if len(res.ContinuationPoint) > 0 {
				t.Errorf("continuation point for a short read")
			}
			if got := fmt.Sprint(values(t, res)); got != tt.want {
				t.Errorf("got %s (%v), want %s", got, res.StatusCode, tt.want)
			}
		})
	}
	res := readHistory(t, s, "raw", raw(minute(7), minute(8), 0, false), &ua.HistoryReadValueID{NodeID: tag}).Results[0]
	if dv := res.HistoryData.Value.(*ua.HistoryData).DataValues[0]; dv.Status != ua.StatusUncertainLastUsableValue || !dv.ServerTimestamp.IsZero() {
		t.Errorf("stale sample: status %v, server timestamp %v", dv.Status, dv.ServerTimestamp)
	} else if dv.Value == nil || dv.Value.Type() != ua.TypeIDDouble {
		t.Errorf("a tag with a unit reads history as Double (its AnalogTagType): %v", dv.Value)
	}
	if res := readHistory(t, s, "raw", raw(minute(2000), minute(3000), 0, false), &ua.HistoryReadValueID{NodeID: tag}).Results[0]; res.StatusCode != ua.StatusGoodNoData {
		t.Errorf("no data: %v", res.StatusCode)
	}
}

// TestHistoryReadContinuation pages through 1000 values, forward and
// backward, with numValuesPerNode and with the server's own limit.
func TestHistoryReadContinuation(t *testing.T) {
	limits := testLimits()
	limits.MaxHistoryValuesPerNode = 300
	limits.MaxHistoryContinuationPoints = 2
	s, tag, _ := historyServices(t, limits)
	for _, tt := range []struct {
		name       string
		details    *ua.ExtensionObject
		pages, per int
	}{
		{"numValuesPerNode", raw(minute(0), minute(5000), 100, false), 10, 100},
		{"server limit", raw(minute(0), minute(5000), 0, false), 4, 300},
		{"reverse", raw(minute(5000), minute(-1), 250, false), 4, 250},
		{"bounds count as values", raw(minute(-5), minute(5000), 100, true), 11, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sess := "cp-" + tt.name
			res := readHistory(t, s, sess, tt.details, &ua.HistoryReadValueID{NodeID: tag}).Results[0]
			var all []string
			pages := 0
			for {
				pages++
				page := values(t, res)
				if len(page) > tt.per {
					t.Fatalf("page %d has %d values", pages, len(page))
				}
				all = append(all, page...)
				if len(res.ContinuationPoint) == 0 || pages > 20 {
					break
				}
				res = readHistory(t, s, sess, tt.details, &ua.HistoryReadValueID{NodeID: tag, ContinuationPoint: res.ContinuationPoint}).Results[0]
				if res.StatusCode != ua.StatusGood {
					t.Fatalf("page %d: %v", pages+1, res.StatusCode)
				}
			}
			seen := map[string]bool{}
			for _, v := range all {
				if seen[v] {
					t.Fatalf("%s returned twice", v)
				}
				seen[v] = true
			}
			wantN := 1000
			if tt.name == "bounds count as values" {
				wantN = 1002 // nf@-5 … 999, nf@5000
				if all[0] != "nf@-5" || all[len(all)-1] != "nf@5000" {
					t.Errorf("bounds: first %s, last %s", all[0], all[len(all)-1])
				}
			}
			if len(all) != wantN || pages != tt.pages {
				t.Errorf("%d values in %d pages, want %d in %d", len(all), pages, wantN, tt.pages)
			}
		})
	}

	// A used continuation point is gone; a forged one is refused; release
	// frees them; the per-session limit is enforced.
	sess := "cp-misuse"
	first := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag}).Results[0]
	cp := first.ContinuationPoint
	next := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag, ContinuationPoint: cp}).Results[0]
	if got := values(t, next); len(got) != 10 || got[0] != "10:10" || len(next.ContinuationPoint) == 0 {
		t.Fatalf("second page: %v", got)
	}
	serve(t, s, newSessionNamed(sess), &ua.HistoryReadRequest{HistoryReadDetails: raw(minute(0), minute(5000), 10, false),
		TimestampsToReturn: ua.TimestampsToReturnSource, ReleaseContinuationPoints: true,
		NodesToRead: []*ua.HistoryReadValueID{{NodeID: tag, ContinuationPoint: next.ContinuationPoint}}})
	for name, cpv := range map[string][]byte{"used": cp, "forged": []byte("0123456789abcdef"), "short": {1}} {
		res := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag, ContinuationPoint: cpv}).Results[0]
		if res.StatusCode != ua.StatusBadContinuationPointInvalid {
			t.Errorf("%s continuation point: %v", name, res.StatusCode)
		}
	}
	a := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag}, &ua.HistoryReadValueID{NodeID: tag}).Results
	if len(a[0].ContinuationPoint) == 0 || len(a[1].ContinuationPoint) == 0 {
		t.Fatal("no continuation points")
	}
	if res := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag}).Results[0]; res.StatusCode != ua.StatusBadNoContinuationPoints {
		t.Errorf("third continuation point with a limit of 2: %v", res.StatusCode)
	}
	// A continuation point belongs to its node.
	other := strID("SV4/TAG/" + s.store.Snapshot().Structure().Tag(2).ID)
	if res := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: other, ContinuationPoint: a[1].ContinuationPoint}).Results[0]; res.StatusCode != ua.StatusBadContinuationPointInvalid {
		t.Errorf("continuation point of another node: %v", res.StatusCode)
	}
	rel := serve(t, s, newSessionNamed(sess), &ua.HistoryReadRequest{HistoryReadDetails: raw(minute(0), minute(5000), 10, false),
		TimestampsToReturn: ua.TimestampsToReturnSource, ReleaseContinuationPoints: true,
		NodesToRead: []*ua.HistoryReadValueID{{NodeID: tag, ContinuationPoint: a[0].ContinuationPoint}}}).(*ua.HistoryReadResponse)
	if rel.Results[0].StatusCode != ua.StatusGood || rel.Results[0].HistoryData != nil && len(values(t, rel.Results[0])) > 0 {
		t.Errorf("release: %v", rel.Results[0].StatusCode)
	}
	if res := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag}).Results[0]; res.StatusCode != ua.StatusGood || len(res.ContinuationPoint) == 0 {
		t.Errorf("after release: %v", res.StatusCode)
	}
	s.SessionClosed(newSessionNamed(sess), true)
	if res := readHistory(t, s, sess, raw(minute(0), minute(5000), 10, false), &ua.HistoryReadValueID{NodeID: tag, ContinuationPoint: a[1].ContinuationPoint}).Results[0]; res.StatusCode != ua.StatusBadContinuationPointInvalid {
		t.Errorf("continuation point after the session closed: %v", res.StatusCode)
	}
}

// TestRefusedHistoryReadGivesBackContinuationPoints: a HistoryRead answer
// the client refused as too large neither spends the session's
// continuation points nor moves the one it continued from: asked again,
// the same page comes back.
func TestRefusedHistoryReadGivesBackContinuationPoints(t *testing.T) {
	limits := testLimits()
	limits.MaxHistoryContinuationPoints = 2
	s, tag, _ := historyServices(t, limits)
	sess := "refused"
	details := raw(minute(0), minute(5000), 10, false)
	req := func(cps ...[]byte) *ua.HistoryReadRequest {
		q := &ua.HistoryReadRequest{HistoryReadDetails: details, TimestampsToReturn: ua.TimestampsToReturnBoth}
		for _, cp := range cps {
			q.NodesToRead = append(q.NodesToRead, &ua.HistoryReadValueID{NodeID: tag, ContinuationPoint: cp})
		}
		return q
	}
	r := refused(t, s, newSessionNamed(sess), req(nil, nil)).(*ua.HistoryReadResponse)
	for i, res := range r.Results {
		if res.StatusCode != ua.StatusGood || len(res.ContinuationPoint) == 0 {
			t.Fatalf("refused read, node %d: %v", i, res.StatusCode)
		}
	}
	first := readHistory(t, s, sess, details, req(nil, nil).NodesToRead...).Results
	for i, res := range first {
		if res.StatusCode != ua.StatusGood || len(res.ContinuationPoint) == 0 {
			t.Fatalf("read after a refused one, node %d: %v (continuation points spent by the refused answer)", i, res.StatusCode)
		}
	}
	refusedNext := refused(t, s, newSessionNamed(sess), req(first[0].ContinuationPoint)).(*ua.HistoryReadResponse).Results[0]
	next := readHistory(t, s, sess, details, req(first[0].ContinuationPoint).NodesToRead...).Results[0]
	if next.StatusCode != ua.StatusGood {
		t.Fatalf("the continuation point after a refused read: %v", next.StatusCode)
	}
	if got, want := values(t, next), values(t, refusedNext); len(got) != 10 || got[0] != "10:10" || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("second page asked again: %v, refused one %v", got, want)
	}
}

func TestHistoryReadBadInput(t *testing.T) {
	s, tag, _ := historyServices(t, testLimits())
	cage := ""
	for _, l := range s.store.Snapshot().Structure().Locations() {
		if l.ID.Level == model.LevelCage {
			cage = l.ID.String()
		}
	}
	never := time.Time{}
	ok := raw(minute(0), minute(10), 0, false)
	for _, tt := range []struct {
		name    string
		details *ua.ExtensionObject
		node    *ua.HistoryReadValueID
		want    ua.StatusCode
	}{
		{"read modified", ua.NewExtensionObject(&ua.ReadRawModifiedDetails{IsReadModified: true, StartTime: minute(0), EndTime: minute(10)}), &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadHistoryOperationUnsupported},
		{"event details of a variable", ua.NewExtensionObject(&ua.ReadEventDetails{StartTime: minute(0), EndTime: minute(10), Filter: &ua.EventFilter{SelectClauses: eventFields()}}), &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadHistoryOperationUnsupported},
		{"event details without a filter", ua.NewExtensionObject(&ua.ReadEventDetails{StartTime: minute(0), EndTime: minute(10)}), &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadEventFilterInvalid},
		{"processed details", ua.NewExtensionObject(&ua.ReadProcessedDetails{StartTime: minute(0), EndTime: minute(10)}), &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadHistoryOperationUnsupported},
		{"no details", nil, &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadHistoryOperationInvalid},
		{"start only", raw(minute(0), never, 0, false), &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadHistoryOperationInvalid},
		{"count only", raw(never, never, 10, false), &ua.HistoryReadValueID{NodeID: tag}, ua.StatusBadHistoryOperationInvalid},
		{"unknown node", ok, &ua.HistoryReadValueID{NodeID: strID("SV4/TAG/nope")}, ua.StatusBadNodeIDUnknown},
		{"object", ok, &ua.HistoryReadValueID{NodeID: strID(cage)}, ua.StatusBadHistoryOperationUnsupported},
		{"variable without history", ok, &ua.HistoryReadValueID{NodeID: strID(cage + "#LocationId")}, ua.StatusBadNotReadable},
		{"index range invalid", ok, &ua.HistoryReadValueID{NodeID: tag, IndexRange: "5:2"}, ua.StatusBadIndexRangeInvalid},
		{"data encoding", ok, &ua.HistoryReadValueID{NodeID: tag, DataEncoding: &ua.QualifiedName{Name: "Default XML"}}, ua.StatusBadDataEncodingInvalid},
		{"nil operation", ok, nil, ua.StatusBadNodeIDUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := readHistory(t, s, "bad", tt.details, tt.node).Results[0]
			if res.StatusCode != tt.want {
				t.Errorf("got %v, want %v", res.StatusCode, tt.want)
			}
		})
	}
	for ts, want := range map[ua.TimestampsToReturn]ua.StatusCode{ua.TimestampsToReturnNeither: ua.StatusBadTimestampsToReturnInvalid, 7: ua.StatusBadTimestampsToReturnInvalid} {
		r := serve(t, s, newSession("ts"), &ua.HistoryReadRequest{HistoryReadDetails: ok, TimestampsToReturn: ts, NodesToRead: []*ua.HistoryReadValueID{{NodeID: tag}}})
		if serviceResult(r) != want {
			t.Errorf("timestamps %v: %v", ts, serviceResult(r))
		}
	}
	r := serve(t, s, newSession("ts"), &ua.HistoryReadRequest{HistoryReadDetails: ok, TimestampsToReturn: ua.TimestampsToReturnServer, NodesToRead: []*ua.HistoryReadValueID{{NodeID: tag}}})
	if res := r.(*ua.HistoryReadResponse).Results[0]; res.StatusCode != ua.StatusBadTimestampNotSupported {
		t.Errorf("server timestamps only: %v", res.StatusCode)
	}
	many := make([]*ua.HistoryReadValueID, 101)
	for i := range many {
		many[i] = &ua.HistoryReadValueID{NodeID: tag}
	}
	if r := serve(t, s, newSession("many"), &ua.HistoryReadRequest{HistoryReadDetails: ok, TimestampsToReturn: ua.TimestampsToReturnSource, NodesToRead: many}); serviceResult(r) != ua.StatusBadTooManyOperations {
		t.Errorf("101 nodes: %v", serviceResult(r))
	}
	// The server keeps answering.
	if res := readHistory(t, s, "bad", ok, &ua.HistoryReadValueID{NodeID: tag}).Results[0]; len(values(t, res)) != 10 {
		t.Errorf("after bad input: %v", values(t, res))
	}
}

// TestHistorizingAttributes: Historizing and the HistoryRead access bit
// are set exactly on the variables whose values are recorded, and only
// when history is on.
func TestHistorizingAttributes(t *testing.T) {
	s, tag, _ := historyServices(t, testLimits())
	st := s.store.Snapshot().Structure()
	var cage, circuit string
	for _, l := range st.Locations() {
		switch l.ID.Level {
		case model.LevelCage:
			cage = l.ID.String()
		case model.LevelCircuit:
			circuit = l.ID.String()
		}
	}
	textTag := strID("SV4/TAG/" + st.Tag(0).ID)
	cases := []struct {
		id   *ua.NodeID
		want bool
	}{
		{tag, true}, {textTag, true},
		{strID(cage + "#KVA"), true}, {strID(cage + "#Temperature"), true}, {strID(circuit + "#BreakerAlarm"), true},
		{strID("Gateway#Upstream"), true}, {strID("Gateway#FeedState"), true},
		{strID(cage + "#KVA#EngineeringUnits"), false}, {strID(cage + "#LocationId"), false},
		{strID("Gateway#FeedEvents"), false}, {ua.NewNumericNodeID(0, 2259), false}, // Server_ServerStatus_State
	}
	check := func(hist bool) {
		for _, c := range cases {
			want := c.want && hist
			dv := read(t, s, newSession("attrs"), ua.TimestampsToReturnNeither,
				&ua.ReadValueID{NodeID: c.id, AttributeID: ua.AttributeIDHistorizing},
				&ua.ReadValueID{NodeID: c.id, AttributeID: ua.AttributeIDAccessLevel},
				&ua.ReadValueID{NodeID: c.id, AttributeID: ua.AttributeIDUserAccessLevel},
				&ua.ReadValueID{NodeID: c.id, AttributeID: ua.AttributeIDAccessLevelEx})
			for _, v := range dv {
				if v.Status != ua.StatusGood {
					t.Fatalf("%v: %v", c.id, v.Status)
				}
			}
			wantAccess := uint8(1)
			if want {
				wantAccess = 5
			}
			if dv[0].Value.Value() != want || dv[1].Value.Value() != wantAccess || dv[2].Value.Value() != wantAccess || dv[3].Value.Value() != uint32(wantAccess) {
				t.Errorf("%v (history %v): Historizing %v, AccessLevel %v/%v/%v", c.id, hist, dv[0].Value.Value(), dv[1].Value.Value(), dv[2].Value.Value(), dv[3].Value.Value())
			}
		}
	}
	check(true)
	s.hist = nil
	check(false)
}

// TestHistoryFieldNames: every variable marked as historized names a field
// package history records, so its series is not forever empty.
func TestHistoryFieldNames(t *testing.T) {
	recorded := map[histKind]map[string]bool{histLocation: {}, histHealth: {}}
	for _, f := range history.PowerFields {
		recorded[histLocation][f.Name] = true
	}
	for _, f := range history.EnvironmentFields {
		recorded[histLocation][f.Name] = true
	}
	for _, f := range history.HealthFields {
		recorded[histHealth][f.Name] = true
	}
	var walk func(ms []memberSpec)
	n := 0
	walk = func(ms []memberSpec) {
		for _, m := range ms {
			if k := m.bind.hist; k == histLocation || k == histHealth {
				n++
				if !recorded[k][m.name] {
					t.Errorf("member %s is historized but history records no field of that name", m.name)
				}
			}
			walk(m.children)
		}
	}
	for _, ts := range typeSpecs {
		walk(ts.members)
	}
	if n < 10 {
		t.Errorf("only %d historized members", n)
	}
}
