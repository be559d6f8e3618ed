// This file serves the 2024 catalog's v2 streaming API: subscriptions
// (/smartview/v2/streaming/subscriptions[/{id}]) and the REST read of their
// data (/smartview/v2/streaming/subscriptionData/{id}), with the messages
// the simulation and the admin API produce in the v2 shapes
// ({"type":"system-alert","data":{…}} and so on). streaming_push.go pushes
// the same messages to WEBHOOK and AWS_IOT_CORE channels.
//
// subscriptionData answers the latest message of every stream (streamId)
// since the first subscription was created, in a stable order, so offset
// pagination neither skips nor repeats while nothing changes.

package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	streamSubscriptionsPath = "/smartview/v2/streaming/subscriptions"
	streamDataPath          = "/smartview/v2/streaming/subscriptionData"
	maxStreamSubscriptions  = 100
	maxStreamMessages       = 200000
	defaultStreamPageLimit  = 250
	maxStreamPageLimit      = 1000
)

// Message types as the v2 messageType object names them, and the "type"
// and subscriptionData list of their messages.
var streamTypes = []struct{ subscription, message, list string }{
	{"systemAlert", "system-alert", "alarmMessageData"},
	{"customAlert", "custom-alert", "alertMessageData"},
	{"environmental", "environmental", "environmentMessageData"},
	{"meteredPower", "metered-power", "meteredPowerMessageData"},
	{"power", "power", "powerMessageData"},
	{"asset", "tag-point", "tagPointMessageData"},
}

// The enum of subscriptionData's messageTypes filter, by message type.
var streamFilterNames = map[string]string{
	"ALARM": "system-alert", "ALERT": "custom-alert", "ENVIRONMENTAL": "environmental",
	"METERED_POWER": "metered-power", "POWER": "power", "TAG_POINT": "tag-point",
}

// streamScope is one scope of a v2 messageType list.
type streamScope struct {
	AccountNumber       string   `json:"accountNumber"`
	IBX                 []string `json:"ibx"`
	AssetClassification []string `json:"assetClassification,omitempty"`
	AssetID             []string `json:"assetId,omitempty"`
	Level               []string `json:"level,omitempty"`
	User                string   `json:"user,omitempty"`
}

type streamChannel struct {
	ChannelType string `json:"channelType"`
	AWSIoTCore  *struct {
		URL string `json:"url"`
	} `json:"awsIotCoreChannelConfiguration,omitempty"`
	Webhook *webhookChannel `json:"webhookChannelConfiguration,omitempty"`
	Azure   *deliveryTuning `json:"azureChannelConfiguration,omitempty"`
}

type webhookChannel struct {
	URL            string `json:"url"`
	SSLCertificate string `json:"sslCertificate,omitempty"`
	deliveryTuning
}

type deliveryTuning struct {
	NumberOfRetries         int `json:"numberOfRetries,omitempty"`
	NumberOfConcurrentCalls int `json:"numberOfConcurrentCalls,omitempty"`
	BatchSize               int `json:"batchSize,omitempty"`
}

type streamRequest struct {
	MessageType map[string][]streamScope `json:"messageType"`
	Channel     *streamChannel           `json:"channel,omitempty"`
}

// streamSubscription is a v2 subscription (SubscriptionResponse).
type streamSubscription struct {
	ID              string                   `json:"id"`
	Status          string                   `json:"status"`
	MessageType     map[string][]streamScope `json:"messageType"`
	Channel         *streamChannel           `json:"channel,omitempty"`
	OrgID           string                   `json:"orgId"`
	CreatedBy       string                   `json:"createdBy"`
	CreatedDateTime string                   `json:"createdDateTime"`
	UpdatedBy       string                   `json:"updatedBy,omitempty"`
	UpdatedDateTime string                   `json:"updatedDateTime,omitempty"`

	// what the push of streaming_push.go still has to deliver
	pending [][]byte
}

// streamMessage is the latest message of one stream.
type streamMessage struct {
	streamID, typ, ibx string
	data               []byte // {"type":…,"data":{…}}
}

// streamStore holds the v2 subscriptions and messages. It has its own lock,
// taken inside s.mu by the emitters and alone by the handlers.
type streamStore struct {
	mu       sync.Mutex
	subs     []*streamSubscription
	nextID   int
	messages []streamMessage
	index    map[string]int // streamId → messages index
	wake     chan struct{}  // a push has something to deliver
	stats    StreamStats
}

// StreamStats counts the v2 streaming API's pushes.
type StreamStats struct {
	Messages        int `json:"messages"`
	WebhookBatches  int `json:"webhook_batches"`
	WebhookAttempts int `json:"webhook_attempts"`
	WebhookFailed   int `json:"webhook_failed"`
	MQTTPublished   int `json:"mqtt_published"`
	MQTTFailed      int `json:"mqtt_failed"`
}

func (st *streamStore) init() {
	st.index = map[string]int{}
	st.wake = make(chan struct{}, 1)
}

// active reports whether a v2 subscription exists (messages are encoded only then).
func (st *streamStore) active() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.subs) > 0
}

// streamRoutes are the v2 streaming API's routes.
func streamRoutes() []route {
	var out []route
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		out = append(out, route{method: m, path: streamSubscriptionsPath, handle: (*Server).handleStreamSubscriptions})
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		out = append(out, route{method: m, path: streamSubscriptionsPath + "/{id}", handle: (*Server).handleStreamSubscription})
	}
	return append(out, route{method: http.MethodGet, path: streamDataPath + "/{id}", handle: (*Server).handleStreamData})
}

// apiError writes the v2 API's ApiError.
func apiError(w *jsonWriter, status int, code, msg, details string) int {
	b, _ := json.Marshal(map[string]string{"errorCode": code, "errorMessage": msg, "details": details,
		"correlationId": "sandbox"})
	w.b, w.comma = append(w.b[:0], b...), true
	return status
}

func writeJSON(w *jsonWriter, v any) {
	b, _ := json.Marshal(v)
	w.b, w.comma = append(w.b[:0], b...), true
}

// GET and POST /smartview/v2/streaming/subscriptions
func (s *Server) handleStreamSubscriptions(r *http.Request, w *jsonWriter) int {
	st := &s.stream
	if r.Method == http.MethodGet {
		st.mu.Lock()
		list := make([]*streamSubscription, len(st.subs))
		copy(list, st.subs)
		writeJSON(w, list)
		st.mu.Unlock()
		return http.StatusOK
	}
	req, status := s.readStreamRequest(r, w)
	if status != 0 {
		return status
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.subs) >= maxStreamSubscriptions {
		return apiError(w, http.StatusUnprocessableEntity, "EQIX-ES-5000422", "Unprocessable Entity", "too many subscriptions")
	}
	st.nextID++
	now := s.now().UTC().Format("2006-01-02T15:04:05")
	sub := &streamSubscription{ID: fmt.Sprintf("607460b4e4a78360%08x", st.nextID), Status: "ACTIVE",
		MessageType: req.MessageType, Channel: req.Channel, OrgID: s.cfg.AccountNo, CreatedBy: s.cfg.ClientID,
		CreatedDateTime: now}
	st.subs = append(st.subs, sub)
	// The description answers 201 with a Location header; the sandbox's
	// handlers write bodies only, so it answers the created subscription.
	writeJSON(w, sub)
	return http.StatusCreated
}

// GET, PUT and DELETE /smartview/v2/streaming/subscriptions/{id}
func (s *Server) handleStreamSubscription(r *http.Request, w *jsonWriter) int {
	st := &s.stream
	id := r.PathValue("id")
	var req *streamRequest
	if r.Method == http.MethodPut {
		var status int
		if req, status = s.readStreamRequest(r, w); status != 0 {
			return status
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	i := slices.IndexFunc(st.subs, func(x *streamSubscription) bool { return x.ID == id })
	if i < 0 {
		return s.httpError(w, http.StatusNotFound, r.URL.Path)
	}
	sub := st.subs[i]
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, sub)
		return http.StatusOK
	case http.MethodPut:
		sub.MessageType, sub.Channel = req.MessageType, req.Channel
		sub.UpdatedBy, sub.UpdatedDateTime = s.cfg.ClientID, s.now().UTC().Format("2006-01-02T15:04:05")
		sub.pending = nil
	default:
		st.subs = slices.Delete(st.subs, i, i+1)
	}
	w.b, w.comma = w.b[:0], false
	return http.StatusNoContent
}

// readStreamRequest decodes and checks a SubscriptionRequest; a bad one is
// answered 400 or 422 (status non-zero).
func (s *Server) readStreamRequest(r *http.Request, w *jsonWriter) (*streamRequest, int) {
	var req streamRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, apiError(w, http.StatusBadRequest, "EQIX-ES-5000400", "Bad Request", err.Error())
	}
	invalid := func(details string) (*streamRequest, int) {
		return nil, apiError(w, http.StatusUnprocessableEntity, "EQIX-ES-5000422", "Unprocessable Entity", details)
	}
	n := 0
	for typ, scopes := range req.MessageType {
		if !slices.ContainsFunc(streamTypes, func(t struct{ subscription, message, list string }) bool { return t.subscription == typ }) {
			return invalid("unknown message type " + strconv.Quote(typ))
		}
		for _, sc := range scopes {
			if sc.AccountNumber == "" || len(sc.IBX) == 0 {
				return invalid(typ + ": accountNumber and ibx are required")
			}
			for _, ibx := range sc.IBX {
				if _, ok := s.fp.ibxByCode[ibx]; !ok {
					return invalid(typ + ": IBX " + strconv.Quote(ibx) + " is not of this organization")
				}
			}
			n++
		}
	}
	if n == 0 {
		return invalid("messageType names no message type")
	}
	if c := req.Channel; c != nil {
		switch c.ChannelType {
		case "WEBHOOK":
			if c.Webhook == nil || !httpsURL(c.Webhook.URL) {
				return invalid("WEBHOOK needs webhookChannelConfiguration.url, an https URL")
			}
			if c.Webhook.SSLCertificate != "" {
				if _, err := base64.StdEncoding.DecodeString(c.Webhook.SSLCertificate); err != nil {
					return invalid("sslCertificate is not base64")
				}
			}
		case "AWS_IOT_CORE":
			if c.AWSIoTCore == nil || !httpsURL(c.AWSIoTCore.URL) {
				return invalid("AWS_IOT_CORE needs awsIotCoreChannelConfiguration.url, an https URL")
			}
		case "AZURE":
		default:
			return invalid("channelType " + strconv.Quote(c.ChannelType) + " is not AWS_IOT_CORE, WEBHOOK or AZURE")
		}
	}
	return &req, 0
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// GET /smartview/v2/streaming/subscriptionData/{id}?offset&limit&ibxs&messageTypes&streamIds
func (s *Server) handleStreamData(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	offset, limit := 0, defaultStreamPageLimit
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return apiError(w, http.StatusBadRequest, "EQIX-ES-5000400", "Bad Request", "offset must be a non-negative integer")
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxStreamPageLimit {
			return apiError(w, http.StatusBadRequest, "EQIX-ES-5000400", "Bad Request", "limit must be between 1 and 1000")
		}
		limit = n
	}
	var types []string
	for _, v := range splitList(q["messageTypes"]) {
		t, ok := streamFilterNames[strings.ToUpper(v)]
		if !ok {
			return apiError(w, http.StatusBadRequest, "EQIX-ES-5000400", "Bad Request", "unknown messageTypes "+strconv.Quote(v))
		}
		types = append(types, t)
	}
	ibxs, streamIDs := splitList(q["ibxs"]), splitList(q["streamIds"])

	st := &s.stream
	st.mu.Lock()
	i := slices.IndexFunc(st.subs, func(x *streamSubscription) bool { return x.ID == r.PathValue("id") })
	if i < 0 {
		st.mu.Unlock()
		return s.httpError(w, http.StatusNotFound, r.URL.Path)
	}
	sub := st.subs[i]
	var match []*streamMessage
	for k := range st.messages {
		m := &st.messages[k]
		if sub.wants(m) && (types == nil || slices.Contains(types, m.typ)) &&
			(ibxs == nil || slices.Contains(ibxs, m.ibx)) && (streamIDs == nil || slices.Contains(streamIDs, m.streamID)) {
			match = append(match, m)
		}
	}
	lists := map[string][]json.RawMessage{}
	end := min(offset+limit, len(match))
	for _, m := range match[min(offset, len(match)):end] {
		for _, t := range streamTypes {
			if t.message == m.typ {
				lists[t.list] = append(lists[t.list], m.data)
			}
		}
	}
	st.mu.Unlock()

	page := map[string]any{}
	for _, t := range streamTypes {
		if l := lists[t.list]; l != nil {
			page[t.list] = l
		} else {
			page[t.list] = []json.RawMessage{}
		}
	}
	p := map[string]any{"offset": offset, "limit": limit, "total": len(match)}
	if end < len(match) {
		p["next"] = fmt.Sprintf("?offset=%d&limit=%d", end, limit)
	}
	if offset > 0 {
		p["previous"] = fmt.Sprintf("?offset=%d&limit=%d", max(offset-limit, 0), limit)
	}
	page["pagination"] = p
	writeJSON(w, page)
	return http.StatusOK
}

// splitList reads a repeated or comma-separated query parameter; nil when absent.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
	}
	return out
}

// wants reports whether the subscription covers message m.
func (sub *streamSubscription) wants(m *streamMessage) bool {
	for _, t := range streamTypes {
		if t.message != m.typ {
			continue
		}
		for _, sc := range sub.MessageType[t.subscription] {
			if slices.Contains(sc.IBX, m.ibx) {
				return true
			}
		}
	}
	return false
}

// record keeps m as its stream's latest message and queues it for the
// push channels that want it. Called by the emitters, with s.mu held.
func (st *streamStore) record(m streamMessage) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.subs) == 0 {
		return
	}
	if i, ok := st.index[m.streamID]; ok {
		st.messages[i] = m
	} else if len(st.messages) < maxStreamMessages {
		st.index[m.streamID] = len(st.messages)
		st.messages = append(st.messages, m)
	}
	st.stats.Messages++
	queued := false
	for _, sub := range st.subs {
		if sub.Channel != nil && sub.Channel.ChannelType != "AZURE" && sub.wants(&m) && len(sub.pending) < maxStreamMessages {
			sub.pending = append(sub.pending, m.data)
			queued = true
		}
	}
	if queued {
		select {
		case st.wake <- struct{}{}:
		default:
		}
	}
}

// v2Time formats epoch ms as the v2 messages do ("2023-10-03T13:09:32"),
// with the milliseconds, so that a time means the same instant as in the
// documented API's epoch-ms fields.
func v2Time(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000")
}

func v2Message(typ string, data any) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
	return b
}

// streamTag records a tag's reading as a v2 tag-point message.
func (s *Server) streamTag(ti int32) {
	if !s.stream.active() {
		return
	}
	f := s.fp
	t := &f.tags[ti]
	ibx := f.ibxs[f.assets[t.asset].ibx].code
	value := string(t.appendValue(nil))
	s.stream.record(streamMessage{streamID: t.id, typ: "tag-point", ibx: ibx, data: v2Message("tag-point", map[string]any{
		"streamId": t.id, "ibx": ibx, "tag": map[string]string{"id": t.id, "displayName": t.tmpl.display},
		"reading": map[string]string{"value": value, "unit": t.tmpl.uom}, "readingTime": v2Time(t.at), "dataQuality": "Good"})})
}

// streamAlarm records an alarm as a v2 system-alert message and its
// notification as a custom-alert message.
func (s *Server) streamAlarm(a *alarm) {
	if !s.stream.active() {
		return
	}
	f := s.fp
	as := &f.assets[a.asset]
	ib := &f.ibxs[as.ibx]
	t := &f.tags[a.tag]
	valueType, alarmType := "Float", "Absolute"
	if t.tmpl.kind != analogTag {
		valueType, alarmType = "Bool", "Digital"
	}
	id := t.id + "#" + strings.ToUpper(alarmType) + ":" + strings.ToUpper(strings.ReplaceAll(a.condition, " ", "_"))
	status := map[string]any{"acknowledged": a.ack, "cleared": !a.active, "active": a.active}
	if a.ack {
		status["acknowledgementTime"] = v2Time(a.timeAck)
	}
	data := map[string]any{
		"streamId": id, "definitionId": id, "ibx": ib.code, "region": ib.region, "metro": ib.metro, "country": ib.country,
		"conditionName": a.condition, "severity": a.severity, "type": alarmType, "heartbeat": false,
		"currentValue":  map[string]string{"unit": t.tmpl.uom, "value": a.value, "type": valueType},
		"asset":         map[string]string{"id": as.id, "type": as.tmpl().name, "classification": as.tmpl().class.String()},
		"tag":           map[string]string{"id": t.id, "displayName": t.tmpl.display},
		"status":        status,
		"threshold":     map[string]string{"unit": t.tmpl.uom, "stateLimit": "", "message": a.condition},
		"triggeredTime": v2Time(a.timeTriggered), "processedTime": v2Time(a.timeProcessed),
		"dataQuality": "Good",
	}
	if !a.active {
		data["normalProcessedTime"], data["normalTriggeredTime"] = v2Time(a.timeNormal), v2Time(a.timeNormal)
	}
	s.stream.record(streamMessage{streamID: id, typ: "system-alert", ibx: ib.code, data: v2Message("system-alert", data)})
	alertID := ib.code + ".ALERT-" + strconv.FormatInt(a.seq, 10)
	event := "Triggered"
	switch {
	case !a.active:
		event = "Cleared"
	case a.ack:
		event = "Acknowledged"
	}
	s.stream.record(streamMessage{streamID: alertID, typ: "custom-alert", ibx: ib.code, data: v2Message("custom-alert", map[string]any{
		"streamId": alertID, "id": alertID, "ibx": ib.code, "region": ib.region, "type": "alarm", "typeId": a.condition,
		"conditional": "N", "eventType": event, "heartbeat": false,
		"asset":         map[string]string{"id": as.id, "type": as.tmpl().name, "classification": as.tmpl().class.String()},
		"tag":           map[string]string{"id": t.id},
		"threshold":     map[string]string{"unit": t.tmpl.uom, "value": a.value},
		"triggeredTime": v2Time(max(a.timeTriggered, a.timeAck, a.timeNormal)), "dataQuality": "Good"})})
}

// streamLevel records a power or environment reading: a circuit's power as
// a v2 power message; a climate reading as two environmental messages
// (temperature, humidity). Other power levels have no v2 message.
func (s *Server) streamLevel(power bool, level levelType, i int32) {
	if !s.stream.active() {
		return
	}
	f := s.fp
	if power {
		if level != levelCircuit {
			return
		}
		c := &f.circuits[i]
		cb := &f.cabinets[c.cabinet]
		cg := &f.cages[cb.cage]
		ibx := f.ibxs[cg.ibx].code
		sold := c.soldKva()
		contractual := contractFraction * sold
		ratio := 0.0
		if contractual > 0 {
			ratio = c.kva / contractual * 100
		}
		num := func(v float64, unit string) map[string]string {
			return map[string]string{"value": strconv.FormatFloat(v, 'f', 3, 64), "unit": unit}
		}
		id := ibx + ":" + c.id
		circuitType := "PRIMARY"
		if c.redundant {
			circuitType = "REDUNDANT"
		}
		s.stream.record(streamMessage{streamID: id, typ: "power", ibx: ibx, data: v2Message("power", map[string]any{
			"streamId": id, "ibx": ibx, "asset": map[string]string{"id": id, "type": "CIRCUIT"},
			"cage": cg.label, "cabinet": cb.label, "accountNumber": s.cfg.AccountNo, "description": c.label,
			"circuitType": circuitType, "apparentPower": num(c.kva, "kVA"), "current": num(c.current, "A"),
			"soldPower": num(sold, "kVA"), "contractualPower": num(contractual, "kVA"),
			"powerConsumptionToContractual": num(ratio, "PERCENT"), "peakLastSevenDays": num(c.peakKva, "kVA"),
			"readingTime": v2Time(c.at), "lastUpdated": v2Time(c.at)})})
		return
	}
	var cl *climate
	var ii int32
	var id string
	switch level {
	case levelIBX:
		ii, cl, id = i, &f.ibxs[i].climate, f.ibxs[i].code
	case levelZone:
		z := &f.zones[i]
		ii, cl, id = z.ibx, &z.climate, z.label
	case levelCage:
		cg := &f.cages[i]
		ii, cl, id = cg.ibx, &cg.climate, cg.label
	case levelSensor:
		sn := &f.sensors[i]
		ii, cl, id = f.cages[f.cabinets[sn.cabinet].cage].ibx, &sn.climate, sn.id
	default:
		return
	}
	ibx := f.ibxs[ii].code
	for _, m := range []struct {
		tag, unit string
		v         float64
		decimals  int
	}{{"temperature", "°C", cl.temp, 1}, {"humidity", "PERCENT", cl.hum, 2}} {
		sid := ibx + "." + id + ":" + m.tag
		s.stream.record(streamMessage{streamID: sid, typ: "environmental", ibx: ibx, data: v2Message("environmental", map[string]any{
			"streamId": sid, "ibx": ibx, "asset": map[string]string{"id": id, "level": level.String()},
			"tag":         map[string]string{"id": m.tag, "displayName": strings.ToUpper(m.tag[:1]) + m.tag[1:]},
			"reading":     map[string]string{"value": strconv.FormatFloat(m.v, 'f', m.decimals, 64), "unit": m.unit},
			"readingTime": v2Time(cl.at), "dataQuality": "Good"})})
	}
}
