package svctest

import (
	"bytes"
	"sync"
)

// maxBuffer bounds a Buffer: a test's log or a peer process's output is
// read for a few lines, and a chatty process must not grow the test's heap
// without bound.
const maxBuffer = 16 << 20

// Buffer collects a log or a process's output written from many
// goroutines for a test to read; it keeps the first 16 MiB.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer; it never fails.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < maxBuffer {
		l.b.Write(p)
	}
	return len(p), nil
}

// String returns what was written.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Take returns what was written and empties the buffer.
func (l *Buffer) Take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.b.Reset()
	return l.b.String()
}
