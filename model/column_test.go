package model_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"weak"

	. "github.com/svgateway/svgateway/model"
)

// TestPowerRoundTrip: the power column keeps a reading compactly, and what a
// snapshot returns is field for field what was stored (the upstream text of
// every value, its number, IsNum, the flag and both times in their zones).
func TestPowerRoundTrip(t *testing.T) {
	eastern := time.FixedZone("EST", -5*3600)
	at := time.Date(2026, 11, 23, 11, 59, 0, 0, time.UTC)
	cases := []struct {
		name string
		p    Power
	}{
		{"empty", Power{ReadingTime: at}},
		{"numbers from text", Power{KVA: Text("175.334"), Amps: Text("0.80"), SoldKVA: Text("1e3"), ContractualKVA: Text(" 12 "),
			PercentKVA: Text("50"), CabinetRating: Text("4.0"), PrimaryKVA: Text("-0"), RedundantKVA: Text("0"),
			KW: Text("3.25"), PowerFactor: Text("0.95"), PeakKVA7d: Text("200.5"), BreakerAlarm: FlagFalse,
			ReadingTime: at, UpdatedTime: at.Add(time.Second)}},
		{"numbers built in code", Power{KVA: Number(3.5), PeakKVA7d: Number(-1.25), BreakerAlarm: FlagTrue, ReadingTime: at.In(eastern)}},
		{"text and gaps", Power{Amps: Text("NA"), KW: Text("READY TO START"), PowerFactor: Text(strings.Repeat("x", 70000)),
			ReadingTime: time.Date(2026, 11, 23, 6, 59, 0, 0, eastern)}},
		{"unicode", Power{KVA: Text("—"), PeakKVA7d: Text("Ω 1"), ReadingTime: at}},
	}
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", len(cases), 1, 1, 0, 0)})
		return nil
	})
	cage := func(k int) LocationID { return LocationID{"CH1", LevelCage, fmt.Sprintf("CH1:01:%06d", k+1)} }
	mustUpdate(t, s, func(tx *Tx) error {
		for k, tc := range cases {
			if err := tx.SetPower(cage(k), tc.p, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	snap := s.Snapshot()
	for k, tc := range cases {
		i, ok := snap.Structure().LocationIndex(cage(k))
		if !ok {
			t.Fatalf("%s: no location %s", tc.name, cage(k))
		}
		got := snap.Power(i)
		if !reflect.DeepEqual(got.Power, tc.p) {
			t.Errorf("%s: stored %+v\nread back %+v", tc.name, tc.p, got.Power)
		}
		if got.Quality != QualityGood {
			t.Errorf("%s: quality %v", tc.name, got.Quality)
		}
		// PowerValue reads each value alone: the same as the whole reading's field.
		for f, want := range []Value{tc.p.KVA, tc.p.Amps, tc.p.SoldKVA, tc.p.ContractualKVA, tc.p.PercentKVA,
			tc.p.CabinetRating, tc.p.PrimaryKVA, tc.p.RedundantKVA, tc.p.KW, tc.p.PowerFactor, tc.p.PeakKVA7d} {
			if v := snap.PowerValue(i, PowerField(f)); v != want {
				t.Errorf("%s: PowerValue(%d) = %+v, want %+v", tc.name, f, v, want)
			}
		}
	}
	// A location without a reading has no values.
	if i, _ := snap.Structure().LocationIndex(LocationID{"CH1", LevelIBX, "CH1"}); snap.PowerValue(i, PowerKVA) != (Value{}) {
		t.Errorf("PowerValue of a location without a reading = %+v", snap.PowerValue(i, PowerKVA))
	}
	// The same readings again only confirm; one changed text (same number) is a change.
	c.Advance(time.Second)
	d := mustUpdate(t, s, func(tx *Tx) error {
		for k, tc := range cases {
			p := tc.p
			if k == 1 {
				p.Amps = Text("0.8")
			}
			if err := tx.SetPower(cage(k), p, time.Time{}); err != nil {
				return err
			}
		}
		if st := tx.Stats(); st.Applied != 1 || st.Confirmed != len(cases)-1 {
			t.Errorf("stats = %+v, want 1 applied, %d confirmed", st, len(cases)-1)
		}
		return nil
	})
	i1, _ := s.Snapshot().Structure().LocationIndex(cage(1))
	if d == nil || !slices.Equal(d.Power, []int32{int32(i1)}) {
		t.Errorf("delta = %+v, want power [%d]", d, i1)
	}
	if got := s.Snapshot().Power(i1).Amps; got.Text != "0.8" || got.Num != 0.8 {
		t.Errorf("amps after change = %+v", got)
	}
}

// TestSparseColumns: locations that never had a reading of a kind hold no
// cell for it and read as unavailable; cells are given on first write across
// chunk boundaries, older snapshots keep their values, and a structure
// change keeps the values of the locations that stay.
func TestSparseColumns(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	// 3 cages × 200 cabinets × 2 circuits: 1,804 locations, more than one chunk of each.
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 3, 200, 2, 0, 0), "AM1": footprint("AM1", 1, 1, 1, 0, 0)})
		return nil
	})
	st := s.Snapshot().Structure()
	// Environment on every other cabinet of CH1 (in reverse order, so slots
	// are not in location order), power on every circuit.
	var envAt, powerAt []LocationID
	for _, l := range slices.Backward(st.Locations()) {
		switch {
		case l.ID.IBX == "CH1" && l.ID.Level == LevelCabinet && len(envAt) < 300:
			envAt = append(envAt, l.ID)
		case l.ID.Level == LevelCircuit:
			powerAt = append(powerAt, l.ID)
		}
	}
	temp := func(id LocationID, v string) Environment {
		return Environment{Temperature: Text(v), TemperatureUnit: "°C", ReadingTime: c.Now()}
	}
	d := mustUpdate(t, s, func(tx *Tx) error {
		var errs []error
		for _, id := range envAt {
			errs = append(errs, tx.SetEnvironment(id, temp(id, "21.5"), time.Time{}))
		}
		for _, id := range powerAt {
			errs = append(errs, tx.SetPower(id, Power{KVA: Text("1.5"), ReadingTime: c.Now()}, time.Time{}))
		}
		return errors.Join(errs...)
	})
	// The change stream lists location indexes, ascending by when written.
	for k, id := range envAt {
		if i, _ := st.LocationIndex(id); d.Environment[k] != int32(i) {
			t.Fatalf("delta environment[%d] = %d, want %d (%s)", k, d.Environment[k], i, id)
		}
	}
	old := s.Snapshot()
	check := func(snap *Snapshot, want string) {
		t.Helper()
		st := snap.Structure()
		hasEnv := map[LocationID]bool{}
		for _, id := range envAt {
			hasEnv[id] = true
		}
		for i, l := range st.Locations() {
			e := snap.Environment(i)
			switch {
			case hasEnv[l.ID] && (e.Temperature.Text != want || e.TemperatureUnit != "°C" || e.Quality != QualityGood):
				t.Fatalf("environment of %s = %+v, want %s", l.ID, e, want)
			case !hasEnv[l.ID] && (e.Quality != QualityUnavailable || e.Temperature.Present()):
				t.Fatalf("environment of %s = %+v, want none", l.ID, e)
			}
			p := snap.Power(i)
			if (l.ID.Level == LevelCircuit) != (p.Quality == QualityGood && p.KVA.Text == "1.5") {
				t.Fatalf("power of %s = %+v", l.ID, p)
			}
		}
	}
	check(old, "21.5")
	c.Advance(time.Second)
	mustUpdate(t, s, func(tx *Tx) error {
		for _, id := range envAt {
			if err := tx.SetEnvironment(id, temp(id, "22"), time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	check(old, "21.5")
	check(s.Snapshot(), "22")
	// A structure change (an IBX removed, every index moves) keeps the values.
	mustUpdate(t, s, func(tx *Tx) error { tx.RemoveIBX("AM1"); return nil })
	if s.Snapshot().Structure() == st {
		t.Fatal("structure did not change")
	}
	for k, id := range powerAt {
		if id.IBX == "AM1" {
			powerAt = slices.Delete(powerAt, k, k+1)
			break
		}
	}
	check(s.Snapshot(), "22")
	// Aging marks only what exists stale, and lists its location indexes.
	c.Advance(10 * time.Minute)
	d = mustUpdate(t, s, func(tx *Tx) error { tx.Age(); return nil })
	if len(d.Environment) != len(envAt) || len(d.Power) != len(powerAt) {
		t.Errorf("aged %d environment and %d power readings, want %d and %d", len(d.Environment), len(d.Power), len(envAt), len(powerAt))
	}
	snap := s.Snapshot()
	for _, i := range d.Environment {
		if l := snap.Structure().Location(int(i)); l.ID.Level != LevelCabinet || snap.Environment(int(i)).Quality != QualityStale {
			t.Errorf("aged environment %d: %s %v", i, l.ID, snap.Environment(int(i)).Quality)
		}
	}
}

// TestStreamKeepsNoOldStructure: after a structure change the change
// stream's history no longer keeps the replaced structure alive, and a
// subscriber that reads the older deltas afterwards gets them without index
// lists (the structure delta that follows covers them), alarms intact.
func TestStreamKeepsNoOldStructure(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 2, 2, 2, 2, 2)})
		return nil
	})
	_, sub := s.Subscribe()
	cage := LocationID{"CH1", LevelCage, "CH1:01:000001"}
	old := weak.Make(s.Snapshot().Structure())
	mustUpdate(t, s, func(tx *Tx) error {
		return tx.SetPower(cage, Power{KVA: Number(1), ReadingTime: c.Now()}, time.Time{})
	})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 3, 2, 2, 2, 2)})
		return nil
	})
	for i := 0; i < 5 && old.Value() != nil; i++ {
		runtime.GC()
	}
	if old.Value() != nil {
		t.Error("the replaced structure is still alive")
	}
	ctx := context.Background()
	d1, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cur := s.Snapshot().Structure()
	if d1.Structure == cur || d1.Structure == nil || len(d1.Power) != 0 || d1.StructureChanged {
		t.Errorf("delta from before the change: %+v", d1)
	}
	d2, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Structure != cur || !d2.StructureChanged {
		t.Errorf("structure delta: %+v", d2)
	}
	// A delta after the change keeps its structure and index lists.
	mustUpdate(t, s, func(tx *Tx) error {
		return tx.SetPower(cage, Power{KVA: Number(2), ReadingTime: c.Now().Add(time.Second)}, time.Time{})
	})
	d3, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i, _ := cur.LocationIndex(cage); d3.Structure != cur || !slices.Equal(d3.Power, []int32{int32(i)}) {
		t.Errorf("delta after the change: %+v", d3)
	}
}

// TestChildren: every location but an IBX is a child of its parent, listed
// once, children ordered by name.
func TestChildren(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 3, 12, 2, 0, 0), "AM1": footprint("AM1", 2, 1, 3, 0, 0)})
		return nil
	})
	st := s.Snapshot().Structure()
	seen := map[int32]bool{}
	for i, l := range st.Locations() {
		kids := st.Children(i)
		if !slices.IsSortedFunc(kids, func(a, b int32) int { return strings.Compare(st.Location(int(a)).ID.Name, st.Location(int(b)).ID.Name) }) {
			t.Errorf("children of %s not by name", l.ID)
		}
		for _, k := range kids {
			if seen[k] || st.Location(int(k)).Parent != l.ID {
				t.Errorf("child %s of %s: seen %v, parent %s", st.Location(int(k)).ID, l.ID, seen[k], st.Location(int(k)).Parent)
			}
			seen[k] = true
		}
	}
	if want := len(st.Locations()) - len(st.IBXs()); len(seen) != want || want < 100 {
		t.Errorf("%d children, want %d", len(seen), want)
	}
}
