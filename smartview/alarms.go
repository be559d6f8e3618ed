package smartview

import (
	"context"
	"encoding/json"
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

// Alarms lists the account's alarms, fetching every page (limit/offset) until TotalCount alarms
// have arrived, a page comes back empty, or Config.AlarmMaxPages pages have been read; Complete
// reports whether the listing reached TotalCount.
func (c *Client) Alarms(ctx context.Context, q AlarmQuery) (*AlarmList, error) {
	return nil, errNotImplemented
}
