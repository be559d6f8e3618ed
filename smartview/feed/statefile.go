// This file reads, writes and removes the small JSON state files through
// which Subscriptions (v1) and StreamSubscriptions (v2) find their
// subscription again across restarts: both keep one the same way, so the
// file handling is written once.

package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/svgateway/svgateway/internal/atomicfile"
)

// readStateFile reads the state file at path; a missing file is the zero
// state. what names the file's kind in the error ("subscription state file").
func readStateFile[T any](path, what string) (T, error) {
	var st T
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("feed: reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("feed: %s is not a %s: %w", path, what, err)
	}
	return st, nil
}

// writeStateFile replaces the state file at path atomically, readable by
// the gateway only.
func writeStateFile(path string, st any) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("feed: encoding %s: %w", path, err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("feed: saving %s: %w", path, err)
	}
	return nil
}

// removeStateFile forgets the subscription; a missing file is no error.
func removeStateFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("feed: removing %s: %w", path, err)
	}
	return nil
}
