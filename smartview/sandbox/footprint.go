package sandbox

import (
	"strconv"
	"time"
)

// The footprint: flat slices indexed by int32, each level contiguous within its parent (an
// IBX's cages, a cage's cabinets, a cabinet's circuits, an asset's tags), so a large profile is
// a few slices of small structs rather than a graph of pointers. Zones list their cages because
// the location hierarchy groups cages differently from the power hierarchy's order.
type footprint struct {
	ibxs     []ibx
	zones    []zone
	cages    []cage
	cabinets []cabinet
	circuits []circuit
	sensors  []sensor
	assets   []asset
	tags     []tag

	ibxByCode     map[string]int32
	zoneByLabel   map[string]int32
	cageByName    map[string]int32 // by label and by numeric id
	cabinetByName map[string]int32 // by label and by numeric id
	circuitByID   map[string]int32
	sensorByID    map[string]int32
	assetByID     map[string]int32
	tagByID       map[string]int32
}

// span is the half-open range [start, end) of a child slice.
type span struct{ start, end int32 }

func (s span) len() int { return int(s.end - s.start) }

type ibx struct {
	code, metro, region, country  string
	zones, cages, sensors, assets span
	power                         powerReading
	climate                       climate
}

type zone struct {
	label   string
	ibx     int32
	cages   []int32
	climate climate
}

type cage struct {
	id, label         string // id is the hierarchy's numeric levelValue, label the readable name
	ibx, zone         int32
	cabinets, sensors span
	power             powerReading
	climate           climate
}

type cabinet struct {
	id, label string
	cage      int32
	circuits  span
	power     powerReading
}

type circuit struct {
	id, label   string
	cabinet     int32
	volts, amps float64 // rating from the label: "120V 20A 1Ph Pri (3717)"
	phases      int
	redundant   bool
	load        float64 // fraction of the circuit's share of its cabinet's contract in use
	kva         float64
	current     float64
	peakKva     float64
	at          int64 // epoch ms of the reading
}

func (c *circuit) soldKva() float64 {
	v := c.volts * c.amps / 1000
	if c.phases == 3 {
		v *= sqrt3
	}
	return v
}

const sqrt3 = 1.7320508075688772

type sensor struct {
	id      string // "CH1.Colo.CH1_05_000550_0105"
	cabinet int32
	climate climate
}

// climate is one temperature/humidity reading with its running extremes.
type climate struct {
	temp, hum                        float64
	minTemp, maxTemp, minHum, maxHum float64
	at                               int64
}

func (c *climate) set(temp, hum float64, at int64) {
	if c.at == 0 {
		c.minTemp, c.maxTemp, c.minHum, c.maxHum = temp, temp, hum, hum
	}
	c.temp, c.hum, c.at = temp, hum, at
	c.minTemp, c.maxTemp = min(c.minTemp, temp), max(c.maxTemp, temp)
	c.minHum, c.maxHum = min(c.minHum, hum), max(c.maxHum, hum)
}

// powerReading is the power of an aggregate level (IBX, cage, cabinet).
type powerReading struct {
	kva, primaryKva, redundantKva float64
	soldKva, contractualKva       float64
	peakKva                       float64
	comparison                    [4]float64 // percentage points vs yesterday, last week, month, quarter
	at                            int64
}

func (p *powerReading) percentage() float64 {
	if p.contractualKva == 0 {
		return 0
	}
	return p.kva / p.contractualKva * 100
}

type asset struct {
	id          string
	ibx         int32
	template    int16
	blank       bool // documented assets whose details leave type, maker, model and serial empty
	maintenance string
	serial      string
	tags        span
	circuits    []int32 // electrical: the circuits it feeds, in order (affected locations)
	cages       []int32 // mechanical: the cages it serves
	// alarm history shown by the asset list and details; epoch ms, 0 = never
	lastTriggered, lastCleared int64
	activeAlarms               int32
}

func (a *asset) tmpl() *assetTemplate { return &templates[a.template] }

func (a *asset) alarmStatus() string { return alarmStatusWord(a.activeAlarms > 0) }

type tag struct {
	id           string
	asset        int32
	tmpl         *tagTemplate
	value        float64 // analogTag
	text         string  // textTag and alarmTag
	at           int64   // epoch ms of the reading
	activeAlarms int32
}

func alarmStatusWord(active bool) string {
	if active {
		return "NOT OK"
	}
	return "OK"
}

// appendValue appends the tag's value as the API shows it ("78.5", "NORMAL").
func (t *tag) appendValue(b []byte) []byte {
	if t.tmpl.kind == analogTag {
		return strconv.AppendFloat(b, t.value, 'f', t.tmpl.decimals, 64)
	}
	return append(b, t.text...)
}

// Times. Asset times are shown in the user's preferred time zone (the reference's epoch-zero
// "Dec 31,1969 07:00 PM" is New York time); tag reading times ("20190324023353") in UTC.
const (
	userTimeZoneName  = "America/New_York"
	assetTimeLayout   = "Jan 02,2006 03:04 PM"
	maintenanceLayout = "Jan 02,2006"
	readingTimeLayout = "20060102150405"
)

var userTimeZone = func() *time.Location {
	if loc, err := time.LoadLocation(userTimeZoneName); err == nil {
		return loc
	}
	return time.FixedZone("EST", -5*3600) // no tzdata on the machine: close enough for a simulator
}()

func assetTime(ms int64) string {
	return time.UnixMilli(ms).In(userTimeZone).Format(assetTimeLayout)
}

// mustAssetTime parses a documented asset time; the inputs are constants of this package.
func mustAssetTime(s string) int64 {
	t, err := time.ParseInLocation(assetTimeLayout, s, userTimeZone)
	if err != nil {
		panic("sandbox: documented asset time " + s + ": " + err.Error())
	}
	return t.UnixMilli()
}

func mustReadingTime(s string) int64 {
	t, err := time.Parse(readingTimeLayout, s)
	if err != nil {
		panic("sandbox: documented reading time " + s + ": " + err.Error())
	}
	return t.UnixMilli()
}

func appendReadingTime(b []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(b, readingTimeLayout)
}

// cageIndex finds a cage of the IBX by label or numeric id.
func (f *footprint) cageIndex(ibxIdx int32, name string) (int32, bool) {
	i, ok := f.cageByName[name]
	return i, ok && f.cages[i].ibx == ibxIdx
}

func (f *footprint) cabinetIndex(ibxIdx int32, name string) (int32, bool) {
	i, ok := f.cabinetByName[name]
	return i, ok && f.cages[f.cabinets[i].cage].ibx == ibxIdx
}

func (f *footprint) circuitIndex(ibxIdx int32, id string) (int32, bool) {
	i, ok := f.circuitByID[id]
	return i, ok && f.circuitIBX(i) == ibxIdx
}

func (f *footprint) circuitIBX(i int32) int32 {
	return f.cages[f.cabinets[f.circuits[i].cabinet].cage].ibx
}

func (f *footprint) assetIndex(ibxIdx int32, id string) (int32, bool) {
	i, ok := f.assetByID[id]
	return i, ok && f.assets[i].ibx == ibxIdx
}

func (f *footprint) tagIndex(ibxIdx int32, id string) (int32, bool) {
	i, ok := f.tagByID[id]
	return i, ok && f.assets[f.tags[i].asset].ibx == ibxIdx
}

// affectedCages lists the cages an asset affects, in first-seen order.
func (f *footprint) affectedCages(a *asset) []int32 {
	if a.tmpl().class == mechanical {
		return a.cages
	}
	var out []int32
	seen := make(map[int32]bool)
	for _, ci := range a.circuits {
		cg := f.cabinets[f.circuits[ci].cabinet].cage
		if !seen[cg] {
			seen[cg] = true
			out = append(out, cg)
		}
	}
	return out
}
