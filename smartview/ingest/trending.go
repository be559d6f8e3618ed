package ingest

// The trending points of the model's series, for filling history gaps (smartview.TrendingGap):
// the model names a location by its LocationID and a tag by its id; the trending endpoints want a
// level type and value, or a tag id, as the current-reading endpoints do.

import (
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

// PowerTrendPoint is the power (kVA) series of a location: IBX, cage, cabinet or circuit. ok is
// false for levels the power endpoints do not have (zones, sensors).
func PowerTrendPoint(id model.LocationID) (p smartview.TrendPoint, ok bool) {
	switch id.Level {
	case model.LevelIBX, model.LevelCage, model.LevelCabinet, model.LevelCircuit:
		return smartview.TrendPoint{Kind: smartview.TrendPower, IBX: id.IBX, LevelType: id.Level.String(), LevelValue: id.Name}, true
	}
	return smartview.TrendPoint{}, false
}

// EnvironmentTrendPoints are the temperature and humidity series of a location: IBX, zone, cage
// or sensor; none for the other levels.
func EnvironmentTrendPoints(id model.LocationID) []smartview.TrendPoint {
	switch id.Level {
	case model.LevelIBX, model.LevelZone, model.LevelCage, model.LevelSensor:
	default:
		return nil
	}
	var out []smartview.TrendPoint
	for _, dp := range []string{"temperature", "humidity"} {
		out = append(out, smartview.TrendPoint{Kind: smartview.TrendEnvironment, IBX: id.IBX,
			LevelType: id.Level.String(), LevelValue: id.Name, DataPoint: dp})
	}
	return out
}

// TagTrendPoint is a tag point's series.
func TagTrendPoint(ibx, tagID string) smartview.TrendPoint {
	return smartview.TrendPoint{Kind: smartview.TrendTag, IBX: ibx, TagID: tagID}
}

// A sample's value converts with Value, like a current reading's: smp.Value is a smartview.Number.
