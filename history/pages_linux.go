//go:build linux

package history

// Dropping the history file's mapped pages from the process (see pages.go):
// madvise(MADV_DONTNEED) over bbolt's mapping.

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

const canDropPages = true

// dropPages removes the store's mapped pages from the process's page
// tables; the page cache keeps them (pages.go).
//
// It runs inside a read transaction: bbolt replaces its mapping (when the
// file grows) only under its mmap lock taken exclusively, which waits for
// every read transaction to end, so the mapping at Info().Data stays the one
// in force until this returns. tx.Size() (the transaction's high-water
// mark) is at most the mapping's length, which bbolt keeps unexported: the
// pages above it, written later and mapped by a newer transaction, are
// dropped the next time.
func (s *Store) dropPages() error {
	return s.db.View(func(tx *bolt.Tx) error { s.dropPagesIn(tx); return nil })
}

// dropPagesIn drops the mapped pages inside tx, a read transaction the
// caller holds (a walk between two entities): opening another here could
// deadlock, a read transaction waiting behind a writer that waits for the
// caller's to end.
//
// Or a write transaction, between two entities of a merge: bbolt maps the
// file anew only when it allocates pages, which a write transaction does
// when it commits (spills its nodes), and a writer's nodes that still refer
// to the mapping read the same bytes after the drop (the file's pages in
// use are never written over).
//
// A failure is logged (debug): nothing is lost, the pages stay mapped.
func (s *Store) dropPagesIn(tx *bolt.Tx) {
	addr, n := s.db.Info().Data, uintptr(tx.Size())
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED); e != 0 {
		s.log.Debug("history: mapped pages not dropped", "bytes", n, "err", e)
	}
}
