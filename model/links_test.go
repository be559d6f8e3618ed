package model

import (
	"slices"
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
			if same := len(got.idx) > 0 && &got.idx[0] == &tt.in.idx[0]; same != (tt.same && len(tt.want) > 0) {
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
