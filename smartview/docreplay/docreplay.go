// Package docreplay is a SmartView API that is not the sandbox: it answers
// with the API reference's example payloads, verbatim (smartview/testdata),
// and with empty answers where the reference has no example. Tests point the
// real client, or the real gateway in live mode, at it to show what the
// documented payloads themselves become, ids with no home included (CH1's
// zones and cages that no hierarchy example lists).
//
// It completes the reference in one way only, and says so: the Electrical
// asset list also names CH1.ASTS-1-2-A and CH1.PDU-1-2A, the assets whose
// affected locations the reference shows ("an assetId which was initially
// obtained via a call to the get asset list API"), so that a client reads
// those links. A test can replace an IBX's hierarchy answer (SetHierarchy),
// to show what happens when a hierarchy later lists a location.
//
// It must not be used outside tests: it checks no credentials beyond the
// documented bearer token and keeps no state but what a test sets.
package docreplay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

// The documented credentials (token_password.json and the token request
// example) that the server accepts.
const (
	ClientID     = "ABCDE12345"
	ClientSecret = "FGHIJ67890"
	UserName     = "john.doe@example.com"
	UserPassword = "jd1@#$"
	AccountNo    = "1"
	accessToken  = "qwErtY8zyW1abcdefGHI"
)

// Server answers SmartView API requests with the documented examples. It
// counts requests by path and can be told to fail one.
type Server struct {
	files map[string][]byte // testdata file → contents, U+00A0 made spaces

	mu          sync.Mutex
	hits        map[string]int
	fail        map[string]int    // path → HTTP status to answer with
	hierarchies map[string][]byte // "location/IBX" or "power/IBX" → answer
}

// documentedLinks are the assets whose affected locations the reference shows.
var documentedLinks = map[string]string{
	"CH1.ASTS-1-2-A": "affected_assets_asts.json",
	"CH1.PDU-1-2A":   "affected_assets.json",
}

// New loads the examples from dir (the smartview/testdata directory). The
// reference's HTML indents with non-breaking spaces, which are not JSON
// white space and never occur inside its strings (see testdata/README.md):
// they become spaces.
func New(dir string) (*Server, error) {
	s := &Server{files: map[string][]byte{}, hits: map[string]int{}, fail: map[string]int{}, hierarchies: map[string][]byte{}}
	for _, name := range []string{"token_password.json", "hierarchy_location.json", "hierarchy_power.json",
		"asset_list_electrical.json", "asset_list_mechanical.json", "asset_details_generator.json", "asset_details.json",
		"asset_details_batch.json", "affected_assets_asts.json", "affected_assets.json", "power_post.json",
		"environment_list.json", "environment_current.json", "alarms.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("docreplay: %w", err)
		}
		s.files[name] = bytes.ReplaceAll(b, []byte("\u00a0"), []byte(" "))
	}
	s.hierarchies["location/SV4"] = s.files["hierarchy_location.json"]
	s.hierarchies["power/SV4"] = s.files["hierarchy_power.json"]
	list, err := withDocumentedLinkAssets(s.payload("asset_list_electrical.json"))
	if err != nil {
		return nil, err
	}
	s.files["asset_list_electrical.json"] = enveloped(string(list))
	return s, nil
}

// withDocumentedLinkAssets adds the assets of documentedLinks to the
// Electrical asset list's payload, each under a template of its type.
func withDocumentedLinkAssets(payload json.RawMessage) (json.RawMessage, error) {
	var list map[string]any
	if err := json.Unmarshal(payload, &list); err != nil {
		return nil, fmt.Errorf("docreplay: asset_list_electrical.json: %w", err)
	}
	cats, _ := list["categories"].([]any)
	cats = append(cats, map[string]any{"categoryName": "Power Distribution", "templates": []any{
		map[string]any{"templateId": "ASTS", "assets": []any{map[string]any{"assetId": "CH1.ASTS-1-2-A", "ibx": "CH1", "alarmStatus": "OK"}}},
		map[string]any{"templateId": "PDU", "assets": []any{map[string]any{"assetId": "CH1.PDU-1-2A", "ibx": "CH1", "alarmStatus": "OK"}}},
	}})
	list["categories"] = cats
	return json.Marshal(list)
}

// payload returns the payLoad of a documented enveloped response.
func (s *Server) payload(name string) json.RawMessage {
	var env struct {
		PayLoad json.RawMessage `json:"payLoad"`
	}
	json.Unmarshal(s.files[name], &env)
	return env.PayLoad
}

const okStatus = `"status":{"type":"INFO","statuscode":"1000","msg":"OK"}`

func enveloped(payload string) []byte {
	return []byte(`{"payLoad":` + payload + `,` + okStatus + `}`)
}

// Fail makes every request to path answer status (0: answer normally).
func (s *Server) Fail(path string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.fail, path)
		return
	}
	s.fail[path] = status
}

// FailOnly makes exactly the requests to paths answer status, and every
// other path answer normally.
func (s *Server) FailOnly(status int, paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.fail)
	for _, p := range paths {
		s.fail[p] = status
	}
}

// Hits returns the requests counted by path since the last ResetHits.
func (s *Server) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.hits))
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// ResetHits sets every request count to zero.
func (s *Server) ResetHits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.hits)
}

// SetHierarchy makes the location or power hierarchy ("location", "power")
// of ibx answer body (a bare array, as the API answers hierarchies).
func (s *Server) SetHierarchy(kind, ibx string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hierarchies[kind+"/"+ibx] = body
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	status := s.fail[r.URL.Path]
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, "unavailable", status)
		return
	}
	if r.URL.Path != "/oauth2/v1/token" && r.Header.Get("Authorization") != "Bearer "+accessToken {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	var body struct {
		IBX            string   `json:"ibx"`
		Classification string   `json:"classification"`
		LevelType      string   `json:"levelType"`
		AssetIDs       []string `json:"assetIds"`
	}
	if r.Method == http.MethodPost {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		json.Unmarshal(raw, &body)
	}
	q := r.URL.Query()
	ibx := q.Get("ibx") + body.IBX
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/oauth2/v1/token":
		w.Write(s.files["token_password.json"])
	case "/hierarchy/v1/location", "/hierarchy/v1/power":
		s.mu.Lock()
		h, ok := s.hierarchies[filepath.Base(r.URL.Path)+"/"+ibx]
		s.mu.Unlock()
		if !ok {
			h = []byte("[]")
		}
		w.Write(h)
	case "/asset/v1/list":
		switch {
		case ibx == "CH1" && q.Get("classification") == "Electrical":
			w.Write(s.files["asset_list_electrical.json"])
		case ibx == "CH1" && q.Get("classification") == "Mechanical":
			w.Write(s.files["asset_list_mechanical.json"])
		default:
			w.Write(enveloped(fmt.Sprintf(`{"classification":%q,"categories":[]}`, q.Get("classification"))))
		}
	case "/asset/v1/details":
		w.Write(s.details(body.AssetIDs))
	case "/asset/v1/tagpoint/affected-assets":
		if name, ok := documentedLinks[q.Get("assetId")]; ok && ibx == "CH1" {
			w.Write(s.files[name])
		} else {
			w.Write(enveloped(`{"cages":[]}`))
		}
	case "/power/v1/current":
		if ibx == "CH1" && body.LevelType == "IBX" {
			w.Write(s.files["power_post.json"])
		} else {
			w.Write(enveloped(`{"data":[]}`))
		}
	case "/environment/v1/current":
		if ibx == "CH1" && q.Get("levelType") == "IBX" && q.Get("levelValue") == "CH1" {
			w.Write(s.files["environment_current.json"])
		} else {
			w.Write(enveloped(`{}`))
		}
	case "/environment/v1/listCurrent":
		switch {
		// The reference's listCurrent example asks levelType=IBX and answers the zones.
		case ibx == "CH1" && (q.Get("levelType") == "ZONE" || q.Get("levelType") == "IBX"):
			w.Write(s.files["environment_list.json"])
		default:
			w.Write(enveloped(`{"totalCount":0,"data":[]}`))
		}
	case "/alarms/v1/smartview/alarms":
		if q.Get("offset") == "" || q.Get("offset") == "0" {
			w.Write(s.files["alarms.json"])
		} else { // the documented totalCount (2389) is more than the example lists
			w.Write([]byte(`{"alarms":[],"groupedAlarms":null,"totalCount":2389}`))
		}
	default:
		http.NotFound(w, r)
	}
}

// details answers each asked asset with its documented details, where the
// reference has them.
func (s *Server) details(ids []string) []byte {
	documented := map[string]json.RawMessage{
		"CH1.Gen-1": s.payload("asset_details_generator.json"),
		"CH1.FC 2":  s.payload("asset_details.json"),
	}
	var batch struct {
		AssetDetails []json.RawMessage `json:"assetDetails"`
	}
	json.Unmarshal(s.payload("asset_details_batch.json"), &batch)
	for _, d := range batch.AssetDetails {
		var id struct {
			AssetID string `json:"assetId"`
		}
		json.Unmarshal(d, &id)
		if _, ok := documented[id.AssetID]; !ok {
			documented[id.AssetID] = d
		}
	}
	var out []json.RawMessage
	for _, id := range ids {
		if d, ok := documented[id]; ok {
			out = append(out, d)
		}
	}
	list, _ := json.Marshal(out)
	return enveloped(fmt.Sprintf(`{"totalCount":%d,"assetDetails":%s}`, len(out), list))
}
