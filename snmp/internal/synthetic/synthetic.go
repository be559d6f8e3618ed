// Package synthetic builds synthetic SmartView footprints and readings for
// the snmp package's tests and benchmarks: deterministic, of any size, with
// every kind of reading present, absent, non-numeric and out of range.
package synthetic

import (
	"fmt"
	"time"

	"github.com/svgateway/svgateway/model"
)

// Footprint builds a synthetic IBX: a zone, cages × cabinets × circuits, a
// sensor per cage, assets with tags (asset k affects cage k%cages).
func Footprint(ibx string, cages, cabinets, circuits, assets, tags int) model.IBXStructure {
	var s model.IBXStructure
	zone := model.LocationID{IBX: ibx, Level: model.LevelZone, Name: ibx + ":1:01:ColoA:1"}
	s.Locations = append(s.Locations, model.Location{ID: zone, Parent: model.IBXLocation(ibx), Label: "Colo A"})
	for c := 0; c < cages; c++ {
		cage := model.LocationID{IBX: ibx, Level: model.LevelCage, Name: fmt.Sprintf("%s:01:%06d", ibx, c)}
		s.Locations = append(s.Locations, model.Location{ID: cage, Number: fmt.Sprint(1000 + c), Parent: zone})
		s.Locations = append(s.Locations, model.Location{ID: model.LocationID{IBX: ibx, Level: model.LevelSensor, Name: fmt.Sprintf("%s-T%d", cage.Name, c)}, Parent: cage})
		for k := 0; k < cabinets; k++ {
			cab := model.LocationID{IBX: ibx, Level: model.LevelCabinet, Name: fmt.Sprintf("%s:%04d", cage.Name, k)}
			s.Locations = append(s.Locations, model.Location{ID: cab, Number: fmt.Sprint(70000 + c*100 + k), Parent: cage})
			for r := 0; r < circuits; r++ {
				id := model.LocationID{IBX: ibx, Level: model.LevelCircuit, Name: fmt.Sprintf("%s-%03d%02d%d", ibx, c, k, r)}
				s.Locations = append(s.Locations, model.Location{ID: id, Label: "120V 20A 1Ph", Parent: cab, Role: []string{"primary", "redundant", ""}[r%3]})
			}
		}
	}
	for a := 0; a < assets; a++ {
		id := fmt.Sprintf("%s.Asset-%d", ibx, a)
		var affects []model.LocationID
		if cages > 0 {
			affects = []model.LocationID{{IBX: ibx, Level: model.LevelCage, Name: fmt.Sprintf("%s:01:%06d", ibx, a%cages)}}
		}
		s.Assets = append(s.Assets, model.Asset{ID: id, Classification: "Electrical", Category: "Global", Template: "UPS",
			Type: "UPS", Manufacturer: "ACME", Model: "U-" + fmt.Sprint(a), Serial: fmt.Sprintf("SN%05d", a), TimeZone: "UTC", Affects: affects})
		for t := 0; t < tags; t++ {
			s.Tags = append(s.Tags, model.Tag{ID: fmt.Sprintf("%s:tag%d", id, t), Asset: id, DisplayName: fmt.Sprint("Tag ", t), Unit: "V"})
		}
	}
	return s
}

// Fill writes readings to every location, tag and asset except every fifth
// (left unavailable), taken at t plus gen seconds; gen varies the values.
func Fill(store *model.Store, t time.Time, gen int) error {
	st := store.Snapshot().Structure()
	at := t.Add(time.Duration(gen) * time.Second)
	_, err := store.Update(func(tx *model.Tx) error {
		for i, l := range st.Locations() {
			if i%5 == 4 {
				continue
			}
			f := float64(i%97) + float64(gen)/10
			switch l.ID.Level {
			case model.LevelIBX, model.LevelCage, model.LevelCabinet, model.LevelCircuit:
				p := model.Power{KVA: model.Number(f + 0.1234), Amps: model.Text(fmt.Sprintf("%.1f", f*4)), SoldKVA: model.Text("NA"),
					ContractualKVA: model.Number(10), PercentKVA: model.Number(f * 10), CabinetRating: model.Number(5.5),
					PrimaryKVA: model.Number(f / 2), RedundantKVA: model.Number(-f / 2), KW: model.Number(f * 0.9), PowerFactor: model.Number(0.95),
					PeakKVA7d: model.Number(3e6), ReadingTime: at}
				if i%2 == 0 { // numeric sometimes; "NA" and out-of-range otherwise
					p.SoldKVA, p.PeakKVA7d = model.Number(8), model.Number(f+1)
				}
				if i%2 == 0 {
					p.BreakerAlarm = model.FlagFalse
				} else if i%3 == 0 {
					p.BreakerAlarm = model.FlagTrue
				}
				if err := tx.SetPower(l.ID, p, at); err != nil {
					return err
				}
			}
			switch l.ID.Level {
			case model.LevelIBX, model.LevelZone, model.LevelCage, model.LevelCabinet, model.LevelSensor:
				e := model.Environment{Temperature: model.Number(20 + f/10), Humidity: model.Text("45.5"), TemperatureUnit: "°C", HumidityUnit: "%",
					TemperatureMin: model.Number(18), TemperatureMax: model.Number(27.25), HumidityMin: model.Number(40), ReadingTime: at}
				if i%2 == 0 {
					e.HumidityMax = model.Number(60.125)
				}
				if err := tx.SetEnvironment(l.ID, e, at); err != nil {
					return err
				}
			}
		}
		for i, a := range st.Assets() {
			if i%5 == 4 {
				continue
			}
			status := []string{"OK", "NOT OK", "Unknown"}[i%3]
			if err := tx.SetAsset(a.ID, model.AssetState{AlarmStatus: status, ResiliencyStatus: "Resiliency as Designed",
				AlarmTriggered: at.Add(-time.Hour), AlarmActive: i%2 == 0, LastMaintenance: at.Add(-48 * time.Hour), ReadingTime: at}, at); err != nil {
				return err
			}
		}
		for i, tg := range st.Tags() {
			if i%5 == 4 {
				continue
			}
			v := []model.Value{model.Text(fmt.Sprintf("%d.25", i%1000+gen)), model.Text("READY TO START"), model.Number(12345678901), model.Number(-7.5)}[i%4]
			if err := tx.SetTag(tg.ID, model.TagReading{Value: v, AlarmStatus: "OK", ReadingTime: at}, at); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// Profile is the size of a synthetic footprint, per IBX.
type Profile struct {
	IBXs, Cages, Cabinets, Circuits, Assets, Tags int
}

// Large is the size of the sandbox's large profile: 20 IBXs, 2,000 cages,
// 20,000 cabinets, 80,000 circuits, 10,000 assets, 100,000 tags (and, here,
// a sensor per cage).
var Large = Profile{IBXs: 20, Cages: 100, Cabinets: 10, Circuits: 4, Assets: 500, Tags: 10}

// Build returns the IBX structures of a profile.
func (p Profile) Build() map[string]model.IBXStructure {
	parts := make(map[string]model.IBXStructure, p.IBXs)
	for i := 0; i < p.IBXs; i++ {
		ibx := fmt.Sprintf("X%02d", i+1)
		parts[ibx] = Footprint(ibx, p.Cages, p.Cabinets, p.Circuits, p.Assets, p.Tags)
	}
	return parts
}

// NewStore returns a store holding the profile with readings (see Fill)
// taken at t.
func (p Profile) NewStore(t time.Time) (*model.Store, error) {
	store, err := model.NewStore(model.Options{Now: time.Now})
	if err != nil {
		return nil, err
	}
	if _, err := store.Update(func(tx *model.Tx) error { tx.SetStructure(p.Build()); return nil }); err != nil {
		return nil, err
	}
	if err := Fill(store, t, 0); err != nil {
		return nil, err
	}
	_, err = store.Update(func(tx *model.Tx) error {
		tx.SetUpstream(model.UpstreamOK, "")
		tx.SetLastSync(t)
		return nil
	})
	return store, err
}
