package history

// The recorder: the model's change stream in, batches of samples out.

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"log/slog"
	"math"
	"strconv"
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

	// The newest sample recorded per series, kept only as far as the skip
	// of add needs it (the large profile has over a million series): its
	// source time and a fingerprint of its value and quality, 16 bytes a
	// series laid out by the structure st (no map, no growth by copying): a
	// location has a block of slots for its power fields in powSlots only
	// once it has had a power reading (powAt[i]: the block's number, 0 for
	// none), and likewise for its environment fields in envSlots
	// (most locations are circuits and cabinets, which never get an
	// environment reading; zones and sensors never get power); tags has one
	// slot per tag, health one per health field.
	st                 *model.Structure
	powAt, envAt       []int32
	powSlots, envSlots slotBlocks
	tags               []lastSample
	healthLast         []lastSample
	hash               maphash.Hash
	buf                []byte // AppendFloat's scratch for a number's text
	// The reading being recorded: addFields reads it through a pointer the
	// compiler cannot follow, so a local would be moved to the heap (an
	// allocation of some 400 bytes per location and cycle).
	pwRead  model.PowerSample
	envRead model.EnvironmentSample
	pending map[string][]Sample
	npend   int
	log     *slog.Logger
	// done is Run's ctx.Done(); stopped is set once it is closed, checked
	// after each batch written in the middle of recording a delta or the
	// whole footprint, so that a stop does not wait for the rest of it
	// (over a million samples on the large profile, hundreds of batches).
	done    <-chan struct{}
	stopped bool
}

// maxPending is the most samples the recorder writes in one transaction.
// bbolt holds a transaction's nodes (a copy of every page it changes, keys
// and values) until the commit: ~19 MB for 8,192 samples of a steady store,
// twice that for 16,384, which was the recorder's share of the heap's peak;
// halving it wrote as many pages and cost no more CPU a cycle
// (BENCHMARKS.md, pages14).
const maxPending = 8192

// lastSample is what the recorder keeps of the newest sample of a series.
type lastSample struct {
	t  int64  // source time, Unix ns (as the store keys samples); noSample: none yet
	fp uint64 // fingerprint of value and quality (fingerprint)
}

// noSample marks a series without a recorded sample.
const noSample = math.MinInt64

// fpSeed is the fingerprints' seed: a process's, as fingerprints live only in
// memory.
var fpSeed = maphash.MakeSeed()

// Run records until ctx is done, then writes what it holds. It returns
// nil on cancellation; a write that fails is logged and retried with the
// next flush (what is pending stays in memory, bounded).
//
// A stop is prompt: recording a large delta or the whole footprint stops
// after the batch being written (at most maxPending samples), and a prune
// stops between its transactions. What a stop leaves unrecorded is the
// rest of that delta (the readings of the current values cycle): the next
// start records every current value, and the backfill fills the gap from
// upstream's trending. Every batch is one bbolt transaction, so the file
// is consistent whenever the stop comes.
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
	r.begin()
	r.done, r.stopped = ctx.Done(), false
	snap, sub := r.Model.Subscribe()
	r.recordAll(snap)
	if r.stopped {
		r.flush(log)
		return nil
	}

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
	r.prune(ctx, log)
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
			if r.stopped {
				r.flush(log)
				return nil
			}
		case <-flush.C:
			r.flush(log)
			r.merge(ctx, log)
		case <-prune.C:
			r.prune(ctx, log)
		}
	}
}

// begin readies the recorder's state for a run: nothing recorded yet.
func (r *Recorder) begin() {
	r.st, r.powAt, r.envAt, r.tags = nil, nil, nil, nil
	r.powSlots, r.envSlots = slotBlocks{n: len(PowerFields)}, slotBlocks{n: len(EnvironmentFields)}
	r.healthLast = fill(make([]lastSample, len(HealthFields)))
	r.hash.SetSeed(fpSeed)
	r.pending = map[string][]Sample{}
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

// merge moves the store's log into its rows when it is due (log.go); a stop
// leaves the rest in the log, which is read through and merged by the next
// run.
func (r *Recorder) merge(ctx context.Context, log *slog.Logger) {
	if !r.Store.mergeDue() {
		return
	}
	if err := r.Store.Merge(ctx); err != nil {
		if ctx.Err() != nil {
			log.Info("history: merge stopped by the shutdown; the log is kept and read through")
			return
		}
		log.Warn("history: merge failed", "err", err)
	}
}

func (r *Recorder) prune(ctx context.Context, log *slog.Logger) {
	if n, err := r.Store.Prune(ctx); err != nil {
		if ctx.Err() != nil {
			log.Info("history: prune stopped by the shutdown; the next run goes on with it", "dropped", n)
			return
		}
		log.Warn("history: prune failed", "err", err)
	} else if n > 0 {
		log.Debug("history: pruned", "samples", n)
	}
}

// add records a sample of the series key() (a key of keys.go), whose newest
// recorded sample is *last, unless it is not newer than that one, or
// repeats its value and quality (storage on change: the value in force at
// any time is the last sample before it, which HistoryRead's bounds
// return). The key is made only for a sample that is recorded.
func (r *Recorder) add(last *lastSample, key func() string, smp Sample) {
	t := unixNano(smp.Time)
	if last.t != noSample && t <= last.t {
		return
	}
	fp, comparable := r.fingerprint(smp.Value, smp.Quality)
	if last.t != noSample && comparable && fp == last.fp {
		return
	}
	*last = lastSample{t, fp}
	k := key()
	r.pending[k] = append(r.pending[k], smp)
	r.npend++
	if r.npend >= maxPending {
		// Bounded batches: a start or a structure change records every
		// value of the footprint (over a million on the large profile).
		r.flush(r.log)
		select {
		case <-r.done:
			r.stopped = true // the loops of record and recordAll end here
		default:
		}
	}
}

// fingerprint hashes what model.Value.Equal compares, and the quality, so
// that two samples Equal in value and quality always have the same
// fingerprint, and two that differ have it with probability 2^-64 (then the
// second is not recorded). That is accepted: at 1.4 million series, every
// one changed every 30 s, it is one lost change in some ten million years,
// against 48 more bytes a series (a model.Value) in memory for an exact
// comparison.
// comparable is false for NaN, which Equal never takes for the same as
// anything: such a sample is never skipped as a repeat.
//
// Equal compares whether the values are numbers, their String() and their
// numbers. A number whose text is its formatting (no text, or the same
// text), the common case, is hashed by its bits alone without formatting
// it: String() is then the formatting, which tells every two float64s apart
// (-0 from 0 too), so two such values are Equal exactly when their bits are
// the same ("0" and "-0" texts stand for the zero they format). Any other
// number is hashed by its text and its number (-0 as 0, which Equal takes
// for the same); it is never Equal to one of the first kind.
func (r *Recorder) fingerprint(v model.Value, q model.Quality) (fp uint64, comparable bool) {
	h := &r.hash
	h.Reset()
	h.WriteByte(byte(q))
	if !v.IsNum {
		h.WriteByte(0)
		h.WriteString(v.Text)
		return h.Sum64(), true
	}
	n := v.Num
	if math.IsNaN(n) {
		return 0, false
	}
	bits := math.Float64bits(n)
	plain := v.Text == ""
	switch {
	case plain:
	case n == 0 && v.Text == "0":
		plain, bits = true, 0
	case n == 0 && v.Text == "-0":
		plain, bits = true, 1<<63
	case n != 0:
		r.buf = strconv.AppendFloat(r.buf[:0], n, 'f', -1, 64)
		plain = string(r.buf) == v.Text
	}
	var b [8]byte
	if plain {
		h.WriteByte(1)
		binary.LittleEndian.PutUint64(b[:], bits)
		h.Write(b[:])
		return h.Sum64(), true
	}
	if n == 0 {
		bits = 0 // -0 too
	}
	h.WriteByte(2)
	binary.LittleEndian.PutUint64(b[:], bits)
	h.Write(b[:])
	h.WriteString(v.Text)
	return h.Sum64(), true
}

// unixNano is t in Unix ns, clamped to what an int64 holds (years 1678 to
// 2262; the store keys samples by the same number).
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return noSample + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, noSample+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fill marks every slot of s as without a sample, and returns s.
func fill(s []lastSample) []lastSample {
	for i := range s {
		s[i] = lastSample{t: noSample}
	}
	return s
}

// layout lays the recorder's slots out for snap's structure, sized once: a
// location gets its blocks of slots for the kinds of reading it has had
// (the model keeps a cell per kind from the first reading on), and a
// location or tag the structure before shares with it keeps its slots
// (found by id), so a structure change records only what changed; one
// that left is forgotten (it is recorded afresh if it comes back, as after
// a restart). A location's first reading of a kind after this gets its
// block then (blocks). A structure whose locations (tags) are the old one's,
// in the same order, keeps their slots as they are: the links pass changes
// only what assets affect, and a second set of slots made beside the first
// was ~22 MB of the large profile's peak, at its rebuild.
func (r *Recorder) layout(snap *model.Snapshot) {
	st := snap.Structure()
	old := r.st
	if old == nil || !st.SameLocations(old) {
		r.layoutLocations(snap, old)
	}
	if old == nil || !st.SameTags(old) {
		tags := fill(make([]lastSample, len(st.Tags())))
		if old != nil {
			for i, tg := range st.Tags() {
				if j, ok := old.TagIndex(tg.ID); ok {
					tags[i] = r.tags[j]
				}
			}
		}
		r.tags = tags
	}
	r.st = st
}

// layoutLocations is layout's part for the locations; old is the structure
// of the current slots (nil: none).
func (r *Recorder) layoutLocations(snap *model.Snapshot, old *model.Structure) {
	st := snap.Structure()
	n := len(st.Locations())
	was := make([]int32, n) // index in old + 1; 0: none
	powAt, envAt := make([]int32, n), make([]int32, n)
	var np, ne int32
	for i, l := range st.Locations() {
		if old != nil {
			if j, ok := old.LocationIndex(l.ID); ok {
				was[i] = int32(j) + 1
			}
		}
		if snap.HasPower(i) || was[i] > 0 && r.powAt[was[i]-1] > 0 {
			np++
			powAt[i] = np
		}
		if snap.HasEnvironment(i) || was[i] > 0 && r.envAt[was[i]-1] > 0 {
			ne++
			envAt[i] = ne
		}
	}
	pow, env := newSlotBlocks(len(PowerFields), np), newSlotBlocks(len(EnvironmentFields), ne)
	for i, w := range was {
		if w == 0 {
			continue
		}
		if k := r.powAt[w-1]; k > 0 {
			copy(pow.block(powAt[i]), r.powSlots.block(k))
		}
		if k := r.envAt[w-1]; k > 0 {
			copy(env.block(envAt[i]), r.envSlots.block(k))
		}
	}
	r.powAt, r.envAt, r.powSlots, r.envSlots = powAt, envAt, pow, env
}

// slotBlocks holds blocks of n slots (a location's fields of one kind), by
// number from 1, in chunks of slotChunk blocks: a location's first reading
// of a kind adds its block at the end without moving the others. Grown by
// append, one slice of every block was ~15 % larger than its blocks on
// xlarge (103 MB for 88) and left a copy of itself as garbage at each growth.
type slotBlocks struct {
	n      int // slots a block
	chunks [][]lastSample
	count  int32 // blocks given
}

// slotChunk is the blocks of a chunk: 176 KB of power slots.
const slotChunk = 1024

// newSlotBlocks returns room for count blocks of n slots, given.
func newSlotBlocks(n int, count int32) slotBlocks {
	b := slotBlocks{n: n, chunks: make([][]lastSample, 0, (count+slotChunk-1)/slotChunk)}
	for b.count < count {
		b.add()
	}
	return b
}

// block returns block k (1-based).
func (b *slotBlocks) block(k int32) []lastSample {
	k--
	from := int(k%slotChunk) * b.n
	return b.chunks[k/slotChunk][from : from+b.n : from+b.n]
}

// add gives a new block, every slot without a sample, and returns its number.
func (b *slotBlocks) add() int32 {
	if b.count%slotChunk == 0 {
		b.chunks = append(b.chunks, fill(make([]lastSample, slotChunk*b.n)))
	}
	b.count++
	return b.count
}

// blocks returns location i's block in b, whose numbers are in at, giving
// it one if it has none.
func blocks(at []int32, b *slotBlocks, i int) []lastSample {
	if at[i] == 0 {
		at[i] = b.add()
	}
	return b.block(at[i])
}

// record adds what a delta changed.
func (r *Recorder) record(d *model.Delta) {
	snap := r.Model.Snapshot()
	if d.StructureChanged || d.Resync || d.Structure != snap.Structure() || snap.Structure() != r.st {
		r.recordAll(snap)
		return
	}
	st := snap.Structure()
	for _, i := range d.Power {
		if r.stopped {
			return
		}
		r.power(snap, st, int(i))
	}
	for _, i := range d.Environment {
		if r.stopped {
			return
		}
		r.env(snap, st, int(i))
	}
	for _, i := range d.Tags {
		if r.stopped {
			return
		}
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
	if st != r.st {
		r.layout(snap)
	}
	for i := range st.Locations() {
		if r.stopped {
			return
		}
		r.power(snap, st, i)
		r.env(snap, st, i)
	}
	for i := range st.Tags() {
		if r.stopped {
			return
		}
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
	r.pwRead = snap.Power(i)
	p := &r.pwRead
	if p.Quality == model.QualityUnavailable {
		return
	}
	slots := blocks(r.powAt, &r.powSlots, i)
	addFields(r, slots, st.Location(i).ID, PowerFields, &p.Power, sourceTime(p.Freshness, snap), p.Quality)
}

func (r *Recorder) env(snap *model.Snapshot, st *model.Structure, i int) {
	r.envRead = snap.Environment(i)
	e := &r.envRead
	if e.Quality == model.QualityUnavailable {
		return
	}
	slots := blocks(r.envAt, &r.envSlots, i)
	addFields(r, slots, st.Location(i).ID, EnvironmentFields, &e.Environment, sourceTime(e.Freshness, snap), e.Quality)
}

// addFields records each present field of a location's reading in that
// field's series (slots: their last samples, in the order of fields): power
// and environment readings are recorded alike. The location's key prefix is
// made once, and only when a field is recorded.
func addFields[T any](r *Recorder, slots []lastSample, loc model.LocationID, fields []Field[T], reading *T, t time.Time, q model.Quality) {
	var prefix string
	for i, f := range fields {
		if v := f.Get(reading); v.Present() {
			r.add(&slots[i], func() string {
				if prefix == "" {
					prefix = locationPrefix(loc)
				}
				return prefix + f.Name
			}, Sample{Time: t, Value: v, Quality: q})
		}
	}
}

func (r *Recorder) tag(snap *model.Snapshot, st *model.Structure, i int) {
	tg := snap.Tag(i)
	if tg.Quality == model.QualityUnavailable {
		return
	}
	id := st.Tag(i).ID
	r.add(&r.tags[i], func() string { return tagPrefix + id }, Sample{Time: sourceTime(tg.Freshness, snap), Value: tg.Value, Quality: tg.Quality})
}

func (r *Recorder) health(snap *model.Snapshot) {
	h := snap.Health()
	for i, f := range HealthFields {
		v, t := f.Get(&h)
		if t.IsZero() {
			t = snap.Time()
		}
		r.add(&r.healthLast[i], func() string { return healthPrefix + f.Name }, Sample{Time: t, Value: v, Quality: model.QualityGood})
	}
}
