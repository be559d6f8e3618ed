package model_test

// What the change stream keeps while every reading changes every cycle.

import (
	"runtime"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// BenchmarkStreamHeldLarge commits 20 values cycles of the large footprint
// (every power, environment and tag reading changed; one delta a cycle per
// IBX, as the poller commits them) and reports the live heap they leave
// held beyond the store after one cycle: the change stream's deltas and
// their index lists (the columns each cycle replaces are garbage). Run with
// -benchtime=1x.
func BenchmarkStreamHeldLarge(b *testing.B) {
	const cycles = 20
	for range b.N {
		now := time.Now()
		ms, err := modeltest.NewStore(modeltest.Large, now, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, now) })
		if err != nil {
			b.Fatal(err)
		}
		st := ms.Snapshot().Structure()
		cycle := func(tick int) {
			at := now.Add(time.Duration(tick) * time.Second)
			for _, ibx := range st.IBXs() {
				if _, err := ms.Update(func(tx *model.Tx) error { return fillIBX(tx, st, ibx, tick, at) }); err != nil {
					b.Fatal(err)
				}
			}
		}
		cycle(1)
		before := heapAfterGC()
		for tick := 2; tick <= cycles; tick++ {
			cycle(tick)
		}
		held := float64(heapAfterGC()) - float64(before)
		runtime.KeepAlive(ms)
		b.ReportMetric(held/1e6, "held-MB")
		ms.Close()
	}
}

// fillIBX sets every reading of one IBX for a tick.
func fillIBX(tx *model.Tx, st *model.Structure, ibx string, tick int, at time.Time) error {
	from, to := st.IBXLocations(ibx)
	for i := from; i < to; i++ {
		l := st.Location(i)
		v := modeltest.Reading(tick, i)
		if l.ID.Level != model.LevelZone && l.ID.Level != model.LevelSensor {
			if err := tx.SetPower(l.ID, model.Power{KVA: model.Number(v), ReadingTime: at}, time.Time{}); err != nil {
				return err
			}
		}
		if l.ID.Level != model.LevelCircuit {
			if err := tx.SetEnvironment(l.ID, model.Environment{Temperature: model.Number(v), ReadingTime: at}, time.Time{}); err != nil {
				return err
			}
		}
	}
	from, to = st.IBXTags(ibx)
	for i := from; i < to; i++ {
		if err := tx.SetTag(st.Tag(i).ID, model.TagReading{Value: model.Number(modeltest.Reading(tick, i)), ReadingTime: at}, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
