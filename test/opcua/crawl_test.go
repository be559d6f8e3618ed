package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// expectation is what a crawled variable must hold: its value as JSON
// decodes it, and whether it carries the reading's source time.
type expectation struct {
	value  any
	source bool
}

func num(v model.Value) any {
	if v.IsNum {
		return v.Num
	}
	return nil
}

func iso(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func eu(symbol string) any { return symbol }

// str is a String as it arrives: gopcua encodes "" as a null String.
func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var unitSymbols = map[string]string{"kVA": "kVA", "A": "A", "V": "V", "°C": "°C", "%": "%", "kW": "kW", "Hz": "Hz", "h": "h"}

// expect computes, independently of the server's code, what a variable of
// the instance namespace holds in snap. ok is false for an unknown id.
func expect(snap *model.Snapshot, id string) (expectation, bool) {
	st := snap.Structure()
	base, member, _ := strings.Cut(strings.TrimPrefix(id, "ns=2;s="), "#")
	parts := strings.SplitN(base, "/", 3)
	if base == "Gateway" {
		h := snap.Health()
		v, ok := map[string]any{"Upstream": h.Upstream.String(), "UpstreamSince": iso(h.UpstreamSince), "UpstreamError": str(h.UpstreamError),
			"LastSync": iso(h.LastSync), "FeedState": h.Feed.State.String(), "FeedProvider": str(h.Feed.Provider), "FeedSince": nil, "FeedError": str(h.Feed.Error),
			"FeedEvents": 0.0, "FeedMalformed": 0.0, "FeedUnknown": 0.0, "FeedLastEvent": nil, "FeedNewestEventTime": nil,
			"PersistState": "ok", "PersistSince": iso(h.Persist.Since), "PersistError": str(h.Persist.Error())}[member]
		return expectation{v, false}, ok
	}
	if len(parts) != 3 {
		return expectation{}, false
	}
	switch parts[1] {
	case "TAG":
		i, ok := st.TagIndex(parts[2])
		if !ok {
			return expectation{}, false
		}
		tag, r := st.Tag(i), snap.Tag(i)
		switch member {
		case "":
			if tag.Unit == "" {
				return expectation{r.Value.String(), true}, true
			}
			return expectation{num(r.Value), true}, true
		case "AlarmStatus":
			return expectation{r.AlarmStatus, true}, true
		case "TagId":
			return expectation{tag.ID, false}, true
		case "EngineeringUnits":
			return expectation{eu(unitSymbols[tag.Unit]), false}, tag.Unit != ""
		}
	case "ASSET":
		i, ok := st.AssetIndex(parts[2])
		if !ok {
			return expectation{}, false
		}
		a, s := st.Asset(i), snap.Asset(i)
		static := map[string]any{"AssetId": a.ID, "Classification": str(a.Classification), "Category": str(a.Category),
			"Template": str(a.Template), "EquipmentType": str(a.Type), "Manufacturer": str(a.Manufacturer), "Model": str(a.Model),
			"SerialNumber": str(a.Serial), "TimeZone": str(a.TimeZone)}
		if v, ok := static[member]; ok {
			return expectation{v, false}, true
		}
		v, ok := map[string]any{"AlarmStatus": str(s.AlarmStatus), "ResiliencyStatus": str(s.ResiliencyStatus), "AlarmActive": s.AlarmActive,
			"LastAlarmTriggered": iso(s.AlarmTriggered), "LastAlarmCleared": iso(s.AlarmCleared), "LastMaintenance": iso(s.LastMaintenance)}[member]
		return expectation{v, true}, ok
	}
	level, ok := model.ParseLevel(parts[1])
	if !ok {
		return expectation{}, false
	}
	li, ok := st.LocationIndex(model.LocationID{IBX: parts[0], Level: level, Name: parts[2]})
	if !ok {
		return expectation{}, false
	}
	l, p, e := st.Location(li), snap.Power(li), snap.Environment(li)
	name, prop, _ := strings.Cut(member, "#")
	switch prop {
	case "EngineeringUnits":
		v, ok := map[string]any{"KVA": "kVA", "SoldKVA": "kVA", "ContractualKVA": "kVA", "PrimaryKVA": "kVA", "RedundantKVA": "kVA",
			"PeakKVA7d": "kVA", "CabinetRating": "kVA", "KW": "kW", "Amps": "A", "PercentOfContract": "%", "Humidity": "%", "Temperature": "°C"}[name]
		return expectation{eu(v.(string)), false}, ok
	case "EURange":
		v, ok := map[string]any{"PercentOfContract": 100.0, "Humidity": 100.0, "PowerFactor": 1.0}[name]
		if unit := map[string]string{"KVA": "kVA", "SoldKVA": "kVA", "ContractualKVA": "kVA", "PrimaryKVA": "kVA", "RedundantKVA": "kVA",
			"PeakKVA7d": "kVA", "CabinetRating": "kVA", "KW": "kW"}[name]; unit != "" {
			// kVA and kW: 0 to the capacity, the first positive of CabinetRating, ContractualKVA, SoldKVA
			for _, c := range []model.Value{p.CabinetRating, p.ContractualKVA, p.SoldKVA} {
				if c.IsNum && c.Num > 0 {
					return expectation{map[string]any{"low": 0.0, "high": c.Num}, false}, true
				}
			}
			return expectation{}, false
		}
		return expectation{map[string]any{"low": 0.0, "high": v}, false}, ok
	case "":
	default:
		return expectation{}, false
	}
	static := map[string]any{"LocationId": l.ID.String(), "Label": str(l.Label), "Number": str(l.Number), "Role": str(l.Role)}
	if v, ok := static[name]; ok {
		return expectation{v, false}, true
	}
	v, ok := map[string]any{"KVA": num(p.KVA), "Amps": num(p.Amps), "SoldKVA": num(p.SoldKVA), "ContractualKVA": num(p.ContractualKVA),
		"PercentOfContract": num(p.PercentKVA), "PrimaryKVA": num(p.PrimaryKVA), "RedundantKVA": num(p.RedundantKVA), "KW": num(p.KW),
		"PowerFactor": num(p.PowerFactor), "PeakKVA7d": num(p.PeakKVA7d), "CabinetRating": num(p.CabinetRating),
		"BreakerAlarm": p.BreakerAlarm == model.FlagTrue, "Temperature": num(e.Temperature), "Humidity": num(e.Humidity)}[name]
	return expectation{v, true}, ok
}

// TestCrawlMatchesModel: node-opcua crawls the whole tree strictly (every
// Browse, BrowseNext and Read Good, DataType a NodeId), and every value it
// reads is what the model holds, with the reading's source time.
func TestCrawlMatchesModel(t *testing.T) {
	shape := modeltest.Shape{IBXs: 2, Cages: 3, Cabinets: 2, Circuits: 2, Assets: 7, Tags: 9}
	s := start(t, shape)
	lines := s.script(t, "crawl.js", "--dump", "--strict", "--max-refs", "10")
	sum := summary(t, lines)
	if sum["continuationPoints"].(float64) == 0 {
		t.Error("the crawl met no continuation point (max-refs 10)")
	}
	snap := s.store.Snapshot()
	seen := map[string]int{}
	for _, m := range lines {
		id, ok := m["var"].(string)
		if !ok {
			continue
		}
		want, known := expect(snap, id)
		if !known {
			t.Errorf("%s: a variable the test does not know", id)
			continue
		}
		got := m["value"]
		if obj, ok := got.(map[string]any); ok && obj["displayName"] != nil {
			got = obj["displayName"]
			if obj["namespaceUri"] != "http://www.opcfoundation.org/UA/units/un/cefact" {
				t.Errorf("%s: EUInformation namespace %v", id, obj["namespaceUri"])
			}
		}
		if !reflect.DeepEqual(got, want.value) || m["status"] != "Good" {
			t.Errorf("%s = %v (%T) %v, model says %v (%T)", id, got, got, m["status"], want.value, want.value)
		}
		if hasSrc := m["src"] != nil; hasSrc != want.source || (hasSrc && m["src"] != iso(t0)) {
			t.Errorf("%s: SourceTimestamp %v, want reading time %v", id, m["src"], want.source)
		}
		kind := strings.SplitN(strings.TrimPrefix(id, "ns=2;s="), "/", 3)
		if len(kind) == 3 && !strings.Contains(id, "#") {
			seen[kind[1]]++
		}
	}
	st := snap.Structure()
	if seen["TAG"] != len(st.Tags()) {
		t.Errorf("crawled %d tags, the model has %d", seen["TAG"], len(st.Tags()))
	}
	if n := int(sum["variables"].(float64)); n < len(st.Tags())+10*len(st.Locations()) {
		t.Errorf("only %d variables", n)
	}
	t.Logf("crawl: %v", sum)
}

// TestSecureCrawl: the same tree through Basic256Sha256 SignAndEncrypt and a
// user name, in requests and responses that span many chunks.
func TestSecureCrawl(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 4, Cabinets: 4, Circuits: 4, Assets: 40, Tags: 10})
	sum := summary(t, s.script(t, "crawl.js", "--strict", "--security", "Basic256Sha256:SignAndEncrypt",
		"--user", testUser+":"+testPassword, "--max-refs", "1000"))
	if sum["badValues"].(float64) != 0 || sum["variables"].(float64) < 3000 {
		t.Errorf("secure crawl: %v", sum)
	}
}

// TestProbe: the requests that crashed or fooled gopcua v0.8.0's server get
// the right answers, and the server serves on.
func TestProbe(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 2, Cabinets: 2, Circuits: 2, Assets: 30, Tags: 3})
	ibx := modeltest.IBX(0)
	lines := s.script(t, "probe.js", "--leaf", "ns=2;s="+ibx+"/CAGE/"+ibx+":01:000000#KVA",
		"--object", "ns=2;s="+ibx+"/CAGE/"+ibx+":01:000000", "--folder", "ns=2;s="+ibx+"/Assets/Electrical/Global/PDU")
	got := map[string]map[string]any{}
	for _, m := range lines {
		got[fmt.Sprint(m["check"])] = m
	}
	for check, want := range map[string]string{
		"write-value": "BadNotWritable", "write-displayname": "BadNotWritable", "write-bad-namespace": "BadNodeIdUnknown",
		"read-unknown-node": "BadNodeIdUnknown", "read-bad-attribute": "BadAttributeIdInvalid", "read-bad-index-range": "BadIndexRangeInvalid",
		"browse-no-subtypes": "Good", "browse-maxrefs": "Good", "browse-next-bogus": "BadContinuationPointInvalid", "translate": "Good",
		"publishing-interval-0": "Good", "modify-subscription": "Good", "set-publishing-mode": "Good",
		"monitor-unknown-node": "BadNodeIdUnknown", "delete-unknown-item": "BadMonitoredItemIdInvalid",
		"set-mode-unknown-item": "BadMonitoredItemIdInvalid", "delete-item-unknown-subscription": "BadSubscriptionIdInvalid",
		"subscription-ids": "Good", "read-10000": "Good", "read-10001": "BadTooManyOperations", "browse-1000": "Good",
		"browse-1001": "BadTooManyOperations", "call": "BadArgumentsMissing", "history-read": "BadNotReadable", "alive": "Good",
	} {
		m := got[check]
		if m == nil || m["status"] != want {
			t.Errorf("%s: %v, want %s", check, m, want)
		}
	}
	if m := got["write-value"]; m != nil && (m["after"] != m["before"] || m["before"] == nil) {
		t.Errorf("value before and after the refused write: %v, %v", m["before"], m["after"])
	}
	if m := got["browse-maxrefs"]; m != nil && (m["first"] != 5.0 || m["total"] != m["all"] || m["all"].(float64) <= 5) {
		t.Errorf("browse with max 5 references: %v", m)
	}
	if m := got["translate"]; m != nil && fmt.Sprint(m["targets"]) != "[ns=2;s=Gateway]" {
		t.Errorf("translate: %v", m["targets"])
	}
	if m := got["publishing-interval-0"]; m != nil && m["revised"] != 50.0 {
		t.Errorf("publishing interval 0 revised to %v, want the minimum 50", m["revised"])
	}
	if m := got["subscription-ids"]; m != nil && (m["c"] == m["a"] || m["c"] == m["b"]) {
		t.Errorf("subscription ids reused: %v", m)
	}
	if m := got["read-10000"]; m != nil && m["good"] != 10000.0 {
		t.Errorf("read of 10000: %v", m)
	}
	if m := got["browse-1000"]; m != nil && m["good"] != 1000.0 {
		t.Errorf("browse of 1000: %v", m)
	}
}
