package sandbox

import "math/rand/v2"

// Power and environment readings: how a circuit's draw follows its load, how cabinets, cages and
// IBXs add up, and how temperatures and humidities average up from sensors. Consistent by
// construction: kva = primaryKva + redundantKva at every level, percentageKva = kva /
// contractualKva, a circuit's amps = kva / voltage (/ √3 for three phases).

// Each circuit may draw at most loadShare of its rating, so a cabinet whose primary and
// redundant sides are alike stays below its contract (contractFraction of the primary side).
const (
	loadShare        = 0.4
	contractFraction = 0.8
	minLoad, maxLoad = 0.2, 0.95
)

// setLoad sets a circuit's load and derives its draw; a load above 1 (up to the circuit's full
// rating) is for the admin API to drive a cabinet over its contract.
func (c *circuit) setLoad(load float64, at int64) {
	c.load = min(max(load, 0), 1/loadShare)
	c.kva = c.load * c.soldKva() * loadShare
	div := c.volts
	if c.phases == 3 {
		div *= sqrt3
	}
	c.current = c.kva * 1000 / div
	c.peakKva = max(c.peakKva, c.kva)
	c.at = at
}

// sumCabinet recomputes a cabinet from its circuits.
func (f *footprint) sumCabinet(i int32, at int64) {
	cb := &f.cabinets[i]
	p := powerReading{comparison: cb.power.comparison, peakKva: cb.power.peakKva, at: at}
	var primarySold float64
	for ci := cb.circuits.start; ci < cb.circuits.end; ci++ {
		c := &f.circuits[ci]
		sold := c.soldKva()
		p.kva += c.kva
		p.soldKva += sold
		if c.redundant {
			p.redundantKva += c.kva
		} else {
			p.primaryKva += c.kva
			primarySold += sold
		}
	}
	if primarySold == 0 {
		primarySold = p.soldKva / 2
	}
	p.contractualKva = contractFraction * primarySold
	p.peakKva = max(p.peakKva, p.kva)
	cb.power = p
}

// sumPower recomputes an aggregate from its parts' readings.
func sumPower(dst *powerReading, parts func(yield func(*powerReading) bool), at int64) {
	p := powerReading{comparison: dst.comparison, peakKva: dst.peakKva, at: at}
	for q := range parts {
		p.kva += q.kva
		p.primaryKva += q.primaryKva
		p.redundantKva += q.redundantKva
		p.soldKva += q.soldKva
		p.contractualKva += q.contractualKva
	}
	p.peakKva = max(p.peakKva, p.kva)
	*dst = p
}

func (f *footprint) sumCage(i int32, at int64) {
	cg := &f.cages[i]
	sumPower(&cg.power, func(yield func(*powerReading) bool) {
		for cb := cg.cabinets.start; cb < cg.cabinets.end && yield(&f.cabinets[cb].power); cb++ {
		}
	}, at)
}

func (f *footprint) sumIBX(i int32, at int64) {
	ib := &f.ibxs[i]
	sumPower(&ib.power, func(yield func(*powerReading) bool) {
		for cg := ib.cages.start; cg < ib.cages.end && yield(&f.cages[cg].power); cg++ {
		}
	}, at)
}

// averageClimate sets dst to the mean of parts (left as is when there are none).
func averageClimate(dst *climate, parts func(yield func(*climate) bool), at int64) {
	var t, h float64
	n := 0
	for c := range parts {
		t += c.temp
		h += c.hum
		n++
	}
	if n > 0 {
		dst.set(t/float64(n), h/float64(n), at)
	}
}

func (f *footprint) averageCage(i int32, at int64) {
	cg := &f.cages[i]
	averageClimate(&cg.climate, func(yield func(*climate) bool) {
		for s := cg.sensors.start; s < cg.sensors.end && yield(&f.sensors[s].climate); s++ {
		}
	}, at)
}

func (f *footprint) averageZone(i int32, at int64) {
	z := &f.zones[i]
	averageClimate(&z.climate, func(yield func(*climate) bool) {
		for _, cg := range z.cages {
			if f.cages[cg].sensors.len() > 0 && !yield(&f.cages[cg].climate) {
				return
			}
		}
	}, at)
}

func (f *footprint) averageIBX(i int32, at int64) {
	ib := &f.ibxs[i]
	averageClimate(&ib.climate, func(yield func(*climate) bool) {
		for z := ib.zones.start; z < ib.zones.end; z++ {
			if f.zones[z].climate.at != 0 && !yield(&f.zones[z].climate) {
				return
			}
		}
	}, at)
}

// recomputeAll derives every aggregate from circuits and sensors (after generation).
func (f *footprint) recomputeAll(at int64) {
	for i := range f.cabinets {
		f.sumCabinet(int32(i), at)
	}
	for i := range f.cages {
		f.sumCage(int32(i), at)
		f.averageCage(int32(i), at)
	}
	for i := range f.zones {
		f.averageZone(int32(i), at)
	}
	for i := range f.ibxs {
		f.sumIBX(int32(i), at)
		f.averageIBX(int32(i), at)
	}
}

// drift moves v by at most step, kept within [lo, hi].
func drift(rng *rand.Rand, v, step, lo, hi float64) float64 {
	return min(max(v+(rng.Float64()*2-1)*step, lo), hi)
}

// driftComparison nudges the comparison figures of a reading.
func driftComparison(rng *rand.Rand, p *powerReading) {
	for k := range p.comparison {
		p.comparison[k] = drift(rng, p.comparison[k], 0.05, -10, 10)
	}
}

const (
	minTemp, maxTemp = 16.0, 30.0
	minHum, maxHum   = 20.0, 70.0
)
