package ingest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

func TestLocations(t *testing.T) {
	tests := []struct {
		name string
		json string
		env  bool
		want string // LocationID.String(), "" for none
	}{
		{"IBX environment", `{"ibx":"CH1","zone":"ALL","cage":"ALL","cabinet":"ALL","sensor":"ALL"}`, true, "CH1/IBX/CH1"},
		{"zone environment", `{"ibx":"CH1","zone":"CH1:1:05:ColoArea:2","cage":"ALL","cabinet":"ALL","sensor":"ALL"}`, true, "CH1/ZONE/CH1:1:05:ColoArea:2"},
		{"cage environment, fields missing", `{"ibx":"CH1","cage":"CH1:05:000550"}`, true, "CH1/CAGE/CH1:05:000550"},
		{"sensor wins", `{"ibx":"CH1","zone":"Z","cage":"CH1:05:000550","cabinet":"CH1:05:000550:0105","sensor":"CH1.Colo.CH1_05_000550_0105"}`, true, "CH1/SENSOR/CH1.Colo.CH1_05_000550_0105"},
		{"no IBX", `{"zone":"ALL"}`, true, ""},
		{"power, REST level type", `{"ibx":"CH1","levelType":"IBX","levelValue":"CH1"}`, false, "CH1/IBX/CH1"},
		{"power, feed level type in lower case", `{"ibx":"SV4","levelType":"circuit","levelValue":"20853717"}`, false, "SV4/CIRCUIT/20853717"},
		{"power, numeric level value", `{"ibx":"SV4","levelType":"CABINET","levelValue":74006}`, false, "SV4/CABINET/74006"},
		{"power, zone is not a power level", `{"ibx":"SV4","levelType":"ZONE","levelValue":"Z"}`, false, ""},
		{"power, bad level type", `{"ibx":"SV4","levelType":"ibc","levelValue":"x"}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id model.LocationID
			var ok bool
			if tt.env {
				var e smartview.Environment
				if err := json.Unmarshal([]byte(tt.json), &e); err != nil {
					t.Fatal(err)
				}
				id, ok = EnvironmentLocation(&e)
			} else {
				var p smartview.Power
				if err := json.Unmarshal([]byte(tt.json), &p); err != nil {
					t.Fatal(err)
				}
				id, ok = PowerLocation(&p)
			}
			got := ""
			if ok {
				got = id.String()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAlarmObservation(t *testing.T) {
	tests := []struct {
		json         string
		active, ack  bool
		sev          model.Severity
		subjectInKey string
	}{
		{`{"ibx":"DC5","assetId":"DC5.UPS-R1","severity":"Urgent","status":true,"ack":true,"timeTrigerred":1546510663707}`, true, true, model.SeverityUrgent, "DC5.UPS-R1"},
		{`{"ibx":"CH3","assetId":"CH3.STS-B1.A5","severity":"Urgent","status":false,"ack":false}`, false, false, model.SeverityUrgent, "CH3.STS-B1.A5"},
		{`{"ibx":"SV4","circuit":"20853717","assettype":"CIRCUIT","severity":650,"status":"true","timetriggered":"1546510663707"}`, true, false, model.SeverityHigh, "20853717"},
		{`{"ibx":"SV4","cage":"SV4:01:000120","severity":250}`, true, false, model.SeverityInformational, "SV4:01:000120"}, // no status: reported because active
	}
	for _, tt := range tests {
		var a smartview.Alarm
		if err := json.Unmarshal([]byte(tt.json), &a); err != nil {
			t.Fatal(err)
		}
		o := Alarm(&a)
		if o.Active != tt.active || o.Acknowledged != tt.ack || o.Severity != tt.sev {
			t.Errorf("%s: active %v ack %v severity %v", tt.json, o.Active, o.Acknowledged, o.Severity)
		}
		if k := o.Key(); !strings.Contains(k, "|"+tt.subjectInKey+"|") {
			t.Errorf("%s: key %q does not name %s", tt.json, k, tt.subjectInKey)
		}
	}
}

func TestCircuitRole(t *testing.T) {
	for label, want := range map[string]string{
		"120V 20A 1Ph Red (3717)": "redundant", "120V 20A 1Ph Pri (3716)": "primary",
		"208V 30A 3Ph Primary": "primary", "Redundant feed B": "redundant", "120V 20A 1Ph (9999)": "", "Reduced": "",
	} {
		if got := circuitRole(label); got != want {
			t.Errorf("circuitRole(%q) = %q, want %q", label, got, want)
		}
	}
}
