package snmp

import (
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// rowSet is the rows of a table, in increasing index order.
type rowSet interface {
	Len() int
	Index(i int) uint32
}

// indexRows is a rowSet fixed when the tree is built.
type indexRows []uint32

func (r indexRows) Len() int           { return len(r) }
func (r indexRows) Index(i int) uint32 { return r[i] }

// scalarRow is the single row (index 0) of a group of scalars.
type scalarRow struct{}

func (scalarRow) Len() int         { return 1 }
func (scalarRow) Index(int) uint32 { return 0 }

// column serves one column of a table, or one scalar of a scalar group.
// value returns the value of row r, cellNone when the instance does not
// exist.
type column struct {
	obj   *Object
	sub   uint32 // the last sub-identifier of obj.OID
	value func(v *View, r int) cell
	enc   []byte // the BER contents of the subtree's prefix and sub: its instances' names but the index (newSubtree)
}

func newColumn(obj *Object, value func(v *View, r int) cell) column {
	return column{obj: obj, sub: obj.OID[len(obj.OID)-1], value: value}
}

// boxedColumn is a column whose reader returns a Varbind value and whether
// the instance exists (the agent's own groups, the alarm and alert tables
// and the gateway's scalars, which the notifications read too).
func boxedColumn(obj *Object, value func(v *View, r int) (any, bool)) column {
	return newColumn(obj, func(v *View, r int) cell {
		x, ok := value(v, r)
		if !ok {
			return cell{}
		}
		if x == nil {
			// A nil value served as an instance (never by a column of the
			// agent's): kept apart from an absent one, and refused by the
			// encoder as before.
			return cell{kind: cellBad, s: "<nil>"}
		}
		return anyCell(x)
	})
}

// subtree is a table, whose instances are prefix.column.index (prefix is the
// entry OID), or a group of scalars, whose instances are prefix.scalar.0
// (prefix is the group OID, rows is one row of index 0).
type subtree struct {
	prefix  OID
	end     OID      // prefix.SubtreeEnd()
	columns []column // by sub-identifier
	rows    func(v *View) rowSet
}

func newSubtree(prefix OID, rows func(v *View) rowSet, cols ...column) *subtree {
	sort.Slice(cols, func(i, j int) bool { return cols[i].sub < cols[j].sub })
	for i := range cols {
		cols[i].enc = appendOIDContent(nil, append(prefix[:len(prefix):len(prefix)], cols[i].sub))
	}
	return &subtree{prefix: prefix, end: prefix.SubtreeEnd(), columns: cols, rows: rows}
}

// until ends the subtree's OID range at end instead of its prefix's end, so
// a table nested in a group of scalars (sysORTable in system) can be its
// own subtree: the scalars' columns must all sort before end.
func (t *subtree) until(end OID) *subtree {
	t.end = end
	return t
}

func (t *subtree) instance(v *View, c *column, index uint32) OID {
	oid := v.alloc(len(t.prefix) + 2)
	copy(oid, t.prefix)
	oid[len(t.prefix)] = c.sub
	oid[len(t.prefix)+1] = index
	return oid
}

// get returns the instance oid, or noSuchObject / noSuchInstance.
func (t *subtree) get(v *View, oid OID) served {
	p := len(t.prefix)
	if len(oid) <= p || !oid.HasPrefix(t.prefix) {
		return exceptionServed(oid, gosnmp.NoSuchObject)
	}
	ci := sort.Search(len(t.columns), func(i int) bool { return t.columns[i].sub >= oid[p] })
	if ci == len(t.columns) || t.columns[ci].sub != oid[p] {
		return exceptionServed(oid, gosnmp.NoSuchObject)
	}
	if len(oid) != p+2 {
		return exceptionServed(oid, gosnmp.NoSuchInstance)
	}
	rows := t.rows(v)
	idx := oid[p+1]
	ri := sort.Search(rows.Len(), func(i int) bool { return rows.Index(i) >= idx })
	if ri == rows.Len() || rows.Index(ri) != idx {
		return exceptionServed(oid, gosnmp.NoSuchInstance)
	}
	c := &t.columns[ci]
	val := c.value(v, ri)
	if val.kind == cellNone {
		return exceptionServed(oid, gosnmp.NoSuchInstance)
	}
	return served{oid: oid, typ: c.obj.Type, val: val, pre: c.enc}
}

// next sets out to the first instance after start (or at start, when
// include), in column-major order, and returns its column and row
// positions. start must not be after the subtree. out is undefined when
// there is none.
func (t *subtree) next(v *View, start OID, include bool, out *served) (int, int, bool) {
	p := len(t.prefix)
	ci, ri := 0, 0
	if len(start) > p && start.HasPrefix(t.prefix) {
		c := start[p]
		ci = sort.Search(len(t.columns), func(i int) bool { return t.columns[i].sub >= c })
		if ci < len(t.columns) && t.columns[ci].sub == c && len(start) > p+1 {
			rows := t.rows(v)
			idx := start[p+1]
			ri = sort.Search(rows.Len(), func(i int) bool { return rows.Index(i) >= idx })
			if ri < rows.Len() && rows.Index(ri) == idx && !(include && len(start) == p+2) {
				ri++ // start is that instance (excluded) or below it
			}
		}
	}
	return t.scan(v, ci, ri, out)
}

// scan sets out to the first instance at or after column position ci, row
// position ri, and returns its positions. A GETBULK's varbind is written
// in its place in the response (out) rather than copied there through each
// caller.
func (t *subtree) scan(v *View, ci, ri int, out *served) (int, int, bool) {
	rows := t.rows(v)
	n := rows.Len()
	for ; ci < len(t.columns); ci++ {
		c := &t.columns[ci]
		for ; ri < n; ri++ {
			if out.val = c.value(v, ri); out.val.kind != cellNone {
				out.oid, out.typ, out.pre = t.instance(v, c, rows.Index(ri)), c.obj.Type, c.enc
				return ci, ri, true
			}
		}
		ri = 0
	}
	return 0, 0, false
}

// cursor is where a walk stands in a View's tree: the subtree, column and
// row of the instance last returned, so the next one is found by moving
// on rather than by searching for the OID again (a GETBULK repetition).
// The zero value is no position.
type cursor struct {
	ti, ci, ri int
	valid      bool
}

// subtrees is a sorted list of disjoint subtrees.
type subtrees []*subtree

func (ts subtrees) sort() {
	sort.Slice(ts, func(i, j int) bool { return ts[i].prefix.Compare(ts[j].prefix) < 0 })
}

// get returns the instance oid, or noSuchObject when no subtree holds it.
func (ts subtrees) get(v *View, oid OID) served {
	i := sort.Search(len(ts), func(i int) bool { return ts[i].end.Compare(oid) > 0 })
	if i < len(ts) && oid.HasPrefix(ts[i].prefix) {
		return ts[i].get(v, oid)
	}
	return exceptionServed(oid, gosnmp.NoSuchObject)
}

// next sets out to the first instance after start (or at start, when
// include) and before end (nil: no bound); at, when not nil, is set to its
// position. out is undefined when there is none (false).
func (ts subtrees) next(v *View, start OID, include bool, end OID, at *cursor, out *served) bool {
	i := sort.Search(len(ts), func(i int) bool { return ts[i].end.Compare(start) > 0 })
	for ; i < len(ts); i++ {
		if end != nil && ts[i].prefix.Compare(end) >= 0 {
			break
		}
		if ci, ri, ok := ts[i].next(v, start, include, out); ok {
			if end != nil && out.oid.Compare(end) >= 0 {
				break
			}
			if at != nil {
				*at = cursor{ti: i, ci: ci, ri: ri, valid: true}
			}
			return true
		}
	}
	return false
}

// after sets out to the first instance after the cursor's (unbounded) and
// moves the cursor to it: what next(instance at c, false, nil) finds,
// without the searches. out is undefined when there is none (false).
func (ts subtrees) after(v *View, c *cursor, out *served) bool {
	ci, ri := c.ci, c.ri+1
	for i := c.ti; i < len(ts); i++ {
		if ci, ri, ok := ts[i].scan(v, ci, ri, out); ok {
			*c = cursor{ti: i, ci: ci, ri: ri, valid: true}
			return true
		}
		ci, ri = 0, 0
	}
	c.valid = false
	return false
}

// Tree is the OID tree of SVGATEWAY-MIB over one model Structure: which
// rows exist, with their persistent indexes, and how each column reads its
// value from a snapshot. It is built once per Structure (see MIB) and never
// on a value change. A Tree is immutable and safe for concurrent use.
type Tree struct {
	structure *model.Structure
	subtrees  subtrees
	locIdx    []uint32 // location position → index (0: none)
	assetIdx  []uint32 // asset position → index
	tagIdx    []uint32 // tag position → index
}

// Structure returns the structure the tree was built for.
func (t *Tree) Structure() *model.Structure { return t.structure }

// View is a Tree over one Snapshot: everything a request reads. Taking a
// View costs nothing; a request takes one and answers from it alone, so
// the varbinds of one response are consistent with each other. A View is
// for one goroutine at a time (take one per request).
type View struct {
	tree   *Tree
	snap   *model.Snapshot // the snapshot, or &frozen (pooledView)
	frozen model.Snapshot
	alarms []*model.Alarm // by ID
	alerts []*model.Alert // by Number
	slab   []uint32       // instance OIDs are carved from it: one allocation per many varbinds
	octets []byte         // values formatted for the view (valueText) are appended to it
	slabs  []*[]uint32    // the slabs taken from slabPool, for recycle (pooled views only)
	taken  [2]*[]uint32   // slabs' first backing (a GETBULK of 50 needs one slab)
	pooled bool           // from pooledView: its slabs are recycled when it is released
}

// slabSize is the sub-identifiers of one slab: ~70 instance OIDs.
const slabSize = 1024

// slabPool recycles the slabs of the views the agent has answered from.
var slabPool = sync.Pool{New: func() any { s := make([]uint32, slabSize); return &s }}

// alloc returns an OID of n sub-identifiers from the view's slab. A View is
// used by one request at a time, so it needs no lock. A view of View (the
// AgentX subagent keeps one while the snapshot is current) gives its OIDs
// away: its slabs are not from the pool and are not kept, each collected
// once its OIDs are dropped.
func (v *View) alloc(n int) OID {
	if len(v.slab) < n {
		switch {
		case n > slabSize:
			return make(OID, n)
		case !v.pooled:
			v.slab = make([]uint32, slabSize)
		default:
			if v.slabs == nil {
				v.slabs = v.taken[:0]
			}
			p := slabPool.Get().(*[]uint32)
			v.slabs = append(v.slabs, p)
			v.slab = *p
		}
	}
	oid := v.slab[:n:n]
	v.slab = v.slab[n:]
	return oid
}

// recycle gives the view's slabs back for other requests. Call it only
// when no OID the view returned is used any more (the agent: once the
// response is encoded); the view must not be used after.
func (v *View) recycle() {
	for _, p := range v.slabs {
		slabPool.Put(p)
	}
	v.slabs, v.slab = nil, nil
}

// Snapshot returns the snapshot the view reads.
func (v *View) Snapshot() *model.Snapshot { return v.snap }

// Get returns the instance oid, or a varbind of type NoSuchObject (no such
// object type in the MIB) or NoSuchInstance (no such row, or the reading is
// absent) as RFC 3416 says.
func (v *View) Get(oid OID) Varbind {
	s := v.tree.subtrees.get(v, oid)
	vb := s.varbind()
	v.octets = v.octets[:0] // the Varbind holds a copy: a kept view does not grow
	return vb
}

// GetNext returns the first instance after oid, or a varbind of type
// EndOfMibView carrying oid when there is none.
func (v *View) GetNext(oid OID) Varbind {
	if vb, ok := v.Next(oid, false, nil); ok {
		return vb
	}
	return exception(oid, gosnmp.EndOfMibView)
}

// Next returns the first instance after start (at or after start when
// include is set) and before end (nil: unbounded), in lexicographic OID
// order, and false when there is none: the AgentX SearchRange semantics.
func (v *View) Next(start OID, include bool, end OID) (Varbind, bool) {
	var s served
	if !v.tree.subtrees.next(v, start, include, end, nil, &s) {
		return Varbind{}, false
	}
	vb := s.varbind()
	v.octets = v.octets[:0] // the Varbind holds a copy: a kept view does not grow
	return vb, true
}

// alarmRows are the alarm table rows of a view: the snapshot's alarms by ID.
type alarmRows []*model.Alarm

func (r alarmRows) Len() int           { return len(r) }
func (r alarmRows) Index(i int) uint32 { return uint32(r[i].ID) }

type alertRows []*model.Alert

func (r alertRows) Len() int           { return len(r) }
func (r alertRows) Index(i int) uint32 { return uint32(r[i].Number) }

// MIB serves SVGATEWAY-MIB over the model: it assigns the persistent table
// indexes and keeps the Tree of the current structure. Shared by the
// standalone agent, the AgentX subagent and the notification sender; safe
// for concurrent use.
type MIB struct {
	idx *indexes
	log *slog.Logger

	mu     sync.Mutex // serializes builds, and the two below
	report func(component string, err error)
	failed bool // the last index save failed
	cur    atomic.Pointer[Tree]
	// prev is the tree before cur, for requests that still hold an older
	// snapshot; weak, so that it does not keep the replaced structure (its
	// locations, tags and indexes: ~50 MB on the large profile) alive once
	// no View uses it.
	prev   atomic.Pointer[weak.Pointer[Tree]]
	builds atomic.Uint64
}

// IndexFile is where OpenMIB keeps the table indexes, relative to the
// gateway's state directory.
const IndexFile = "snmp/indexes.json"

// IndexComponent names the table index file in the persist health.
const IndexComponent = "snmp table indexes"

// ReportPersistTo has the outcome of index saves that change from failing
// to succeeding or back told to fn (the gateway's persist health:
// Store.ReportPersist). Call it before the MIB is used.
func (m *MIB) ReportPersistTo(fn func(component string, err error)) {
	m.mu.Lock()
	m.report = fn
	m.mu.Unlock()
}

// OpenMIB loads the persistent table indexes from stateDir/snmp/indexes.json
// (stateDir "" keeps them in memory: tests only).
func OpenMIB(stateDir string, log *slog.Logger) (*MIB, error) {
	path := ""
	if stateDir != "" {
		path = filepath.Join(stateDir, filepath.FromSlash(IndexFile))
	}
	idx, err := openIndexes(path)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &MIB{idx: idx, log: log}, nil
}

// View returns the view of snap, building the tree of its structure first
// if needed (once per structure). Its readings' quality is judged when
// each is read (the AgentX subagent keeps a view while the snapshot is
// current: a value must go stale on time even when no batch commits).
func (m *MIB) View(snap *model.Snapshot) *View {
	v := new(View)
	m.fill(v, snap)
	v.snap = snap
	return v
}

// viewPool recycles the views the agent answers from: a View holds a
// frozen copy of its snapshot (~700 octets a request otherwise).
var viewPool = sync.Pool{New: func() any { return new(View) }}

// pooledView is View from viewPool, for one request; give it back with
// release. It judges the quality of every reading it serves at one
// instant: the clock is read once per request rather than once per
// varbind, and the qualities of one response agree with each other.
func (m *MIB) pooledView(snap *model.Snapshot) *View {
	v := viewPool.Get().(*View)
	m.fill(v, snap)
	v.frozen = snap.Frozen()
	v.snap, v.pooled = &v.frozen, true
	return v
}

// release recycles the view and gives it back to viewPool, holding no
// snapshot. The same conditions as for recycle apply.
func (v *View) release() {
	v.recycle()
	octets := v.octets[:0]
	if cap(octets) > 64<<10 {
		octets = nil
	}
	*v = View{octets: octets}
	viewPool.Put(v)
}

// fill sets the view's tree and rows for snap (not its snapshot).
func (m *MIB) fill(v *View, snap *model.Snapshot) {
	v.tree, v.alarms, v.alerts = m.Tree(snap.Structure()), snap.Alarms(), snap.Alerts()
	// IDs beyond the Unsigned32 range cannot be indexes (never in practice:
	// one per alarm ever seen); rows are sorted by ID, so cut the tail.
	for len(v.alarms) > 0 && v.alarms[len(v.alarms)-1].ID > math.MaxUint32 {
		v.alarms = v.alarms[:len(v.alarms)-1]
	}
	for len(v.alerts) > 0 && v.alerts[len(v.alerts)-1].Number > math.MaxUint32 {
		v.alerts = v.alerts[:len(v.alerts)-1]
	}
}

// Tree returns the tree of st, building it if it is neither the current
// nor the previous structure's.
func (m *MIB) Tree(st *model.Structure) *Tree {
	if t := m.cur.Load(); t != nil && t.structure == st {
		return t
	}
	if p := m.prev.Load(); p != nil {
		if t := p.Value(); t != nil && t.structure == st {
			return t
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.cur.Load(); t != nil && t.structure == st {
		return t
	}
	// A newer structure's tree replaces the current one: the current one
	// becomes the weak previous before the build rather than after, so that
	// a collection during the build (it runs at the structure change, the
	// peak of memory: ~40 MB of tree on xlarge) can take it once no View
	// holds it. Requests meanwhile wait for the new tree under mu, as they
	// did; one on the older snapshot finds it through prev while it lives.
	cur := m.cur.Load()
	newer := cur == nil || cur.structure.Gen() <= st.Gen()
	if newer && cur != nil {
		prev := weak.Make(cur)
		m.prev.Store(&prev)
		m.cur.Store(nil)
	}
	start := time.Now()
	t := m.build(st)
	m.builds.Add(1)
	if newer {
		m.cur.Store(t)
	}
	m.log.Info("snmp: OID tree built", "generation", st.Gen(), "locations", len(st.Locations()),
		"assets", len(st.Assets()), "tags", len(st.Tags()), "took", time.Since(start).Round(time.Millisecond))
	return t
}

// Builds returns how many trees were built: once per structure.
func (m *MIB) Builds() uint64 { return m.builds.Load() }
