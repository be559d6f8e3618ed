package poll

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/ingest"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// newSandboxPoller runs the poller against the simulated API over real HTTP.
func newSandboxPoller(t *testing.T) (*Poller, *model.Store, *sandbox.Server) {
	t.Helper()
	cfg := sandbox.Config{Profile: "small"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	p, store := newPoller(t, srv.URL, sb.IBXs())
	return p, store, sb
}

func TestLinksPassAddsAffectedLocationsOnce(t *testing.T) {
	p, store, _ := newSandboxPoller(t)
	ctx := context.Background()
	if res := p.Cycle(ctx, true); res.Failed != 0 || !res.StructureOK {
		t.Fatalf("cycle: %+v", res)
	}
	st := store.Snapshot().Structure()
	for _, a := range st.Assets() {
		if a.Affects.Len() != 0 {
			t.Fatalf("asset %s has links before the links pass", a.ID)
		}
	}
	res := p.RefreshLinks(ctx)
	if res.Failed != 0 || res.Calls != len(st.Assets()) {
		t.Fatalf("links pass: %+v, want one call per asset (%d)", res, len(st.Assets()))
	}
	st2 := store.Snapshot().Structure()
	if st2.Gen() == st.Gen() {
		t.Fatal("links did not change the structure")
	}
	// The documented ASTS serves the documented cage and circuits.
	ai, ok := st2.AssetIndex("CH1.ASTS-1-2-A")
	if !ok {
		t.Fatal("CH1.ASTS-1-2-A missing")
	}
	names := map[string]bool{}
	for _, l := range st2.Affects(ai).All() {
		names[st2.Location(int(l)).ID.String()] = true
	}
	for _, want := range []string{"CH1/CAGE/CH1:05:BCM000", "CH1/CABINET/CH1:05:BCM000:9999", "CH1/CIRCUIT/14488436"} {
		if !names[want] {
			t.Errorf("CH1.ASTS-1-2-A does not affect %s (affects %v)", want, names)
		}
	}
	// A structure refresh keeps the links: nothing changed, no rebuild.
	if res := p.Cycle(ctx, true); res.Failed != 0 {
		t.Fatalf("second cycle: %+v", res)
	}
	if st3 := store.Snapshot().Structure(); st3.Gen() != st2.Gen() {
		t.Errorf("a structure refresh with unchanged data rebuilt the structure (gen %d → %d)", st2.Gen(), st3.Gen())
	}
	// A links pass reading the same links again changes nothing either, and
	// adds nothing to the IBX's table of locations.
	table := p.linksOf("CH1").Table
	n := table.Len()
	if res := p.RefreshLinks(ctx); res.Failed != 0 {
		t.Fatalf("second links pass: %+v", res)
	}
	if st4 := store.Snapshot().Structure(); st4.Gen() != st2.Gen() {
		t.Errorf("a links pass with unchanged links rebuilt the structure (gen %d → %d)", st2.Gen(), st4.Gen())
	}
	if l := p.linksOf("CH1"); l.Table != table || table.Len() != n || n == 0 {
		t.Errorf("second pass: table %p of %d entries, was %p of %d", l.Table, l.Table.Len(), table, n)
	}
	// The poller keeps the lists the model holds, not a second copy read
	// again (the model keeps its own when the links are equal).
	st4, shared := store.Snapshot().Structure(), 0
	for _, a := range st4.Assets() {
		if a.Affects.Len() == 0 {
			continue
		}
		kept := p.linksOf(a.IBX).ByAsset[a.ID]
		if indexesOf(kept) != indexesOf(a.Affects) {
			t.Errorf("asset %s: the poller keeps a copy of the links the model holds", a.ID)
			continue
		}
		shared++
	}
	if shared == 0 {
		t.Error("no asset has links")
	}
}

// indexesOf returns the address of a list's index array (held at 16 or
// 32 bits).
func indexesOf(l model.LocationList) uintptr {
	idx := reflect.ValueOf(l).FieldByName("idx")
	return idx.Field(0).Pointer() | idx.Field(1).Pointer()
}

func TestValuesCycleCallsAgainstSandbox(t *testing.T) {
	p, _, sb := newSandboxPoller(t)
	ctx := context.Background()
	p.Cycle(ctx, true)
	res := p.Cycle(ctx, false)
	// per IBX: 4 power levels + 4 environment levels + 2 asset lists + 2 details batches + 1 alarm page
	// + 1 alerts read (activity log and definitions)
	if want := len(sb.IBXs()) * (4 + 4 + 2 + 2 + 1 + 1); res.Calls != want || res.Failed != 0 {
		t.Errorf("values cycle: %+v, want %d calls", res, want)
	}
}

// TestPowerCyclesHoldEveryListReading: the values cycle applies each power
// and environment list from the chunks it was decoded in and hands them back
// for the next list (smartview.Client.ReleasePowerChunks,
// ReleaseEnvironmentChunks). After three cycles, the
// simulation stepped between them so every reading changes, the model holds
// at each location exactly the reading a power list read afterwards gives.
func TestPowerCyclesHoldEveryListReading(t *testing.T) {
	p, store, sb := newSandboxPoller(t)
	ctx := context.Background()
	for i, full := range []bool{true, false, false} {
		if i > 0 {
			sb.Step()
		}
		if res := p.Cycle(ctx, full); res.Failed > 0 {
			t.Fatalf("cycle %d: %+v", i, res)
		}
	}
	snap := store.Snapshot()
	st := snap.Structure()
	// at is the model's index of a list reading's location (false: the
	// reading names none, or the model lacks it: an error).
	at := func(chain []model.LocationID, why model.Unplaced) (int, bool) {
		if why != 0 {
			return 0, false
		}
		li, ok := st.LocationIndex(chain[len(chain)-1])
		if !ok {
			t.Errorf("%s: not in the model", chain[len(chain)-1])
		}
		return li, ok
	}
	n := 0
	for _, ibx := range sb.IBXs() {
		for _, level := range p.cfg.PowerLevels {
			list, err := p.client.PowerList(ctx, ibx, level)
			if err != nil {
				t.Fatal(err)
			}
			for k := range list {
				li, ok := at(ingest.PowerPlaces(&list[k]))
				if !ok {
					continue
				}
				id := st.Location(li).ID
				want, got := ingest.Power(&list[k]), snap.Power(li)
				if got.KVA != want.KVA || got.Amps != want.Amps || got.PercentKVA != want.PercentKVA ||
					!got.ReadingTime.Equal(want.ReadingTime) || got.Quality != model.QualityGood {
					t.Errorf("%s: the model holds kva %v amps %v %%kva %v at %v (%v), the list %v %v %v at %v", id,
						got.KVA, got.Amps, got.PercentKVA, got.ReadingTime, got.Quality, want.KVA, want.Amps, want.PercentKVA, want.ReadingTime)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no power reading compared")
	}
	// Environment lists take the same path (EnvironmentListChunks, released).
	n = 0
	for _, ibx := range sb.IBXs() {
		for _, level := range p.cfg.EnvironmentLevels {
			if level == model.LevelIBX.String() {
				continue // read with current, not listCurrent
			}
			list, err := p.client.EnvironmentList(ctx, ibx, level)
			if err != nil {
				t.Fatal(err)
			}
			for k := range list {
				li, ok := at(ingest.EnvironmentPlaces(&list[k]))
				if !ok {
					continue
				}
				id := st.Location(li).ID
				want, got := ingest.Environment(&list[k]), snap.Environment(li)
				if got.Temperature != want.Temperature || got.Humidity != want.Humidity ||
					!got.ReadingTime.Equal(want.ReadingTime) || got.Quality != model.QualityGood {
					t.Errorf("%s: the model holds %v °, %v %% at %v (%v), the list %v, %v at %v", id,
						got.Temperature, got.Humidity, got.ReadingTime, got.Quality, want.Temperature, want.Humidity, want.ReadingTime)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no environment reading compared")
	}
}

// TestBeforeStructureRead: the hook is called as a cycle reads the structure
// and as a links pass starts, not for a values cycle (cmd/svgateway collects
// garbage more often from there until the read has settled).
func TestBeforeStructureRead(t *testing.T) {
	p, _, _ := newSandboxPoller(t)
	calls := 0
	p.before = func() { calls++ }
	ctx := context.Background()
	for _, step := range []struct {
		what string
		run  func() Result
		want int
	}{
		{"structure cycle", func() Result { return p.Cycle(ctx, true) }, 1},
		{"values cycle", func() Result { return p.Cycle(ctx, false) }, 1},
		{"links pass", func() Result { return p.RefreshLinks(ctx) }, 2},
	} {
		if res := step.run(); res.Failed != 0 {
			t.Fatalf("%s: %+v", step.what, res)
		}
		if calls != step.want {
			t.Errorf("after the %s: %d calls, want %d", step.what, calls, step.want)
		}
	}
}
