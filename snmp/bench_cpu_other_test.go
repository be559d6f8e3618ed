//go:build !unix

package snmp

import (
	"testing"
	"time"
)

// processCPU is unknown here: the benchmarks report no cpu-ns/varbind.
func processCPU(*testing.B) time.Duration { return -1 }
