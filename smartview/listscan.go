package smartview

// This file exists for the big reading lists (power, environment, asset details with their tag
// points: ~200,000 readings a values cycle on the large footprint). encoding/json's stream decoder
// scans each element twice with its state machine (once to find its end, once more to hand it to
// UnmarshalJSON), which was about half of the decoding CPU. Here the elements of a list are
// scanned once by a small hand-written validator over a bounded window of the stream: an element
// with a member table (fields.go) is decoded member by member as the validator passes it, any
// other element that decodes itself is handed exactly the bytes encoding/json would hand it.
//
// The envelope around the list is still walked by the json.Decoder, through its public API only.
// The decoder reads the answer through splitReader, which never gives it a byte past a '[' in one
// Read: so when the decoder has returned the list's '[' and its Buffered() is empty, it holds no
// byte of the list, and the list's elements can be read from the window without it. The ']' is
// left to the decoder, which sees an empty list ("[]", valid JSON) and goes on with the envelope as
// before. When the scanner stops at an element it leaves to the decoder, the decoder is first given
// a stand-in element, "{}", so that it reads "[{}," and that element: again valid JSON in step.
//
// What the decoder does not see, it does not count: once the scanner has read elements, the
// decoder's byte offsets miss their bytes. decodeAnswer adds them (splitReader.skipped) to the
// offset of a later error, so an early end is placed exactly; a syntax error is placed by the
// decoder's own count plus the scanned bytes (encoding/json's stream offsets of syntax errors
// count only what it read as values, so such an offset may exceed what encoding/json alone would
// say by the scanned elements' commas and white space). The message is encoding/json's, and every
// error before the scanner has read an element is encoding/json's own, word for word.
//
// Anything the validator does not accept as plain valid JSON (a syntax error, an element that is
// not an object, nesting deeper than maxScanDepth, the answer ending early) or an element whose
// UnmarshalJSON fails is handed back to the json.Decoder from the start of that element, so every
// result and error is encoding/json's. The window holds at most one element beside the bytes read
// ahead, as the decoder's buffer did: an answer is never buffered whole.

import (
	"bytes"
	"encoding/json"
	"io"
)

// maxScanDepth bounds the nesting the validator follows; deeper elements go to encoding/json.
const maxScanDepth = 64

// window is a bounded, growable buffer over the answer: bytes before mark may be dropped when it
// is refilled.
type window struct {
	r    io.Reader
	buf  []byte
	pos  int // next byte to read
	end  int // end of the bytes read
	mark int // start of the bytes still needed
	err  error
}

// fill reads more bytes; false when the answer has ended (or failed) and nothing was added.
func (w *window) fill() bool {
	if w.err != nil {
		return false
	}
	if w.mark > 0 {
		n := copy(w.buf, w.buf[w.mark:w.end])
		w.pos -= w.mark
		w.end = n
		w.mark = 0
	}
	if w.end == len(w.buf) {
		size := 2 * len(w.buf)
		if size == 0 {
			size = 32 << 10
		}
		nb := make([]byte, size)
		copy(nb, w.buf[:w.end])
		w.buf = nb
	}
	for {
		n, err := w.r.Read(w.buf[w.end:])
		w.end += n
		if err != nil {
			w.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// splitReader gives the json.Decoder the answer from the window, never past a '[' in one Read.
// prefix, when set, is given before the window's bytes (see fastElements).
type splitReader struct {
	w      window
	prefix []byte
	// skipped counts the bytes of the answer read by fastElements, which the decoder did not see
	// (less the stand-in's, which it did): decodeAnswer adds them to the offsets of its errors.
	skipped int64
}

func newSplitReader(r io.Reader) *splitReader { return &splitReader{w: window{r: r}} }

func (s *splitReader) Read(p []byte) (int, error) {
	if len(s.prefix) > 0 {
		n := copy(p, s.prefix)
		s.prefix = s.prefix[n:]
		return n, nil
	}
	w := &s.w
	if w.pos == w.end {
		w.mark = w.pos
		if !w.fill() {
			return 0, w.err
		}
	}
	data := w.buf[w.pos:w.end]
	if i := bytes.IndexByte(data, '['); i >= 0 {
		data = data[:i+1]
	}
	n := copy(p, data)
	w.pos += n
	w.mark = w.pos
	return n, nil
}

// canScan reports whether the list's elements can be read by fastElements: the answer is read
// through src, the decoder holds no byte past the '[' it just returned, and T decodes itself.
func canScan[T any](dec *json.Decoder, src *splitReader) bool {
	if src == nil || len(src.prefix) > 0 {
		return false
	}
	if _, ok := any(new(T)).(json.Unmarshaler); !ok {
		return false
	}
	var one [1]byte
	n, _ := dec.Buffered().Read(one[:]) // a reader of its own over the decoder's buffer
	return n == 0
}

// fastElements reads a list's elements once its "[" has been read by dec, up to (not including)
// the "]". It returns the number of elements it read; done is false when it stopped at an element
// it left to dec, which is then positioned before that element as if it had read the others.
func (lr *listReader[T]) fastElements() (k int, done bool, err error) {
	w := &lr.src.w
	var taken int64 // bytes read
	table, _ := any(new(T)).(tabled[T])
	for {
		w.mark = w.pos
		if !w.space() {
			break
		}
		c := w.buf[w.pos]
		if c == ']' {
			lr.src.skipped += taken + int64(w.pos-w.mark)
			return k, true, nil
		}
		if k > 0 {
			if c != ',' {
				break
			}
			w.pos++
		}
		if !w.space() || w.buf[w.pos] != '{' {
			break
		}
		start := w.pos - w.mark
		e := lr.next()
		if table != nil {
			if !scanMembers(w, table.memberTable(), e) {
				lr.drop()
				break
			}
		} else if !w.object(0) || any(e).(json.Unmarshaler).UnmarshalJSON(w.buf[w.mark+start:w.pos]) != nil {
			lr.drop()
			break
		}
		taken += int64(w.pos - w.mark)
		k++
		if lr.check != nil {
			if err := lr.check(e); err != nil {
				lr.drop()
				return k, true, err
			}
		}
	}
	// Hand the element back: dec reads it from its start. After an element, dec expects a
	// comma: it is first given a stand-in element to read, "{}" (which ends without looking at
	// the byte after it, as an object element does; two bytes dec counts itself).
	w.pos = w.mark
	if k > 0 {
		lr.src.prefix = []byte("{}")
		taken -= 2
	}
	lr.src.skipped += taken
	return k, false, nil
}

// tabled is an element decoded by a member table (fields.go): the scanner then decodes each
// member as it passes it, in the one pass.
type tabled[T any] interface{ memberTable() *objectFields[T] }

// scanMembers moves past the object at pos, decoding it into out as objectFields.decode would;
// false when the object is not plain valid JSON or any member fails to decode (the element is
// then handed to encoding/json for its error).
func scanMembers[T any](w *window, f *objectFields[T], out *T) bool {
	w.pos++ // {
	if !w.space() {
		return false
	}
	if w.buf[w.pos] == '}' {
		w.pos++
		return true
	}
	for {
		if !w.space() || w.buf[w.pos] != '"' {
			return false
		}
		key := w.pos - w.mark
		if !w.str() {
			return false
		}
		keyEnd := w.pos - w.mark
		if !w.space() || w.buf[w.pos] != ':' {
			return false
		}
		w.pos++
		if !w.space() {
			return false
		}
		v := w.pos - w.mark // offsets from mark: a refill moves the bytes
		if !w.value(1) {
			return false
		}
		i, ok, err := f.member(w.buf[w.mark+key : w.mark+keyEnd])
		if err != nil {
			return false
		}
		if ok && setMember(f.ptrs[i](out), f.names[i], w.buf[w.mark+v:w.pos], f.typ) != nil {
			return false
		}
		if more, ok := w.after('}'); !ok || !more {
			return ok
		}
	}
}

// after moves past what follows a member or an element: a comma (more) or
// end, which closes its object or array; ok is false for anything else or
// when the answer ends first.
func (w *window) after(end byte) (more, ok bool) {
	if !w.space() {
		return false, false
	}
	switch w.buf[w.pos] {
	case ',':
		w.pos++
		return true, true
	case end:
		w.pos++
		return false, true
	}
	return false, false
}

// space moves past white space; false when the answer ends first.
func (w *window) space() bool {
	for {
		for ; w.pos < w.end; w.pos++ {
			switch w.buf[w.pos] {
			case ' ', '\t', '\r', '\n':
			default:
				return true
			}
		}
		if !w.fill() {
			return false
		}
	}
}

// more makes at least one byte available at pos.
func (w *window) more() bool {
	return w.pos < w.end || w.fill()
}

// value moves past one JSON value that encoding/json would accept; false when it is not one (or
// nests deeper than maxScanDepth, or the answer ends first).
func (w *window) value(depth int) bool {
	if !w.space() {
		return false
	}
	switch c := w.buf[w.pos]; {
	case c == '{':
		return w.object(depth)
	case c == '[':
		return w.array(depth)
	case c == '"':
		return w.str()
	case c == 't':
		return w.literal("true")
	case c == 'f':
		return w.literal("false")
	case c == 'n':
		return w.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return w.number()
	}
	return false
}

func (w *window) object(depth int) bool {
	if depth >= maxScanDepth {
		return false
	}
	w.pos++ // {
	if !w.space() {
		return false
	}
	if w.buf[w.pos] == '}' {
		w.pos++
		return true
	}
	for {
		if !w.space() || w.buf[w.pos] != '"' || !w.str() {
			return false
		}
		if !w.space() || w.buf[w.pos] != ':' {
			return false
		}
		w.pos++
		if !w.value(depth + 1) {
			return false
		}
		if more, ok := w.after('}'); !ok || !more {
			return ok
		}
	}
}

func (w *window) array(depth int) bool {
	if depth >= maxScanDepth {
		return false
	}
	w.pos++ // [
	if !w.space() {
		return false
	}
	if w.buf[w.pos] == ']' {
		w.pos++
		return true
	}
	for {
		if !w.value(depth + 1) {
			return false
		}
		if more, ok := w.after(']'); !ok || !more {
			return ok
		}
	}
}

// str moves past a string: no control characters, only JSON's escapes. Invalid UTF-8 is accepted,
// as encoding/json accepts it (and replaces it when decoding).
func (w *window) str() bool {
	w.pos++ // "
	for {
		for w.pos < w.end {
			c := w.buf[w.pos]
			switch {
			case c == '"':
				w.pos++
				return true
			case c < 0x20:
				return false
			case c == '\\':
				if !w.escape() {
					return false
				}
				continue
			}
			w.pos++
		}
		if !w.fill() {
			return false
		}
	}
}

func (w *window) escape() bool {
	w.pos++ // backslash
	if !w.more() {
		return false
	}
	switch w.buf[w.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		w.pos++
		return true
	case 'u':
		w.pos++
		for range 4 {
			if !w.more() {
				return false
			}
			c := w.buf[w.pos]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
			w.pos++
		}
		return true
	}
	return false
}

func (w *window) literal(s string) bool {
	for i := 0; i < len(s); i++ {
		if !w.more() || w.buf[w.pos] != s[i] {
			return false
		}
		w.pos++
	}
	return true
}

// number moves past -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (w *window) number() bool {
	if w.buf[w.pos] == '-' {
		w.pos++
	}
	if !w.more() {
		return false
	}
	switch c := w.buf[w.pos]; {
	case c == '0':
		w.pos++
	case c >= '1' && c <= '9':
		w.digits()
	default:
		return false
	}
	if w.more() && w.buf[w.pos] == '.' {
		w.pos++
		if !w.more() || !isDigit(w.buf[w.pos]) {
			return false
		}
		w.digits()
	}
	if w.more() && (w.buf[w.pos] == 'e' || w.buf[w.pos] == 'E') {
		w.pos++
		if w.more() && (w.buf[w.pos] == '+' || w.buf[w.pos] == '-') {
			w.pos++
		}
		if !w.more() || !isDigit(w.buf[w.pos]) {
			return false
		}
		w.digits()
	}
	return true
}

func (w *window) digits() {
	for w.more() && isDigit(w.buf[w.pos]) {
		w.pos++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
