package snmp

import (
	"slices"

	"github.com/gosnmp/gosnmp"
)

// access is what a community or user may read: OID subtrees, sorted and
// disjoint; nil means everything the agent serves.
type access struct {
	name string // for logs: "community #1", "user ops" (never a secret)
	view []OID
}

func (a *access) allows(oid OID) bool {
	if a.view == nil {
		return true
	}
	for _, s := range a.view {
		if oid.HasPrefix(s) {
			return true
		}
	}
	return false
}

// result is the answer to a request, before encoding.
type result struct {
	status   gosnmp.SNMPError
	index    int
	varbinds []served
	bulk     bool // the varbind list may be shortened to fit (GETBULK)
}

// get serves one GET varbind.
func (a *Agent) get(v *View, acc *access, oid OID) served {
	if !acc.allows(oid) {
		return exceptionServed(oid, gosnmp.NoSuchObject)
	}
	if oid.HasPrefix(rootOID) {
		return v.tree.subtrees.get(v, oid)
	}
	return a.locals.get(v, oid)
}

// within reports whether a view subtree holds both x and y, so every OID
// between them is readable too; always with no view.
func (a *access) within(x, y OID) bool {
	if a.view == nil {
		return true
	}
	for _, s := range a.view {
		if x.HasPrefix(s) && y.HasPrefix(s) {
			return true
		}
	}
	return false
}

// next serves one GETNEXT varbind: the first instance after oid that acc
// may read, or endOfMibView. at, when not nil, is oid's position in the
// MIB's tree if a previous call left one there (a GETBULK repetition
// continues from it instead of searching), and is updated.
//
// Moving on from the cursor is exact: oid and the instance after it are
// both in the MIB's subtree (under enterprises), which holds none of the
// agent's own groups (mib-2 and snmpModules), and a view subtree holding
// both holds everything between them.
func (a *Agent) next(v *View, acc *access, oid OID, at *cursor) served {
	if at != nil && at.valid {
		if vb, ok := v.tree.subtrees.after(v, at); ok && acc.within(oid, vb.oid) {
			return vb
		}
		at.valid = false
	}
	if acc.view == nil {
		if vb, ok := a.nextIn(v, oid, false, nil, at); ok {
			return vb
		}
		return exceptionServed(oid, gosnmp.EndOfMibView)
	}
	for _, sub := range acc.view {
		end := sub.SubtreeEnd()
		if end != nil && oid.Compare(end) >= 0 {
			continue
		}
		start, include := oid, false
		if oid.Compare(sub) < 0 {
			start, include = sub, true
		}
		if vb, ok := a.nextIn(v, start, include, end, at); ok {
			return vb
		}
	}
	return exceptionServed(oid, gosnmp.EndOfMibView)
}

// nextIn merges the MIB's instances with the agent's own scalars; at, when
// not nil, gets the position of a MIB instance returned (and is left
// invalid for one of the agent's own).
func (a *Agent) nextIn(v *View, start OID, include bool, end OID, at *cursor) (served, bool) {
	vb, ok := v.tree.subtrees.next(v, start, include, end, at)
	if ok {
		end = vb.oid // a local instance must come before it to win
	}
	if lvb, lok := a.locals.next(v, start, include, end, nil); lok {
		if at != nil {
			at.valid = false
		}
		return lvb, true
	}
	return vb, ok
}

// serve answers a GET, GETNEXT or GETBULK from one view. budget is how
// many octets the varbind list may take; the varbinds are appended to buf.
func (a *Agent) serve(v *View, acc *access, req *request, budget int, buf []served) result {
	res := result{varbinds: buf[:0]}
	used := 0
	add := func(vb *served) bool {
		n := servedLen(vb)
		if used+n > budget {
			return false
		}
		used += n
		res.varbinds = append(res.varbinds, *vb)
		return true
	}
	switch req.pduType {
	case gosnmp.GetRequest, gosnmp.GetNextRequest:
		res.varbinds = slices.Grow(res.varbinds, len(req.oids))
		for _, oid := range req.oids {
			var vb served
			if req.pduType == gosnmp.GetRequest {
				vb = a.get(v, acc, oid)
			} else {
				vb = a.next(v, acc, oid, nil)
			}
			if !add(&vb) {
				return result{status: gosnmp.TooBig}
			}
		}
	case gosnmp.GetBulkRequest:
		res.bulk = true
		n := int(min(req.nonRepeaters, int64(len(req.oids))))
		res.varbinds = slices.Grow(res.varbinds, int(min(int64(a.cfg.MaxVarbinds), int64(n)+req.maxReps*int64(len(req.oids)-n))))
		for _, oid := range req.oids[:n] {
			if vb := a.next(v, acc, oid, nil); !add(&vb) {
				return finishBulk(res)
			}
		}
		repeaters := req.oids[n:]
		if len(repeaters) == 0 {
			return res
		}
		reps := int(min(req.maxReps, int64(a.cfg.MaxRepetitions), int64((a.cfg.MaxVarbinds-n)/len(repeaters))))
		// A walk has one repeater: its state stays on the stack.
		var curs [4]OID
		var endeds [4]bool
		var ats [4]cursor
		cur, ended, at := curs[:0], endeds[:0], ats[:0]
		if len(repeaters) > len(curs) {
			cur, ended, at = make([]OID, 0, len(repeaters)), make([]bool, 0, len(repeaters)), make([]cursor, 0, len(repeaters))
		}
		cur = append(cur, repeaters...)
		ended, at = ended[:len(repeaters)], at[:len(repeaters)]
		for i := 0; i < reps; i++ {
			all := true
			for r := range repeaters {
				var vb served
				if ended[r] {
					vb = exceptionServed(cur[r], gosnmp.EndOfMibView)
				} else {
					vb = a.next(v, acc, cur[r], &at[r])
					if vb.typ == gosnmp.EndOfMibView {
						ended[r] = true
					} else {
						cur[r] = vb.oid
						all = false
					}
				}
				if !add(&vb) {
					return finishBulk(res)
				}
			}
			if all {
				break // every repeater is at the end of the view: nothing more to say
			}
		}
	}
	return res
}

// finishBulk ends a GETBULK response cut by the size budget: shortened, or
// tooBig when not even one varbind fits.
func finishBulk(res result) result {
	if len(res.varbinds) == 0 {
		return result{status: gosnmp.TooBig}
	}
	return res
}

// BER sizes, to keep responses within the message size without encoding
// twice.

func lenOfLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	}
	return 5
}

func tlvLen(n int) int { return 1 + lenOfLen(n) + n }

func base128Len(n uint64) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

func oidContentLen(o OID) int {
	if len(o) < 2 {
		return 1
	}
	n := base128Len(uint64(o[0])*40 + uint64(o[1]))
	for _, s := range o[2:] {
		n += base128Len(uint64(s))
	}
	return n
}

func intContentLen(v int64) int {
	n := 1
	for v > 127 || v < -128 {
		v >>= 8
		n++
	}
	return n
}
