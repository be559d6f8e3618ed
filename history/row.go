package history

// The entries of an entity's bucket: a row per time holding every field
// recorded at that time, and the per-field entries of files written before
// rows (read as they are, merged into a row when their time is written
// again). Why rows: a values cycle changes ~100,000 locations of 12–14
// fields each; a row is one Put and one element a location and cycle
// instead of twelve, ~11 bytes a sample instead of ~45, so a leaf page holds
// a location's rows for ~4× as many cycles and a cycle's write transaction
// materializes and rewrites ~4× fewer elements.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Entry keys and values of an entity's bucket:
//
//   - key time (8 bytes), value a row: rowMark, then per field its id
//     (uvarint), the length of its encoded value (uvarint) and the encoded
//     value (see encode), fields in id order;
//   - key time (8 bytes), value an encoded value: the sample of the field
//     "" (a bucket of one series: a tag), as written before rows and still
//     written for a series alone at its time;
//   - key time (8 bytes) + FIELD, value an encoded value: one sample of
//     FIELD, as files written before rows hold them (never written now).
//
// An encoded value's first byte is at most 0x2f (quality nibble, encNum,
// encText), so rowMark tells a row from a value.
const rowMark = 0xc0

// Field ids: the field "" is 0; any other field name has an id assigned on
// first use and kept in fieldsBucket (key 'f' + name, value the id as
// uvarint), ids from 1.
var fieldsBucket = []byte("fields")

// cell is one field of a row: its id and its encoded value.
type cell struct {
	id  uint64
	enc []byte
}

func isRow(v []byte) bool { return len(v) > 0 && v[0] == rowMark }

// rowLen is the size of the row of cells.
func rowLen(cells []cell) int {
	n := 1
	for _, c := range cells {
		n += uvarintLen(c.id) + uvarintLen(uint64(len(c.enc))) + len(c.enc)
	}
	return n
}

// putRow writes the row of cells (in id order) into b, of rowLen(cells) bytes.
func putRow(b []byte, cells []cell) {
	b[0] = rowMark
	n := 1
	for _, c := range cells {
		n += binary.PutUvarint(b[n:], c.id)
		n += binary.PutUvarint(b[n:], uint64(len(c.enc)))
		n += copy(b[n:], c.enc)
	}
}

// nextCell reads the cell of row v at offset p: its field id, its encoded
// value (pointing into v) and the offset of the next cell; ok is false when
// the cell is malformed.
func nextCell(v []byte, p int) (id uint64, enc []byte, next int, ok bool) {
	id, n := binary.Uvarint(v[p:])
	if n <= 0 {
		return 0, nil, 0, false
	}
	p += n
	l, n := binary.Uvarint(v[p:])
	if n <= 0 || uint64(len(v)-p-n) < l {
		return 0, nil, 0, false
	}
	p += n
	return id, v[p : p+int(l)], p + int(l), true
}

// rowCells appends the cells of row v to dst; their values point into v.
func rowCells(dst []cell, v []byte) ([]cell, error) {
	for p := 1; p < len(v); {
		id, enc, next, ok := nextCell(v, p)
		if !ok {
			return dst, errBadRow
		}
		dst = append(dst, cell{id, enc})
		p = next
	}
	return dst, nil
}

var errBadRow = fmt.Errorf("history: malformed row")

// rowField returns the encoded value of field id in row v.
func rowField(v []byte, id uint64) ([]byte, bool) {
	for p := 1; p < len(v); {
		cid, enc, next, ok := nextCell(v, p)
		if !ok {
			return nil, false
		}
		if cid == id {
			return enc, true
		}
		p = next
	}
	return nil, false
}

// entrySamples is how many samples the entry (k, v) holds: a row's
// well-formed cells, or 1.
func entrySamples(k, v []byte) int {
	if len(k) != 8 || !isRow(v) {
		return 1
	}
	n := 0
	for p := 1; p < len(v); n++ {
		_, _, next, ok := nextCell(v, p)
		if !ok {
			break
		}
		p = next
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// fieldRef is a field as a reader looks for it: its name (for the entries
// of files written before rows) and its id (ok false: no row holds it).
type fieldRef struct {
	name []byte
	id   uint64
	ok   bool
}

// in returns the encoded value of the field in the entry (k, v).
func (f fieldRef) in(k, v []byte) ([]byte, bool) {
	if len(k) > 8 {
		return v, bytes.Equal(k[8:], f.name)
	}
	if !isRow(v) {
		return v, len(f.name) == 0
	}
	if !f.ok {
		return nil, false
	}
	return rowField(v, f.id)
}

// fieldIDs is the store's field dictionary as committed: read without a
// lock by readers (an atomic swap of an immutable map), replaced after a
// write transaction that added names commits.
type fieldIDs struct {
	mu  sync.Mutex
	ids map[string]uint64 // replaced whole, never written after published
}

func (f *fieldIDs) get(name string) (uint64, bool) {
	f.mu.Lock()
	ids := f.ids
	f.mu.Unlock()
	id, ok := ids[name]
	return id, ok
}

// load reads the dictionary of a transaction.
func (f *fieldIDs) load(tx *bolt.Tx) error {
	ids := map[string]uint64{}
	if b := tx.Bucket(fieldsBucket); b != nil {
		err := b.ForEach(func(k, v []byte) error {
			id, n := binary.Uvarint(v)
			if len(k) == 0 || k[0] != 'f' || n <= 0 {
				return fmt.Errorf("history: bad field id %q", k)
			}
			ids[string(k[1:])] = id
			return nil
		})
		if err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.ids = ids
	f.mu.Unlock()
	return nil
}

// ref returns the field as a reader in tx looks for it. A name the
// dictionary in memory does not know yet is looked up in tx (a writer may
// have committed it a moment ago).
func (f *fieldIDs) ref(tx *bolt.Tx, name []byte) fieldRef {
	if len(name) == 0 {
		return fieldRef{name: name, ok: true}
	}
	if id, ok := f.get(string(name)); ok {
		return fieldRef{name, id, true}
	}
	if b := tx.Bucket(fieldsBucket); b != nil {
		if v := b.Get(append([]byte{'f'}, name...)); v != nil {
			if id, n := binary.Uvarint(v); n > 0 {
				return fieldRef{name, id, true}
			}
		}
	}
	return fieldRef{name: name}
}

// writer assigns field ids in one write transaction: names new to the
// dictionary are stored in tx and published when it commits.
type fieldWriter struct {
	f     *fieldIDs
	tx    *bolt.Tx
	added map[string]uint64
}

func (f *fieldIDs) writer(tx *bolt.Tx) *fieldWriter { return &fieldWriter{f: f, tx: tx} }

func (w *fieldWriter) id(name string) (uint64, error) {
	if len(name) == 0 {
		return 0, nil
	}
	if id, ok := w.f.get(name); ok {
		return id, nil
	}
	if id, ok := w.added[name]; ok {
		return id, nil
	}
	b, err := w.tx.CreateBucketIfNotExists(fieldsBucket)
	if err != nil {
		return 0, err
	}
	key := append([]byte{'f'}, name...)
	if v := b.Get(key); v != nil {
		id, n := binary.Uvarint(v)
		if n <= 0 {
			return 0, fmt.Errorf("history: bad field id %q", key)
		}
		return id, nil
	}
	id, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	if err := b.Put(key, binary.AppendUvarint(nil, id)); err != nil {
		return 0, err
	}
	if w.added == nil {
		w.added = map[string]uint64{}
		w.tx.OnCommit(func() {
			w.f.mu.Lock()
			ids := maps.Clone(w.f.ids)
			maps.Copy(ids, w.added)
			w.f.ids = ids
			w.f.mu.Unlock()
		})
	}
	w.added[name] = id
	return id, nil
}

// putAt stores cells (in id order, ids distinct) at time key tk of bucket b
// (c a cursor of b), merged with what b holds at that time: with replace a
// cell replaces the field's value there (Append), without it a field b
// holds keeps its value (Backfill). Entries of the per-field layout at that
// time are merged into the row and deleted. It returns how many of cells
// were stored.
func putAt(b *bolt.Bucket, c *bolt.Cursor, w *fieldWriter, mem *arena, tk []byte, cells []cell, replace bool) (int, error) {
	var have []cell
	var old [][]byte
	for k, v := c.Seek(tk); k != nil && bytes.Equal(k[:min(len(k), 8)], tk); k, v = c.Next() {
		switch {
		case len(k) > 8:
			id, err := w.id(string(k[8:]))
			if err != nil {
				return 0, err
			}
			have = append(have, cell{id, v})
			old = append(old, append(mem.alloc(len(k))[:0], k...))
		case isRow(v):
			var err error
			if have, err = rowCells(have, v); err != nil {
				return 0, err
			}
		default:
			have = append(have, cell{0, v})
		}
	}
	if len(have) == 0 {
		return len(cells), putEntry(b, mem, tk, cells)
	}
	stored := 0
	merged := make([]cell, 0, len(have)+len(cells))
	merged = append(merged, have...)
	for _, nc := range cells {
		i := slices.IndexFunc(merged, func(c cell) bool { return c.id == nc.id })
		switch {
		case i < 0:
			merged = append(merged, nc)
			stored++
		case replace:
			merged[i] = nc
			stored++
		}
	}
	if stored == 0 && len(old) == 0 {
		return 0, nil
	}
	slices.SortStableFunc(merged, func(a, b cell) int { return cmpID(a.id, b.id) })
	// The values of have point into pages bbolt may rewrite: copy them out
	// before the first write.
	for i := range merged {
		merged[i].enc = append(mem.alloc(len(merged[i].enc))[:0], merged[i].enc...)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return stored, putEntry(b, mem, tk, merged)
}

func cmpID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// putCells stores cells at time t (Unix ns) of entity bucket b: a time past
// the newest entry *last is appended (and becomes *last), any other is
// merged by putAt. It returns how many of cells were stored.
func putCells(b *bolt.Bucket, c *bolt.Cursor, w *fieldWriter, mem *arena, t int64, last *int64, cells []cell, replace bool) (int, error) {
	tk := mem.alloc(8)
	putNsKey(tk, t)
	if t > *last {
		*last = t
		return len(cells), putEntry(b, mem, tk, cells)
	}
	return putAt(b, c, w, mem, tk, cells, replace)
}

// putEntry writes the entry of cells at time key tk: a plain value for the
// field "" alone, else a row.
func putEntry(b *bolt.Bucket, mem *arena, tk []byte, cells []cell) error {
	k := mem.alloc(8)
	copy(k, tk)
	if len(cells) == 1 && cells[0].id == 0 {
		return b.Put(k, cells[0].enc)
	}
	v := mem.alloc(rowLen(cells))
	putRow(v, cells)
	return b.Put(k, v)
}
