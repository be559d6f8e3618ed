package sandbox

// The 2024 catalog (the descriptions Equinix's developer portal publishes since 2024): asset,
// tag point and hierarchy endpoints under /smartview/v1/ with the documented answers (hierarchy
// level types in lower case, as the 2024 enum has them; the tag point GET takes "tagid"), the
// trending endpoints and the alerts API. Config.Catalog can serve this catalog alone, or the
// documented one alone, to stand in for a live account served by one of them.

import (
	"bytes"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// routes2024 are the 2024 catalog's endpoints. Power and environment "current" have the same
// paths in both catalogs and are in the documented table.
var routes2024 = []route{
	{method: http.MethodGet, path: "/smartview/v1/asset/list", handle: (*Server).handleAssetList},
	{method: http.MethodGet, path: "/smartview/v1/asset/details", handle: (*Server).handleAssetDetails},
	{method: http.MethodPost, path: "/smartview/v1/asset/details", handle: (*Server).handleAssetDetailsPost},
	{method: http.MethodGet, path: "/smartview/v1/asset/tagpoint/affected-assets", handle: (*Server).handleAffectedAssets},
	{method: http.MethodGet, path: "/smartview/v1/asset/search", handle: (*Server).handleAssetSearch},
	{method: http.MethodGet, path: "/smartview/v1/asset/tagpoint/current", handle: (*Server).handleTagCurrent2024},
	{method: http.MethodPost, path: "/smartview/v1/asset/tagpoint/current", handle: (*Server).handleTagCurrentPost},
	{method: http.MethodGet, path: "/smartview/v1/asset/tagpoint/trending", handle: (*Server).handleTagTrending},
	{method: http.MethodGet, path: "/smartview/v1/hierarchy/location", handle: (*Server).handleLocationHierarchy2024},
	{method: http.MethodGet, path: "/smartview/v1/hierarchy/power", handle: (*Server).handlePowerHierarchy2024},
	{method: http.MethodGet, path: "/power/v1/trending", handle: (*Server).handlePowerTrending},
	{method: http.MethodGet, path: "/environment/v1/trending", handle: (*Server).handleEnvironmentTrending},
	{method: http.MethodGet, path: "/smartview/v1/alerts/getAlerts", handle: (*Server).handleGetAlerts},
	{method: http.MethodGet, path: "/smartview/v1/alerts/getAlertActivityLog", handle: (*Server).handleAlertActivityLog},
}

// documentedOnly are the documented paths the 2024 catalog moved or dropped.
var documentedOnly = func() map[string]bool {
	m := map[string]bool{
		"/asset/v1/list": true, "/asset/v1/details": true, "/asset/v1/tagpoint/affected-assets": true,
		"/asset/v1/tagpoint/current": true, "/hierarchy/v1/location": true, "/hierarchy/v1/power": true,
	}
	for _, p := range alarmPaths {
		m[p] = true
	}
	return m
}()

// serves reports whether the configured catalog has path.
func (s *Server) serves(path string) bool {
	switch s.cfg.Catalog {
	case CatalogDocumented:
		return !slices.ContainsFunc(routes2024, func(rt route) bool { return rt.path == path })
	case Catalog2024:
		return !documentedOnly[path]
	}
	return true
}

// GET /smartview/v1/asset/tagpoint/current?accountNo&ibx&tagid (tagId accepted too).
func (s *Server) handleTagCurrent2024(r *http.Request, w *jsonWriter) int {
	aliasParam(r, "tagid", "tagId")
	return s.handleTagCurrent(r, w)
}

// maxSearchResults bounds the list of an asset search (totalCount still counts every match).
const maxSearchResults = 1000

// GET /smartview/v1/asset/search?accountNo&ibx&searchString: the IBX's assets, circuits and
// sensors whose id or label contains searchString, case-insensitively; assets first, then
// circuits, then sensors, each in footprint order.
func (s *Server) handleAssetSearch(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	if !present(q.Get("accountNo"), q.Get("ibx"), q.Get("searchString")) {
		return missingParameter(w)
	}
	needle := strings.ToLower(q.Get("searchString"))
	matches := func(v ...string) bool {
		for _, x := range v {
			if strings.Contains(strings.ToLower(x), needle) {
				return true
			}
		}
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	total := 0
	envelopeStart(w)
	w.objectStart()
	w.key("assetsList")
	w.arrayStart()
	emit := func(id, typ, label, class string) {
		total++
		if total > maxSearchResults {
			return
		}
		w.objectStart()
		w.str("assetId", id)
		w.str("type", typ)
		w.str("assetLabel", label)
		w.str("assetClassification", class)
		w.objectEnd()
	}
	if ii, ok := f.ibxByCode[q.Get("ibx")]; ok {
		ib := &f.ibxs[ii]
		for a := ib.assets.start; a < ib.assets.end; a++ {
			as := &f.assets[a]
			if tm := as.tmpl(); matches(as.id) {
				emit(as.id, tm.name, as.id, tm.class.String())
			}
		}
		for cg := ib.cages.start; cg < ib.cages.end; cg++ {
			for cb := f.cages[cg].cabinets.start; cb < f.cages[cg].cabinets.end; cb++ {
				for ci := f.cabinets[cb].circuits.start; ci < f.cabinets[cb].circuits.end; ci++ {
					if c := &f.circuits[ci]; matches(c.id, c.label) {
						emit(c.id, "circuit", c.label, "Power")
					}
				}
			}
		}
		for sn := ib.sensors.start; sn < ib.sensors.end; sn++ {
			if id := f.sensors[sn].id; matches(id) {
				emit(id, "sensor", id, "Environmental")
			}
		}
	}
	w.arrayEnd()
	w.key("totalCount")
	w.int(int64(total))
	w.objectEnd()
	return envelopeOK(w)
}

// aliasParam copies query parameter from to to when to is absent.
func aliasParam(r *http.Request, from, to string) {
	q := r.URL.Query()
	if q.Get(to) == "" && q.Get(from) != "" {
		q.Set(to, q.Get(from))
		r.URL.RawQuery = q.Encode()
	}
}

func (s *Server) handleLocationHierarchy2024(r *http.Request, w *jsonWriter) int {
	status := s.handleLocationHierarchy(r, w)
	lowerLevelTypes(w)
	return status
}

func (s *Server) handlePowerHierarchy2024(r *http.Request, w *jsonWriter) int {
	status := s.handlePowerHierarchy(r, w)
	lowerLevelTypes(w)
	return status
}

// lowerLevelTypes rewrites "levelType":"CAGE" as "levelType":"cage": the 2024 hierarchy
// description's enum.
func lowerLevelTypes(w *jsonWriter) {
	for _, name := range levelNames {
		w.b = bytes.ReplaceAll(w.b, []byte(`"levelType":"`+name+`"`), []byte(`"levelType":"`+strings.ToLower(name)+`"`))
	}
}

// Trending. The sandbox keeps no history: a series is a deterministic daily swing of ±5% around
// the current value, the same for the same point and time in every answer, on the interval's grid
// (epoch-aligned), never in the future. A range over a year, or over maxTrendPoints samples, is
// refused.

const (
	statusInvalidInput = "3002"
	maxTrendPoints     = 20000
	maxTrendRange      = 366 * 24 * time.Hour
)

var trendIntervals = map[string]time.Duration{
	"reading": 5 * time.Minute, "recording": 5 * time.Minute,
	"5m": 5 * time.Minute, "15m": 15 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour,
}

// trendWindow is the grid of a trending request: epoch ms.
type trendWindow struct{ first, last, step int64 }

// window reads interval, fromDate and toDate; msg is the error message when they are not usable.
func (s *Server) window(q url.Values) (tw trendWindow, msg string) {
	step, ok := trendIntervals[strings.ToLower(q.Get("interval"))]
	if !ok {
		return tw, "Invalid Interval"
	}
	from, err1 := strconv.ParseInt(q.Get("fromDate"), 10, 64)
	to, err2 := strconv.ParseInt(q.Get("toDate"), 10, 64)
	switch {
	case err1 != nil || err2 != nil || from < 0 || to < from:
		return tw, "Invalid From/To Date"
	case time.Duration(to-from)*time.Millisecond > maxTrendRange:
		return tw, "From/ToDate interval cannot be greater  than 1 year"
	}
	tw.step = step.Milliseconds()
	tw.first = (from + tw.step - 1) / tw.step * tw.step
	tw.last = min(to, s.now().UnixMilli())
	if tw.last >= tw.first && (tw.last-tw.first)/tw.step >= maxTrendPoints {
		return tw, "Too many points: narrow the range or widen the interval"
	}
	return tw, ""
}

// each calls fn for every time of the grid.
func (tw trendWindow) each(fn func(at int64)) {
	for at := tw.first; at <= tw.last; at += tw.step {
		fn(at)
	}
}

// trendValue is the series' value at epoch ms at, around the current value cur.
func trendValue(key string, cur float64, at int64) float64 {
	h := fnv.New32a()
	h.Write([]byte(key))
	phase := float64(h.Sum32()) / (1 << 32) * 2 * math.Pi
	day := float64(at) / float64(24*time.Hour/time.Millisecond)
	return cur * (1 + 0.05*math.Sin(2*math.Pi*day+phase))
}

// trendRequest checks what every trending endpoint needs; it returns the HTTP status of an error
// answer already written, or 0.
func (s *Server) trendRequest(w *jsonWriter, q url.Values, more ...string) (trendWindow, int) {
	if !present(append([]string{q.Get("accountNo"), q.Get("ibx"), q.Get("interval"), q.Get("fromDate"), q.Get("toDate")}, more...)...) {
		return trendWindow{}, missingParameter(w)
	}
	tw, msg := s.window(q)
	if msg != "" {
		return tw, envelopeError(w, statusInvalidInput, msg)
	}
	return tw, 0
}

// GET /power/v1/trending?accountNo&ibx&levelType&levelValue&interval&fromDate&toDate: kVA,
// datetime as yyyyMMddHHmm (UTC), values as strings.
func (s *Server) handlePowerTrending(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	tw, status := s.trendRequest(w, q, q.Get("levelType"), q.Get("levelValue"))
	if status != 0 {
		return status
	}
	level, ok := parseLevel(q.Get("levelType"), powerLevels)
	if !ok {
		return invalidLevelType(w)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	envelopeStart(w)
	w.objectStart()
	w.str("accountNumber", s.cfg.AccountNo)
	w.str("ibx", q.Get("ibx"))
	w.str("levelType", strings.ToLower(level.String()))
	w.str("levelValue", q.Get("levelValue"))
	w.str("interval", q.Get("interval"))
	w.key("data")
	w.arrayStart()
	if ii, known := f.ibxByCode[q.Get("ibx")]; known {
		if i, found := f.findLevel(ii, level, q.Get("levelValue")); found {
			var kva float64
			switch level {
			case levelIBX:
				kva = f.ibxs[i].power.kva
			case levelCage:
				kva = f.cages[i].power.kva
			case levelCabinet:
				kva = f.cabinets[i].power.kva
			case levelCircuit:
				kva = f.circuits[i].kva
			}
			key := "power/" + level.String() + "/" + q.Get("levelValue")
			tw.each(func(at int64) {
				w.objectStart()
				w.str("datetime", time.UnixMilli(at).UTC().Format("200601021504"))
				w.key("value")
				w.fixedString(trendValue(key, kva, at), 3)
				w.objectEnd()
			})
		}
	}
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

// GET /environment/v1/trending?accountNo&ibx&dataPoint&levelType&levelValue&interval&fromDate&toDate:
// a "series" of {value, modifiers, datetime (epoch ms)}.
func (s *Server) handleEnvironmentTrending(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	tw, status := s.trendRequest(w, q, q.Get("dataPoint"), q.Get("levelType"), q.Get("levelValue"))
	if status != 0 {
		return status
	}
	level, ok := parseLevel(q.Get("levelType"), environmentLevels)
	if !ok {
		return invalidLevelType(w)
	}
	dp := strings.ToLower(q.Get("dataPoint"))
	uom, decimals := "°C", 2
	switch dp {
	case "temperature":
	case "humidity":
		uom = "%"
	default:
		return envelopeError(w, statusInvalidInput, "Invalid DataPoint")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	envelopeStart(w)
	w.objectStart()
	w.str("ibx", q.Get("ibx"))
	w.str("accountNo", s.cfg.AccountNo)
	w.str("interval", q.Get("interval"))
	w.str("datapoint", dp)
	w.str("uom", uom)
	w.key("series")
	w.arrayStart()
	if ii, known := f.ibxByCode[q.Get("ibx")]; known {
		if i, found := f.findLevel(ii, level, q.Get("levelValue")); found {
			var c *climate
			switch level {
			case levelIBX:
				c = &f.ibxs[i].climate
			case levelZone:
				c = &f.zones[i].climate
			case levelCage:
				c = &f.cages[i].climate
			case levelSensor:
				c = &f.sensors[i].climate
			}
			cur := c.temp
			if dp == "humidity" {
				cur = c.hum
			}
			key := "environment/" + level.String() + "/" + q.Get("levelValue") + "/" + dp
			tw.each(func(at int64) {
				w.objectStart()
				w.key("value")
				w.fixedString(trendValue(key, cur, at), decimals)
				w.key("modifiers")
				w.arrayStart()
				w.string("recorded")
				w.arrayEnd()
				w.key("datetime")
				w.intString(at)
				w.objectEnd()
			})
		}
	}
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

// GET /smartview/v1/asset/tagpoint/trending?accountNo&ibx&tagid&interval&fromDate&toDate: "data"
// of {datetime (epoch ms), value (string)}; a text tag keeps its text.
func (s *Server) handleTagTrending(r *http.Request, w *jsonWriter) int {
	aliasParam(r, "tagid", "tagId")
	q := r.URL.Query()
	tw, status := s.trendRequest(w, q, q.Get("tagId"))
	if status != 0 {
		return status
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	envelopeStart(w)
	w.objectStart()
	w.str("accountNumber", s.cfg.AccountNo)
	w.str("ibx", q.Get("ibx"))
	w.str("interval", q.Get("interval"))
	ti, found := f.tagByID[q.Get("tagId")]
	if ii, known := f.ibxByCode[q.Get("ibx")]; !known || !found || f.assets[f.tags[ti].asset].ibx != ii {
		w.key("data")
		w.arrayStart()
		w.arrayEnd()
		w.objectEnd()
		return envelopeOK(w)
	}
	t := &f.tags[ti]
	w.str("uom", t.tmpl.uom)
	w.str("tagId", t.id)
	w.str("tagDisplayName", t.tmpl.display)
	analog := t.tmpl.kind == analogTag
	if analog {
		w.str("dataType", "Float")
	} else {
		w.str("dataType", "String")
	}
	w.key("data")
	w.arrayStart()
	tw.each(func(at int64) {
		w.objectStart()
		w.key("datetime")
		w.intString(at)
		if analog {
			w.key("value")
			w.fixedString(trendValue("tag/"+t.id, t.value, at), t.tmpl.decimals)
		} else {
			w.str("value", t.text)
		}
		w.objectEnd()
	})
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

// Alerts. The sandbox's alerts are the notifications of its alarms (see writeAlert): the activity
// log lists one per alarm, newest first ("orderBy=asc": oldest first), and getAlerts one
// definition per IBX, "Alarm Notification", whose lastTriggeredOn is the IBX's newest alarm. Both
// page with pageNum (from 1) and limit, and answer with the alerts API's nested status.

// alarmAlertTypeID is the alert type of the alarm notifications.
const alarmAlertTypeID = "alarmNotification"

// alertsPaging reads pageNum and limit; msg is the description's error message when they are
// missing or invalid.
func alertsPaging(q url.Values) (page, limit int, msg string) {
	switch {
	case q.Get("pageNum") == "":
		return 0, 0, "Missing Pagenum"
	case q.Get("limit") == "":
		return 0, 0, "Missing Limit"
	}
	page, err := strconv.Atoi(q.Get("pageNum"))
	if err != nil || page < 1 {
		return 0, 0, "Invalid Pagenum"
	}
	limit, err = strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		return 0, 0, "Invalid Limit"
	}
	switch strings.ToLower(q.Get("orderBy")) {
	case "", "asc", "desc", "ascending", "descending":
	default:
		return 0, 0, "Invalid OrderBy"
	}
	return page, limit, ""
}

// alertsAnswer writes {"payLoad": [{"alerts": [the page], "totalCount": n}], "status": nested}.
func alertsAnswer(w *jsonWriter, total int, writePage func()) int {
	w.objectStart()
	w.key("payLoad")
	w.arrayStart()
	w.objectStart()
	w.key("alerts")
	w.arrayStart()
	writePage()
	w.arrayEnd()
	w.key("totalCount")
	w.int(int64(total))
	w.objectEnd()
	w.arrayEnd()
	w.key("status")
	w.objectStart()
	w.str("type", "INFO")
	w.str("cause", "null")
	w.key("info")
	w.objectStart()
	w.key("code")
	w.int(1000)
	w.str("msg", "OK")
	w.objectEnd()
	w.objectEnd()
	w.objectEnd()
	return http.StatusOK
}

// pageRange is the [from, to) of page (from 1) of limit in total.
func pageRange(page, limit, total int) (int, int) {
	from := min((page-1)*limit, total)
	return from, min(from+limit, total)
}

// GET /smartview/v1/alerts/getAlertActivityLog?pageNum&limit[&ibx&isAcknowledged&orderBy&…]
func (s *Server) handleAlertActivityLog(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	page, limit, msg := alertsPaging(q)
	if msg != "" {
		return envelopeError(w, statusInternalError, msg)
	}
	ack, okAck := optionalBool(q.Get("isAcknowledged"))
	if !okAck {
		return envelopeError(w, statusInternalError, "INTERNAL_ERROR")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	var selected []*alarm
	for i := len(s.alarms.list) - 1; i >= 0; i-- { // newest first
		a := s.alarms.list[i]
		if ibx := q.Get("ibx"); ibx != "" && f.ibxs[f.assets[a.asset].ibx].code != ibx {
			continue
		}
		if q.Get("isAcknowledged") != "" && a.ack != ack {
			continue
		}
		selected = append(selected, a)
	}
	if o := strings.ToLower(q.Get("orderBy")); o == "asc" || o == "ascending" {
		slices.Reverse(selected)
	}
	from, to := pageRange(page, limit, len(selected))
	return alertsAnswer(w, len(selected), func() {
		for _, a := range selected[from:to] {
			s.writeAlertAs(w, a, true)
		}
	})
}

// GET /smartview/v1/alerts/getAlerts?pageNum&limit[&ibx&…]: one definition per IBX.
func (s *Server) handleGetAlerts(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	page, limit, msg := alertsPaging(q)
	if msg != "" {
		return envelopeError(w, statusInternalError, msg)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	var ibxs []int32
	for i := range f.ibxs {
		if v := q.Get("ibx"); v == "" || v == f.ibxs[i].code {
			ibxs = append(ibxs, int32(i))
		}
	}
	from, to := pageRange(page, limit, len(ibxs))
	return alertsAnswer(w, len(ibxs), func() {
		for _, ii := range ibxs[from:to] {
			s.writeAlertDefinition(w, ii)
		}
	})
}

// writeAlertDefinition writes getAlerts' AlertDto1 for an IBX's alarm notifications.
func (s *Server) writeAlertDefinition(w *jsonWriter, ii int32) {
	f := s.fp
	ib := &f.ibxs[ii]
	var last int64
	for _, a := range s.alarms.list {
		if f.assets[a.asset].ibx == ii {
			last = max(last, a.timeTriggered)
		}
	}
	w.objectStart()
	w.str("id", "ALERTDEF-"+ib.code)
	w.str("ibx", ib.code)
	w.key("alertType")
	w.objectStart()
	w.str("id", alarmAlertTypeID)
	w.str("type", "ALARM")
	w.str("value", "Alarm Notification")
	w.str("unit", "")
	w.str("tagId", "")
	w.str("defaultValue", "")
	w.str("eventType", "TRIGGERED")
	w.objectEnd()
	w.str("section", "alarm")
	w.key("customerAssets")
	w.arrayStart()
	w.objectStart()
	w.str("type", "cage")
	w.key("assets")
	w.arrayStart()
	for cg := ib.cages.start; cg < ib.cages.end; cg++ {
		w.string(f.cages[cg].id)
	}
	w.arrayEnd()
	w.key("assetsName")
	w.arrayStart()
	for cg := ib.cages.start; cg < ib.cages.end; cg++ {
		w.string(f.cages[cg].label)
	}
	w.arrayEnd()
	w.objectEnd()
	w.arrayEnd()
	w.key("infraAssets")
	w.arrayStart()
	w.arrayEnd()
	w.str("heartbeatType", "off")
	w.key("recipients")
	w.arrayStart()
	w.arrayEnd()
	w.str("conditionalAlert", "")
	for _, k := range []string{"thresholdUnit", "thresholdValueMin", "thresholdValueMax", "thresholdValue"} {
		w.str(k, "")
	}
	w.str("createdBy", "sandbox")
	w.key("createdOn")
	w.int(alertDefinitionCreated)
	w.key("modifiedOn")
	w.int(alertDefinitionCreated)
	w.key("lastTriggeredOn")
	if last > 0 {
		w.int(last)
	} else {
		w.null()
	}
	w.str("formatedSection", "Alarm Notification")
	w.str("enabledAction", "Enabled")
	w.key("isDuplicate")
	w.bool(false)
	w.str("userId", "sandbox")
	w.str("ucmid", "")
	w.str("accountNo", s.cfg.AccountNo)
	w.str("uom", "STANDARD")
	w.str("status", "ACTIVE")
	w.str("region", ib.region)
	w.str("country", ib.country)
	w.str("metro", ib.metro)
	w.key("alertPaused")
	w.bool(false)
	w.objectEnd()
}

// alertDefinitionCreated is the createdOn of the sandbox's definitions: the description's example.
const alertDefinitionCreated = 1547696687748
