package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svgateway/svgateway/internal/atomicfile"
	"github.com/svgateway/svgateway/model"
)

// outboxState is the sender's memory besides its queues.
type outboxState struct {
	// Cursor: every transition with a sequence number up to it was queued.
	Cursor uint64 `json:"cursor"`
	// UpstreamLost: svgUpstreamLost was the last upstream notification.
	UpstreamLost bool `json:"upstream_lost"`
	// PersistFailing: svgPersistFailed was the last persist notification.
	PersistFailing bool `json:"persist_failing,omitempty"`
	// LeaderTerm is the leadership term of a redundant pair last announced
	// (svgClusterLeaderChanged); the outbox is shared by the pair.
	LeaderTerm int64 `json:"leader_term,omitempty"`
	// Open maps the alarms and alerts whose last notification left them
	// open ("alarm:7" → "alarm_raised" or "alarm_acknowledged", "alert:3" →
	// "alert_triggered") to that notification's kind.
	Open map[string]string `json:"open"`
}

// OutboxStore keeps the outbox somewhere other than state_dir: a cluster's
// shared store, which refuses saves from a node that no longer leads
// (with an error that has a method Fenced() bool returning true).
// LoadOutbox returns nil without a stored outbox; the data is the file's
// encoding.
type OutboxStore interface {
	LoadOutbox() ([]byte, error)
	SaveOutbox(data []byte) error
}

// fenced reports whether err is an OutboxStore's refusal because another
// gateway owns the outbox now (its error says Fenced): what this sender
// did not save, the next owner delivers again.
func fenced(err error) bool {
	var f interface{ Fenced() bool }
	return errors.As(err, &f) && f.Fenced()
}

// outboxFile is state_dir/snmp/outbox.json.
type outboxFile struct {
	Version int       `json:"version"`
	Saved   time.Time `json:"saved"`
	outboxState
	// Events are the notifications still queued for some target; Queues
	// lists, per target name, the queued events in order.
	Events []json.RawMessage `json:"events"` // each a storedEvent
	// Clean is set by the save at a clean shutdown only. Without it, a
	// svgPersistFailed may have gone out that the outbox could not record
	// (its disk failing): the next start then says svgPersistRestored.
	Clean  bool                     `json:"clean,omitempty"`
	Queues map[string][]storedEntry `json:"queues"`
}

type storedEntry struct {
	ID       uint64 `json:"id"`
	Attempts int    `json:"attempts,omitempty"`
}

const outboxVersion = 1

// saveInterval coalesces saves: a storm costs a few writes per second.
const saveInterval = 250 * time.Millisecond

// outbox writes the sender's state to its file, coalescing saves.
type outbox struct {
	path    string // "": in memory only (unless store is set)
	store   OutboxStore
	log     *slog.Logger
	kickc   chan struct{}
	lastErr string
	report  func(error) // told when saves start failing or succeed again
}

func newOutbox(path string, log *slog.Logger) *outbox {
	return &outbox{path: path, log: log, kickc: make(chan struct{}, 1), report: func(error) {}}
}

// kick asks for a save soon.
func (o *outbox) kick() {
	select {
	case o.kickc <- struct{}{}:
	default:
	}
}

// run saves what snapshot returns after every kick, at most once per
// saveInterval, until ctx is done.
func (o *outbox) run(ctx context.Context, snapshot func() *outboxFile) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.kickc:
		}
		o.saved(o.save(snapshot()))
		if !sleep(ctx, saveInterval) {
			return
		}
	}
}

// saved logs and reports the outcome of a save: a failure once per
// distinct error, the recovery once. A failed save is retried at the next
// kick; a failing outbox keeps being kicked by the ledger's retries and
// the deliveries.
func (o *outbox) saved(err error) {
	switch {
	case err != nil && err.Error() != o.lastErr:
		o.log.Error("snmp: cannot save the notification outbox; a restart may repeat or lose notifications", "path", o.path, "err", err)
		o.lastErr = err.Error()
		o.report(err)
	case err == nil && o.lastErr != "":
		o.log.Info("snmp: notification outbox saved again", "path", o.path)
		o.lastErr = ""
		o.report(nil)
	}
}

func (o *outbox) save(f *outboxFile) error {
	if o.path == "" && o.store == nil {
		return nil
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if o.store != nil {
		return o.store.SaveOutbox(data)
	}
	if err := os.MkdirAll(filepath.Dir(o.path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(o.path, data, 0o600)
}

// read returns the saved outbox; nil without a file.
func (o *outbox) read() (*outboxFile, error) {
	var data []byte
	var err error
	switch {
	case o.store != nil:
		if data, err = o.store.LoadOutbox(); err != nil {
			return nil, fmt.Errorf("notify: reading the outbox: %w", err)
		}
		if data == nil {
			return nil, nil
		}
	case o.path == "":
		return nil, nil
	default:
		data, err = os.ReadFile(o.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("notify: reading the outbox: %w", err)
		}
	}
	var f outboxFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, o.corrupt(err)
	}
	if f.Version != outboxVersion {
		return nil, o.corrupt(fmt.Errorf("version %d, want %d", f.Version, outboxVersion))
	}
	return &f, nil
}

func (o *outbox) corrupt(err error) error {
	return fmt.Errorf("notify: notification outbox %s is unreadable (%w); move it away to start afresh: what it held queued is then lost, and the alarms' current states are notified again", o.path, err)
}

// snapshot returns the sender's state and queues, consistent with each
// other: no event half queued, and never a cursor past events that are not
// in the queues. Only the copy of the state and of the queues' entries is
// made under s.mu; the events, which never change, are encoded outside it,
// so a long queue does not hold up the model's stream.
func (s *Sender) snapshot() *outboxFile {
	s.mu.Lock()
	f := &outboxFile{Version: outboxVersion, Saved: time.Now().UTC(), outboxState: s.state,
		Queues: make(map[string][]storedEntry, len(s.targets))}
	f.Open = maps.Clone(s.state.Open)
	queued := make([][]*event, 0, len(s.targets))
	for _, t := range s.targets {
		entries, evs := t.q.snapshot()
		f.Queues[t.name] = entries
		queued = append(queued, evs)
	}
	s.mu.Unlock()

	s.forgetGone(f.Open)
	events := map[uint64]*event{}
	for _, evs := range queued {
		for _, ev := range evs {
			events[ev.id] = ev
		}
	}
	f.Events = make([]json.RawMessage, 0, len(events))
	for _, id := range slices.Sorted(maps.Keys(events)) {
		data, err := events[id].encoded()
		if err != nil {
			s.log.Error("snmp: a queued notification cannot be saved", "err", err)
			continue
		}
		f.Events = append(f.Events, data)
	}
	return f
}

// forgetGone drops from open, a copy of the state's Open, and from the
// state the alarms and alerts the model no longer has: it forgets alerts,
// and cleared alarms, after the retention without a transition, so they
// would never leave Open otherwise. open was copied before the model's
// snapshot is taken here, so whatever it holds was in the model by then
// unless forgotten; and a forgotten ID is never used again. The work is
// a binary search per open subject, outside s.mu, on saves only.
func (s *Sender) forgetGone(open map[string]string) {
	if len(open) == 0 {
		return
	}
	snap := s.store.Snapshot()
	alarms, alerts := snap.Alarms(), snap.Alerts()
	var gone []string
	for subject := range open {
		known := true
		if id, ok := subjectNumber(subject, "alarm:"); ok {
			_, known = slices.BinarySearchFunc(alarms, id, func(a *model.Alarm, id uint64) int { return cmp.Compare(a.ID, id) })
		} else if n, ok := subjectNumber(subject, "alert:"); ok {
			_, known = slices.BinarySearchFunc(alerts, n, func(a *model.Alert, n uint64) int { return cmp.Compare(a.Number, n) })
		}
		if !known {
			gone = append(gone, subject)
		}
	}
	if len(gone) == 0 {
		return
	}
	s.mu.Lock()
	for _, subject := range gone {
		delete(s.state.Open, subject)
		delete(open, subject)
	}
	s.mu.Unlock()
	s.log.Debug("snmp: forgot alarms and alerts the model no longer has", "count", len(gone))
}

// subjectNumber returns N of a subject prefix+"N".
func subjectNumber(subject, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(subject, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// load restores the state and queues of the last run.
func (s *Sender) load() error {
	f, err := s.outbox.read()
	if err != nil {
		return err
	}
	s.state.Open = map[string]string{}
	if f == nil {
		s.queueStart()
		return nil
	}
	s.state.Cursor, s.state.UpstreamLost = f.Cursor, f.UpstreamLost
	s.state.PersistFailing = f.PersistFailing || !f.Clean
	s.state.LeaderTerm = f.LeaderTerm
	maps.Copy(s.state.Open, f.Open)
	events := map[uint64]*event{}
	for _, raw := range f.Events {
		var se storedEvent
		if err := json.Unmarshal(raw, &se); err != nil {
			return s.outbox.corrupt(err)
		}
		if se.Kind == coldStart.String() || se.Kind == warmStart.String() {
			s.nextID = max(s.nextID, se.ID)
			continue // the previous start's: this start sends its own
		}
		ev, err := se.load()
		if err != nil {
			return s.outbox.corrupt(err)
		}
		events[ev.id] = ev
		s.nextID = max(s.nextID, ev.id)
	}
	s.queueStart()
	pending := 0
	for _, t := range s.targets {
		for _, se := range f.Queues[t.name] {
			if ev := events[se.ID]; ev != nil {
				t.push(ev, se.Attempts)
				pending++
			}
		}
		delete(f.Queues, t.name)
	}
	for name, entries := range f.Queues {
		s.log.Warn("snmp: notifications queued for a target no longer configured are dropped", "target", name, "count", len(entries))
	}
	s.log.Info("snmp: notification outbox loaded", "path", s.outbox.path, "cursor", s.state.Cursor, "pending", pending)
	return nil
}
