package model_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// clock is a manual clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// footprint builds a synthetic IBX: cages × cabinets × circuits, assets with
// tags; asset k affects cage k%cages.
func footprint(ibx string, cages, cabinets, circuits, assets, tags int) IBXStructure {
	return modeltest.Footprint(ibx, modeltest.Shape{Cages: cages, Cabinets: cabinets, Circuits: circuits, Assets: assets, Tags: tags})
}

// levelIn lists the locations of one level in ibx, in the structure's order.
func levelIn(st *Structure, ibx string, level Level) []LocationID {
	from, to := st.IBXLocations(ibx)
	var ids []LocationID
	for _, l := range st.Locations()[from:to] {
		if l.ID.Level == level {
			ids = append(ids, l.ID)
		}
	}
	return ids
}

func newTestStore(t testing.TB, c *clock, opts Options) *Store {
	t.Helper()
	opts.Now = c.Now
	s, err := NewStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustUpdate(t testing.TB, s *Store, fn func(tx *Tx) error) *Delta {
	t.Helper()
	d, err := s.Update(fn)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSetStructureNormalizes(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	cage := LocationID{"SV4", LevelCage, "SV4:01:001150"}
	in := IBXStructure{
		Locations: []Location{
			{ID: cage, Label: "SV4:01:001150", Number: "1852"},                                                // no parent → under IBX
			{ID: LocationID{"SV4", LevelCabinet, "SV4:01:001150:0101"}, Number: "74147", Parent: cage},        // fine
			{ID: LocationID{"SV4", LevelCabinet, "SV4:01:001150:0101"}, Number: "dup", Parent: cage},          // duplicate
			{ID: LocationID{"SV4", LevelCabinet, "SV4:01:009999:0101"}, Parent: LocationID{"SV4", 3, "gone"}}, // unknown parent
			{ID: LocationID{"CH1", LevelCage, "CH1:05:BCM000"}},                                               // other IBX
			{ID: LocationID{"SV4", LevelZone, "A"}, Parent: LocationID{"SV4", LevelZone, "B"}},                // cycle A→B→A
			{ID: LocationID{"SV4", LevelZone, "B"}, Parent: LocationID{"SV4", LevelZone, "A"}},
		},
		Assets: []Asset{
			{ID: "SV4.UPS-1", Affects: LocationsOf(cage, LocationID{"SV4", LevelCircuit, "404"}, LocationID{"SV4", 0, "bad"})}, // 404: discovered
			{ID: "SV4.UPS-1"},
		},
		Tags: []Tag{
			{ID: "SV4.UPS-1:load", Asset: "SV4.UPS-1"},
			{ID: "SV4.X:load", Asset: "SV4.X"},
		},
	}
	var warnings []string
	d := mustUpdate(t, s, func(tx *Tx) error { warnings = tx.SetStructure(map[string]IBXStructure{"SV4": in}); return nil })
	if d == nil || !d.StructureChanged {
		t.Fatalf("delta = %+v, want a structure change", d)
	}
	for _, want := range []string{"duplicate location", "parent SV4/CAGE/gone", "another IBX", "parent cycle", `affects "SV4/Level(0)/bad", which cannot be placed`, "duplicate asset", "unknown asset"} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning containing %q in %q", want, warnings)
		}
	}
	if n := s.Unplaced()[UnplacedNoLevel]; n != 1 {
		t.Errorf("unplaced no_level = %d, want 1 (the link to a location without a level)", n)
	}
	st := s.Snapshot().Structure()
	var names []string
	for _, l := range st.Locations() {
		names = append(names, l.ID.String()+"<"+l.Parent.Name)
	}
	want := []string{"SV4/IBX/SV4<", "SV4/ZONE/A<SV4", "SV4/ZONE/B<A", "SV4/CAGE/SV4:01:001150<SV4", "SV4/CABINET/SV4:01:001150:0101<SV4:01:001150", "SV4/CABINET/SV4:01:009999:0101<SV4", "SV4/CIRCUIT/404<SV4"}
	if !slices.Equal(names, want) {
		t.Errorf("locations:\n got %q\nwant %q", names, want)
	}
	root, _ := st.LocationIndex(IBXLocation("SV4"))
	var kids []string
	for _, k := range st.Children(root) {
		kids = append(kids, st.Location(int(k)).ID.Name)
	}
	if !slices.Equal(kids, []string{"404", "A", "SV4:01:001150", "SV4:01:009999:0101"}) {
		t.Errorf("children of SV4 = %q", kids)
	}
	ci, _ := st.LocationIndex(cage)
	if got := st.Location(ci); got.Number != "1852" || got.Label != "SV4:01:001150" {
		t.Errorf("cage = %+v", got)
	}
	if len(st.Assets()) != 1 || len(st.Tags()) != 1 {
		t.Fatalf("assets %d tags %d, want 1 and 1", len(st.Assets()), len(st.Tags()))
	}
	di, _ := st.LocationIndex(LocationID{"SV4", LevelCircuit, "404"})
	if aff := st.Affects(0).Slice(); !slices.Equal(aff, []int32{int32(ci), int32(di)}) || st.Location(di).Discovered != OriginLink {
		t.Errorf("affects = %v, want [%d %d] (404 discovered from the link: %v)", aff, ci, di, st.Location(di).Discovered)
	}
	if by := st.AffectedBy(ci); by.Len() != 1 || by.At(0) != 0 {
		t.Errorf("affected by = %v", by)
	}
	if tags := st.AssetTags(0); len(tags) != 1 {
		t.Errorf("asset tags = %v", tags)
	}
}

func TestStructureUnchangedIsNoOp(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	fp := footprint("CH1", 3, 2, 2, 4, 3)
	mustUpdate(t, s, func(tx *Tx) error { tx.SetStructure(map[string]IBXStructure{"CH1": fp}); return nil })
	st := s.Snapshot().Structure()
	d := mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 3, 2, 2, 4, 3)})
		return nil
	})
	if d != nil {
		t.Errorf("identical structure produced delta %+v", d)
	}
	if s.Snapshot().Structure() != st {
		t.Error("identical structure replaced the Structure (indexes would be rebuilt)")
	}
	// A value change keeps the very same Structure too.
	d = mustUpdate(t, s, func(tx *Tx) error {
		return tx.SetTag("CH1.UPS-0:tag0", TagReading{Value: Text("1"), ReadingTime: c.Now()}, time.Time{})
	})
	if d == nil || d.StructureChanged || s.Snapshot().Structure() != st {
		t.Errorf("value change: delta %+v, structure replaced %v", d, s.Snapshot().Structure() != st)
	}
}

func TestValuesSurviveStructureChange(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 2, 1, 1, 2, 2)})
		return nil
	})
	mustUpdate(t, s, func(tx *Tx) error {
		return errors.Join(
			tx.SetTag("CH1.UPS-1:tag1", TagReading{Value: Text("42.5"), ReadingTime: c.Now()}, time.Time{}),
			tx.SetPower(LocationID{"CH1", LevelCage, "CH1:01:000001"}, Power{KVA: Number(3.5), ReadingTime: c.Now()}, time.Time{}))
	})
	// Add an IBX and an asset that sorts first: every index moves.
	grown := footprint("CH1", 3, 1, 1, 3, 2)
	grown.Assets = append(grown.Assets, Asset{ID: "CH1.AAA"})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": grown, "AM1": footprint("AM1", 1, 1, 1, 1, 1)})
		return nil
	})
	snap := s.Snapshot()
	st := snap.Structure()
	ti, _ := st.TagIndex("CH1.UPS-1:tag1")
	if v := snap.Tag(ti); v.Value.String() != "42.5" || v.Quality != QualityGood {
		t.Errorf("tag after restructure = %+v", v)
	}
	li, _ := st.LocationIndex(LocationID{"CH1", LevelCage, "CH1:01:000001"})
	if p := snap.Power(li); p.KVA.Num != 3.5 {
		t.Errorf("power after restructure = %+v", p)
	}
	ni, _ := st.TagIndex("CH1.UPS-2:tag0")
	if v := snap.Tag(ni); v.Quality != QualityUnavailable {
		t.Errorf("new tag quality = %v, want unavailable", v.Quality)
	}
	if st.IBXs()[0] != "AM1" {
		t.Errorf("IBXs = %v", st.IBXs())
	}
	from, to := st.IBXTags("CH1")
	if to-from != 6 {
		t.Errorf("CH1 tags range %d..%d", from, to)
	}
	// Removing an IBX drops its values.
	mustUpdate(t, s, func(tx *Tx) error { tx.RemoveIBX("AM1"); return nil })
	if got := s.Snapshot().Structure().IBXs(); !slices.Equal(got, []string{"CH1"}) {
		t.Errorf("IBXs after remove = %v", got)
	}
}

// TestValuesSurviveLinksRebuild checks the rebuild of the links pass: one
// that keeps every location keeps the value columns as they are, one that
// discovers a location moves every later index; either way each reading is
// its element's.
func TestValuesSurviveLinksRebuild(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 3, 2, 2, 2, 2)})
		return nil
	})
	st := s.Snapshot().Structure()
	mustUpdate(t, s, func(tx *Tx) error {
		var errs []error
		for i, l := range st.Locations() {
			switch l.ID.Level {
			case LevelCage:
				errs = append(errs, tx.SetEnvironment(l.ID, Environment{Temperature: Number(float64(i)), ReadingTime: c.Now()}, time.Time{}))
			case LevelCabinet, LevelCircuit:
				errs = append(errs, tx.SetPower(l.ID, Power{KVA: Number(float64(i)), ReadingTime: c.Now()}, time.Time{}))
			}
		}
		for i, tg := range st.Tags() {
			errs = append(errs, tx.SetTag(tg.ID, TagReading{Value: Number(float64(100 + i)), ReadingTime: c.Now()}, time.Time{}))
		}
		return errors.Join(errs...)
	})
	want := s.Snapshot()
	circuits := levelIn(st, "CH1", LevelCircuit)
	for _, tt := range []struct {
		name  string
		links LocationList
	}{
		{"locations kept", LocationsOf(circuits[0], circuits[3])},
		{"a location discovered before every circuit", LocationsOf(LocationID{"CH1", LevelCircuit, "CH1-0"}, circuits[1])},
	} {
		gen := s.Snapshot().Structure().Gen()
		mustUpdate(t, s, func(tx *Tx) error {
			tx.SetLinks(map[string]IBXLinks{"CH1": {ByAsset: map[string]LocationList{st.Asset(0).ID: tt.links}}})
			return nil
		})
		got := s.Snapshot()
		if got.Structure().Gen() == gen {
			t.Fatalf("%s: the structure did not change", tt.name)
		}
		for i, l := range want.Structure().Locations() {
			j, ok := got.Structure().LocationIndex(l.ID)
			if !ok {
				t.Fatalf("%s: %s is gone", tt.name, l.ID)
			}
			if w, g := want.Power(i), got.Power(j); w.KVA != g.KVA || w.Quality != g.Quality {
				t.Errorf("%s: %s power %v (%v), want %v (%v)", tt.name, l.ID, g.KVA, g.Quality, w.KVA, w.Quality)
			}
			if w, g := want.Environment(i), got.Environment(j); w.Temperature != g.Temperature || w.Quality != g.Quality {
				t.Errorf("%s: %s temperature %v (%v), want %v (%v)", tt.name, l.ID, g.Temperature, g.Quality, w.Temperature, w.Quality)
			}
		}
		for i, tg := range want.Structure().Tags() {
			j, _ := got.Structure().TagIndex(tg.ID)
			if w, g := want.Tag(i), got.Tag(j); w.Value != g.Value || w.Quality != g.Quality {
				t.Errorf("%s: tag %s %v, want %v", tt.name, tg.ID, g.Value, w.Value)
			}
		}
	}
}

func TestNewestWinsAndQuality(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{StaleAfter: time.Minute})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 1, 1)})
		return nil
	})
	const tag = "CH1.UPS-0:tag0"
	t0 := c.Now()
	type step struct {
		name      string
		advance   time.Duration
		value     string // "" = no write
		readingAt time.Duration
		age       bool
		upstream  UpstreamState
		wantValue string
		wantQ     Quality
		wantDelta bool
	}
	steps := []step{
		{name: "first reading", value: "10", readingAt: 0, upstream: UpstreamOK, wantValue: "10", wantQ: QualityGood, wantDelta: true},
		{name: "newer reading", advance: 10 * time.Second, value: "11", readingAt: 10 * time.Second, wantValue: "11", wantQ: QualityGood, wantDelta: true},
		{name: "older reading (slow poll after feed) is ignored", advance: time.Second, value: "9", readingAt: 5 * time.Second, wantValue: "11", wantQ: QualityGood},
		{name: "same reading only confirms", advance: time.Second, value: "11", readingAt: 10 * time.Second, wantValue: "11", wantQ: QualityGood},
		{name: "not confirmed within StaleAfter → stale", advance: 2 * time.Minute, age: true, wantValue: "11", wantQ: QualityStale, wantDelta: true},
		{name: "aging again changes nothing", advance: time.Second, age: true, wantValue: "11", wantQ: QualityStale},
		{name: "confirmation clears stale", value: "11", readingAt: 10 * time.Second, wantValue: "11", wantQ: QualityGood, wantDelta: true},
		{name: "upstream down → no communication, value kept", upstream: UpstreamDown, wantValue: "11", wantQ: QualityNoComm, wantDelta: true},
		{name: "upstream back", upstream: UpstreamOK, wantValue: "11", wantQ: QualityGood, wantDelta: true},
		{name: "same value, newer time is a change", advance: time.Second, value: "11", readingAt: 20 * time.Second, wantValue: "11", wantQ: QualityGood, wantDelta: true},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		d := mustUpdate(t, s, func(tx *Tx) error {
			if st.upstream != UpstreamStarting {
				tx.SetUpstream(st.upstream, "")
			}
			if st.age {
				tx.Age()
			}
			if st.value != "" {
				return tx.SetTag(tag, TagReading{Value: Text(st.value), ReadingTime: t0.Add(st.readingAt)}, time.Time{})
			}
			return nil
		})
		ti, _ := s.Snapshot().Structure().TagIndex(tag)
		got := s.Snapshot().Tag(ti)
		if got.Value.String() != st.wantValue || got.Quality != st.wantQ || (d != nil) != st.wantDelta {
			t.Errorf("%s: value %q quality %v delta %v; want %q %v %v", st.name, got.Value.String(), got.Quality, d != nil, st.wantValue, st.wantQ, st.wantDelta)
		}
	}
}

func TestMarkStaleScopesToIBXAndKind(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 1, 1), "SV4": footprint("SV4", 1, 1, 1, 1, 1)})
		return nil
	})
	mustUpdate(t, s, func(tx *Tx) error {
		return errors.Join(
			tx.SetTag("CH1.UPS-0:tag0", TagReading{Value: Text("1")}, time.Time{}),
			tx.SetTag("SV4.UPS-0:tag0", TagReading{Value: Text("1")}, time.Time{}),
			tx.SetPower(IBXLocation("CH1"), Power{KVA: Number(1)}, time.Time{}))
	})
	d := mustUpdate(t, s, func(tx *Tx) error { tx.MarkStale("CH1", KindTags); return nil })
	snap := s.Snapshot()
	st := snap.Structure()
	q := func(tag string) Quality { i, _ := st.TagIndex(tag); return snap.Tag(i).Quality }
	li, _ := st.LocationIndex(IBXLocation("CH1"))
	if q("CH1.UPS-0:tag0") != QualityStale || q("SV4.UPS-0:tag0") != QualityGood || snap.Power(li).Quality != QualityGood {
		t.Errorf("qualities CH1 tag %v, SV4 tag %v, CH1 power %v", q("CH1.UPS-0:tag0"), q("SV4.UPS-0:tag0"), snap.Power(li).Quality)
	}
	if d == nil || len(d.Tags) != 1 {
		t.Errorf("delta = %+v, want one tag", d)
	}
}

func TestUnknownReadingIsAnError(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	_, err := s.Update(func(tx *Tx) error { return tx.SetTag("nope", TagReading{}, time.Time{}) })
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("err = %v", err)
	}
	if s.Snapshot().Seq() != 0 {
		t.Error("a failed batch was committed")
	}
}

func TestSnapshotsAreImmutable(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 2, 2, 2, 300, 2)})
		return nil
	})
	set := func(v string) {
		mustUpdate(t, s, func(tx *Tx) error {
			for _, tag := range s.Snapshot().Structure().Tags() {
				if err := tx.SetTag(tag.ID, TagReading{Value: Text(v), ReadingTime: c.Now()}, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
		c.Advance(time.Second)
	}
	set("1")
	old := s.Snapshot()
	set("2")
	for i := range old.Structure().Tags() {
		if got := old.Tag(i).Value.String(); got != "1" {
			t.Fatalf("old snapshot tag %d = %q after a later update", i, got)
		}
		if got := s.Snapshot().Tag(i).Value.String(); got != "2" {
			t.Fatalf("new snapshot tag %d = %q", i, got)
		}
	}
}

func TestStreamOrderAndLag(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{History: 4})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 1, 1)})
		return nil
	})
	snap, sub := s.Subscribe()
	write := func(i int) {
		c.Advance(time.Second)
		mustUpdate(t, s, func(tx *Tx) error {
			return tx.SetTag("CH1.UPS-0:tag0", TagReading{Value: Text(fmt.Sprint(i)), ReadingTime: c.Now()}, time.Time{})
		})
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		write(i)
	}
	for want := snap.Seq() + 1; want <= snap.Seq()+3; want++ {
		d, err := sub.Next(ctx)
		if err != nil || d.Seq != want || len(d.Tags) != 1 || d.Resync {
			t.Fatalf("Next = %+v, %v; want seq %d with one tag", d, err, want)
		}
	}
	// Fall behind by more than the history: one Resync delta, then live again.
	for i := 0; i < 10; i++ {
		write(i)
	}
	d, err := sub.Next(ctx)
	if err != nil || !d.Resync || d.Missed != 10 || !d.StructureChanged {
		t.Fatalf("after lag Next = %+v, %v; want Resync with Missed 10", d, err)
	}
	if sub.Pending() != 0 {
		t.Errorf("pending after resync = %d", sub.Pending())
	}
	write(99)
	if d, err := sub.Next(ctx); err != nil || d.Resync || len(d.Tags) != 1 {
		t.Fatalf("after resync Next = %+v, %v", d, err)
	}
	// Next waits, and honours its context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sub.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next on cancelled ctx = %v", err)
	}
	got := make(chan *Delta)
	go func() {
		d, _ := sub.Next(ctx)
		got <- d
	}()
	write(100)
	if d := <-got; d == nil || len(d.Tags) != 1 {
		t.Errorf("blocked Next woke with %+v", d)
	}
}

// TestStreamBoundedByEntries: the change stream keeps at most
// HistoryEntries index list entries. A subscriber whose next delta is still
// kept gets every delta with its lists; one behind the oldest kept gets a
// Resync delta, then the deltas from there on. The newest delta is kept
// even when it alone holds more than the bound.
func TestStreamBoundedByEntries(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{History: 64, HistoryEntries: 25})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 4, 10)})
		return nil
	})
	tags := s.Snapshot().Structure().Tags()
	if len(tags) < 40 {
		t.Fatalf("footprint has %d tags", len(tags))
	}
	n := 0
	write := func(k int) { // one delta listing k tags
		n++
		c.Advance(time.Second)
		mustUpdate(t, s, func(tx *Tx) error {
			for _, tag := range tags[:k] {
				if err := tx.SetTag(tag.ID, TagReading{Value: Text(fmt.Sprint(n)), ReadingTime: c.Now()}, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	ctx := context.Background()
	next := func(sub *Subscription) *Delta {
		t.Helper()
		d, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// Within the bound: three deltas of 8 entries (24 ≤ 25) all arrive whole.
	snap, within := s.Subscribe()
	for range 3 {
		write(8)
	}
	for i := range 3 {
		if d := next(within); d.Resync || d.Seq != snap.Seq()+uint64(i)+1 || len(d.Tags) != 8 {
			t.Fatalf("delta %d within the bound: %+v", i, d)
		}
	}

	// Behind the bound: a fourth and fifth delta of 8 push the two oldest
	// out (40 > 25, 24 ≤ 25 kept); a subscriber that had read none of the
	// five gets a Resync, then the next one.
	_, behind := s.Subscribe()
	_, lagging := s.Subscribe() // reads the first after three more writes
	write(8)
	if d := next(lagging); d.Resync || len(d.Tags) != 8 {
		t.Fatalf("first delta: %+v", d)
	}
	for range 4 {
		write(8)
	}
	if d := next(behind); !d.Resync || !d.StructureChanged || d.Missed != 5 {
		t.Fatalf("behind the bound: %+v; want Resync, Missed 5", d)
	}
	// The lagging subscriber's next delta (the second of five) is gone too:
	// the stream keeps the newest three (24 entries).
	if d := next(lagging); !d.Resync || d.Missed != 4 {
		t.Fatalf("lagging behind the bound: %+v; want Resync, Missed 4", d)
	}
	write(8)
	for _, sub := range []*Subscription{behind, lagging} {
		if d := next(sub); d.Resync || len(d.Tags) != 8 {
			t.Fatalf("after the Resync: %+v", d)
		}
	}

	// One delta larger than the bound is still kept (the newest always is),
	// and the next one replaces it.
	_, big := s.Subscribe()
	write(40)
	if d := next(big); d.Resync || len(d.Tags) != 40 {
		t.Fatalf("delta larger than the bound: %+v", d)
	}
	_, big = s.Subscribe()
	write(40)
	write(1)
	if d := next(big); !d.Resync || d.Missed != 2 {
		t.Fatalf("behind a delta larger than the bound: %+v", d)
	}
}

// TestDeltaListsExact: a delta's index lists are copies of their exact
// length (the stream keeps them; the transaction reuses its buffers), and
// a later batch does not change the lists of an earlier delta.
func TestDeltaListsExact(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 1, 1, 1, 4, 10)})
		return nil
	})
	tags := s.Snapshot().Structure().Tags()
	write := func(from, to int) *Delta {
		c.Advance(time.Second)
		return mustUpdate(t, s, func(tx *Tx) error {
			for _, tag := range tags[from:to] {
				if err := tx.SetTag(tag.ID, TagReading{Value: Text(c.Now().String()), ReadingTime: c.Now()}, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	d1 := write(0, 37)
	want := make([]int32, 37)
	for i := range want {
		want[i] = int32(i)
	}
	if !slices.Equal(d1.Tags, want) || cap(d1.Tags) != len(d1.Tags) || d1.Power != nil {
		t.Fatalf("first delta: tags %v (cap %d), power %v", d1.Tags, cap(d1.Tags), d1.Power)
	}
	d2 := write(3, 5)
	if !slices.Equal(d2.Tags, []int32{3, 4}) || cap(d2.Tags) != 2 {
		t.Fatalf("second delta: tags %v (cap %d)", d2.Tags, cap(d2.Tags))
	}
	if !slices.Equal(d1.Tags, want) {
		t.Errorf("the first delta's list changed: %v", d1.Tags)
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{History: 64})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 4, 4, 2, 50, 4)})
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				snap := s.Snapshot()
				// every tag of one snapshot has the same value: batches are atomic
				first := snap.Tag(0).Value.String()
				for i := range snap.Structure().Tags() {
					if v := snap.Tag(i).Value.String(); v != first {
						t.Errorf("torn snapshot: tag 0 %q, tag %d %q", first, i, v)
						return
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // a subscriber that drains
		defer wg.Done()
		_, sub := s.Subscribe()
		for {
			if _, err := sub.Next(ctx); err != nil {
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		c.Advance(time.Millisecond)
		mustUpdate(t, s, func(tx *Tx) error {
			for _, tag := range tx.Structure().Tags() {
				if err := tx.SetTag(tag.ID, TagReading{Value: Text(fmt.Sprint(i)), ReadingTime: c.Now()}, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	cancel()
	wg.Wait()
}

// BenchmarkApplyReadings measures model apply throughput: batches of 5,000
// tag readings (one IBX's worth in the large profile) against a 100,000-tag
// structure. Reported as readings/s.
func BenchmarkApplyReadings(b *testing.B) {
	c := newClock()
	s := newTestStore(b, c, Options{})
	parts := map[string]IBXStructure{}
	for i := 0; i < 20; i++ {
		ibx := fmt.Sprintf("IB%02d", i)
		parts[ibx] = footprint(ibx, 100, 10, 4, 500, 10)
	}
	mustUpdate(b, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
	tags := s.Snapshot().Structure().Tags()
	const batch = 5000
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		c.Advance(time.Millisecond)
		now := c.Now()
		from := (i * batch) % len(tags)
		mustUpdate(b, s, func(tx *Tx) error {
			for _, tag := range tags[from : from+batch] {
				if err := tx.SetTag(tag.ID, TagReading{Value: Number(float64(i)), ReadingTime: now}, now); err != nil {
					return err
				}
			}
			return nil
		})
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "readings/s")
}

// BenchmarkApplyPower measures the power and environment columns: batches of
// one IBX's circuit power readings (4,000, upstream text like the API's, a
// new value each time) and its cages' environment, against a 20-IBX
// structure of 80,000 circuits; then a read of every power reading as the
// SNMP table does. Reported per reading; -benchmem counts allocations.
func BenchmarkApplyPower(b *testing.B) {
	c := newClock()
	s := newTestStore(b, c, Options{})
	parts := map[string]IBXStructure{}
	for i := 0; i < 20; i++ {
		ibx := fmt.Sprintf("IB%02d", i)
		parts[ibx] = footprint(ibx, 100, 10, 4, 0, 0)
	}
	mustUpdate(b, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
	st := s.Snapshot().Structure()
	var circuits, cages [][]LocationID
	for _, ibx := range st.IBXs() {
		circuits, cages = append(circuits, levelIn(st, ibx, LevelCircuit)), append(cages, levelIn(st, ibx, LevelCage))
	}
	text := func(f float64) Value { return Text(strconv.FormatFloat(f, 'f', 3, 64)) }
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		c.Advance(time.Millisecond)
		now := c.Now()
		k := i % len(circuits)
		mustUpdate(b, s, func(tx *Tx) error {
			for j, id := range circuits[k] {
				f := float64(i*j%1000) / 7
				p := Power{KVA: text(f), Amps: text(f * 4), SoldKVA: text(5), ContractualKVA: text(4), PercentKVA: text(f / 4),
					CabinetRating: text(6), PrimaryKVA: text(f), KW: text(f * 0.9), PowerFactor: text(0.9), PeakKVA7d: text(7),
					BreakerAlarm: FlagFalse, ReadingTime: now, UpdatedTime: now}
				if err := tx.SetPower(id, p, now); err != nil {
					return err
				}
			}
			for _, id := range cages[k] {
				e := Environment{Temperature: text(21.5), Humidity: text(40), TemperatureUnit: "°C", HumidityUnit: "%", ReadingTime: now}
				if err := tx.SetEnvironment(id, e, now); err != nil {
					return err
				}
			}
			return nil
		})
		snap := s.Snapshot()
		sum := 0.0
		for j := range snap.Structure().Locations() {
			sum += snap.Power(j).KVA.Num
		}
		n += len(circuits[k]) + len(cages[k])
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "readings/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkApplyPowerAsPolled applies one IBX's circuit power readings
// (4,000 of a 20-IBX structure of 80,000 circuits) as the poller applies a
// power list: each reading's location given to Discover, then SetPower. The
// readings are made before the timer (two sets, alternating, so every
// reading changes), so the figure is the model's: lookups and cell writes.
// "sorted" lists the readings in the structure's order (as the sandbox
// does), "shuffled" in a random one.
func BenchmarkApplyPowerAsPolled(b *testing.B) {
	for _, shuffle := range []bool{false, true} {
		name := "sorted"
		if shuffle {
			name = "shuffled"
		}
		b.Run(name, func(b *testing.B) { benchmarkApplyPowerAsPolled(b, shuffle) })
	}
}

func benchmarkApplyPowerAsPolled(b *testing.B, shuffle bool) {
	c := newClock()
	s := newTestStore(b, c, Options{})
	parts := map[string]IBXStructure{}
	for i := 0; i < 20; i++ {
		ibx := fmt.Sprintf("IB%02d", i)
		parts[ibx] = footprint(ibx, 100, 10, 4, 0, 0)
	}
	mustUpdate(b, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
	st := s.Snapshot().Structure()
	var circuits [][]LocationID
	for _, ibx := range st.IBXs() {
		ci := levelIn(st, ibx, LevelCircuit)
		if shuffle {
			r := rand.New(rand.NewPCG(uint64(len(circuits)), 14))
			r.Shuffle(len(ci), func(i, j int) { ci[i], ci[j] = ci[j], ci[i] })
		}
		circuits = append(circuits, ci)
	}
	text := func(f float64) Value { return Text(strconv.FormatFloat(f, 'f', 3, 64)) }
	var sets [2][]Power
	for k := range sets {
		for j := range circuits[0] {
			f := float64((k+1)*j%1000) / 7
			sets[k] = append(sets[k], Power{KVA: text(f), Amps: text(f * 4), SoldKVA: text(5), ContractualKVA: text(4),
				PercentKVA: text(f / 4), CabinetRating: text(6), PrimaryKVA: text(f), KW: text(f * 0.9), PowerFactor: text(0.9),
				PeakKVA7d: text(7), BreakerAlarm: FlagFalse})
		}
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		c.Advance(time.Millisecond)
		now := c.Now()
		k := i % len(circuits)
		set := sets[(i/len(circuits))%2]
		mustUpdate(b, s, func(tx *Tx) error {
			for j, id := range circuits[k] {
				p := set[j%len(set)]
				p.ReadingTime, p.UpdatedTime = now, now
				tx.Discover(OriginReading, id)
				if err := tx.SetPower(id, p, now); err != nil {
					return err
				}
			}
			return nil
		})
		n += len(circuits[k])
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "readings/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time: what a loaded machine does
// not distort as it does wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLinksRebuildSharesWhatItKeeps: a rebuild that keeps every location
// (tag) shares the old structure's array of them and its indexes, instead
// of a second copy alive beside the first; what it changed (the assets'
// links) is the new structure's own, and one that adds a location shares
// nothing of the locations.
func TestLinksRebuildSharesWhatItKeeps(t *testing.T) {
	s := newTestStore(t, newClock(), Options{})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 3, 2, 2, 2, 2)})
		return nil
	})
	st0 := s.Snapshot().Structure()
	circuits := levelIn(st0, "CH1", LevelCircuit)
	asset := st0.Asset(0).ID
	discovered := LocationID{"CH1", LevelCircuit, "CH1-0"}
	for _, tt := range []struct {
		name      string
		links     LocationList
		shareLocs bool
		served    LocationID
		notServed LocationID
	}{
		{"locations kept", LocationsOf(circuits[3]), true, circuits[3], circuits[0]},
		{"a location discovered", LocationsOf(discovered, circuits[0]), false, discovered, circuits[3]},
	} {
		before := s.Snapshot().Structure()
		mustUpdate(t, s, func(tx *Tx) error {
			tx.SetLinks(map[string]IBXLinks{"CH1": {ByAsset: map[string]LocationList{asset: tt.links}}})
			return nil
		})
		st := s.Snapshot().Structure()
		if st == before {
			t.Fatalf("%s: the structure did not change", tt.name)
		}
		if shared := &st.Locations()[0] == &before.Locations()[0]; shared != tt.shareLocs {
			t.Errorf("%s: locations shared %v, want %v", tt.name, shared, tt.shareLocs)
		}
		if &st.Tags()[0] != &before.Tags()[0] {
			t.Errorf("%s: the tags, unchanged, are a copy", tt.name)
		}
		for i, l := range st.Locations() {
			if j, ok := st.LocationIndex(l.ID); !ok || j != i {
				t.Fatalf("%s: %s found at %d (%v), is at %d", tt.name, l.ID, j, ok, i)
			}
		}
		for i, tg := range st.Tags() {
			a, _ := st.AssetIndex(tg.Asset)
			if j, ok := st.TagIndex(tg.ID); !ok || j != i || !slices.Contains(st.AssetTags(a), int32(i)) {
				t.Fatalf("%s: tag %s not found at %d or not its asset's", tt.name, tg.ID, i)
			}
		}
		a, _ := st.AssetIndex(asset)
		for id, want := range map[LocationID]bool{tt.served: true, tt.notServed: false} {
			i, ok := st.LocationIndex(id)
			if !ok {
				t.Fatalf("%s: %s is not a location", tt.name, id)
			}
			if got := slices.Contains(st.AffectedBy(i).Slice(), int32(a)); got != want {
				t.Errorf("%s: %s affected by the asset: %v, want %v", tt.name, id, got, want)
			}
		}
		if i, _ := st.LocationIndex(discovered); !tt.shareLocs {
			p, _ := st.LocationIndex(st.Location(i).Parent)
			if !slices.Contains(st.Children(p), int32(i)) {
				t.Errorf("%s: the discovered circuit is not among its parent's children", tt.name)
			}
		}
	}
}
