package opcua

import (
	"math"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"
)

// EventFilter: select clauses choose an event's fields by browse path,
// a where clause (a ContentFilter) chooses the events. A filter is checked
// once, when the monitored item is created or modified, and compiled; its
// evaluation then cannot fail, only be false.
//
// Select clauses naming what the gateway's events do not have are reported
// per clause in the EventFilterResult (the item is created; the field is
// null). A where clause the gateway cannot evaluate refuses the item with
// Bad_EventFilterInvalid and says per element why: an unsupported operator
// (Bad_FilterOperatorUnsupported), a wrong number of operands
// (Bad_FilterOperandCountMismatch), an operand that is not one
// (Bad_FilterOperandInvalid: among them an element reference out of range
// or in a cycle, the operand's own code being Bad_FilterElementInvalid).

// maxSelectClauses and maxWhereElements bound a filter's size.
const (
	maxSelectClauses = 64
	maxWhereElements = 64
)

// selectField is one compiled select clause.
type selectField struct {
	path string // field path; "" for an invalid clause (null value)
	rng  *indexRange
}

// eventFilter is a compiled EventFilter.
type eventFilter struct {
	selects []selectField
	where   []whereElement // nil: every event
}

// whereElement is one compiled ContentFilterElement.
type whereElement struct {
	op       ua.FilterOperator
	operands []operand
}

// operand is a compiled filter operand: exactly one of element (>= 0),
// literal, or field is set.
type operand struct {
	element int
	literal *ua.Variant
	field   string
	isField bool
}

// supportedOperators are the where-clause operators the gateway evaluates.
var supportedOperators = map[ua.FilterOperator][2]int{ // operand count min, max (-1: any)
	ua.FilterOperatorEquals:             {2, 2},
	ua.FilterOperatorIsNull:             {1, 1},
	ua.FilterOperatorGreaterThan:        {2, 2},
	ua.FilterOperatorLessThan:           {2, 2},
	ua.FilterOperatorGreaterThanOrEqual: {2, 2},
	ua.FilterOperatorLessThanOrEqual:    {2, 2},
	ua.FilterOperatorNot:                {1, 1},
	ua.FilterOperatorInList:             {2, -1},
	ua.FilterOperatorAnd:                {2, 2},
	ua.FilterOperatorOr:                 {2, 2},
	ua.FilterOperatorOfType:             {1, 1},
}

// compileEventFilter checks and compiles f. code is Good, or the status of
// the monitored item (Bad_EventFilterInvalid); res is the filter result to
// return either way.
func compileEventFilter(f *ua.EventFilter) (*eventFilter, *ua.EventFilterResult, ua.StatusCode) {
	res := &ua.EventFilterResult{SelectClauseResults: []ua.StatusCode{}, SelectClauseDiagnosticInfos: []*ua.DiagnosticInfo{},
		WhereClauseResult: &ua.ContentFilterResult{ElementResults: []*ua.ContentFilterElementResult{}, ElementDiagnosticInfos: []*ua.DiagnosticInfo{}}}
	if f == nil || len(f.SelectClauses) == 0 || len(f.SelectClauses) > maxSelectClauses {
		return nil, res, ua.StatusBadEventFilterInvalid
	}
	out := &eventFilter{}
	for _, sc := range f.SelectClauses {
		sf, code := compileOperand(sc)
		out.selects = append(out.selects, sf)
		res.SelectClauseResults = append(res.SelectClauseResults, code)
	}
	if f.WhereClause == nil || len(f.WhereClause.Elements) == 0 {
		return out, res, ua.StatusGood
	}
	els := f.WhereClause.Elements
	if len(els) > maxWhereElements {
		return nil, res, ua.StatusBadEventFilterInvalid
	}
	ok := true
	for i, el := range els {
		w, r := compileElement(i, len(els), el)
		res.WhereClauseResult.ElementResults = append(res.WhereClauseResult.ElementResults, r)
		if r.StatusCode != ua.StatusGood {
			ok = false
		}
		out.where = append(out.where, w)
	}
	if ok {
		ok = checkAcyclic(out.where, res.WhereClauseResult.ElementResults)
	}
	if !ok {
		return nil, res, ua.StatusBadEventFilterInvalid
	}
	// A valid where clause reports no element results (Part 4: empty when
	// all are Good).
	res.WhereClauseResult.ElementResults = []*ua.ContentFilterElementResult{}
	return out, res, ua.StatusGood
}

// compileOperand checks a SimpleAttributeOperand against the fields of the
// gateway's events.
func compileOperand(sc *ua.SimpleAttributeOperand) (selectField, ua.StatusCode) {
	switch {
	case sc == nil:
		return selectField{}, ua.StatusBadFilterOperandInvalid
	case sc.TypeDefinitionID != nil && !isNullNodeID(sc.TypeDefinitionID) && !knownEventType(sc.TypeDefinitionID):
		return selectField{}, ua.StatusBadTypeDefinitionInvalid
	}
	var path string
	switch {
	case sc.AttributeID == ua.AttributeIDNodeID && len(sc.BrowsePath) == 0:
		path = fConditionID
	case sc.AttributeID != ua.AttributeIDValue:
		return selectField{}, ua.StatusBadAttributeIDInvalid
	default:
		path = pathKey(sc.BrowsePath)
	}
	if !knownFields[path] {
		return selectField{}, ua.StatusBadNodeIDUnknown
	}
	sf := selectField{path: path}
	if sc.IndexRange != "" {
		r, ok := parseIndexRange(sc.IndexRange)
		if !ok {
			return selectField{}, ua.StatusBadIndexRangeInvalid
		}
		sf.rng = &r
	}
	return sf, ua.StatusGood
}

func isNullNodeID(n *ua.NodeID) bool {
	k, ok := keyOf(n)
	return ok && k == nodeKey{}
}

func compileElement(i, n int, el *ua.ContentFilterElement) (whereElement, *ua.ContentFilterElementResult) {
	r := &ua.ContentFilterElementResult{StatusCode: ua.StatusGood, OperandStatusCodes: []ua.StatusCode{}, OperandDiagnosticInfos: []*ua.DiagnosticInfo{}}
	if el == nil {
		r.StatusCode = ua.StatusBadFilterElementInvalid
		return whereElement{}, r
	}
	w := whereElement{op: el.FilterOperator}
	count, ok := supportedOperators[el.FilterOperator]
	if !ok {
		r.StatusCode = ua.StatusBadFilterOperatorUnsupported
		return w, r
	}
	if len(el.FilterOperands) < count[0] || (count[1] >= 0 && len(el.FilterOperands) > count[1]) || len(el.FilterOperands) > maxWhereElements {
		r.StatusCode = ua.StatusBadFilterOperandCountMismatch
		return w, r
	}
	for _, eo := range el.FilterOperands {
		op, code := compileWhereOperand(i, n, eo)
		if code == ua.StatusGood && el.FilterOperator == ua.FilterOperatorOfType && (op.literal == nil || op.literal.Type() != ua.TypeIDNodeID) {
			code = ua.StatusBadFilterOperandInvalid // OfType takes a NodeId literal
		}
		if code == ua.StatusGood && (el.FilterOperator == ua.FilterOperatorAnd || el.FilterOperator == ua.FilterOperatorOr ||
			el.FilterOperator == ua.FilterOperatorNot) && op.literal != nil && op.literal.Type() != ua.TypeIDBoolean {
			code = ua.StatusBadFilterOperandInvalid
		}
		r.OperandStatusCodes = append(r.OperandStatusCodes, code)
		if code != ua.StatusGood {
			r.StatusCode = ua.StatusBadFilterOperandInvalid
		}
		w.operands = append(w.operands, op)
	}
	if r.StatusCode == ua.StatusGood {
		r.OperandStatusCodes = []ua.StatusCode{}
	}
	return w, r
}

func compileWhereOperand(i, n int, eo *ua.ExtensionObject) (operand, ua.StatusCode) {
	if eo == nil {
		return operand{}, ua.StatusBadFilterOperandInvalid
	}
	switch v := eo.Value.(type) {
	case *ua.ElementOperand:
		if int(v.Index) == i || int(v.Index) >= n {
			return operand{}, ua.StatusBadFilterElementInvalid
		}
		return operand{element: int(v.Index)}, ua.StatusGood
	case *ua.LiteralOperand:
		if v.Value == nil {
			return operand{}, ua.StatusBadFilterOperandInvalid
		}
		return operand{element: -1, literal: v.Value}, ua.StatusGood
	case *ua.SimpleAttributeOperand:
		sf, code := compileOperand(v)
		if code == ua.StatusBadNodeIDUnknown {
			// a field the events do not have is null, as in a select clause
			return operand{element: -1, field: "\x00unknown", isField: true}, ua.StatusGood
		}
		if code != ua.StatusGood {
			return operand{}, code
		}
		return operand{element: -1, field: sf.path, isField: true}, ua.StatusGood
	}
	return operand{}, ua.StatusBadFilterOperandInvalid
}

// checkAcyclic marks the element operands that close a cycle (the
// evaluation follows element references, so it must end) and reports
// whether there were none.
func checkAcyclic(els []whereElement, results []*ua.ContentFilterElementResult) bool {
	const (
		unseen = iota
		visiting
		done
	)
	state := make([]int, len(els))
	ok := true
	var visit func(i int)
	visit = func(i int) {
		state[i] = visiting
		for j, o := range els[i].operands {
			if o.isField || o.literal != nil {
				continue
			}
			switch state[o.element] {
			case visiting:
				results[i].StatusCode = ua.StatusBadFilterOperandInvalid
				for len(results[i].OperandStatusCodes) < len(els[i].operands) {
					results[i].OperandStatusCodes = append(results[i].OperandStatusCodes, ua.StatusGood)
				}
				results[i].OperandStatusCodes[j] = ua.StatusBadFilterElementInvalid
				ok = false
			case unseen:
				visit(o.element)
			}
		}
		state[i] = done
	}
	for i := range els {
		if state[i] == unseen {
			visit(i)
		}
	}
	return ok
}

// fields returns the selected fields of e.
func (f *eventFilter) fields(e *event) []*ua.Variant {
	out := make([]*ua.Variant, len(f.selects))
	for i, s := range f.selects {
		v := e.field(s.path)
		if v != nil && s.rng != nil {
			if r, code := s.rng.apply(v); code == ua.StatusGood {
				v = r
			} else {
				v = nil
			}
		}
		if v == nil {
			v = ua.MustVariant(nil)
		}
		out[i] = v
	}
	return out
}

// matches evaluates the where clause on e.
func (f *eventFilter) matches(e *event) bool {
	if len(f.where) == 0 {
		return true
	}
	v := f.eval(e, 0)
	b, ok := v.(bool)
	return ok && b
}

// eval evaluates element i: a bool, a value, or nil (null: the result of
// a comparison that does not apply). The element references have no cycle
// (checkAcyclic), so the recursion ends.
func (f *eventFilter) eval(e *event, i int) any {
	el := &f.where[i]
	arg := func(j int) any {
		o := el.operands[j]
		switch {
		case o.isField:
			if v := e.field(o.field); v != nil {
				return v.Value()
			}
			return nil
		case o.literal != nil:
			return o.literal.Value()
		}
		return f.eval(e, o.element)
	}
	switch el.op {
	case ua.FilterOperatorAnd:
		a, b := asBool(arg(0)), asBool(arg(1))
		return a == 1 && b == 1
	case ua.FilterOperatorOr:
		a, b := asBool(arg(0)), asBool(arg(1))
		return a == 1 || b == 1
	case ua.FilterOperatorNot:
		a := asBool(arg(0))
		if a < 0 {
			return nil
		}
		return a == 0
	case ua.FilterOperatorIsNull:
		return arg(0) == nil
	case ua.FilterOperatorOfType:
		t, _ := el.operands[0].literal.Value().(*ua.NodeID)
		return e.ofType(t)
	case ua.FilterOperatorInList:
		x := arg(0)
		for j := 1; j < len(el.operands); j++ {
			if c, ok := compare(x, arg(j)); ok && c == 0 {
				return true
			}
		}
		return false
	}
	c, ok := compare(arg(0), arg(1))
	if !ok {
		return false
	}
	switch el.op {
	case ua.FilterOperatorEquals:
		return c == 0
	case ua.FilterOperatorGreaterThan:
		return c > 0
	case ua.FilterOperatorLessThan:
		return c < 0
	case ua.FilterOperatorGreaterThanOrEqual:
		return c >= 0
	case ua.FilterOperatorLessThanOrEqual:
		return c <= 0
	}
	return false
}

// asBool is 1 true, 0 false, -1 null or not a Boolean.
func asBool(v any) int {
	switch b := v.(type) {
	case bool:
		if b {
			return 1
		}
		return 0
	}
	return -1
}

// compare orders two values: numbers by value whatever their types
// (Part 4's implicit conversions between numeric types), strings and
// localized texts by text, times, booleans, NodeIds and byte strings by
// equality or order. ok is false when they cannot be compared.
func compare(a, b any) (int, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			case x == y:
				return 0, true
			}
			return 0, false // NaN
		}
		return 0, false
	}
	if x, ok := text(a); ok {
		if y, ok := text(b); ok {
			return strings.Compare(x, y), true
		}
		return 0, false
	}
	switch x := a.(type) {
	case bool:
		if y, ok := b.(bool); ok {
			if x == y {
				return 0, true
			}
			if !x {
				return -1, true
			}
			return 1, true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
	case *ua.NodeID:
		if y, ok := b.(*ua.NodeID); ok {
			if sameNodeID(x, y) {
				return 0, true
			}
			return strings.Compare(x.String(), y.String()), true
		}
	case []byte:
		if y, ok := b.([]byte); ok {
			return strings.Compare(string(x), string(y)), true
		}
	case ua.StatusCode:
		if y, ok := b.(ua.StatusCode); ok {
			if x == y {
				return 0, true
			}
			if x < y {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int8:
		return float64(x), true
	case uint8:
		return float64(x), true
	case int16:
		return float64(x), true
	case uint16:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), !math.IsNaN(float64(x))
	case float64:
		return x, !math.IsNaN(x)
	}
	return 0, false
}

func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *ua.LocalizedText:
		if x == nil {
			return "", true
		}
		return x.Text, true
	case *ua.QualifiedName:
		if x == nil {
			return "", true
		}
		return x.Name, true
	}
	return "", false
}
