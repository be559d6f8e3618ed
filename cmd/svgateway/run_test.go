package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// TestRunServicesNamesWhatAStopWaitsFor: a stop waits for every service,
// and while one is slow to return the log names it (and only it), so that
// a stop near systemd's TimeoutStopSec says what holds it.
func TestRunServicesNamesWhatAStopWaitsFor(t *testing.T) {
	defer func(d time.Duration) { stillStoppingEvery = d }(stillStoppingEvery)
	stillStoppingEvery = 10 * time.Millisecond
	log, logs := svctest.Log(t)
	release := make(chan struct{})
	services := []namedService{
		{"prompt", serviceFunc(func(ctx context.Context) error { <-ctx.Done(); return nil })},
		{"slow", serviceFunc(func(ctx context.Context) error { <-ctx.Done(); <-release; return nil })},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServices(ctx, log, services, nil) }()
	cancel()
	// (the first line may still name the prompt one, not yet seen to return)
	for i := 0; !strings.Contains(logs.String(), `msg="still stopping" waiting_for=[slow]`); i++ {
		if i > 1000 {
			t.Fatalf("no \"still stopping\" line naming the slow service in the log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("runServices returned (%v) before the slow service did", err)
	default:
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runServices: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runServices did not return once every service had")
	}
}
