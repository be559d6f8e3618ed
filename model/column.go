package model

const (
	chunkBits = 8
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// column is an immutable array of values split into fixed-size chunks, so a
// new version that changes a few elements shares every untouched chunk with
// the old one. Readers index it without locks; only a columnWriter makes new
// versions.
type column[T any] struct {
	chunks []*[chunkSize]T
	n      int
}

func newColumn[T any](n int) column[T] {
	c := column[T]{chunks: make([]*[chunkSize]T, (n+chunkSize-1)/chunkSize), n: n}
	for i := range c.chunks {
		c.chunks[i] = new([chunkSize]T)
	}
	return c
}

// at returns a pointer into the column; callers must not write through it.
func (c column[T]) at(i int) *T { return &c.chunks[i>>chunkBits][i&chunkMask] }

// columnWriter builds the next version of a column, copying a chunk the first
// time one of its elements is written.
type columnWriter[T any] struct {
	col    column[T]
	copied []bool // per chunk: already private to this writer
	shared bool   // col.chunks still aliases the base version's slice
}

func (w *columnWriter[T]) begin(base column[T]) {
	w.col = base
	w.shared = true
	w.copied = w.copied[:0]
}

// fresh makes col, a column no other version shares, the one being built.
func (w *columnWriter[T]) fresh(col column[T]) {
	w.col, w.shared = col, false
	w.copied = make([]bool, len(col.chunks))
	for i := range w.copied {
		w.copied[i] = true
	}
}

// unshare gives the writer its own slice of chunk pointers.
func (w *columnWriter[T]) unshare() {
	if !w.shared {
		return
	}
	w.col.chunks = append([]*[chunkSize]T(nil), w.col.chunks...)
	if cap(w.copied) < len(w.col.chunks) {
		w.copied = make([]bool, len(w.col.chunks))
	} else {
		w.copied = w.copied[:len(w.col.chunks)]
		clear(w.copied)
	}
	w.shared = false
}

// set returns a writable pointer to element i.
func (w *columnWriter[T]) set(i int) *T {
	w.unshare()
	k := i >> chunkBits
	if !w.copied[k] {
		c := *w.col.chunks[k]
		w.col.chunks[k] = &c
		w.copied[k] = true
	}
	return &w.col.chunks[k][i&chunkMask]
}

// get reads element i of the version being built.
func (w *columnWriter[T]) get(i int) *T { return w.col.at(i) }

// grow appends a zero element and returns its index.
func (w *columnWriter[T]) grow() int {
	w.unshare()
	i := w.col.n
	if i == len(w.col.chunks)<<chunkBits {
		w.col.chunks = append(w.col.chunks, new([chunkSize]T))
		w.copied = append(w.copied, true)
	}
	w.col.n++
	return i
}

// sparse is a column of cells held only for the elements that have ever been
// written. Most locations never get some kind of reading (circuits and
// cabinets have no environment; zones and sensors no power): slot maps each
// element to 1 + the index of its cell in cells, 0 for none, so such an
// element costs 4 bytes instead of a whole cell. A slot, once given, is kept
// by every later version; a structure change that adds, removes or moves
// locations compacts the cells (see remapSparse), one that keeps them keeps
// the column as it is (Tx.rebuild).
// Reading is O(1) and lock-free, as for a column.
type sparse[T any] struct {
	slot  column[int32]
	cells column[T]
}

// at returns element i's cell, nil when it has none.
func (s sparse[T]) at(i int) *T {
	k := *s.slot.at(i)
	if k == 0 {
		return nil
	}
	return s.cells.at(int(k - 1))
}

// sparseWriter builds the next version of a sparse column.
type sparseWriter[T any] struct {
	slot  columnWriter[int32]
	cells columnWriter[T]
	zero  T // what get returns for an element without a cell; never written
}

func (w *sparseWriter[T]) begin(base sparse[T]) {
	w.slot.begin(base.slot)
	w.cells.begin(base.cells)
}

// version returns the sparse column as built so far.
func (w *sparseWriter[T]) version() sparse[T] { return sparse[T]{slot: w.slot.col, cells: w.cells.col} }

// get reads element i of the version being built: a zero cell if it has none.
func (w *sparseWriter[T]) get(i int) *T {
	k := *w.slot.get(i)
	if k == 0 {
		return &w.zero
	}
	return w.cells.get(int(k - 1))
}

// set returns a writable pointer to element i's cell, giving it one if it
// has none.
func (w *sparseWriter[T]) set(i int) *T {
	k := *w.slot.get(i)
	if k == 0 {
		k = int32(w.cells.grow()) + 1
		*w.slot.set(i) = k
	}
	return w.cells.set(int(k - 1))
}

// cellWriter is what setCell and markStale need of a column being written.
type cellWriter[T any] interface {
	get(i int) *T
	set(i int) *T
}
