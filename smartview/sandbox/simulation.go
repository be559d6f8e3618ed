package sandbox

import (
	"math/rand/v2"
)

// The simulation. Each tick, under the write lock:
//   - the next updatesPerTick tags (round robin) get a new reading time, analog ones a drifted
//     value within their range;
//   - the next updatesPerTick circuits drift their load; their cabinets, cages and IBXs add up
//     again; likewise sensors, and the cages, zones and IBXs they average into;
//   - simulated alarms acknowledge and clear when their time comes, and with the profile's
//     chance a new one is raised on an asset's "alarm" point (at most simAlarms active).
//
// Every change is published as a feed event. The random stream is seeded from Config.Seed, so
// the same seed and the same number of steps give the same values.

type simulation struct {
	rng   *rand.Rand
	ticks int64
	// round-robin positions
	nextTag, nextCircuit, nextSensor int
	// the tick that last recomputed each aggregate, so a tick recomputes each once
	power, climate marks
}

type marks struct{ cabinet, cage, zone, ibx []int64 }

func newMarks(f *footprint) marks {
	return marks{make([]int64, len(f.cabinets)), make([]int64, len(f.cages)), make([]int64, len(f.zones)), make([]int64, len(f.ibxs))}
}

func newSimulation(f *footprint, seed int64) simulation {
	return simulation{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x51a7)),
		power:   newMarks(f),
		climate: newMarks(f),
	}
}

// Step advances the simulation by one tick now (Serve does it every Config.Tick).
func (s *Server) Step() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step(s.now().UnixMilli())
}

func (s *Server) step(at int64) {
	sim := &s.sim
	sim.ticks++
	s.stepTags(at)
	s.stepPower(at)
	s.stepClimate(at)
	s.stepAlarms(at)
}

// mark records that tick touched node i; it reports whether this is the first time.
func mark(ticks []int64, i int32, tick int64) bool {
	if ticks[i] == tick {
		return false
	}
	ticks[i] = tick
	return true
}

func (s *Server) stepTags(at int64) {
	f, sim := s.fp, &s.sim
	for range min(s.prof.updatesPerTick, len(f.tags)) {
		ti := int32(sim.nextTag)
		sim.nextTag = (sim.nextTag + 1) % len(f.tags)
		t := &f.tags[ti]
		if tt := t.tmpl; tt.kind == analogTag && tt.max > tt.min {
			t.value = round(drift(sim.rng, t.value, (tt.max-tt.min)*0.03, tt.min, tt.max), tt.decimals)
		}
		t.at = at
		s.emitTag(ti)
	}
}

func (s *Server) stepPower(at int64) {
	f, sim := s.fp, &s.sim
	var cabinets, cages, ibxs []int32
	for range min(s.prof.updatesPerTick, len(f.circuits)) {
		ci := int32(sim.nextCircuit)
		sim.nextCircuit = (sim.nextCircuit + 1) % len(f.circuits)
		c := &f.circuits[ci]
		c.setLoad(drift(sim.rng, min(c.load, maxLoad), 0.03, minLoad, maxLoad), at)
		s.emitPower(levelCircuit, ci)
		if mark(sim.power.cabinet, c.cabinet, sim.ticks) {
			cabinets = append(cabinets, c.cabinet)
		}
	}
	for _, cb := range cabinets {
		f.sumCabinet(cb, at)
		driftComparison(sim.rng, &f.cabinets[cb].power)
		s.emitPower(levelCabinet, cb)
		if cg := f.cabinets[cb].cage; mark(sim.power.cage, cg, sim.ticks) {
			cages = append(cages, cg)
		}
	}
	for _, cg := range cages {
		f.sumCage(cg, at)
		driftComparison(sim.rng, &f.cages[cg].power)
		s.emitPower(levelCage, cg)
		if ii := f.cages[cg].ibx; mark(sim.power.ibx, ii, sim.ticks) {
			ibxs = append(ibxs, ii)
		}
	}
	for _, ii := range ibxs {
		f.sumIBX(ii, at)
		driftComparison(sim.rng, &f.ibxs[ii].power)
		s.emitPower(levelIBX, ii)
	}
}

func (s *Server) stepClimate(at int64) {
	f, sim := s.fp, &s.sim
	var cages, zones, ibxs []int32
	for range min(s.prof.updatesPerTick, len(f.sensors)) {
		si := int32(sim.nextSensor)
		sim.nextSensor = (sim.nextSensor + 1) % len(f.sensors)
		c := &f.sensors[si].climate
		c.set(round(drift(sim.rng, c.temp, 0.15, minTemp, maxTemp), 1), round(drift(sim.rng, c.hum, 0.4, minHum, maxHum), 2), at)
		s.emitClimate(levelSensor, si)
		if cg := f.cabinets[f.sensors[si].cabinet].cage; mark(sim.climate.cage, cg, sim.ticks) {
			cages = append(cages, cg)
		}
	}
	for _, cg := range cages {
		f.averageCage(cg, at)
		s.emitClimate(levelCage, cg)
		if z := f.cages[cg].zone; mark(sim.climate.zone, z, sim.ticks) {
			zones = append(zones, z)
		}
	}
	for _, z := range zones {
		f.averageZone(z, at)
		s.emitClimate(levelZone, z)
		if ii := f.zones[z].ibx; mark(sim.climate.ibx, ii, sim.ticks) {
			ibxs = append(ibxs, ii)
		}
	}
	for _, ii := range ibxs {
		f.averageIBX(ii, at)
		s.emitClimate(levelIBX, ii)
	}
}

// Severities of simulated alarms, most of them Urgent as in the reference's examples.
var simulatedSeverities = []int{800, 800, 800, 600, 600, 400, 200}

func (s *Server) stepAlarms(at int64) {
	sim := &s.sim
	active := 0
	for _, a := range s.alarms.list {
		if a.pinned || !a.active {
			continue
		}
		if !a.ack && a.ackTick > 0 && sim.ticks >= a.ackTick {
			s.acknowledge(a, at)
		}
		if sim.ticks >= a.clearTick {
			s.clearAlarm(a, at)
			continue
		}
		active++
	}
	if active >= s.prof.simAlarms || sim.rng.Float64() >= s.prof.raiseChance {
		return
	}
	f := s.fp
	for range 8 { // a few tries to find an asset with an "alarm" point free of alarms
		as := &f.assets[sim.rng.IntN(len(f.assets))]
		ti, ok := f.tagByID[as.id+":alarm"]
		if !ok || f.tags[ti].activeAlarms > 0 {
			continue
		}
		a := s.raise(ti, "Alarm", simulatedSeverities[sim.rng.IntN(len(simulatedSeverities))], at, false)
		a.clearTick = sim.ticks + 4 + sim.rng.Int64N(16)
		if sim.rng.IntN(4) > 0 { // one in four clears unacknowledged, as CH3.STS-B1.A5 did
			a.ackTick = sim.ticks + 1 + sim.rng.Int64N(a.clearTick-sim.ticks-1)
		}
		return
	}
}
