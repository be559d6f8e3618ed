package poll

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestGoCallWaitsForASlot: goCall takes a slot of the concurrency bound
// before it starts a goroutine, so a phase of thousands of calls runs no
// more goroutines than the bound; a cycle cancelled while it waits runs and
// counts nothing more.
func TestGoCallWaitsForASlot(t *testing.T) {
	p, _ := newPoller(t, "http://127.0.0.1:1", []string{"CH1"})
	bound := cap(p.sem)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCycle(p, ctx, false)

	running, release := make(chan struct{}), make(chan struct{})
	var ran, freed atomic.Int32
	block := func(context.Context) error { ran.Add(1); running <- struct{}{}; <-release; return nil }
	for range bound { // fill every slot
		c.goCall("test", block)
		<-running
	}
	returned := make(chan int32)
	go func() {
		c.goCall("test", func(context.Context) error { ran.Add(1); return nil })
		returned <- freed.Load() // how many slots had been freed when goCall returned
	}()
	freed.Add(1)
	release <- struct{}{} // one blocked call ends: its slot frees
	if n := <-returned; n == 0 {
		t.Error("goCall returned before a slot was free: it started a goroutine to wait for one")
	}

	// Cancelled while every slot is busy (the quick call has freed its own
	// slot, or this one could not start): goCall returns without running fn.
	c.goCall("test", block)
	<-running
	cancel()
	c.goCall("test", func(context.Context) error { ran.Add(1); return nil })
	close(release)
	c.wg.Wait()
	if n, calls := ran.Load(), c.result.Calls; n != int32(bound)+2 || calls != bound+2 {
		t.Errorf("ran %d calls, counted %d; want %d: the call after the cancel must neither run nor count", n, calls, bound+2)
	}
}
