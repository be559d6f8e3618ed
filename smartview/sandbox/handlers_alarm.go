package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GET /alarm/v1/smartview/alarms and /alarms/v1/smartview/alarms
//
// accountNo is mandatory; ibx is optional although the reference's table says otherwise (its own
// curl example omits it) and may list several codes separated by commas. Alarms are listed
// oldest first (the documented three first, in the reference's order), active and cleared alike,
// as the reference's example mixes both; limit (0 or absent: all) and offset page that list and
// totalCount counts all of it. With groupByIBX=true the page is taken from the list ordered by
// IBX and answered as "alarms": null and "groupedAlarms": [{"ibx", "totalCount", "alarms"}], one
// group per IBX on the page (the reference does not show this shape).
func (s *Server) handleAlarms(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	if !present(q.Get("accountNo")) {
		return missingParameter(w)
	}
	limit, okLimit := nonNegative(q.Get("limit"))
	offset, okOffset := nonNegative(q.Get("offset"))
	grouped, okGrouped := optionalBool(q.Get("groupByIBX"))
	if !okLimit || !okOffset || !okGrouped {
		return missingParameter(w)
	}
	var ibxFilter []string
	if v := q.Get("ibx"); v != "" {
		ibxFilter = strings.Split(v, ",")
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	var selected []*alarm
	for _, a := range s.alarms.list {
		if ibxFilter == nil || slices.Contains(ibxFilter, f.ibxs[f.assets[a.asset].ibx].code) {
			selected = append(selected, a)
		}
	}
	if grouped {
		slices.SortStableFunc(selected, func(a, b *alarm) int { return int(f.assets[a.asset].ibx - f.assets[b.asset].ibx) })
	}
	total := len(selected)
	page := selected[min(offset, total):]
	if limit > 0 {
		page = page[:min(limit, len(page))]
	}

	w.objectStart()
	w.key("alarms")
	if grouped {
		w.null()
		w.key("groupedAlarms")
		w.arrayStart()
		for len(page) > 0 {
			ib := f.assets[page[0].asset].ibx
			n := 1
			for n < len(page) && f.assets[page[n].asset].ibx == ib {
				n++
			}
			w.objectStart()
			w.str("ibx", f.ibxs[ib].code)
			w.key("totalCount")
			w.int(int64(n))
			s.writeAlarmList(w, page[:n])
			w.objectEnd()
			page = page[n:]
		}
		w.arrayEnd()
	} else {
		s.writeAlarmArray(w, page)
		w.key("groupedAlarms")
		w.null()
	}
	w.key("totalCount")
	w.int(int64(total))
	w.objectEnd()
	return http.StatusOK
}

func (s *Server) writeAlarmList(w *jsonWriter, list []*alarm) {
	w.key("alarms")
	s.writeAlarmArray(w, list)
}

func (s *Server) writeAlarmArray(w *jsonWriter, list []*alarm) {
	w.arrayStart()
	for _, a := range list {
		s.writeRESTAlarm(w, a)
	}
	w.arrayEnd()
}

// writeRESTAlarm writes the REST alarm: camelCase, severity as a word, "timeTrigerred" (sic),
// times as epoch-ms numbers, 0 while not cleared.
func (s *Server) writeRESTAlarm(w *jsonWriter, a *alarm) {
	f := s.fp
	as := &f.assets[a.asset]
	t := as.tmpl()
	w.objectStart()
	w.str("ibx", f.ibxs[as.ibx].code)
	w.str("accountNo", s.cfg.AccountNo)
	w.str("assetId", as.id)
	w.str("assetType", t.name)
	w.str("assetClassification", t.class.String())
	w.str("conditionName", a.condition)
	w.str("severity", severityWord(a.severity))
	w.key("status")
	w.bool(a.active)
	w.key("ack")
	w.bool(a.ack)
	w.str("tagId", f.tags[a.tag].id)
	w.str("customerId", "ALL")
	w.key("timeProcessed")
	w.int(a.timeProcessed)
	w.key("timeTrigerred")
	w.int(a.timeTriggered)
	w.key("timeNormalProcessed")
	w.int(a.timeNormal)
	w.key("customerassets")
	w.arrayStart()
	w.arrayEnd()
	w.objectEnd()
}

// writeFeedAlarm writes the feed's Alarm object: lowercase keys, integer severity, everything
// else as strings. "ack" is the sandbox's addition: the schema has no field for it although the
// reference says acknowledgements are streamed.
func (s *Server) writeFeedAlarm(w *jsonWriter, a *alarm) {
	f := s.fp
	as := &f.assets[a.asset]
	ib := &f.ibxs[as.ibx]
	t := &f.tags[a.tag]
	valueType, alarmType := "Float", "absolute"
	if t.tmpl.kind != analogTag {
		valueType, alarmType = "Bool", "digital"
	}
	w.objectStart()
	w.key("timetriggered")
	w.intString(a.timeTriggered)
	w.str("valuetype", valueType)
	w.key("severity")
	w.int(int64(a.severity))
	w.key("timenormalprocessed")
	w.intString(a.timeNormal)
	w.str("circuit", "")
	w.str("alarmtype", alarmType)
	w.str("tagid", t.id)
	w.str("uom", t.tmpl.uom)
	w.str("cage", "")
	w.key("timeprocessed")
	w.intString(a.timeProcessed)
	w.str("assetid", as.id)
	w.str("metro", ib.metro)
	w.str("accountno", s.cfg.AccountNo)
	w.str("conditionname", a.condition)
	w.str("region", ib.region)
	w.str("value", a.value)
	w.str("cabinet", "")
	w.str("assettype", as.tmpl().name)
	w.str("ibx", ib.code)
	w.key("status")
	w.bool(a.active)
	w.str("assetclassification", as.tmpl().class.String())
	w.key("ack")
	w.bool(a.ack)
	w.objectEnd()
}

// writeAlert writes the feed's Alert object for an alarm's customer notification: the sandbox's
// alerts are the notifications of its alarms (triggered, acknowledged, cleared), since the
// reference has no alerts REST endpoint to define them.
func (s *Server) writeAlert(w *jsonWriter, a *alarm) { s.writeAlertAs(w, a, false) }

// writeAlertAs writes the Alert object; activityLog gives the 2024 activity log's form
// (AlertDto2): conditionalAlert is a list, and alertType.id names the alert's type (the
// definition getAlerts lists) rather than the occurrence.
func (s *Server) writeAlertAs(w *jsonWriter, a *alarm, activityLog bool) {
	f := s.fp
	as := &f.assets[a.asset]
	ib := &f.ibxs[as.ibx]
	t := &f.tags[a.tag]
	tmpl := as.tmpl()
	event := "TRIGGERED"
	switch {
	case !a.active:
		event = "CLEARED"
	case a.ack:
		event = "ACKNOWLEDGED"
	}
	id := "ALERT-" + strconv.FormatInt(a.seq, 10)
	w.objectStart()
	w.str("accountNo", s.cfg.AccountNo)
	w.key("acknowledge")
	w.bool(a.ack)
	w.key("affectedCustomerAsset")
	w.null()
	w.key("alertType")
	w.objectStart()
	w.key("defaultValue")
	w.null()
	w.str("eventType", event)
	if activityLog {
		w.str("id", alarmAlertTypeID)
	} else {
		w.str("id", id)
	}
	w.key("tagId")
	w.null()
	w.str("type", "ALARM")
	w.str("unit", t.tmpl.uom)
	w.str("value", a.condition)
	w.objectEnd()
	w.str("alertTypeName", "Alarm Notification")
	w.str("asset", as.id)
	w.str("assetclassification", tmpl.class.String())
	w.str("assetname", as.id)
	w.str("assettype", tmpl.name)
	w.key("conditionalAlert")
	if activityLog {
		w.arrayStart()
	}
	w.objectStart()
	for _, k := range []string{"affectedCustomerAsset", "alertType"} {
		w.key(k)
		w.null()
	}
	w.str("asset", as.id)
	w.str("assetname", as.id)
	w.str("assettype", tmpl.name)
	w.str("condalerttypeid", id)
	w.str("condassetclassification", tmpl.class.String())
	w.str("condassetid", as.id)
	w.str("condcurrentvalue", a.value)
	w.str("condeventtype", event)
	w.str("condtagid", t.id)
	w.key("customerAssets")
	w.null()
	w.str("ibx", ib.code)
	for _, k := range []string{"infraAssets", "measurementType", "region"} {
		w.key(k)
		w.null()
	}
	w.str("section", tmpl.category)
	w.str("thresholdUnit", t.tmpl.uom)
	for _, k := range []string{"thresholdValue", "thresholdValueMax", "thresholdValueMin"} {
		w.str(k, "")
	}
	w.str("uom", t.tmpl.uom)
	w.objectEnd()
	if activityLog {
		w.arrayEnd()
	}
	w.str("country", ib.country)
	w.key("createdOn")
	w.null()
	w.str("currentvalue", a.value)
	w.str("eventtype", event)
	w.str("ibx", ib.code)
	w.str("id", id)
	w.str("lastmaintenance", as.maintenance)
	w.str("metro", ib.metro)
	w.key("modifiedOn")
	w.null()
	w.str("notificationType", "EMAIL")
	w.str("region", ib.region)
	w.str("relatedincidents", "")
	w.str("resiliency", resiliency(tmpl))
	w.str("section", tmpl.category)
	w.str("severity", severityWord(a.severity))
	w.str("tagid", t.id)
	w.str("thresholdUnit", t.tmpl.uom)
	for _, k := range []string{"thresholdValue", "thresholdValueMax", "thresholdValueMin"} {
		w.str(k, "")
	}
	w.str("timeZone", userTimeZoneName)
	w.key("timeacknowledged")
	if a.ack {
		w.intString(a.timeAck)
	} else {
		w.string("")
	}
	w.key("timeprocessed")
	w.intString(a.timeProcessed)
	w.key("timetriggeredMilisec")
	w.intString(a.timeTriggered)
	w.key("triggeredOn")
	w.int(a.timeTriggered)
	w.str("type", "ALARM")
	w.str("uom", t.tmpl.uom)
	w.str("year", strconv.Itoa(time.UnixMilli(a.timeTriggered).In(userTimeZone).Year()))
	w.objectEnd()
}

// nonNegative parses an optional non-negative integer ("" is 0).
func nonNegative(v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

func optionalBool(v string) (bool, bool) {
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(v)
	return b, err == nil
}
