package opcua

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// The Call service and the one table of the methods the gateway offers:
//
//   - ConditionRefresh (SubscriptionId) and ConditionRefresh2
//     (SubscriptionId, MonitoredItemId), called on ConditionType or the
//     Server object: RefreshStartEvent, the current state of every
//     retained condition, RefreshEndEvent, on the calling subscription's
//     event items (or the one item) only;
//   - Acknowledge and AddComment (EventId, Comment), called on a condition
//     (an alarm's node), by users whose role allows (roleOperator):
//     recorded in the alarm ledger, never sent upstream;
//   - GetMonitoredItems (SubscriptionId) on the Server object: the server
//     and client handles of the subscription's items.
//
// Every other method is Bad_MethodInvalid; arguments are checked one by one
// (InputArgumentResults) before anything runs.

// Roles of [[opcua.users]]: what a user may do beyond browsing, reading
// and subscribing. Anonymous sessions and users without a role are
// read-only.
const (
	roleOperator = "operator"  // may Acknowledge and AddComment
	roleReadOnly = "read-only" // the default
)

// maxMethodsPerCall bounds the methods of one Call request.
const maxMethodsPerCall = 1000

// method is one method of the table.
type method struct {
	// on reports whether the method may be called on object n (obj is the
	// ObjectId as sent).
	on     func(c *evalCtx, obj *ua.NodeID, n node, found bool) bool
	inputs []ua.TypeID
	call   func(s *services, r *uaserver.Request, c *evalCtx, n node, args []*ua.Variant) ([]*ua.Variant, ua.StatusCode)
}

var methods = map[uint32]method{
	id.ConditionType_ConditionRefresh:           {onConditionTypeOrServer, []ua.TypeID{ua.TypeIDUint32}, (*services).conditionRefresh},
	id.ConditionType_ConditionRefresh2:          {onConditionTypeOrServer, []ua.TypeID{ua.TypeIDUint32, ua.TypeIDUint32}, (*services).conditionRefresh},
	id.AcknowledgeableConditionType_Acknowledge: {onCondition, []ua.TypeID{ua.TypeIDByteString, ua.TypeIDLocalizedText}, (*services).acknowledge},
	id.ConditionType_AddComment:                 {onCondition, []ua.TypeID{ua.TypeIDByteString, ua.TypeIDLocalizedText}, (*services).addComment},
	id.Server_GetMonitoredItems:                 {onServer, []ua.TypeID{ua.TypeIDUint32}, (*services).getMonitoredItems},
}

func onConditionTypeOrServer(_ *evalCtx, obj *ua.NodeID, _ node, _ bool) bool {
	return sameNodeID(obj, ns0(id.ConditionType)) || sameNodeID(obj, ns0(id.Server))
}

func onServer(_ *evalCtx, obj *ua.NodeID, _ node, _ bool) bool {
	return sameNodeID(obj, ns0(id.Server))
}

func onCondition(_ *evalCtx, _ *ua.NodeID, n node, found bool) bool {
	return found && n.kind == kindAlarm && n.member < 0
}

func (s *services) callMethods(r *uaserver.Request, req *ua.CallRequest) ua.Response {
	if code := s.checkCount(len(req.MethodsToCall), maxMethodsPerCall); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	results := make([]*ua.CallMethodResult, len(req.MethodsToCall))
	for i, m := range req.MethodsToCall {
		results[i] = s.callOne(r, m)
		if results[i].InputArgumentResults == nil {
			results[i].InputArgumentResults = []ua.StatusCode{}
		}
		if results[i].OutputArguments == nil {
			results[i].OutputArguments = []*ua.Variant{}
		}
		results[i].InputArgumentDiagnosticInfos = []*ua.DiagnosticInfo{}
	}
	return &ua.CallResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results, DiagnosticInfos: []*ua.DiagnosticInfo{}}
}

func (s *services) callOne(r *uaserver.Request, m *ua.CallMethodRequest) *ua.CallMethodResult {
	if m == nil || m.ObjectID == nil || m.MethodID == nil {
		return &ua.CallMethodResult{StatusCode: ua.StatusBadNodeIDUnknown}
	}
	c := s.ctx()
	n, found := c.resolve(m.ObjectID)
	// ConditionType, the object of ConditionRefresh, is not in the served
	// subset of the standard types.
	if !found && !sameNodeID(m.ObjectID, ns0(id.ConditionType)) {
		return &ua.CallMethodResult{StatusCode: ua.StatusBadNodeIDUnknown}
	}
	var def method
	ok := m.MethodID.Namespace() == 0 && m.MethodID.Type() != ua.NodeIDTypeString
	if ok {
		def, ok = methods[m.MethodID.IntID()]
	}
	if !ok || !def.on(c, m.ObjectID, n, found) {
		return &ua.CallMethodResult{StatusCode: ua.StatusBadMethodInvalid}
	}
	switch {
	case len(m.InputArguments) < len(def.inputs):
		return &ua.CallMethodResult{StatusCode: ua.StatusBadArgumentsMissing}
	case len(m.InputArguments) > len(def.inputs):
		return &ua.CallMethodResult{StatusCode: ua.StatusBadTooManyArguments}
	}
	argResults := make([]ua.StatusCode, len(def.inputs))
	bad := false
	for i, want := range def.inputs {
		if v := m.InputArguments[i]; v == nil || v.Type() != want || v.ArrayLength() > 0 || v.ArrayDimensions() != nil {
			argResults[i], bad = ua.StatusBadTypeMismatch, true
		}
	}
	if bad {
		return &ua.CallMethodResult{StatusCode: ua.StatusBadInvalidArgument, InputArgumentResults: argResults}
	}
	out, code := def.call(s, r, c, n, m.InputArguments)
	return &ua.CallMethodResult{StatusCode: code, OutputArguments: out}
}

// conditionRefresh serves ConditionRefresh (one argument) and
// ConditionRefresh2 (two).
func (s *services) conditionRefresh(r *uaserver.Request, c *evalCtx, _ node, args []*ua.Variant) ([]*ua.Variant, ua.StatusCode) {
	sub := s.state(r.Session).subscription(args[0].Value().(uint32))
	if sub == nil {
		return nil, ua.StatusBadSubscriptionIDInvalid
	}
	var only uint32
	if len(args) == 2 {
		only = args[1].Value().(uint32)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	var items []*monitoredItem
	if len(args) == 2 {
		it := sub.items[only]
		if it == nil || it.ev == nil {
			return nil, ua.StatusBadMonitoredItemIDInvalid
		}
		items = append(items, it)
	} else {
		for _, it := range sub.items {
			if it.ev != nil {
				items = append(items, it)
			}
		}
	}
	s.refresh(c, items)
	return nil, ua.StatusGood
}

// refresh posts RefreshStart, every retained condition, RefreshEnd to
// items (their subscription's mu held).
func (s *services) refresh(c *evalCtx, items []*monitoredItem) {
	if len(items) == 0 {
		return
	}
	seq := c.snap.TransitionSeq()
	start, end := refreshEvent(evRefreshStart, seq, c.now), refreshEvent(evRefreshEnd, seq, c.now)
	for _, it := range items {
		it.postEvent(start, true)
	}
	for _, a := range c.snap.Alarms() {
		if !retained(a) {
			continue
		}
		e := c.alarmEvent(a, 0, c.now)
		for _, it := range items {
			it.postEvent(e, true)
		}
	}
	for _, it := range items {
		it.postEvent(end, true)
	}
}

// operatorCall checks what Acknowledge and AddComment check: the caller's
// role and the EventId, and returns the alarm.
func (s *services) operatorCall(r *uaserver.Request, c *evalCtx, n node, args []*ua.Variant) (string, string, ua.StatusCode) {
	user := r.Session.User
	if s.role(user) != roleOperator {
		s.log.Info("opcua: alarm operation refused: not an operator", "session", r.Session.Name, "user", user)
		return "", "", ua.StatusBadUserAccessDenied
	}
	a := c.alarm(n.alarm)
	alarmID, seq, ok := parseEventID(args[0].Value().([]byte))
	if a == nil || !ok || alarmID != a.ID || seq > a.Seq || seq == 0 {
		return "", "", ua.StatusBadEventIDUnknown
	}
	comment := ""
	if lt, _ := args[1].Value().(*ua.LocalizedText); lt != nil {
		comment = lt.Text
	}
	if len(comment) > model.MaxOperatorComment {
		return "", "", ua.StatusBadInvalidArgument
	}
	return user, comment, ua.StatusGood
}

func (s *services) acknowledge(r *uaserver.Request, c *evalCtx, n node, args []*ua.Variant) ([]*ua.Variant, ua.StatusCode) {
	user, comment, code := s.operatorCall(r, c, n, args)
	if code != ua.StatusGood {
		return nil, code
	}
	d, err := s.store.Update(func(tx *model.Tx) error { return tx.OperatorAcknowledge(n.alarm, user, comment) })
	return nil, s.operatorResult(r, n, "acknowledge", d, err)
}

func (s *services) addComment(r *uaserver.Request, c *evalCtx, n node, args []*ua.Variant) ([]*ua.Variant, ua.StatusCode) {
	user, comment, code := s.operatorCall(r, c, n, args)
	if code != ua.StatusGood {
		return nil, code
	}
	d, err := s.store.Update(func(tx *model.Tx) error { return tx.OperatorComment(n.alarm, user, comment) })
	return nil, s.operatorResult(r, n, "comment", d, err)
}

// durableWait bounds how long an operator's call waits for the alarm
// ledger to hold its record before answering.
const durableWait = 2 * time.Second

func (s *services) operatorResult(r *uaserver.Request, n node, what string, d *model.Delta, err error) ua.StatusCode {
	switch {
	case err == nil:
		durable := d == nil || len(d.Alarms) == 0 || s.waitDurable(d.Alarms[len(d.Alarms)-1].Seq, durableWait)
		s.log.Info("opcua: alarm "+what+" by an operator recorded", "alarm", n.alarm, "user", r.Session.User, "on_disk", durable)
		if !durable {
			// in the model (events are out) and written when state_dir
			// can be (see the persist health): not lost unless the
			// gateway stops before
			s.log.Warn("opcua: the alarm ledger has not saved an operator's "+what+" yet", "alarm", n.alarm)
		}
		return ua.StatusGood
	case errors.Is(err, model.ErrAlarmOperatorAcked):
		return ua.StatusBadConditionBranchAlreadyAcked
	case errors.Is(err, model.ErrAlarmUnknown):
		return ua.StatusBadNodeIDUnknown
	}
	s.log.Warn("opcua: alarm "+what+" not recorded", "alarm", n.alarm, "err", err)
	return ua.StatusBadInvalidArgument
}

// waitDurable waits (at most limit) until the alarm ledger holds
// transition seq.
func (s *services) waitDurable(seq uint64, limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		durable, changed := s.store.Durable()
		if durable >= seq || changed == nil {
			return durable >= seq
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

func (s *services) getMonitoredItems(r *uaserver.Request, _ *evalCtx, _ node, args []*ua.Variant) ([]*ua.Variant, ua.StatusCode) {
	sub := s.state(r.Session).subscription(args[0].Value().(uint32))
	if sub == nil {
		return nil, ua.StatusBadSubscriptionIDInvalid
	}
	sub.mu.Lock()
	server := make([]uint32, 0, len(sub.items))
	client := make([]uint32, 0, len(sub.items))
	for id, it := range sub.items {
		server = append(server, id)
		client = append(client, it.clientHandle)
	}
	sub.mu.Unlock()
	return []*ua.Variant{variant(server), variant(client)}, ua.StatusGood
}

// role returns a session user's role.
func (s *services) role(user string) string {
	if user == "" || user == "anonymous" || s.roleOf == nil {
		return roleReadOnly
	}
	if r := s.roleOf(user); r != "" {
		return r
	}
	return roleReadOnly
}

// validateRoles checks the role of every [[opcua.users]] entry.
func validateRoles(users []uaserver.User) error {
	var errs []error
	for i, u := range users {
		switch {
		case u.Role == "" || u.Role == roleReadOnly:
		case u.Role != roleOperator:
			errs = append(errs, fmt.Errorf("opcua.users[%d].role: %q is not a role (operator, read-only)", i, u.Role))
		case u.Name == "anonymous":
			errs = append(errs, fmt.Errorf("opcua.users[%d].role: the user name \"anonymous\" is that of anonymous sessions and cannot be an operator", i))
		}
	}
	return errors.Join(errs...)
}
