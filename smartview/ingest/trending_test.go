package ingest

import (
	"reflect"
	"testing"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

func TestTrendPoints(t *testing.T) {
	cage := model.LocationID{IBX: "SV4", Level: model.LevelCage, Name: "SV4:01:001150"}
	zone := model.LocationID{IBX: "SV4", Level: model.LevelZone, Name: "SV4:1:01:ColoA:1"}
	circuit := model.LocationID{IBX: "SV4", Level: model.LevelCircuit, Name: "20853717"}
	if p, ok := PowerTrendPoint(cage); !ok || p != (smartview.TrendPoint{Kind: smartview.TrendPower, IBX: "SV4", LevelType: "CAGE", LevelValue: "SV4:01:001150"}) {
		t.Errorf("cage power: %+v %v", p, ok)
	}
	if _, ok := PowerTrendPoint(zone); ok {
		t.Error("a zone has no power series")
	}
	if p, ok := PowerTrendPoint(circuit); !ok || p.LevelType != "CIRCUIT" || p.LevelValue != "20853717" {
		t.Errorf("circuit power: %+v", p)
	}
	want := []smartview.TrendPoint{
		{Kind: smartview.TrendEnvironment, IBX: "SV4", LevelType: "ZONE", LevelValue: "SV4:1:01:ColoA:1", DataPoint: "temperature"},
		{Kind: smartview.TrendEnvironment, IBX: "SV4", LevelType: "ZONE", LevelValue: "SV4:1:01:ColoA:1", DataPoint: "humidity"},
	}
	if got := EnvironmentTrendPoints(zone); !reflect.DeepEqual(got, want) {
		t.Errorf("zone environment: %+v", got)
	}
	if got := EnvironmentTrendPoints(circuit); got != nil {
		t.Errorf("circuit environment: %+v", got)
	}
	if p := TagTrendPoint("CH1", "CH1.Gen-1:fuelhours"); p.Kind != smartview.TrendTag || p.TagID != "CH1.Gen-1:fuelhours" || p.IBX != "CH1" {
		t.Errorf("tag: %+v", p)
	}
}
