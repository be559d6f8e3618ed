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
// may read, or endOfMibView.
func (a *Agent) next(v *View, acc *access, oid OID, at *cursor) served {
	var vb served
	a.nextInto(v, acc, oid, at, &vb)
	return vb
}

// nextInto is next, written into out (a GETBULK's place in its response).
// at, when not nil, is oid's position in the MIB's tree if a previous call
// left one there (a GETBULK repetition continues from it instead of
// searching), and is updated.
//
// Moving on from the cursor is exact: oid and the instance after it are
// both in the MIB's subtree (under enterprises), which holds none of the
// agent's own groups (mib-2 and snmpModules), and a view subtree holding
// both holds everything between them.
func (a *Agent) nextInto(v *View, acc *access, oid OID, at *cursor, out *served) {
	if at != nil && at.valid {
		if v.tree.subtrees.after(v, at, out) && acc.within(oid, out.oid) {
			return
		}
		at.valid = false
	}
	if acc.view == nil {
		if a.nextIn(v, oid, false, nil, at, out) {
			return
		}
		*out = exceptionServed(oid, gosnmp.EndOfMibView)
		return
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
		if a.nextIn(v, start, include, end, at, out) {
			return
		}
	}
	*out = exceptionServed(oid, gosnmp.EndOfMibView)
}

// nextIn merges the MIB's instances with the agent's own scalars into out
// (undefined when false); at, when not nil, gets the position of a MIB
// instance found (and is left invalid for one of the agent's own).
func (a *Agent) nextIn(v *View, start OID, include bool, end OID, at *cursor, out *served) bool {
	ok := v.tree.subtrees.next(v, start, include, end, at, out)
	if ok {
		end = out.oid // a local instance must come before it to win
	}
	var local served
	if a.locals.next(v, start, include, end, nil, &local) {
		if at != nil {
			at.valid = false
		}
		*out = local
		return true
	}
	return ok
}

// serve answers a GET, GETNEXT or GETBULK from one view. budget is how
// many octets the varbind list may take; the varbinds are appended to buf.
func (a *Agent) serve(v *View, acc *access, req *request, budget int, buf []served) result {
	res := result{varbinds: buf[:0]}
	used := 0
	// Each varbind is written in its place at the end of the list (slot)
	// and kept if it fits the budget.
	slot := func() *served {
		res.varbinds = append(res.varbinds, served{})
		return &res.varbinds[len(res.varbinds)-1]
	}
	fits := func(vb *served) bool {
		n := servedLen(vb)
		if used+n > budget {
			*vb = served{}
			res.varbinds = res.varbinds[:len(res.varbinds)-1]
			return false
		}
		used += n
		return true
	}
	switch req.pduType {
	case gosnmp.GetRequest, gosnmp.GetNextRequest:
		res.varbinds = slices.Grow(res.varbinds, len(req.oids))
		for _, oid := range req.oids {
			vb := slot()
			if req.pduType == gosnmp.GetRequest {
				*vb = a.get(v, acc, oid)
			} else {
				a.nextInto(v, acc, oid, nil, vb)
			}
			if !fits(vb) {
				return result{status: gosnmp.TooBig}
			}
		}
	case gosnmp.GetBulkRequest:
		res.bulk = true
		n := int(min(req.nonRepeaters, int64(len(req.oids))))
		res.varbinds = slices.Grow(res.varbinds, int(min(int64(a.cfg.MaxVarbinds), int64(n)+req.maxReps*int64(len(req.oids)-n))))
		for _, oid := range req.oids[:n] {
			vb := slot()
			if a.nextInto(v, acc, oid, nil, vb); !fits(vb) {
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
				vb := slot()
				if ended[r] {
					*vb = exceptionServed(cur[r], gosnmp.EndOfMibView)
				} else {
					a.nextInto(v, acc, cur[r], &at[r], vb)
					if vb.typ == gosnmp.EndOfMibView {
						ended[r] = true
					} else {
						cur[r] = vb.oid
						all = false
					}
				}
				if !fits(vb) {
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
