//go:build race

package uaserver

// The race detector slows instrumented code several times: CPU limits of
// the security tests scale by raceSlowdown.
func init() { raceSlowdown = 5 }
