//go:build unix

package snmp

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the user and system CPU time the process has used,
// for the benchmarks' cpu-ns/varbind.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
