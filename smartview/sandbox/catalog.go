package sandbox

import "strings"

// The catalog: asset classifications, categories, templates and their tag points, as the API
// reference names them (categories and templates of the Mechanical example verbatim; the
// Electrical example shows only "Global"/"Generator", the other electrical templates are the
// asset types of the documented alarms: UPS, ASTS, PDU).

type classification uint8

const (
	electrical classification = iota
	mechanical
)

func (c classification) String() string {
	if c == electrical {
		return "Electrical"
	}
	return "Mechanical"
}

// parseClassification accepts the reference's values in any case.
func parseClassification(s string) (classification, bool) {
	switch {
	case strings.EqualFold(s, "Electrical"):
		return electrical, true
	case strings.EqualFold(s, "Mechanical"):
		return mechanical, true
	}
	return 0, false
}

type tagKind uint8

const (
	analogTag tagKind = iota // a number that drifts within [min, max]
	alarmTag                 // "NORMAL" or "ALARM", follows the tag's alarms
	textTag                  // a fixed text ("0", "READY TO START, AUTO")
)

type tagTemplate struct {
	name     string // the tag id's suffix: CH1.Gen-1:fuelhours
	display  string
	uom      string
	kind     tagKind
	min, max float64
	decimals int
	text     string // the value of a textTag
}

type assetTemplate struct {
	name         string // templateId in the asset list, assetType elsewhere
	class        classification
	category     string
	prefix       string // generated asset ids are IBX + "." + prefix + number
	manufacturer string
	model        string
	tags         []tagTemplate
}

func analog(name, display, uom string, min, max float64, decimals int) tagTemplate {
	return tagTemplate{name: name, display: display, uom: uom, kind: analogTag, min: min, max: max, decimals: decimals}
}

func text(name, display, value string) tagTemplate {
	return tagTemplate{name: name, display: display, kind: textTag, text: value}
}

var alarmPoint = tagTemplate{name: "alarm", display: "Alarm", kind: alarmTag}

// threePhase returns the three per-phase points of a quantity: …phaseab/bc/ca for voltages,
// …phasea/b/c for currents.
func threePhase(name, display, uom string, min, max float64, pairs bool) []tagTemplate {
	phases := []string{"a", "b", "c"}
	if pairs {
		phases = []string{"ab", "bc", "ca"}
	}
	out := make([]tagTemplate, 0, 3)
	for _, p := range phases {
		out = append(out, analog(name+"phase"+p, display+" Phase "+strings.ToUpper(p), uom, min, max, 1))
	}
	return out
}

func tagList(parts ...any) []tagTemplate {
	var out []tagTemplate
	for _, p := range parts {
		switch p := p.(type) {
		case tagTemplate:
			out = append(out, p)
		case []tagTemplate:
			out = append(out, p...)
		}
	}
	return out
}

var (
	runStatus    = text("runstatus", "Run Status", "RUNNING")
	fanSpeed     = analog("fanspeed", "Fan Speed", "%", 40, 90, 0)
	supplyAir    = analog("supplyairtemperature", "Supply Air Temperature", "°C", 14, 18, 1)
	returnAir    = analog("returnairtemperature", "Return Air Temperature", "°C", 24, 30, 1)
	roomHumidity = analog("humidity", "Humidity", "%", 35, 55, 1)
)

// templates, in the order the asset list shows them: by classification, then category.
var templates = []assetTemplate{
	{name: "Generator", class: electrical, category: "Global", prefix: "Gen-", manufacturer: "CATERPILLAR", model: "SR-4B",
		tags: tagList( // the six points of the reference's CH1.Gen-1, in its order
			analog("fuelhours", "Fuel Hours", "h", 60, 90, 1),
			text("runningemergencyservice", "Running Emergency Service", "0"),
			analog("voltage", "Voltage", "V", 0, 0, 1),
			alarmPoint,
			text("runningnonemergencyservice", "Running NonEmergency Service", "0"),
			text("summary", "Summary", "READY TO START, AUTO"))},
	{name: "UPS", class: electrical, category: "Global", prefix: "UPS-", manufacturer: "EATON", model: "9395",
		tags: tagList(alarmPoint,
			text("batterytimeremaining", "Battery Time Remaining", "AVAILABLE DURING DISCHARGE"),
			analog("outputload", "Output Load", "%", 20, 60, 1),
			threePhase("inputvoltage", "Input Voltage", "V", 470, 490, true),
			threePhase("outputvoltage", "Output Voltage", "V", 475, 485, true),
			threePhase("outputcurrent", "Output Current", "A", 100, 400, false),
			analog("batterycharge", "Battery Charge", "%", 95, 100, 1))},
	{name: "ASTS", class: electrical, category: "Global", prefix: "ASTS-", manufacturer: "CYBEREX", model: "SuperSwitch 4",
		tags: tagList(alarmPoint,
			text("preferredsource", "Preferred Source", "SOURCE 1"),
			text("activesource", "Active Source", "SOURCE 1"),
			threePhase("outputvoltage", "Output Voltage", "V", 205, 211, true),
			threePhase("outputcurrent", "Output Current", "A", 20, 200, false),
			analog("outputkva", "Output kVA", "kVA", 20, 120, 2),
			text("sourcessynchronized", "Sources Synchronized", "YES"))},
	{name: "PDU", class: electrical, category: "Global", prefix: "PDU-", manufacturer: "SCHNEIDER ELECTRIC", model: "PDU-150",
		tags: tagList(alarmPoint,
			analog("outputkva", "Output kVA", "kVA", 10, 80, 2),
			analog("outputkw", "Output kW", "kW", 9, 75, 2),
			analog("outputpowerfactor", "Output Power Factor", "", 0.9, 0.99, 2),
			threePhase("outputvoltage", "Output Voltage", "V", 205, 211, true),
			threePhase("outputcurrent", "Output Current", "A", 20, 120, false),
			analog("outputfrequency", "Output Frequency", "Hz", 59.9, 60.1, 2),
			analog("neutralcurrent", "Neutral Current", "A", 0, 15, 1),
			analog("outputload", "Output Load", "%", 20, 70, 1))},
	{name: "Fan Coil", class: mechanical, category: "Air Handling", prefix: "FC ", manufacturer: "STULZ", model: "CyberAir 3",
		tags: tagList(alarmPoint, supplyAir, returnAir, fanSpeed,
			analog("coolingvalveposition", "Cooling Valve Position", "%", 0, 100, 0), runStatus)},
	{name: "Fans", class: mechanical, category: "Air Handling", prefix: "Fan-", manufacturer: "EBM-PAPST", model: "RadiCal",
		tags: tagList(alarmPoint, fanSpeed, runStatus, analog("vibration", "Vibration", "mm/s", 0.5, 3, 2))},
	{name: "Humidifier", class: mechanical, category: "Air Handling", prefix: "HUM-", manufacturer: "NORTEC", model: "MH2",
		tags: tagList(alarmPoint, roomHumidity, analog("steamoutput", "Steam Output", "kg/h", 0, 20, 1), runStatus)},
	{name: "RAH with Chilled Water", class: mechanical, category: "Air Handling", prefix: "RAH-", manufacturer: "LIEBERT", model: "DS",
		tags: tagList(alarmPoint, supplyAir, returnAir,
			analog("supplyairhumidity", "Supply Air Humidity", "%", 35, 55, 1), fanSpeed,
			analog("chilledwatervalve", "Chilled Water Valve", "%", 0, 100, 0),
			text("filterstatus", "Filter Status", "CLEAN"), runStatus)},
	{name: "Chiller Air Cooled", class: mechanical, category: "Cooling", prefix: "Chiller-", manufacturer: "SMARDT", model: "SACAC110-3EXX-2A1-16A-010",
		tags: tagList(alarmPoint,
			analog("evapleavingwatertemperature", "Evaporator Leaving Water Temperature", "°C", 5, 8, 1),
			analog("evapenteringwatertemperature", "Evaporator Entering Water Temperature", "°C", 11, 14, 1),
			analog("condenserpressure", "Condenser Pressure", "kPa", 900, 1300, 0),
			analog("compressorload", "Compressor Load", "%", 30, 90, 0),
			analog("ambienttemperature", "Ambient Temperature", "°C", 10, 35, 1), runStatus,
			analog("kw", "Power", "kW", 50, 250, 1))},
	{name: "Cooling Plant", class: mechanical, category: "Cooling", prefix: "CWM-", manufacturer: "JOHNSON CONTROLS", model: "Metasys",
		tags: tagList( // the reference's CH1.Lead Chilled Water Manager shows this point first
			analog("primarychilledwatersupplytemperature", "Primary Chilled Water Supply Temperature", "°C", 4.5, 7.5, 1),
			alarmPoint,
			analog("primarychilledwaterreturntemperature", "Primary Chilled Water Return Temperature", "°C", 11, 14, 1),
			analog("plantload", "Plant Load", "%", 30, 80, 0),
			text("chillersonline", "Chillers Online", "2"),
			analog("differentialpressure", "Differential Pressure", "kPa", 80, 120, 0))},
	{name: "Early Smoke Detection", class: mechanical, category: "Fire, Smoke Detection", prefix: "VESDA-", manufacturer: "XTRALIS", model: "VESDA VLP",
		tags: tagList(alarmPoint, analog("smokelevel", "Smoke Level", "%obs/m", 0, 0.05, 3),
			analog("airflow", "Airflow", "%", 90, 110, 0), text("faultstatus", "Fault Status", "NORMAL"))},
	{name: "Fire Alarm", class: mechanical, category: "Fire, Smoke Detection", prefix: "FAS-", manufacturer: "NOTIFIER", model: "NFS2-3030",
		tags: tagList(alarmPoint, text("troublestatus", "Trouble Status", "NORMAL"),
			text("supervisorystatus", "Supervisory Status", "NORMAL"), text("panelstatus", "Panel Status", "NORMAL"))},
	{name: "Leak Detection", class: mechanical, category: "Leak Detection", prefix: "LDS-", manufacturer: "RLE", model: "SeaHawk LD5200",
		tags: tagList(alarmPoint, text("leakstatus", "Leak Status", "NO LEAK"),
			text("cablefault", "Cable Fault", "NORMAL"), analog("leakdistance", "Leak Distance", "m", 0, 0, 1))},
}

// templateByName maps a template name to its index in templates.
var templateByName = func() map[string]int {
	m := make(map[string]int, len(templates))
	for i, t := range templates {
		m[t.name] = i
	}
	return m
}()

// generatedMix is the cycle of templates generated assets are drawn from, in order: small
// profiles take a prefix of it, large ones cycle it (40% PDUs, the rest spread).
var generatedMix = []string{
	"PDU", "UPS", "ASTS", "PDU", "Fan Coil", "RAH with Chilled Water", "Generator", "Early Smoke Detection",
	"PDU", "Chiller Air Cooled", "Leak Detection", "PDU", "Fans", "Humidifier", "PDU", "RAH with Chilled Water",
	"PDU", "ASTS", "PDU", "Fan Coil", "PDU", "UPS", "ASTS", "PDU", "PDU",
}

// metros by the first two letters of an IBX code. kw and powerFactor are "NA" in AMER and
// APAC, as the reference says.
type metro struct{ region, country string }

var metros = map[string]metro{
	"CH": {"AMER", "US"}, "SV": {"AMER", "US"}, "DC": {"AMER", "US"}, "DA": {"AMER", "US"}, "AT": {"AMER", "US"},
	"NY": {"AMER", "US"}, "LA": {"AMER", "US"}, "MI": {"AMER", "US"}, "SE": {"AMER", "US"}, "TR": {"AMER", "CA"},
	"AM": {"EMEA", "NL"}, "FR": {"EMEA", "DE"}, "LD": {"EMEA", "GB"}, "PA": {"EMEA", "FR"},
	"HK": {"APAC", "HK"}, "SG": {"APAC", "SG"}, "SY": {"APAC", "AU"}, "TY": {"APAC", "JP"},
}
