//go:build linux

package history

// Dropping the history file's mapped pages from the process (see pages.go):
// madvise(MADV_DONTNEED) over bbolt's mapping.

import (
	"fmt"
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
	return s.db.View(func(tx *bolt.Tx) error {
		addr, n := s.db.Info().Data, uintptr(tx.Size())
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, n, syscall.MADV_DONTNEED); e != 0 {
			return fmt.Errorf("history: madvise %d bytes: %w", n, e)
		}
		return nil
	})
}
