package snmp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// OID is an object identifier as its sub-identifiers. The zero value (nil)
// is the empty OID, which sorts before every other.
type OID []uint32

// ParseOID parses a dotted OID ("1.3.6.1.4.1.32473" or ".1.3.6.1...").
func ParseOID(s string) (OID, error) {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return nil, errors.New("empty OID")
	}
	oid := make(OID, 0, strings.Count(s, ".")+1)
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("OID %q: sub-identifier %q is not a number in 0..4294967295", s, part)
		}
		oid = append(oid, uint32(n))
	}
	return oid, nil
}

// MustParseOID is ParseOID for constants; it panics on a malformed OID.
func MustParseOID(s string) OID {
	oid, err := ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

// String returns the OID dotted, without a leading dot ("1.3.6.1").
func (o OID) String() string {
	var buf [160]byte
	return string(o.AppendText(buf[:0]))
}

// AppendText appends the dotted form of the OID to b.
func (o OID) AppendText(b []byte) []byte {
	for i, n := range o {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return b
}

// Compare returns -1, 0 or +1 as o sorts before, equal to or after p in
// lexicographic OID order (the order of GetNext).
func (o OID) Compare(p OID) int {
	n := min(len(o), len(p))
	for i := 0; i < n; i++ {
		if o[i] != p[i] {
			if o[i] < p[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(o) < len(p):
		return -1
	case len(o) > len(p):
		return 1
	}
	return 0
}

// Equal reports whether o and p are the same OID.
func (o OID) Equal(p OID) bool { return o.Compare(p) == 0 }

// HasPrefix reports whether p is a prefix of o (o is p or below it).
func (o OID) HasPrefix(p OID) bool {
	if len(o) < len(p) {
		return false
	}
	for i := range p {
		if o[i] != p[i] {
			return false
		}
	}
	return true
}

// Append returns a new OID: o followed by subs. o is not modified.
func (o OID) Append(subs ...uint32) OID {
	r := make(OID, len(o), len(o)+len(subs))
	copy(r, o)
	return append(r, subs...)
}

// SubtreeEnd returns the first OID after every OID that has o as prefix,
// or nil when there is none (o is empty or made of 4294967295s only).
func (o OID) SubtreeEnd() OID {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i] != ^uint32(0) {
			end := make(OID, i+1)
			copy(end, o[:i+1])
			end[i]++
			return end
		}
	}
	return nil
}
