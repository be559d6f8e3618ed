package model_test

// Tx.Age skips a kind whose floor shows nothing confirmed before the cutoff,
// and reads the columns' chunks directly. These tests hold it to what Age did
// before: look at every cell of every kind through the column writers.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
)

// TestAgeMarksWhatEveryCellScanMarks runs random sequences of readings (with
// confirmation times now and in the past), clock steps, MarkStale, structure
// changes and discarded transactions against two stores, ageing one with
// Tx.Age and the other with AgeEveryCell, and requires the same freshness in
// every cell (stale marks included) and the same deltas after every step.
func TestAgeMarksWhatEveryCellScanMarks(t *testing.T) {
	shapes := []map[string]IBXStructure{
		{"CH1": footprint("CH1", 2, 3, 2, 4, 3), "SV4": footprint("SV4", 3, 2, 2, 3, 2)},
		{"CH1": footprint("CH1", 2, 3, 2, 4, 3)},
		{"CH1": footprint("CH1", 3, 3, 2, 5, 3), "SV4": footprint("SV4", 1, 2, 2, 3, 2), "DC2": footprint("DC2", 2, 2, 1, 2, 2)},
	}
	var marked, skipped, scanned int
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 14))
			c := newClock()
			a := newTestStore(t, c, Options{StaleAfter: 5 * time.Minute})
			b := newTestStore(t, c, Options{StaleAfter: 5 * time.Minute})
			errDiscard := errors.New("discarded")
			both := func(step string, fn func(tx *Tx, age func(*Tx)) error) {
				t.Helper()
				da, ea := a.Update(func(tx *Tx) error { return fn(tx, (*Tx).Age) })
				db, eb := b.Update(func(tx *Tx) error { return fn(tx, AgeEveryCell) })
				if (ea == nil) != (eb == nil) {
					t.Fatalf("%s: errors %v, %v", step, ea, eb)
				}
				if (da == nil) != (db == nil) {
					t.Fatalf("%s: delta %v, every-cell scan's %v", step, da != nil, db != nil)
				}
				if da != nil {
					for k, pair := range [][2][]int32{{da.Power, db.Power}, {da.Environment, db.Environment}, {da.Tags, db.Tags}, {da.Assets, db.Assets}} {
						if !slices.Equal(pair[0], pair[1]) {
							t.Fatalf("%s: kind %d: delta %v, every-cell scan's %v", step, k, pair[0], pair[1])
						}
					}
				}
				fa, fb := FreshnessOf(a.Snapshot()), FreshnessOf(b.Snapshot())
				for k := range fa {
					if len(fa[k]) != len(fb[k]) {
						t.Fatalf("%s: kind %d: %d elements, every-cell scan %d", step, k, len(fa[k]), len(fb[k]))
					}
					for i := range fa[k] {
						if fa[k][i] != fb[k][i] {
							t.Fatalf("%s: kind %d element %d: %+v, every-cell scan %+v", step, k, i, fa[k][i], fb[k][i])
						}
					}
				}
			}
			both("structure", func(tx *Tx, _ func(*Tx)) error { tx.SetStructure(shapes[0]); return nil })
			for step := 0; step < 120; step++ {
				name := fmt.Sprintf("step %d", step)
				switch r := rng.IntN(100); {
				case r < 30:
					c.Advance(time.Duration(rng.IntN(240)) * time.Second)
					both(name+" age", func(tx *Tx, age func(*Tx)) error {
						below := AgeFloorsBelow(tx)
						scanned, skipped = scanned+below, skipped+4-below
						age(tx)
						marked += DirtyCount(tx)
						return nil
					})
				case r < 35:
					c.Advance(time.Duration(rng.IntN(60)) * time.Second)
					both(name+" discarded age", func(tx *Tx, age func(*Tx)) error {
						age(tx)
						return errDiscard
					})
				case r < 40:
					ibx := []string{"CH1", "SV4", "DC2"}[rng.IntN(3)]
					kinds := Kinds(1 + rng.IntN(int(KindAll)))
					both(name+" mark stale", func(tx *Tx, _ func(*Tx)) error { tx.MarkStale(ibx, kinds); return nil })
				case r < 44:
					shape := shapes[rng.IntN(len(shapes))]
					both(name+" structure", func(tx *Tx, _ func(*Tx)) error {
						for _, ibx := range tx.Structure().IBXs() {
							if _, ok := shape[ibx]; !ok {
								tx.RemoveIBX(ibx)
							}
						}
						tx.SetStructure(shape)
						return nil
					})
				default:
					// Readings for a random part of every kind, confirmed now
					// or up to 8 minutes ago (some before the cutoff already),
					// read at a time that is sometimes older than the model's.
					st := a.Snapshot().Structure()
					now := c.Now()
					type reading struct {
						kind, i   int
						confirmed time.Time
						read      time.Time
						value     float64
					}
					var rs []reading
					for kind, n := range []int{len(st.Locations()), len(st.Locations()), len(st.Tags()), len(st.Assets())} {
						for i := 0; i < n; i++ {
							if rng.IntN(3) != 0 {
								continue
							}
							var conf time.Time
							if rng.IntN(3) == 0 {
								conf = now.Add(-time.Duration(rng.IntN(480)) * time.Second)
							}
							rs = append(rs, reading{kind, i, conf, now.Add(-time.Duration(rng.IntN(3)) * time.Minute), float64(rng.IntN(3))})
						}
					}
					both(name+" readings", func(tx *Tx, _ func(*Tx)) error {
						st := tx.Structure()
						var errs []error
						for _, r := range rs {
							switch r.kind {
							case 0:
								errs = append(errs, tx.SetPower(st.Location(r.i).ID, Power{KVA: Number(r.value), ReadingTime: r.read}, r.confirmed))
							case 1:
								errs = append(errs, tx.SetEnvironment(st.Location(r.i).ID, Environment{Temperature: Number(r.value), ReadingTime: r.read}, r.confirmed))
							case 2:
								errs = append(errs, tx.SetTag(st.Tag(r.i).ID, TagReading{Value: Number(r.value), ReadingTime: r.read}, r.confirmed))
							case 3:
								errs = append(errs, tx.SetAsset(st.Asset(r.i).ID, AssetState{AlarmStatus: fmt.Sprint(r.value), ReadingTime: r.read}, r.confirmed))
							}
						}
						return errors.Join(errs...)
					})
				}
			}
		})
	}
	// The sequences must have exercised both paths and marked cells.
	if marked == 0 || skipped == 0 || scanned == 0 {
		t.Errorf("cells marked %d, kinds skipped %d, scanned %d: every one must be > 0", marked, skipped, scanned)
	}
}

// TestAgeSkipsWhenAllConfirmed: once every value was confirmed within
// StaleAfter, Age neither marks nor copies anything (the watchdog calls it
// every second), and a value that stops being confirmed still goes stale
// on time.
func TestAgeSkipsWhenAllConfirmed(t *testing.T) {
	c := newClock()
	s := newTestStore(t, c, Options{StaleAfter: time.Minute})
	mustUpdate(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": footprint("CH1", 2, 2, 2, 600, 1)})
		return nil
	})
	tags := s.Snapshot().Structure().Tags()
	confirm := func(n int) {
		mustUpdate(t, s, func(tx *Tx) error {
			for _, tag := range tags[:n] {
				if err := tx.SetTag(tag.ID, TagReading{Value: Number(1)}, time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	confirm(len(tags))
	for i := 0; i < 50; i++ {
		c.Advance(time.Second)
		before := s.Snapshot()
		if d := mustUpdate(t, s, func(tx *Tx) error { tx.Age(); return nil }); d != nil {
			t.Fatalf("second %d: Age made a delta with nothing to age: %+v", i, d)
		}
		if after := s.Snapshot(); TagChunk(after, 0) != TagChunk(before, 0) {
			t.Fatalf("second %d: Age copied a chunk with nothing to age", i)
		}
	}
	confirm(len(tags) - 1) // the last tag is no longer confirmed
	c.Advance(11 * time.Second)
	d := mustUpdate(t, s, func(tx *Tx) error { tx.Age(); return nil })
	if d == nil || !slices.Equal(d.Tags, []int32{int32(len(tags) - 1)}) {
		t.Fatalf("the unconfirmed tag's delta: %+v, want tags [%d]", d, len(tags)-1)
	}
	if q := s.Snapshot().Tag(len(tags) - 1).Quality; q != QualityStale {
		t.Errorf("unconfirmed tag quality %v, want stale", q)
	}
}

// BenchmarkAge is the watchdog's ageing (every second) of a large-profile
// model where every value is confirmed each values cycle: Tx.Age against
// the scan of every cell it replaced, in one run. A cycle of 20 s is 20
// calls.
func BenchmarkAge(b *testing.B) {
	for _, v := range []struct {
		name string
		age  func(*Tx)
	}{{"every-cell", AgeEveryCell}, {"floor", (*Tx).Age}} {
		b.Run(v.name, func(b *testing.B) {
			c := newClock()
			s := newTestStore(b, c, Options{StaleAfter: 10 * time.Minute})
			parts := map[string]IBXStructure{}
			for i := 0; i < 20; i++ {
				ibx := fmt.Sprintf("IB%02d", i)
				parts[ibx] = footprint(ibx, 100, 10, 4, 500, 10)
			}
			mustUpdate(b, s, func(tx *Tx) error { tx.SetStructure(parts); return nil })
			st := s.Snapshot().Structure()
			mustUpdate(b, s, func(tx *Tx) error {
				var errs []error
				for _, l := range st.Locations() {
					switch l.ID.Level {
					case LevelCage:
						errs = append(errs, tx.SetEnvironment(l.ID, Environment{Temperature: Number(21)}, time.Time{}))
					case LevelCircuit, LevelCabinet:
						errs = append(errs, tx.SetPower(l.ID, Power{KVA: Number(1)}, time.Time{}))
					}
				}
				for _, tag := range st.Tags() {
					errs = append(errs, tx.SetTag(tag.ID, TagReading{Value: Number(1)}, time.Time{}))
				}
				for _, a := range st.Assets() {
					errs = append(errs, tx.SetAsset(a.ID, AssetState{AlarmStatus: "OK"}, time.Time{}))
				}
				return errors.Join(errs...)
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Advance(time.Second)
				mustUpdate(b, s, func(tx *Tx) error { v.age(tx); return nil })
			}
		})
	}
}
