package svctest

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// Log returns a debug-level text logger for a subsystem under test,
// writing to the returned buffer (and to stderr under go test -v). When the
// test ends — after the cleanups registered later, such as Start's stop —
// it fails the test if one of secrets reached the log.
func Log(t testing.TB, secrets ...string) (*slog.Logger, *Buffer) {
	t.Helper()
	b := &Buffer{}
	var w io.Writer = b
	if testing.Verbose() {
		w = io.MultiWriter(b, os.Stderr)
	}
	t.Cleanup(func() {
		for _, s := range secrets {
			if s != "" && strings.Contains(b.String(), s) {
				t.Errorf("a secret reached the log")
			}
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
