package model

import (
	"slices"
	"strconv"
	"sync"
	"testing"
)

func TestLocationList(t *testing.T) {
	a, b, c := LocationID{"SV4", LevelCage, "A"}, LocationID{"SV4", LevelCabinet, "B"}, LocationID{"SV4", LevelCircuit, "C"}
	shared := NewLocationTable()
	of := func(ids ...LocationID) LocationList { // a list of the shared table
		idx := make([]int32, len(ids))
		for i, id := range ids {
			idx[i] = shared.Add(id)
		}
		return shared.List(idx)
	}
	tests := []struct {
		name string
		l    LocationList
		want []LocationID
	}{
		{"zero", LocationList{}, []LocationID{}},
		{"empty", LocationsOf(), []LocationID{}},
		{"own table", LocationsOf(c, a, b), []LocationID{c, a, b}},
		{"repeats kept", LocationsOf(a, b, a), []LocationID{a, b, a}},
		{"shared table", of(b, c), []LocationID{b, c}},
		{"shared table, other order", of(c, a, b), []LocationID{c, a, b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.l.Len() != len(tt.want) {
				t.Fatalf("Len = %d, want %d", tt.l.Len(), len(tt.want))
			}
			var got []LocationID
			for i, id := range tt.l.All() {
				if id != tt.l.At(i) {
					t.Errorf("All yields %v at %d, At says %v", id, i, tt.l.At(i))
				}
				got = append(got, id)
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(tt.l.IDs(), tt.want) {
				t.Errorf("entries = %v, IDs = %v, want %v", got, tt.l.IDs(), tt.want)
			}
			if !tt.l.Equal(LocationsOf(tt.want...)) || !LocationsOf(tt.want...).Equal(tt.l) || !tt.l.Equal(tt.l.Latest()) {
				t.Errorf("not Equal to the same ids in another table or to its Latest")
			}
		})
	}
	if n := shared.Len(); n != 3 {
		t.Errorf("shared table holds %d entries, want 3 distinct", n)
	}
	shared.Done() // Add finds the entries again after Done
	if l := of(c, b, a, LocationID{"SV4", LevelCage, "D"}); shared.Len() != 4 || !slices.Equal(l.IDs(), []LocationID{c, b, a, {"SV4", LevelCage, "D"}}) {
		t.Errorf("after Done: table of %d, list %v", shared.Len(), l.IDs())
	}
	for _, d := range []struct{ x, y LocationList }{
		{of(a, b), of(b, a)}, {of(a, b), of(a)}, {of(a, b), LocationsOf(a, c)}, {LocationList{}, of(a)},
	} {
		if d.x.Equal(d.y) || d.y.Equal(d.x) {
			t.Errorf("%v Equal %v", d.x.IDs(), d.y.IDs())
		}
	}
}

func TestLocationListWithout(t *testing.T) {
	a, b, c := LocationID{"SV4", LevelCage, "A"}, LocationID{"SV4", LevelCabinet, "B"}, LocationID{"SV4", LevelCircuit, "C"}
	tests := []struct {
		name  string
		in    LocationList
		drop  LocationID
		want  []LocationID
		asked []LocationID // what drop was asked, in order: each distinct entry once
		same  bool         // the indexes are shared, not copied
	}{
		{"nothing dropped", LocationsOf(a, b, c), LocationID{}, []LocationID{a, b, c}, []LocationID{a, b, c}, true},
		{"one dropped", LocationsOf(a, b, c), b, []LocationID{a, c}, []LocationID{a, b, c}, false},
		{"first dropped", LocationsOf(a, b, c), a, []LocationID{b, c}, []LocationID{a, b, c}, false},
		{"repeats dropped", LocationsOf(a, b, a, c, b), LocationID{}, []LocationID{a, b, c}, []LocationID{a, b, c}, false},
		{"all dropped", LocationsOf(a), a, []LocationID{}, []LocationID{a}, false},
		{"empty", LocationList{}, a, []LocationID{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []LocationID
			got := tt.in.Without(func(id LocationID) bool { asked = append(asked, id); return id == tt.drop })
			if !slices.Equal(got.IDs(), tt.want) || !slices.Equal(asked, tt.asked) {
				t.Errorf("Without = %v asking %v, want %v asking %v", got.IDs(), asked, tt.want, tt.asked)
			}
			if same := got.idx.len() > 0 && &got.idx.narrow[0] == &tt.in.idx.narrow[0]; same != (tt.same && len(tt.want) > 0) {
				t.Errorf("indexes shared = %v, want %v", same, tt.same)
			}
		})
	}
}

// TestLocationTableConcurrent has lists made and read while other
// goroutines add to their table: run with -race.
func TestLocationTableConcurrent(t *testing.T) {
	tab := NewLocationTable()
	var wg sync.WaitGroup
	lists := make([]LocationList, 8)
	for g := range lists {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var idx []int32
			for i := range 500 {
				idx = append(idx, tab.Add(LocationID{"SV4", LevelCircuit, string(rune('a'+g%4)) + string(rune('0'+i%50))}))
			}
			l := tab.List(idx)
			for i := range l.Len() {
				if id := l.At(i); id.Name != string(rune('a'+g%4))+string(rune('0'+i%50)) {
					t.Errorf("list %d entry %d = %v", g, i, id)
					return
				}
			}
			lists[g] = l
		}()
	}
	wg.Wait()
	if n := tab.Len(); n != 4*50 {
		t.Errorf("table holds %d entries, want %d distinct", n, 4*50)
	}
	for g := 4; g < 8; g++ { // the same ids as list g-4, read through other table lengths
		if !lists[g].Equal(lists[g-4]) || !lists[g].Latest().Equal(lists[g-4]) {
			t.Errorf("lists %d and %d differ", g, g-4)
		}
	}
}

// TestLocationListWide: a list whose table has more entries than 16 bits
// index holds its indexes at 32 bits, reads the same, and equals a list of
// the same ids held at 16; the entries of a short table take 16 bits.
func TestLocationListWide(t *testing.T) {
	tab := NewLocationTable()
	for i := range 70000 {
		tab.Add(LocationID{"SV4", LevelCircuit, strconv.Itoa(i)})
	}
	idx := []int32{3, 69999, 65536, 65535, 0}
	wide := tab.List(idx)
	if wide.idx.wide == nil || wide.idx.narrow != nil {
		t.Fatalf("a list with index 69999 is not held at 32 bits: %+v", wide.idx)
	}
	var ids []LocationID
	for i, j := range idx {
		want := LocationID{"SV4", LevelCircuit, strconv.Itoa(int(j))}
		if wide.At(i) != want || wide.Index(i) != j {
			t.Errorf("entry %d = %v (index %d), want %v (%d)", i, wide.At(i), wide.Index(i), want, j)
		}
		ids = append(ids, want)
	}
	narrow := LocationsOf(ids...) // a table of its own: 5 entries
	if narrow.idx.narrow == nil || narrow.idx.wide != nil {
		t.Fatalf("a list of a 5-entry table is not held at 16 bits: %+v", narrow.idx)
	}
	if !wide.Equal(narrow) || !narrow.Equal(wide) || !slices.Equal(wide.IDs(), narrow.IDs()) {
		t.Errorf("the same ids at 32 and 16 bits differ: %v, %v", wide.IDs(), narrow.IDs())
	}
	short := tab.List([]int32{3, 65535, 0})
	if short.idx.narrow == nil {
		t.Errorf("a list of indexes below 65,536 is held at 32 bits")
	}
	if got := wide.Without(func(id LocationID) bool { return id.Name == "65536" }); !slices.Equal(got.IDs(), slices.Delete(slices.Clone(ids), 2, 3)) || got.idx.narrow != nil {
		t.Errorf("Without on 32 bits = %v (narrow %v)", got.IDs(), got.idx.narrow != nil)
	}
	if got := wide.Without(func(id LocationID) bool { return id.Name == "69999" || id.Name == "65536" }); got.idx.narrow == nil || got.Len() != 3 {
		t.Errorf("Without leaving indexes below 65,536 = %v, not held at 16 bits", got.IDs())
	}
}

// TestEntriesWidth: the assets-by-location list of a structure is held at
// 16 bits up to 65,536 assets and at 32 beyond, reading the same.
func TestEntriesWidth(t *testing.T) {
	for _, limit := range []int{1, 65536, 65537} {
		x := makeEntries(3, limit)
		vals := []int32{0, int32(limit - 1), int32(limit / 2)}
		for i, v := range vals {
			x.set(i, v)
		}
		if narrow := x.narrow != nil; narrow != (limit <= 65536) {
			t.Errorf("limit %d: narrow = %v", limit, narrow)
		}
		for i, v := range vals {
			if x.at(i) != v {
				t.Errorf("limit %d: entry %d = %d, want %d", limit, i, x.at(i), v)
			}
		}
		if s := x.slice(1, 3); s.len() != 2 || s.at(0) != vals[1] || !s.equal(newEntries(vals[1:])) {
			t.Errorf("limit %d: slice = %+v", limit, s)
		}
	}
}
