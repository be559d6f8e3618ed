package sandbox

// The 2024 catalog's trending endpoints (power, environment, tag points), registered in
// routes2024.

import (
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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
