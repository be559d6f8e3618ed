package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
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
// After a crash (not a clean Close) the newest transitions may be missing
// from the file; the gateway then reports them again — duplicated, never lost.
type ledger struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	pending *alarmBook // newest book not yet written
	kick    chan struct{}
	done    chan struct{}
	stopped bool
	err     error // last write error
}

func newLedger(path string, log *slog.Logger) *ledger {
	l := &ledger{path: path, log: log, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// load reads the ledger; a missing file is an empty ledger (nil, nil).
func (l *ledger) load() (*alarmBook, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model: alarm ledger: %w", err)
	}
	var f ledgerFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("model: alarm ledger %s is corrupt (move it away to start afresh, at the cost of repeated notifications): %w", l.path, err)
	}
	if f.Version != ledgerVersion {
		return nil, fmt.Errorf("model: alarm ledger %s has version %d, want %d", l.path, f.Version, ledgerVersion)
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
	l.log.Info("alarm ledger loaded", "path", l.path, "alarms", len(b.alarms), "alerts", len(b.alerts), "seq", b.seq)
	return b, nil
}

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

func (l *ledger) run() {
	defer close(l.done)
	for range l.kick {
		l.flush()
	}
}

func (l *ledger) flush() {
	l.mu.Lock()
	b := l.pending
	l.pending = nil
	l.mu.Unlock()
	if b == nil {
		return
	}
	err := l.write(b)
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
	if err != nil {
		l.log.Error("alarm ledger not saved", "path", l.path, "err", err)
	}
}

// close writes what is pending and stops the writer.
func (l *ledger) close() error {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return l.err
	}
	l.stopped = true
	l.mu.Unlock()
	close(l.kick)
	<-l.done
	l.flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// write replaces the ledger file atomically: a temporary file in the same
// directory, synced, renamed over the old one, and the directory synced.
func (l *ledger) write(b *alarmBook) error {
	alarms, alerts := b.sorted()
	data, err := json.MarshalIndent(ledgerFile{Version: ledgerVersion, Saved: time.Now().UTC(), NextID: b.nextID, Seq: b.seq,
		Baselines: b.baselines, Alarms: alarms, Alerts: alerts}, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(l.path, data, 0o600)
}
