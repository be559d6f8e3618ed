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
	// the roll-up that last recomputed each aggregate, so a roll-up recomputes each once
	rollUps int64
	marks   struct{ cabinet, cage, zone, ibx []int64 }
}

func newSimulation(f *footprint, seed int64) simulation {
	sim := simulation{rng: rand.New(rand.NewPCG(uint64(seed), 0x51a7))}
	sim.marks.cabinet = make([]int64, len(f.cabinets))
	sim.marks.cage = make([]int64, len(f.cages))
	sim.marks.zone = make([]int64, len(f.zones))
	sim.marks.ibx = make([]int64, len(f.ibxs))
	return sim
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
	changed := make([]int32, 0, min(s.prof.updatesPerTick, len(f.circuits)))
	for range cap(changed) {
		ci := int32(sim.nextCircuit)
		sim.nextCircuit = (sim.nextCircuit + 1) % len(f.circuits)
		c := &f.circuits[ci]
		c.setLoad(drift(sim.rng, min(c.load, maxLoad), 0.03, minLoad, maxLoad), at)
		changed = append(changed, ci)
	}
	s.rollUpPower(changed, at, true)
}

func (s *Server) stepClimate(at int64) {
	f, sim := s.fp, &s.sim
	changed := make([]int32, 0, min(s.prof.updatesPerTick, len(f.sensors)))
	for range cap(changed) {
		si := int32(sim.nextSensor)
		sim.nextSensor = (sim.nextSensor + 1) % len(f.sensors)
		c := &f.sensors[si].climate
		c.set(round(drift(sim.rng, c.temp, 0.15, minTemp, maxTemp), 1), round(drift(sim.rng, c.hum, 0.4, minHum, maxHum), 2), at)
		changed = append(changed, si)
	}
	s.rollUpClimate(changed, at)
}

// rollUpPower publishes changed circuits and recomputes and publishes the cabinets, cages and
// IBXs above them, each once; a tick also drifts their comparison figures.
func (s *Server) rollUpPower(circuits []int32, at int64, tick bool) {
	f, sim := s.fp, &s.sim
	sim.rollUps++
	for _, ci := range circuits {
		s.emitPower(levelCircuit, ci)
	}
	update := func(level levelType, i int32, p *powerReading) {
		if tick {
			driftComparison(sim.rng, p)
		}
		s.emitPower(level, i)
	}
	cabinets := parents(circuits, func(ci int32) int32 { return f.circuits[ci].cabinet }, sim.marks.cabinet, sim.rollUps)
	for _, cb := range cabinets {
		f.sumCabinet(cb, at)
		update(levelCabinet, cb, &f.cabinets[cb].power)
	}
	cages := parents(cabinets, func(cb int32) int32 { return f.cabinets[cb].cage }, sim.marks.cage, sim.rollUps)
	for _, cg := range cages {
		f.sumCage(cg, at)
		update(levelCage, cg, &f.cages[cg].power)
	}
	for _, ii := range parents(cages, func(cg int32) int32 { return f.cages[cg].ibx }, sim.marks.ibx, sim.rollUps) {
		f.sumIBX(ii, at)
		update(levelIBX, ii, &f.ibxs[ii].power)
	}
}

// rollUpClimate publishes changed sensors and averages and publishes the cages, zones and IBXs
// above them, each once.
func (s *Server) rollUpClimate(sensors []int32, at int64) {
	f, sim := s.fp, &s.sim
	sim.rollUps++
	for _, si := range sensors {
		s.emitClimate(levelSensor, si)
	}
	cages := parents(sensors, func(si int32) int32 { return f.cabinets[f.sensors[si].cabinet].cage }, sim.marks.cage, sim.rollUps)
	for _, cg := range cages {
		f.averageCage(cg, at)
		s.emitClimate(levelCage, cg)
	}
	zones := parents(cages, func(cg int32) int32 { return f.cages[cg].zone }, sim.marks.zone, sim.rollUps)
	for _, z := range zones {
		f.averageZone(z, at)
		s.emitClimate(levelZone, z)
	}
	for _, ii := range parents(zones, func(z int32) int32 { return f.zones[z].ibx }, sim.marks.ibx, sim.rollUps) {
		f.averageIBX(ii, at)
		s.emitClimate(levelIBX, ii)
	}
}

// parents lists the parents of nodes, each once, in first-seen order; marks remembers the
// roll-up that last listed each parent.
func parents(nodes []int32, parent func(int32) int32, marks []int64, rollUp int64) []int32 {
	var out []int32
	for _, n := range nodes {
		if p := parent(n); marks[p] != rollUp {
			marks[p] = rollUp
			out = append(out, p)
		}
	}
	return out
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
