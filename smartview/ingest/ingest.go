// Package ingest turns SmartView API objects into model updates. It is the
// one place where the API's vocabulary (level types, "ALL" placeholders,
// severities, upstream time quirks) meets the model's, shared by the REST
// poller and the feed consumers so that a reading means the same whichever
// way it arrived.
//
// It must not call the API or hold state: every function maps its input.
package ingest

import (
	"strings"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

// Value converts an API number: numeric when valid, with the upstream text
// kept when it was not a plain JSON number ("NA", "175.334", "READY").
func Value(n smartview.Number) model.Value {
	v := model.Value{Text: n.Text}
	if n.Valid {
		v.Num, v.IsNum = n.Value, true
	}
	return v
}

// Time converts an API time: zero when unset, unrecognised or "Currently Active".
func Time(t smartview.Time) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time
}

// Flag converts an API boolean.
func Flag(b smartview.Bool) model.Flag {
	switch {
	case !b.Valid:
		return model.FlagUnknown
	case b.Value:
		return model.FlagTrue
	}
	return model.FlagFalse
}

// Severity converts an API severity.
func Severity(s smartview.Severity) model.Severity {
	switch s.Level {
	case smartview.SeverityInformational:
		return model.SeverityInformational
	case smartview.SeverityLow:
		return model.SeverityLow
	case smartview.SeverityHigh:
		return model.SeverityHigh
	case smartview.SeverityUrgent:
		return model.SeverityUrgent
	}
	return model.SeverityUnknown
}

// PowerLocation returns the location a power reading belongs to: levelValue
// names the IBX, the cage's or cabinet's unique space id, or the circuit
// number (the feed spells levelType in lower case).
func PowerLocation(p *smartview.Power) (model.LocationID, bool) {
	level, ok := model.ParseLevel(p.LevelType)
	if !ok || p.IBX == "" || p.LevelValue == "" {
		return model.LocationID{}, false
	}
	switch level {
	case model.LevelIBX, model.LevelCage, model.LevelCabinet, model.LevelCircuit:
		return model.LocationID{IBX: p.IBX, Level: level, Name: string(p.LevelValue)}, true
	}
	return model.LocationID{}, false
}

// PowerPlaces returns what a power reading names, outermost first, for
// [model.Tx.Discover]: the feed's cage and cabinet, then the reading's own
// location (last). Without a location, it says why.
func PowerPlaces(p *smartview.Power) ([]model.LocationID, model.Unplaced) {
	id, ok := PowerLocation(p)
	if !ok {
		switch _, known := model.ParseLevel(p.LevelType); {
		case p.IBX == "":
			return nil, model.UnplacedNoIBX
		case known && p.LevelValue == "":
			return nil, model.UnplacedNoName
		}
		return nil, model.UnplacedNoLevel
	}
	var chain []model.LocationID
	for _, c := range []model.LocationID{{IBX: p.IBX, Level: model.LevelCage, Name: p.Cage}, {IBX: p.IBX, Level: model.LevelCabinet, Name: p.Cabinet}} {
		if c.Level < id.Level && !all(c.Name) {
			chain = append(chain, c)
		}
	}
	return append(chain, id), 0
}

// Power converts a power reading. A reading without its own time is dated by
// its last update time.
func Power(p *smartview.Power) model.Power {
	m := model.Power{
		KVA: Value(p.KVA), Amps: Value(p.Amps), SoldKVA: Value(p.SoldKVA), ContractualKVA: Value(p.ContractualKVA),
		PercentKVA: Value(p.PercentageKVA), CabinetRating: Value(p.CabinetRating), PrimaryKVA: Value(p.PrimaryKVA),
		RedundantKVA: Value(p.RedundantKVA), KW: Value(p.KW), PowerFactor: Value(p.PowerFactor),
		PeakKVA7d: Value(p.PeakKVALastSevenDays), BreakerAlarm: Flag(p.IsAlarm),
		ReadingTime: Time(p.ReadingTime), UpdatedTime: Time(p.LastUpdatedTime),
	}
	if m.ReadingTime.IsZero() {
		m.ReadingTime = m.UpdatedTime
	}
	return m
}

// all reports whether an environment location field means "every value".
func all(s string) bool { return s == "" || strings.EqualFold(s, "ALL") }

// EnvironmentLocation returns the location an environment reading belongs
// to: the most specific of sensor, cabinet, cage, zone and IBX that is not "ALL".
func EnvironmentLocation(e *smartview.Environment) (model.LocationID, bool) {
	if e.IBX == "" {
		return model.LocationID{}, false
	}
	id := model.LocationID{IBX: e.IBX}
	switch {
	case !all(e.Sensor):
		id.Level, id.Name = model.LevelSensor, e.Sensor
	case !all(e.Cabinet):
		id.Level, id.Name = model.LevelCabinet, e.Cabinet
	case !all(e.Cage):
		id.Level, id.Name = model.LevelCage, e.Cage
	case !all(e.Zone):
		id.Level, id.Name = model.LevelZone, e.Zone
	default:
		id = model.IBXLocation(e.IBX)
	}
	return id, true
}

// EnvironmentPlaces returns what an environment reading names, outermost
// first, for [model.Tx.Discover]: its zone, cage, cabinet and sensor that
// are not "ALL"; the reading's own location is the last. Without an IBX, it
// says so.
func EnvironmentPlaces(e *smartview.Environment) ([]model.LocationID, model.Unplaced) {
	id, ok := EnvironmentLocation(e)
	if !ok {
		return nil, model.UnplacedNoIBX
	}
	var chain []model.LocationID
	for _, c := range []model.LocationID{
		{IBX: e.IBX, Level: model.LevelZone, Name: e.Zone},
		{IBX: e.IBX, Level: model.LevelCage, Name: e.Cage},
		{IBX: e.IBX, Level: model.LevelCabinet, Name: e.Cabinet},
	} {
		if c.Level < id.Level && !all(c.Name) {
			chain = append(chain, c)
		}
	}
	return append(chain, id), 0
}

// Environment converts an environment reading.
func Environment(e *smartview.Environment) model.Environment {
	return model.Environment{
		Temperature: Value(e.Temperature), Humidity: Value(e.Humidity),
		TemperatureUnit: e.TemperatureUOM, HumidityUnit: e.HumidityUOM,
		TemperatureMin: Value(e.MinTemperature), TemperatureMax: Value(e.MaxTemperature),
		HumidityMin: Value(e.MinHumidity), HumidityMax: Value(e.MaxHumidity),
		ReadingTime: Time(e.Timestamp),
	}
}

// Tag converts a tag point reading.
func Tag(t *smartview.TagPoint) model.TagReading {
	return model.TagReading{Value: Value(t.Value), AlarmStatus: alarmStatus(t.AlarmStatus), ReadingTime: Time(t.ReadingTime)}
}

// alarmStatus returns an alarm status, upstream's two words as constants:
// each of ~100,000 tag readings (large profile) would otherwise keep a copy
// of its own, decoded from its answer, for as long as the reading lasts.
func alarmStatus(s string) string {
	switch s {
	case "OK":
		return "OK"
	case "NOT OK":
		return "NOT OK"
	}
	return s
}

// AssetState converts the state an asset list reports for one asset. The
// list carries no reading time: the state is dated when it is confirmed.
func AssetState(a *smartview.AssetSummary, lastMaintenance time.Time) model.AssetState {
	return model.AssetState{
		AlarmStatus: alarmStatus(a.AlarmStatus), ResiliencyStatus: a.ResiliencyStatus,
		AlarmTriggered: Time(a.AlarmLastTriggeredTime), AlarmCleared: Time(a.AlarmLastClearedTime),
		AlarmActive: a.AlarmLastClearedTime.Active, LastMaintenance: lastMaintenance,
	}
}

// Alarm converts an alarm, from REST or the feed.
func Alarm(a *smartview.Alarm) model.AlarmObservation {
	return model.AlarmObservation{
		IBX: a.IBX, AssetID: a.AssetID, AssetType: a.AssetType, Classification: a.AssetClassification,
		TagID: a.TagID, Condition: a.ConditionName, Cage: a.Cage, Cabinet: a.Cabinet, Circuit: a.Circuit,
		Severity: Severity(a.Severity), SeverityText: a.Severity.Text, Value: a.Value.Text, Unit: a.UOM,
		// An alarm that says nothing of its status is reported because it is active.
		Active: !a.Status.Valid || a.Status.Value,
		// A v2 alarm with an acknowledgementTime is acknowledged even where
		// its "acknowledged" flag is missing.
		Acknowledged: (a.Ack.Valid && a.Ack.Value) || (!a.Ack.Valid && !Time(a.AckTime).IsZero()),
		Triggered:    Time(a.TimeTriggered), Processed: Time(a.TimeProcessed), Cleared: Time(a.TimeNormalProcessed),
		AckTime: Time(a.AckTime),
	}
}

// Alert converts an alert event.
func Alert(a *smartview.Alert) model.AlertObservation {
	o := model.AlertObservation{
		ID: string(a.ID), IBX: a.IBX, Asset: a.Asset, AssetName: a.AssetName, AssetType: a.AssetType,
		Classification: a.AssetClassification, TagID: a.TagID, Type: a.Type, Name: a.AlertTypeName,
		EventType: a.EventType, Severity: a.Severity.Text, Value: a.CurrentValue.Text, Unit: a.UOM,
		Threshold:    a.ThresholdValue.Text,
		Acknowledged: a.Acknowledge.Valid && a.Acknowledge.Value,
		Triggered:    Time(a.TimeTriggered), AcknowledgedAt: Time(a.TimeAcknowledged),
	}
	if o.Triggered.IsZero() {
		o.Triggered = Time(a.TriggeredOn)
	}
	if o.Severity == "" {
		o.Severity = Severity(a.Severity).String()
	}
	return o
}
