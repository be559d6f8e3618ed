package history

// The recorder: the model's change stream in, batches of samples out.

import (
	"context"
	"hash/maphash"
	"log/slog"
	"time"

	"github.com/svgateway/svgateway/model"
)

// Recorder appends every reading the model commits to a Store.
type Recorder struct {
	Store *Store
	Model *model.Store
	// FlushInterval bounds how long a sample waits in memory before it is
	// written (default 1 s: what a crash can lose).
	FlushInterval time.Duration
	// PruneInterval is how often retention and the size cap are applied
	// (default 1 minute).
	PruneInterval time.Duration
	Logger        *slog.Logger

	// last is the newest sample recorded per series (by a hash of its key:
	// the large profile has over a million series), so a reading is
	// recorded once however many deltas name its location, and only when
	// it differs from the one before.
	last    map[uint64]int32 // into lasts: a map of small slots, probed once per reading
	lasts   []lastSample
	hash    maphash.Hash
	pending map[string][]Sample
	npend   int
	log     *slog.Logger
}

const maxPending = 16384

type lastSample struct {
	t time.Time
	v model.Value
	q model.Quality
}

var keySeed = maphash.MakeSeed()

// Run records until ctx is done, then writes what it holds. It returns
// nil on cancellation; a write that fails is logged and retried with the
// next flush (what is pending stays in memory, bounded).
func (r *Recorder) Run(ctx context.Context) error {
	if r.FlushInterval <= 0 {
		r.FlushInterval = time.Second
	}
	if r.PruneInterval <= 0 {
		r.PruneInterval = time.Minute
	}
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r.log = log
	r.last = map[uint64]int32{}
	r.lasts = nil
	r.hash.SetSeed(keySeed)
	r.pending = map[string][]Sample{}
	snap, sub := r.Model.Subscribe()
	r.recordAll(snap)

	deltas := make(chan *model.Delta)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(deltas)
		for {
			d, err := sub.Next(subCtx)
			if err != nil {
				return
			}
			select {
			case deltas <- d:
			case <-subCtx.Done():
				return
			}
		}
	}()
	flush := time.NewTicker(r.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(r.PruneInterval)
	defer prune.Stop()
	r.flush(log)
	r.prune(log)
	for {
		select {
		case <-ctx.Done():
			r.flush(log)
			return nil
		case d, ok := <-deltas:
			if !ok {
				r.flush(log)
				return nil
			}
			r.record(d)
		case <-flush.C:
			r.flush(log)
		case <-prune.C:
			r.prune(log)
		}
	}
}

func (r *Recorder) flush(log *slog.Logger) {
	if r.npend == 0 {
		return
	}
	if err := r.Store.Append(r.pending); err != nil {
		log.Warn("history: samples not written, will retry", "samples", r.npend, "err", err)
		if r.npend > 8*maxPending { // do not grow without bound while the disk refuses
			log.Warn("history: pending samples dropped", "samples", r.npend)
			clear(r.pending)
			r.npend = 0
		}
		return
	}
	clear(r.pending)
	r.npend = 0
}

func (r *Recorder) prune(log *slog.Logger) {
	if n, err := r.Store.Prune(); err != nil {
		log.Warn("history: prune failed", "err", err)
	} else if n > 0 {
		log.Debug("history: pruned", "samples", n)
	}
}

// add records a sample of the series prefix+name (a key of keys.go) unless
// it is not newer than the last one recorded, or repeats its value and
// quality (storage on change: the value in force at any time is the last
// sample before it, which HistoryRead's bounds return). The key is hashed
// in its two parts and made only for a sample that is recorded.
func (r *Recorder) add(prefix, name string, smp Sample) {
	r.hash.Reset()
	r.hash.WriteString(prefix)
	r.hash.WriteString(name)
	h := r.hash.Sum64()
	i, ok := r.last[h]
	if ok {
		last := &r.lasts[i]
		if !smp.Time.After(last.t) || smp.Quality == last.q && smp.Value.Equal(last.v) {
			return
		}
		*last = lastSample{smp.Time, smp.Value, smp.Quality}
	} else {
		r.last[h] = int32(len(r.lasts))
		r.lasts = append(r.lasts, lastSample{smp.Time, smp.Value, smp.Quality})
	}
	key := prefix + name
	r.pending[key] = append(r.pending[key], smp)
	r.npend++
	if r.npend >= maxPending {
		// Bounded batches: a start or a structure change records every
		// value of the footprint (over a million on the large profile).
		r.flush(r.log)
	}
}

// record adds what a delta changed.
func (r *Recorder) record(d *model.Delta) {
	snap := r.Model.Snapshot()
	if d.StructureChanged || d.Resync || d.Structure != snap.Structure() {
		r.recordAll(snap)
		return
	}
	st := snap.Structure()
	for _, i := range d.Power {
		r.power(snap, st, int(i))
	}
	for _, i := range d.Environment {
		r.env(snap, st, int(i))
	}
	for _, i := range d.Tags {
		r.tag(snap, st, int(i))
	}
	if d.HealthChanged {
		r.health(snap)
	}
}

// recordAll adds every current value (at start, and when the structure
// changed): values already recorded are skipped by their source time.
func (r *Recorder) recordAll(snap *model.Snapshot) {
	st := snap.Structure()
	for i := range st.Locations() {
		r.power(snap, st, i)
		r.env(snap, st, i)
	}
	for i := range st.Tags() {
		r.tag(snap, st, i)
	}
	r.health(snap)
}

func sourceTime(f model.Freshness, snap *model.Snapshot) time.Time {
	if !f.Source.IsZero() {
		return f.Source
	}
	if !f.Confirmed.IsZero() {
		return f.Confirmed
	}
	return snap.Time()
}

func (r *Recorder) power(snap *model.Snapshot, st *model.Structure, i int) {
	p := snap.Power(i)
	if p.Quality == model.QualityUnavailable {
		return
	}
	addFields(r, locationPrefix(st.Location(i).ID), PowerFields, &p.Power, sourceTime(p.Freshness, snap), p.Quality)
}

func (r *Recorder) env(snap *model.Snapshot, st *model.Structure, i int) {
	e := snap.Environment(i)
	if e.Quality == model.QualityUnavailable {
		return
	}
	addFields(r, locationPrefix(st.Location(i).ID), EnvironmentFields, &e.Environment, sourceTime(e.Freshness, snap), e.Quality)
}

// addFields records each present field of a location's reading in that
// field's series: power and environment readings are recorded alike.
func addFields[T any](r *Recorder, prefix string, fields []Field[T], reading *T, t time.Time, q model.Quality) {
	for _, f := range fields {
		if v := f.Get(reading); v.Present() {
			r.add(prefix, f.Name, Sample{Time: t, Value: v, Quality: q})
		}
	}
}

func (r *Recorder) tag(snap *model.Snapshot, st *model.Structure, i int) {
	tg := snap.Tag(i)
	if tg.Quality == model.QualityUnavailable {
		return
	}
	r.add(tagPrefix, st.Tag(i).ID, Sample{Time: sourceTime(tg.Freshness, snap), Value: tg.Value, Quality: tg.Quality})
}

func (r *Recorder) health(snap *model.Snapshot) {
	h := snap.Health()
	for _, f := range HealthFields {
		v, t := f.Get(&h)
		if t.IsZero() {
			t = snap.Time()
		}
		r.add(healthPrefix, f.Name, Sample{Time: t, Value: v, Quality: model.QualityGood})
	}
}
