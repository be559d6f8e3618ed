package history

// Why this file exists: bbolt maps the history file read-only and shared
// (MAP_SHARED) and writes it with pwrite, so every page of the file that a
// transaction reads — a write's cursors, a prune's or the backfill's walk,
// a HistoryRead — stays mapped into the process, and the kernel counts it
// in the process's resident set (RssFile, part of VmRSS and VmHWM) until
// the mapping goes. On the large profile that was up to 288 MB beside a
// ~300 MB heap, and operators read RSS (top, systemd, Zabbix's proc.mem)
// as the gateway's memory. These pages are the kernel's page cache: clean,
// shared, reclaimable under pressure, and a cgroup's memory.current counts
// them whether they are mapped or not.
//
// So the store lets go of its mapped pages periodically: at most once per
// pageDropInterval, and only if a transaction ran since the last time, it
// advises the kernel that the mapping's pages are not needed
// (madvise(MADV_DONTNEED), pages_linux.go). For a shared file mapping that
// removes the page table entries only: the page cache keeps the pages, and
// the next access is a minor fault that maps them again from the cache, so
// nothing stored or read changes and no disk read follows (unless the
// kernel had reclaimed the page, as it may anyway). What stays mapped is
// what the transactions of one interval touched. The drop runs beside the
// store's transactions, in its own goroutine, so a long walk (a prune's)
// is bounded too. Elsewhere than on Linux nothing is dropped.

import (
	"time"
)

// pageDropInterval is how often, at most, the store drops its mapped pages.
// At 1 s the minor faults that map pages again after a drop are an
// estimated 1–2 % of the store's writing CPU (BENCHMARKS.md, pages14; not
// seen in a values cycle's CPU), and what stays mapped is what one second
// of writes touches; shorter intervals multiply the refaults, longer ones
// leave more of a cycle's pages mapped. A variable for tests.
var pageDropInterval = time.Second

// dropEvery is how many entities a walk or a merge visits between two drops
// of its own (forEachEntity, mergeSome): the kernel maps up to 64 KiB
// around each page a fault maps (fault-around), so 512 entities leave up to
// 32 MB mapped, where the 4,096 of a merge transaction left up to 256 MB. A
// drop is a madvise over the mapping, some 0.1 ms for a file of the large
// profile: a few hundred a walk of every entity. A variable for tests.
var dropEvery = 512

// pageDrops is the store's goroutine that drops its mapped pages.
type pageDrops struct {
	stop, done chan struct{}
}

// start runs the drops of s every interval until stop.
func (p *pageDrops) start(s *Store, every time.Duration) {
	if !canDropPages || every <= 0 {
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		var seen activity
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			a := s.activity()
			if a == seen {
				continue // nothing read or written since the last drop
			}
			if err := s.dropPages(); err != nil {
				s.log.Debug("history: mapped pages not dropped", "err", err)
			}
			a.reads++ // the drop's own read transaction
			seen = a
		}
	}()
}

// halt stops the drops and waits for the goroutine (before the file closes).
func (p *pageDrops) halt() {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
}

// activity is what bbolt counts of the transactions run: read
// transactions begun, cursors made (a write transaction reads through
// them) and pages written. Equal twice: nothing touched the mapping between.
type activity struct {
	reads, cursors, writes int64
}

func (s *Store) activity() activity {
	st := s.db.Stats()
	return activity{int64(st.TxN), st.TxStats.GetCursorCount(), st.TxStats.GetWrite()}
}
