package model

import (
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnknown is returned (wrapped) when a reading names a tag or asset the
// structure does not have, or a location that cannot be placed (see
// [Tx.Discover]). The reading is not applied; the next structure refresh
// may add it.
var ErrUnknown = errors.New("not in the model's structure")

// Options configure a Store.
type Options struct {
	// StaleAfter is how long a value stays good without upstream confirming
	// it (default 5 minutes).
	StaleAfter time.Duration
	// AlarmRetention is how long cleared alarms and alerts are remembered
	// (default 7 days).
	AlarmRetention time.Duration
	// LedgerPath is the alarm ledger file; empty keeps alarms in memory only.
	LedgerPath string
	// LedgerBackend, when set, replaces the file: the ledger is shared by a
	// cluster of gateways (LedgerPath is ignored). The store then starts
	// as a follower with an empty book (see Follow, AdoptLedger, Lead).
	LedgerBackend LedgerBackend
	// History is how many deltas the change stream keeps for subscribers
	// that fall behind (default 4096).
	History int
	// HistoryEntries bounds the index list entries (one a location, tag or
	// asset whose value changed) those deltas hold together: the oldest are
	// dropped first, so a subscriber further behind gets a Resync (default
	// 1,048,576 entries, 4 MiB: about 5 values cycles of the large sandbox
	// profile, where every reading changes every cycle).
	HistoryEntries int
	Logger         *slog.Logger
	// BeforeRebuild, when set, is called as a transaction starts rebuilding
	// the structure (a structure change, such as the links pass's or a
	// refresh's), under the writers' lock: it must return at once. From
	// then until the change has been taken up by every reader, the old and
	// the new structure are both alive: the gateway's peak of memory, which
	// the gateway bounds by collecting garbage more often meanwhile
	// (cmd/svgateway, heapWatcher).
	BeforeRebuild func()
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Store holds the current Snapshot and applies batches of updates to it.
type Store struct {
	opts   Options
	log    *slog.Logger
	mu     sync.Mutex // serializes writers
	cur    atomic.Pointer[Snapshot]
	stream *stream
	ledger *ledger
	// unplaced counts what upstream named that could not become a location.
	unplaced unplacedBook
	tx       Tx // reused between batches (its column writers keep their buffers)
	// floor is the committed bound of Tx.Age per kind (see ageFloor),
	// written under mu with each commit.
	floor [4]ageFloor
	// following: the alarm book is another node's (see Follow); changed
	// under mu, read by transactions.
	following atomic.Bool
}

// NewStore returns a Store with an empty structure, loading the alarm ledger
// from opts.LedgerPath if it exists. A ledger that cannot be read is an
// error: starting without it would repeat or lose alarm notifications.
func NewStore(opts Options) (*Store, error) {
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = 5 * time.Minute
	}
	if opts.AlarmRetention <= 0 {
		opts.AlarmRetention = 7 * 24 * time.Hour
	}
	if opts.History <= 0 {
		opts.History = 4096
	}
	if opts.HistoryEntries <= 0 {
		opts.HistoryEntries = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{opts: opts, log: opts.Logger, stream: newStream(opts.History, opts.HistoryEntries)}
	book := newAlarmBook()
	if opts.LedgerBackend != nil {
		s.ledger = newLedger("", s.log)
		s.ledger.backend = opts.LedgerBackend
		s.ledger.report = func(err error) { s.ReportPersist(LedgerComponent, err) }
		s.ledger.start()
		s.following.Store(true)
	} else if opts.LedgerPath != "" {
		s.ledger = newLedger(opts.LedgerPath, s.log)
		loaded, err := s.ledger.load(opts.Now())
		if err != nil {
			return nil, err
		}
		book = loaded
		s.ledger.report = func(err error) { s.ReportPersist(LedgerComponent, err) }
		s.ledger.start()
	}
	s.cur.Store(&Snapshot{structure: emptyStructure, book: book, taken: opts.Now(), now: opts.Now, staleAfter: opts.StaleAfter})
	return s, nil
}

// Snapshot returns the current snapshot.
func (s *Store) Snapshot() *Snapshot { return s.cur.Load() }

// StaleAfter returns the configured staleness limit.
func (s *Store) StaleAfter() time.Duration { return s.opts.StaleAfter }

// Update runs fn with a transaction on the current snapshot and, if fn
// returns nil, commits it: readers see the new snapshot from then on, and
// subscribers receive the delta. If fn returns an error nothing is applied.
// Update returns the committed delta, or nil when nothing a subscriber would
// care about changed (confirmation times may still have been refreshed).
// Writers are serialized; fn must not call Update.
func (s *Store) Update(fn func(tx *Tx) error) (*Delta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &s.tx
	tx.begin(s, s.cur.Load())
	if err := fn(tx); err != nil {
		tx.end()
		return nil, err
	}
	tx.placePending()
	snap, delta := tx.commit()
	s.floor = tx.floor
	bookChanged := snap.book != tx.base.book
	unplaced, discovered := tx.unplaced, tx.discovered
	tx.end()
	s.recordPlaces(unplaced, discovered)
	s.cur.Store(snap)
	if delta != nil {
		s.stream.append(delta)
	}
	if s.ledger != nil && bookChanged && !s.following.Load() {
		s.ledger.save(snap.book)
	}
	return delta, nil
}

// ReportPersist records the outcome of a save of component (see
// Tx.SetPersist) in the model's health.
func (s *Store) ReportPersist(component string, err error) {
	_, _ = s.Update(func(tx *Tx) error { tx.SetPersist(component, err); return nil })
}

// Durable returns the transition sequence number up to which the alarm
// book is on disk, and a channel closed at the next attempt to write it
// (or when persist health may have changed). Without a ledger everything
// committed counts as durable and the channel is nil. A notification must
// not leave the gateway before the transition it reports is durable: its
// alarm id would otherwise be given again after a crash.
func (s *Store) Durable() (uint64, <-chan struct{}) {
	if s.ledger == nil {
		return s.Snapshot().TransitionSeq(), nil
	}
	return s.ledger.durableSeq()
}

// Close writes the alarm ledger if it has unsaved changes and stops its
// writer. The Store must not be updated afterwards.
func (s *Store) Close() error {
	if s.ledger == nil {
		return nil
	}
	return s.ledger.close()
}

// Tx is a batch of updates being applied to a snapshot. It is only valid
// inside the function passed to Store.Update.
type Tx struct {
	s    *Store
	base *Snapshot
	now  time.Time

	structure        *Structure
	structureChanged bool
	power            sparseWriter[powerCell]
	env              sparseWriter[envCell]
	tags             columnWriter[tagCell]
	assets           columnWriter[assetCell]
	dirty            [4]dirtySet // power, env, tags, assets
	floor            [4]ageFloor // power, env, tags, assets: see ageFloor

	bookCopy    *alarmBook
	health      Health
	healthDirty bool

	delta Delta
	stats TxStats

	// Locations discovered in this batch and not yet in the structure, the
	// readings waiting for them, what could not be placed, and what was
	// discovered (for the log).
	pending      []Location
	pendingIndex map[LocationID]bool
	waiting      []func()
	unplaced     []unplacedRef
	discovered   []Location
	discovering  LocationID // the last location given to Discover
	located      located    // the last location a lookup found (see locate)
}

// located is a location's index in a structure (a Structure never changes).
type located struct {
	in *Structure
	id LocationID
	i  int32
}

// locate returns id's index in the transaction's structure, as
// Structure.locationIndex does. A reading's location is looked up twice in a
// row (Discover, then SetPower or SetEnvironment): the second lookup is
// answered by the first while the structure is the same one. And a list
// whose readings come in the structure's order (by level and name: the
// sandbox's power lists do) finds each next to the last, one comparison
// instead of the index's hash and probe, which were ~40 % of a values
// cycle's apply (their cache misses, mostly); a list in another order costs
// that comparison more.
func (tx *Tx) locate(id LocationID) (int32, bool) {
	if l := &tx.located; l.in == tx.structure && l.in != nil {
		if l.id == id {
			return l.i, true
		}
		// The locations are sorted and unique: the one after the last found,
		// if it is id, is the index's answer too.
		if j := l.i + 1; int(j) < len(l.in.locations) && l.in.locations[j].ID == id {
			l.id, l.i = id, j
			return j, true
		}
	}
	i, ok := tx.structure.locationIndex(id)
	if ok {
		tx.located = located{in: tx.structure, id: id, i: i}
	}
	return i, ok
}

// TxStats counts what a batch did with the readings it was given.
type TxStats struct {
	Applied   int // readings that changed a value (or its quality)
	Confirmed int // readings equal to what the model had: only confirmed
	Older     int // readings older than the model's: ignored (newest wins)
}

// dirtySet collects the indexes of what a transaction changed. Its list is
// a buffer kept from batch to batch: the delta gets a copy of its exact
// length (the change stream keeps deltas, so append's slack would be kept
// with them).
type dirtySet struct {
	bits []uint64
	list []int32
}

func (d *dirtySet) reset(n int) {
	words := (n + 63) / 64
	if cap(d.bits) < words {
		d.bits = make([]uint64, words)
	} else {
		d.bits = d.bits[:words]
		clear(d.bits)
	}
	d.list = d.list[:0]
}

// changed returns a copy of the list, nil when empty.
func (d *dirtySet) changed() []int32 {
	if len(d.list) == 0 {
		return nil
	}
	out := make([]int32, len(d.list))
	copy(out, d.list)
	return out
}

func (d *dirtySet) add(i int) {
	if d.bits[i>>6]&(1<<(i&63)) == 0 {
		d.bits[i>>6] |= 1 << (i & 63)
		d.list = append(d.list, int32(i))
	}
}

const (
	dirtyPower = iota
	dirtyEnv
	dirtyTags
	dirtyAssets
)

func (tx *Tx) begin(s *Store, base *Snapshot) {
	tx.s, tx.base, tx.now = s, base, s.opts.Now()
	tx.structure, tx.structureChanged = base.structure, false
	tx.power.begin(base.power)
	tx.env.begin(base.env)
	tx.tags.begin(base.tags)
	tx.assets.begin(base.assets)
	tx.resetDirty()
	tx.floor = s.floor
	tx.bookCopy = nil
	tx.health, tx.healthDirty = base.health, false
	tx.delta = Delta{}
	tx.stats = TxStats{}
	tx.pending, tx.pendingIndex, tx.waiting, tx.unplaced, tx.discovered = tx.pending[:0], nil, nil, nil, nil
	tx.discovering = LocationID{}
}

// end drops references to snapshots so they can be collected.
func (tx *Tx) end() {
	tx.base, tx.structure, tx.bookCopy, tx.located = nil, nil, nil, located{} // the kept Tx holds no structure
	tx.pending, tx.pendingIndex, tx.waiting, tx.unplaced, tx.discovered = tx.pending[:0], nil, nil, nil, nil
	tx.power.begin(sparse[powerCell]{})
	tx.env.begin(sparse[envCell]{})
	tx.tags.col, tx.assets.col = column[tagCell]{}, column[assetCell]{}
	tx.delta = Delta{}
}

func (tx *Tx) resetDirty() {
	nl, nt, na := len(tx.structure.locations), len(tx.structure.tags), len(tx.structure.assets)
	tx.dirty[dirtyPower].reset(nl)
	tx.dirty[dirtyEnv].reset(nl)
	tx.dirty[dirtyTags].reset(nt)
	tx.dirty[dirtyAssets].reset(na)
}

// Now is the transaction's clock reading, used as the default confirmation time.
func (tx *Tx) Now() time.Time { return tx.now }

// Structure is the structure as of this point of the transaction,
// including the locations discovered so far.
func (tx *Tx) Structure() *Structure {
	tx.placePending()
	return tx.structure
}

// Stats reports what the transaction has done with readings so far.
func (tx *Tx) Stats() TxStats { return tx.stats }

// currentBook returns the alarm book as the transaction sees it, for
// reading only: the base's until something is written.
func (tx *Tx) currentBook() *alarmBook {
	if tx.bookCopy != nil {
		return tx.bookCopy
	}
	return tx.base.book
}

func (tx *Tx) book() *alarmBook {
	if tx.bookCopy == nil {
		tx.bookCopy = tx.base.book.clone()
	}
	return tx.bookCopy
}

func (tx *Tx) commit() (*Snapshot, *Delta) {
	snap := &Snapshot{
		seq: tx.base.seq, structure: tx.structure,
		power: tx.power.version(), env: tx.env.version(), tags: tx.tags.col, assets: tx.assets.col,
		book: tx.base.book, health: tx.health, taken: tx.now,
		now: tx.s.opts.Now, staleAfter: tx.s.opts.StaleAfter,
	}
	if tx.bookCopy != nil {
		snap.book = tx.bookCopy
	}
	d := &tx.delta
	d.Structure = tx.structure
	d.StructureChanged = tx.structureChanged
	d.HealthChanged = tx.healthDirty
	if !tx.structureChanged {
		d.Power = tx.dirty[dirtyPower].changed()
		d.Environment = tx.dirty[dirtyEnv].changed()
		d.Tags = tx.dirty[dirtyTags].changed()
		d.Assets = tx.dirty[dirtyAssets].changed()
	}
	if !d.StructureChanged && !d.HealthChanged && len(d.Power)+len(d.Environment)+len(d.Tags)+len(d.Assets)+len(d.Alarms)+len(d.Alerts) == 0 {
		return snap, nil
	}
	delta := *d
	delta.Seq = tx.s.stream.nextSeq()
	snap.seq = delta.Seq
	return snap, &delta
}

// SetStructure replaces the structure of the given IBXs (others are kept).
// Values of locations, assets and tags that still exist are kept; those of
// removed ones are dropped. Locations discovered earlier (see [Tx.Discover])
// are kept unless the new structure lists them, which replaces them in
// place; locations that assets affect and nothing lists are discovered. If
// nothing differs from what the model has, it is a no-op and no index
// anywhere is rebuilt. The returned warnings say what had to be fixed in the
// input (see [IBXStructure]); they are not fatal. The model keeps slices of
// parts (such as Asset.Affects): do not modify them afterwards.
func (tx *Tx) SetStructure(parts map[string]IBXStructure) (warnings []string) {
	tx.placePending()
	next := make(map[string]*IBXStructure, len(tx.structure.parts)+len(parts))
	for ibx, p := range tx.structure.parts {
		next[ibx] = p
	}
	changed := false
	for ibx, p := range parts {
		var kept []Location
		if old := next[ibx]; old != nil {
			kept = discoveredOf(old)
		}
		n, w := normalizeIBX(ibx, p, kept, tx.Unplaceable)
		warnings = append(warnings, w...)
		if old, ok := next[ibx]; ok && equalIBX(old, n) {
			continue
		}
		next[ibx] = n
		changed = true
		for _, l := range n.Locations {
			if _, known := tx.structure.locationIndex(l.ID); !known && l.Discovered != OriginHierarchy {
				tx.discovered = append(tx.discovered, l)
			}
		}
	}
	if changed {
		tx.rebuild(next)
	}
	return warnings
}

// RemoveIBX removes an IBX and everything in it from the structure.
func (tx *Tx) RemoveIBX(ibx string) {
	tx.placePending()
	if _, ok := tx.structure.parts[ibx]; !ok {
		return
	}
	next := make(map[string]*IBXStructure, len(tx.structure.parts))
	for k, p := range tx.structure.parts {
		if k != ibx {
			next[k] = p
		}
	}
	tx.rebuild(next)
}

// rebuild makes the structure of parts the transaction's, moving each value
// to its element's new index. A kind whose elements are the old structure's,
// in the same order, keeps its column as it is: the links pass's rebuild
// changes what assets affect, and as a rule no location, tag or asset, and a
// column remapped there was a second copy of every reading, alive beside the
// first at the rebuild's peak of memory (BenchmarkSetLinks).
func (tx *Tx) rebuild(parts map[string]*IBXStructure) {
	if f := tx.s.opts.BeforeRebuild; f != nil {
		f()
	}
	old := tx.structure
	st := buildStructure(old.gen+1, parts, old)
	if !st.SameLocations(old) {
		remapSparse(&tx.power, len(st.locations), func(i int) (int, bool) { return old.LocationIndex(st.locations[i].ID) })
		remapSparse(&tx.env, len(st.locations), func(i int) (int, bool) { return old.LocationIndex(st.locations[i].ID) })
	}
	if !st.SameTags(old) {
		remap(&tx.tags, len(st.tags), func(i int) (int, bool) { return old.TagIndex(st.tags[i].ID) })
	}
	if !st.SameAssets(old) {
		remap(&tx.assets, len(st.assets), func(i int) (int, bool) { return old.AssetIndex(st.assets[i].ID) })
	}
	tx.structure, tx.structureChanged = st, true
	tx.resetDirty()
}

// remap replaces w's column by one of n elements, element i taking the value
// of the old element oldIndex(i) reports.
func remap[T any](w *columnWriter[T], n int, oldIndex func(int) (int, bool)) {
	oldCol := w.col
	w.fresh(newColumn[T](n))
	for i := 0; i < n; i++ {
		if j, ok := oldIndex(i); ok {
			*w.get(i) = *oldCol.at(j)
		}
	}
}

// remapSparse is remap for a sparse column: the new version gives a cell
// only to the elements whose old element had one, in element order, so the
// cells of removed elements are dropped.
func remapSparse[T any](w *sparseWriter[T], n int, oldIndex func(int) (int, bool)) {
	old := w.version()
	w.slot.fresh(newColumn[int32](n))
	w.cells.fresh(column[T]{})
	for i := 0; i < n; i++ {
		if j, ok := oldIndex(i); ok {
			if c := old.at(j); c != nil {
				*w.set(i) = *c
			}
		}
	}
}

// SetPower records the power reading of a location (newest wins by
// p.ReadingTime). confirmed is when upstream delivered it (zero: now). A
// location the model does not have is discovered (see [Tx.Discover]); one
// that cannot be placed is an ErrUnknown.
func (tx *Tx) SetPower(id LocationID, p Power, confirmed time.Time) error {
	i, ok := tx.locate(id)
	if !ok {
		return tx.setPowerDiscovered(id, p, confirmed)
	}
	setCell(tx, &tx.power, dirtyPower, int(i), p.ReadingTime, confirmed,
		func(c *powerCell) (*Freshness, bool) { return &c.f, c.equal(&p) }, func(c *powerCell) { c.store(&p) })
	return nil
}

// SetEnvironment records the environment reading of a location; like
// SetPower, it discovers a location the model does not have.
func (tx *Tx) SetEnvironment(id LocationID, e Environment, confirmed time.Time) error {
	i, ok := tx.locate(id)
	if !ok {
		return tx.setEnvironmentDiscovered(id, e, confirmed)
	}
	setCell(tx, &tx.env, dirtyEnv, int(i), e.ReadingTime, confirmed,
		func(c *envCell) (*Freshness, bool) { return &c.f, c.v.equal(&e) }, func(c *envCell) { c.v = e })
	return nil
}

// setPowerDiscovered and setEnvironmentDiscovered set a reading once its
// location is discovered. They are apart from SetPower and SetEnvironment
// because the closure that waits for the discovery captures the reading:
// in the setter itself, that moved every reading to the heap, a ~380-byte
// allocation per power reading (~37 MB a values cycle of the large profile).
func (tx *Tx) setPowerDiscovered(id LocationID, p Power, confirmed time.Time) error {
	if !tx.discoverFor(id) {
		return errorf("power for %s: %w", id, ErrUnknown)
	}
	tx.await(func() { tx.SetPower(id, p, confirmed) })
	return nil
}

func (tx *Tx) setEnvironmentDiscovered(id LocationID, e Environment, confirmed time.Time) error {
	if !tx.discoverFor(id) {
		return errorf("environment for %s: %w", id, ErrUnknown)
	}
	tx.await(func() { tx.SetEnvironment(id, e, confirmed) })
	return nil
}

// EnvironmentAt returns the environment reading recorded at id as this
// transaction sees it (false: id has none). A feed that sends temperature
// and humidity in separate messages merges each into it.
func (tx *Tx) EnvironmentAt(id LocationID) (Environment, bool) {
	i, ok := tx.locate(id)
	if !ok {
		return Environment{}, false
	}
	return tx.env.get(int(i)).v, true
}

// SetTag records the reading of a tag point.
func (tx *Tx) SetTag(tagID string, r TagReading, confirmed time.Time) error {
	i, ok := tx.structure.tagIndexOf(tagID)
	if !ok {
		return errorf("tag %q: %w", tagID, ErrUnknown)
	}
	setCell(tx, &tx.tags, dirtyTags, int(i), r.ReadingTime, confirmed,
		func(c *tagCell) (*Freshness, bool) { return &c.f, c.v.equal(&r) }, func(c *tagCell) { c.v = r })
	return nil
}

// SetAsset records the state of an asset.
func (tx *Tx) SetAsset(assetID string, st AssetState, confirmed time.Time) error {
	i, ok := tx.structure.assetIndexOf(assetID)
	if !ok {
		return errorf("asset %q: %w", assetID, ErrUnknown)
	}
	setCell(tx, &tx.assets, dirtyAssets, int(i), st.ReadingTime, confirmed,
		func(c *assetCell) (*Freshness, bool) { return &c.f, c.v.equal(&st) }, func(c *assetCell) { c.v = st })
	return nil
}

// setCell applies newest-wins to cell i of w. source is the reading's own
// time (zero: the confirmation time); confirmed is when upstream delivered it
// (zero: now). inspect returns the cell's freshness and whether the incoming
// value equals the stored one; write stores the incoming value. A reading
// older than the stored one is ignored without copying anything; an equal one
// only refreshes the confirmation time (and clears a stale mark).
func setCell[T any](tx *Tx, w cellWriter[T], kind, i int, source, confirmed time.Time,
	inspect func(*T) (*Freshness, bool), write func(*T)) {
	if confirmed.IsZero() {
		confirmed = tx.now
	}
	if source.IsZero() {
		source = confirmed
	}
	f, equal := inspect(w.get(i))
	if !f.Source.IsZero() && source.Before(f.Source) {
		tx.stats.Older++
		return
	}
	changed := f.Confirmed.IsZero() || !equal || !source.Equal(f.Source) || f.stale
	c := w.set(i)
	f, _ = inspect(c)
	if changed {
		write(c)
		tx.stats.Applied++
		tx.dirty[kind].add(i)
	} else {
		tx.stats.Confirmed++
	}
	f.Source, f.Confirmed, f.stale = source, confirmed, false
	tx.floor[kind].lower(confirmed)
}

// Kinds selects groups of readings for MarkStale.
type Kinds uint8

// Reading kinds.
const (
	KindPower Kinds = 1 << iota
	KindEnvironment
	KindTags
	KindAssets
	KindAll = KindPower | KindEnvironment | KindTags | KindAssets
)

// MarkStale marks the readings of the given kinds in an IBX stale — the call
// that should have refreshed them failed. Values are kept (last usable).
func (tx *Tx) MarkStale(ibx string, kinds Kinds) {
	tx.placePending()
	st := tx.structure
	lf, lt := st.IBXLocations(ibx)
	if kinds&KindPower != 0 {
		markStale(tx, &tx.power, dirtyPower, lf, lt, func(c *powerCell) *Freshness { return &c.f })
	}
	if kinds&KindEnvironment != 0 {
		markStale(tx, &tx.env, dirtyEnv, lf, lt, func(c *envCell) *Freshness { return &c.f })
	}
	if kinds&KindTags != 0 {
		f, t := st.IBXTags(ibx)
		markStale(tx, &tx.tags, dirtyTags, f, t, func(c *tagCell) *Freshness { return &c.f })
	}
	if kinds&KindAssets != 0 {
		f, t := st.IBXAssets(ibx)
		markStale(tx, &tx.assets, dirtyAssets, f, t, func(c *assetCell) *Freshness { return &c.f })
	}
}

// Age marks stale every value upstream has not confirmed within StaleAfter,
// and forgets cleared alarms past the retention. The sync calls it each cycle
// and its watchdog every second; a kind whose floor shows that nothing was
// confirmed before the cutoff is not scanned (see ageFloor).
func (tx *Tx) Age() {
	tx.placePending()
	cutoff := tx.now.Add(-tx.s.opts.StaleAfter)
	if tx.floor[dirtyPower].below(cutoff) {
		ageSparse(tx, &tx.power, dirtyPower, cutoff, func(c *powerCell) *Freshness { return &c.f })
	}
	if tx.floor[dirtyEnv].below(cutoff) {
		ageSparse(tx, &tx.env, dirtyEnv, cutoff, func(c *envCell) *Freshness { return &c.f })
	}
	if tx.floor[dirtyTags].below(cutoff) {
		ageColumn(tx, &tx.tags, dirtyTags, len(tx.structure.tags), cutoff, func(c *tagCell) *Freshness { return &c.f })
	}
	if tx.floor[dirtyAssets].below(cutoff) {
		ageColumn(tx, &tx.assets, dirtyAssets, len(tx.structure.assets), cutoff, func(c *assetCell) *Freshness { return &c.f })
	}
	tx.pruneAlarms()
}

// ageFloor is a lower bound on the confirmation times of one kind's cells
// that have a value and are not stale: no such cell was confirmed before t
// (none exists while set is false). Only setCell gives a cell a confirmation
// time (it lowers the floor to it); marking a cell stale, dropping cells and
// copying them to a new structure can only raise the true minimum, so the
// bound stays true without being touched. A scan by Age sets it to the exact
// minimum of what it leaves fresh. With it, Age scans a kind only when some
// value may really have gone stale, instead of every cell every second.
// Confirmation times all come from the same clock (the store's or the
// poll's time.Now), so comparing them is transitive and the bound decides
// exactly as a scan of every cell would.
type ageFloor struct {
	t   time.Time
	set bool
}

// lower makes the floor at most t.
func (f *ageFloor) lower(t time.Time) {
	if !f.set || t.Before(f.t) {
		f.t, f.set = t, true
	}
}

// below reports whether a cell may have been confirmed before cutoff.
func (f *ageFloor) below(cutoff time.Time) bool { return f.set && f.t.Before(cutoff) }

// ageColumn marks stale the cells [0, n) of w confirmed before cutoff, and
// sets the kind's floor to the earliest confirmation left fresh. It reads the
// column's chunks directly: every cell is looked at, and the writer copies a
// chunk only when one of its cells is marked.
func ageColumn[T any](tx *Tx, w *columnWriter[T], kind, n int, cutoff time.Time, fresh func(*T) *Freshness) {
	var floor ageFloor
	for k, chunk := range w.col.chunks {
		base := k << chunkBits
		m := min(chunkSize, n-base)
		for j := 0; j < m; j++ {
			f := fresh(&chunk[j])
			if f.Confirmed.IsZero() || f.stale {
				continue
			}
			if !f.Confirmed.Before(cutoff) {
				floor.lower(f.Confirmed)
				continue
			}
			fresh(w.set(base + j)).stale = true
			tx.dirty[kind].add(base + j)
		}
	}
	tx.floor[kind] = floor
}

// ageSparse is ageColumn for a sparse column: it scans the cells (only the
// elements that ever had a reading have one), and for a cell to mark finds
// its element through the slots.
func ageSparse[T any](tx *Tx, w *sparseWriter[T], kind int, cutoff time.Time, fresh func(*T) *Freshness) {
	var floor ageFloor
	var mark []int32 // cell indexes to mark
	for k, chunk := range w.cells.col.chunks {
		base := k << chunkBits
		m := min(chunkSize, w.cells.col.n-base)
		for j := 0; j < m; j++ {
			f := fresh(&chunk[j])
			if f.Confirmed.IsZero() || f.stale {
				continue
			}
			if !f.Confirmed.Before(cutoff) {
				floor.lower(f.Confirmed)
				continue
			}
			mark = append(mark, int32(base+j))
		}
	}
	if len(mark) > 0 {
		// Elements in index order, as a scan of the elements marks them.
		slots := w.slot.col
		for i := 0; i < slots.n; i++ {
			c := *slots.at(i)
			if c == 0 {
				continue
			}
			if _, ok := slices.BinarySearch(mark, c-1); ok {
				fresh(w.cells.set(int(c - 1))).stale = true
				tx.dirty[kind].add(i)
			}
		}
	}
	tx.floor[kind] = floor
}

// markStale marks cells [from, to) stale: all that have a value (MarkStale).
func markStale[T any](tx *Tx, w cellWriter[T], kind, from, to int, fresh func(*T) *Freshness) {
	for i := from; i < to; i++ {
		f := fresh(w.get(i))
		if f.Confirmed.IsZero() || f.stale {
			continue
		}
		fresh(w.set(i)).stale = true
		tx.dirty[kind].add(i)
	}
}

// SetUpstream records the state of the REST connection. errText must be safe
// to show (no secrets). A change of state is a health change: subscribers
// re-evaluate the quality of every value.
func (tx *Tx) SetUpstream(state UpstreamState, errText string) {
	if state != tx.health.Upstream {
		tx.health.Upstream, tx.health.UpstreamSince = state, tx.now
		tx.healthDirty = true
	}
	tx.health.UpstreamError = errText
}

// SetLastSync records when the sync last had everything read (see Health.LastSync).
func (tx *Tx) SetLastSync(t time.Time) { tx.health.LastSync = t }

// SetFeed records the feed consumer's state. A change of State is a health
// change; counters and times are updated silently.
func (tx *Tx) SetFeed(f FeedHealth) {
	if f.State != tx.health.Feed.State {
		f.Since = tx.now
		tx.healthDirty = true
	} else {
		f.Since = tx.health.Feed.Since
	}
	tx.health.Feed = f
}

// SetPersist records whether the last save of component (the alarm ledger,
// the notification outbox, …) failed (err) or succeeded (nil). Going from
// every save succeeding to one failing, or back, is a health change.
func (tx *Tx) SetPersist(component string, err error) {
	p := &tx.health.Persist
	was := p.OK()
	old, failing := p.Failing[component]
	switch {
	case err == nil && !failing:
		return
	case err != nil && failing && old == err.Error():
		return
	}
	next := maps.Clone(p.Failing)
	if next == nil {
		next = map[string]string{}
	}
	if err != nil {
		next[component] = err.Error()
	} else {
		delete(next, component)
	}
	p.Failing = next
	if was != p.OK() {
		p.Since = tx.now
		tx.healthDirty = true
	}
}

// SetCluster records the gateway's place in a redundant pair; a change is
// a health change for subscribers.
func (tx *Tx) SetCluster(c ClusterHealth) {
	if tx.health.Cluster == c {
		return
	}
	tx.health.Cluster = c
	tx.healthDirty = true
}

// Feed returns the feed state as of this point of the transaction.
func (tx *Tx) Feed() FeedHealth { return tx.health.Feed }
