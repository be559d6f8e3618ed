package history

// The log: a write-optimised level in front of the entities' rows.
//
// Why. bbolt copies on write: a transaction rewrites whole every page it
// changes. Written straight into the entities' buckets, a values cycle of
// the large profile (~780,000 samples over ~200,000 entities) rewrites the
// page holding each changed entity's newest rows, and often its branch page
// too: ~115 MB a cycle for ~9 MB of data (BENCHMARKS.md, pack14).
//
// What. Append writes a batch into the bucket "log" instead: one entry per
// entity of the batch, key the batch's sequence number (8 bytes, big-endian,
// the log bucket's NextSequence) then the entity's name, value the entity's
// rows of the batch (per time: the 8-byte time key, the row's length as a
// uvarint, the row as row.go writes it). All keys of a batch share its
// sequence, which is past every key before it: the batch is appended at the
// end of the log's tree, packed full, one sequential write. A merge
// (Store.Merge) moves the log into the rows: it walks the log's batches
// together by entity name (a merge of their cursors), writes each entity's
// rows of every batch in one pass (its page rewritten once per merge instead
// of once per cycle) and deletes those log entries in the same transaction.
// It works in transactions of at most mergeEntitiesPerTx entities /
// mergeEntriesPerTx log entries, checks its context between them, and takes
// only batches that existed when it began (later ones wait for the next).
// An entry it cannot read (a value torn or corrupted on disk) would fail
// every merge, and the prunes waiting for one: it is copied whole into the
// bucket "log-bad", logged at error level and deleted from the log, and the
// rest is merged. Until that merge, a read of its entity fails.
//
// When. The recorder merges when the log is older than Options.MergeInterval
// (default 15 minutes), holds more than Options.MaxLogBytes (default 256 MiB;
// 15 minutes of the large profile's steady cycles are ~130 MB), or more than
// maxLogBatches batches (the bound of a read's work below). A merge's work is
// mostly per entity (its bucket found, its newest page rewritten, whatever
// the batches held of it), so the longer the interval the less it costs a
// cycle: on the large profile a merge of 5 minutes took ~2.3 CPU-s, a
// quarter of a values cycle's CPU at 30 s (BENCHMARKS.md, merge14h). What a
// longer log costs is a read's Gets (one per batch that holds the entity, in
// the range read) and the Bloom filters' memory (too little to show in a
// heap profile of the large profile with 13 minutes of log). At a stop it
// does not merge: the log is in the file like the rows, committed with its
// batch, so durability is what it was (a crash loses at most the
// FlushInterval), and a reopened file's log is read through, then merged by
// the next run.
//
// Readers see the log's samples as if merged. Per entity (Read, Nearest,
// Has, Backfill's check of the times a series holds) the log is read
// through: a Bloom filter per batch in memory (~10 bits per entity of the
// batch, a few MB at most) names the batches that may hold the entity, and
// one Get per such batch finds its entry; for a series over a day that is
// one Get per batch in the log that holds the entity (a few per cycle since
// the last merge), never a walk of the log. A batch whose samples are all
// outside the range read is not read at all (logBatch.minNs, maxNs). A
// sample in the log replaces a row's at the same time (the log is newer; a
// later batch replaces an earlier one), as Append replaced it before.
// Operations that walk every entity merge first instead: Newest (once per
// backfill run) and Stats in full, DropAfter in full, Prune only when the
// log holds a sample older than the time it drops before (the log is
// normally the newest minutes). Their walks already visit every entity, so
// the merge is of the same order, and it is work the next merge would do
// anyway.
//
// The filters are built at Open from the log's keys, added by Append before
// its commit and dropped after the merge that emptied their batches: the set
// in memory is a superset of what any transaction sees (a filter of a batch
// whose transaction failed, or that a merge just emptied, costs a Get that
// finds nothing), never a subset.

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var logBucket = []byte("log")

// Defaults of the merge policy (Options.MergeInterval, Options.MaxLogBytes).
const (
	DefaultMergeInterval = 15 * time.Minute
	DefaultMaxLogBytes   = 256 << 20
)

// maxLogBatches bounds the batches in the log (the Bloom filters a read
// tests); the recorder writes a batch per 8,192 samples (maxPending), ~95 a
// cycle of the large profile. The bounds of a merge transaction: variables so that tests
// can make them small.
var (
	maxLogBatches      = 1024
	mergeEntitiesPerTx = 4096
	mergeEntriesPerTx  = 1 << 16
)

// logBatch is what memory keeps of a batch in the log.
type logBatch struct {
	seq   uint64
	bytes int64 // its entries' keys and values
	minNs int64 // its oldest sample
	// maxNs is its newest sample: math.MaxInt64 for a batch read at Open,
	// whose rows are not parsed there (any later time may be in it).
	maxNs int64
	bloom []uint64
	added uint64 // logState.added when it was added
}

// logState is the log's summary in memory: its batches in sequence order.
type logState struct {
	mu      sync.Mutex
	batches []logBatch
	since   time.Time // when the oldest batch was written (by this process)
	// added counts the batches added. A merge forgets only the batches
	// added before it began: an Append whose commit failed leaves its
	// batch, and bbolt gives its sequence again to the next Append, whose
	// batch, added while a merge runs, that merge has not wholly merged.
	added uint64
}

var bloomSeed = maphash.MakeSeed()

// bloomHashes are the two hashes of name whose combinations probe a filter.
func bloomHashes(name []byte) (h1, h2 uint64) {
	h := maphash.Bytes(bloomSeed, name)
	return h, h>>32 | h<<32 | 1
}

const bloomProbes = 3

func newBloom(entities int) []uint64 { return make([]uint64, max(1, (entities*10+63)/64)) }

func bloomAdd(f []uint64, name []byte) {
	h1, h2 := bloomHashes(name)
	n := uint64(len(f) * 64)
	for i := range uint64(bloomProbes) {
		b := (h1 + i*h2) % n
		f[b/64] |= 1 << (b % 64)
	}
}

func bloomHas(f []uint64, h1, h2 uint64) bool {
	n := uint64(len(f) * 64)
	for i := range uint64(bloomProbes) {
		b := (h1 + i*h2) % n
		if f[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// add records a batch (before its transaction commits; a batch of the same
// sequence, whose transaction failed, is replaced).
func (l *logState) add(b logBatch, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.batches); n > 0 && l.batches[n-1].seq >= b.seq {
		l.batches = slices.DeleteFunc(l.batches, func(o logBatch) bool { return o.seq >= b.seq })
	}
	if len(l.batches) == 0 {
		l.since = now
	}
	l.added++
	b.added = l.added
	l.batches = append(l.batches, b)
}

// upTo returns the log's last sequence and the count of batches added: what
// a merge beginning now takes (see dropThrough).
func (l *logState) upTo() (last, added uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.batches); n > 0 {
		last = l.batches[n-1].seq
	}
	return last, l.added
}

// seqsOf returns the sequences of the batches that may hold samples of the
// entity name with lo ≤ time ≤ hi (Unix ns). A batch whose samples are all
// outside the range costs no Get: the backfill's gaps, and reads of
// anything older than the last minutes, are before every batch in the log.
func (l *logState) seqsOf(name []byte, lo, hi int64) []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.batches) == 0 {
		return nil
	}
	h1, h2 := bloomHashes(name)
	var out []uint64
	for _, b := range l.batches {
		if b.maxNs >= lo && b.minNs <= hi && bloomHas(b.bloom, h1, h2) {
			out = append(out, b.seq)
		}
	}
	return out
}

// summary returns the log's last sequence, size, oldest sample and age.
func (l *logState) summary() (last uint64, n int, size int64, minNs int64, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	minNs = math.MaxInt64
	for _, b := range l.batches {
		size += b.bytes
		minNs = min(minNs, b.minNs)
	}
	if n = len(l.batches); n > 0 {
		last = l.batches[n-1].seq
	}
	return last, n, size, minNs, l.since
}

// dropThrough forgets the batches up to seq that were added by the count
// added (a merge that began then emptied them).
func (l *logState) dropThrough(seq, added uint64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches = slices.DeleteFunc(l.batches, func(b logBatch) bool { return b.seq <= seq && b.added <= added })
	if len(l.batches) > 0 {
		l.since = now
	}
}

func seqKey(dst []byte, seq uint64, name []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst[:0], seq)
	return append(dst, name...)
}

// logRows calls fn with each row of a log entry's value: its time key and
// row; it stops at a malformed one with errBadRow.
func logRows(v []byte, fn func(tk, row []byte) error) error {
	for p := 0; p < len(v); {
		if len(v)-p < 9 {
			return errBadRow
		}
		tk := v[p : p+8]
		l, n := binary.Uvarint(v[p+8:])
		if n <= 0 || uint64(len(v)-p-8-n) < l {
			return errBadRow
		}
		row := v[p+8+n : p+8+n+int(l)]
		if !isRow(row) {
			return errBadRow
		}
		if err := fn(tk, row); err != nil {
			return err
		}
		p += 8 + n + int(l)
	}
	return nil
}

// loadLog rebuilds the log's summary from the file (at Open).
func (s *Store) loadLog(tx *bolt.Tx) error {
	lb := tx.Bucket(logBucket)
	if lb == nil {
		return nil
	}
	var cur *logBatch
	var names [][]byte
	finish := func() {
		if cur == nil {
			return
		}
		cur.bloom = newBloom(len(names))
		for _, n := range names {
			bloomAdd(cur.bloom, n)
		}
		s.wlog.add(*cur, s.opts.Now())
		cur, names = nil, names[:0]
	}
	err := lb.ForEach(func(k, v []byte) error {
		if len(k) < 8 {
			return fmt.Errorf("history: bad log key %q", k)
		}
		seq := binary.BigEndian.Uint64(k)
		if cur == nil || cur.seq != seq {
			finish()
			cur = &logBatch{seq: seq, minNs: math.MaxInt64, maxNs: math.MaxInt64}
		}
		names = append(names, k[8:])
		cur.bytes += int64(len(k) + len(v))
		if len(v) >= 8 {
			cur.minNs = min(cur.minNs, keyNs(v))
		}
		return nil
	})
	finish()
	return err
}

// appendLog writes a batch's items, grouped by entity (names in order,
// items of each sorted by time, field and batch order), as one log batch.
func (s *Store) appendLog(tx *bolt.Tx, names []string, itemsOf func(name string) ([]item, error)) error {
	lb, err := tx.CreateBucketIfNotExists(logBucket)
	if err != nil {
		return err
	}
	lb.FillPercent = 1 // every batch is appended past the last: pack pages full
	seq, err := lb.NextSequence()
	if err != nil {
		return err
	}
	batch := logBatch{seq: seq, minNs: math.MaxInt64, maxNs: math.MinInt64, bloom: newBloom(len(names))}
	var mem arena
	var cells []cell
	var val []byte
	for _, name := range names {
		items, err := itemsOf(name)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			continue
		}
		val = val[:0]
		for i := 0; i < len(items); {
			t := items[i].t
			cells = cells[:0]
			for ; i < len(items) && items[i].t == t; i++ {
				if n := len(cells); n > 0 && cells[n-1].id == items[i].c.id {
					cells[n-1] = items[i].c
					continue
				}
				cells = append(cells, items[i].c)
			}
			val = binary.BigEndian.AppendUint64(val, 0)
			putNsKey(val[len(val)-8:], t)
			n := rowLen(cells)
			val = binary.AppendUvarint(val, uint64(n))
			val = append(val, make([]byte, n)...)
			putRow(val[len(val)-n:], cells)
		}
		k := mem.alloc(8 + len(name))
		seqKey(k[:0], seq, []byte(name))
		v := mem.alloc(len(val))
		copy(v, val)
		if err := lb.Put(k, v); err != nil {
			return err
		}
		bloomAdd(batch.bloom, k[8:])
		batch.bytes += int64(len(k) + len(v))
		batch.minNs = min(batch.minNs, items[0].t)
		batch.maxNs = max(batch.maxNs, items[len(items)-1].t)
	}
	if batch.bytes > 0 {
		s.wlog.add(batch, s.opts.Now())
	}
	return nil
}

// logSample is a sample of one field found in the log: its time and
// encoded value (pointing into the transaction's pages).
type logSample struct {
	t   int64
	enc []byte
}

// logSamples returns the samples of field f of entity name that the log
// holds with lo ≤ time ≤ hi (Unix ns), in time order, one per time (of a
// time in several batches, the latest batch's). tx is a write transaction
// or one of Store.view (see readMu).
func (s *Store) logSamples(tx *bolt.Tx, name []byte, f fieldRef, lo, hi int64) ([]logSample, error) {
	if !f.ok {
		return nil, nil
	}
	seqs := s.wlog.seqsOf(name, lo, hi)
	if len(seqs) == 0 {
		return nil, nil
	}
	lb := tx.Bucket(logBucket)
	if lb == nil {
		return nil, nil
	}
	var out []logSample
	key := make([]byte, 0, 8+len(name))
	for _, seq := range seqs {
		v := lb.Get(seqKey(key, seq, name))
		if v == nil {
			continue
		}
		err := logRows(v, func(tk, row []byte) error {
			t := keyNs(tk)
			if t < lo || t > hi {
				return nil
			}
			if enc, ok := rowField(row, f.id); ok {
				out = append(out, logSample{t, enc})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("history: log of %q: %w", name, err)
		}
	}
	// Stable: of one time, the later batch's sample comes last and wins.
	slices.SortStableFunc(out, func(a, b logSample) int { return cmpID(uint64(a.t)^1<<63, uint64(b.t)^1<<63) })
	j := 0
	for i := range out {
		if j > 0 && out[j-1].t == out[i].t {
			out[j-1] = out[i]
			continue
		}
		out[j] = out[i]
		j++
	}
	return out[:j], nil
}

// mergeDue reports whether the log should be merged now (see the policy at
// the top of this file).
func (s *Store) mergeDue() bool {
	_, n, size, _, since := s.wlog.summary()
	if n == 0 {
		return false
	}
	return n >= maxLogBatches || size >= s.opts.MaxLogBytes || s.opts.Now().Sub(since) >= s.opts.MergeInterval
}

// Merge moves the samples of the log into the entities' rows, in bounded
// transactions; when ctx is done it stops between two with ctx's error
// (what it merged is committed; the rest stays in the log, read through).
func (s *Store) Merge(ctx context.Context) error {
	s.mergeMu.Lock()
	defer s.mergeMu.Unlock()
	_, n, size, minNs, _ := s.wlog.summary()
	if n == 0 {
		return nil
	}
	// The merged samples are in the rows: the bound is lowered once the
	// merge's transactions are over, committed or not (rowsFloor).
	defer s.floor.lower(minNs)
	last, added := s.wlog.upTo()
	start, txs := time.Now(), 0
	var from []byte
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("history: merge: %w", err)
		}
		next, err := s.mergeSome(last, from)
		txs++
		if err != nil {
			return fmt.Errorf("history: merge: %w", err)
		}
		// A merge reads the newest pages of every entity of the log, a
		// few seconds of transactions on a large footprint: dropped at
		// the store's interval only, a second of them stayed mapped
		// (RssFile up to ~230 MB on the large profile, pages.go). It drops
		// them every dropEvery entities (mergeSome) and after each
		// transaction.
		if err := s.dropPages(); err != nil {
			s.log.Debug("history: mapped pages not dropped", "err", err)
		}
		if next == nil {
			break
		}
		from = next
	}
	s.readMu.Lock()
	s.wlog.dropThrough(last, added, s.opts.Now())
	s.readMu.Unlock()
	s.log.Debug("history: log merged into the rows", "batches", n, "bytes", size, "transactions", txs, "took", time.Since(start))
	return nil
}

// mergeBefore merges the log if it holds a sample before t (Unix ns).
func (s *Store) mergeBefore(ctx context.Context, t int64) error {
	if _, n, _, minNs, _ := s.wlog.summary(); n == 0 || minNs >= t {
		return nil
	}
	return s.Merge(ctx)
}

// logCursor is one batch's position in a merge.
type logCursor struct {
	c    *bolt.Cursor
	seq  uint64
	k, v []byte
}

type logCursors []*logCursor

func (h logCursors) Len() int { return len(h) }
func (h logCursors) Less(i, j int) bool {
	if c := bytes.Compare(h[i].k[8:], h[j].k[8:]); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h logCursors) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *logCursors) Push(x any)   { *h = append(*h, x.(*logCursor)) }
func (h *logCursors) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeSome merges, in one write transaction, the log entries of batches up
// to last whose entity names are from `from` on, entity by entity in name
// order, until a bound; it returns the name to go on from (nil: done).
func (s *Store) mergeSome(last uint64, from []byte) (next []byte, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		next = nil
		lb := tx.Bucket(logBucket)
		if lb == nil {
			return nil
		}
		// A cursor per batch, at its first entry from `from` on.
		var h logCursors
		key := make([]byte, 0, 64)
		walk := lb.Cursor()
		for k, _ := walk.Seek(seqKey(key, 0, nil)); k != nil; {
			seq := binary.BigEndian.Uint64(k)
			if seq > last {
				break
			}
			c := lb.Cursor()
			if ck, cv := c.Seek(seqKey(key, seq, from)); ck != nil && binary.BigEndian.Uint64(ck) == seq {
				h = append(h, &logCursor{c, seq, ck, cv})
			}
			if seq == math.MaxUint64 {
				break
			}
			k, _ = walk.Seek(seqKey(key, seq+1, nil))
		}
		heap.Init(&h)
		root := tx.Bucket(rootBucket)
		w := s.fields.writer(tx)
		var mem arena
		var items []item
		var cells []cell
		var done [][]byte
		entities, entries := 0, 0
		for h.Len() > 0 {
			name := h[0].k[8:]
			if entities >= mergeEntitiesPerTx || entries >= mergeEntriesPerTx {
				next = append([]byte(nil), name...)
				break
			}
			name = append(mem.alloc(len(name))[:0], name...)
			items = items[:0]
			for h.Len() > 0 && bytes.Equal(h[0].k[8:], name) {
				lc := h[0]
				had := len(items)
				err := logRows(lc.v, func(tk, row []byte) error {
					t := keyNs(tk)
					for p := 1; p < len(row); {
						id, enc, np, ok := nextCell(row, p)
						if !ok {
							return errBadRow
						}
						items = append(items, item{t, len(items), cell{id, enc}})
						p = np
					}
					return nil
				})
				if err != nil {
					// An entry that cannot be read would fail every merge,
					// and with them the prunes that wait for one: it is
					// kept aside, whole, and the rest merged.
					items = items[:had]
					if err := setAside(tx, lc.k, lc.v); err != nil {
						return err
					}
					s.log.Error("history: a log entry cannot be read; kept aside in the file's bucket \"log-bad\", the rest merged",
						"entity", string(name), "batch", lc.seq, "bytes", len(lc.v), "err", err)
				}
				done = append(done, append(mem.alloc(len(lc.k))[:0], lc.k...))
				entries++
				lc.k, lc.v = lc.c.Next()
				if lc.k == nil || len(lc.k) < 8 || binary.BigEndian.Uint64(lc.k) != lc.seq {
					heap.Pop(&h)
				} else {
					heap.Fix(&h, 0)
				}
			}
			entities++
			if err := writeEntity(root, w, &mem, name, items, &cells); err != nil {
				return err
			}
			if entities%dropEvery == 0 {
				s.dropPagesIn(tx)
			}
		}
		for _, k := range done {
			if err := lb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return next, err
}

var badLogBucket = []byte("log-bad")

// setAside copies a log entry that cannot be read into the bucket "log-bad"
// (its key, its value as it was), where it stays for whoever looks into
// the file; the merge then deletes it from the log.
func setAside(tx *bolt.Tx, k, v []byte) error {
	b, err := tx.CreateBucketIfNotExists(badLogBucket)
	if err != nil {
		return err
	}
	return b.Put(append([]byte(nil), k...), append([]byte(nil), v...))
}

// writeEntity writes items (of batch order seq) into the rows of entity
// name: of two samples of a field at one time the later wins, and a time the
// entity holds is merged (the item's field replacing the row's).
func writeEntity(root *bolt.Bucket, w *fieldWriter, mem *arena, name []byte, items []item, cells *[]cell) error {
	if len(items) == 0 {
		return nil
	}
	sortItems(items)
	b, err := root.CreateBucketIfNotExists(name)
	if err != nil {
		return fmt.Errorf("entity %q: %w", name, err)
	}
	b.FillPercent = 1 // appends come in time order: pack pages full
	c := b.Cursor()
	last := lastNs(c)
	for i := 0; i < len(items); {
		t := items[i].t
		cs := (*cells)[:0]
		for ; i < len(items) && items[i].t == t; i++ {
			if n := len(cs); n > 0 && cs[n-1].id == items[i].c.id {
				cs[n-1] = items[i].c
				continue
			}
			cs = append(cs, items[i].c)
		}
		*cells = cs
		if _, err := putCells(b, c, w, mem, t, &last, cs, true); err != nil {
			return fmt.Errorf("entity %q: %w", name, err)
		}
	}
	return nil
}

// sortItems orders items by time, then field, then batch order.
func sortItems(items []item) {
	slices.SortFunc(items, func(a, b item) int {
		if a.t != b.t {
			return cmpID(uint64(a.t)^1<<63, uint64(b.t)^1<<63)
		}
		if a.c.id != b.c.id {
			return cmpID(a.c.id, b.c.id)
		}
		return a.seq - b.seq
	})
}
