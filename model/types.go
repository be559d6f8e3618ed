package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Level is the kind of a location in the footprint hierarchy.
type Level uint8

// Levels, from the top of the hierarchy down. Sensors hang below a zone, cage
// or cabinet; circuits below a cabinet (or a cage).
const (
	LevelIBX Level = iota + 1
	LevelZone
	LevelCage
	LevelCabinet
	LevelCircuit
	LevelSensor
)

var levelNames = [...]string{LevelIBX: "IBX", LevelZone: "ZONE", LevelCage: "CAGE",
	LevelCabinet: "CABINET", LevelCircuit: "CIRCUIT", LevelSensor: "SENSOR"}

// String returns the level as SmartView spells its levelType ("CAGE").
func (l Level) String() string {
	if int(l) < len(levelNames) && levelNames[l] != "" {
		return levelNames[l]
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel parses a SmartView levelType, case-insensitively ("cage", "CAGE").
func ParseLevel(s string) (Level, bool) {
	for l, name := range levelNames {
		if name != "" && strings.EqualFold(name, s) {
			return Level(l), true
		}
	}
	return 0, false
}

// LocationID identifies a location: its IBX, its level and the name by which
// SmartView's power, environment, alarm and asset endpoints refer to it — the
// IBX code, a zone's unique space id, a cage's or cabinet's unique space id
// ("SV4:01:001150", the hierarchy's label), a circuit's serial number or a
// sensor id. The hierarchy's numeric levelValue of a cage or cabinet is kept in
// [Location.Number].
type LocationID struct {
	IBX   string
	Level Level
	Name  string
}

// IBXLocation returns the LocationID of an IBX site itself.
func IBXLocation(ibx string) LocationID { return LocationID{IBX: ibx, Level: LevelIBX, Name: ibx} }

// String returns "IBX/LEVEL/Name", e.g. "SV4/CAGE/SV4:01:001150". It is
// stable and unique, and is what persisted indexes key on.
func (id LocationID) String() string { return id.IBX + "/" + id.Level.String() + "/" + id.Name }

// IsZero reports whether id is the zero LocationID.
func (id LocationID) IsZero() bool { return id == LocationID{} }

// Location is one node of the merged location and power hierarchies.
type Location struct {
	ID LocationID
	// Label is the readable name from the hierarchy ("SV4:01:001150",
	// "120V 20A 1Ph Red (3717)"); it equals ID.Name where SmartView has no other.
	Label string
	// Number is the hierarchy's numeric levelValue of a cage or cabinet
	// ("1852") where it differs from ID.Name; empty otherwise.
	Number string
	// Parent is the enclosing location; zero for an IBX.
	Parent LocationID
	// Role is "primary" or "redundant" for circuits where known.
	Role string
	// Discovered says how the model learned of a location no hierarchy
	// lists (see [Tx.Discover]); OriginHierarchy for one a hierarchy lists.
	Discovered Origin
}

// Asset is a facility asset (generator, UPS, chiller, …) serving the footprint.
type Asset struct {
	ID             string // "CH1.Gen-1"
	IBX            string
	Classification string // "Electrical", "Mechanical"
	Category       string // "Global", "Cooling", …
	Template       string // "Generator", "Fan Coil", …
	Type           string // assetType from the details
	Manufacturer   string
	Model          string
	Serial         string
	TimeZone       string // userPrefTimeZone
	// Affects lists the cages, cabinets and circuits the asset serves, as
	// indexes into a table the assets of an IBX share (see [LocationList]).
	Affects LocationList
}

// Tag is a tag point of an asset ("CH1.Gen-1:fuelhours").
type Tag struct {
	ID          string
	Asset       string
	IBX         string
	DisplayName string
	Unit        string
}

// Value is one reading as upstream reported it: numeric where it parses as a
// number, always with the upstream text. Text is empty when upstream sent a
// JSON number; String then formats Num.
type Value struct {
	Num   float64
	Text  string
	IsNum bool
}

// Number returns a numeric Value.
func Number(f float64) Value { return Value{Num: f, IsNum: true} }

// Text returns a Value holding upstream text, numeric too if it parses as a
// finite number ("175.334" is numeric, "NA" and "READY TO START" are not).
func Text(s string) Value {
	v := Value{Text: s}
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		v.Num, v.IsNum = f, true
	}
	return v
}

// Present reports whether upstream sent anything at all for this value.
func (v Value) Present() bool { return v.IsNum || v.Text != "" }

// String returns the upstream text, or the number formatted when upstream
// sent a JSON number.
func (v Value) String() string {
	if v.Text != "" || !v.IsNum {
		return v.Text
	}
	return strconv.FormatFloat(v.Num, 'f', -1, 64)
}

// Equal reports whether two values are the same reading.
func (v Value) Equal(w Value) bool {
	return v.IsNum == w.IsNum && v.String() == w.String() && (!v.IsNum || v.Num == w.Num)
}

// Flag is a tri-state boolean: upstream may say true, false or nothing.
type Flag uint8

// Flag values.
const (
	FlagUnknown Flag = iota
	FlagFalse
	FlagTrue
)

// String returns "true", "false" or "".
func (f Flag) String() string {
	switch f {
	case FlagTrue:
		return "true"
	case FlagFalse:
		return "false"
	}
	return ""
}

// Power is the power reading of an IBX, cage, cabinet or circuit.
type Power struct {
	KVA            Value
	Amps           Value
	SoldKVA        Value
	ContractualKVA Value
	PercentKVA     Value // kVA as % of contractual kVA
	CabinetRating  Value
	PrimaryKVA     Value
	RedundantKVA   Value
	KW             Value
	PowerFactor    Value
	PeakKVA7d      Value
	BreakerAlarm   Flag // isAlarm: breaker trip alarm
	ReadingTime    time.Time
	UpdatedTime    time.Time
}

func (p *Power) equal(q *Power) bool {
	return p.KVA.Equal(q.KVA) && p.Amps.Equal(q.Amps) && p.SoldKVA.Equal(q.SoldKVA) &&
		p.ContractualKVA.Equal(q.ContractualKVA) && p.PercentKVA.Equal(q.PercentKVA) &&
		p.CabinetRating.Equal(q.CabinetRating) && p.PrimaryKVA.Equal(q.PrimaryKVA) &&
		p.RedundantKVA.Equal(q.RedundantKVA) && p.KW.Equal(q.KW) && p.PowerFactor.Equal(q.PowerFactor) &&
		p.PeakKVA7d.Equal(q.PeakKVA7d) && p.BreakerAlarm == q.BreakerAlarm &&
		p.ReadingTime.Equal(q.ReadingTime) && p.UpdatedTime.Equal(q.UpdatedTime)
}

// Environment is the temperature and humidity reading of an IBX, zone, cage,
// cabinet or sensor.
type Environment struct {
	Temperature     Value
	Humidity        Value
	TemperatureUnit string // "°C"
	HumidityUnit    string // "%"
	TemperatureMin  Value
	TemperatureMax  Value
	HumidityMin     Value
	HumidityMax     Value
	ReadingTime     time.Time
}

func (e *Environment) equal(f *Environment) bool {
	return e.Temperature.Equal(f.Temperature) && e.Humidity.Equal(f.Humidity) &&
		e.TemperatureUnit == f.TemperatureUnit && e.HumidityUnit == f.HumidityUnit &&
		e.TemperatureMin.Equal(f.TemperatureMin) && e.TemperatureMax.Equal(f.TemperatureMax) &&
		e.HumidityMin.Equal(f.HumidityMin) && e.HumidityMax.Equal(f.HumidityMax) &&
		e.ReadingTime.Equal(f.ReadingTime)
}

// TagReading is the current value of a tag point.
type TagReading struct {
	Value       Value
	AlarmStatus string // "OK", "NOT OK"
	ReadingTime time.Time
}

func (t *TagReading) equal(u *TagReading) bool {
	return t.Value.Equal(u.Value) && t.AlarmStatus == u.AlarmStatus && t.ReadingTime.Equal(u.ReadingTime)
}

// AssetState is the part of an asset that changes with its operation.
type AssetState struct {
	AlarmStatus      string // "OK", "NOT OK"
	ResiliencyStatus string // "Resiliency as Designed", …
	AlarmTriggered   time.Time
	AlarmCleared     time.Time
	// AlarmActive is set when upstream reports the last alarm as
	// "Currently Active" instead of a clear time.
	AlarmActive     bool
	LastMaintenance time.Time
	// ReadingTime orders updates (newest wins); zero means "as of confirmation".
	ReadingTime time.Time
}

func (a *AssetState) equal(b *AssetState) bool {
	return a.AlarmStatus == b.AlarmStatus && a.ResiliencyStatus == b.ResiliencyStatus &&
		a.AlarmTriggered.Equal(b.AlarmTriggered) && a.AlarmCleared.Equal(b.AlarmCleared) &&
		a.AlarmActive == b.AlarmActive && a.LastMaintenance.Equal(b.LastMaintenance) &&
		a.ReadingTime.Equal(b.ReadingTime)
}

// Quality says how far a value can be trusted right now.
type Quality uint8

// Qualities, as served: SNMP maps Good to fresh, Stale and NoComm to stale,
// Unavailable to unavailable; OPC UA maps them to Good,
// UncertainLastUsableValue, UncertainNoCommunicationLastUsableValue and
// BadWaitingForInitialData.
const (
	// QualityUnavailable: no value was ever received.
	QualityUnavailable Quality = iota
	// QualityGood: confirmed by upstream within StaleAfter.
	QualityGood
	// QualityStale: the last usable value; upstream has not confirmed it
	// within StaleAfter (or the call that should have failed).
	QualityStale
	// QualityNoComm: the last usable value; upstream is unreachable.
	QualityNoComm
)

func (q Quality) String() string {
	switch q {
	case QualityGood:
		return "good"
	case QualityStale:
		return "stale"
	case QualityNoComm:
		return "nocomm"
	}
	return "unavailable"
}

// Freshness records when a value was read at the source and when upstream
// last confirmed it.
type Freshness struct {
	// Source is the reading time reported by upstream (or, when upstream
	// reports none, the time it was confirmed).
	Source time.Time
	// Confirmed is when the gateway last received this value from upstream.
	Confirmed time.Time
	stale     bool
}

// PowerSample is a power reading with its freshness and effective quality.
type PowerSample struct {
	Power
	Freshness
	Quality Quality
}

// EnvironmentSample is an environment reading with its freshness and quality.
type EnvironmentSample struct {
	Environment
	Freshness
	Quality Quality
}

// TagSample is a tag reading with its freshness and quality.
type TagSample struct {
	TagReading
	Freshness
	Quality Quality
}

// AssetSample is an asset's state with its freshness and quality.
type AssetSample struct {
	AssetState
	Freshness
	Quality Quality
}

// errorf is fmt.Errorf prefixed with the package name.
func errorf(format string, args ...any) error { return fmt.Errorf("model: "+format, args...) }
