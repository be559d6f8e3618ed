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

// set returns a writable pointer to element i.
func (w *columnWriter[T]) set(i int) *T {
	if w.shared {
		w.col.chunks = append([]*[chunkSize]T(nil), w.col.chunks...)
		if cap(w.copied) < len(w.col.chunks) {
			w.copied = make([]bool, len(w.col.chunks))
		} else {
			w.copied = w.copied[:len(w.col.chunks)]
			clear(w.copied)
		}
		w.shared = false
	}
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
