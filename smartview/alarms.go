package smartview

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Alarm is an alarm as the REST API lists it and as the feed sends it (alarm_updated,
// alarm_active). The two forms differ:
//
//   - REST: camelCase keys, "timeTrigerred" (sic), severity words ("Urgent"), epoch-ms numbers.
//   - feed: lowercase keys ("timetriggered", "assetid"), integer severity (800–899 Urgent, ...),
//     numbers as strings, and the extra fields cage, cabinet, circuit, value, uom, valuetype,
//     alarmtype, metro and region.
//
// Keys match case-insensitively, so one struct reads both; "timeTriggered" is accepted as well as
// the documented misspelling.
type Alarm struct {
	IBX                 string   `json:"ibx"`
	AccountNo           Text     `json:"accountNo"`
	AssetID             string   `json:"assetId"`
	AssetType           string   `json:"assetType"`           // template name, "environmental", or "CIRCUIT"
	AssetClassification string   `json:"assetClassification"` // Electrical, Mechanical, Environmental, Power
	ConditionName       string   `json:"conditionName"`
	Severity            Severity `json:"severity"`
	Status              Bool     `json:"status"` // true while the alarm is active
	Ack                 Bool     `json:"ack"`    // acknowledged by Equinix operations (REST only)
	TagID               string   `json:"tagId"`
	CustomerID          string   `json:"customerId"`

	TimeTriggered       Time `json:"timeTriggered"`       // criteria met; REST key "timeTrigerred"
	TimeProcessed       Time `json:"timeProcessed"`       // alarm created in the system
	TimeNormalProcessed Time `json:"timeNormalProcessed"` // cleared; unset while active

	CustomerAssets []json.RawMessage `json:"customerassets,omitempty"` // undocumented element shape

	// Feed-only fields.
	Cage      string `json:"cage,omitempty"`
	Cabinet   string `json:"cabinet,omitempty"`
	Circuit   string `json:"circuit,omitempty"`
	Value     Number `json:"value"`
	UOM       string `json:"uom,omitempty"`
	ValueType string `json:"valuetype,omitempty"` // Float, Bool, Int
	AlarmType string `json:"alarmtype,omitempty"` // digital, absolute, deviation, multi-state
	Metro     string `json:"metro,omitempty"`
	Region    string `json:"region,omitempty"`

	// v2 streaming only: the message's streamId and its
	// status.acknowledgementTime.
	StreamID string `json:"streamId,omitempty"`
	AckTime  Time   `json:"-"`
}

// UnmarshalJSON implements json.Unmarshaler, reading both the REST and the feed form.
func (a *Alarm) UnmarshalJSON(data []byte) error {
	type plain Alarm
	var wire struct {
		plain
		Misspelt Time `json:"timeTrigerred"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*a = Alarm(wire.plain)
	if a.TimeTriggered.Raw == "" && !a.TimeTriggered.Valid {
		a.TimeTriggered = wire.Misspelt
	}
	return nil
}

// AlarmQuery selects the alarms to list.
type AlarmQuery struct {
	IBX        string // "" for every IBX of the account
	GroupByIBX bool   // ask the API to group the alarms by IBX as well
	PageSize   int    // alarms per request (limit); 0 means Config.AlarmPageSize
}

// AlarmList is every page of an alarm listing put together.
type AlarmList struct {
	Alarms []Alarm
	// Grouped holds each page's groupedAlarms when GroupByIBX was asked for. The documentation
	// shows only null, so its shape is unknown and it is kept undecoded.
	Grouped    []json.RawMessage
	TotalCount int  // the API's totalCount, from the last page
	Complete   bool // every alarm up to TotalCount was received
	Pages      int  // requests made
}

// alarmPage is one answer of the alarms endpoint (not enveloped).
type alarmPage struct {
	Alarms        []Alarm         `json:"alarms"`
	GroupedAlarms json.RawMessage `json:"groupedAlarms"`
	TotalCount    *int            `json:"totalCount"`
}

// Alarms lists the account's alarms, fetching every page (limit/offset) until the offset reaches
// TotalCount, a page brings no alarm not seen already (empty, or the server ignored offset), a
// page comes back short when the API gives no totalCount, or Config.AlarmMaxPages pages have been
// read. An alarm met twice (the list shifted while it was paged) is kept once. Complete reports
// whether the listing reached TotalCount. A failing page fails the call: a partial listing is
// never returned as if it were whole.
func (c *Client) Alarms(ctx context.Context, q AlarmQuery) (*AlarmList, error) {
	size := q.PageSize
	if size <= 0 {
		size = c.cfg.AlarmPageSize
	}
	list := &AlarmList{}
	seen := map[alarmKey]bool{}
	offset := 0
	countKnown, reachedEnd := false, false
	for !reachedEnd && list.Pages < c.cfg.AlarmMaxPages {
		r := c.get(endpointAlarms, routeAlarms, "ibx", q.IBX,
			"limit", strconv.Itoa(size), "offset", strconv.Itoa(offset))
		if q.GroupByIBX {
			r.query.Set("groupByIBX", "true")
		}
		var page alarmPage
		err := c.do(ctx, r, func(body io.Reader) error {
			page = alarmPage{}
			return decodeOptionalEnvelope(body, &page)
		})
		if err != nil {
			return nil, err
		}
		list.Pages++
		offset += len(page.Alarms)
		fresh := 0
		for _, a := range page.Alarms {
			if k := a.key(); !seen[k] {
				seen[k] = true
				list.Alarms = append(list.Alarms, a)
				fresh++
			}
		}
		if !isNull(page.GroupedAlarms) {
			list.Grouped = append(list.Grouped, page.GroupedAlarms)
		}
		if page.TotalCount != nil {
			countKnown, list.TotalCount = true, *page.TotalCount
		}
		// fresh == 0: the server ignored offset and sent a page again.
		reachedEnd = fresh == 0 ||
			(countKnown && offset >= list.TotalCount) ||
			(!countKnown && len(page.Alarms) < size)
	}
	if !countKnown {
		list.TotalCount = len(list.Alarms)
	}
	list.Complete = reachedEnd && len(list.Alarms) >= list.TotalCount
	if !list.Complete {
		c.log.Warn("smartview: alarm listing incomplete", "received", len(list.Alarms),
			"total_count", list.TotalCount, "pages", list.Pages)
	}
	for i := range list.Alarms {
		list.Alarms[i].localize(c.zone)
	}
	return list, nil
}

// alarmKey identifies an alarm within one listing, so that an alarm seen on two pages (the list
// shifted while it was paged) is kept once.
type alarmKey struct {
	ibx, assetID, tagID, condition, triggered, processed string
}

func (a *Alarm) key() alarmKey {
	return alarmKey{a.IBX, a.AssetID, a.TagID, a.ConditionName, a.TimeTriggered.Raw, a.TimeProcessed.Raw}
}

func (a *Alarm) localize(loc *time.Location) {
	a.TimeTriggered = a.TimeTriggered.InLocation(loc)
	a.TimeProcessed = a.TimeProcessed.InLocation(loc)
	a.TimeNormalProcessed = a.TimeNormalProcessed.InLocation(loc)
	a.AckTime = a.AckTime.InLocation(loc)
}
