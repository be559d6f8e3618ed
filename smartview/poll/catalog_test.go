package poll

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// modelSummary is what must not depend on the catalog: the ids of every location, asset and
// tag, and which assets are in alarm.
type modelSummary struct {
	locations, assets, tags, notOK []string
}

func summarize(s *model.Snapshot) modelSummary {
	st := s.Structure()
	var m modelSummary
	for _, l := range st.Locations() {
		m.locations = append(m.locations, l.ID.String())
	}
	for i, a := range st.Assets() {
		m.assets = append(m.assets, a.ID)
		if s.Asset(i).AlarmStatus == "NOT OK" {
			m.notOK = append(m.notOK, a.ID)
		}
	}
	for _, tg := range st.Tags() {
		m.tags = append(m.tags, tg.ID)
	}
	for _, l := range [][]string{m.locations, m.assets, m.tags, m.notOK} {
		slices.Sort(l)
	}
	return m
}

// TestCatalogsGiveOneModel syncs from the sandbox with each catalog, the sandbox serving both
// catalogs or only one, and checks that every combination gets ready (last sync set after one
// cycle, nothing failed) with the same footprint. The alarms list exists only in the documented
// catalog and the alerts API only in the 2024 one: an account without one is ready all the same.
func TestCatalogsGiveOneModel(t *testing.T) {
	var want *modelSummary
	cases := []struct {
		client, served string
		alarms, alerts bool // the model has alarms (the alarm list) / alerts (the alerts API)
	}{
		{smartview.CatalogDocumented, sandbox.CatalogBoth, true, false},
		{smartview.Catalog2024, sandbox.CatalogBoth, false, true},
		{smartview.CatalogAuto, sandbox.CatalogBoth, true, true},
		{smartview.CatalogAuto, sandbox.CatalogDocumented, true, false},
		{smartview.CatalogAuto, sandbox.Catalog2024, false, true},
		{smartview.Catalog2024, sandbox.Catalog2024, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.client+" against "+tc.served, func(t *testing.T) {
			cfg := sandbox.Config{Profile: "small", Catalog: tc.served}
			sb, err := sandbox.New(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sb.Handler())
			t.Cleanup(srv.Close)
			// An alarm of today: the documented ones are years old, older than the
			// alerts kept (sync.alarm_retention).
			gen := sandbox.AlarmSpec{AssetID: "CH1.Gen-1"}
			if _, err := sb.RaiseAlarm(gen); err != nil {
				t.Fatal(err)
			}
			p, store := newPollerCatalog(t, srv.URL, sb.IBXs(), tc.client)
			res := p.Cycle(context.Background(), true)
			if res.Failed != 0 || !res.StructureOK {
				t.Fatalf("cycle: %+v", res)
			}
			snap := store.Snapshot()
			if snap.Health().LastSync.IsZero() {
				t.Fatal("not ready after a cycle without failures")
			}
			got := summarize(snap)
			if len(got.assets) == 0 || len(got.notOK) == 0 {
				t.Fatalf("summary: %d assets, %d in alarm", len(got.assets), len(got.notOK))
			}
			if want == nil {
				want = &got
			} else if !reflect.DeepEqual(got, *want) {
				t.Errorf("the model differs from the documented catalog's: %d/%d locations, %d/%d assets, %d/%d tags, in alarm %v/%v",
					len(got.locations), len(want.locations), len(got.assets), len(want.assets), len(got.tags), len(want.tags), got.notOK, want.notOK)
			}
			if n := len(snap.Alarms()); (n > 0) != tc.alarms {
				t.Errorf("%d alarms, want some: %v", n, tc.alarms)
			}
			alerts := snap.Alerts()
			if (len(alerts) > 0) != tc.alerts {
				t.Errorf("%d alerts, want some: %v", len(alerts), tc.alerts)
			}
			for _, a := range alerts {
				if a.IBX != "CH1" || a.Asset != "CH1.Gen-1" || a.Triggered.IsZero() || !strings.HasPrefix(a.ID, "ALERT-") || a.Acknowledged {
					t.Errorf("alert %+v", a)
				}
			}
			// A second cycle applies nothing twice.
			seq := snap.TransitionSeq()
			if res := p.Cycle(context.Background(), false); res.Failed != 0 {
				t.Fatalf("second cycle: %+v", res)
			}
			if got := store.Snapshot().TransitionSeq(); got != seq {
				t.Errorf("a second cycle over the same data made %d transitions", got-seq)
			}
			// An acknowledgement is one transition per source that carries it.
			if _, err := sb.AckAlarm(gen); err != nil {
				t.Fatal(err)
			}
			if res := p.Cycle(context.Background(), false); res.Failed != 0 {
				t.Fatalf("third cycle: %+v", res)
			}
			want := uint64(0)
			for _, has := range []bool{tc.alarms, tc.alerts} {
				if has {
					want++
				}
			}
			snap = store.Snapshot()
			if got := snap.TransitionSeq() - seq; got != want {
				t.Errorf("acknowledgement: %d transitions, want %d", got, want)
			}
			for _, a := range snap.Alerts() {
				if !a.Acknowledged || a.AcknowledgedAt.IsZero() {
					t.Errorf("alert not acknowledged: %+v", a)
				}
			}
		})
	}
}

func TestMergeAlerts(t *testing.T) {
	since := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2019, 1, 9, 4, 22, 14, 678_000_000, time.UTC)
	ms := func(t time.Time) smartview.Time { return smartview.ParseTime(itoa(t.UnixMilli()), nil) }
	occurrences := []smartview.Alert{
		{ID: "A1", IBX: "SG3", AlertType: &smartview.AlertType{ID: "cageDrawExceeds"}, TimeTriggered: ms(at)},
		{ID: "OLD", IBX: "SG3", TimeTriggered: ms(since.Add(-time.Hour))}, // history
		{ID: "ELSE", IBX: "CH1", TimeTriggered: ms(at)},                   // another IBX's
	}
	definitions := []smartview.AlertDefinition{
		{ID: "D1", IBX: "SG3", AlertType: &smartview.AlertType{ID: "cageDrawExceeds", Value: smartview.Number{Text: "Cage Draw kVA to Contractual kVA% Exceeds"}},
			ThresholdValue: smartview.Number{Text: "80", Value: 80, Valid: true}, ThresholdUnit: "%", LastTriggeredOn: ms(at)},
		{ID: "D2", IBX: "SG3", AlertType: &smartview.AlertType{ID: "tempExceeds"}, FormattedSection: "Temperature", LastTriggeredOn: ms(at.Add(time.Minute))},
		{ID: "D3", IBX: "SG3"}, // never fired
	}
	obs := mergeAlerts("SG3", occurrences, definitions, since)
	if len(obs) != 2 {
		t.Fatalf("%d observations, want 2: %+v", len(obs), obs)
	}
	// The occurrence D1 last fired as: one alert, the definition filling in.
	if o := obs[0]; o.Key() != "A1" || o.Threshold != "80" || o.Unit != "%" || o.Name != "Cage Draw kVA to Contractual kVA% Exceeds" {
		t.Errorf("merged: %+v", o)
	}
	// D2's firing is in no occurrence: an alert of its own, with a stable id.
	if o := obs[1]; o.Key() != "D2@"+itoa(at.Add(time.Minute).UnixMilli()) || o.Name != "Temperature" || !o.Triggered.Equal(at.Add(time.Minute)) {
		t.Errorf("from the definition: %+v", o)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
