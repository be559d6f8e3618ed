package snmp

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// TestColumnsMatchModel states, column by column, what every SVGATEWAY-MIB
// object must serve for each model row, independently of tables.go: numeric
// readings are scaled as the MIB's own syntax says (SvgThousandths ×1000,
// SvgHundredths ×100, Integer32 ×1), so a column scaled differently from its
// DISPLAY-HINT fails here.
func TestColumnsMatchModel(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	// an operator acknowledged the first alarm at an OPC UA console
	if _, err := store.Update(func(tx *model.Tx) error {
		return tx.OperatorAcknowledge(store.Snapshot().Alarms()[0].ID, "console", "crew called")
	}); err != nil {
		t.Fatal(err)
	}
	mib, _ := OpenMIB("", nil)
	snap := store.Snapshot()
	if snap.Alarms()[0].Operator == nil {
		t.Fatal("no operator record")
	}
	v := mib.View(snap)
	st := snap.Structure()
	tree := v.tree

	// Expected values: nil means "no instance".
	num := func(obj *Object, x model.Value) any {
		scale := map[string]float64{"SvgThousandths": 1000, "SvgHundredths": 100, "Integer32": 1}[obj.Syntax]
		if scale == 0 {
			t.Fatalf("%s: syntax %s is not a reading", obj.Name, obj.Syntax)
		}
		if !x.IsNum || math.Abs(x.Num*scale) > math.MaxInt32 {
			return nil
		}
		return int(math.Round(x.Num * scale))
	}
	dt := func(tm time.Time) any {
		if tm.IsZero() {
			tm = time.Unix(0, 0)
		}
		tm = tm.UTC()
		return []byte{byte(tm.Year() >> 8), byte(tm.Year()), byte(tm.Month()), byte(tm.Day()), byte(tm.Hour()), byte(tm.Minute()), byte(tm.Second()), byte(tm.Nanosecond() / 1e8), '+', 0, 0}
	}
	q := func(x model.Quality) any {
		return map[model.Quality]int{model.QualityGood: 1, model.QualityStale: 2, model.QualityNoComm: 2, model.QualityUnavailable: 3}[x]
	}
	ok := func(s string) any {
		return map[string]int{"OK": 1, "NOT OK": 2}[s] + 3*boolInt(s != "OK" && s != "NOT OK")
	}
	truth := func(b bool) any { return 2 - boolInt(b) }
	checked := map[*Object]int{}
	check := func(obj *Object, index uint32, want any) {
		t.Helper()
		got := v.Get(obj.OID.Append(index))
		checked[obj]++
		if want == nil {
			if got.Type != gosnmp.NoSuchInstance {
				t.Errorf("%s.%d = %v, want no instance", obj.Name, index, got.Value)
			}
			return
		}
		if got.Type != obj.Type || !reflect.DeepEqual(got.Value, want) {
			t.Errorf("%s.%d = %s %#v, want %#v", obj.Name, index, got.Type, got.Value, want)
		}
	}

	for i, l := range st.Locations() {
		idx := tree.locIdx[i]
		var parent uint32
		if l.ID.Level != model.LevelIBX {
			parent = tree.locIdx[mustLoc(t, st, l.Parent)]
		}
		prefix := map[model.Level]string{model.LevelIBX: "svgIbx", model.LevelZone: "svgZone", model.LevelCage: "svgCage",
			model.LevelCabinet: "svgCabinet", model.LevelCircuit: "svgCircuit", model.LevelSensor: "svgSensor"}[l.ID.Level]
		obj := func(suffix string) *Object {
			o, found := LookupObject(prefix + suffix)
			if !found {
				t.Fatalf("no %s%s", prefix, suffix)
			}
			return o
		}
		check(obj("Id"), idx, l.ID.Name)
		check(obj("Label"), idx, l.Label)
		check(obj("Number"), idx, l.Number)
		check(obj("Ibx"), idx, l.ID.IBX)
		check(obj("Parent"), idx, parent)
		if l.ID.Level == model.LevelCircuit {
			check(svgCircuitRole, idx, map[string]int{"primary": 1, "redundant": 2, "": 3}[l.Role])
		}
		switch l.ID.Level {
		case model.LevelIBX, model.LevelCage, model.LevelCabinet, model.LevelCircuit:
			p := snap.Power(i)
			check(svgPowerLevel, idx, int(l.ID.Level))
			for _, r := range []struct {
				n, s *Object
				x    model.Value
			}{
				{svgPowerKva, svgPowerKvaText, p.KVA}, {svgPowerAmps, svgPowerAmpsText, p.Amps},
				{svgPowerSoldKva, svgPowerSoldKvaText, p.SoldKVA}, {svgPowerContractKva, svgPowerContractKvaText, p.ContractualKVA},
				{svgPowerPercentOfContract, svgPowerPercentOfContractText, p.PercentKVA},
				{svgPowerCabinetRating, svgPowerCabinetRatingText, p.CabinetRating},
				{svgPowerPrimaryKva, svgPowerPrimaryKvaText, p.PrimaryKVA}, {svgPowerRedundantKva, svgPowerRedundantKvaText, p.RedundantKVA},
				{svgPowerKw, svgPowerKwText, p.KW}, {svgPowerPowerFactor, svgPowerPowerFactorText, p.PowerFactor},
				{svgPowerPeakKva7d, svgPowerPeakKva7dText, p.PeakKVA7d},
			} {
				check(r.n, idx, num(r.n, r.x))
				check(r.s, idx, r.x.String())
			}
			check(svgPowerBreakerAlarm, idx, map[model.Flag]any{model.FlagTrue: 1, model.FlagFalse: 2, model.FlagUnknown: nil}[p.BreakerAlarm])
			check(svgPowerReadingTime, idx, dt(p.ReadingTime))
			check(svgPowerConfirmedTime, idx, dt(p.Confirmed))
			check(svgPowerQuality, idx, q(p.Quality))
			check(svgPowerIbx, idx, l.ID.IBX)
			check(svgPowerLocationId, idx, l.ID.Name)
		}
		switch l.ID.Level {
		case model.LevelIBX, model.LevelZone, model.LevelCage, model.LevelCabinet, model.LevelSensor:
			e := snap.Environment(i)
			check(svgEnvLevel, idx, int(l.ID.Level))
			check(svgEnvTemperature, idx, num(svgEnvTemperature, e.Temperature))
			check(svgEnvTemperatureText, idx, e.Temperature.String())
			check(svgEnvTemperatureUnit, idx, e.TemperatureUnit)
			check(svgEnvHumidity, idx, num(svgEnvHumidity, e.Humidity))
			check(svgEnvHumidityText, idx, e.Humidity.String())
			check(svgEnvHumidityUnit, idx, e.HumidityUnit)
			check(svgEnvTemperatureMin, idx, num(svgEnvTemperatureMin, e.TemperatureMin))
			check(svgEnvTemperatureMax, idx, num(svgEnvTemperatureMax, e.TemperatureMax))
			check(svgEnvHumidityMin, idx, num(svgEnvHumidityMin, e.HumidityMin))
			check(svgEnvHumidityMax, idx, num(svgEnvHumidityMax, e.HumidityMax))
			check(svgEnvReadingTime, idx, dt(e.ReadingTime))
			check(svgEnvConfirmedTime, idx, dt(e.Confirmed))
			check(svgEnvQuality, idx, q(e.Quality))
			check(svgEnvIbx, idx, l.ID.IBX)
			check(svgEnvLocationId, idx, l.ID.Name)
		}
	}
	for i, a := range st.Assets() {
		idx, s := tree.assetIdx[i], snap.Asset(i)
		for obj, want := range map[*Object]any{
			svgAssetId: a.ID, svgAssetIbx: a.IBX, svgAssetClassification: a.Classification, svgAssetCategory: a.Category,
			svgAssetTemplate: a.Template, svgAssetType: a.Type, svgAssetManufacturer: a.Manufacturer, svgAssetModel: a.Model,
			svgAssetSerial: a.Serial, svgAssetTimeZone: a.TimeZone, svgAssetAlarmStatus: ok(s.AlarmStatus),
			svgAssetAlarmStatusText: s.AlarmStatus, svgAssetResiliencyStatus: s.ResiliencyStatus,
			svgAssetLastAlarmTriggered: dt(s.AlarmTriggered), svgAssetLastAlarmCleared: dt(s.AlarmCleared),
			svgAssetAlarmActive: truth(s.AlarmActive), svgAssetLastMaintenance: dt(s.LastMaintenance),
			svgAssetReadingTime: dt(s.ReadingTime), svgAssetConfirmedTime: dt(s.Confirmed), svgAssetQuality: q(s.Quality),
		} {
			check(obj, idx, want)
		}
	}
	for i, tg := range st.Tags() {
		idx, s := tree.tagIdx[i], snap.Tag(i)
		ai, _ := st.AssetIndex(tg.Asset)
		for obj, want := range map[*Object]any{
			svgTagId: tg.ID, svgTagIbx: tg.IBX, svgTagAsset: tree.assetIdx[ai], svgTagAssetId: tg.Asset, svgTagDisplayName: tg.DisplayName,
			svgTagUnit: tg.Unit, svgTagValue: num(svgTagValue, s.Value), svgTagValueInteger: num(svgTagValueInteger, s.Value),
			svgTagValueText: s.Value.String(), svgTagAlarmStatus: ok(s.AlarmStatus), svgTagAlarmStatusText: s.AlarmStatus,
			svgTagReadingTime: dt(s.ReadingTime), svgTagConfirmedTime: dt(s.Confirmed), svgTagQuality: q(s.Quality),
		} {
			check(obj, idx, want)
		}
	}
	// The fixture's alarms by condition: their type (arc under svgAlarmTypes),
	// probable cause and event type as the MIB's svgAlarmTypes say.
	classes := map[string]struct {
		arc          uint32
		cause, event int
	}{
		"High voltage": {1, 135, 1}, // an asset of no known type or classification: generic
		"Breaker":      {6, 110, 5}, // condition names a breaker
		"Gone":         {5, 58, 5},  // on a circuit, no asset: power distribution
	}
	for _, a := range snap.Alarms() {
		idx := uint32(a.ID)
		c, known := classes[a.Condition]
		if !known {
			t.Fatalf("alarm condition %q not in this test", a.Condition)
		}
		sev := map[model.Severity]int{model.SeverityUrgent: 3, model.SeverityHigh: 4, model.SeverityLow: 5, model.SeverityInformational: 6, model.SeverityUnknown: 2}[a.Severity]
		if a.State == model.AlarmCleared {
			sev = 1
		}
		for obj, want := range map[*Object]any{
			svgAlarmId: idx, svgAlarmKey: a.Key, svgAlarmState: int(a.State), svgAlarmPerceivedSeverity: sev,
			svgAlarmSeverityText: map[model.Severity]string{model.SeverityUrgent: "Urgent", model.SeverityHigh: "High", model.SeverityLow: "Low", model.SeverityInformational: "Informational", model.SeverityUnknown: "Unknown"}[a.Severity],
			svgAlarmSeverity:     map[model.Severity]int{model.SeverityUrgent: 800, model.SeverityHigh: 600, model.SeverityLow: 400, model.SeverityInformational: 200, model.SeverityUnknown: 1}[a.Severity],
			svgAlarmSeverityRaw:  a.SeverityText, svgAlarmInferred: truth(a.Inferred), svgAlarmIbx: a.IBX, svgAlarmAssetId: a.AssetID, svgAlarmAssetType: a.AssetType,
			svgAlarmClassification: a.Classification, svgAlarmTagId: a.TagID, svgAlarmCondition: a.Condition, svgAlarmCage: a.Cage,
			svgAlarmCabinet: a.Cabinet, svgAlarmCircuit: a.Circuit, svgAlarmValue: a.Value, svgAlarmUnit: a.Unit,
			svgAlarmTriggeredTime: dt(a.Triggered), svgAlarmProcessedTime: dt(a.Processed), svgAlarmClearedTime: dt(a.Cleared),
			svgAlarmSeq: uint32(a.Seq), svgAlarmFirstSeen: dt(a.FirstSeen), svgAlarmLastSeen: dt(a.LastSeen),
			svgAlarmType: fmt.Sprintf("%s.3.%d", RootOID(), c.arc), svgAlarmProbableCause: c.cause, svgAlarmEventType: c.event,
			svgAlarmAckTime: dt(a.AckTime), svgAlarmAckActor: a.AckActor,
			svgAlarmOperatorAckTime: dt(operator(a).AckTime), svgAlarmOperatorAckUser: operator(a).AckUser,
			svgAlarmOperatorComment: operator(a).Comment,
		} {
			check(obj, idx, want)
		}
		checked[svgAlarmResource]++ // TestValuesEqualModel checks the row pointers
	}
	for _, a := range snap.Alerts() {
		idx := uint32(a.Number)
		for obj, want := range map[*Object]any{
			svgAlertNumber: idx, svgAlertId: a.ID, svgAlertIbx: a.IBX, svgAlertAssetId: a.Asset, svgAlertAssetName: a.AssetName,
			svgAlertAssetType: a.AssetType, svgAlertClassification: a.Classification, svgAlertTagId: a.TagID, svgAlertType: a.Type,
			svgAlertName: a.Name, svgAlertEventType: a.EventType, svgAlertSeverityText: a.Severity, svgAlertValue: a.Value,
			svgAlertUnit: a.Unit, svgAlertThreshold: a.Threshold, svgAlertIsAcknowledged: truth(a.Acknowledged),
			svgAlertTriggeredTime: dt(a.Triggered), svgAlertAcknowledgedTime: dt(a.AcknowledgedAt), svgAlertSeq: uint32(a.Seq),
		} {
			check(obj, idx, want)
		}
	}
	h := snap.Health()
	active := uint32(0)
	for _, a := range snap.Alarms() {
		if a.State != model.AlarmCleared {
			active++
		}
	}
	for obj, want := range map[*Object]any{
		svgUpstreamState: map[model.UpstreamState]int{model.UpstreamStarting: 1, model.UpstreamOK: 2, model.UpstreamDegraded: 3, model.UpstreamDown: 4}[h.Upstream],
		svgUpstreamSince: dt(h.UpstreamSince), svgUpstreamError: h.UpstreamError, svgLastSync: dt(h.LastSync),
		svgFeedState:    map[model.FeedState]int{model.FeedDisabled: 1, model.FeedConnecting: 2, model.FeedConnected: 3, model.FeedDown: 4}[h.Feed.State],
		svgFeedProvider: h.Feed.Provider, svgFeedSince: dt(h.Feed.Since), svgFeedError: h.Feed.Error, svgFeedEvents: h.Feed.Events,
		svgFeedMalformed: h.Feed.Malformed, svgFeedUnknown: h.Feed.Unknown, svgFeedLastEvent: dt(h.Feed.LastEvent),
		svgFeedNewestEventTime: dt(h.Feed.NewestEventTime), svgModelTime: dt(snap.Time()), svgStructureGeneration: uint32(st.Gen()),
		svgAlarmsActive: active, svgAlarmLastSeq: uint32(snap.TransitionSeq()),
		svgPersistState: 2 - boolInt(h.Persist.OK()), svgPersistSince: dt(h.Persist.Since), svgPersistError: h.Persist.Error(),
		svgClusterRole: map[model.ClusterRole]int{model.ClusterAlone: 1, model.ClusterLeader: 2, model.ClusterStandby: 3}[h.Cluster.Role],
		svgClusterNode: h.Cluster.Node, svgClusterLeader: h.Cluster.Leader, svgClusterConnected: 2 - boolInt(h.Cluster.Connected),
	} {
		check(obj, 0, want)
	}
	// Every readable object of the MIB was stated above.
	for _, o := range Objects() {
		if o.Module == "SVGATEWAY-MIB" && o.Access == ReadOnly && checked[o] == 0 && !strings.HasSuffix(o.Name, "Index") {
			t.Errorf("%s has no expectation in this test", o.Name)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
