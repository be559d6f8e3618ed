package poll

// Alerts from the 2024 alerts API, merged into the model's alerts beside those of the feed.
//
// How they merge:
//   - The activity log's entries are alert occurrences, in the feed's alert shape and with the
//     feed's id: an occurrence is identified by SmartView's id whichever way it arrives, so the
//     feed and the poll see one alert.
//   - A definition (getAlerts) fired last at lastTriggeredOn. When an occurrence of the same IBX,
//     alert type and trigger time is in the log, they are one alert: the definition fills in what
//     the occurrence lacks (threshold, unit, name). When none is (the log is not served, or paged
//     past it), the definition's last firing is an alert of its own, id "<definition id>@<epoch
//     ms>", so it is counted once however often it is polled.
//   - Newest wins because the model only moves an alert forward (triggered, then acknowledged,
//     never back) and a later sighting only replaces descriptive fields it has: the order in
//     which the feed and the poll report an alert does not matter.
//   - Occurrences triggered before sync.alarm_retention ago are not applied: the log holds
//     history the model would forget again.

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// alerts reads ibx's alert activity log and alert definitions and applies them. It fails with
// ErrNotServed only when neither is served.
func (c *cycle) alerts(ctx context.Context, ibx string) error {
	since := time.Now().Add(-c.p.cfg.AlarmRetention)
	log, errLog := c.p.client.AlertActivityLog(ctx, smartview.AlertQuery{IBX: ibx, Since: since})
	if errLog != nil && !errors.Is(errLog, smartview.ErrNotServed) {
		return errLog
	}
	defs, errDefs := c.p.client.Alerts(ctx, smartview.AlertQuery{IBX: ibx})
	if errDefs != nil && !errors.Is(errDefs, smartview.ErrNotServed) {
		return errDefs
	}
	if errLog != nil && errDefs != nil {
		return errLog
	}
	var occurrences []smartview.Alert
	if log != nil {
		occurrences = log.Alerts
	}
	var definitions []smartview.AlertDefinition
	if defs != nil {
		definitions = defs.Alerts
	}
	obs := mergeAlerts(ibx, occurrences, definitions, since)
	c.apply("alerts", func(tx *model.Tx, _ *int) {
		for _, o := range obs {
			tx.ObserveAlert(o, "poll")
		}
	})
	return nil
}

// alertIdentity is what an occurrence and a definition's last firing share.
type alertIdentity struct {
	ibx, alertType string
	triggered      int64 // epoch ms
}

// mergeAlerts turns ibx's occurrences and definitions into observations (see the file comment).
func mergeAlerts(ibx string, occurrences []smartview.Alert, definitions []smartview.AlertDefinition, since time.Time) []model.AlertObservation {
	var obs []model.AlertObservation
	byIdentity := map[alertIdentity]int{}
	for i := range occurrences {
		a := &occurrences[i]
		o := ingest.Alert(a)
		if o.IBX == "" {
			o.IBX = ibx
		}
		if o.IBX != ibx || (!o.Triggered.IsZero() && o.Triggered.Before(since)) {
			continue // another IBX's (polled for it), or history
		}
		if a.AlertType != nil && !o.Triggered.IsZero() {
			byIdentity[alertIdentity{o.IBX, a.AlertType.ID, o.Triggered.UnixMilli()}] = len(obs)
		}
		obs = append(obs, o)
	}
	for i := range definitions {
		d := &definitions[i]
		at := ingest.Time(d.LastTriggeredOn)
		ib := d.IBX
		if ib == "" {
			ib = ibx
		}
		if at.IsZero() || at.Before(since) || ib != ibx {
			continue
		}
		var typeID, name, eventType, kind string
		if d.AlertType != nil {
			typeID, eventType, kind = d.AlertType.ID, d.AlertType.EventType, d.AlertType.Type
			name = d.AlertType.Value.Text
		}
		if name == "" {
			name = d.FormattedSection
		}
		if j, ok := byIdentity[alertIdentity{ib, typeID, at.UnixMilli()}]; ok {
			o := &obs[j]
			fill(&o.Threshold, d.ThresholdValue.Text)
			fill(&o.Unit, d.ThresholdUnit)
			fill(&o.Name, name)
			continue
		}
		obs = append(obs, model.AlertObservation{
			ID:  string(d.ID) + "@" + strconv.FormatInt(at.UnixMilli(), 10),
			IBX: ib, Type: kind, Name: name, EventType: eventType, Classification: d.Section,
			Threshold: d.ThresholdValue.Text, Unit: d.ThresholdUnit, Triggered: at,
		})
	}
	return obs
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
