package sandbox

// The 2024 catalog's alerts API (getAlerts, getAlertActivityLog), registered in routes2024.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

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
