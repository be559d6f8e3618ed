// Package svctest is what the project's tests share: running a subsystem
// (anything with the gateway's Run(ctx) error contract: blocks until ctx is
// done, nil on a clean stop), capturing its log, finding the module root and
// a free loopback port. For tests only.
package svctest

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Start runs run in a goroutine until stop is called or the test ends.
// stop cancels its context and returns once run did; the test fails when
// run returned an error or took more than 30 s to stop.
func Start(t testing.TB, run func(ctx context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return within 30s of the cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
