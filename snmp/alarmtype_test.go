package snmp

import (
	"strings"
	"testing"

	"github.com/svgateway/svgateway/model"
)

// TestClassify: SmartView's alarm fields, as the API and the sandbox send
// them, map to the documented type, probable cause and event type; an
// alarm no rule knows is generic, never dropped.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name  string
		a     model.Alarm
		typ   *AlarmType
		cause int
	}{
		{"reference UPS", model.Alarm{AssetID: "DC5.UPS-R1", AssetType: "UPS", Classification: "Electrical", Condition: "Alarm"}, alarmTypeUps, 78},
		{"reference PDU", model.Alarm{AssetID: "CH3.PDU-A3.A5", AssetType: "PDU", Classification: "Electrical", Condition: "Alarm"}, alarmTypePowerDistribution, 58},
		{"reference ASTS", model.Alarm{AssetID: "CH3.STS-B1.A5", AssetType: "ASTS", Classification: "Electrical", Condition: "Alarm"}, alarmTypeTransferSwitch, 77},
		{"generator", model.Alarm{AssetID: "CH1.Gen-1", AssetType: "Generator", Condition: "Alarm"}, alarmTypeGenerator, 111},
		{"generator fuel", model.Alarm{AssetID: "CH1.Gen-1", AssetType: "Gen", Condition: "Low Fuel"}, alarmTypeGenerator, 127},
		{"fan coil", model.Alarm{AssetID: "x", AssetType: "Fan Coil", Classification: "Mechanical", Condition: "Alarm"}, alarmTypeAirHandling, 102},
		{"fans", model.Alarm{AssetID: "x", AssetType: "Fans", Condition: "Alarm"}, alarmTypeAirHandling, 107},
		{"chiller", model.Alarm{AssetID: "x", AssetType: "Chiller Air Cooled", Condition: "Alarm"}, alarmTypeCooling, 134},
		{"vesda", model.Alarm{AssetID: "x", AssetType: "Early Smoke Detection", Condition: "Alarm"}, alarmTypeSmoke, 132},
		{"fire panel", model.Alarm{AssetID: "x", AssetType: "Fire Alarm", Condition: "Alarm"}, alarmTypeFire, 120},
		{"leak", model.Alarm{AssetID: "x", AssetType: "Leak Detection", Condition: "Alarm"}, alarmTypeLeak, 121},
		{"high temperature on a CRAH", model.Alarm{AssetID: "x", AssetType: "RAH with Chilled Water", Condition: "High Temperature"}, alarmTypeTemperature, 123},
		{"low humidity", model.Alarm{Cage: "SV4:01:001150", Condition: "Low Humidity"}, alarmTypeHumidity, 128},
		{"breaker", model.Alarm{Circuit: "20853717", Condition: "Breaker Alarm"}, alarmTypeBreaker, 110},
		{"circuit", model.Alarm{Circuit: "20853717", AssetType: "CIRCUIT", Condition: "High"}, alarmTypePowerDistribution, 58},
		{"other electrical", model.Alarm{AssetID: "x", AssetType: "Switchgear", Classification: "Electrical", Condition: "Alarm"}, alarmTypeElectrical, 58},
		{"other mechanical", model.Alarm{AssetID: "x", AssetType: "Door", Classification: "Mechanical", Condition: "Alarm"}, alarmTypeMechanical, 135},
		{"unknown", model.Alarm{AssetID: "x", AssetType: "Oxygen Sensor", Classification: "Security", Condition: "Tamper"}, alarmTypeGeneric, 135},
		{"empty", model.Alarm{}, alarmTypeGeneric, 135},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(&c.a)
			if got.Type != c.typ || got.Cause != c.cause || got.EventType != c.typ.EventType {
				t.Errorf("Classify = %s cause %d event %d, want %s cause %d event %d", got.Type.Name, got.Cause, got.EventType, c.typ.Name, c.cause, c.typ.EventType)
			}
		})
	}
}

// TestAlarmTypesMatchMIB: every type of the registry is an OBJECT-IDENTITY
// of the MIB at the same OID, and the MIB has no other under svgAlarmTypes.
func TestAlarmTypesMatchMIB(t *testing.T) {
	out, stderr, err := netsnmp(t, "snmptranslate", append(withMIB(t), "-Tz", "-On")...)
	if err != nil || stderr != "" {
		t.Fatalf("snmptranslate: %v\n%s", err, stderr)
	}
	inMIB := map[string]string{}
	types := RootOID().Append(svgAlarmTypesArc)
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		name, oid := strings.Trim(f[0], `"`), strings.Trim(f[1], `"`)
		if o, err := ParseOID(oid); err == nil && o.HasPrefix(types) && len(o) == len(types)+1 {
			inMIB[name] = oid
		}
	}
	for _, at := range AlarmTypes() {
		if inMIB[at.Name] != at.OID().String() {
			t.Errorf("%s: MIB %q, Go %s", at.Name, inMIB[at.Name], at.OID())
		}
		delete(inMIB, at.Name)
	}
	for name := range inMIB {
		t.Errorf("%s is in the MIB, not in the registry", name)
	}
}
