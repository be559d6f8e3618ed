package sandbox

import (
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// jsonWriter appends JSON to a byte slice, field by field, in the order the reference shows.
// Responses are written straight from the footprint into one buffer: no reflection and no
// intermediate tree, so a whole-IBX response of thousands of circuits costs one buffer.
//
// Commas need no stack: a value or a closed container sets comma, opening a container or
// writing a key clears it.
type jsonWriter struct {
	b     []byte
	comma bool
}

func (w *jsonWriter) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
}

func (w *jsonWriter) objectStart() { w.sep(); w.b = append(w.b, '{'); w.comma = false }
func (w *jsonWriter) objectEnd()   { w.b = append(w.b, '}'); w.comma = true }
func (w *jsonWriter) arrayStart()  { w.sep(); w.b = append(w.b, '['); w.comma = false }
func (w *jsonWriter) arrayEnd()    { w.b = append(w.b, ']'); w.comma = true }

func (w *jsonWriter) key(k string) {
	w.sep()
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
	w.comma = false
}

func (w *jsonWriter) string(v string) { w.sep(); w.b = appendJSONString(w.b, v); w.comma = true }
func (w *jsonWriter) null()           { w.sep(); w.b = append(w.b, "null"...); w.comma = true }
func (w *jsonWriter) int(v int64)     { w.sep(); w.b = strconv.AppendInt(w.b, v, 10); w.comma = true }

func (w *jsonWriter) bool(v bool) {
	w.sep()
	w.b = strconv.AppendBool(w.b, v)
	w.comma = true
}

// number writes v rounded to decimals places, in its shortest form (175.334, 20, 0.5).
func (w *jsonWriter) number(v float64, decimals int) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		w.null()
		return
	}
	w.sep()
	w.b = strconv.AppendFloat(w.b, round(v, decimals), 'f', -1, 64)
	w.comma = true
}

// fixedString writes v with exactly decimals places as a JSON string ("21.0", "35.78").
func (w *jsonWriter) fixedString(v float64, decimals int) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = strconv.AppendFloat(w.b, v, 'f', decimals, 64)
	w.b = append(w.b, '"')
	w.comma = true
}

// intString writes v as a JSON string ("1552275932446").
func (w *jsonWriter) intString(v int64) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, '"')
	w.comma = true
}

func (w *jsonWriter) str(k, v string) { w.key(k); w.string(v) }

// strOrNull writes null when v is empty.
func (w *jsonWriter) strOrNull(k, v string) {
	w.key(k)
	if v == "" {
		w.null()
		return
	}
	w.string(v)
}

func round(v float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(v*p) / p
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping quotes, backslashes, control
// characters and invalid UTF-8 (as U+FFFD), like encoding/json without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writerPool recycles response buffers; buffers that grew past maxPooledBuffer are dropped so a
// rare huge response does not pin its memory.
var writerPool = sync.Pool{New: func() any { return &jsonWriter{b: make([]byte, 0, 4096)} }}

const maxPooledBuffer = 8 << 20

func getWriter() *jsonWriter {
	w := writerPool.Get().(*jsonWriter)
	w.b, w.comma = w.b[:0], false
	return w
}

func putWriter(w *jsonWriter) {
	if cap(w.b) <= maxPooledBuffer {
		writerPool.Put(w)
	}
}
