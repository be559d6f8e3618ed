package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Admin and test control under /_sandbox/, without authentication (the sandbox listens on
// loopback only), never subject to faults and not counted in Stats.Requests:
//
//	GET  /_sandbox                  this list
//	GET  /_sandbox/stats            Stats
//	GET  /_sandbox/faults           the faults in force
//	PUT  /_sandbox/faults           {"rate_limit":0.2,"retry_after":"2s","server_error":0,"unavailable":0.1,
//	                                 "latency":"50ms","token_ttl":"5s","malformed":0}  (replaces all)
//	POST /_sandbox/step[?n=5]       run n simulation ticks now (1 to 1000)
//	POST /_sandbox/alarms           {"action":"raise"|"ack"|"clear","assetId":…,"tagId":…,"conditionName":…,"severity":800}
//	                                answers the alarm's identity (AlarmRef); 404 unknown, 409 already active/acknowledged
//	POST /_sandbox/tags             {"tagId":"CH1.Gen-1:fuelhours","value":"12.5"}
//	POST /_sandbox/power            {"circuit":"20853716","kva":1.2}
//	POST /_sandbox/environment      {"sensor":"CH1.Colo.CH1_05_000550_0105","temperature":24.5,"humidity":41}
//	POST /_sandbox/tokens/revoke    revoke every access and refresh token

const maxStepsPerCall = 1000

var adminIndex = []string{
	"GET /_sandbox/stats", "GET /_sandbox/faults", "PUT /_sandbox/faults", "POST /_sandbox/step?n=1",
	"POST /_sandbox/alarms", "POST /_sandbox/tags", "POST /_sandbox/power", "POST /_sandbox/environment",
	"POST /_sandbox/tokens/revoke",
}

type adminRoute struct {
	method, path string
	handle       func(s *Server, r *http.Request) (any, error)
}

var adminRoutes = []adminRoute{
	{http.MethodGet, "/_sandbox", func(*Server, *http.Request) (any, error) { return map[string][]string{"endpoints": adminIndex}, nil }},
	{http.MethodGet, "/_sandbox/stats", func(s *Server, _ *http.Request) (any, error) { return s.Stats(), nil }},
	{http.MethodGet, "/_sandbox/faults", func(s *Server, _ *http.Request) (any, error) { return s.Faults(), nil }},
	{http.MethodPut, "/_sandbox/faults", (*Server).adminFaults},
	{http.MethodPost, "/_sandbox/step", (*Server).adminStep},
	{http.MethodPost, "/_sandbox/alarms", (*Server).adminAlarm},
	{http.MethodPost, "/_sandbox/tags", (*Server).adminTag},
	{http.MethodPost, "/_sandbox/power", (*Server).adminPower},
	{http.MethodPost, "/_sandbox/environment", (*Server).adminEnvironment},
	{http.MethodPost, "/_sandbox/tokens/revoke", func(s *Server, _ *http.Request) (any, error) {
		s.RevokeTokens()
		return map[string]bool{"revoked": true}, nil
	}},
}

// errBadRequest marks admin input errors (400).
var errBadRequest = errors.New("bad request")

func (s *Server) serveAdmin(rw http.ResponseWriter, r *http.Request, path string) {
	status, body := http.StatusNotFound, any(map[string]string{"error": "no such admin endpoint: " + path})
	for _, rt := range adminRoutes {
		if rt.path != path {
			continue
		}
		if rt.method != r.Method {
			status, body = http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed on " + path}
			continue
		}
		r.Body = http.MaxBytesReader(rw, r.Body, maxRequestBody)
		v, err := rt.handle(s, r)
		switch {
		case err == nil:
			status, body = http.StatusOK, v
		case errors.Is(err, ErrNotFound):
			status, body = http.StatusNotFound, adminError(v, err)
		case errors.Is(err, ErrConflict):
			status, body = http.StatusConflict, adminError(v, err)
		default:
			status, body = http.StatusBadRequest, adminError(v, err)
		}
		break
	}
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	rw.Write(append(b, '\n'))
}

// adminError is {"error": …} with the alarm, when there is one ({"error":…, "alarm":{…}}).
func adminError(v any, err error) any {
	if ref, ok := v.(AlarmRef); ok && ref.TagID != "" {
		return map[string]any{"error": err.Error(), "alarm": ref}
	}
	return map[string]string{"error": err.Error()}
}

func decodeAdmin(r *http.Request, v any) error {
	if err := decodeBody(r, v); err != nil {
		return fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return nil
}

func (s *Server) adminFaults(r *http.Request) (any, error) {
	var f Faults
	if err := decodeAdmin(r, &f); err != nil {
		return nil, err
	}
	if err := s.SetFaults(f); err != nil {
		return nil, fmt.Errorf("%w: faults.%w", errBadRequest, err)
	}
	return s.Faults(), nil
}

func (s *Server) adminStep(r *http.Request) (any, error) {
	n := 1
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxStepsPerCall {
			return nil, fmt.Errorf("%w: n must be 1 to %d", errBadRequest, maxStepsPerCall)
		}
	}
	for range n {
		s.Step()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return map[string]int64{"ticks": s.sim.ticks}, nil
}

func (s *Server) adminAlarm(r *http.Request) (any, error) {
	var req struct {
		Action string `json:"action"`
		AlarmSpec
	}
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	switch req.Action {
	case "raise":
		return s.RaiseAlarm(req.AlarmSpec)
	case "ack":
		return s.AckAlarm(req.AlarmSpec)
	case "clear":
		return s.ClearAlarm(req.AlarmSpec)
	}
	return nil, fmt.Errorf("%w: action must be raise, ack or clear", errBadRequest)
}

func (s *Server) adminTag(r *http.Request) (any, error) {
	var req struct {
		TagID string `json:"tagId"`
		Value string `json:"value"`
	}
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	if err := s.SetTag(req.TagID, req.Value); err != nil {
		return nil, err
	}
	return req, nil
}

func (s *Server) adminPower(r *http.Request) (any, error) {
	var req struct {
		Circuit string  `json:"circuit"`
		KVA     float64 `json:"kva"`
	}
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	return req, s.SetCircuitPower(req.Circuit, req.KVA)
}

func (s *Server) adminEnvironment(r *http.Request) (any, error) {
	var req struct {
		Sensor      string  `json:"sensor"`
		Temperature float64 `json:"temperature"`
		Humidity    float64 `json:"humidity"`
	}
	if err := decodeAdmin(r, &req); err != nil {
		return nil, err
	}
	return req, s.SetSensor(req.Sensor, req.Temperature, req.Humidity)
}

// SetTag sets a tag point's value now: a number for analog points (kept as given, even outside
// the simulated range, until the simulation drifts it back in), any text for the others.
func (s *Server) SetTag(tagID, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ti, ok := s.fp.tagByID[tagID]
	if !ok {
		return fmt.Errorf("tag %q: %w", tagID, ErrNotFound)
	}
	t := &s.fp.tags[ti]
	if t.tmpl.kind == analogTag {
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%w: tag %q takes a number: %w", errBadRequest, tagID, err)
		}
		t.value = v
	} else {
		t.text = value
	}
	t.at = s.now().UnixMilli()
	s.emitTag(ti)
	return nil
}

// SetCircuitPower sets a circuit's draw now (at most its rating), and adds its cabinet, cage and
// IBX up again; the simulation drifts it from there.
func (s *Server) SetCircuitPower(circuitID string, kva float64) error {
	if kva < 0 {
		return fmt.Errorf("%w: kva %v is negative", errBadRequest, kva)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fp
	ci, ok := f.circuitByID[circuitID]
	if !ok {
		return fmt.Errorf("circuit %q: %w", circuitID, ErrNotFound)
	}
	at := s.now().UnixMilli()
	c := &f.circuits[ci]
	c.setLoad(kva/(c.soldKva()*loadShare), at)
	s.rollUpPower([]int32{ci}, at, false)
	return nil
}

// SetSensor sets a sensor's temperature (°C) and humidity (%) now, and averages its cage, zone
// and IBX again.
func (s *Server) SetSensor(sensorID string, temperature, humidity float64) error {
	if humidity < 0 || humidity > 100 {
		return fmt.Errorf("%w: humidity %v is outside 0–100", errBadRequest, humidity)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fp
	si, ok := f.sensorByID[sensorID]
	if !ok {
		return fmt.Errorf("sensor %q: %w", sensorID, ErrNotFound)
	}
	at := s.now().UnixMilli()
	f.sensors[si].climate.set(temperature, humidity, at)
	s.rollUpClimate([]int32{si}, at)
	return nil
}
