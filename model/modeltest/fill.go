package modeltest

import (
	"fmt"
	"time"

	"github.com/svgateway/svgateway/model"
)

// The readings of a footprint, in the three patterns the tests need. Each
// runs inside a store update (tx) over the structure it fills.

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

// FillVaried writes readings to every location, tag and asset except every
// fifth (left unavailable), taken at t plus gen seconds; gen varies the
// values. Every kind of reading is present, absent, non-numeric ("NA") and
// out of range somewhere.
func FillVaried(tx *model.Tx, t time.Time, gen int) error {
	st := tx.Structure()
	at := t.Add(time.Duration(gen) * time.Second)
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
}

// FillUniform sets every reading of tx's structure to value (tags without a
// unit read "READY"), read at time at.
func FillUniform(tx *model.Tx, at time.Time, value float64) error {
	st := tx.Structure()
	for _, l := range st.Locations() {
		if l.ID.Level != model.LevelSensor && l.ID.Level != model.LevelZone {
			p := model.Power{KVA: model.Number(value), Amps: model.Number(value * 4), ContractualKVA: model.Number(100),
				PercentKVA: model.Number(value), SoldKVA: model.Number(120), PrimaryKVA: model.Number(value / 2),
				RedundantKVA: model.Number(value / 2), KW: model.Text("NA"), PowerFactor: model.Text("NA"),
				PeakKVA7d: model.Number(value + 1), CabinetRating: model.Number(5), BreakerAlarm: model.FlagFalse, ReadingTime: at}
			if err := tx.SetPower(l.ID, p, time.Time{}); err != nil {
				return err
			}
		}
		if l.ID.Level != model.LevelCircuit {
			e := model.Environment{Temperature: model.Number(20 + value/100), Humidity: model.Number(40),
				TemperatureUnit: "°C", HumidityUnit: "%", ReadingTime: at}
			if err := tx.SetEnvironment(l.ID, e, time.Time{}); err != nil {
				return err
			}
		}
	}
	for _, tag := range st.Tags() {
		v := model.Number(value)
		if tag.Unit == "" {
			v = model.Text("READY")
		}
		if err := tx.SetTag(tag.ID, model.TagReading{Value: v, AlarmStatus: "OK", ReadingTime: at}, time.Time{}); err != nil {
			return err
		}
	}
	for _, a := range st.Assets() {
		if err := tx.SetAsset(a.ID, model.AssetState{AlarmStatus: "OK", ResiliencyStatus: "Resiliency as Designed",
			LastMaintenance: at.Add(-24 * time.Hour), ReadingTime: at}, time.Time{}); err != nil {
			return err
		}
	}
	tx.SetUpstream(model.UpstreamOK, "")
	tx.SetLastSync(at)
	return nil
}
