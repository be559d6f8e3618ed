package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/svgateway/svgateway/internal/atomicfile"
)

// ledgerVersion is the format version of the ledger file.
const ledgerVersion = 1

// ledgerFile is the on-disk form of the alarm book.
type ledgerFile struct {
	Version   int                  `json:"version"`
	Saved     time.Time            `json:"saved"`
	NextID    uint64               `json:"next_id"`
	Seq       uint64               `json:"seq"`
	Baselines map[string]time.Time `json:"baselines"`
	Alarms    []*Alarm             `json:"alarms"`
	Alerts    []*Alert             `json:"alerts"`
}

// ledger persists the alarm book. Saves are coalesced by a background
// writer: a burst of transitions costs one write, not one per transition.
//
// An alarm id, once sent to a manager, must never name another alarm. Two
// things make sure of it:
//
//   - The ledger is written before anything it numbers is sent: durable is
//     the transition sequence number of the newest book on disk, and the
//     notification sender holds a transition until durable reaches it
//     (Store.Durable). A failed write is retried (backoff 1 s doubling to
//     30 s) and, meanwhile, reported as a persist failure in the model's
//     health; notifications stay held until it succeeds.
//   - The next id is also kept in a small file of its own beside the ledger
//     (the id mark, written before the ledger whenever the next id passes
//     it, a block of ids ahead),
//     so a ledger that is lost or moved away does not restart ids at 1. If
//     both are gone from a state directory that holds other state of a
//     previous run, ids start at the clock floor (seconds since 2020), above
//     any id a gateway issuing fewer than one id a second ever sent.
//
// After a crash the newest transitions may be missing from the file; the
// gateway then reports them again — duplicated, never lost, never renumbered.
type ledger struct {
	path     string
	markPath string
	backend  LedgerBackend // when set, saves go there and not to path
	log      *slog.Logger
	report   func(error) // told of failed writes and of the first success after (Store: persist health)
	// reportMu orders the reports of flush and drop: a write's outcome is
	// reported only if no drop came after it (gen unchanged), so a
	// deposed leader's refused save, answered after it began to follow,
	// does not mark the follower's persist health failing after drop
	// cleared it.
	reportMu sync.Mutex

	mu       sync.Mutex
	pending  *alarmBook // newest book not yet written
	durable  uint64     // seq of the newest book on disk
	mark     uint64     // next id as written in the mark file
	changed  chan struct{}
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopped  bool
	err      error     // last write error
	failures int       // consecutive failed writes
	gen      uint64    // bumped by drop: a write in flight then is forgotten
	logged   time.Time // last time a failure was logged
}

// LedgerComponent names the ledger in the persist health.
const LedgerComponent = "alarm ledger"

// Ledger write retries and failure logging.
const (
	ledgerRetryMin = time.Second
	ledgerRetryMax = 30 * time.Second
	ledgerLogEvery = time.Minute
)

func newLedger(path string, log *slog.Logger) *ledger {
	return &ledger{path: path, markPath: markPath(path), log: log, changed: make(chan struct{}),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), report: func(error) {}}
}

// markPath is the id mark beside the ledger: alarms.json → alarms.next-id.
func markPath(ledger string) string {
	return strings.TrimSuffix(ledger, filepath.Ext(ledger)) + ".next-id"
}

// markFile is the on-disk form of the id mark.
type markFile struct {
	NextID uint64    `json:"next_id"`
	Saved  time.Time `json:"saved"`
}

// markBlock is how many ids the mark reserves ahead of the next id. With
// the ledger present its next id is authoritative (every id sent is in it);
// the mark only numbers the ids after a ledger is lost, from the end of
// the block.
const markBlock = 100

// idEpoch is the origin of the clock floor of ids.
var idEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// load reads the ledger and the id mark; without a ledger it returns an
// empty book numbered from the mark (or the clock floor, see ledger).
func (l *ledger) load(now time.Time) (*alarmBook, error) {
	mark, err := l.readMark()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		b := newAlarmBook()
		switch {
		case mark > 0:
			b.nextID = mark
			l.log.Warn("alarm ledger missing; alarm ids continue from the id mark", "path", l.path, "next_id", mark)
		case l.previousRun():
			b.nextID = max(1, uint64(now.Sub(idEpoch)/time.Second))
			l.log.Warn("alarm ledger and id mark missing from a state directory used before; alarm ids start at the clock floor",
				"path", l.path, "next_id", b.nextID)
		}
		l.mark = mark
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model: alarm ledger: %w", err)
	}
	b, err := decodeLedger(data)
	if err != nil {
		if errors.Is(err, errLedgerVersion) {
			return nil, fmt.Errorf("model: alarm ledger %s: %w", l.path, err)
		}
		return nil, fmt.Errorf("model: alarm ledger %s is corrupt (move it away to start afresh: alarm ids continue from %s, current alarms are notified again): %w", l.path, l.markPath, err)
	}
	l.durable, l.mark = b.seq, mark
	l.log.Info("alarm ledger loaded", "path", l.path, "alarms", len(b.alarms), "alerts", len(b.alerts), "seq", b.seq, "next_id", b.nextID)
	return b, nil
}

var errLedgerVersion = errors.New("unsupported alarm ledger version")

// decodeLedger parses a ledger as write encodes it (the file, or what a
// LedgerBackend stores).
func decodeLedger(data []byte) (*alarmBook, error) {
	var f ledgerFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if f.Version != ledgerVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", errLedgerVersion, f.Version, ledgerVersion)
	}
	b := newAlarmBook()
	b.nextID, b.seq = max(f.NextID, 1), f.Seq
	for ibx, t := range f.Baselines {
		b.baselines[ibx] = t
	}
	for _, a := range f.Alarms {
		if a != nil && a.Key != "" {
			b.alarms[a.Key] = a
			b.nextID = max(b.nextID, a.ID+1)
			b.seq = max(b.seq, a.Seq)
		}
	}
	for _, a := range f.Alerts {
		if a != nil && a.ID != "" {
			b.alerts[a.ID] = a
			b.nextID = max(b.nextID, a.Number+1)
			b.seq = max(b.seq, a.Seq)
		}
	}
	return b, nil
}

// encodeLedger is the inverse of decodeLedger.
func encodeLedger(b *alarmBook) ([]byte, error) {
	alarms, alerts := b.sorted()
	return json.MarshalIndent(ledgerFile{Version: ledgerVersion, Saved: time.Now().UTC(), NextID: b.nextID, Seq: b.seq,
		Baselines: b.baselines, Alarms: alarms, Alerts: alerts}, "", " ")
}

// readMark returns the next id of the mark file; 0 without one.
func (l *ledger) readMark() (uint64, error) {
	data, err := os.ReadFile(l.markPath)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("model: alarm id mark: %w", err)
	}
	var m markFile
	if err := json.Unmarshal(data, &m); err != nil || m.NextID == 0 {
		if err == nil {
			err = errors.New("no next_id")
		}
		return 0, fmt.Errorf("model: alarm id mark %s is corrupt (move it away: alarm ids then continue from the ledger, or from the clock floor without one): %w", l.markPath, err)
	}
	return m.NextID, nil
}

// previousRun reports whether the ledger's directory holds anything besides
// the ledger and its mark: the state of an earlier run.
func (l *ledger) previousRun() bool {
	entries, err := os.ReadDir(filepath.Dir(l.path))
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		if name != filepath.Base(l.path) && name != filepath.Base(l.markPath) && !strings.HasPrefix(name, ".") {
			return true
		}
	}
	return false
}

// start runs the background writer.
func (l *ledger) start() { go l.run() }

// save schedules b to be written.
func (l *ledger) save(b *alarmBook) {
	l.mu.Lock()
	l.pending = b
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// durableSeq returns the seq of the newest book on disk and a channel
// closed at the next write attempt.
func (l *ledger) durableSeq() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable, l.changed
}

func (l *ledger) run() {
	defer close(l.done)
	var retry <-chan time.Time
	for {
		select {
		case <-l.stop:
			return
		case <-l.kick:
		case <-retry:
		}
		retry = nil
		if failures := l.flush(); failures > 0 {
			retry = time.After(min(ledgerRetryMin<<min(failures-1, 5), ledgerRetryMax))
		}
	}
}

// flush writes the pending book. It returns the number of consecutive failed
// writes when this one failed (the book stays pending, to be retried), else
// 0. The count is taken with the write's outcome: a drop between the two may
// reset l.failures, and the retry must not read it afterwards.
func (l *ledger) flush() (failures int) {
	l.mu.Lock()
	b := l.pending
	l.pending = nil
	gen := l.gen
	l.mu.Unlock()
	if b == nil {
		return 0
	}
	err := l.write(b)
	l.mu.Lock()
	if l.gen != gen {
		// Dropped while written (the store follows another node now):
		// neither a failure to retry nor a durable book.
		l.mu.Unlock()
		return 0
	}
	wasFailing := l.failures > 0
	l.err = err
	if err != nil {
		if l.pending == nil {
			l.pending = b
		}
		l.failures++
	} else {
		l.durable = max(l.durable, b.seq)
	}
	failures, logNow := l.failures, err != nil && time.Since(l.logged) >= ledgerLogEvery
	if logNow {
		l.logged = time.Now()
	}
	if err == nil {
		l.failures, l.logged = 0, time.Time{}
	}
	l.mu.Unlock()
	switch {
	case logNow:
		l.log.Error("alarm ledger not saved; alarm notifications are held until it is", "path", l.path, "err", err, "failures", failures)
	case err == nil && failures > 0:
		l.log.Info("alarm ledger saved again; held alarm notifications are released", "path", l.path, "failures", failures)
	}
	// The health first, then the waiters: a sender released by this write
	// sees the persist health it brought.
	if err != nil || wasFailing {
		l.reportMu.Lock()
		l.mu.Lock()
		current := l.gen == gen
		l.mu.Unlock()
		if current {
			l.report(err)
		}
		l.reportMu.Unlock()
	}
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	if err != nil {
		return failures
	}
	return 0
}

// drop forgets what is pending and any failure to save it: the store
// follows another node's ledger, which it has no right to write.
func (l *ledger) drop() {
	l.mu.Lock()
	l.pending = nil
	l.gen++
	wasFailing := l.failures > 0
	l.failures, l.err, l.logged = 0, nil, time.Time{}
	l.mu.Unlock()
	if wasFailing {
		l.reportMu.Lock()
		l.report(nil)
		l.reportMu.Unlock()
	}
}

// adopted records that b, saved by another node, is the stored ledger.
func (l *ledger) adopted(b *alarmBook) {
	l.mu.Lock()
	l.pending = nil
	l.durable = b.seq
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// close writes what is pending (one attempt) and stops the writer.
func (l *ledger) close() error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return l.err
	}
	l.stopped = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// write replaces the ledger file atomically: a temporary file in the same
// directory, synced, renamed over the old one, and the directory synced.
func (l *ledger) write(b *alarmBook) error {
	if l.backend != nil {
		data, err := encodeLedger(b)
		if err != nil {
			return err
		}
		return l.backend.SaveLedger(data)
	}
	if b.nextID > l.mark {
		// Reserve a block: the mark costs a write per markBlock ids, not
		// one per new alarm.
		next := b.nextID + markBlock
		data, err := json.Marshal(markFile{NextID: next, Saved: time.Now().UTC()})
		if err != nil {
			return err
		}
		if err := atomicfile.Write(l.markPath, data, 0o600); err != nil {
			return fmt.Errorf("id mark: %w", err)
		}
		l.mark = next
	}
	data, err := encodeLedger(b)
	if err != nil {
		return err
	}
	return atomicfile.Write(l.path, data, 0o600)
}
