package smartview

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EventKind classifies a near-real-time feed event.
type EventKind int

// Event kinds. Unknown is an event whose name this package does not know; it is not an error.
const (
	EventUnknown EventKind = iota
	EventAlarm
	EventEnvironment
	EventPower
	EventTagPoint
	EventAlert
)

var eventKindNames = [...]string{"unknown", "alarm", "environment", "power", "tagpoint", "alert"}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventKindNames) {
		return "unknown"
	}
	return eventKindNames[k]
}

// Event is one message of the near-real-time feed, {"name": ..., <object>}, decoded by
// DecodeEvent. Exactly one of the object pointers is set for a known Kind; Raw is the whole
// message as received.
type Event struct {
	Name        string
	Kind        EventKind
	Alarm       *Alarm
	Environment *Environment
	Power       *Power
	TagPoint    *TagPoint
	Alert       *Alert
	Raw         json.RawMessage
	// StreamID is a v2 message's streamId ("" for the documented feed's).
	StreamID string
	// Measure, for a v2 environmental message, is the one measure it
	// carries ("temperature" or "humidity"); "" when the event carries both.
	Measure string
}

// Alert is a customer-configured alert (alert events). Its schema is documented only as field
// types; times come as strings or integers in unstated notations and are decoded as Time.
type Alert struct {
	ID                  Text            `json:"id"` // a string; the 2024 description's example is a number
	AccountNo           Text            `json:"accountNo"`
	Acknowledge         Bool            `json:"acknowledge"`
	AlertTypeName       string          `json:"alertTypeName"`
	AlertType           *AlertType      `json:"alertType,omitempty"`
	ConditionalAlert    AlertConditions `json:"conditionalAlert,omitempty"` // feed: an object; 2024 activity log: a list
	Asset               string          `json:"asset"`
	AssetName           string          `json:"assetname"`
	AssetType           string          `json:"assettype"`
	AssetClassification string          `json:"assetclassification"`
	TagID               string          `json:"tagid"`
	IBX                 string          `json:"ibx"`
	Metro               string          `json:"metro"`
	Region              string          `json:"region"`
	Country             string          `json:"country"`
	Section             string          `json:"section"`
	Severity            Severity        `json:"severity"`
	Type                string          `json:"type"`
	EventType           string          `json:"eventtype"`
	NotificationType    string          `json:"notificationType"`
	CurrentValue        Number          `json:"currentvalue"`
	UOM                 string          `json:"uom"`
	ThresholdValue      Number          `json:"thresholdValue"`
	ThresholdValueMin   Number          `json:"thresholdValueMin"`
	ThresholdValueMax   Number          `json:"thresholdValueMax"`
	ThresholdUnit       string          `json:"thresholdUnit"`
	Resiliency          string          `json:"resiliency"`
	RelatedIncidents    string          `json:"relatedincidents"`
	LastMaintenance     Text            `json:"lastmaintenance"`
	TimeZone            string          `json:"timeZone"`
	Year                Text            `json:"year"`
	TimeTriggered       Time            `json:"timetriggeredMilisec"` // sic
	TriggeredOn         Time            `json:"triggeredOn"`
	TimeProcessed       Time            `json:"timeprocessed"`
	TimeAcknowledged    Time            `json:"timeacknowledged"`
	CreatedOn           Time            `json:"createdOn"`
	ModifiedOn          Time            `json:"modifiedOn"`
}

// AlertType describes the kind of threshold an alert watches.
type AlertType struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	EventType    string `json:"eventType"`
	Unit         string `json:"unit"`
	Value        Number `json:"value"`
	DefaultValue Number `json:"defaultValue"`
	TagID        string `json:"tagId"`
}

// AlertCondition is the condition of a conditional alert.
type AlertCondition struct {
	AlertTypeID         string `json:"condalerttypeid"`
	AssetClassification string `json:"condassetclassification"`
	AssetID             string `json:"condassetid"`
	CurrentValue        Number `json:"condcurrentvalue"`
	EventType           string `json:"condeventtype"`
	TagID               string `json:"condtagid"`
	Asset               string `json:"asset"`
	AssetName           string `json:"assetname"`
	AssetType           string `json:"assettype"`
	IBX                 string `json:"ibx"`
	Section             string `json:"section"`
	ThresholdUnit       string `json:"thresholdUnit"`
	ThresholdValue      Number `json:"thresholdValue"`
	ThresholdValueMax   Number `json:"thresholdValueMax"`
	ThresholdValueMin   Number `json:"thresholdValueMin"`
	UOM                 string `json:"uom"`
	// Text is a condition sent as a bare string (getAlerts' conditionalAlert).
	Text string `json:"-"`
}

// DecodeEvent decodes one feed message. Event names are matched by prefix, case-insensitively:
// "alarm_" (alarm_updated, alarm_active; object under "alarm" or "data"), "alert_" ("alert" or
// "data"), "environment_", "power_", "tagpoint_" (object under "data", or under the object's
// documented property name environmentData, powerData, tagPointData). An unknown name gives
// Kind EventUnknown and no error; malformed JSON, a missing name or a missing object is an error
// that says what was wrong. A message without "name" but with a "type" is a v2 streaming
// message ({"type":"system-alert","data":{…}}, streamevents.go): it decodes to the same kinds,
// with StreamID set. Zone-less times are read in UTC: use InLocation for another zone.
func DecodeEvent(data []byte) (*Event, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("smartview: event: %w", describeJSONError(data, err))
	}
	var name string
	if raw, ok := lookupFold(fields, "name"); !ok || json.Unmarshal(raw, &name) != nil || name == "" {
		var typ string
		if raw, ok := lookupFold(fields, "type"); ok && json.Unmarshal(raw, &typ) == nil && typ != "" && !hasKey(fields, "name") {
			return decodeStreamEvent(data, fields, typ) // a v2 streaming message
		}
		return nil, errors.New(`smartview: event: no "name" string (nor a v2 "type")`)
	}
	ev := &Event{Name: name, Raw: bytes.Clone(data)} // the caller may reuse data
	var keys []string
	lower := strings.ToLower(name)
	for _, et := range eventTypes {
		if strings.HasPrefix(lower, et.prefix) {
			ev.Kind, keys = et.kind, et.keys
			break
		}
	}
	if ev.Kind == EventUnknown {
		return ev, nil
	}
	target := ev.newObject()
	for _, key := range keys {
		raw, ok := lookupFold(fields, key)
		if !ok || isNull(raw) {
			continue
		}
		if b := bytes.TrimSpace(raw); b[0] != '{' {
			return nil, fmt.Errorf("smartview: event %s: %q is not an object", name, key)
		}
		if err := json.Unmarshal(raw, target); err != nil {
			return nil, fmt.Errorf("smartview: event %s: %q: %w", name, key, describeJSONError(raw, err))
		}
		return ev, nil
	}
	return nil, fmt.Errorf("smartview: event %s: no %s object (looked for %s)", name, ev.Kind, strings.Join(keys, ", "))
}

// eventTypes maps event name prefixes to kinds and the keys their object may sit under, in
// order of preference.
var eventTypes = []struct {
	prefix string
	kind   EventKind
	keys   []string
}{
	{"alarm_", EventAlarm, []string{"alarm", "data"}},
	{"alert_", EventAlert, []string{"alert", "data"}},
	{"environment_", EventEnvironment, []string{"data", "environmentData"}},
	{"power_", EventPower, []string{"data", "powerData"}},
	{"tagpoint_", EventTagPoint, []string{"data", "tagPointData"}},
}

// newObject allocates the object of e.Kind in e and returns a pointer to it.
func (e *Event) newObject() any {
	switch e.Kind {
	case EventAlarm:
		e.Alarm = new(Alarm)
		return e.Alarm
	case EventAlert:
		e.Alert = new(Alert)
		return e.Alert
	case EventEnvironment:
		e.Environment = new(Environment)
		return e.Environment
	case EventPower:
		e.Power = new(Power)
		return e.Power
	default:
		e.TagPoint = new(TagPoint)
		return e.TagPoint
	}
}

// hasKey reports whether fields has key (any case).
func hasKey(fields map[string]json.RawMessage, key string) bool {
	_, ok := lookupFold(fields, key)
	return ok
}

// lookupFold finds key in fields, preferring an exact match, then any case.
func lookupFold(fields map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := fields[key]; ok {
		return v, true
	}
	for k, v := range fields {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// InLocation re-reads the event object's zone-less times in loc (see Time.InLocation).
func (e *Event) InLocation(loc *time.Location) {
	switch {
	case e.Alarm != nil:
		e.Alarm.localize(loc)
	case e.Environment != nil:
		e.Environment.Timestamp = e.Environment.Timestamp.InLocation(loc)
	case e.Power != nil:
		e.Power.localize(loc)
	case e.TagPoint != nil:
		e.TagPoint.ReadingTime = e.TagPoint.ReadingTime.InLocation(loc)
	case e.Alert != nil:
		e.Alert.localize(loc)
	}
}

func (a *Alert) localize(loc *time.Location) {
	for _, t := range []*Time{&a.TimeTriggered, &a.TriggeredOn, &a.TimeProcessed, &a.TimeAcknowledged, &a.CreatedOn, &a.ModifiedOn} {
		*t = t.InLocation(loc)
	}
}
