package history

// The recorder's skip: what it keeps of a series' last sample must decide as
// the full sample did.

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// TestRecorderSkip feeds one series a sequence of samples and checks which
// are recorded: a sample is skipped when it is not newer than the last one
// recorded, or when it repeats its value (model.Value.Equal) and quality.
func TestRecorderSkip(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	good, bad := model.QualityGood, model.QualityStale
	type step struct {
		t    time.Time
		v    model.Value
		q    model.Quality
		want bool // recorded
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first sample", []step{{at(0), model.Number(1), good, true}}},
		{"same value newer", []step{{at(0), model.Number(1), good, true}, {at(1), model.Number(1), good, false}}},
		{"changed value", []step{{at(0), model.Number(1), good, true}, {at(1), model.Number(2), good, true}}},
		{"changed quality alone", []step{{at(0), model.Number(1), good, true}, {at(1), model.Number(1), bad, true}, {at(2), model.Number(1), bad, false}, {at(3), model.Number(1), good, true}}},
		{"changed text", []step{{at(0), model.Text("READY"), good, true}, {at(1), model.Text("RUNNING"), good, true}, {at(2), model.Text("RUNNING"), good, false}}},
		{"text and number of the same text", []step{{at(0), model.Text("5"), good, true}, {at(1), model.Number(5), good, false}, {at(2), model.Text("5.0"), good, true}}},
		{"numeric text vs text", []step{{at(0), model.Text("NA"), good, true}, {at(1), model.Text("0"), good, true}}},
		{"older time", []step{{at(5), model.Number(1), good, true}, {at(4), model.Number(2), good, false}, {at(3), model.Number(1), bad, false}}},
		{"same time changed value", []step{{at(5), model.Number(1), good, true}, {at(5), model.Number(2), good, false}}},
		{"older time then newer", []step{{at(5), model.Number(1), good, true}, {at(4), model.Number(2), good, false}, {at(6), model.Number(2), good, true}}},
		{"skipped sample does not move the time", []step{{at(5), model.Number(1), good, true}, {at(7), model.Number(1), good, false}, {at(6), model.Number(2), good, true}}},
		{"minus zero is zero", []step{{at(0), model.Number(0), good, true}, {at(1), model.Number(math.Copysign(0, -1)), good, true}, {at(2), model.Text("-0"), good, false}}},
		{"text formatting its number", []step{{at(0), model.Number(1.5), good, true}, {at(1), model.Text("1.5"), good, false}, {at(2), model.Text("1.50"), good, true}, {at(3), model.Text("1.50"), good, false}, {at(4), model.Number(1.5), good, true}}},
		{"zero texts", []step{{at(0), model.Value{Text: "0", Num: math.Copysign(0, -1), IsNum: true}, good, true}, {at(1), model.Number(0), good, false}, {at(2), model.Text("0.0"), good, true}, {at(3), model.Value{Text: "0.0", Num: math.Copysign(0, -1), IsNum: true}, good, false}, {at(4), model.Value{Text: "-0", IsNum: true}, good, true}, {at(5), model.Number(math.Copysign(0, -1)), good, false}}},
		{"text and number of different numbers", []step{{at(0), model.Value{Text: "2", Num: 3, IsNum: true}, good, true}, {at(1), model.Number(2), good, true}, {at(2), model.Number(3), good, true}, {at(3), model.Value{Text: "2", Num: 3, IsNum: true}, good, true}}},
		{"infinity", []step{{at(0), model.Number(math.Inf(1)), good, true}, {at(1), model.Number(math.Inf(1)), good, false}, {at(2), model.Number(math.Inf(-1)), good, true}}},
		{"NaN is never a repeat", []step{{at(0), model.Number(math.NaN()), good, true}, {at(1), model.Number(math.NaN()), good, true}}},
		{"zero time", []step{{time.Time{}, model.Number(1), good, true}, {time.Time{}, model.Number(2), good, false}, {at(0), model.Number(2), good, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Recorder{}
			r.begin()
			last := fill(make([]lastSample, 1))
			var ref *step // the reference rule: the whole last sample, compared as the recorder did before it kept a fingerprint
			for i, s := range tc.steps {
				if rec := ref == nil || s.t.After(ref.t) && !(s.q == ref.q && s.v.Equal(ref.v)); rec != s.want {
					t.Fatalf("step %d: the table says %v, the reference rule %v", i, s.want, rec)
				} else if rec {
					ref = &tc.steps[i]
				}
				before := r.npend
				r.add(&last[0], func() string { return "t/x" }, Sample{Time: s.t, Value: s.v, Quality: s.q})
				if got := r.npend > before; got != s.want {
					t.Errorf("step %d (%v %v q%d): recorded %v, want %v", i, s.t, s.v, s.q, got, s.want)
				}
			}
		})
	}
}

// TestRecorderStructureChange: when the structure changes, the series of
// the locations and tags that stay keep their last samples although their
// indexes move (a repeated value is not recorded again), and those of new
// ones are recorded from their first value.
func TestRecorderStructureChange(t *testing.T) {
	shape := modeltest.Shape{IBXs: 2, Cages: 2, Cabinets: 1, Circuits: 2, Assets: 1, Tags: 3, TextTags: 1}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	hs := open(t, filepath.Join(t.TempDir(), FileName), &clock{t0.Add(time.Hour)}, Options{})
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{Store: hs, Model: ms, FlushInterval: time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// circuit is the last circuit of IBX ibx: its index moves when IB01 leaves.
	circuit := func(ibx string) model.LocationID {
		var id model.LocationID
		for _, l := range ms.Snapshot().Structure().Locations() {
			if l.ID.IBX == ibx && l.ID.Level == model.LevelCircuit {
				id = l.ID
			}
		}
		return id
	}
	kept := circuit(modeltest.IBX(1))
	waitSamples(t, hs, LocationKey(kept, "KVA"), 1)
	at := func(tick int) time.Time { return t0.Add(time.Duration(tick) * time.Minute) }
	if _, err := ms.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, 1, at(1)) }); err != nil {
		t.Fatal(err)
	}
	waitSamples(t, hs, LocationKey(kept, "KVA"), 2)
	keptIndex, _ := ms.Snapshot().Structure().LocationIndex(kept)
	grown := shape
	grown.IBXs = 3
	if _, err := ms.Update(func(tx *model.Tx) error {
		tx.SetStructure(modeltest.Footprints(grown))
		tx.RemoveIBX(modeltest.IBX(0))
		return modeltest.Fill(tx, 2, at(2))
	}); err != nil {
		t.Fatal(err)
	}
	if i, _ := ms.Snapshot().Structure().LocationIndex(kept); i == keptIndex {
		t.Fatalf("the circuit's index did not move (%d): the test tests nothing", i)
	}
	added := circuit(modeltest.IBX(2))
	waitSamples(t, hs, LocationKey(kept, "KVA"), 3)
	waitSamples(t, hs, LocationKey(added, "KVA"), 1)
	if _, err := ms.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, 3, at(3)) }); err != nil {
		t.Fatal(err)
	}
	waitSamples(t, hs, LocationKey(kept, "KVA"), 4)
	waitSamples(t, hs, LocationKey(added, "KVA"), 2)
	// SoldKVA and KW (always "NA") repeat: recorded once per series.
	for _, c := range []struct {
		loc   model.LocationID
		field string
		want  int
	}{
		{kept, "KVA", 4}, {kept, "SoldKVA", 1}, {kept, "KW", 1}, {kept, "BreakerAlarm", 1},
		{added, "KVA", 2}, {added, "SoldKVA", 1}, {added, "KW", 1},
	} {
		got, _, _ := hs.Read(LocationKey(c.loc, c.field), Query{From: t0, To: t0.Add(time.Hour)})
		if len(got) != c.want {
			t.Errorf("%s %s: %d samples, want %d", c.loc, c.field, len(got), c.want)
		}
	}
}

// TestRecorderKeepsSlotsAcrossLinksRebuild: the links pass rebuilds the
// structure with the same locations and tags. The recorder keeps its slots
// as they are (a second set made beside them was ~22 MB of the large
// profile's peak) and records nothing again; a rebuild that moves the
// locations gives it new ones that still skip what was recorded.
func TestRecorderKeepsSlotsAcrossLinksRebuild(t *testing.T) {
	shape := modeltest.Shape{IBXs: 1, Cages: 2, Cabinets: 2, Circuits: 2, Assets: 2, Tags: 3, Sensors: true}
	ms, err := modeltest.NewStore(shape, t0, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, t0) })
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	r := &Recorder{Model: ms}
	r.begin()
	r.recordAll(ms.Snapshot())
	if r.npend == 0 {
		t.Fatal("nothing recorded: the test tests nothing")
	}
	r.npend = 0
	clear(r.pending)
	st := ms.Snapshot().Structure()
	var circuits []model.LocationID
	for _, l := range st.Locations() {
		if l.ID.Level == model.LevelCircuit {
			circuits = append(circuits, l.ID)
		}
	}
	ibx := modeltest.IBX(0)
	for _, tc := range []struct {
		name  string
		links model.LocationList
		keep  bool
	}{
		{"locations kept", model.LocationsOf(circuits[0], circuits[1]), true},
		{"a location discovered before every circuit", model.LocationsOf(model.LocationID{IBX: ibx, Level: model.LevelCircuit, Name: ibx + "-0"}), false},
	} {
		pow, tags := &r.powSlots.block(1)[0], &r.tags[0]
		before := ms.Snapshot().Structure()
		if _, err := ms.Update(func(tx *model.Tx) error {
			tx.SetLinks(map[string]model.IBXLinks{ibx: {ByAsset: map[string]model.LocationList{st.Asset(0).ID: tc.links}}})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		snap := ms.Snapshot()
		if snap.Structure() == before || snap.Structure().SameLocations(before) != tc.keep || !snap.Structure().SameTags(before) {
			t.Fatalf("%s: the rebuild is not the one the case is for", tc.name)
		}
		r.recordAll(snap)
		if kept := &r.powSlots.block(1)[0] == pow; kept != tc.keep || &r.tags[0] != tags {
			t.Errorf("%s: location slots kept %v (want %v), tag slots kept %v (want true)", tc.name, kept, tc.keep, &r.tags[0] == tags)
		}
		if r.npend != 0 {
			t.Errorf("%s: %d samples recorded again after the rebuild", tc.name, r.npend)
		}
	}
}

// TestSlotBlocks: blocks given one by one across chunks, and made at once,
// are each their own n slots, without a sample until written, and keep what
// was written when later blocks are added.
func TestSlotBlocks(t *testing.T) {
	const n, count = 3, 2*slotChunk + 5
	for _, tc := range []struct {
		name string
		make func() (slotBlocks, []int32)
	}{
		{"given one by one", func() (slotBlocks, []int32) {
			b := slotBlocks{n: n}
			at := make([]int32, count)
			for i := range at {
				blocks(at, &b, i)
			}
			return b, at
		}},
		{"made at once", func() (slotBlocks, []int32) {
			at := make([]int32, count)
			for i := range at {
				at[i] = int32(i) + 1
			}
			return newSlotBlocks(n, count), at
		}},
	} {
		b, at := tc.make()
		for i, k := range at {
			s := b.block(k)
			if len(s) != n || cap(s) != n || s[0].t != noSample || s[n-1].t != noSample {
				t.Fatalf("%s: block %d: %d slots (cap %d), %+v", tc.name, k, len(s), cap(s), s)
			}
			for j := range s {
				s[j].t = int64(i*n + j)
			}
		}
		blocks(append(at, 0), &b, count) // one more: the others stay where they are
		for i, k := range at {
			for j, v := range b.block(k) {
				if v.t != int64(i*n+j) {
					t.Fatalf("%s: block %d slot %d holds %d, want %d", tc.name, k, j, v.t, i*n+j)
				}
			}
		}
	}
}
