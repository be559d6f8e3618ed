package sandbox

import "strings"

// levelType is a level of the location or power hierarchy.
type levelType uint8

const (
	levelIBX levelType = iota
	levelZone
	levelCage
	levelCabinet
	levelCircuit
	levelSensor
)

var levelNames = [...]string{"IBX", "ZONE", "CAGE", "CABINET", "CIRCUIT", "SENSOR"}

func (l levelType) String() string { return levelNames[l] }

// The level types each API accepts.
var (
	environmentLevels = []levelType{levelIBX, levelZone, levelCage, levelSensor}
	powerLevels       = []levelType{levelIBX, levelCage, levelCabinet, levelCircuit}
)

// parseLevel accepts a level name in any case (the reference's own 4000 example sends "ibx").
func parseLevel(s string, allowed []levelType) (levelType, bool) {
	for _, l := range allowed {
		if strings.EqualFold(s, l.String()) {
			return l, true
		}
	}
	return 0, false
}

// findLevel finds the node of a level in an IBX by its levelValue: the IBX code, a zone label, a
// cage or cabinet label (or numeric id), a circuit id or a sensor id.
func (f *footprint) findLevel(ii int32, level levelType, value string) (int32, bool) {
	switch level {
	case levelIBX:
		return ii, f.ibxs[ii].code == value
	case levelZone:
		i, ok := f.zoneByLabel[value]
		return i, ok && f.zones[i].ibx == ii
	case levelCage:
		return f.cageIndex(ii, value)
	case levelCabinet:
		return f.cabinetIndex(ii, value)
	case levelCircuit:
		return f.circuitIndex(ii, value)
	case levelSensor:
		i, ok := f.sensorByID[value]
		return i, ok && f.cages[f.cabinets[f.sensors[i].cabinet].cage].ibx == ii
	}
	return 0, false
}

// levelRange is the span of an IBX's nodes of a level.
func (f *footprint) levelRange(ii int32, level levelType) span {
	ib := &f.ibxs[ii]
	switch level {
	case levelIBX:
		return span{ii, ii + 1}
	case levelZone:
		return ib.zones
	case levelCage:
		return ib.cages
	case levelCabinet:
		return span{f.cages[ib.cages.start].cabinets.start, f.cages[ib.cages.end-1].cabinets.end}
	case levelCircuit:
		first := f.cages[ib.cages.start].cabinets.start
		last := f.cages[ib.cages.end-1].cabinets.end - 1
		return span{f.cabinets[first].circuits.start, f.cabinets[last].circuits.end}
	case levelSensor:
		return ib.sensors
	}
	return span{}
}
