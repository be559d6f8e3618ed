package smartview

// The 2024 catalog's trending endpoints: a time series of power (kVA at an IBX, cage, cabinet or
// circuit), environment (temperature or humidity at an IBX, zone, cage or sensor) or one tag point,
// over [fromDate, toDate] in epoch milliseconds, at an interval. They are what fills a history
// gap after an outage or at start: TrendingGap takes the points and the gap and hands back one
// Series per point. The documented catalog has no trending: there, calls fail with ErrNotServed.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Trending intervals. The descriptions disagree on the set (power: 5m, 15m, 1h, 1d and
// "recording"; environment and tags: "reading", 1h, 1d); the value is passed as given.
const (
	IntervalReading = "reading" // every recorded reading
	Interval5m      = "5m"
	Interval15m     = "15m"
	Interval1h      = "1h"
	Interval1d      = "1d"
)

// MaxTrendingSpan is the longest range one trending call may ask for ("From/ToDate interval cannot
// be greater than 1 year"); longer ranges are split into calls of at most this span.
const MaxTrendingSpan = 365 * 24 * time.Hour

// TrendKind is what a trending point measures.
type TrendKind int

// Trending kinds.
const (
	TrendPower       TrendKind = iota + 1 // kVA of a power level
	TrendEnvironment                      // temperature or humidity of an environment level
	TrendTag                              // one tag point
)

func (k TrendKind) String() string {
	switch k {
	case TrendPower:
		return "power"
	case TrendEnvironment:
		return "environment"
	case TrendTag:
		return "tag"
	}
	return "unknown"
}

// TrendPoint names one time series.
type TrendPoint struct {
	Kind       TrendKind
	IBX        string
	LevelType  string // power: IBX, CAGE, CABINET, CIRCUIT; environment: IBX, ZONE, CAGE, SENSOR
	LevelValue string // the IBX code, unique space id, circuit number or sensor id
	DataPoint  string // environment: "temperature" or "humidity"
	TagID      string // tag
}

func (p TrendPoint) String() string {
	switch p.Kind {
	case TrendTag:
		return fmt.Sprintf("tag %s/%s", p.IBX, p.TagID)
	case TrendEnvironment:
		return fmt.Sprintf("environment %s/%s/%s %s", p.IBX, p.LevelType, p.LevelValue, p.DataPoint)
	}
	return fmt.Sprintf("%s %s/%s/%s", p.Kind, p.IBX, p.LevelType, p.LevelValue)
}

// Sample is one value of a series. Value keeps non-numeric readings ("NORMAL") in Text.
type Sample struct {
	Time      time.Time
	Value     Number
	Modifiers []string // environment: "recorded", …
}

// Series is the answer for one point: samples oldest first, one per time.
type Series struct {
	Point          TrendPoint
	Interval       string // as the API answered it
	UOM            string
	TagDisplayName string // tag
	DataType       string // tag: Float, Int, Bool, …
	Samples        []Sample
	// Unreadable counts samples dropped because their time is in no known notation (their
	// value cannot be placed); samples outside the range asked for are dropped without count.
	Unreadable int
}

// trendPayload is every trending answer's payload: power and tags list "data", environment
// "series".
type trendPayload struct {
	IBX            string       `json:"ibx"`
	Interval       string       `json:"interval"`
	UOM            string       `json:"uom"`
	DataPoint      string       `json:"datapoint"`
	TagID          string       `json:"tagId"`
	TagDisplayName string       `json:"tagDisplayName"`
	DataType       string       `json:"dataType"`
	LevelType      string       `json:"levelType"`
	LevelValue     Text         `json:"levelValue"`
	Data           []trendValue `json:"data"`
	Series         []trendValue `json:"series"`
}

type trendValue struct {
	DateTime  Time     `json:"datetime"`
	Value     Number   `json:"value"`
	Modifiers []string `json:"modifiers"`
}

// trendPayloadFields and trendValueFields decode a trending answer without reflection (see
// objectFields): the history backfill reads ~2,000 samples a call, dozens of calls a values cycle
// for hours after a start, and encoding/json's reflection over them was most of a call's CPU.
var trendPayloadFields = newObjectFields(map[string]func(*trendPayload) any{
	"ibx": func(p *trendPayload) any { return &p.IBX }, "interval": func(p *trendPayload) any { return &p.Interval },
	"uom": func(p *trendPayload) any { return &p.UOM }, "datapoint": func(p *trendPayload) any { return &p.DataPoint },
	"tagId": func(p *trendPayload) any { return &p.TagID }, "tagDisplayName": func(p *trendPayload) any { return &p.TagDisplayName },
	"dataType": func(p *trendPayload) any { return &p.DataType }, "levelType": func(p *trendPayload) any { return &p.LevelType },
	"levelValue": func(p *trendPayload) any { return &p.LevelValue },
	"data":       func(p *trendPayload) any { return listMember[trendValue, *trendValue]{&p.Data} },
	"series":     func(p *trendPayload) any { return listMember[trendValue, *trendValue]{&p.Series} },
})

var trendValueFields = newObjectFields(map[string]func(*trendValue) any{
	"datetime": func(v *trendValue) any { return &v.DateTime }, "value": func(v *trendValue) any { return &v.Value },
	"modifiers": func(v *trendValue) any { return stringsMember{&v.Modifiers} },
})

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (p *trendPayload) UnmarshalJSON(data []byte) error { return trendPayloadFields.decode(data, p) }

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (v *trendValue) UnmarshalJSON(data []byte) error { return trendValueFields.decode(data, v) }

// Trending fetches one point's series over [from, to], split into calls of at most
// MaxTrendingSpan. Samples outside the range, and a time met twice, are dropped.
func (c *Client) Trending(ctx context.Context, p TrendPoint, from, to time.Time, interval string) (*Series, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("smartview: trending %s: empty range %s .. %s", p, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if interval == "" {
		return nil, fmt.Errorf("smartview: trending %s: no interval", p)
	}
	s := &Series{Point: p}
	for start := from; start.Before(to); start = start.Add(MaxTrendingSpan) {
		end := start.Add(MaxTrendingSpan)
		if end.After(to) {
			end = to
		}
		r, err := c.trendRequest(p, start, end, interval)
		if err != nil {
			return nil, err
		}
		var pl trendPayload
		if err := c.do(ctx, r, func(body io.Reader) error {
			pl = trendPayload{}
			return decodeEnveloped(body, &pl)
		}); err != nil {
			return nil, err
		}
		setDefault(&s.Interval, pl.Interval)
		setDefault(&s.UOM, pl.UOM)
		setDefault(&s.TagDisplayName, pl.TagDisplayName)
		setDefault(&s.DataType, pl.DataType)
		// Sized once per call: grown by append, the samples' copies were the
		// backfill's largest garbage (~190 MB of every 2.5 minutes on large).
		s.Samples = slices.Grow(s.Samples, len(pl.Data)+len(pl.Series))
		for _, list := range [2][]trendValue{pl.Data, pl.Series} {
			for _, v := range list {
				at := v.DateTime.InLocation(c.zone)
				if !at.Valid {
					s.Unreadable++
					continue
				}
				if at.Time.Before(from) || at.Time.After(to) {
					continue
				}
				s.Samples = append(s.Samples, Sample{Time: at.Time, Value: v.Value, Modifiers: v.Modifiers})
			}
		}
	}
	if s.Unreadable > 0 {
		c.log.Warn("smartview: trending samples with an unreadable time dropped", "point", p.String(), "dropped", s.Unreadable)
	}
	slices.SortStableFunc(s.Samples, func(a, b Sample) int { return a.Time.Compare(b.Time) })
	s.Samples = slices.CompactFunc(s.Samples, func(a, b Sample) bool { return a.Time.Equal(b.Time) })
	return s, nil
}

func (c *Client) trendRequest(p TrendPoint, from, to time.Time, interval string) (request, error) {
	span := []string{"interval", interval,
		"fromDate", strconv.FormatInt(from.UnixMilli(), 10), "toDate", strconv.FormatInt(to.UnixMilli(), 10)}
	switch p.Kind {
	case TrendPower:
		// The 2024 description's levelType enum is lower case for power.
		return c.get(endpointPowerTrending, routePowerTrending, append([]string{"ibx", p.IBX,
			"levelType", strings.ToLower(p.LevelType), "levelValue", p.LevelValue}, span...)...), nil
	case TrendEnvironment:
		if p.DataPoint == "" {
			return request{}, fmt.Errorf("smartview: trending %s: no data point (temperature or humidity)", p)
		}
		return c.get(endpointEnvironmentTrend, routeEnvironmentTrending, append([]string{"ibx", p.IBX,
			"dataPoint", p.DataPoint, "levelType", strings.ToUpper(p.LevelType), "levelValue", p.LevelValue}, span...)...), nil
	case TrendTag:
		// "tagId" is sent as "tagid", the 2024 path's name for it (see catalog.go).
		return c.get(endpointTagPointTrending, routeTagPointTrending, append([]string{"ibx", p.IBX, "tagId", p.TagID}, span...)...), nil
	}
	return request{}, fmt.Errorf("smartview: trending: unknown kind %d", p.Kind)
}

// GapQuery is a history gap to fill: these points, over [From, To], at Interval.
type GapQuery struct {
	Points   []TrendPoint
	From, To time.Time
	Interval string // default Interval5m
	// Concurrency bounds the calls in flight (default 4); the client's rate limit applies as well.
	Concurrency int
}

// TrendingGap fetches the series of every point of q and hands each to fn as it arrives; fn is
// never called concurrently, and an error from it stops the fill and is returned. A point whose
// call fails is skipped and its error joined into the one returned, each naming its point; the
// other points go on. A kind whose endpoint the account does not serve is tried once: its points
// then fail fast with ErrNotServed, so the caller learns it from errors.Is without a request per
// point.
//
// The lead's history backfill calls it with the points it records, From = the last sample it has
// (or now minus the retention), To = now, and appends the samples newer than what it holds: the
// API's samples are on the interval's grid, oldest first, one per time.
func (c *Client) TrendingGap(ctx context.Context, q GapQuery, fn func(TrendPoint, *Series) error) error {
	if q.Interval == "" {
		q.Interval = Interval5m
	}
	if q.Concurrency <= 0 {
		q.Concurrency = 4
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu     sync.Mutex // serializes fn and guards errs
		errs   []error
		fnErr  error
		wg     sync.WaitGroup
		points = make(chan TrendPoint)
	)
	for range min(q.Concurrency, len(q.Points)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range points {
				s, err := c.Trending(ctx, p, q.From, q.To, q.Interval)
				mu.Lock()
				switch {
				case fnErr != nil:
				case err != nil:
					errs = append(errs, fmt.Errorf("%s: %w", p, err))
				default:
					if err := fn(p, s); err != nil {
						fnErr = err
						cancel(err)
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, p := range q.Points {
		select {
		case points <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(points)
	wg.Wait()
	if fnErr != nil {
		return fnErr
	}
	return errors.Join(errs...)
}
