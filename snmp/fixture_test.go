package snmp

import (
	"fmt"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
)

// fixtureTime is the clock of the fixture store.
var fixtureTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// footprint builds a synthetic IBX: a zone, cages × cabinets × circuits, a
// sensor per cage, assets with tags (asset k affects cage k%cages).
func footprint(ibx string, cages, cabinets, circuits, assets, tags int) model.IBXStructure {
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

// newFixtureStore returns a store holding the given IBXs with readings for
// most of them (every kind of value, present and absent), alarms in each
// state, an alert, and health.
func newFixtureStore(t testing.TB, parts map[string]model.IBXStructure) *model.Store {
	t.Helper()
	store, err := model.NewStore(model.Options{Now: func() time.Time { return fixtureTime }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Update(func(tx *model.Tx) error {
		tx.SetStructure(parts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fillValues(t, store, 0)
	if _, err := store.Update(func(tx *model.Tx) error {
		for ibx := range parts {
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, AssetID: ibx + ".Asset-0", TagID: ibx + ".Asset-0:tag0", Condition: "High voltage",
				Severity: model.SeverityUrgent, SeverityText: "Urgent", Value: "251", Unit: "V", Active: true,
				Triggered: fixtureTime.Add(-time.Hour), Processed: fixtureTime.Add(-time.Hour)}, "poll")
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, Cabinet: ibx + ":01:000000:0000", Condition: "Breaker", Severity: model.SeverityLow,
				SeverityText: "Low", Active: true, Acknowledged: true, Triggered: fixtureTime.Add(-2 * time.Hour)}, "feed")
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, Circuit: "nowhere", Condition: "Gone", Severity: model.SeverityInformational,
				Active: true, Triggered: fixtureTime.Add(-3 * time.Hour)}, "poll")
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, Circuit: "nowhere", Condition: "Gone", Severity: model.SeverityInformational,
				Active: false, Triggered: fixtureTime.Add(-3 * time.Hour), Cleared: fixtureTime.Add(-time.Minute)}, "poll")
			tx.ObserveAlert(model.AlertObservation{ID: "alert-" + ibx, IBX: ibx, Asset: ibx + ".Asset-0", AssetName: "UPS 0", TagID: ibx + ".Asset-0:tag1",
				Type: "threshold", Name: "Load above 80%", EventType: "ALERT", Severity: "High", Value: "85", Unit: "%", Threshold: "80",
				Triggered: fixtureTime.Add(-30 * time.Minute)}, "feed")
		}
		tx.SetUpstream(model.UpstreamOK, "")
		tx.SetLastSync(fixtureTime)
		tx.SetFeed(model.FeedHealth{State: model.FeedConnected, Provider: "pubsub", Events: 12, Malformed: 1, LastEvent: fixtureTime})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return store
}

// fillValues writes readings to every location, tag and asset except every
// fifth (left unavailable); gen varies the values.
func fillValues(t testing.TB, store *model.Store, gen int) {
	t.Helper()
	st := store.Snapshot().Structure()
	at := fixtureTime.Add(time.Duration(gen) * time.Second)
	if _, err := store.Update(func(tx *model.Tx) error {
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
	}); err != nil {
		t.Fatal(err)
	}
}
