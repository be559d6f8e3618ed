// Package atomicfile replaces state files so that a reader, or a crash,
// sees either the old content or the new, never a mix. It is the one way
// svgateway writes its state_dir (alarm ledger, SNMP indexes and engine
// state, outbox, feed subscription, OPC UA certificates). It must not know
// what the files hold.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path so that a reader (or a crash) sees
// either the old content or the new, never a mix: it writes a temporary file
// in the same directory, syncs it, renames it over path and syncs the
// directory. The directory is created if missing.
func Write(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
