// This file decodes the v2 streaming API's messages ({"type": …, "data": {…}}:
// alarm, alert, environmental, power, metered power, tag point) into the same
// Event the documented feed's messages decode to, so one apply path serves
// both.

package smartview

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// streamKinds maps a v2 message "type" (lower case, '_' read as '-') to its kind.
var streamKinds = map[string]EventKind{
	"system-alert": EventAlarm, "alarm": EventAlarm,
	"custom-alert": EventAlert, "alert": EventAlert,
	"environmental": EventEnvironment, "environment": EventEnvironment,
	"power":         EventPower,
	"metered-power": EventTagPoint,
	"tag-point":     EventTagPoint,
}

// StreamStatus is a v2 alarm's status object.
type StreamStatus struct {
	Acknowledged        Bool `json:"acknowledged"`
	AcknowledgementTime Time `json:"acknowledgementTime"`
	Cleared             Bool `json:"cleared"`
	Active              Bool `json:"active"`
}

type streamValue struct {
	Value Number `json:"value"`
	Unit  string `json:"unit"`
	Type  string `json:"type"`
}

type streamAsset struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Classification string `json:"classification"`
	Level          string `json:"level"`
}

type streamTag struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type streamAlarm struct {
	StreamID            string       `json:"streamId"`
	IBX                 string       `json:"ibx"`
	Region              string       `json:"region"`
	Metro               string       `json:"metro"`
	ConditionName       string       `json:"conditionName"`
	Severity            Severity     `json:"severity"`
	Type                string       `json:"type"`
	DefinitionID        string       `json:"definitionId"`
	CurrentValue        streamValue  `json:"currentValue"`
	Asset               streamAsset  `json:"asset"`
	Tag                 streamTag    `json:"tag"`
	Status              StreamStatus `json:"status"`
	TriggeredTime       Time         `json:"triggeredTime"`
	ProcessedTime       Time         `json:"processedTime"`
	NormalProcessedTime Time         `json:"normalProcessedTime"`
	NormalTriggeredTime Time         `json:"normalTriggeredTime"`
}

type streamAlert struct {
	StreamID    string      `json:"streamId"`
	IBX         string      `json:"ibx"`
	Region      string      `json:"region"`
	ID          string      `json:"id"`
	Type        string      `json:"type"`
	TypeID      string      `json:"typeId"`
	Conditional string      `json:"conditional"`
	EventType   string      `json:"eventType"`
	Asset       streamAsset `json:"asset"`
	Tag         streamTag   `json:"tag"`
	Threshold   struct {
		Unit     string `json:"unit"`
		MaxValue Number `json:"maxValue"`
		MinValue Number `json:"minValue"`
		Value    Number `json:"value"`
	} `json:"threshold"`
	TriggeredTime Time `json:"triggeredTime"`
}

type streamReading struct {
	StreamID    string      `json:"streamId"`
	IBX         string      `json:"ibx"`
	Asset       streamAsset `json:"asset"`
	Tag         streamTag   `json:"tag"`
	Reading     streamValue `json:"reading"`
	ReadingTime Time        `json:"readingTime"`
	AccountNo   Text        `json:"accountNumber"`
}

type streamPower struct {
	StreamID                          string      `json:"streamId"`
	IBX                               string      `json:"ibx"`
	Asset                             streamAsset `json:"asset"`
	Cage                              string      `json:"cage"`
	Cabinet                           string      `json:"cabinet"`
	AccountNumber                     Text        `json:"accountNumber"`
	Description                       string      `json:"description"`
	CircuitType                       string      `json:"circuitType"`
	RealPower                         streamValue `json:"realPower"`
	ApparentPower                     streamValue `json:"apparentPower"`
	ContractualPower                  streamValue `json:"contractualPower"`
	Current                           streamValue `json:"current"`
	PowerFactor                       streamValue `json:"powerFactor"`
	SoldCurrent                       streamValue `json:"soldCurrent"`
	SoldPower                         streamValue `json:"soldPower"`
	PowerConsumptionToContractual     streamValue `json:"powerConsumptionToContractual"`
	CabinetRating                     streamValue `json:"cabinetRating"`
	PeakLastSevenDays                 streamValue `json:"peakLastSevenDays"`
	PeakLastSevenDaysRatio            streamValue `json:"peakLastSevenDaysRatio"`
	PeakLastSevenDaysContractualPower streamValue `json:"peakLastSevenDaysContractualPower"`
	PeakLastSevenDaysTime             Time        `json:"peakLastSevenDaysTime"`
	LastUpdated                       Time        `json:"lastUpdated"`
	ReadingTime                       Time        `json:"readingTime"`
}

// decodeStreamEvent decodes a v2 message whose "type" is typ. Name is set
// to "v2:" + the type, StreamID to the message's streamId. An unknown type
// gives Kind EventUnknown and no error.
func decodeStreamEvent(data []byte, fields map[string]json.RawMessage, typ string) (*Event, error) {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(typ)), "_", "-")
	ev := &Event{Name: "v2:" + norm, Raw: append(json.RawMessage(nil), data...)}
	kind, ok := streamKinds[norm]
	if !ok {
		return ev, nil
	}
	ev.Kind = kind
	raw, ok := lookupFold(fields, "data")
	if !ok || isNull(raw) {
		return nil, fmt.Errorf(`smartview: v2 %s message: no "data" object`, norm)
	}
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf(`smartview: v2 %s message: "data" is not an object`, norm)
	}
	bad := func(err error) (*Event, error) {
		return nil, fmt.Errorf("smartview: v2 %s message: %w", norm, describeJSONError(raw, err))
	}
	switch {
	case kind == EventAlarm:
		var m streamAlarm
		if err := json.Unmarshal(raw, &m); err != nil {
			return bad(err)
		}
		ev.StreamID, ev.Alarm = m.StreamID, m.alarm()
	case kind == EventAlert:
		var m streamAlert
		if err := json.Unmarshal(raw, &m); err != nil {
			return bad(err)
		}
		ev.StreamID, ev.Alert = m.StreamID, m.alert()
	case kind == EventEnvironment:
		var m streamReading
		if err := json.Unmarshal(raw, &m); err != nil {
			return bad(err)
		}
		env, measure, err := m.environment()
		if err != nil {
			return bad(err)
		}
		ev.StreamID, ev.Environment, ev.Measure = m.StreamID, env, measure
	case kind == EventPower:
		var m streamPower
		if err := json.Unmarshal(raw, &m); err != nil {
			return bad(err)
		}
		ev.StreamID, ev.Power = m.StreamID, m.power()
	default: // tag-point, metered-power: a tag's reading
		var m streamReading
		if err := json.Unmarshal(raw, &m); err != nil {
			return bad(err)
		}
		ev.StreamID = m.StreamID
		ev.TagPoint = &TagPoint{TagID: m.Tag.ID, TagDisplayName: m.Tag.DisplayName, Value: m.Reading.Value,
			UOM: m.Reading.Unit, ReadingTime: m.ReadingTime}
	}
	return ev, nil
}

// alarm converts a v2 alarm. It is active while status.active says so and
// status.cleared does not; a message without a status is active.
func (m *streamAlarm) alarm() *Alarm {
	active := !m.Status.Cleared.Value && (!m.Status.Active.Valid || m.Status.Active.Value)
	return &Alarm{
		IBX: m.IBX, AssetID: m.Asset.ID, AssetType: m.Asset.Type, AssetClassification: m.Asset.Classification,
		ConditionName: m.ConditionName, Severity: m.Severity, TagID: m.Tag.ID,
		Status: Bool{Value: active, Valid: true, Text: fmt.Sprint(active)},
		Ack:    m.Status.Acknowledged,
		// An alarm acknowledged at a time is acknowledged, whatever the flag lacks.
		AckTime:       m.Status.AcknowledgementTime,
		TimeTriggered: m.TriggeredTime, TimeProcessed: m.ProcessedTime, TimeNormalProcessed: m.NormalProcessedTime,
		Value: m.CurrentValue.Value, UOM: m.CurrentValue.Unit, ValueType: m.CurrentValue.Type, AlarmType: m.Type,
		Metro: m.Metro, Region: m.Region, StreamID: m.StreamID,
	}
}

func (m *streamAlert) alert() *Alert {
	id := m.ID
	if id == "" {
		id = m.StreamID
	}
	a := &Alert{
		IBX: m.IBX, Region: m.Region, Asset: m.Asset.ID, AssetType: m.Asset.Type,
		AssetClassification: m.Asset.Classification, TagID: m.Tag.ID, Type: m.Type, AlertTypeName: m.TypeID,
		EventType: m.EventType, ThresholdValue: m.Threshold.Value, ThresholdValueMin: m.Threshold.MinValue,
		ThresholdValueMax: m.Threshold.MaxValue, ThresholdUnit: m.Threshold.Unit, UOM: m.Threshold.Unit,
		TriggeredOn: m.TriggeredTime,
	}
	setString(&a.ID, id)
	return a
}

// setString sets a string-kinded field (Alert.ID is a string or a Text).
func setString[T ~string](field *T, s string) { *field = T(s) }

// environment converts a v2 environmental message: one reading (tag
// "temperature" or "humidity") at the level asset.level names (IBX, ZONE,
// CAGE, CABINET, SENSOR) with asset.id.
func (m *streamReading) environment() (*Environment, string, error) {
	e := &Environment{IBX: m.IBX, AccountNo: m.AccountNo, Timestamp: m.ReadingTime}
	switch strings.ToUpper(m.Asset.Level) {
	case "", "IBX":
	case "ZONE":
		e.Zone = m.Asset.ID
	case "CAGE":
		e.Cage = m.Asset.ID
	case "CABINET":
		e.Cabinet = m.Asset.ID
	case "SENSOR":
		e.Sensor = m.Asset.ID
	default:
		return nil, "", fmt.Errorf("asset.level %q is not IBX, ZONE, CAGE, CABINET or SENSOR", m.Asset.Level)
	}
	switch measure := strings.ToLower(m.Tag.ID); measure {
	case "temperature":
		e.Temperature, e.TemperatureUOM = m.Reading.Value, m.Reading.Unit
		return e, measure, nil
	case "humidity":
		e.Humidity, e.HumidityUOM = m.Reading.Value, m.Reading.Unit
		return e, measure, nil
	}
	return nil, "", errors.New(`tag.id is neither "temperature" nor "humidity"`)
}

// power converts a v2 power message (a circuit's reading). A circuit id
// written "IBX:number" (the description's example) is read as the number,
// the circuit's name in the documented catalog.
func (m *streamPower) power() *Power {
	level := strings.ToUpper(m.Asset.Type)
	if level == "" {
		level = "CIRCUIT"
	}
	id := m.Asset.ID
	if level == "CIRCUIT" && m.IBX != "" {
		id = strings.TrimPrefix(id, m.IBX+":")
	}
	return &Power{
		IBX: m.IBX, AccountNo: m.AccountNumber, LevelType: level, LevelValue: Text(id),
		KW: m.RealPower.Value, KVA: m.ApparentPower.Value, ContractualKVA: m.ContractualPower.Value,
		Amps: m.Current.Value, PowerFactor: m.PowerFactor.Value, SoldAmps: m.SoldCurrent.Value,
		SoldKVA: m.SoldPower.Value, PercentageKVA: m.PowerConsumptionToContractual.Value,
		CabinetRating: m.CabinetRating.Value, PeakKVALastSevenDays: m.PeakLastSevenDays.Value,
		PeakKVALastSevenDaysPercentage:     m.PeakLastSevenDaysRatio.Value,
		PeakKVALastSevenDaysContractualKVA: m.PeakLastSevenDaysContractualPower.Value,
		PeakKVALastSevenDaysTime:           m.PeakLastSevenDaysTime,
		ReadingTime:                        m.ReadingTime, LastUpdatedTime: m.LastUpdated,
		Cage: m.Cage, Cabinet: m.Cabinet, Type: m.CircuitType, Description: m.Description,
	}
}
