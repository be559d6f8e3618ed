package opcua

import (
	"strings"

	"github.com/gopcua/opcua/ua"
)

// unitsURI is the namespace of UNECE Recommendation 20 unit codes in
// EUInformation (OPC UA Part 8, 5.6.3).
const unitsURI = "http://www.opcfoundation.org/UA/units/un/cefact"

// unit is a UNECE common code with its symbol and name.
type unit struct{ code, symbol, name string }

// units maps SmartView's unit-of-measure strings (lower-cased, trimmed) to
// UNECE codes.
var units = unitTable()

func unitTable() map[string]unit {
	units := map[string]unit{}
	for _, u := range []struct {
		unit
		aliases []string
	}{
		{unit{"KVA", "kVA", "kilovolt ampere"}, []string{"kva", "kilovolt ampere", "kilovolt-ampere"}},
		{unit{"D46", "VA", "volt ampere"}, []string{"va"}},
		{unit{"KVR", "kvar", "kilovar"}, []string{"kvar", "kvar(s)"}},
		{unit{"AMP", "A", "ampere"}, []string{"a", "amp", "amps", "ampere", "amperes"}},
		{unit{"4K", "mA", "milliampere"}, []string{"ma"}},
		{unit{"P1", "%", "percent"}, []string{"%", "percent", "pct"}},
		{unit{"CEL", "°C", "degree Celsius"}, []string{"°c", "ºc", "c", "degc", "deg c", "celsius"}},
		{unit{"FAH", "°F", "degree Fahrenheit"}, []string{"°f", "ºf", "f", "degf", "deg f", "fahrenheit"}},
		{unit{"VLT", "V", "volt"}, []string{"v", "volt", "volts", "vac", "vdc"}},
		{unit{"KVT", "kV", "kilovolt"}, []string{"kv"}},
		{unit{"WTT", "W", "watt"}, []string{"w", "watt", "watts"}},
		{unit{"KWT", "kW", "kilowatt"}, []string{"kw", "kilowatt", "kilowatts"}},
		{unit{"MAW", "MW", "megawatt"}, []string{"mw"}},
		{unit{"KWH", "kW·h", "kilowatt hour"}, []string{"kwh", "kw·h", "kw-h"}},
		{unit{"MWH", "MW·h", "megawatt hour"}, []string{"mwh"}},
		{unit{"HUR", "h", "hour"}, []string{"h", "hr", "hrs", "hour", "hours"}},
		{unit{"MIN", "min", "minute"}, []string{"min", "mins", "minute", "minutes"}},
		{unit{"SEC", "s", "second"}, []string{"s", "sec", "secs", "second", "seconds"}},
		{unit{"HTZ", "Hz", "hertz"}, []string{"hz", "hertz"}},
		{unit{"PS", "psi", "pound-force per square inch"}, []string{"psi"}},
		{unit{"BAR", "bar", "bar"}, []string{"bar"}},
		{unit{"KPA", "kPa", "kilopascal"}, []string{"kpa"}},
		{unit{"PAL", "Pa", "pascal"}, []string{"pa"}},
		{unit{"LTR", "l", "litre"}, []string{"l", "liter", "litre", "liters", "litres"}},
		{unit{"GLL", "gal (US)", "gallon (US)"}, []string{"gal", "gallon", "gallons"}},
		{unit{"G2", "gal (US)/min", "US gallon per minute"}, []string{"gpm"}},
		{unit{"2L", "ft³/min", "cubic foot per minute"}, []string{"cfm"}},
		{unit{"RPM", "r/min", "revolutions per minute"}, []string{"rpm"}},
	} {
		for _, a := range u.aliases {
			units[a] = u.unit
		}
	}
	return units
}

// euInformation returns the EUInformation for a SmartView unit string: the
// UNECE code where known, else a DisplayName-only EUInformation (UnitId -1,
// no namespace) so the client still sees the text upstream used.
func euInformation(uom string) *ua.EUInformation {
	uom = strings.TrimSpace(uom)
	u, ok := units[strings.ToLower(uom)]
	if !ok {
		return &ua.EUInformation{UnitID: -1, DisplayName: ua.NewLocalizedText(uom), Description: ua.NewLocalizedText("")}
	}
	var id int32
	for i := 0; i < len(u.code); i++ {
		id = id<<8 | int32(u.code[i])
	}
	return &ua.EUInformation{NamespaceURI: unitsURI, UnitID: id,
		DisplayName: ua.NewLocalizedText(u.symbol), Description: ua.NewLocalizedText(u.name)}
}
