package smartview

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeEvent(t *testing.T) {
	tests := []struct {
		file  string
		name  string
		kind  EventKind
		check func(*testing.T, *Event)
	}{
		{"event_alarm_updated.json", "alarm_updated", EventAlarm, func(t *testing.T, e *Event) {
			a := e.Alarm
			if a.IBX != "SV4" || a.AccountNo != "1" || a.Cage != "SV4:01:000120" || a.Cabinet != "SV4:01:000120:0101" || a.Circuit != "20853717" ||
				a.AssetType != "CIRCUIT" || a.AssetClassification != "Power" || a.ConditionName != "High" || a.AlarmType != "absolute" ||
				a.ValueType != "Float" || a.UOM != "kVA" || a.Metro != "SV" || a.Region != "AMER" || a.Value.Value != 4.85 {
				t.Errorf("alarm %+v", a)
			}
			if a.Severity.Level != SeverityUrgent || a.Severity.Code != 800 || !a.Status.Value {
				t.Errorf("severity %+v status %+v", a.Severity, a.Status)
			}
			if !a.TimeTriggered.Time.Equal(time.UnixMilli(1550071367746)) || !a.TimeProcessed.Time.Equal(time.UnixMilli(1550322722748)) ||
				a.TimeNormalProcessed.Valid || a.Ack.Valid {
				t.Errorf("times %v %v %v", a.TimeTriggered, a.TimeProcessed, a.TimeNormalProcessed)
			}
		}},
		{"event_alarm_active.json", "alarm_active", EventAlarm, func(t *testing.T, e *Event) {
			a := e.Alarm
			if a.Severity.Level != SeverityHigh || a.Severity.Code != 650 || a.AssetID != "CH1.Gen-1" || a.TagID != "CH1.Gen-1:alarm" || a.Value.Value != 1 {
				t.Errorf("alarm %+v", a)
			}
		}},
		{"event_environment_updated.json", "environment_updated", EventEnvironment, func(t *testing.T, e *Event) {
			v := e.Environment
			if v.Temperature.Value != 21.4 || v.Humidity.Valid || v.Humidity.Text != "NA" || v.MinTemperature.Value != 19.9 ||
				v.MaxTemperature.Value != 22.8 || v.MinHumidity.Valid || v.MaxHumidity.Valid || v.Sensor != "CH1.Colo.CH1_05_000550_0105" ||
				!v.Timestamp.Time.Equal(time.UnixMilli(1552277740599)) {
				t.Errorf("environment %+v", v)
			}
		}},
		{"event_power_updated.json", "power_updated", EventPower, func(t *testing.T, e *Event) {
			p := e.Power
			if p.LevelType != "circuit" || p.LevelValue != "20853717" || !p.IsAlarm.Valid || p.IsAlarm.Value || p.KVA.Value != 1.62 ||
				p.Amps.Value != 13.5 || p.SoldAmps.Value != 20 || p.Type != "redundant" || p.Description != "120V 20A 1Ph Red (3717)" ||
				p.Cage != "SV4:01:000120" || p.SoldKVA.Valid || !p.PeakKVALastSevenDaysTime.Time.Equal(time.UnixMilli(1550379600000)) {
				t.Errorf("power %+v", p)
			}
		}},
		{"event_tagpoint_updated.json", "tagpoint_updated", EventTagPoint, func(t *testing.T, e *Event) {
			tp := e.TagPoint
			if tp.TagID != "CH1.Gen-1:fuelhours" || tp.Value.Value != 77.9 || tp.AlarmStatus != "OK" ||
				!tp.ReadingTime.Time.Equal(time.Date(2019, 3, 24, 3, 33, 54, 0, time.UTC)) {
				t.Errorf("tag point %+v", tp)
			}
		}},
		{"event_alert_updated.json", "alert_updated", EventAlert, func(t *testing.T, e *Event) {
			a := e.Alert
			if a.ID != "5c6b1d2e9f1a" || a.Acknowledge.Value || !a.Acknowledge.Valid || a.Severity.Level != SeverityHigh ||
				a.CurrentValue.Value != 27.6 || a.ThresholdValue.Value != 27 || a.ThresholdValueMax.Valid || a.TimeZone != "America/Chicago" ||
				a.AlertType == nil || a.AlertType.ID != "17" || a.AlertType.Value.Value != 27 || len(a.ConditionalAlert) != 1 ||
				a.ConditionalAlert[0].TagID != "CH1.Colo.CH1_05_000550_0105:temperature" || a.ConditionalAlert[0].CurrentValue.Value != 27.6 ||
				!a.TimeTriggered.Time.Equal(time.UnixMilli(1550551020000)) || !a.TriggeredOn.Time.Equal(time.UnixMilli(1550551020000)) ||
				!a.TimeProcessed.Zoneless() || a.TimeAcknowledged.Valid || a.CreatedOn.Valid {
				t.Errorf("alert %+v", a)
			}
			chicago, _ := time.LoadLocation("America/Chicago")
			e.InLocation(chicago)
			if want := time.Date(2019, 2, 18, 22, 57, 0, 0, chicago); !e.Alert.TimeProcessed.Time.Equal(want) {
				t.Errorf("timeprocessed in Chicago: %v, want %v", e.Alert.TimeProcessed.Time, want)
			}
		}},
		{"event_alert_data.json", "alert_acknowledged", EventAlert, func(t *testing.T, e *Event) {
			a := e.Alert
			if a.AccountNo != "1" || !a.Acknowledge.Value || !a.TimeAcknowledged.Time.Equal(time.UnixMilli(1550552000000)) {
				t.Errorf("alert %+v", a)
			}
		}},
		{"event_unknown.json", "cabinet_moved", EventUnknown, func(t *testing.T, e *Event) {
			if e.Alarm != nil || e.Environment != nil || e.Power != nil || e.TagPoint != nil || e.Alert != nil {
				t.Errorf("unknown event decoded an object: %+v", e)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := docExample(t, tt.file)
			e, err := DecodeEvent(data)
			if err != nil {
				t.Fatal(err)
			}
			if e.Name != tt.name || e.Kind != tt.kind || string(e.Raw) != string(data) {
				t.Errorf("name %q kind %v", e.Name, e.Kind)
			}
			tt.check(t, e)
		})
	}
}

func TestDecodeEventErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"name":"alarm_updated","alarm":`, "invalid JSON at byte"},
		{`[1,2]`, "field (top level)"},
		{`{"data":{}}`, `no "name"`},
		{`{"name":7,"data":{}}`, `no "name"`},
		{`{"name":"power_updated"}`, "event power_updated: no power object (looked for data, powerData)"},
		{`{"name":"alarm_updated","alarm":null}`, "no alarm object"},
		{`{"name":"tagpoint_updated","data":"x"}`, `"data" is not an object`},
		{`{"name":"environment_updated","data":{"temperature":[1]}}`, `event environment_updated: "data": number: want a number`},
		{`{"name":"alarm_updated","alarm":{"ibx":5.5e}}`, "invalid JSON"},
	}
	for _, tt := range tests {
		_, err := DecodeEvent([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// The object may sit under the property name the prose gives it, and names match in any case.
func TestDecodeEventObjectKeys(t *testing.T) {
	for in, kind := range map[string]EventKind{
		`{"name":"environment_updated","environmentData":{"ibx":"CH1"}}`: EventEnvironment,
		`{"name":"power_updated","powerData":{"ibx":"CH1"}}`:             EventPower,
		`{"name":"tagpoint_updated","tagPointData":{"tagId":"CH1"}}`:     EventTagPoint,
		`{"name":"ALARM_CLEARED","data":{"ibx":"CH1"}}`:                  EventAlarm,
		`{"Name":"alert_updated","Alert":{"ibx":"CH1"}}`:                 EventAlert,
	} {
		e, err := DecodeEvent([]byte(in))
		if err != nil || e.Kind != kind {
			t.Errorf("%s: %v, %v", in, e, err)
		}
	}
}
