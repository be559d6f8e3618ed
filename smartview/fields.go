package smartview

// This file exists for the bulk readings: a values cycle of the large footprint decodes ~100,000
// power readings and ~100,000 tag points, and part of that time is encoding/json's reflection (a
// field lookup and an UnmarshalJSON call through an interface per member; BenchmarkDecodePowerList:
// 12 % of the decoding CPU; the rest was mostly the stream decoder scanning each element twice, which
// listscan.go now avoids for lists). The types here decode one JSON object by a table of its
// members instead, with what encoding/json would do for each member kept: keys matched exactly
// first, then case-insensitively; unknown members skipped; a later duplicate overwrites an earlier
// one; null leaves a string unchanged; a member of the wrong JSON type is an
// *json.UnmarshalTypeError naming it, reported after the other members are read; a loose type's own
// error (Number given an object) stops the decoding.

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"unicode/utf8"
)

// objectFields is the member table of one struct type: each JSON name with a function giving
// the address of its field (*string, *Text, *Number, *Bool, *Time, or a member with its own
// decoder).
type objectFields[T any] struct {
	names []string
	ptrs  []func(*T) any
	exact map[string]int
	typ   reflect.Type
	// slots finds a member by its exact name without hashing the whole key (the map was a fifth
	// of the decoding): slots[nameSlot(name, seed)] is its index + 1, or -1 where names collide
	// (the map decides), 0 where no name falls.
	slots [256]int8
	seed  uint
}

// nameSlot hashes a name by its length and three of its bytes.
func nameSlot[S string | []byte](name S, seed uint) uint8 {
	n := len(name)
	if n == 0 {
		return 0
	}
	return uint8(uint(n)*seed + uint(name[0])*31 + uint(name[n-1])*seed*7 + uint(name[n/2])*3)
}

func newObjectFields[T any](members map[string]func(*T) any) *objectFields[T] {
	f := &objectFields[T]{exact: make(map[string]int, len(members)), typ: reflect.TypeFor[T]()}
	for name, ptr := range members {
		f.exact[name] = len(f.names)
		f.names = append(f.names, name)
		f.ptrs = append(f.ptrs, ptr)
	}
	// The seed that spreads the names best (power and tag points: no collision; environment: two
	// names share a slot and go to the map).
	best := -1
	if len(f.names) > 127 { // beyond int8: the map decides
		for i := range f.slots {
			f.slots[i] = -1
		}
		best = 0
	}
	for seed := uint(1); seed < 256 && best != 0; seed += 2 {
		var slots [256]int8
		collisions := 0
		for i, n := range f.names {
			switch h := nameSlot(n, seed); slots[h] {
			case 0:
				slots[h] = int8(i + 1)
			default:
				slots[h] = -1
				collisions++
			}
		}
		if best < 0 || collisions < best {
			best, f.slots, f.seed = collisions, slots, seed
		}
	}
	return f
}

// lookup finds a member as encoding/json does: the exact name, else a case-insensitive match.
func (f *objectFields[T]) lookup(key string) (int, bool) {
	if i, ok := f.exact[key]; ok {
		return i, true
	}
	for i, n := range f.names {
		if strings.EqualFold(n, key) {
			return i, true
		}
	}
	return 0, false
}

// lookupBytes is lookup of a key without escapes.
func (f *objectFields[T]) lookupBytes(key []byte) (int, bool) {
	switch s := f.slots[nameSlot(key, f.seed)]; {
	case s > 0 && f.names[s-1] == string(key):
		return int(s - 1), true
	case s < 0:
		if i, ok := f.exact[string(key)]; ok {
			return i, true
		}
	}
	for i, n := range f.names {
		if len(n) == len(key) && bytes.EqualFold([]byte(n), key) {
			return i, true
		}
	}
	return 0, false
}

// member finds the member of a quoted key.
func (f *objectFields[T]) member(rawKey []byte) (int, bool, error) {
	if inner := rawKey[1 : len(rawKey)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		i, ok := f.lookupBytes(inner) // the common case: no string is made of the key
		return i, ok, nil
	}
	key, err := unquote(rawKey)
	if err != nil {
		return 0, false, err
	}
	i, ok := f.lookup(key)
	return i, ok, nil
}

var errBadObject = errors.New("invalid JSON object")

// decode reads the JSON object in data into out.
func (f *objectFields[T]) decode(data []byte, out *T) error {
	s := scanner{data: data}
	s.space()
	if s.i >= len(s.data) {
		return errBadObject
	}
	switch s.data[s.i] {
	case 'n':
		return nil // null: unchanged, as encoding/json leaves a struct
	case '{':
	default:
		v, err := s.value()
		if err != nil {
			return err
		}
		return &json.UnmarshalTypeError{Value: jsonKind(v), Type: f.typ}
	}
	s.i++
	var saved error
	for first := true; ; first = false {
		if more, err := s.more('}', first); err != nil {
			return err
		} else if !more {
			break
		}
		rawKey, err := s.value()
		if err != nil || len(rawKey) < 2 || rawKey[0] != '"' {
			return errBadObject
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return errBadObject
		}
		s.i++
		s.space()
		v, err := s.value()
		if err != nil {
			return err
		}
		i, ok, err := f.member(rawKey)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := setMember(f.ptrs[i](out), f.names[i], v, f.typ); err != nil {
			if stop, ok := err.(memberStop); ok {
				return stop.err
			}
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return err
			}
			if saved == nil {
				saved = err
			}
		}
	}
	return saved
}

// memberStop is an error of a member that stops the decoding even when it is an
// *json.UnmarshalTypeError: encoding/json stops at an error an element's UnmarshalJSON returns
// (listMember), where it reports a member of the wrong type only after the others.
type memberStop struct{ err error }

func (m memberStop) Error() string { return m.err.Error() }
func (m memberStop) Unwrap() error { return m.err }

// setMember decodes one member's value into the field at p.
func setMember(p any, name string, v []byte, in reflect.Type) error {
	switch p := p.(type) {
	case *string:
		switch v[0] {
		case 'n':
			return nil
		case '"':
			s, err := unquote(v)
			if err != nil {
				return err
			}
			*p = s
			return nil
		}
		return &json.UnmarshalTypeError{Value: jsonKind(v), Type: reflect.TypeFor[string](), Field: name, Struct: in.Name()}
	case json.Unmarshaler:
		err := p.UnmarshalJSON(v)
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				te.Field = joinField(name, te.Field)
				// encoding/json names the struct whose member it was decoding when the member's
				// own value is of the wrong type, or an element stops it
				if _, stop := err.(memberStop); stop || te.Struct == "" {
					te.Struct = in.Name()
				}
			}
		}
		return err
	}
	return errors.New("smartview: unsupported member type") // a table error, found by the tests
}

func joinField(name, field string) string {
	if field == "" {
		return name
	}
	return name + "." + field
}

// jsonKind names a JSON value's type as *json.UnmarshalTypeError does.
func jsonKind(v []byte) string {
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// unquote returns a JSON string's content; one without escapes is sliced, not decoded.
func unquote(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		inner := v[1 : len(v)-1]
		plain := utf8.Valid(inner)
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain {
			return string(inner), nil
		}
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", err
	}
	return s, nil
}

// scanner walks JSON text. It relies on the text having been validated (encoding/json does so
// before it calls UnmarshalJSON) but checks its bounds, so malformed text is an error, never a
// panic.
type scanner struct {
	data []byte
	i    int
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// more moves to the next member or element of the object or array that end
// closes, past the comma before it (none before the first): false, and past
// end, when end comes instead.
func (s *scanner) more(end byte, first bool) (bool, error) {
	s.space()
	if s.i < len(s.data) && s.data[s.i] == end {
		s.i++
		return false, nil
	}
	if !first {
		if s.i >= len(s.data) || s.data[s.i] != ',' {
			return false, errBadObject
		}
		s.i++
		s.space()
	}
	return true, nil
}

// value returns the raw text of the value at the current position and moves past it.
func (s *scanner) value() ([]byte, error) {
	start := s.i
	if s.i >= len(s.data) {
		return nil, errBadObject
	}
	switch s.data[s.i] {
	case '"':
		if err := s.str(); err != nil {
			return nil, err
		}
	case '{', '[':
		depth := 0
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case '"':
				if err := s.str(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return s.data[start:s.i], nil
			}
		}
		return nil, errBadObject
	default:
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				if s.i == start {
					return nil, errBadObject
				}
				return s.data[start:s.i], nil
			}
			s.i++
		}
		if s.i == start {
			return nil, errBadObject
		}
	}
	return s.data[start:s.i], nil
}

// str moves past the string that starts at the current position.
func (s *scanner) str() error {
	for s.i++; s.i < len(s.data); s.i++ {
		switch s.data[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return nil
		}
	}
	return errBadObject
}

// listMember decodes an array member as encoding/json decodes a []T whose elements decode
// themselves (asset details' tags, trending samples): null leaves no elements, [] an empty (not
// nil) list, another JSON type is an *json.UnmarshalTypeError reported after the other members; an
// element's error stops the decoding; a later duplicate member decodes into the earlier one's
// elements, as encoding/json reuses the slice.
type listMember[T any, P interface {
	*T
	json.Unmarshaler
}] struct{ p *[]T }

func (m listMember[T, P]) UnmarshalJSON(data []byte) error {
	s := scanner{data: data}
	if open, err := s.openArray(reflect.TypeFor[[]T]()); !open {
		if err == nil {
			*m.p = nil
		}
		return err
	}
	list, i := *m.p, 0
	if list == nil {
		// sized once: grown by append, a list left ~1.5× its size behind as garbage (~23 MB a
		// values cycle of the large footprint's asset details)
		list = make([]T, 0, s.elements())
	}
	for ; ; i++ {
		if more, err := s.more(']', i == 0); err != nil {
			return err
		} else if !more {
			break
		}
		v, err := s.value()
		if err != nil {
			return err
		}
		var zero T
		switch {
		case i < len(list): // a duplicate member: decoded into the earlier element, as encoding/json does
		case i < cap(list):
			list = list[:i+1] // the earlier element beyond the earlier length, not zeroed (reflect's SetLen)
		default:
			list = append(list, zero)
		}
		if err := P(&list[i]).UnmarshalJSON(v); err != nil {
			*m.p = list
			return memberStop{err}
		}
	}
	if i == 0 {
		list = []T{}
	}
	*m.p = list[:i]
	return nil
}

// elements counts the elements of the array s is in (just past its '['), for the list's capacity:
// on a copy of the scanner, it skips each element as the decoding that follows reads it, and stops
// at the array's end or at what it cannot read (the decoding reports that), so it never counts
// more than the decoding reads. Skipping is a fraction of what decoding costs.
func (s scanner) elements() int {
	n := 0
	for first := true; ; first = false {
		if more, err := s.more(']', first); err != nil || !more {
			return n
		}
		if _, err := s.value(); err != nil {
			return n
		}
		n++
	}
}

// openArray reads the start of a value decoded as a slice: past its '[' it
// returns true; for null, false and no error (the slice is then nil, as
// encoding/json leaves it); for another JSON type, the
// *json.UnmarshalTypeError encoding/json gives for typ.
func (s *scanner) openArray(typ reflect.Type) (bool, error) {
	s.space()
	if s.i >= len(s.data) {
		return false, errBadObject
	}
	switch s.data[s.i] {
	case 'n':
		return false, nil
	case '[':
		s.i++
		return true, nil
	}
	v, err := s.value()
	if err != nil {
		return false, err
	}
	return false, &json.UnmarshalTypeError{Value: jsonKind(v), Type: typ}
}

// stringsMember decodes an array of strings as encoding/json decodes a []string: null leaves no
// elements and [] an empty list; a null element leaves the element as it was (empty, or the
// earlier duplicate's); an element of another JSON type, or another JSON type for the whole, is an
// *json.UnmarshalTypeError reported after the rest, the other elements decoded.
type stringsMember struct{ p *[]string }

func (m stringsMember) UnmarshalJSON(data []byte) error {
	s := scanner{data: data}
	if open, err := s.openArray(reflect.TypeFor[[]string]()); !open {
		if err == nil {
			*m.p = nil
		}
		return err
	}
	list, i := *m.p, 0
	var saved error
	for ; ; i++ {
		if more, err := s.more(']', i == 0); err != nil {
			return err
		} else if !more {
			break
		}
		v, err := s.value()
		if err != nil {
			return err
		}
		switch {
		case i < len(list):
		case i < cap(list):
			list = list[:i+1]
		default:
			list = append(list, "")
		}
		switch v[0] {
		case 'n':
		case '"':
			str, err := unquote(v)
			if err != nil {
				return err
			}
			list[i] = str
		default:
			if saved == nil {
				saved = &json.UnmarshalTypeError{Value: jsonKind(v), Type: reflect.TypeFor[string]()}
			}
		}
	}
	if i == 0 {
		list = []string{}
	}
	*m.p = list[:i]
	return saved
}
