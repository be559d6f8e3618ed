package snmp

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

func smallFootprint() map[string]model.IBXStructure {
	return map[string]model.IBXStructure{
		"CH1": footprint("CH1", 2, 2, 3, 3, 4),
		"SV4": footprint("SV4", 3, 1, 2, 2, 3),
	}
}

// walk returns every instance of the view in GetNext order.
func walk(t *testing.T, v *View) []Varbind {
	t.Helper()
	var out []Varbind
	oid := OID{1}
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("walk does not end")
		}
		vb := v.GetNext(oid)
		if vb.Type == gosnmp.EndOfMibView {
			return out
		}
		if vb.OID.Compare(oid) <= 0 {
			t.Fatalf("GetNext(%s) = %s: not increasing", oid, vb.OID)
		}
		out = append(out, vb)
		oid = vb.OID
	}
}

// objectOf returns the generated object an instance belongs to.
func objectOf(oid OID) (*Object, bool) {
	for _, o := range Objects() {
		if oid.HasPrefix(o.OID) && len(oid) == len(o.OID)+1 {
			return o, true
		}
	}
	return nil, false
}

// checkValueType fails when a value's Go type is not what gosnmp expects
// for its BER type (what Varbind documents).
func checkValueType(t *testing.T, vb Varbind) {
	t.Helper()
	ok := false
	switch vb.Type {
	case gosnmp.Integer:
		v, isInt := vb.Value.(int)
		ok = isInt && v >= math.MinInt32 && v <= math.MaxInt32
	case gosnmp.Gauge32, gosnmp.Counter32, gosnmp.TimeTicks:
		_, ok = vb.Value.(uint32)
	case gosnmp.Counter64:
		_, ok = vb.Value.(uint64)
	case gosnmp.OctetString:
		switch s := vb.Value.(type) {
		case string:
			ok = len(s) <= maxAdminString
		case []byte:
			ok = len(s) <= maxAdminString
		}
	case gosnmp.ObjectIdentifier:
		var s string
		s, ok = vb.Value.(string)
		if ok {
			_, err := ParseOID(s)
			ok = err == nil
		}
	}
	if !ok {
		t.Errorf("%s: value %#v (%T) does not fit type %s", vb.OID, vb.Value, vb.Value, vb.Type)
	}
}

// TestServedObjectsMatchMIB walks the whole tree: every instance belongs to
// a readable object of the generated MIB definitions, with its type, as a
// scalar .0 or a column instance; every readable SVGATEWAY-MIB object is
// served; a GET of every instance returns what the walk returned.
func TestServedObjectsMatchMIB(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	mib, err := OpenMIB("", nil)
	if err != nil {
		t.Fatal(err)
	}
	v := mib.View(store.Snapshot())
	vbs := walk(t, v)
	served := map[*Object]int{}
	for _, vb := range vbs {
		obj, ok := objectOf(vb.OID)
		if !ok {
			t.Fatalf("%s is served but is no instance of a MIB object", vb.OID)
		}
		if obj.Access != ReadOnly || obj.Module != "SVGATEWAY-MIB" {
			t.Errorf("%s: served instance of %s (access %d)", vb.OID, obj.Name, obj.Access)
		}
		if vb.Type != obj.Type {
			t.Errorf("%s: type %s, MIB says %s (%s)", vb.OID, vb.Type, obj.Type, obj.Syntax)
		}
		if idx := vb.OID[len(vb.OID)-1]; obj.Scalar != (idx == 0) {
			t.Errorf("%s: instance %d of %s (scalar %v)", vb.OID, idx, obj.Name, obj.Scalar)
		}
		checkValueType(t, vb)
		served[obj]++
		if got := v.Get(vb.OID); !reflect.DeepEqual(got, vb) {
			t.Errorf("GET %s = %#v, walk gave %#v", vb.OID, got, vb)
		}
	}
	for _, o := range Objects() {
		if o.Module == "SVGATEWAY-MIB" && o.Access == ReadOnly && served[o] == 0 {
			t.Errorf("%s (%s) is in the MIB but never served", o.Name, o.OID)
		}
	}
	// Row counts: every table has the rows the model has.
	st := store.Snapshot().Structure()
	levels := map[model.Level]int{}
	for _, l := range st.Locations() {
		levels[l.ID.Level]++
	}
	for obj, want := range map[*Object]int{
		svgIbxId: levels[model.LevelIBX], svgZoneId: levels[model.LevelZone], svgCageId: levels[model.LevelCage],
		svgCabinetId: levels[model.LevelCabinet], svgCircuitId: levels[model.LevelCircuit], svgSensorId: levels[model.LevelSensor],
		svgPowerQuality: levels[model.LevelIBX] + levels[model.LevelCage] + levels[model.LevelCabinet] + levels[model.LevelCircuit],
		svgEnvQuality:   levels[model.LevelIBX] + levels[model.LevelZone] + levels[model.LevelCage] + levels[model.LevelCabinet] + levels[model.LevelSensor],
		svgAssetId:      len(st.Assets()), svgTagId: len(st.Tags()),
		svgAlarmId: len(store.Snapshot().Alarms()), svgAlertId: len(store.Snapshot().Alerts()),
		svgUpstreamState: 1,
	} {
		if served[obj] != want {
			t.Errorf("%s: %d instances, want %d", obj.Name, served[obj], want)
		}
	}
	t.Logf("%d instances served", len(vbs))
}

// TestValuesEqualModel checks cells against the model, including the
// absent readings (no instance) and the scaling.
func TestValuesEqualModel(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	mib, _ := OpenMIB("", nil)
	snap := store.Snapshot()
	v := mib.View(snap)
	st := snap.Structure()
	tree := v.tree
	for i, l := range st.Locations() {
		idx := tree.locIdx[i]
		if l.ID.Level != model.LevelCircuit {
			continue
		}
		p := snap.Power(i)
		got := v.Get(svgPowerKva.OID.Append(idx))
		if p.KVA.IsNum {
			if want := int(math.Round(p.KVA.Num * 1000)); got.Value != want {
				t.Errorf("%s kVA: %v, want %d", l.ID, got.Value, want)
			}
		} else if got.Type != gosnmp.NoSuchInstance {
			t.Errorf("%s kVA: %v, want noSuchInstance (no reading)", l.ID, got)
		}
		if got := v.Get(svgPowerSoldKva.OID.Append(idx)); !p.SoldKVA.IsNum && got.Type != gosnmp.NoSuchInstance {
			t.Errorf("%s sold kVA (NA): %v, want noSuchInstance", l.ID, got)
		}
		if got := v.Get(svgPowerSoldKvaText.OID.Append(idx)); got.Value != p.SoldKVA.String() {
			t.Errorf("%s sold kVA text: %v, want %q", l.ID, got.Value, p.SoldKVA.String())
		}
		if got := v.Get(svgPowerPeakKva7d.OID.Append(idx)); p.PeakKVA7d.IsNum && p.PeakKVA7d.Num > 2147483.647 && got.Type != gosnmp.NoSuchInstance {
			t.Errorf("%s peak 3e6 kVA does not fit d-3 Integer32: %v, want noSuchInstance", l.ID, got)
		}
		wantQ := map[model.Quality]int{model.QualityGood: 1, model.QualityStale: 2, model.QualityNoComm: 2, model.QualityUnavailable: 3}[p.Quality]
		if got := v.Get(svgPowerQuality.OID.Append(idx)); got.Value != wantQ {
			t.Errorf("%s quality %v, want %d", l.ID, got.Value, wantQ)
		}
		if got := v.Get(svgPowerReadingTime.OID.Append(idx)); !bytes.Equal(got.Value.([]byte), dateAndTime(p.ReadingTime)) {
			t.Errorf("%s reading time %v", l.ID, got.Value)
		}
		if got := v.Get(svgCircuitParent.OID.Append(idx)); got.Value != tree.locIdx[mustLoc(t, st, l.Parent)] {
			t.Errorf("%s parent index %v", l.ID, got.Value)
		}
	}
	for i := range st.Tags() {
		s := snap.Tag(i)
		idx := tree.tagIdx[i]
		got := v.Get(svgTagValue.OID.Append(idx))
		gotInt := v.Get(svgTagValueInteger.OID.Append(idx))
		switch {
		case !s.Value.IsNum:
			if got.Type != gosnmp.NoSuchInstance || gotInt.Type != gosnmp.NoSuchInstance {
				t.Errorf("tag %s %q: %v %v, want no instances", st.Tag(i).ID, s.Value.String(), got, gotInt)
			}
		case s.Value.Num > 2147483.647:
			if got.Type != gosnmp.NoSuchInstance || gotInt.Type != gosnmp.NoSuchInstance {
				t.Errorf("tag %s %v: %v %v, want no instances (beyond Integer32 either way)", st.Tag(i).ID, s.Value.Num, got, gotInt)
			}
		default:
			if got.Value != int(math.Round(s.Value.Num*1000)) || gotInt.Value != int(math.Round(s.Value.Num)) {
				t.Errorf("tag %s %v: %v %v", st.Tag(i).ID, s.Value.Num, got.Value, gotInt.Value)
			}
		}
	}
	// Alarms: severity mapping and state.
	for _, a := range snap.Alarms() {
		sev := v.Get(svgAlarmPerceivedSeverity.OID.Append(uint32(a.ID))).Value
		want := map[model.Severity]int{model.SeverityUrgent: 3, model.SeverityHigh: 4, model.SeverityLow: 5, model.SeverityInformational: 6}[a.Severity]
		if a.State == model.AlarmCleared {
			want = 1
		}
		if sev != want {
			t.Errorf("alarm %d (%s, %s): perceived severity %v, want %d", a.ID, a.Severity, a.State, sev, want)
		}
		res := v.Get(svgAlarmResource.OID.Append(uint32(a.ID))).Value.(string)
		switch {
		case a.AssetID != "":
			ai, _ := st.AssetIndex(a.AssetID)
			if want := svgAssetId.OID.Append(tree.assetIdx[ai]).String(); res != want {
				t.Errorf("alarm %d resource %s, want %s", a.ID, res, want)
			}
		case a.Cabinet != "":
			ci := mustLoc(t, st, model.LocationID{IBX: a.IBX, Level: model.LevelCabinet, Name: a.Cabinet})
			if want := svgCabinetId.OID.Append(tree.locIdx[ci]).String(); res != want {
				t.Errorf("alarm %d resource %s, want %s", a.ID, res, want)
			}
		default:
			if res != "0.0" {
				t.Errorf("alarm %d resource %s, want 0.0", a.ID, res)
			}
		}
	}
}

func mustLoc(t *testing.T, st *model.Structure, id model.LocationID) int {
	t.Helper()
	i, ok := st.LocationIndex(id)
	if !ok {
		t.Fatalf("no location %s", id)
	}
	return i
}

// TestGetExceptions: noSuchObject for unknown object types, noSuchInstance
// for unknown rows of known columns, endOfMibView after the last instance.
func TestGetExceptions(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	mib, _ := OpenMIB("", nil)
	v := mib.View(store.Snapshot())
	for _, c := range []struct {
		oid  OID
		want gosnmp.Asn1BER
	}{
		{OID{1, 3, 6, 1, 2, 1, 1, 1, 0}, gosnmp.NoSuchObject},                   // not in this MIB
		{rootOID.Append(1, 99, 1, 2, 1), gosnmp.NoSuchObject},                   // no such table
		{svgCageId.OID.Append(999999), gosnmp.NoSuchInstance},                   // no such row
		{svgCageId.OID, gosnmp.NoSuchInstance},                                  // object, no instance part
		{svgCageId.OID.Append(1, 2), gosnmp.NoSuchInstance},                     // instance too long
		{entryOf(svgCageId).Append(1, 1), gosnmp.NoSuchObject},                  // the not-accessible index column
		{svgUpstreamState.OID.Append(1), gosnmp.NoSuchInstance},                 // scalar instance other than .0
		{rootOID, gosnmp.NoSuchObject},                                          // the module node itself
		{svgAlarmId.OID.Append(4294967295), gosnmp.NoSuchInstance},              // no such alarm
		{rootOID.Append(1, 1, 99, 0), gosnmp.NoSuchObject},                      // no such scalar
		{OID{1, 3, 6, 1, 4, 1, 32473, 1, 2, 1, 2, 1, 5}, gosnmp.NoSuchInstance}, // svgIbxId, instance too long
	} {
		if got := v.Get(c.oid); got.Type != c.want || !got.OID.Equal(c.oid) {
			t.Errorf("GET %s = %v %v, want %v", c.oid, got.Type, got.Value, c.want)
		}
	}
	vbs := walk(t, v)
	last := vbs[len(vbs)-1].OID
	if got := v.GetNext(last); got.Type != gosnmp.EndOfMibView {
		t.Errorf("GetNext(last) = %v", got)
	}
	// Next with an end bound and include.
	first := vbs[0]
	if got, ok := v.Next(first.OID, true, nil); !ok || !got.OID.Equal(first.OID) {
		t.Errorf("Next(first, include) = %v %v", got.OID, ok)
	}
	if _, ok := v.Next(OID{1}, false, first.OID); ok {
		t.Error("Next bounded by the first instance found something")
	}
	if got, ok := v.Next(OID{1}, false, first.OID.Append(0)); !ok || !got.OID.Equal(first.OID) {
		t.Errorf("Next bounded just after the first instance = %v %v", got.OID, ok)
	}
	// GetNext from inside a row and from the middle of an instance.
	mid := vbs[len(vbs)/2]
	if got := v.GetNext(mid.OID[:len(mid.OID)-1]); got.OID.Compare(mid.OID) > 0 {
		t.Errorf("GetNext(column of %s) = %s, skipped it", mid.OID, got.OID)
	}
	if got := v.GetNext(append(mid.OID.Append(), 7)); got.OID.Compare(mid.OID) <= 0 {
		t.Errorf("GetNext(below %s) = %s", mid.OID, got.OID)
	}
}

// TestValueChangeKeepsTree: a value change reuses the tree; only a
// structure change builds one.
func TestValueChangeKeepsTree(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	mib, _ := OpenMIB("", nil)
	v1 := mib.View(store.Snapshot())
	if err := fillVaried(store, 1); err != nil {
		t.Fatal(err)
	}
	store.Update(func(tx *model.Tx) error {
		tx.ObserveAlarm(model.AlarmObservation{IBX: "CH1", AssetID: "CH1.UPS-1", Condition: "new", Active: true, Triggered: fixtureTime}, "feed")
		tx.SetUpstream(model.UpstreamDegraded, "timeout")
		return nil
	})
	v2 := mib.View(store.Snapshot())
	if v1.tree != v2.tree || mib.Builds() != 1 {
		t.Fatalf("value change rebuilt the tree (builds %d)", mib.Builds())
	}
	if reflect.DeepEqual(walk(t, v1), walk(t, v2)) {
		t.Fatal("values did not change")
	}
	store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{"NY5": footprint("NY5", 1, 1, 1, 1, 1)})
		return nil
	})
	if v3 := mib.View(store.Snapshot()); v3.tree == v2.tree || mib.Builds() != 2 {
		t.Fatalf("structure change did not build a tree (builds %d)", mib.Builds())
	}
	// The previous structure's tree is kept for requests holding an older snapshot.
	if mib.Tree(v2.snap.Structure()) != v2.tree || mib.Builds() != 2 {
		t.Error("previous tree rebuilt")
	}
	// ... but only while one does: the MIB alone does not keep the replaced
	// structure alive.
	old := weak.Make(v2.tree)
	v1, v2 = nil, nil
	runtime.GC()
	if old.Value() != nil {
		t.Error("the replaced structure's tree is kept alive with no View using it")
	}
	runtime.KeepAlive(mib)
}

// idsByIndex maps each index of a level table to its SmartView id.
func idsByIndex(t *testing.T, v *View, col *Object) map[uint32]string {
	t.Helper()
	out := map[uint32]string{}
	for oid := col.OID; len(out) < 1_000_000; {
		vb, ok := v.Next(oid, false, col.OID.SubtreeEnd())
		if !ok {
			return out
		}
		if vb.OID.Compare(oid) <= 0 {
			t.Fatalf("Next(%s) = %s: not increasing", oid, vb.OID)
		}
		out[vb.OID[len(vb.OID)-1]] = vb.Value.(string)
		oid = vb.OID
	}
	t.Fatal("column does not end")
	return nil
}

// TestIndexesStable: indexes survive a restart (same state directory) and
// a structure refresh that adds and removes rows; removed rows' indexes
// are not reused; a corrupt index file is refused.
func TestIndexesStable(t *testing.T) {
	dir := t.TempDir()
	store := newFixtureStore(t, smallFootprint())
	mib, err := OpenMIB(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cols := []*Object{svgIbxId, svgCageId, svgCabinetId, svgCircuitId, svgSensorId, svgAssetId, svgTagId}
	before := map[*Object]map[uint32]string{}
	v := mib.View(store.Snapshot())
	for _, c := range cols {
		before[c] = idsByIndex(t, v, c)
		if len(before[c]) == 0 {
			t.Fatalf("%s: no rows", c.Name)
		}
	}

	// Restart: a new MIB over the same state directory.
	mib2, err := OpenMIB(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	v2 := mib2.View(store.Snapshot())
	for _, c := range cols {
		if got := idsByIndex(t, v2, c); !reflect.DeepEqual(got, before[c]) {
			t.Errorf("%s after restart: %v, want %v", c.Name, got, before[c])
		}
	}

	// Refresh: CH1 loses a cage, gains others; SV4 unchanged.
	ch1 := footprint("CH1", 4, 2, 3, 4, 4)
	ch1.Locations = ch1.Locations[2:] // drop cage 0 and its sensor: its cabinets land under the IBX
	unlink(&ch1, "CH1:01:000000")
	store.Update(func(tx *model.Tx) error { tx.SetStructure(map[string]model.IBXStructure{"CH1": ch1}); return nil })
	v3 := mib2.View(store.Snapshot())
	for _, c := range cols {
		after := idsByIndex(t, v3, c)
		seen := map[string]uint32{}
		for idx, id := range before[c] {
			seen[id] = idx
		}
		for idx, id := range after {
			if old, ok := seen[id]; ok && old != idx {
				t.Errorf("%s: %s moved from index %d to %d", c.Name, id, old, idx)
			}
			if prev, ok := before[c][idx]; ok && prev != id {
				t.Errorf("%s: index %d reused for %s (was %s)", c.Name, idx, id, prev)
			}
		}
	}
	if got := v3.Get(svgCageId.OID.Append(indexOf(t, before[svgCageId], "CH1:01:000000"))); got.Type != gosnmp.NoSuchInstance {
		t.Errorf("removed cage still served: %v", got)
	}

	// A corrupt file is an error, not a renumbering.
	path := dir + "/" + IndexFile
	if err := writeFile(path, []byte(`{"version":1,"spaces":{"tags":{"next":2,"ids":{"a":1,"b":1}}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenMIB(dir, nil); err == nil {
		t.Error("duplicate index accepted")
	}
	if err := writeFile(path, []byte(`{"vers`)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenMIB(dir, nil); err == nil {
		t.Error("truncated index file accepted")
	}
}

func indexOf(t *testing.T, m map[uint32]string, id string) uint32 {
	t.Helper()
	for idx, v := range m {
		if v == id {
			return idx
		}
	}
	t.Fatalf("no %s", id)
	return 0
}

// TestNotificationVarbinds: each transition gives the MIB notification's
// objects in order, instance = alarm id, values equal to the table's.
func TestNotificationVarbinds(t *testing.T) {
	store, sub := func() (*model.Store, *model.Subscription) {
		s := newFixtureStore(t, smallFootprint())
		_, sub := s.Subscribe()
		return s, sub
	}()
	mib, _ := OpenMIB("", nil)
	store.Update(func(tx *model.Tx) error {
		o := model.AlarmObservation{IBX: "SV4", AssetID: "SV4.UPS-1", TagID: "SV4.UPS-1:tag2", Condition: "Low fuel",
			Severity: model.SeverityHigh, SeverityText: "High", Value: "12", Unit: "%", Active: true, Triggered: fixtureTime}
		tx.ObserveAlarm(o, "feed")
		o.Acknowledged = true
		tx.ObserveAlarm(o, "poll")
		o.Active, o.Cleared = false, fixtureTime.Add(time.Minute)
		tx.ObserveAlarm(o, "poll")
		return nil
	})
	d, err := sub.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	snap := store.Snapshot()
	v := mib.View(snap)
	wantNotif := []*Notification{svgAlarmRaised, svgAlarmAcknowledged, svgAlarmCleared}
	if len(d.Alarms) != 3 {
		t.Fatalf("%d transitions", len(d.Alarms))
	}
	for i, tr := range d.Alarms {
		nv, err := mib.AlarmNotification(snap, tr)
		if err != nil {
			t.Fatal(err)
		}
		if nv.Notification != wantNotif[i] {
			t.Errorf("%s: notification %s", tr.Kind, nv.Notification.Name)
		}
		if len(nv.Varbinds) != len(nv.Notification.Objects) {
			t.Fatalf("%d varbinds for %d objects", len(nv.Varbinds), len(nv.Notification.Objects))
		}
		for j, vb := range nv.Varbinds {
			obj := nv.Notification.Objects[j]
			if !vb.OID.Equal(obj.OID.Append(uint32(tr.Alarm.ID))) || vb.Type != obj.Type {
				t.Errorf("%s varbind %d: %s %s, want %s.%d %s", nv.Notification.Name, j, vb.OID, vb.Type, obj.Name, tr.Alarm.ID, obj.Type)
			}
			checkValueType(t, vb)
		}
		// The transition's identity first: (svgAlarmId, svgAlarmSeq).
		if nv.Varbinds[0].Value != uint32(tr.Alarm.ID) || nv.Varbinds[1].Value != uint32(tr.Alarm.Seq) {
			t.Errorf("%s: first varbinds %v %v, want id %d seq %d", tr.Kind, nv.Varbinds[0], nv.Varbinds[1], tr.Alarm.ID, tr.Alarm.Seq)
		}
		sev := nv.Varbinds[2].Value
		if want := []int{4, 4, 1}[i]; sev != want {
			t.Errorf("%s: perceived severity %v, want %d", tr.Kind, sev, want)
		}
		// The final state equals what the table serves.
		if i == 2 {
			for _, vb := range nv.Varbinds {
				if got := v.Get(vb.OID); !reflect.DeepEqual(got, vb) {
					t.Errorf("table %v, notification %v", got, vb)
				}
			}
		}
		pdus := nv.PDUs(123)
		if pdus[0].Name != "1.3.6.1.2.1.1.3.0" || pdus[1].Name != "1.3.6.1.6.3.1.1.4.1.0" || pdus[1].Value != nv.Notification.OID.String() {
			t.Errorf("PDUs start %v %v", pdus[0], pdus[1])
		}
	}
	for _, n := range []func() (NotificationVarbinds, error){
		func() (NotificationVarbinds, error) { return mib.UpstreamNotification(snap, true) },
		func() (NotificationVarbinds, error) { return mib.HeartbeatNotification(snap) },
		func() (NotificationVarbinds, error) {
			return mib.AlertNotification(model.AlertTransition{Kind: model.AlertTriggered, Alert: *snap.Alerts()[0]})
		},
	} {
		nv, err := n()
		if err != nil {
			t.Fatal(err)
		}
		for j, vb := range nv.Varbinds {
			obj := nv.Notification.Objects[j]
			if !vb.OID.HasPrefix(obj.OID) || vb.Type != obj.Type {
				t.Errorf("%s varbind %d: %s %s", nv.Notification.Name, j, vb.OID, vb.Type)
			}
			if got := v.Get(vb.OID); !reflect.DeepEqual(got, vb) {
				t.Errorf("%s: table %v, notification %v", nv.Notification.Name, got, vb)
			}
		}
	}
	if _, err := mib.AlarmNotification(snap, model.AlarmTransition{Kind: model.AlertTriggered}); err == nil {
		t.Error("alert kind accepted as an alarm transition")
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// TestViewQualityClock: a request's view (pooledView, what the agent
// answers from) judges every reading's quality at the instant it was
// taken; a view of View (the AgentX subagent keeps one while the snapshot
// is current) judges it when read, so a value goes stale on time without a
// commit. Both read the same reading otherwise.
func TestViewQualityClock(t *testing.T) {
	now := fixtureTime
	store, err := model.NewStore(model.Options{Now: func() time.Time { return now }, StaleAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Update(func(tx *model.Tx) error {
		tx.SetStructure(smallFootprint())
		tx.SetUpstream(model.UpstreamOK, "")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := fillVaried(store, 0); err != nil {
		t.Fatal(err)
	}
	mib, _ := OpenMIB("", nil)
	snap := store.Snapshot()
	kept := mib.View(snap)
	request := mib.pooledView(snap)
	defer request.release()
	idx := kept.tree.tagIdx[0]
	quality := func(v *View) any { return v.Get(svgTagQuality.OID.Append(idx)).Value }
	if q := quality(kept); q != svgQualityFresh {
		t.Fatalf("fresh reading: quality %v, want fresh(%d)", q, svgQualityFresh)
	}
	now = now.Add(time.Hour) // no commit
	if q := quality(kept); q != svgQualityStale {
		t.Errorf("kept view an hour later: quality %v, want stale(%d)", q, svgQualityStale)
	}
	if q := quality(request); q != svgQualityFresh {
		t.Errorf("request view an hour later: quality %v, want fresh(%d), judged when the request began", q, svgQualityFresh)
	}
	if q := quality(mib.pooledView(snap)); q != svgQualityStale {
		t.Errorf("a new request's view: quality %v, want stale(%d)", q, svgQualityStale)
	}
	if a, b := kept.Get(svgTagValueText.OID.Append(idx)), request.Get(svgTagValueText.OID.Append(idx)); !reflect.DeepEqual(a, b) {
		t.Errorf("the two views read %v and %v", a, b)
	}
}
