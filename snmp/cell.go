package snmp

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// This file holds the form a value takes between a column and the encoder.
// A Varbind carries its value in an any, as gosnmp does: boxing an integer,
// a string or a DateAndTime into it allocated for most varbinds of a walk,
// and every step after it (the size bound, the encoder) switched on the
// dynamic type again. The agent's own path (GET, GETNEXT, GETBULK) keeps the
// value unboxed in a cell, from the column to the octets; a Varbind is made
// only at the package's edge (View.Get and View.Next, which the AgentX
// subagent and the tests use), with the same values as before.

// cellKind says which field of a cell holds its value.
type cellKind uint8

const (
	cellNone   cellKind = iota // no value: an absent reading (no instance), an exception, Null
	cellInt                    // int64(n): an Integer32 (an int in a Varbind)
	cellUint                   // uint32(n): Counter32, Gauge32, TimeTicks, Unsigned32 (uint32)
	cellUint64                 // n: Counter64 (uint64)
	cellString                 // s: OCTET STRING (string), or the dotted OID of an OBJECT IDENTIFIER
	cellBytes                  // b: OCTET STRING ([]byte)
	cellText                   // b: OCTET STRING formatted into the view's octets (a string)
	cellDate                   // n: the first 8 octets of a DateAndTime in UTC, then '+', 0, 0 ([]byte)
	cellBad                    // a Varbind value of a Go type no SNMP type takes: s names the type
)

// cell is a value as the agent serves it, before encoding.
type cell struct {
	kind cellKind
	n    uint64
	s    string
	b    []byte
}

// Cells of the column readers. A column returns cell{} (cellNone) for an
// instance that does not exist.

func intCell(v int) cell        { return cell{kind: cellInt, n: uint64(int64(v))} }
func uintCell(v uint32) cell    { return cell{kind: cellUint, n: uint64(v)} }
func textCell(s string) cell    { return cell{kind: cellString, s: text(s)} }
func dateCell(t time.Time) cell { return cell{kind: cellDate, n: dateOctets(t)} }

// scaledCell returns v multiplied by factor and rounded, as an Integer32,
// when v is a number and the result fits; none otherwise (noSuchInstance).
func scaledCell(v model.Value, factor float64) cell {
	if !v.IsNum {
		return cell{}
	}
	x := math.Round(v.Num * factor)
	if math.IsNaN(x) || x < math.MinInt32 || x > math.MaxInt32 {
		return cell{}
	}
	return intCell(int(x))
}

// valueText is text(x.String()) as a cell: the upstream text, or a number
// upstream sent as a JSON number formatted into the view's octets rather
// than into a new string.
func (v *View) valueText(x model.Value) cell {
	if x.Text != "" || !x.IsNum {
		return textCell(x.Text)
	}
	start := len(v.octets)
	v.octets = strconv.AppendFloat(v.octets, x.Num, 'f', -1, 64) // model.Value.String's format
	b := v.octets[start:len(v.octets):len(v.octets)]
	return cell{kind: cellText, b: b[:min(len(b), maxAdminString)]} // ASCII: text's cut
}

// dateOctets packs the first 8 octets of t's DateAndTime (dateAndTime).
func dateOctets(t time.Time) uint64 {
	if t.IsZero() {
		t = epoch
	}
	t = t.UTC()
	y := uint64(min(max(t.Year(), 0), 65535))
	return y<<48 | uint64(t.Month())<<40 | uint64(t.Day())<<32 | uint64(t.Hour())<<24 | uint64(t.Minute())<<16 |
		uint64(t.Second())<<8 | uint64(t.Nanosecond()/100_000_000)
}

// appendDate appends the 11 octets of a packed DateAndTime.
func appendDate(b []byte, n uint64) []byte {
	return append(b, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n), '+', 0, 0)
}

// anyCell is the cell of a Varbind value of type t.
func anyCell(x any) cell {
	switch v := x.(type) {
	case nil:
		return cell{}
	case int:
		return intCell(v)
	case uint32:
		return uintCell(v)
	case uint:
		return uintCell(uint32(v))
	case uint64:
		return cell{kind: cellUint64, n: v}
	case string:
		return cell{kind: cellString, s: v}
	case []byte:
		return cell{kind: cellBytes, b: v}
	}
	return cell{kind: cellBad, s: fmt.Sprintf("%T", x)}
}

// value is the cell as a Varbind value (uint values as uint32, as the
// encoder writes them).
func (c *cell) value() any {
	switch c.kind {
	case cellInt:
		return int(int64(c.n))
	case cellUint:
		return uint32(c.n)
	case cellUint64:
		return c.n
	case cellString:
		return c.s
	case cellBytes:
		return c.b
	case cellText:
		return string(c.b)
	case cellDate:
		return appendDate(make([]byte, 0, 11), c.n)
	}
	return nil
}

// goType names the Go type the value has as a Varbind value, for errors.
func (c *cell) goType() string {
	switch c.kind {
	case cellNone:
		return "<nil>"
	case cellBad:
		return c.s
	}
	return fmt.Sprintf("%T", c.value())
}

// served is a varbind as the agent serves it: Varbind with its value in a
// cell.
type served struct {
	oid OID
	typ gosnmp.Asn1BER
	val cell
	// pre, when not nil, is the BER contents of oid but its last
	// sub-identifier (its column's, column.enc): the name is written from
	// it instead of from every sub-identifier, twice (size, then octets).
	pre []byte
}

// nameLen is the contents length of s's OID.
func (s *served) nameLen() int {
	if s.pre != nil {
		return len(s.pre) + base128Len(uint64(s.oid[len(s.oid)-1]))
	}
	return oidContentLen(s.oid)
}

// appendName appends the contents octets of s's OID.
func (s *served) appendName(b []byte) []byte {
	if s.pre != nil {
		return appendBase128(append(b, s.pre...), uint64(s.oid[len(s.oid)-1]))
	}
	return appendOIDContent(b, s.oid)
}

// servedOf returns vb as a served varbind.
func servedOf(vb Varbind) served {
	return served{oid: vb.OID, typ: vb.Type, val: anyCell(vb.Value)}
}

// varbind returns s as a Varbind.
func (s *served) varbind() Varbind { return Varbind{OID: s.oid, Type: s.typ, Value: s.val.value()} }

// exceptionServed returns a served varbind carrying an SNMPv2 exception.
func exceptionServed(oid OID, t gosnmp.Asn1BER) served { return served{oid: oid, typ: t} }

// servedLen is the encoded size of a varbind as appendServed writes it,
// computed as varbindLen computes it for the Varbind (the size bound of a
// GETBULK cuts where it cut).
func servedLen(s *served) int {
	val := 0
	switch s.val.kind {
	case cellInt:
		val = intContentLen(int64(s.val.n))
	case cellUint:
		val = intContentLen(int64(uint32(s.val.n)))
	case cellUint64:
		val = 9
		if s.val.n <= math.MaxInt64 {
			val = intContentLen(int64(s.val.n))
		}
	case cellString:
		val = len(s.val.s)
		if s.typ == gosnmp.ObjectIdentifier {
			if o, err := ParseOID(s.val.s); err == nil {
				val = oidContentLen(o)
			}
		}
	case cellBytes, cellText:
		val = len(s.val.b)
	case cellDate:
		val = 11
	}
	return tlvLen(tlvLen(s.nameLen()) + tlvLen(val))
}
