package snmp

import (
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// fixtureTime is the clock of the fixture store.
var fixtureTime = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// newFixtureStore returns a store holding the given IBXs with readings for
// most of them (every kind of value, present and absent), alarms in each
// state, an alert, and health.
func newFixtureStore(t testing.TB, parts map[string]model.IBXStructure) *model.Store {
	t.Helper()
	store, err := model.NewStore(model.Options{Now: func() time.Time { return fixtureTime }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Update(func(tx *model.Tx) error {
		tx.SetStructure(parts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := fillVaried(store, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(func(tx *model.Tx) error {
		for ibx := range parts {
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, AssetID: ibx + ".UPS-0", TagID: ibx + ".UPS-0:tag0", Condition: "High voltage",
				Severity: model.SeverityUrgent, SeverityText: "Urgent", Value: "251", Unit: "V", Active: true,
				Triggered: fixtureTime.Add(-time.Hour), Processed: fixtureTime.Add(-time.Hour)}, "poll")
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, Cabinet: ibx + ":01:000000:0000", Condition: "Breaker", Severity: model.SeverityLow,
				SeverityText: "450", Active: true, Acknowledged: true, Triggered: fixtureTime.Add(-2 * time.Hour)}, "feed")
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, Circuit: "nowhere", Condition: "Gone", Severity: model.SeverityInformational,
				Active: true, Triggered: fixtureTime.Add(-3 * time.Hour)}, "poll")
			tx.ObserveAlarm(model.AlarmObservation{IBX: ibx, Circuit: "nowhere", Condition: "Gone", Severity: model.SeverityInformational,
				Active: false, Triggered: fixtureTime.Add(-3 * time.Hour), Cleared: fixtureTime.Add(-time.Minute)}, "poll")
			tx.ObserveAlert(model.AlertObservation{ID: "alert-" + ibx, IBX: ibx, Asset: ibx + ".UPS-0", AssetName: "UPS 0", TagID: ibx + ".UPS-0:tag1",
				Type: "threshold", Name: "Load above 80%", EventType: "ALERT", Severity: "High", Value: "85", Unit: "%", Threshold: "80",
				Triggered: fixtureTime.Add(-30 * time.Minute)}, "feed")
		}
		tx.SetUpstream(model.UpstreamOK, "")
		tx.SetLastSync(fixtureTime)
		tx.SetFeed(model.FeedHealth{State: model.FeedConnected, Provider: "pubsub", Events: 12, Malformed: 1, LastEvent: fixtureTime})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return store
}

// footprint is one IBX of the snmp tests, of modeltest.Large's make-up (a
// sensor per cage, numbered cabinets, circuits with and without a role).
func footprint(ibx string, cages, cabinets, circuits, assets, tags int) model.IBXStructure {
	s := modeltest.Large
	s.Cages, s.Cabinets, s.Circuits, s.Assets, s.Tags = cages, cabinets, circuits, assets, tags
	return modeltest.Footprint(ibx, s)
}

// fillVaried sets modeltest.FillVaried's readings of generation gen.
func fillVaried(store *model.Store, gen int) error {
	_, err := store.Update(func(tx *model.Tx) error { return modeltest.FillVaried(tx, fixtureTime, gen) })
	return err
}
