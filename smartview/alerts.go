package smartview

// The 2024 catalog's alerts API (alert_v1): getAlerts lists the customer's alert definitions
// (thresholds a user configured, each with the time it last fired), getAlertActivityLog lists alert
// occurrences, in the same shape as the feed's alert events. Both answer
// {"payLoad": [{"alerts": […], "totalCount": n}], "status": {"type", "cause", "info": {"code",
// "msg"}}} and page with pageNum (from 1) and limit. The documented catalog has neither: there,
// alerts come from the feed only.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"
)

// AlertDefinition is one alert a user configured (getAlerts). Recipients (names, e-mail
// addresses, phone numbers) are not decoded: the gateway has no use for them and they are
// personal data.
type AlertDefinition struct {
	ID                Text            `json:"id"` // a string; the 2024 description's example is a number
	IBX               string          `json:"ibx"`
	AccountNo         Text            `json:"accountNo"`
	AlertType         *AlertType      `json:"alertType,omitempty"`
	Section           string          `json:"section"`          // electrical, mechanical, power, environmental
	FormattedSection  string          `json:"formatedSection"`  // sic: "Power Draw"
	CustomerAssets    []AlertAssets   `json:"customerAssets"`   // the customer locations watched
	InfraAssets       []AlertAssets   `json:"infraAssets"`      // the infrastructure assets watched
	ConditionalAlert  json.RawMessage `json:"conditionalAlert"` // a string in the description; kept raw
	HeartbeatType     string          `json:"heartbeatType"`
	ThresholdUnit     string          `json:"thresholdUnit"`
	ThresholdValue    Number          `json:"thresholdValue"`
	ThresholdValueMin Number          `json:"thresholdValueMin"`
	ThresholdValueMax Number          `json:"thresholdValueMax"`
	UOM               string          `json:"uom"`
	Status            string          `json:"status"`
	EnabledAction     string          `json:"enabledAction"` // "Enabled"
	AlertPaused       Bool            `json:"alertPaused"`
	IsDuplicate       Bool            `json:"isDuplicate"`
	CreatedBy         string          `json:"createdBy"`
	CreatedOn         Time            `json:"createdOn"`
	ModifiedOn        Time            `json:"modifiedOn"`
	LastTriggeredOn   Time            `json:"lastTriggeredOn"` // unset: never fired
	Region            string          `json:"region"`
	Country           string          `json:"country"`
	Metro             string          `json:"metro"`
}

// AlertAssets are the assets of one type an alert watches: ids and their names.
type AlertAssets struct {
	Type       string `json:"type"` // cage, cabinet, circuit, asset
	Assets     []Text `json:"assets"`
	AssetsName []Text `json:"assetsName"`
}

// AlertConditions are an alert's conditions. The feed sends one object, the 2024 activity log an
// array of them, getAlerts a string: all are accepted (a string, the condition's text, becomes
// one condition with only Text set).
type AlertConditions []AlertCondition

// UnmarshalJSON implements json.Unmarshaler.
func (cs *AlertConditions) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*cs = nil
	switch {
	case len(data) == 0 || string(data) == "null":
		return nil
	case data[0] == '[':
		var list []AlertCondition
		if err := json.Unmarshal(data, &list); err != nil {
			return err
		}
		*cs = list
	case data[0] == '{':
		var one AlertCondition
		if err := json.Unmarshal(data, &one); err != nil {
			return err
		}
		*cs = AlertConditions{one}
	case data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if s != "" {
			*cs = AlertConditions{{Text: s}}
		}
	default:
		return errors.New("conditionalAlert: want an object, a list or a string")
	}
	return nil
}

// AlertQuery selects alerts. Every field is optional.
type AlertQuery struct {
	IBX       string
	Category  string // the API's category filter, passed as is
	EventType string // the API's eventType filter, passed as is
	// Acknowledged filters the activity log on acknowledgement (nil: both).
	Acknowledged *bool
	// Since drops occurrences (activity log) triggered before it; zero keeps all. The API has no
	// date filter: every page is still read.
	Since    time.Time
	PageSize int // alerts per page (limit); 0 means Config.AlarmPageSize
}

// AlertDefinitionList is every page of getAlerts.
type AlertDefinitionList struct {
	Alerts     []AlertDefinition
	TotalCount int
	Complete   bool
	Pages      int
}

// AlertList is every page of getAlertActivityLog, as alert occurrences.
type AlertList struct {
	Alerts     []Alert
	TotalCount int
	Complete   bool // every alert up to TotalCount was received (before Since was applied)
	Pages      int
}

// alertsPage is one answer's payload: a list of {alerts, totalCount} (one element in practice).
type alertsPage[T any] []struct {
	Alerts     []T     `json:"alerts"`
	TotalCount *Number `json:"totalCount"`
}

// Alerts lists the account's alert definitions (getAlerts), every page. It fails with
// ErrNotServed when the account's catalog has no alerts API.
func (c *Client) Alerts(ctx context.Context, q AlertQuery) (*AlertDefinitionList, error) {
	list, total, complete, pages, err := pageAlerts[AlertDefinition](ctx, c, endpointAlerts, routeAlerts, q,
		func(a *AlertDefinition) string { return string(a.ID) }, nil)
	if err != nil {
		return nil, err
	}
	for i := range list {
		a := &list[i]
		a.CreatedOn, a.ModifiedOn = a.CreatedOn.InLocation(c.zone), a.ModifiedOn.InLocation(c.zone)
		a.LastTriggeredOn = a.LastTriggeredOn.InLocation(c.zone)
	}
	return &AlertDefinitionList{Alerts: list, TotalCount: total, Complete: complete, Pages: pages}, nil
}

// AlertActivityLog lists alert occurrences (getAlertActivityLog), every page, keeping those
// triggered at or after q.Since. It fails with ErrNotServed when the account's catalog has no
// alerts API.
func (c *Client) AlertActivityLog(ctx context.Context, q AlertQuery) (*AlertList, error) {
	var past func(page []Alert) bool
	if !q.Since.IsZero() {
		past = func(page []Alert) bool { return newestFirstBefore(page, q.Since) }
	}
	list, total, complete, pages, err := pageAlerts[Alert](ctx, c, endpointAlertActivityLog, routeAlertActivityLog, q,
		func(a *Alert) string { return string(a.ID) }, past)
	if err != nil {
		return nil, err
	}
	kept := list[:0]
	for i := range list {
		a := &list[i]
		a.localize(c.zone)
		if !q.Since.IsZero() {
			if at := a.triggered(); at.Valid && at.Time.Before(q.Since) {
				continue
			}
		}
		kept = append(kept, *a)
	}
	return &AlertList{Alerts: kept, TotalCount: total, Complete: complete, Pages: pages}, nil
}

// triggered is when the alert fired: timetriggeredMilisec, else triggeredOn.
func (a *Alert) triggered() Time {
	if a.TimeTriggered.Valid {
		return a.TimeTriggered
	}
	return a.TriggeredOn
}

// newestFirstBefore reports whether a page is in newest-first order and wholly before since:
// then the pages after it are older still. The API's orderBy and sortBy values are not
// documented, so the order is observed, not asked for; a log in another order is read whole.
func newestFirstBefore(page []Alert, since time.Time) bool {
	if len(page) == 0 {
		return false
	}
	for i := range page {
		at := page[i].triggered()
		if !at.Valid || !at.Time.Before(since) {
			return false
		}
		if i > 0 && at.Time.After(page[i-1].triggered().Time) {
			return false
		}
	}
	return true
}

// pageAlerts reads every page of an alerts endpoint: until totalCount is reached, a page brings
// nothing new (the server ignored pageNum), a page is short, past reports a page that ends what
// is wanted (nil: none does), or Config.AlarmMaxPages pages. An alert met twice (the list shifted
// while it was paged) is kept once. Stopped by past, the listing counts as complete.
func pageAlerts[T any](ctx context.Context, c *Client, endpoint, route string, q AlertQuery, id func(*T) string, past func([]T) bool) (list []T, total int, complete bool, pages int, err error) {
	size := q.PageSize
	if size <= 0 {
		size = c.cfg.AlarmPageSize
	}
	seen := map[string]bool{}
	countKnown, reachedEnd, stopped := false, false, false
	received := 0
	for page := 1; !reachedEnd && pages < c.cfg.AlarmMaxPages; page++ {
		r := c.get(endpoint, route, "ibx", q.IBX, "category", q.Category, "eventType", q.EventType,
			"pageNum", strconv.Itoa(page), "limit", strconv.Itoa(size))
		if q.Acknowledged != nil && route == routeAlertActivityLog {
			r.query.Set("isAcknowledged", strconv.FormatBool(*q.Acknowledged))
		}
		var payload alertsPage[T]
		if err := c.do(ctx, r, func(body io.Reader) error {
			payload = nil
			return decodeEnveloped(body, &payload)
		}); err != nil {
			return nil, 0, false, pages, err
		}
		pages++
		fresh, got := 0, 0
		for _, p := range payload {
			got += len(p.Alerts)
			for i := range p.Alerts {
				k := id(&p.Alerts[i])
				if k != "" && seen[k] {
					continue
				}
				if k != "" {
					seen[k] = true
				}
				list = append(list, p.Alerts[i])
				fresh++
			}
			if p.TotalCount != nil && p.TotalCount.Valid {
				countKnown, total = true, int(p.TotalCount.Value)
			}
		}
		received += got
		if past != nil {
			for _, p := range payload {
				stopped = stopped || past(p.Alerts)
			}
		}
		reachedEnd = fresh == 0 || stopped || (countKnown && received >= total) || (!countKnown && got < size)
	}
	if !countKnown {
		total = len(list)
	}
	complete = stopped || (reachedEnd && len(list) >= total)
	if !complete {
		c.log.Warn("smartview: alert listing incomplete", "endpoint", endpoint, "received", len(list),
			"total_count", total, "pages", pages)
	}
	return list, total, complete, pages, nil
}
