//go:build !linux

package history

// Elsewhere than on Linux the history file's mapped pages are left to the
// kernel (pages.go).

const canDropPages = false

func (s *Store) dropPages() error { return nil }
