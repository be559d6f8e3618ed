package opcua

import (
	"math"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
)

// This file is the SmartView information model: the types of
// nodeset/SmartView.NodeSet2.xml and, for every variable they declare, where
// its value comes from in the model. The NodeSet2 file is generated from
// typeSpecs (go generate; see nodes_model_nodeset.go); the server serves the file's type
// nodes and instantiates their declarations with these bindings, and
// refuses to start if the two disagree.

// Numeric ids in the types namespace.
const (
	typeLocation      = 1001
	typeIBX           = 1002
	typeZone          = 1003
	typeCage          = 1004
	typeCabinet       = 1005
	typeCircuit       = 1006
	typeSensor        = 1007
	typeAsset         = 1010
	typeAlarm         = 1020
	typeGatewayStatus = 1030
	typeAnalogTag     = 2001
	typeTag           = 2002
	refServes         = 4001
)

// typeSpec is one ObjectType, VariableType or ReferenceType of the model.
type typeSpec struct {
	id          uint32
	class       ua.NodeClass
	name        string
	description string
	super       *ua.NodeID // supertype
	abstract    bool
	// variable types
	dataType *ua.NodeID
	// reference types
	inverseName string
	members     []memberSpec
}

// memberSpec is an instance declaration: a variable every instance of the
// type has (or may have, if optional), with its own properties.
type memberSpec struct {
	name        string
	description string
	refType     uint32 // HasComponent or HasProperty
	typeDef     uint32 // a VariableType of namespace 0
	dataType    uint32 // a DataType of namespace 0
	optional    bool
	// standard: the BrowseName is the standard one of namespace 0
	// (EngineeringUnits, EURange), so clients find it by its usual name.
	standard bool
	children []memberSpec
	bind     binding
}

// sourceKind says which model change makes a variable's value change, so
// monitored items know what to wait for.
type sourceKind uint8

const (
	srcStatic sourceKind = iota // changes only with the structure
	srcPower                    // the location's power reading
	srcEnv                      // the location's environment reading
	srcTag                      // the tag's reading
	srcAsset                    // the asset's state
	srcAlarm                    // the alarm's transitions
	srcHealth                   // the gateway's health (state changes arrive as deltas, counters do not: sampled)
	srcClock                    // changes all the time (server clock): sampled
)

// binding is where a variable's value comes from.
type binding struct {
	source sourceKind
	value  func(c *evalCtx, n node) sample
	// present reports whether an optional member exists on an instance.
	present func(c *evalCtx, n node) bool
	// euRange is the value of a static EURange property; euRangeOf
	// computes one that depends on the instance (for percent deadbands).
	euRange   *ua.Range
	euRangeOf func(c *evalCtx, n node) (ua.Range, bool)
	// hist is the series the value is recorded in (history.go).
	hist histKind
}

// sample is a variable's value at one moment: the Variant (nil: null), its
// status, and the time the source produced it (zero: unknown).
type sample struct {
	v      *ua.Variant
	status ua.StatusCode
	source time.Time
}

func ns0(i uint32) *ua.NodeID { return ua.NewNumericNodeID(0, i) }

// qualityStatus maps the model's quality to an OPC UA status code.
func qualityStatus(q model.Quality) ua.StatusCode {
	switch q {
	case model.QualityGood:
		return ua.StatusGood
	case model.QualityStale:
		return ua.StatusUncertainLastUsableValue
	case model.QualityNoComm:
		return ua.StatusUncertainNoCommunicationLastUsableValue
	}
	return ua.StatusBadWaitingForInitialData
}

func variant(v any) *ua.Variant { return ua.MustVariant(v) }

// numberSample is a Double reading: null when upstream sent no number
// ("NA", nothing) — with the reading's status, since that is what upstream
// said — and null with BadWaitingForInitialData before any reading.
func numberSample(v model.Value, q model.Quality, source time.Time) sample {
	if q == model.QualityUnavailable {
		return sample{status: ua.StatusBadWaitingForInitialData}
	}
	s := sample{status: qualityStatus(q), source: source}
	if v.IsNum {
		s.v = variant(v.Num)
	}
	return s
}

// textSample is a String reading: upstream's text as sent (a JSON number
// formatted), null when upstream sent nothing, BadWaitingForInitialData
// before any reading.
func textSample(v model.Value, q model.Quality, source time.Time) sample {
	if q == model.QualityUnavailable {
		return sample{status: ua.StatusBadWaitingForInitialData}
	}
	s := sample{status: qualityStatus(q), source: source}
	if v.Present() {
		s.v = variant(v.String())
	}
	return s
}

func timeVariant(t time.Time) *ua.Variant {
	if t.IsZero() {
		return nil
	}
	return variant(t.UTC())
}

func good(v *ua.Variant) sample { return sample{v: v} }

// Bindings by the kind of node they read.

func powerNumber(f func(*model.Power) model.Value) binding {
	return binding{source: srcPower, hist: histLocation, value: func(c *evalCtx, n node) sample {
		p := c.snap.Power(int(n.idx))
		return numberSample(f(&p.Power), p.Quality, p.Source)
	}}
}

func envNumber(f func(*model.Environment) model.Value) binding {
	return binding{source: srcEnv, hist: histLocation, value: func(c *evalCtx, n node) sample {
		e := c.snap.Environment(int(n.idx))
		return numberSample(f(&e.Environment), e.Quality, e.Source)
	}}
}

func locationString(f func(*model.Location) string) binding {
	return binding{value: func(c *evalCtx, n node) sample {
		return good(variant(f(c.view.st.Location(int(n.idx)))))
	}}
}

func locationOptional(f func(*model.Location) string) binding {
	b := locationString(f)
	b.present = func(c *evalCtx, n node) bool { return f(c.view.st.Location(int(n.idx))) != "" }
	return b
}

func assetString(f func(*model.Asset) string) binding {
	return binding{value: func(c *evalCtx, n node) sample { return good(variant(f(c.view.st.Asset(int(n.idx))))) }}
}

func assetState(f func(*model.AssetState) *ua.Variant) binding {
	return binding{source: srcAsset, value: func(c *evalCtx, n node) sample {
		a := c.snap.Asset(int(n.idx))
		if a.Quality == model.QualityUnavailable {
			return sample{status: ua.StatusBadWaitingForInitialData}
		}
		return sample{v: f(&a.AssetState), status: qualityStatus(a.Quality), source: a.Source}
	}}
}

func tagProperty(f func(c *evalCtx, n node) sample) binding {
	return binding{source: srcTag, value: f}
}

func alarmValue(f func(*model.Alarm) *ua.Variant) binding {
	return binding{source: srcAlarm, value: func(c *evalCtx, n node) sample {
		a := c.alarm(n.alarm)
		if a == nil {
			return sample{status: ua.StatusBadNodeIDUnknown}
		}
		return sample{v: f(a), source: alarmTime(a)}
	}}
}

// alarmTime is when the alarm last changed, as upstream reported it.
func alarmTime(a *model.Alarm) time.Time {
	for _, t := range []time.Time{a.Cleared, a.Processed, a.Triggered, a.LastSeen} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func healthValue(f func(*model.Health) *ua.Variant) binding {
	return binding{source: srcHealth, value: func(c *evalCtx, n node) sample {
		h := c.snap.Health()
		return good(f(&h))
	}}
}

// Engineering units and ranges of analog variables.

func staticUnit(uom string) binding {
	eu := euInformation(uom)
	return binding{value: func(*evalCtx, node) sample { return good(variant(ua.NewExtensionObject(eu))) }}
}

func staticRange(low, high float64) binding {
	r := &ua.Range{Low: low, High: high}
	return binding{euRange: r, value: func(*evalCtx, node) sample { return good(variant(ua.NewExtensionObject(r))) }}
}

func euProperty(b binding) memberSpec {
	return memberSpec{name: "EngineeringUnits", standard: true, refType: id.HasProperty, typeDef: id.PropertyType,
		dataType: id.EUInformation, bind: b, description: "The engineering unit of the value (UNECE code)."}
}

func rangeProperty(b binding) memberSpec {
	return memberSpec{name: "EURange", standard: true, refType: id.HasProperty, typeDef: id.PropertyType,
		dataType: id.Range, bind: b, description: "The range of the value in normal operation."}
}

// analogUnit is an AnalogUnitType Double with its engineering unit.
func analogUnit(name, description, uom string, b binding) memberSpec {
	return memberSpec{name: name, description: description, refType: id.HasComponent, typeDef: id.AnalogUnitType,
		dataType: id.Double, bind: b, children: []memberSpec{euProperty(staticUnit(uom))}}
}

// analogRange is an AnalogItemType Double with its range and unit.
func analogRange(name, description, uom string, low, high float64, b binding) memberSpec {
	m := memberSpec{name: name, description: description, refType: id.HasComponent, typeDef: id.AnalogItemType,
		dataType: id.Double, bind: b, children: []memberSpec{rangeProperty(staticRange(low, high))}}
	if uom != "" {
		m.children = append(m.children, euProperty(staticUnit(uom)))
	}
	return m
}

func dataVariable(name, description string, dataType uint32, b binding) memberSpec {
	return memberSpec{name: name, description: description, refType: id.HasComponent,
		typeDef: id.BaseDataVariableType, dataType: dataType, bind: b}
}

func property(name, description string, dataType uint32, b binding) memberSpec {
	return memberSpec{name: name, description: description, refType: id.HasProperty,
		typeDef: id.PropertyType, dataType: dataType, bind: b}
}

func optional(m memberSpec) memberSpec {
	m.optional = true
	return m
}

// Member groups of the location types.

func kva(name, description string, f func(*model.Power) model.Value) memberSpec {
	return capacityRange(analogUnit(name, description, "kVA", powerNumber(f)))
}

// capacityRange gives a kVA or kW variable of a location an EURange of 0 to
// the location's capacity, so that percent deadbands work on it. The
// capacity is what SmartView says the location may draw, the first of
// CabinetRating (a cabinet's maximum kVA), ContractualKVA (a private cage's
// contract) and SoldKVA (the power sold at the level, a circuit's allowance)
// that is a positive number. kW is bounded by kVA (a power factor is at most
// 1). Where none is known the optional EURange is absent and a percent
// deadband is refused (Bad_MonitoredItemFilterUnsupported).
func capacityRange(m memberSpec) memberSpec {
	rangeOf := func(c *evalCtx, n node) (ua.Range, bool) {
		p := c.snap.Power(int(n.idx))
		if p.Quality == model.QualityUnavailable {
			return ua.Range{}, false
		}
		capacity, ok := capacityKVA(&p.Power)
		return ua.Range{Low: 0, High: capacity}, ok
	}
	b := binding{source: srcPower, euRangeOf: rangeOf,
		present: func(c *evalCtx, n node) bool { _, ok := rangeOf(c, n); return ok },
		value: func(c *evalCtx, n node) sample {
			r, ok := rangeOf(c, n)
			if !ok {
				return sample{status: ua.StatusBadWaitingForInitialData}
			}
			return good(variant(ua.NewExtensionObject(&r)))
		}}
	m.children = append(m.children, optional(rangeProperty(b)))
	return m
}

// capacityKVA is the most apparent power a location is meant to draw.
func capacityKVA(p *model.Power) (float64, bool) {
	for _, v := range []model.Value{p.CabinetRating, p.ContractualKVA, p.SoldKVA} {
		if v.IsNum && v.Num > 0 && !math.IsInf(v.Num, 0) {
			return v.Num, true
		}
	}
	return 0, false
}

var (
	memberKVA     = kva("KVA", "Apparent power drawn, in kVA.", func(p *model.Power) model.Value { return p.KVA })
	memberSoldKVA = kva("SoldKVA", "Power sold (allowed) at this level, in kVA.",
		func(p *model.Power) model.Value { return p.SoldKVA })
	memberContractualKVA = kva("ContractualKVA", "Maximum power draw contractually allowed, in kVA.",
		func(p *model.Power) model.Value { return p.ContractualKVA })
	memberPercentOfContract = analogRange("PercentOfContract", "KVA as a percentage of ContractualKVA.", "%", 0, 100,
		powerNumber(func(p *model.Power) model.Value { return p.PercentKVA }))
	memberPrimaryKVA = kva("PrimaryKVA", "Sum of the draw of the primary circuits, in kVA.",
		func(p *model.Power) model.Value { return p.PrimaryKVA })
	memberRedundantKVA = kva("RedundantKVA", "Sum of the draw of the redundant circuits, in kVA.",
		func(p *model.Power) model.Value { return p.RedundantKVA })
	memberKW = capacityRange(analogUnit("KW", "Real power, in kW, where energy metering exists (null otherwise).", "kW",
		powerNumber(func(p *model.Power) model.Value { return p.KW })))
	memberPowerFactor = analogRange("PowerFactor", "Real power over apparent power (null where not metered).", "", 0, 1,
		powerNumber(func(p *model.Power) model.Value { return p.PowerFactor }))
	memberPeakKVA7d = kva("PeakKVA7d", "Peak apparent power over the last seven days, in kVA.",
		func(p *model.Power) model.Value { return p.PeakKVA7d })
	memberCabinetRating = kva("CabinetRating", "Maximum apparent power allowed for the cabinet, in kVA.",
		func(p *model.Power) model.Value { return p.CabinetRating })
	memberAmps = analogUnit("Amps", "Instantaneous current, in A.", "A",
		powerNumber(func(p *model.Power) model.Value { return p.Amps }))
	memberBreakerAlarm = dataVariable("BreakerAlarm", "True while the circuit's breaker trip alarm is raised; null when upstream does not say.",
		id.Boolean, binding{source: srcPower, hist: histLocation, value: func(c *evalCtx, n node) sample {
			p := c.snap.Power(int(n.idx))
			if p.Quality == model.QualityUnavailable {
				return sample{status: ua.StatusBadWaitingForInitialData}
			}
			s := sample{status: qualityStatus(p.Quality), source: p.Source}
			if p.BreakerAlarm != model.FlagUnknown {
				s.v = variant(p.BreakerAlarm == model.FlagTrue)
			}
			return s
		}})

	powerMembers = []memberSpec{memberKVA, memberSoldKVA, memberContractualKVA, memberPercentOfContract,
		memberPrimaryKVA, memberRedundantKVA, memberKW, memberPowerFactor, memberPeakKVA7d}
	circuitMembers = []memberSpec{memberKVA, memberAmps, memberSoldKVA, memberKW, memberPowerFactor, memberPeakKVA7d,
		memberBreakerAlarm, optional(property("Role", "primary or redundant.", id.String,
			locationOptional(func(l *model.Location) string { return l.Role })))}

	memberTemperature = memberSpec{name: "Temperature", description: "Temperature, in the unit upstream reports.",
		refType: id.HasComponent, typeDef: id.AnalogUnitType, dataType: id.Double,
		bind: envNumber(func(e *model.Environment) model.Value { return e.Temperature }),
		children: []memberSpec{euProperty(binding{source: srcEnv, value: func(c *evalCtx, n node) sample {
			u := c.snap.Environment(int(n.idx)).TemperatureUnit
			if u == "" {
				u = "°C"
			}
			return good(variant(ua.NewExtensionObject(euInformation(u))))
		}})}}
	memberHumidity = analogRange("Humidity", "Relative humidity, in %.", "%", 0, 100,
		envNumber(func(e *model.Environment) model.Value { return e.Humidity }))
	envMembers = []memberSpec{memberTemperature, memberHumidity}
)

func join(groups ...[]memberSpec) []memberSpec {
	var out []memberSpec
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func typesNS(i uint32) *ua.NodeID { return ua.NewNumericNodeID(nsTypes, i) }

// typeSpecs is the SmartView information model.
var typeSpecs = []typeSpec{
	{id: refServes, class: ua.NodeClassReferenceType, name: "Serves", super: ns0(id.NonHierarchicalReferences),
		inverseName: "ServedBy", description: "From a facility asset to a cage, cabinet or circuit it serves (powers, cools)."},
	{id: typeLocation, class: ua.NodeClassObjectType, name: "LocationType", super: ns0(id.BaseObjectType), abstract: true,
		description: "A place in the footprint: IBX, zone, cage, cabinet, circuit or sensor.",
		members: []memberSpec{
			property("LocationId", "The SmartView identity IBX/LEVEL/Name, as in the gateway's /api/model.", id.String,
				locationString(func(l *model.Location) string { return l.ID.String() })),
			property("Label", "The readable name from SmartView's hierarchy.", id.String,
				locationString(func(l *model.Location) string { return l.Label })),
			optional(property("Number", "The hierarchy's numeric levelValue of a cage or cabinet.", id.String,
				locationOptional(func(l *model.Location) string { return l.Number }))),
		}},
	{id: typeIBX, class: ua.NodeClassObjectType, name: "IBXType", super: typesNS(typeLocation),
		description: "An Equinix IBX data center.", members: join(powerMembers, envMembers)},
	{id: typeZone, class: ua.NodeClassObjectType, name: "ZoneType", super: typesNS(typeLocation),
		description: "A zone of an IBX.", members: envMembers},
	{id: typeCage, class: ua.NodeClassObjectType, name: "CageType", super: typesNS(typeLocation),
		description: "A customer cage.", members: join(powerMembers, envMembers)},
	{id: typeCabinet, class: ua.NodeClassObjectType, name: "CabinetType", super: typesNS(typeLocation),
		description: "A cabinet in a cage.", members: join(powerMembers, []memberSpec{memberCabinetRating}, envMembers)},
	{id: typeCircuit, class: ua.NodeClassObjectType, name: "CircuitType", super: typesNS(typeLocation),
		description: "A power circuit feeding a cabinet.", members: circuitMembers},
	{id: typeSensor, class: ua.NodeClassObjectType, name: "SensorType", super: typesNS(typeLocation),
		description: "An environment sensor.", members: envMembers},
	{id: typeAsset, class: ua.NodeClassObjectType, name: "AssetType", super: ns0(id.BaseObjectType),
		description: "A facility asset (generator, UPS, chiller, ...); its tag points are its variables.",
		members: []memberSpec{
			property("AssetId", "SmartView's asset id.", id.String, assetString(func(a *model.Asset) string { return a.ID })),
			property("Classification", "Electrical, Mechanical, ...", id.String, assetString(func(a *model.Asset) string { return a.Classification })),
			property("Category", "The asset category.", id.String, assetString(func(a *model.Asset) string { return a.Category })),
			property("Template", "The asset template (Generator, Fan Coil, ...).", id.String, assetString(func(a *model.Asset) string { return a.Template })),
			property("EquipmentType", "SmartView's assetType.", id.String, assetString(func(a *model.Asset) string { return a.Type })),
			property("Manufacturer", "", id.String, assetString(func(a *model.Asset) string { return a.Manufacturer })),
			property("Model", "", id.String, assetString(func(a *model.Asset) string { return a.Model })),
			property("SerialNumber", "", id.String, assetString(func(a *model.Asset) string { return a.Serial })),
			property("TimeZone", "The asset's time zone as upstream reports it.", id.String, assetString(func(a *model.Asset) string { return a.TimeZone })),
			dataVariable("AlarmStatus", "OK or NOT OK.", id.String, assetState(func(s *model.AssetState) *ua.Variant { return variant(s.AlarmStatus) })),
			dataVariable("ResiliencyStatus", "E.g. Resiliency as Designed.", id.String, assetState(func(s *model.AssetState) *ua.Variant { return variant(s.ResiliencyStatus) })),
			dataVariable("AlarmActive", "True while the last alarm is reported as currently active.", id.Boolean, assetState(func(s *model.AssetState) *ua.Variant { return variant(s.AlarmActive) })),
			dataVariable("LastAlarmTriggered", "When the last alarm was triggered (null: none).", id.DateTime, assetState(func(s *model.AssetState) *ua.Variant { return timeVariant(s.AlarmTriggered) })),
			dataVariable("LastAlarmCleared", "When the last alarm cleared (null: none or still active).", id.DateTime, assetState(func(s *model.AssetState) *ua.Variant { return timeVariant(s.AlarmCleared) })),
			dataVariable("LastMaintenance", "When the asset was last maintained (null: unknown).", id.DateTime, assetState(func(s *model.AssetState) *ua.Variant { return timeVariant(s.LastMaintenance) })),
		}},
	{id: typeAnalogTag, class: ua.NodeClassVariableType, name: "AnalogTagType", super: ns0(id.AnalogUnitType), dataType: ns0(id.Double),
		description: "A numeric tag point of an asset, with its engineering unit.",
		members:     tagMembers},
	{id: typeTag, class: ua.NodeClassVariableType, name: "TagType", super: ns0(id.BaseDataVariableType), dataType: ns0(id.String),
		description: "A tag point of an asset without a unit (a status text such as READY TO START): String, upstream's text as sent.",
		members:     tagMembers},
	{id: typeAlarm, class: ua.NodeClassObjectType, name: "SmartViewAlarmType", super: ns0(id.OffNormalAlarmType),
		description: "An alarm SmartView raised on an asset, tag or location, as an OPC UA Part 9 condition (events of this " +
			"type carry its transitions; see the gateway's README); listed while active or acknowledged.",
		members: []memberSpec{
			dataVariable("IBX", "The IBX of the alarm.", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.IBX) })),
			dataVariable("UpstreamAcknowledged", "Acknowledged in SmartView by Equinix operations (in the alarm's current life).", id.Boolean, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.WasAcknowledged) })),
			dataVariable("OperatorAckUser", "The operator who acknowledged the alarm at an OPC UA console (empty: none); never sent upstream.", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(operatorAckUser(a)) })),
			dataVariable("OperatorAckTime", "When an operator acknowledged the alarm (null: not yet).", id.DateTime, alarmValue(func(a *model.Alarm) *ua.Variant { return timeVariant(operatorAckTime(a)) })),
			dataVariable("AlarmId", "The gateway's number for the alarm: stable, never reused; traps carry it too.", id.UInt64, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.ID) })),
			dataVariable("Severity", "Informational, Low, High or Urgent.", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Severity.String()) })),
			dataVariable("State", "active, acknowledged or cleared.", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.State.String()) })),
			dataVariable("Condition", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Condition) })),
			dataVariable("AssetId", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.AssetID) })),
			dataVariable("TagId", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.TagID) })),
			dataVariable("Cage", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Cage) })),
			dataVariable("Cabinet", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Cabinet) })),
			dataVariable("Circuit", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Circuit) })),
			dataVariable("Value", "The data point value at which the alarm triggered.", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Value) })),
			dataVariable("Unit", "", id.String, alarmValue(func(a *model.Alarm) *ua.Variant { return variant(a.Unit) })),
			dataVariable("Triggered", "", id.DateTime, alarmValue(func(a *model.Alarm) *ua.Variant { return timeVariant(a.Triggered) })),
			dataVariable("Processed", "", id.DateTime, alarmValue(func(a *model.Alarm) *ua.Variant { return timeVariant(a.Processed) })),
			dataVariable("Cleared", "", id.DateTime, alarmValue(func(a *model.Alarm) *ua.Variant { return timeVariant(a.Cleared) })),
		}},
	{id: typeGatewayStatus, class: ua.NodeClassObjectType, name: "GatewayStatusType", super: ns0(id.BaseObjectType),
		description: "The state of the gateway's connections to SmartView.",
		members: []memberSpec{
			dataVariable("Upstream", "starting, ok, degraded or down.", id.String, historized(histHealth, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Upstream.String()) }))),
			dataVariable("UpstreamSince", "", id.DateTime, healthValue(func(h *model.Health) *ua.Variant { return timeVariant(h.UpstreamSince) })),
			dataVariable("UpstreamError", "", id.String, healthValue(func(h *model.Health) *ua.Variant { return variant(h.UpstreamError) })),
			dataVariable("LastSync", "When the last complete sync cycle succeeded.", id.DateTime, healthValue(func(h *model.Health) *ua.Variant { return timeVariant(h.LastSync) })),
			dataVariable("FeedState", "disabled, connecting, connected or down.", id.String, historized(histHealth, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Feed.State.String()) }))),
			dataVariable("FeedProvider", "", id.String, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Feed.Provider) })),
			dataVariable("FeedSince", "", id.DateTime, healthValue(func(h *model.Health) *ua.Variant { return timeVariant(h.Feed.Since) })),
			dataVariable("FeedError", "", id.String, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Feed.Error) })),
			dataVariable("FeedEvents", "Feed events received.", id.UInt64, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Feed.Events) })),
			dataVariable("FeedMalformed", "Feed events rejected as malformed.", id.UInt64, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Feed.Malformed) })),
			dataVariable("FeedUnknown", "Feed events of an unknown kind.", id.UInt64, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Feed.Unknown) })),
			dataVariable("FeedLastEvent", "", id.DateTime, healthValue(func(h *model.Health) *ua.Variant { return timeVariant(h.Feed.LastEvent) })),
			dataVariable("FeedNewestEventTime", "The newest source time seen in an event.", id.DateTime, healthValue(func(h *model.Health) *ua.Variant { return timeVariant(h.Feed.NewestEventTime) })),
			dataVariable("PersistState", "ok, or failing while state_dir cannot be written (alarm notifications are then held).", id.String, historized(histHealth, healthValue(func(h *model.Health) *ua.Variant { return variant(persistState(h.Persist)) }))),
			dataVariable("PersistSince", "When PersistState last changed.", id.DateTime, healthValue(func(h *model.Health) *ua.Variant { return timeVariant(h.Persist.Since) })),
			dataVariable("PersistError", "What fails to be saved and why.", id.String, healthValue(func(h *model.Health) *ua.Variant { return variant(h.Persist.Error()) })),
		}},
}

// persistState names the persist health: "ok" or "failing".
func persistState(p model.PersistHealth) string {
	if p.OK() {
		return "ok"
	}
	return "failing"
}

// tagMembers are the properties of a tag variable. EngineeringUnits of
// AnalogTagType is inherited from AnalogUnitType and bound in tagUnit.
var tagMembers = []memberSpec{
	property("TagId", "SmartView's tag id.", id.String, binding{value: func(c *evalCtx, n node) sample {
		return good(variant(c.view.st.Tag(int(n.idx)).ID))
	}}),
	property("AlarmStatus", "OK or NOT OK, with the reading.", id.String, tagProperty(func(c *evalCtx, n node) sample {
		t := c.snap.Tag(int(n.idx))
		if t.Quality == model.QualityUnavailable {
			return sample{status: ua.StatusBadWaitingForInitialData}
		}
		return sample{v: variant(t.AlarmStatus), status: qualityStatus(t.Quality), source: t.Source}
	})),
}

// tagUnit binds the EngineeringUnits an AnalogTagType inherits.
var tagUnit = binding{value: func(c *evalCtx, n node) sample {
	return good(variant(ua.NewExtensionObject(euInformation(c.view.st.Tag(int(n.idx)).Unit))))
}}

// A tag variable's own value. Its type is fixed by the tag point's unit
// (uom), which SmartView declares with the tag, before any reading
// (entityType): with a unit an AnalogTagType Double (numberTagValue),
// without one a TagType String (textTagValue).
var (
	numberTagValue = binding{source: srcTag, hist: histTag, value: func(c *evalCtx, n node) sample {
		t := c.snap.Tag(int(n.idx))
		return numberSample(t.Value, t.Quality, t.Source)
	}}
	textTagValue = binding{source: srcTag, hist: histTag, value: func(c *evalCtx, n node) sample {
		t := c.snap.Tag(int(n.idx))
		return textSample(t.Value, t.Quality, t.Source)
	}}
)
