// Package synth builds synthetic SmartView footprints for the OPC UA
// end-to-end tests and benchmarks: a store-shaped structure of any size and
// readings that change with every tick. It must not be used by the gateway.
package synth

import (
	"fmt"
	"time"

	"github.com/svgateway/svgateway/model"
)

// Shape is the size of a footprint: per IBX one zone with Cages cages of
// Cabinets cabinets of Circuits circuits, and Assets assets with Tags tags
// each (the first tag of an asset has no unit and a text reading).
type Shape struct {
	IBXs, Cages, Cabinets, Circuits, Assets, Tags int
}

// IBX returns the code of IBX i.
func IBX(i int) string { return fmt.Sprintf("IB%02d", i+1) }

// Footprint returns the structure of a shape.
func Footprint(s Shape) map[string]model.IBXStructure {
	out := map[string]model.IBXStructure{}
	for i := 0; i < s.IBXs; i++ {
		ibx := IBX(i)
		var p model.IBXStructure
		zone := model.LocationID{IBX: ibx, Level: model.LevelZone, Name: ibx + ":1:01:ColoA:1"}
		p.Locations = append(p.Locations, model.Location{ID: zone, Parent: model.IBXLocation(ibx), Label: "Colo A"})
		for c := 0; c < s.Cages; c++ {
			cage := model.LocationID{IBX: ibx, Level: model.LevelCage, Name: fmt.Sprintf("%s:01:%06d", ibx, c)}
			p.Locations = append(p.Locations, model.Location{ID: cage, Number: fmt.Sprint(1000 + c), Parent: zone})
			for k := 0; k < s.Cabinets; k++ {
				cab := model.LocationID{IBX: ibx, Level: model.LevelCabinet, Name: fmt.Sprintf("%s:%04d", cage.Name, k)}
				p.Locations = append(p.Locations, model.Location{ID: cab, Number: fmt.Sprint(70000 + c*s.Cabinets + k), Parent: cage})
				for r := 0; r < s.Circuits; r++ {
					id := model.LocationID{IBX: ibx, Level: model.LevelCircuit, Name: fmt.Sprintf("%s-%04d-%03d-%d", ibx, c, k, r)}
					p.Locations = append(p.Locations, model.Location{ID: id, Label: "208V 30A 3Ph", Parent: cab,
						Role: []string{"primary", "redundant"}[r%2]})
				}
			}
		}
		for a := 0; a < s.Assets; a++ {
			aid := fmt.Sprintf("%s.PDU-%d", ibx, a)
			var affects []model.LocationID
			if s.Cages > 0 {
				affects = append(affects, model.LocationID{IBX: ibx, Level: model.LevelCage, Name: fmt.Sprintf("%s:01:%06d", ibx, a%s.Cages)})
			}
			p.Assets = append(p.Assets, model.Asset{ID: aid, Classification: "Electrical", Category: "Power",
				Template: []string{"PDU", "UPS", "Generator"}[a%3], Manufacturer: "ACME", Model: "P-100", Serial: fmt.Sprint("SN", a),
				TimeZone: "UTC", Affects: affects})
			for t := 0; t < s.Tags; t++ {
				unit := []string{"", "kVA", "A", "V", "°C", "%", "kW", "Hz", "h"}[t%9]
				p.Tags = append(p.Tags, model.Tag{ID: fmt.Sprintf("%s:t%02d", aid, t), Asset: aid, DisplayName: fmt.Sprint("Tag ", t), Unit: unit})
			}
		}
		out[ibx] = p
	}
	return out
}

// Reading is the numeric value every reading has at a tick.
func Reading(tick int, i int) float64 { return float64((tick+i)%1000) / 10 }

// Fill sets every reading of tx's structure for a tick, read at time at.
// Within a tick the n-th reading of a kind has the value Reading(tick, n).
func Fill(tx *model.Tx, tick int, at time.Time) error {
	st := tx.Structure()
	for i, l := range st.Locations() {
		v := Reading(tick, i)
		if l.ID.Level != model.LevelZone && l.ID.Level != model.LevelSensor {
			if err := tx.SetPower(l.ID, model.Power{KVA: model.Number(v), Amps: model.Number(v * 4), SoldKVA: model.Number(200),
				ContractualKVA: model.Number(150), PercentKVA: model.Number(v / 1.5), CabinetRating: model.Number(8),
				PrimaryKVA: model.Number(v / 2), RedundantKVA: model.Number(v / 2), KW: model.Text("NA"), PowerFactor: model.Number(0.9),
				PeakKVA7d: model.Number(v + 5), BreakerAlarm: model.FlagFalse, ReadingTime: at}, time.Time{}); err != nil {
				return err
			}
		}
		if l.ID.Level != model.LevelCircuit {
			if err := tx.SetEnvironment(l.ID, model.Environment{Temperature: model.Number(18 + v/10), Humidity: model.Number(40 + v/10),
				TemperatureUnit: "°C", HumidityUnit: "%", ReadingTime: at}, time.Time{}); err != nil {
				return err
			}
		}
	}
	for i, t := range st.Tags() {
		v := model.Number(Reading(tick, i))
		if t.Unit == "" {
			v = model.Text([]string{"RUNNING", "READY"}[(tick+i)%2])
		}
		if err := tx.SetTag(t.ID, model.TagReading{Value: v, AlarmStatus: "OK", ReadingTime: at}, time.Time{}); err != nil {
			return err
		}
	}
	for _, a := range st.Assets() {
		if err := tx.SetAsset(a.ID, model.AssetState{AlarmStatus: "OK", ResiliencyStatus: "Resiliency as Designed",
			LastMaintenance: at.Add(-30 * 24 * time.Hour).Truncate(time.Hour), ReadingTime: at}, time.Time{}); err != nil {
			return err
		}
	}
	tx.SetUpstream(model.UpstreamOK, "")
	tx.SetLastSync(at)
	return nil
}

// NewStore returns a store holding the shape, filled for tick 0.
func NewStore(s Shape, at time.Time) (*model.Store, error) {
	store, err := model.NewStore(model.Options{})
	if err != nil {
		return nil, err
	}
	_, err = store.Update(func(tx *model.Tx) error {
		if w := tx.SetStructure(Footprint(s)); len(w) > 0 {
			return fmt.Errorf("synth: structure warnings: %v", w[0])
		}
		return Fill(tx, 0, at)
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}
