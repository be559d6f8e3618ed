package smartview_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// sandboxClient serves a sandbox with the given catalog over loopback HTTP and returns a client
// of it with the given catalog.
func sandboxClient(t *testing.T, served, catalog string) (*sandbox.Server, *smartview.Client) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{Profile: "small", Catalog: served}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	id, secret, _, _ := sb.Credentials()
	c, err := smartview.New(smartview.Config{BaseURL: srv.URL, ClientID: id, ClientSecret: secret, AccountNo: sb.AccountNo(),
		Catalog: catalog, RateLimit: -1, MaxAttempts: 1}, smartview.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c
}

// TestTrendingGapAgainstSandbox fills a three-hour gap for power, environment and tag points
// from the sandbox's 2024 trending endpoints, as the history backfill will.
func TestTrendingGapAgainstSandbox(t *testing.T) {
	_, c := sandboxClient(t, sandbox.Catalog2024, smartview.CatalogAuto)
	ctx := context.Background()
	to := time.Now()
	from := to.Add(-3 * time.Hour)
	points := []smartview.TrendPoint{
		{Kind: smartview.TrendPower, IBX: "CH1", LevelType: "IBX", LevelValue: "CH1"},
		{Kind: smartview.TrendPower, IBX: "CH1", LevelType: "CIRCUIT", LevelValue: "14488436"},
		{Kind: smartview.TrendEnvironment, IBX: "CH1", LevelType: "IBX", LevelValue: "CH1", DataPoint: "temperature"},
		{Kind: smartview.TrendEnvironment, IBX: "CH1", LevelType: "IBX", LevelValue: "CH1", DataPoint: "humidity"},
		{Kind: smartview.TrendTag, IBX: "CH1", TagID: "CH1.Gen-1:fuelhours"},
		{Kind: smartview.TrendTag, IBX: "CH1", TagID: "CH1.Nowhere:nothing"}, // unknown: no samples
	}
	// The current values the series swing around (±5%).
	power, err := c.Power(ctx, "CH1", "IBX", "CH1")
	if err != nil {
		t.Fatal(err)
	}
	env, err := c.Environment(ctx, "CH1", "IBX", "CH1")
	if err != nil {
		t.Fatal(err)
	}
	tags, err := c.TagPoint(ctx, "CH1", "CH1.Gen-1:fuelhours")
	if err != nil || len(tags) != 1 {
		t.Fatalf("tag point: %v %v", tags, err)
	}
	current := map[int]float64{0: power.KVA.Value, 2: env.Temperature.Value, 3: env.Humidity.Value, 4: tags[0].Value.Value}

	// 15-minute grid points in [from, to].
	step := 15 * time.Minute
	first := from.Truncate(step)
	if first.Before(from) {
		first = first.Add(step)
	}
	wantSamples := int(to.Sub(first)/step) + 1

	var mu sync.Mutex
	got := map[smartview.TrendPoint]*smartview.Series{}
	err = c.TrendingGap(ctx, smartview.GapQuery{Points: points, From: from, To: to, Interval: smartview.Interval15m},
		func(p smartview.TrendPoint, s *smartview.Series) error {
			mu.Lock()
			defer mu.Unlock()
			if got[p] != nil {
				t.Errorf("%s handed over twice", p)
			}
			got[p] = s
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range points {
		s := got[p]
		if s == nil {
			t.Fatalf("%s: no series", p)
		}
		if i == len(points)-1 {
			if len(s.Samples) != 0 {
				t.Errorf("%s: %d samples for an unknown tag", p, len(s.Samples))
			}
			continue
		}
		if len(s.Samples) != wantSamples {
			t.Errorf("%s: %d samples, want %d (15m grid over 3h)", p, len(s.Samples), wantSamples)
		}
		for j, smp := range s.Samples {
			if smp.Time.Before(from) || smp.Time.After(to) || !smp.Value.Valid || smp.Time.UnixMilli()%step.Milliseconds() != 0 {
				t.Errorf("%s: sample %d %+v outside the gap, the grid, or not a number", p, j, smp)
			}
			if j > 0 && !smp.Time.After(s.Samples[j-1].Time) {
				t.Errorf("%s: samples out of order at %d", p, j)
			}
			// The sandbox swings a series ±5% around its current value unrounded, and serves that
			// current value rounded (a temperature to 0.1): the bound allows 1.05 × that half step.
			if cur, ok := current[i]; ok && math.Abs(smp.Value.Value-cur) > 0.051*math.Abs(cur)+0.06 {
				t.Errorf("%s: sample %v far from the current value %v", p, smp.Value.Value, cur)
			}
		}
	}
	if s := got[points[4]]; s.UOM == "" || s.TagDisplayName == "" {
		t.Errorf("tag series without unit or name: %+v", s)
	}
}

// A range longer than the API's year is split into calls of at most a year; the parts join into
// one series without a time twice.
func TestTrendingSplitsLongRanges(t *testing.T) {
	_, c := sandboxClient(t, sandbox.Catalog2024, smartview.Catalog2024)
	to := time.Now()
	from := to.Add(-400 * 24 * time.Hour)
	s, err := c.Trending(context.Background(), smartview.TrendPoint{Kind: smartview.TrendPower, IBX: "CH1", LevelType: "IBX", LevelValue: "CH1"},
		from, to, smartview.Interval1d)
	if err != nil {
		t.Fatal(err) // one call for 400 days: the sandbox refuses it, as the API does
	}
	if n := len(s.Samples); n < 399 || n > 401 {
		t.Errorf("%d daily samples over 400 days", n)
	}
	for j := 1; j < len(s.Samples); j++ {
		if s.Samples[j].Time.Sub(s.Samples[j-1].Time) != 24*time.Hour {
			t.Fatalf("samples %d and %d are %v apart", j-1, j, s.Samples[j].Time.Sub(s.Samples[j-1].Time))
		}
	}
}

// Against an account with no trending, a gap fill learns it from errors.Is, after one request
// per kind, not one per point.
func TestTrendingGapNotServed(t *testing.T) {
	sb, c := sandboxClient(t, sandbox.CatalogDocumented, smartview.CatalogAuto)
	var points []smartview.TrendPoint
	for _, tag := range []string{"CH1.Gen-1:fuelhours", "CH1.Gen-2:fuelhours", "CH1.Gen-3:fuelhours"} {
		points = append(points, smartview.TrendPoint{Kind: smartview.TrendTag, IBX: "CH1", TagID: tag})
	}
	points = append(points, smartview.TrendPoint{Kind: smartview.TrendPower, IBX: "CH1", LevelType: "IBX", LevelValue: "CH1"})
	err := c.TrendingGap(context.Background(), smartview.GapQuery{Points: points, From: time.Now().Add(-time.Hour), To: time.Now(), Concurrency: 1},
		func(smartview.TrendPoint, *smartview.Series) error {
			t.Error("a series from an account without trending")
			return nil
		})
	if !errors.Is(err, smartview.ErrNotServed) {
		t.Fatalf("err %v, want ErrNotServed", err)
	}
	if n := sb.Stats().Requests["unmatched"][404]; n != 2 {
		t.Errorf("%d requests answered 404, want 2 (one per kind)", n)
	}
}
