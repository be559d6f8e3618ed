//go:build !linux

package history

// Elsewhere than on Linux the history file's mapped pages are left to the
// kernel (pages.go).

import bolt "go.etcd.io/bbolt"

const canDropPages = false

func (s *Store) dropPages() error { return nil }

func (s *Store) dropPagesIn(*bolt.Tx) {}
