package snmp

import (
	"slices"
	"strings"

	"github.com/svgateway/svgateway/model"
)

// This file is the alarm-type registry: how an alarm's SmartView fields
// (condition, asset type, classification, location) map to the MIB's
// svgAlarmTypes OBJECT-IDENTITYs, an ITU probable cause and an ITU event
// type, so that a console classifies alarms by OID and number instead of
// by string rules. The MIB's svgAlarmTypes comment and each identity's
// DESCRIPTION state the same rules (TestAlarmTypesMatchMIB checks the
// names and arcs against the MIB).

// AlarmType is one kind of alarm: an OBJECT-IDENTITY under svgAlarmTypes.
type AlarmType struct {
	Name      string // "svgAlarmTypeGenerator"
	Arc       uint32 // its sub-identifier under svgAlarmTypes
	Cause     int    // SvgProbableCause
	EventType int    // SvgEventType
}

// OID returns the type's OID under the current root.
func (t *AlarmType) OID() OID { return RootOID().Append(svgAlarmTypesArc, t.Arc) }

// svgAlarmTypesArc is svgAlarmTypes' arc under the module root.
const svgAlarmTypesArc = 3

// The alarm types, by arc.
var (
	alarmTypeGeneric           = &AlarmType{"svgAlarmTypeGeneric", 1, svgProbableCauseExternalEquipmentFailure, svgEventTypeOther}
	alarmTypeGenerator         = &AlarmType{"svgAlarmTypeGenerator", 2, svgProbableCauseGeneratorFailure, svgEventTypeEquipmentAlarm}
	alarmTypeUps               = &AlarmType{"svgAlarmTypeUps", 3, svgProbableCausePowerSupplyFailure, svgEventTypeEquipmentAlarm}
	alarmTypeTransferSwitch    = &AlarmType{"svgAlarmTypeTransferSwitch", 4, svgProbableCauseLossOfRedundancy, svgEventTypeEquipmentAlarm}
	alarmTypePowerDistribution = &AlarmType{"svgAlarmTypePowerDistribution", 5, svgProbableCausePowerProblem, svgEventTypeEquipmentAlarm}
	alarmTypeBreaker           = &AlarmType{"svgAlarmTypeBreaker", 6, svgProbableCauseFuseFailure, svgEventTypeEquipmentAlarm}
	alarmTypeElectrical        = &AlarmType{"svgAlarmTypeElectrical", 7, svgProbableCausePowerProblem, svgEventTypeEquipmentAlarm}
	alarmTypeAirHandling       = &AlarmType{"svgAlarmTypeAirHandling", 8, svgProbableCauseAirConditioningFailure, svgEventTypeEnvironmentalAlarm}
	alarmTypeCooling           = &AlarmType{"svgAlarmTypeCooling", 9, svgProbableCauseCoolingSystemFailure, svgEventTypeEnvironmentalAlarm}
	alarmTypeFire              = &AlarmType{"svgAlarmTypeFire", 10, svgProbableCauseFire, svgEventTypeEnvironmentalAlarm}
	alarmTypeSmoke             = &AlarmType{"svgAlarmTypeSmoke", 11, svgProbableCauseSmoke, svgEventTypeEnvironmentalAlarm}
	alarmTypeLeak              = &AlarmType{"svgAlarmTypeLeak", 12, svgProbableCauseFlood, svgEventTypeEnvironmentalAlarm}
	alarmTypeTemperature       = &AlarmType{"svgAlarmTypeTemperature", 13, svgProbableCauseHighTemperature, svgEventTypeEnvironmentalAlarm}
	alarmTypeHumidity          = &AlarmType{"svgAlarmTypeHumidity", 14, svgProbableCauseHighHumidity, svgEventTypeEnvironmentalAlarm}
	alarmTypeMechanical        = &AlarmType{"svgAlarmTypeMechanical", 15, svgProbableCauseExternalEquipmentFailure, svgEventTypeEnvironmentalAlarm}

	alarmTypes = []*AlarmType{alarmTypeGeneric, alarmTypeGenerator, alarmTypeUps, alarmTypeTransferSwitch,
		alarmTypePowerDistribution, alarmTypeBreaker, alarmTypeElectrical, alarmTypeAirHandling, alarmTypeCooling,
		alarmTypeFire, alarmTypeSmoke, alarmTypeLeak, alarmTypeTemperature, alarmTypeHumidity, alarmTypeMechanical}
)

// AlarmTypes returns the registry, in arc order. Do not modify it.
func AlarmTypes() []*AlarmType { return alarmTypes }

// typeRule: a field containing any of words gives type t.
type typeRule struct {
	words []string
	t     *AlarmType
}

// The condition says most (a "High Temperature" alarm on a CRAH is a
// temperature alarm), then the asset type. Order matters: first match.
var conditionRules = []typeRule{
	{[]string{"temperature", "temp "}, alarmTypeTemperature},
	{[]string{"humidity"}, alarmTypeHumidity},
	{[]string{"breaker"}, alarmTypeBreaker},
	{[]string{"fuel"}, alarmTypeGenerator},
	{[]string{"battery"}, alarmTypeUps},
	{[]string{"leak", "water detect"}, alarmTypeLeak},
	{[]string{"smoke"}, alarmTypeSmoke},
	{[]string{"fire"}, alarmTypeFire},
}

var assetRules = []typeRule{
	{[]string{"generator", "gen"}, alarmTypeGenerator},
	{[]string{"ups"}, alarmTypeUps},
	{[]string{"asts", "sts", "ats", "transfer switch"}, alarmTypeTransferSwitch},
	{[]string{"pdu", "rpp", "panel", "busway", "circuit", "breaker"}, alarmTypePowerDistribution},
	{[]string{"smoke", "vesda"}, alarmTypeSmoke},
	{[]string{"fire"}, alarmTypeFire},
	{[]string{"leak"}, alarmTypeLeak},
	{[]string{"chiller", "cooling", "pump", "chilled water", "tower"}, alarmTypeCooling},
	{[]string{"fan", "rah", "crah", "crac", "ahu", "air handl", "humidifier"}, alarmTypeAirHandling},
}

// Classification is an alarm's type, probable cause and event type.
type Classification struct {
	Type      *AlarmType
	Cause     int
	EventType int
}

// Classify returns the classification of an alarm. It never fails: an
// alarm of a kind no rule knows is svgAlarmTypeGeneric.
func Classify(a *model.Alarm) Classification {
	cond := " " + strings.ToLower(a.Condition) + " "
	t := match(conditionRules, cond)
	if t == nil {
		t = match(assetRules, " "+strings.ToLower(a.AssetType)+" ")
	}
	if t == nil && a.AssetID == "" && (a.Circuit != "" || a.Cabinet != "" || a.Cage != "") {
		t = alarmTypePowerDistribution // SmartView's power alarms are on circuits, cabinets, cages
	}
	if t == nil {
		switch strings.ToLower(strings.TrimSpace(a.Classification)) {
		case "electrical":
			t = alarmTypeElectrical
		case "mechanical":
			t = alarmTypeMechanical
		default:
			t = alarmTypeGeneric
		}
	}
	c := Classification{Type: t, Cause: t.Cause, EventType: t.EventType}
	low := strings.Contains(cond, "low")
	switch {
	case t == alarmTypeTemperature && low:
		c.Cause = svgProbableCauseLowTemperature
	case t == alarmTypeHumidity && low:
		c.Cause = svgProbableCauseLowHumidity
	case t == alarmTypeGenerator && strings.Contains(cond, "fuel"):
		c.Cause = svgProbableCauseLowFuel
	case t == alarmTypeAirHandling && slices.Contains([]string{"fan", "fans"}, strings.ToLower(strings.TrimSpace(a.AssetType))):
		c.Cause = svgProbableCauseCoolingFanFailure
	}
	return c
}

// match returns the type of the first rule one of whose words starts a
// word of s (s is lowercased and padded with spaces): "gen" matches
// "Gen-1" and "generator" but not "oxygen".
func match(rules []typeRule, s string) *AlarmType {
	for _, r := range rules {
		for _, w := range r.words {
			for i := 1; i < len(s); {
				j := strings.Index(s[i:], w)
				if j < 0 {
					break
				}
				if !isLetter(s[i+j-1]) {
					return r.t
				}
				i += j + 1
			}
		}
	}
	return nil
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' }
