package sandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// profile sizes a footprint and its simulation.
type profile struct {
	extraIBXs          int // how many of moreIBXs join the documented four
	zonesPerIBX        int
	cagesPerIBX        int // documented cages count towards it
	cabinetsPerCage    int // of a generated cage
	circuitsPerCabinet int // of a generated cabinet: primary/redundant pairs
	sensorsPerCage     int // the first cabinets of a cage carry a sensor
	assetsPerIBX       int // documented assets count towards it
	tagsPerAsset       int // cap for generated assets; 0 = all of the template's points
	updatesPerTick     int // tags, circuits and sensors each refreshed per tick, round robin
	simAlarms          int // alarms the simulation keeps active at most
	raiseChance        float64
	alarmHistory       int // alarms kept (active ones are never dropped)
}

var profiles = map[string]profile{
	"small": {zonesPerIBX: 2, cagesPerIBX: 5, cabinetsPerCage: 3, circuitsPerCabinet: 2, sensorsPerCage: 2,
		assetsPerIBX: 12, tagsPerAsset: 6, updatesPerTick: 1000, simAlarms: 3, raiseChance: 0.3, alarmHistory: 200},
	"large": {extraIBXs: 16, zonesPerIBX: 5, cagesPerIBX: 100, cabinetsPerCage: 10, circuitsPerCabinet: 4, sensorsPerCage: 5,
		assetsPerIBX: 500, updatesPerTick: 1000, simAlarms: 30, raiseChance: 0.5, alarmHistory: 5000},
	// xlarge is five times large: the same IBX, updated five times as much per tick, for the
	// scale curve small → large → xlarge (test/bench-scale.sh).
	"xlarge": {extraIBXs: 96, zonesPerIBX: 5, cagesPerIBX: 100, cabinetsPerCage: 10, circuitsPerCabinet: 4, sensorsPerCage: 5,
		assetsPerIBX: 500, updatesPerTick: 5000, simAlarms: 150, raiseChance: 0.5, alarmHistory: 25000},
}

// First numbers of generated ids, above every documented one.
const (
	firstCageID    = 300000
	firstCabinetID = 400000
	firstCircuitID = 30000000
)

type generator struct {
	f                         *footprint
	p                         profile
	rng                       *rand.Rand
	start                     int64 // epoch ms: initial reading time
	cages, cabinets, circuits int   // generated ids so far
}

type rating struct{ volts, amps, phases int }

var ratingsByRegion = map[string][]rating{
	"AMER": {{120, 20, 1}, {208, 20, 1}, {208, 30, 3}},
	"EMEA": {{230, 16, 1}, {230, 32, 1}, {400, 32, 3}},
	"APAC": {{230, 16, 1}, {230, 32, 1}, {415, 32, 3}},
}

// generate builds the footprint of a profile: the documented IBXs with their examples placed
// verbatim, filled out, then the profile's further IBXs. Same profile and seed, same footprint.
func generate(p profile, seed int64, start time.Time) *footprint {
	g := &generator{
		f: &footprint{
			ibxByCode: map[string]int32{}, zoneByLabel: map[string]int32{}, cageByName: map[string]int32{},
			cabinetByName: map[string]int32{}, circuitByID: map[string]int32{}, sensorByID: map[string]int32{},
			assetByID: map[string]int32{}, tagByID: map[string]int32{},
		},
		p: p, rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed_f007)), start: start.UnixMilli(),
	}
	for i := range documentedIBXs {
		g.addIBX(&documentedIBXs[i])
	}
	for _, code := range moreIBXs[:p.extraIBXs] {
		g.addIBX(&ibxSpec{code: code})
	}
	for i := range g.f.cages {
		g.randomComparison(&g.f.cages[i].power)
	}
	for i := range g.f.ibxs {
		g.randomComparison(&g.f.ibxs[i].power)
	}
	g.f.recomputeAll(g.start)
	return g.f
}

func (g *generator) addIBX(spec *ibxSpec) {
	f := g.f
	ii := int32(len(f.ibxs))
	m := metros[spec.code[:2]]
	region := m.region
	f.ibxs = append(f.ibxs, ibx{code: spec.code, metro: spec.code[:2], region: region, country: m.country})
	f.ibxByCode[spec.code] = ii

	zs := int32(len(f.zones))
	for _, z := range spec.zones {
		g.addZone(ii, z)
	}
	for n := len(spec.zones) + 1; len(f.zones)-int(zs) < g.p.zonesPerIBX; n++ {
		if label := fmt.Sprintf("%s:1:01:ColoArea:%d", spec.code, n); !g.isZone(label) {
			g.addZone(ii, label)
		}
	}
	f.ibxs[ii].zones = span{zs, int32(len(f.zones))}

	cs, ss := int32(len(f.cages)), int32(len(f.sensors))
	for _, c := range spec.cages {
		g.addCage(ii, c, region)
	}
	for k := 0; len(f.cages)-int(cs) < g.p.cagesPerIBX; k++ {
		zi := zs + int32(k%g.p.zonesPerIBX)
		label := fmt.Sprintf("%s:01:%06d", spec.code, 10000+10*k)
		if _, dup := f.cageByName[label]; !dup {
			g.addCage(ii, cageSpec{label: label, zone: f.zones[zi].label}, region)
		}
	}
	f.ibxs[ii].cages = span{cs, int32(len(f.cages))}
	f.ibxs[ii].sensors = span{ss, int32(len(f.sensors))}

	as := int32(len(f.assets))
	for i := range spec.assets {
		g.addAsset(ii, &spec.assets[i], false)
	}
	next := make(map[string]int)
	for k := 0; len(f.assets)-int(as) < g.p.assetsPerIBX; k++ {
		t := generatedMix[k%len(generatedMix)]
		id := ""
		for id == "" || g.isAsset(id) {
			next[t]++
			id = spec.code + "." + templates[templateByName[t]].prefix + strconv.Itoa(next[t])
		}
		g.addAsset(ii, &assetSpec{id: id, template: t}, true)
	}
	f.ibxs[ii].assets = span{as, int32(len(f.assets))}
	g.assignServed(ii)
}

// isZone and isAsset tell an index-0 map hit from a miss (index 0 is a real entry).
func (g *generator) isZone(label string) bool { _, ok := g.f.zoneByLabel[label]; return ok }
func (g *generator) isAsset(id string) bool   { _, ok := g.f.assetByID[id]; return ok }

func (g *generator) addZone(ii int32, label string) {
	g.f.zoneByLabel[label] = int32(len(g.f.zones))
	g.f.zones = append(g.f.zones, zone{label: label, ibx: ii})
}

func (g *generator) addCage(ii int32, spec cageSpec, region string) {
	f := g.f
	ci := int32(len(f.cages))
	id := orGenerated(spec.id, firstCageID, &g.cages)
	zi, ok := f.zoneByLabel[spec.zone]
	if !ok {
		panic("sandbox: documented cage " + spec.label + " names an unknown zone " + spec.zone)
	}
	f.cages = append(f.cages, cage{id: id, label: spec.label, ibx: ii, zone: zi})
	f.cageByName[spec.label], f.cageByName[id] = ci, ci
	f.zones[zi].cages = append(f.zones[zi].cages, ci)

	cabinets := spec.cabinets
	if cabinets == nil {
		for j := range g.p.cabinetsPerCage {
			cabinets = append(cabinets, cabinetSpec{label: fmt.Sprintf("%s:%02d%02d", spec.label, 1+j/10, 1+j%10)})
		}
	}
	cbs, ss := int32(len(f.cabinets)), int32(len(f.sensors))
	for j, cb := range cabinets {
		g.addCabinet(ci, cb, region)
		if j < g.p.sensorsPerCage {
			g.addSensor(int32(len(f.cabinets) - 1))
		}
	}
	f.cages[ci].cabinets = span{cbs, int32(len(f.cabinets))}
	f.cages[ci].sensors = span{ss, int32(len(f.sensors))}
}

func (g *generator) addCabinet(cg int32, spec cabinetSpec, region string) {
	f := g.f
	ci := int32(len(f.cabinets))
	id := orGenerated(spec.id, firstCabinetID, &g.cabinets)
	f.cabinets = append(f.cabinets, cabinet{id: id, label: spec.label, cage: cg})
	f.cabinetByName[spec.label], f.cabinetByName[id] = ci, ci

	circuits := spec.circuits
	if circuits == nil {
		rs := ratingsByRegion[region]
		r := rs[g.rng.IntN(len(rs))]
		for k := range g.p.circuitsPerCabinet {
			id := orGenerated("", firstCircuitID, &g.circuits)
			side := "Pri"
			if k%2 == 1 {
				side = "Red"
			}
			circuits = append(circuits, circuitSpec{id, fmt.Sprintf("%dV %dA %dPh %s (%s)", r.volts, r.amps, r.phases, side, id[len(id)-4:])})
		}
	}
	cs := int32(len(f.circuits))
	for _, c := range circuits {
		volts, amps, phases, redundant := parseCircuitLabel(c.label)
		f.circuitByID[c.id] = int32(len(f.circuits))
		f.circuits = append(f.circuits, circuit{id: c.id, label: c.label, cabinet: ci, volts: volts, amps: amps, phases: phases, redundant: redundant})
		f.circuits[len(f.circuits)-1].setLoad(minLoad+g.rng.Float64()*(0.7-minLoad), g.start)
	}
	f.cabinets[ci].circuits = span{cs, int32(len(f.circuits))}
	g.randomComparison(&f.cabinets[ci].power)
}

// randomComparison sets the percentage-point changes against yesterday, last week, month and
// quarter to something in ±3.
func (g *generator) randomComparison(p *powerReading) {
	for k := range p.comparison {
		p.comparison[k] = round(g.rng.Float64()*6-3, 3)
	}
}

// orGenerated returns id, or when it is empty the next generated one (first + n, n counting up).
func orGenerated(id string, first int, n *int) string {
	if id != "" {
		return id
	}
	*n++
	return strconv.Itoa(first + *n - 1)
}

// parseCircuitLabel reads "120V 20A 1Ph Red (3717)"; the labels are this package's constants.
func parseCircuitLabel(label string) (volts, amps float64, phases int, redundant bool) {
	fields := strings.Fields(label)
	if len(fields) < 4 {
		panic("sandbox: circuit label " + label)
	}
	volts, err1 := strconv.ParseFloat(strings.TrimSuffix(fields[0], "V"), 64)
	amps, err2 := strconv.ParseFloat(strings.TrimSuffix(fields[1], "A"), 64)
	phases, err3 := strconv.Atoi(strings.TrimSuffix(fields[2], "Ph"))
	if err1 != nil || err2 != nil || err3 != nil {
		panic("sandbox: circuit label " + label)
	}
	return volts, amps, phases, fields[3] == "Red"
}

func (g *generator) addSensor(cb int32) {
	f := g.f
	label := f.cabinets[cb].label
	ibxCode := f.ibxs[f.cages[f.cabinets[cb].cage].ibx].code
	id := ibxCode + ".Colo." + strings.ReplaceAll(label, ":", "_")
	f.sensorByID[id] = int32(len(f.sensors))
	s := sensor{id: id, cabinet: cb}
	s.climate.set(round(19+g.rng.Float64()*6, 1), round(35+g.rng.Float64()*20, 2), g.start)
	f.sensors = append(f.sensors, s)
}

const serialAlphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"

func (g *generator) addAsset(ii int32, spec *assetSpec, generated bool) {
	f := g.f
	ti, ok := templateByName[spec.template]
	if !ok {
		panic("sandbox: asset " + spec.id + " has unknown template " + spec.template)
	}
	t := &templates[ti]
	ai := int32(len(f.assets))
	a := asset{id: spec.id, ibx: ii, template: int16(ti), blank: spec.blank, maintenance: spec.maintenance, serial: spec.serial}
	if !spec.blank {
		day := time.UnixMilli(g.start).AddDate(0, 0, -1-g.rng.IntN(365))
		if a.maintenance == "" {
			a.maintenance = day.In(userTimeZone).Format(maintenanceLayout)
		}
		if a.serial == "" {
			b := make([]byte, 8)
			for i := range b {
				b[i] = serialAlphabet[g.rng.IntN(len(serialAlphabet))]
			}
			a.serial = string(b)
		}
	}
	switch {
	case spec.lastTriggered != "":
		a.lastTriggered, a.lastCleared = mustAssetTime(spec.lastTriggered), mustAssetTime(spec.lastCleared)
	case generated && g.rng.IntN(10) < 3:
		a.lastTriggered = g.start - int64(1+g.rng.IntN(365*24))*3_600_000
		a.lastCleared = a.lastTriggered + int64(1+g.rng.IntN(240))*60_000
	}
	for _, id := range spec.circuits {
		c, ok := f.circuitIndex(ii, id)
		if !ok {
			panic("sandbox: asset " + spec.id + " feeds unknown circuit " + id)
		}
		a.circuits = append(a.circuits, c)
	}

	ts := int32(len(f.tags))
	for k := range t.tags {
		tt := &t.tags[k]
		if spec.noTags || (spec.tags != nil && !slices.Contains(spec.tags, tt.name)) ||
			(generated && g.p.tagsPerAsset > 0 && int(int32(len(f.tags))-ts) >= g.p.tagsPerAsset) {
			continue
		}
		tg := tag{id: spec.id + ":" + tt.name, asset: ai, tmpl: tt, at: g.start}
		switch tt.kind {
		case analogTag:
			tg.value = round(tt.min+g.rng.Float64()*(tt.max-tt.min), tt.decimals)
		case alarmTag:
			tg.text = "NORMAL"
		default:
			tg.text = tt.text
		}
		if v, ok := spec.tagValues[tt.name]; ok {
			tg.at = mustReadingTime(v.readingTime)
			if tt.kind == analogTag {
				tg.value, _ = strconv.ParseFloat(v.value, 64)
			} else {
				tg.text = v.value
			}
		}
		f.tagByID[tg.id] = int32(len(f.tags))
		f.tags = append(f.tags, tg)
	}
	a.tags = span{ts, int32(len(f.tags))}
	f.assetByID[spec.id] = ai
	f.assets = append(f.assets, a)
}

// assignServed gives the IBX's assets what they serve, where the documentation does not say:
// generators and fire/cooling plants serve everything; the other assets of a template split the
// IBX's circuits (electrical) or cages (mechanical) into contiguous shares. The shares are
// sub-slices of one index slice per IBX, so a large profile holds no copies.
func (g *generator) assignServed(ii int32) {
	f := g.f
	ib := &f.ibxs[ii]
	circuits := make([]int32, 0, 64)
	for cg := ib.cages.start; cg < ib.cages.end; cg++ {
		for cb := f.cages[cg].cabinets.start; cb < f.cages[cg].cabinets.end; cb++ {
			for c := f.cabinets[cb].circuits.start; c < f.cabinets[cb].circuits.end; c++ {
				circuits = append(circuits, c)
			}
		}
	}
	cages := make([]int32, 0, ib.cages.len())
	for cg := ib.cages.start; cg < ib.cages.end; cg++ {
		cages = append(cages, cg)
	}
	byTemplate := make(map[int16][]int32)
	var order []int16
	for ai := ib.assets.start; ai < ib.assets.end; ai++ {
		a := &f.assets[ai]
		if a.circuits != nil {
			continue
		}
		if _, seen := byTemplate[a.template]; !seen {
			order = append(order, a.template)
		}
		byTemplate[a.template] = append(byTemplate[a.template], ai)
	}
	for _, ti := range order {
		members := byTemplate[ti]
		t := &templates[ti]
		all := cages
		if t.class == electrical {
			all = circuits
		}
		for k, ai := range members {
			share := all
			switch t.name {
			case "Generator", "Cooling Plant", "Fire Alarm":
			default:
				share = all[len(all)*k/len(members) : len(all)*(k+1)/len(members)]
			}
			if t.class == electrical {
				f.assets[ai].circuits = share
			} else {
				f.assets[ai].cages = share
			}
		}
	}
}
