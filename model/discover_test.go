package model_test

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/svgateway/svgateway/model"
)

// The documentation's own ids with no home: CH1's zones and cage appear in
// readings and links that no hierarchy example lists.
var (
	ch1Zone2   = LocationID{"CH1", LevelZone, "CH1:1:05:ColoArea:2"}
	ch1Zone3   = LocationID{"CH1", LevelZone, "CH1:1:05:ColoArea:3"}
	bcmCage    = LocationID{"CH1", LevelCage, "CH1:05:BCM000"}
	bcmCab     = LocationID{"CH1", LevelCabinet, "CH1:05:BCM000:9999"}
	bcmCircuit = LocationID{"CH1", LevelCircuit, "15137957"}
)

// placed lists an IBX's locations as "LEVEL/Name<parent name (origin)".
func placed(st *Structure, ibx string) []string {
	var out []string
	from, to := st.IBXLocations(ibx)
	for i := from; i < to; i++ {
		l := st.Location(i)
		out = append(out, l.ID.Level.String()+"/"+l.ID.Name+"<"+l.Parent.Name+" ("+l.Discovered.String()+")")
	}
	return out
}

// storeWithIBX returns a Store holding ibx with nothing in it but itself.
func storeWithIBX(t *testing.T, ibx string, opts Options) *Store {
	t.Helper()
	s, err := NewStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	emptyIBX(t, s, ibx)
	return s
}

func emptyIBX(t *testing.T, s *Store, ibx string) {
	t.Helper()
	commit(t, s, func(tx *Tx) error { tx.SetStructure(map[string]IBXStructure{ibx: {}}); return nil })
}

// commit applies fn in one batch and returns its delta.
func commit(t *testing.T, s *Store, fn func(tx *Tx) error) *Delta {
	t.Helper()
	d, err := s.Update(fn)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDiscoverPlacesWhatUpstreamNames(t *testing.T) {
	tests := []struct {
		name  string
		apply func(tx *Tx) error
		want  []string
	}{
		{
			name: "zone readings land under the IBX",
			apply: func(tx *Tx) error {
				return errors.Join(tx.SetEnvironment(ch1Zone2, Environment{Temperature: Text("21.1")}, time.Time{}),
					tx.SetEnvironment(ch1Zone3, Environment{Temperature: Text("20.7")}, time.Time{}))
			},
			want: []string{"IBX/CH1< (hierarchy)", "ZONE/CH1:1:05:ColoArea:2<CH1 (reading)", "ZONE/CH1:1:05:ColoArea:3<CH1 (reading)"},
		},
		{
			name: "a payload's chain nests each under the one before",
			apply: func(tx *Tx) error {
				sensor := LocationID{"CH1", LevelSensor, "CH1.Colo.CH1_05_000550_0105"}
				tx.Discover(OriginReading, ch1Zone2, LocationID{"CH1", LevelCage, "CH1:05:000550"}, LocationID{"CH1", LevelCabinet, "CH1:05:000550:0105"}, sensor)
				return tx.SetEnvironment(sensor, Environment{Temperature: Text("22")}, time.Time{})
			},
			want: []string{"IBX/CH1< (hierarchy)", "ZONE/CH1:1:05:ColoArea:2<CH1 (reading)", "CAGE/CH1:05:000550<CH1:1:05:ColoArea:2 (reading)",
				"CABINET/CH1:05:000550:0105<CH1:05:000550 (reading)", "SENSOR/CH1.Colo.CH1_05_000550_0105<CH1:05:000550:0105 (reading)"},
		},
		{
			name: "names imply a cabinet's cage and a sensor's cabinet",
			apply: func(tx *Tx) error {
				return errors.Join(tx.SetPower(bcmCab, Power{KVA: Number(1)}, time.Time{}),
					tx.SetPower(bcmCage, Power{KVA: Number(2)}, time.Time{}),
					tx.SetEnvironment(LocationID{"CH1", LevelSensor, "CH1.Colo.CH1_05_BCM000_9999"}, Environment{}, time.Time{}),
					tx.SetEnvironment(LocationID{"CH1", LevelSensor, "CH1.Colo.CH1_05_BCM000_0001"}, Environment{}, time.Time{}))
			},
			want: []string{"IBX/CH1< (hierarchy)", "CAGE/CH1:05:BCM000<CH1 (reading)", "CABINET/CH1:05:BCM000:9999<CH1:05:BCM000 (reading)",
				"SENSOR/CH1.Colo.CH1_05_BCM000_0001<CH1:05:BCM000 (reading)", "SENSOR/CH1.Colo.CH1_05_BCM000_9999<CH1:05:BCM000:9999 (reading)"},
		},
		{
			name: "an alarm's cage, cabinet and circuit",
			apply: func(tx *Tx) error {
				o := AlarmObservation{IBX: "CH1", Cage: bcmCage.Name, Cabinet: bcmCab.Name, Circuit: bcmCircuit.Name}
				tx.Discover(OriginAlarm, o.Places()...)
				return nil
			},
			want: []string{"IBX/CH1< (hierarchy)", "CAGE/CH1:05:BCM000<CH1 (alarm)", "CABINET/CH1:05:BCM000:9999<CH1:05:BCM000 (alarm)",
				"CIRCUIT/15137957<CH1:05:BCM000:9999 (alarm)"},
		},
		{
			name: "an asset link, with and without the payload's nesting",
			apply: func(tx *Tx) error {
				tx.SetStructure(map[string]IBXStructure{"CH1": {
					Locations: []Location{
						{ID: bcmCage, Discovered: OriginLink},
						{ID: bcmCircuit, Parent: bcmCab, Discovered: OriginLink},
					},
					Assets: []Asset{{ID: "CH1.PDU-1-2A", Affects: LocationsOf(bcmCage, bcmCab, bcmCircuit, LocationID{"CH1", LevelCircuit, "20679433"})}},
				}})
				return nil
			},
			want: []string{"IBX/CH1< (hierarchy)", "CAGE/CH1:05:BCM000<CH1 (link)", "CABINET/CH1:05:BCM000:9999<CH1:05:BCM000 (link)",
				"CIRCUIT/15137957<CH1:05:BCM000:9999 (link)", "CIRCUIT/20679433<CH1 (link)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := storeWithIBX(t, "CH1", Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			gen := s.Snapshot().Structure().Gen()
			before := len(s.Snapshot().Structure().Locations())
			d := commit(t, s, tt.apply)
			st := s.Snapshot().Structure()
			if got := placed(st, "CH1"); !slices.Equal(got, tt.want) {
				t.Errorf("locations:\n got %q\nwant %q", got, tt.want)
			}
			if d == nil || !d.StructureChanged || st.Gen() != gen+1 {
				t.Errorf("gen %d → %d, delta %+v: want one structure change for the batch", gen, st.Gen(), d)
			}
			if len(st.Locations()) == before {
				t.Error("nothing was added")
			}
			from, to := st.IBXLocations("CH1")
			for i := from; i < to; i++ {
				l := st.Location(i)
				if l.Discovered == OriginHierarchy {
					continue
				}
				line := "location=" + l.ID.String() + " origin=" + l.Discovered.String()
				if n := strings.Count(logs.String(), line); n != 1 {
					t.Errorf("%q logged %d times, want once:\n%s", line, n, logs.String())
				}
			}
			if n := s.Unplaced(); n[UnplacedIBXNotInModel]+n[UnplacedNoIBX]+n[UnplacedNoLevel]+n[UnplacedNoName] != 0 {
				t.Errorf("unplaced = %v, want none", n)
			}
		})
	}
}

func TestDiscoveredReadingsAreServed(t *testing.T) {
	s := storeWithIBX(t, "CH1", Options{})
	var stats TxStats
	commit(t, s, func(tx *Tx) error {
		err := errors.Join(tx.SetEnvironment(ch1Zone2, Environment{Temperature: Text("21.1"), Humidity: Text("35.50")}, time.Time{}),
			tx.SetPower(bcmCage, Power{KVA: Text("2.5")}, time.Time{}))
		stats = tx.Stats()
		return err
	})
	if stats.Applied != 2 {
		t.Errorf("stats = %+v, want 2 applied", stats)
	}
	snap := s.Snapshot()
	zi, ok := snap.Structure().LocationIndex(ch1Zone2)
	if !ok {
		t.Fatal("zone not discovered")
	}
	if e := snap.Environment(zi); e.Temperature.String() != "21.1" || e.Humidity.Num != 35.5 || e.Quality != QualityGood {
		t.Errorf("zone environment = %+v", e)
	}
	ci, _ := snap.Structure().LocationIndex(bcmCage)
	if p := snap.Power(ci); p.KVA.Num != 2.5 || p.Quality != QualityGood {
		t.Errorf("cage power = %+v", p)
	}
	// The next reading finds it: no structure change.
	d := commit(t, s, func(tx *Tx) error {
		return tx.SetEnvironment(ch1Zone2, Environment{Temperature: Text("21.3"), ReadingTime: time.Now()}, time.Time{})
	})
	if d == nil || d.StructureChanged || len(d.Environment) != 1 {
		t.Errorf("second reading: delta %+v, want a value change only", d)
	}
}

// TestDiscoveredReplacedInPlace: a discovered location survives structure
// refreshes that do not list it, and when a hierarchy lists it, the
// hierarchy's entry takes its place with its values (its LocationID, which
// SNMP indexes and OPC UA NodeIds derive from, is the same).
func TestDiscoveredReplacedInPlace(t *testing.T) {
	s := storeWithIBX(t, "CH1", Options{})
	commit(t, s, func(tx *Tx) error {
		return errors.Join(tx.SetEnvironment(ch1Zone2, Environment{Temperature: Text("21.1")}, time.Time{}),
			tx.SetPower(bcmCab, Power{KVA: Text("1.5")}, time.Time{}))
	})
	// A refresh that still does not list them keeps them.
	d := commit(t, s, func(tx *Tx) error { tx.SetStructure(map[string]IBXStructure{"CH1": {}}); return nil })
	if d != nil && d.StructureChanged {
		t.Errorf("an unchanged refresh changed the structure: %q", placed(s.Snapshot().Structure(), "CH1"))
	}
	// The hierarchy now lists the zone, and the cage the cabinet's name implies.
	commit(t, s, func(tx *Tx) error {
		tx.SetStructure(map[string]IBXStructure{"CH1": {Locations: []Location{
			{ID: ch1Zone2, Label: "Colo Area 2"},
			{ID: bcmCage, Number: "1852", Parent: ch1Zone2},
		}}})
		return nil
	})
	snap := s.Snapshot()
	st := snap.Structure()
	want := []string{"IBX/CH1< (hierarchy)", "ZONE/CH1:1:05:ColoArea:2<CH1 (hierarchy)", "CAGE/CH1:05:BCM000<CH1:1:05:ColoArea:2 (hierarchy)",
		"CABINET/CH1:05:BCM000:9999<CH1:05:BCM000 (reading)"}
	if got := placed(st, "CH1"); !slices.Equal(got, want) {
		t.Errorf("locations:\n got %q\nwant %q", got, want)
	}
	zi, _ := st.LocationIndex(ch1Zone2)
	if l := st.Location(zi); l.Label != "Colo Area 2" {
		t.Errorf("zone = %+v, want the hierarchy's", l)
	}
	if e := snap.Environment(zi); e.Temperature.String() != "21.1" {
		t.Errorf("zone reading lost on replacement: %+v", e)
	}
	ki, _ := st.LocationIndex(bcmCab)
	if p := snap.Power(ki); p.KVA.String() != "1.5" {
		t.Errorf("cabinet reading lost: %+v", p)
	}
	// Removing the IBX forgets them.
	commit(t, s, func(tx *Tx) error { tx.RemoveIBX("CH1"); return nil })
	emptyIBX(t, s, "CH1")
	if got := placed(s.Snapshot().Structure(), "CH1"); len(got) != 1 {
		t.Errorf("after removing the IBX: %q", got)
	}
}

func TestUnplaceableIsCountedAndLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	s := storeWithIBX(t, "CH1", Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tests := []struct {
		id     LocationID
		reason Unplaced
	}{
		{LocationID{"DC5", LevelCage, "DC5:01:000100"}, UnplacedIBXNotInModel},
		{LocationID{"", LevelCage, "X"}, UnplacedNoIBX},
		{LocationID{"CH1", 0, "X"}, UnplacedNoLevel},
		{LocationID{"CH1", LevelIBX, "CH9"}, UnplacedNoLevel},
		{LocationID{"CH1", LevelCage, ""}, UnplacedNoName},
	}
	for round := 0; round < 2; round++ {
		commit(t, s, func(tx *Tx) error {
			for _, tt := range tests {
				if err := tx.SetPower(tt.id, Power{}, time.Time{}); !errors.Is(err, ErrUnknown) {
					t.Errorf("%s: err = %v, want ErrUnknown", tt.id, err)
				}
			}
			tx.Discover(OriginAlarm, LocationID{"DC5", LevelCage, "A"}, LocationID{"DC5", LevelCabinet, "A:1"}) // counted once
			// A reading given to Discover, then set: counted once.
			sensor := LocationID{"DC5", LevelSensor, "DC5.S1"}
			tx.Discover(OriginReading, LocationID{"DC5", LevelZone, "Z"}, sensor)
			if err := tx.SetEnvironment(sensor, Environment{}, time.Time{}); !errors.Is(err, ErrUnknown) {
				t.Errorf("%s: err = %v, want ErrUnknown", sensor, err)
			}
			return nil
		})
	}
	got := s.Unplaced()
	want := map[Unplaced]uint64{UnplacedIBXNotInModel: 6, UnplacedNoIBX: 2, UnplacedNoLevel: 4, UnplacedNoName: 2}
	for r, n := range want {
		if got[r] != n {
			t.Errorf("%s: %d, want %d (all: %v)", r, got[r], n, got)
		}
	}
	for _, tt := range tests {
		if n := strings.Count(logs.String(), "id="+tt.id.String()+"\n"); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", tt.id, n, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("not logged at WARN:\n%s", logs.String())
	}
	if got := placed(s.Snapshot().Structure(), "CH1"); len(got) != 1 {
		t.Errorf("unplaceable ids were placed: %q", got)
	}

	// A batch that fails counts nothing and places nothing.
	_, err := s.Update(func(tx *Tx) error {
		tx.SetPower(LocationID{"DC5", LevelCage, "B"}, Power{}, time.Time{})
		tx.SetPower(ch1Zone3, Power{}, time.Time{})
		return errors.New("failed")
	})
	if err == nil || s.Unplaced()[UnplacedIBXNotInModel] != 6 || len(placed(s.Snapshot().Structure(), "CH1")) != 1 {
		t.Errorf("failed batch: err %v, unplaced %v, locations %q", err, s.Unplaced(), placed(s.Snapshot().Structure(), "CH1"))
	}
}

// TestLocateFollowsStructureChanges: a location looked up once in a
// transaction (Discover, then SetPower: see Tx.locate) is looked up again
// when the structure changes between the two, here by a discovered
// location placed before it; the readings land where the index says, as
// with a lookup each time.
func TestLocateFollowsStructureChanges(t *testing.T) {
	s := storeWithIBX(t, "CH1", Options{})
	at := func(sec int64) time.Time { return time.Unix(1_700_000_000+sec, 0) }
	commit(t, s, func(tx *Tx) error {
		tx.Discover(OriginReading, bcmCage, bcmCab)
		return tx.SetPower(bcmCab, Power{KVA: Text("1.5"), ReadingTime: at(1)}, at(1))
	})
	before, _ := s.Snapshot().Structure().LocationIndex(bcmCab)
	early := LocationID{"CH1", LevelCabinet, "CH1:05:BCM000:0001"} // sorts before bcmCab
	commit(t, s, func(tx *Tx) error {
		tx.Discover(OriginReading, bcmCage, bcmCab)
		if err := tx.SetPower(bcmCab, Power{KVA: Text("2.5"), ReadingTime: at(2)}, at(2)); err != nil {
			return err
		}
		tx.Discover(OriginReading, early) // looked up, not found: bcmCab stays the last found
		if i, _ := tx.Structure().LocationIndex(bcmCab); i == before {
			t.Fatalf("the discovered cabinet did not move %s (index %d): the test tests nothing", bcmCab, i)
		}
		return errors.Join(tx.SetPower(bcmCab, Power{KVA: Text("3.5"), ReadingTime: at(3)}, at(3)),
			tx.SetEnvironment(bcmCab, Environment{Temperature: Text("22.5"), ReadingTime: at(3)}, at(3)))
	})
	snap := s.Snapshot()
	st := snap.Structure()
	ki, _ := st.LocationIndex(bcmCab)
	ei, ok := st.LocationIndex(early)
	if !ok {
		t.Fatalf("%s not placed", early)
	}
	if p, e := snap.Power(ki), snap.Environment(ki); p.KVA.String() != "3.5" || e.Temperature.String() != "22.5" {
		t.Errorf("%s: power %q, temperature %q; want 3.5, 22.5", bcmCab, p.KVA.String(), e.Temperature.String())
	}
	if p, e := snap.Power(ei), snap.Environment(ei); p.KVA.String() != "" || e.Temperature.String() != "" {
		t.Errorf("%s, which was given no reading: power %q, temperature %q", early, p.KVA.String(), e.Temperature.String())
	}
}
