package history

// The on-disk store: one bbolt file, a bucket per entity (a location, a
// tag, the gateway) holding its series' samples keyed by source time, and
// the log in front of them (log.go). This file, row.go (the entries'
// format), log.go and prune.go (what is dropped) are the only ones that
// touch bbolt.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/svgateway/svgateway/model"
)

// Defaults of Options.
const (
	DefaultRetention = 7 * 24 * time.Hour
	DefaultMaxBytes  = 1 << 30
	DefaultPageSize  = 2048
)

// FileName is the store's file under state_dir.
const FileName = "history.db"

// Options configure a Store.
type Options struct {
	// Path is the database file.
	Path string
	// Retention is how long samples are kept (by source time; default 7 days).
	Retention time.Duration
	// MaxBytes caps the data in the file (default 1 GiB); the oldest samples
	// are dropped first while it is exceeded.
	MaxBytes int64
	Logger   *slog.Logger
	// PageSize is bbolt's page size for a file this Open creates (default
	// DefaultPageSize); an existing file keeps the size it was made with.
	// Each write rewrites whole pages, at least the one holding an entity's
	// newest rows for every entity it changes, and the pages it reads stay
	// mapped (RSS): 2 KiB halves both against 4 KiB at the same page count
	// (BENCHMARKS.md, pack14).
	PageSize int
	// MergeInterval and MaxLogBytes: the log (log.go) is merged into the
	// entities' rows when its oldest batch is MergeInterval old (default
	// DefaultMergeInterval) or it holds MaxLogBytes (default
	// DefaultMaxLogBytes), whichever comes first.
	MergeInterval time.Duration
	MaxLogBytes   int64
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Sample is one recorded value of a series.
type Sample struct {
	// Time is the source time of the reading (the store's identity of a
	// sample within its series).
	Time    time.Time
	Value   model.Value
	Quality model.Quality
}

// Store is the history database. It is safe for concurrent use.
type Store struct {
	opts   Options
	db     *bolt.DB
	log    *slog.Logger
	fields fieldIDs
	// pageSize is the file's page size, read at Open: bolt's Info reads
	// the mapping without a lock, racing with a writer that grows it.
	pageSize int
	// pages drops the file's mapped pages from the process (pages.go).
	pages pageDrops
	// wlog summarizes the log in memory; mergeMu makes merges one at a time.
	// readMu is held (read) by a read transaction that reads through the
	// log, and (write) by a merge forgetting the batches it emptied: a
	// reader whose snapshot predates the merge still finds them.
	wlog    logState
	mergeMu sync.Mutex
	readMu  sync.RWMutex
	// recordedUntil is the file's mark at Open, Unix ns (marks.go);
	// math.MinInt64: none.
	recordedUntil int64
	// floor bounds the oldest sample of the rows for the prune (prune.go).
	floor rowsFloor
}

// view runs fn in a read transaction that may read through the log.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.readMu.RLock()
	defer s.readMu.RUnlock()
	return s.db.View(fn)
}

var rootBucket = []byte("series")

// Open opens (creating) the store at opts.Path. A file that is not a
// history store, or is locked by another process, is an error.
func Open(opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("history: no path")
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MergeInterval <= 0 {
		opts.MergeInterval = DefaultMergeInterval
	}
	if opts.MaxLogBytes <= 0 {
		opts.MaxLogBytes = DefaultMaxLogBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	db, err := bolt.Open(opts.Path, 0o640, &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType, PageSize: opts.PageSize})
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", opts.Path, err)
	}
	s := &Store{opts: opts, db: db, log: opts.Logger, floor: rowsFloor{ns: math.MinInt64}}
	if err := db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(rootBucket); err != nil {
			return err
		}
		if err := s.fields.load(tx); err != nil {
			return err
		}
		s.loadRecordedUntil(tx)
		return s.loadLog(tx)
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: %s: %w", opts.Path, err)
	}
	s.pageSize = db.Info().PageSize
	s.pages.start(s, pageDropInterval)
	return s, nil
}

// Close closes the file.
func (s *Store) Close() error {
	s.pages.halt()
	return s.db.Close()
}

// Retention returns the configured retention.
func (s *Store) Retention() time.Duration { return s.opts.Retention }

// Times a key can hold (int64 nanoseconds since 1970); times outside are
// clamped, so a query from DateTime.MinValue or to the far future works.
var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// timeKey encodes a time so that byte order is time order.
func timeKey(t time.Time) []byte {
	b := make([]byte, 8)
	putTimeKey(b, t)
	return b
}

// putTimeKey writes timeKey(t) into b[:8].
func putTimeKey(b []byte, t time.Time) {
	ns := t.UnixNano()
	switch {
	case t.Before(minKeyTime):
		ns = math.MinInt64
	case t.After(maxKeyTime):
		ns = math.MaxInt64
	}
	putNsKey(b, ns)
}

// putNsKey writes the key of the time ns (Unix nanoseconds) into b[:8].
func putNsKey(b []byte, ns int64) { binary.BigEndian.PutUint64(b[:8], uint64(ns)^(1<<63)) }

func keyTime(b []byte) time.Time { return time.Unix(0, keyNs(b)).UTC() }

// Value encoding: one byte (quality in the low nibble; 0x10: a float64
// follows; 0x20: upstream text follows, from which the number is parsed
// again), then the float's 8 bytes or the text.
const (
	encNum  = 0x10
	encText = 0x20
)

func encodedLen(v model.Value) int {
	switch {
	case v.Text != "":
		return 1 + len(v.Text)
	case v.IsNum:
		return 9
	}
	return 1
}

// encodeInto writes the encoding of v and q into b, of encodedLen(v) bytes.
func encodeInto(b []byte, v model.Value, q model.Quality) {
	h := byte(q) & 0x0f
	switch {
	case v.Text != "":
		b[0] = h | encText
		copy(b[1:], v.Text)
	case v.IsNum:
		b[0] = h | encNum
		binary.BigEndian.PutUint64(b[1:], math.Float64bits(v.Num))
	default:
		b[0] = h
	}
}

// arena hands out byte slices for the keys and values of one write
// transaction, which bbolt keeps until the commit: one allocation per
// 64 KiB instead of two per sample (a values cycle of the large profile
// writes hundreds of thousands).
type arena struct{ buf []byte }

func (a *arena) alloc(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, 64<<10))
	}
	a.buf = a.buf[:len(a.buf)+n]
	return a.buf[len(a.buf)-n : len(a.buf) : len(a.buf)]
}

func decode(t time.Time, b []byte) Sample {
	if len(b) == 0 {
		return Sample{Time: t}
	}
	smp := Sample{Time: t, Quality: model.Quality(b[0] & 0x0f)}
	switch {
	case b[0]&encText != 0:
		smp.Value = model.Text(string(b[1:]))
	case b[0]&encNum != 0 && len(b) == 9:
		smp.Value = model.Number(math.Float64frombits(binary.BigEndian.Uint64(b[1:])))
	}
	return smp
}

// Layout. A series key "ENTITY#FIELD" (see keys.go) lives in the bucket
// ENTITY: one entry per time, a row holding every field recorded at that
// time (row.go), so a location's fields that a sync cycle updates together
// are one element on one page: a cycle writes a page per entity, not a page
// per value (the large profile has 1.35M series over 200k entities). A key
// without '#' is the field "" of its bucket (a tag: a bucket of one series,
// whose entries are plain values). Files written before rows hold an entry
// per field (time + FIELD); they are read as they are, and a time written
// again is merged into a row.

// splitKey returns the bucket and the field of a series key.
func splitKey(key string) (bucket, field []byte) {
	b, f := keyParts(key)
	return []byte(b), []byte(f)
}

// keyParts is splitKey without copying.
func keyParts(key string) (entity, field string) {
	if i := strings.LastIndexByte(key, '#'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return key, ""
}

// keyNs is the time of an entry key as Unix ns.
func keyNs(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:8]) ^ (1 << 63)) }

// lastNs is the time of the newest entry of a bucket (math.MinInt64: none).
func lastNs(c *bolt.Cursor) int64 {
	if k, _ := c.Last(); k != nil {
		return keyNs(k)
	}
	return math.MinInt64
}

// item is a sample of an entity being appended: its time key, order in
// the batch and cell.
type item struct {
	t   int64
	seq int
	c   cell
}

// Append records samples of series keyed by key; a sample whose time the
// series holds replaces it (upstream corrected the reading). Samples older
// than the retention are skipped. The batch is written to the log (log.go),
// one sequential write, and is durable once Append returns.
func (s *Store) Append(batch map[string][]Sample) error {
	if len(batch) == 0 {
		return nil
	}
	clock := s.opts.Now()
	oldest, now := clock.Add(-s.opts.Retention), unixNano(clock)
	// By entity, in name order: the fields of an entity are written
	// together as rows.
	entities := make(map[string][]string, len(batch)/4)
	for key := range batch {
		name, _ := keyParts(key)
		entities[name] = append(entities[name], key)
	}
	names := slices.Sorted(maps.Keys(entities))
	return s.db.Update(func(tx *bolt.Tx) error {
		w := s.fields.writer(tx)
		var mem arena
		var items []item
		newest := int64(math.MinInt64)
		err := s.appendLog(tx, names, func(name string) ([]item, error) {
			items = items[:0]
			for _, key := range entities[name] {
				_, field := keyParts(key)
				id, err := w.id(field)
				if err != nil {
					return nil, fmt.Errorf("history: series %q: %w", key, err)
				}
				for _, smp := range batch[key] {
					if smp.Time.Before(oldest) {
						continue
					}
					enc := mem.alloc(encodedLen(smp.Value))
					encodeInto(enc, smp.Value, smp.Quality)
					t := unixNano(smp.Time)
					items = append(items, item{t, len(items), cell{id, enc}})
					newest = max(newest, min(t, now)) // a clock ahead upstream's does not move the mark past now
				}
			}
			// By time, then field; of two samples of a field at one time
			// the later in the batch wins.
			sortItems(items)
			return items, nil
		})
		if err != nil || newest == math.MinInt64 {
			return err
		}
		return markRecorded(tx, newest, false)
	})
}

// Backfill inserts the samples of one series that it does not hold yet
// (by source time), within the retention, and returns how many it added.
// See the package documentation.
func (s *Store) Backfill(ctx context.Context, key string, samples []Sample) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	oldest := s.opts.Now().Add(-s.opts.Retention)
	name, field := splitKey(key)
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, smp := range samples {
		t := unixNano(smp.Time)
		lo, hi = min(lo, t), max(hi, t)
	}
	added, from := 0, int64(math.MaxInt64)
	err := s.db.Update(func(tx *bolt.Tx) error {
		added, from = 0, math.MaxInt64
		w := s.fields.writer(tx)
		id, err := w.id(string(field))
		if err != nil {
			return fmt.Errorf("history: series %q: %w", key, err)
		}
		// The times the log holds for the series are held too (only the
		// batches that reach the samples' range are read: at a start's gap,
		// none once the log is past it).
		logged, err := s.logSamples(tx, name, fieldRef{field, id, true}, lo, hi)
		if err != nil {
			return err
		}
		b, err := tx.Bucket(rootBucket).CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("history: series %q: %w", key, err)
		}
		c := b.Cursor()
		last := lastNs(c)
		var mem arena
		for i, smp := range samples {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if smp.Time.Before(oldest) {
				continue
			}
			t := unixNano(smp.Time)
			if _, held := slices.BinarySearchFunc(logged, t, func(l logSample, t int64) int { return cmpID(uint64(l.t)^1<<63, uint64(t)^1<<63) }); held {
				continue
			}
			enc := mem.alloc(encodedLen(smp.Value))
			encodeInto(enc, smp.Value, smp.Quality)
			from = min(from, t)
			n, err := putCells(b, c, w, &mem, t, &last, []cell{{id, enc}}, false)
			if err != nil {
				return fmt.Errorf("history: series %q: %w", key, err)
			}
			added += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.floor.lower(from) // after the commit (rowsFloor)
	return added, nil
}

// Has reports whether the store holds samples of a series.
func (s *Store) Has(key string) bool {
	_, ok, _ := s.Nearest(key, maxKeyTime, true)
	return ok
}

// Query selects samples of one series: those with From ≤ time ≤ To, in
// time order or, with Reverse, newest first; at most Limit (0: all).
type Query struct {
	From, To time.Time
	Reverse  bool
	Limit    int
}

// Read returns the samples a query selects, and whether more samples
// matched than Limit allowed. An unknown series has none.
func (s *Store) Read(key string, q Query) ([]Sample, bool, error) {
	var out []Sample
	more := false
	name, field := splitKey(key)
	err := s.view(func(tx *bolt.Tx) error {
		if q.To.Before(q.From) {
			return nil
		}
		b := tx.Bucket(rootBucket).Bucket(name)
		f := s.fields.ref(tx, field)
		lo, hi := timeKey(q.From), timeKey(q.To)
		// The log's samples in the range, merged into the walk of the rows
		// in its direction: at a time both hold, the log's.
		logged, err := s.logSamples(tx, name, f, keyNs(lo), keyNs(hi))
		if err != nil {
			return err
		}
		if q.Reverse {
			slices.Reverse(logged)
		}
		ahead := func(t int64) bool { // a logged sample at t comes first
			return len(logged) > 0 && (!q.Reverse && logged[0].t <= t || q.Reverse && logged[0].t >= t)
		}
		emit := func(smp Sample) bool {
			if q.Limit > 0 && len(out) == q.Limit {
				more = true
				return false
			}
			out = append(out, smp)
			return true
		}
		emitLogged := func() bool {
			l := logged[0]
			logged = logged[1:]
			return emit(decode(time.Unix(0, l.t).UTC(), l.enc))
		}
		if b == nil {
			for len(logged) > 0 && emitLogged() {
			}
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		var next func() ([]byte, []byte)
		if q.Reverse {
			// The last entry of time hi: seek past it, step back.
			k, v = c.Seek(timeKey(q.To.Add(time.Nanosecond)))
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			next = c.Prev
		} else {
			k, v = c.Seek(lo)
			next = c.Next
		}
		for ; k != nil; k, v = next() {
			if bytes.Compare(k[:8], lo) < 0 || bytes.Compare(k[:8], hi) > 0 {
				break
			}
			enc, ok := f.in(k, v)
			if !ok {
				continue
			}
			t := keyNs(k)
			for ahead(t) {
				if !emitLogged() {
					return nil
				}
			}
			if len(out) > 0 && unixNano(out[len(out)-1].Time) == t {
				continue // the log's sample of this time replaced the row's
			}
			if !emit(decode(keyTime(k), enc)) {
				return nil
			}
		}
		for len(logged) > 0 {
			if !emitLogged() {
				return nil
			}
		}
		return nil
	})
	return out, more, err
}

// Nearest returns the sample at t or, if none, the closest one before t
// (before) or after t (!before); ok is false when there is none.
func (s *Store) Nearest(key string, t time.Time, before bool) (smp Sample, ok bool, err error) {
	name, field := splitKey(key)
	err = s.view(func(tx *bolt.Tx) error {
		f := s.fields.ref(tx, field)
		tn := unixNano(t)
		lo, hi := int64(math.MinInt64), tn
		if !before {
			lo, hi = tn, math.MaxInt64
		}
		logged, err := s.logSamples(tx, name, f, lo, hi)
		if err != nil {
			return err
		}
		if b := tx.Bucket(rootBucket).Bucket(name); b != nil {
			smp, ok = nearestRow(b, f, t, before)
		}
		// The log's nearest, if nearer than the rows' or at the same time.
		if n := len(logged); n > 0 {
			l := logged[0]
			if before {
				l = logged[n-1]
			}
			if at := unixNano(smp.Time); !ok || at == l.t || before == (l.t > at) {
				smp, ok = decode(time.Unix(0, l.t).UTC(), l.enc), true
			}
		}
		return nil
	})
	return smp, ok, err
}

// nearestRow is Nearest in the rows of entity bucket b.
func nearestRow(b *bolt.Bucket, f fieldRef, t time.Time, before bool) (Sample, bool) {
	c := b.Cursor()
	if before {
		// From the last entry at t backwards (seek past t, step back;
		// a t past the last key time lands on entries at it).
		tk := timeKey(t)
		var k, v []byte
		if next := timeKey(t.Add(time.Nanosecond)); !bytes.Equal(next, tk) {
			k, v = c.Seek(next)
		}
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if bytes.Compare(k[:8], tk) > 0 {
				continue
			}
			if enc, found := f.in(k, v); found {
				return decode(keyTime(k), enc), true
			}
		}
		return Sample{}, false
	}
	for k, v := c.Seek(timeKey(t)); k != nil; k, v = c.Next() {
		if enc, found := f.in(k, v); found {
			return decode(keyTime(k), enc), true
		}
	}
	return Sample{}, false
}

// Stats is the size of the store.
type Stats struct {
	// Entities are the buckets: a location, a tag, the gateway.
	Entities int
	Samples  int
	// FileBytes is the file's size; UsedBytes the part holding data (the
	// rest is free pages bbolt reuses).
	FileBytes, UsedBytes int64
}

// Stats counts the entities and samples (a walk of every entry: a row holds
// several samples), after merging the log.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	if err := s.Merge(context.Background()); err != nil {
		return st, err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		st.FileBytes = tx.Size()
		return tx.Bucket(rootBucket).ForEachBucket(func(k []byte) error {
			st.Entities++
			c := tx.Bucket(rootBucket).Bucket(k).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				st.Samples += entrySamples(k, v)
			}
			return nil
		})
	})
	st.UsedBytes = s.used()
	return st, err
}

// forEachEntity calls fn with every entity's bucket, in a read transaction
// tx; it looks at ctx before the first and every ctxCheckEvery entities (a
// walk of the large profile visits over 200,000), and stops with ctx's
// error. Every dropEvery entities it drops the file's mapped pages
// (pages.go): a walk reads a page or more of every entity, each fault
// mapping up to 64 KiB around it, in well under the store's drop interval,
// and all of it stayed in RSS until the next drop (file-backed up to ~230
// MB on the large profile, its prune walking every minute then).
func (s *Store) forEachEntity(ctx context.Context, tx *bolt.Tx, fn func(name []byte, b *bolt.Bucket) error) error {
	root := tx.Bucket(rootBucket)
	n := 0
	return root.ForEachBucket(func(name []byte) error {
		if n++; n%ctxCheckEvery == 1 && ctx.Err() != nil {
			return ctx.Err()
		}
		if n%dropEvery == 0 {
			s.dropPagesIn(tx)
		}
		return fn(name, root.Bucket(name))
	})
}

// Newest returns the time of the newest sample at or before t in any
// series: how far the gateway's recording went (a steady value is stored
// once, so a series' own newest sample does not say when it was last seen).
// It merges the log first, visits every entity once, and stops with ctx's
// error when ctx is done.
func (s *Store) Newest(ctx context.Context, t time.Time) (newest time.Time, ok bool, err error) {
	if err := s.Merge(ctx); err != nil {
		return newest, false, err
	}
	tk := timeKey(t.Add(time.Nanosecond))
	err = s.db.View(func(tx *bolt.Tx) error {
		return s.forEachEntity(ctx, tx, func(_ []byte, b *bolt.Bucket) error {
			c := b.Cursor()
			k, _ := c.Seek(tk)
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
			if k != nil {
				if at := keyTime(k); !ok || at.After(newest) {
					newest, ok = at, true
				}
			}
			return nil
		})
	})
	return newest, ok, err
}
