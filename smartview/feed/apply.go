package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// Outcome is what became of one event.
type Outcome uint8

// Outcomes, as the svgateway_feed_events_total "outcome" label spells them.
const (
	// OutcomeApplied: the event changed a reading.
	OutcomeApplied Outcome = iota
	// OutcomeUnchanged: the reading equals the model's (a redelivery, or
	// what a poll already brought): only its confirmation time moved.
	OutcomeUnchanged
	// OutcomeOlder: older than the model's reading (newest wins): ignored.
	OutcomeOlder
	// OutcomeObserved: an alarm or alert sighting, recorded by the model's
	// alarm book (which reports each transition once).
	OutcomeObserved
	// OutcomeNotInModel: names a tag the structure does not have (yet), or
	// a location that cannot be placed (an IBX the model does not hold):
	// skipped; the next structure refresh and poll may bring it. A location
	// that is merely not in the hierarchies is discovered instead.
	OutcomeNotInModel
	// OutcomeMalformed: not a valid event: counted, logged, acknowledged.
	OutcomeMalformed
	// OutcomeUnknown: a well-formed event of a kind this gateway does not
	// know: counted, logged, acknowledged.
	OutcomeUnknown
	// OutcomeDuplicate: a v2 message whose streamId was already applied at
	// the same message time and state (a redelivery, a repeated page) or at
	// a later one (a replay of an old message): skipped, acknowledged.
	OutcomeDuplicate
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"applied", "unchanged", "older", "observed", "not_in_model", "malformed", "unknown", "duplicate"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "invalid"
}

// event is one decoded message.
type event struct {
	ev   *smartview.Event
	kind smartview.EventKind
	// err is why the message is malformed (nil: well formed).
	err error
	// source is the event's own newest time (zero: none).
	source time.Time
	// loc is the location a power or environment event updates, the last
	// of places, what the event names outermost first.
	loc    model.LocationID
	places []model.LocationID
	msg    Message
}

// decode decodes and checks one message. A message whose fields cannot
// name what it updates is malformed.
func decode(m Message, loc *time.Location) event {
	e := event{msg: m}
	ev, err := smartview.DecodeEvent(m.Data)
	if err != nil {
		e.err = err
		return e
	}
	if loc != nil && loc != time.UTC {
		ev.InLocation(loc)
	}
	e.ev, e.kind = ev, ev.Kind
	switch ev.Kind {
	case smartview.EventAlarm:
		a := ev.Alarm
		if a.IBX == "" {
			e.err = errors.New("alarm without ibx")
		} else if a.AssetID == "" && a.Circuit == "" && a.Cabinet == "" && a.Cage == "" {
			e.err = errors.New("alarm without assetid, circuit, cabinet or cage")
		}
		e.source = latest(ingest.Time(a.TimeTriggered), ingest.Time(a.TimeProcessed), ingest.Time(a.TimeNormalProcessed), ingest.Time(a.AckTime))
	case smartview.EventTagPoint:
		if ev.TagPoint.TagID == "" {
			e.err = errors.New("tagpoint without tagId")
		}
		e.source = ingest.Time(ev.TagPoint.ReadingTime)
	case smartview.EventPower:
		var why model.Unplaced
		if e.places, why = ingest.PowerPlaces(ev.Power); why != 0 {
			e.err = fmt.Errorf("power data without a known levelType/levelValue/ibx (levelType %q): %s", ev.Power.LevelType, why)
		} else {
			e.loc = e.places[len(e.places)-1]
		}
		e.source = latest(ingest.Time(ev.Power.ReadingTime), ingest.Time(ev.Power.LastUpdatedTime))
	case smartview.EventEnvironment:
		var why model.Unplaced
		if e.places, why = ingest.EnvironmentPlaces(ev.Environment); why != 0 {
			e.err = errors.New("environment data without ibx")
		} else {
			e.loc = e.places[len(e.places)-1]
		}
		e.source = ingest.Time(ev.Environment.Timestamp)
	case smartview.EventAlert:
		a := ev.Alert
		if a.ID == "" && a.IBX == "" {
			e.err = errors.New("alert without id or ibx")
		}
		e.source = latest(ingest.Time(a.TimeTriggered), ingest.Time(a.TriggeredOn), ingest.Time(a.TimeAcknowledged))
	}
	return e
}

func latest(ts ...time.Time) time.Time {
	var t time.Time
	for _, x := range ts {
		if x.After(t) {
			t = x
		}
	}
	return t
}

// applyEvent applies one well-formed event inside a model transaction.
func applyEvent(tx *model.Tx, e *event) Outcome {
	if e.err != nil {
		return OutcomeMalformed
	}
	before := tx.Stats()
	var err error
	switch ev := e.ev; ev.Kind {
	case smartview.EventAlarm:
		o := ingest.Alarm(ev.Alarm)
		tx.Discover(model.OriginAlarm, o.Places()...)
		tx.ObserveAlarm(o, "feed")
		return OutcomeObserved
	case smartview.EventAlert:
		tx.ObserveAlert(ingest.Alert(ev.Alert), "feed")
		return OutcomeObserved
	case smartview.EventTagPoint:
		err = tx.SetTag(ev.TagPoint.TagID, ingest.Tag(ev.TagPoint), time.Time{})
	case smartview.EventPower:
		tx.Discover(model.OriginReading, e.places...)
		err = tx.SetPower(e.loc, ingest.Power(ev.Power), time.Time{})
	case smartview.EventEnvironment:
		tx.Discover(model.OriginReading, e.places...)
		env := ingest.Environment(ev.Environment)
		if ev.Measure != "" {
			env = mergeMeasure(tx, e.loc, env, ev.Measure)
		}
		err = tx.SetEnvironment(e.loc, env, time.Time{})
	default:
		return OutcomeUnknown
	}
	if err != nil {
		return OutcomeNotInModel
	}
	after := tx.Stats()
	switch {
	case after.Applied > before.Applied:
		return OutcomeApplied
	case after.Older > before.Older:
		return OutcomeOlder
	}
	return OutcomeUnchanged
}

// mergeMeasure completes a v2 environmental reading, which carries one
// measure, with the other measure the model holds for loc, so that a
// humidity message does not blank the temperature.
func mergeMeasure(tx *model.Tx, loc model.LocationID, env model.Environment, measure string) model.Environment {
	cur, ok := tx.EnvironmentAt(loc)
	if !ok {
		return env
	}
	if measure == "humidity" {
		env.Temperature, env.TemperatureUnit, env.TemperatureMin, env.TemperatureMax = cur.Temperature, cur.TemperatureUnit, cur.TemperatureMin, cur.TemperatureMax
	} else {
		env.Humidity, env.HumidityUnit, env.HumidityMin, env.HumidityMax = cur.Humidity, cur.HumidityUnit, cur.HumidityMin, cur.HumidityMax
	}
	return env
}

// streamSeen is what the dedupe remembers of a v2 stream: its newest
// message time and, for an alarm, its state at that time.
type streamSeen struct {
	at    time.Time
	state uint8
}

// maxStreams bounds the streams the dedupe remembers; past it the memory is
// reset, and the model's own newest-wins and alarm transitions keep a
// redelivery from being applied twice.
const maxStreams = 1 << 20

// seen reports whether e, a v2 message, repeats or predates what was
// already applied for its streamId, and remembers it otherwise. The message
// time is the event's newest source time; an alarm message at the same time
// with another state (acknowledged, cleared) is new.
func (a *applier) seen(e *event) bool {
	if e.err != nil || e.ev == nil || e.ev.StreamID == "" || e.source.IsZero() {
		return false
	}
	var state uint8
	if al := e.ev.Alarm; al != nil {
		if al.Status.Value {
			state |= 1
		}
		if al.Ack.Value || al.AckTime.Valid {
			state |= 2
		}
	}
	key := e.kind.String() + "\x00" + e.ev.StreamID
	if old, ok := a.streams[key]; ok {
		if e.source.Before(old.at) || (e.source.Equal(old.at) && state == old.state) {
			return true
		}
	}
	if len(a.streams) >= maxStreams {
		clear(a.streams)
	}
	old, had := a.streams[key]
	a.undo = append(a.undo, streamUndo{key: key, old: old, had: had})
	a.streams[key] = streamSeen{at: e.source, state: state}
	return false
}

// streamUndo restores a dedupe entry when its batch was not committed, so
// the redelivery is applied rather than skipped.
type streamUndo struct {
	key string
	old streamSeen
	had bool
}

// request is one Deliver call waiting for its events to be applied.
type request struct {
	events []event
	done   chan error
}

// applier applies delivered events to the model, merging what is queued
// into one model update (bounded by maxBatch events), so that a burst costs
// one snapshot and one delta rather than one per event.
type applier struct {
	store    *model.Store
	loc      *time.Location
	maxBatch int
	queue    chan *request
	onBatch  func(tx *model.Tx, events []*event, outcomes []Outcome)
	metrics  *metrics
	// streams is the v2 dedupe by streamId (see seen); only the apply loop
	// touches it.
	streams map[string]streamSeen
	undo    []streamUndo
}

func newApplier(store *model.Store, loc *time.Location, maxBatch int, m *metrics,
	onBatch func(tx *model.Tx, events []*event, outcomes []Outcome)) *applier {
	return &applier{store: store, loc: loc, maxBatch: maxBatch, queue: make(chan *request, 64), onBatch: onBatch, metrics: m,
		streams: map[string]streamSeen{}}
}

// deliver decodes msgs (in the caller's goroutine), queues them and waits
// until the apply loop has committed them.
func (a *applier) deliver(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	req := &request{events: make([]event, len(msgs)), done: make(chan error, 1)}
	for i := range msgs {
		req.events[i] = decode(msgs[i], a.loc)
	}
	select {
	case a.queue <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// It may still be applied; then the redelivery changes nothing.
		return ctx.Err()
	}
}

// run is the apply loop: it returns when ctx is done, failing what is
// still queued so that it is not acknowledged.
func (a *applier) run(ctx context.Context, tick time.Duration, onTick func()) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var batch []*request
	var events []*event
	var outcomes []Outcome
	for {
		batch, events = batch[:0], events[:0]
		select {
		case <-ctx.Done():
			a.drain(ctx.Err())
			return
		case <-t.C:
			onTick()
			continue
		case req := <-a.queue:
			batch = append(batch, req)
		}
		n := len(batch[0].events)
		// Let deliveries that are ready to queue do so (Pub/Sub calls back
		// from many goroutines): they join this batch instead of the next.
		runtime.Gosched()
	fill:
		for n < a.maxBatch {
			select {
			case req := <-a.queue:
				batch = append(batch, req)
				n += len(req.events)
			default:
				break fill
			}
		}
		for _, req := range batch {
			for i := range req.events {
				events = append(events, &req.events[i])
			}
		}
		outcomes = append(outcomes[:0], make([]Outcome, len(events))...)
		err := a.apply(events, outcomes)
		for _, req := range batch {
			req.done <- err
		}
	}
}

func (a *applier) apply(events []*event, outcomes []Outcome) error {
	start := time.Now()
	a.undo = a.undo[:0]
	_, err := a.store.Update(func(tx *model.Tx) error {
		for i, e := range events {
			if a.seen(e) {
				outcomes[i] = OutcomeDuplicate
				continue
			}
			outcomes[i] = applyEvent(tx, e)
		}
		a.onBatch(tx, events, outcomes)
		return nil
	})
	if err != nil {
		for i := len(a.undo) - 1; i >= 0; i-- {
			if u := a.undo[i]; u.had {
				a.streams[u.key] = u.old
			} else {
				delete(a.streams, u.key)
			}
		}
	}
	a.metrics.applied(time.Since(start), events, outcomes)
	return err
}

func (a *applier) drain(err error) {
	for {
		select {
		case req := <-a.queue:
			req.done <- err
		default:
			return
		}
	}
}

// LogLimiter logs a problem the first time it is seen and then at most
// once per interval per key, saying how many were not logged in between.
// The consumers use it for what they reject before the Feed sees it.
type LogLimiter = logLimiter

// NewLogLimiter returns a LogLimiter logging to log.
func NewLogLimiter(log *slog.Logger, interval time.Duration) *LogLimiter {
	return &logLimiter{log: log, interval: interval, keys: map[string]*limited{}}
}

// Warn logs msg with args under key, unless key was logged within the interval.
func (l *logLimiter) Warn(key, msg string, args ...any) { l.warn(time.Now(), key, msg, args...) }

// logLimiter logs a problem the first time it is seen and then at most
// once per interval per key, saying how many were not logged in between.
type logLimiter struct {
	mu       sync.Mutex
	log      *slog.Logger
	interval time.Duration
	keys     map[string]*limited
}

type limited struct {
	last       time.Time
	suppressed int
}

// maxLogKeys bounds the keys remembered: unknown event names come from
// upstream and could be many.
const maxLogKeys = 256

func (l *logLimiter) warn(now time.Time, key, msg string, args ...any) {
	l.mu.Lock()
	k, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLogKeys {
			key = "(other)"
			k = l.keys[key]
		}
		if k == nil {
			k = &limited{}
			l.keys[key] = k
		}
	}
	if !k.last.IsZero() && now.Sub(k.last) < l.interval {
		k.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.last, k.suppressed = now, 0
	l.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "not_logged_since_last", suppressed)
	}
	l.log.Warn(msg, args...)
}
