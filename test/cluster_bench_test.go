package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
)

// BenchmarkPairFailover kills (-9) the leader of a gateway pair on a
// three-member etcd cluster SVGATEWAY_FAILOVER_KILLS times (default 20)
// during a continuous alarm storm (one alarm raised every 150 ms, each
// acknowledged 0.45 s and cleared 0.9 s after its raise), restarting the
// killed gateway as the new standby each time. It reports the failover
// time (kill to the other gateway's svgateway_cluster_leader 1, polled
// every 20 ms) p50 and p99 in ms, and, from everything a real snmptrapd
// (v2c informs) received once the storm is over: transitions lost,
// notifications duplicated, and alarm ids naming two alarms (reused).
// Lease TTL 3 s. b.N is ignored: one run is the whole series.
//
//	go test -run '^$' -bench PairFailover -benchtime 1x ./test   (test/bench-failover.sh)
func BenchmarkPairFailover(b *testing.B) {
	kills := 20
	if n, err := strconv.Atoi(os.Getenv("SVGATEWAY_FAILOVER_KILLS")); err == nil && n > 0 {
		kills = n
	}
	requireTool(b, "etcd")
	etcd := startEtcd(b, 3)
	sandbox := StartSandbox(b, "tick = \"1h\"\nclient_id = \"sandbox\"\nclient_secret = \"sandbox-secret\"")
	trapd := netsnmptest.StartSnmptrapd(b, netsnmptest.SnmptrapdOptions{Community: "public", MIBPath: netsnmptest.MIBPath(b)})
	const ttl = 3 * time.Second
	dirs := map[string]string{"gw-a": b.TempDir(), "gw-b": b.TempDir()}
	start := func(node string) *Gateway {
		return startPairMember(b, pairOptions{Node: node, SandboxURL: sandbox, Endpoints: etcd.Endpoints, TrapdAddr: trapd.Addr,
			LeaseTTL: ttl.String(), SNMPPort: freePort(b, "udp"), Dir: dirs[node]})
	}
	gws := map[string]*Gateway{"gw-a": start("gw-a")}
	WaitFor(b, 30*time.Second, "gw-a leading", func() bool { return leads(gws["gw-a"]) })
	gws["gw-b"] = start("gw-b")

	var raised atomic.Int64
	stop := make(chan struct{})
	stormDone := make(chan struct{})
	go func() {
		defer close(stormDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				if i-6 >= int(raised.Load()) {
					return
				}
			default:
				stormAlarm(b, sandbox, "raise", i)
				raised.Add(1)
			}
			if j := i - 3; j >= 0 && j < int(raised.Load()) {
				stormAlarm(b, sandbox, "ack", j)
			}
			if j := i - 6; j >= 0 && j < int(raised.Load()) {
				stormAlarm(b, sandbox, "clear", j)
			}
			time.Sleep(150 * time.Millisecond)
		}
	}()

	b.ResetTimer()
	var took []time.Duration
	for k := range kills {
		time.Sleep(2 * time.Second) // notifications in flight
		leader, standby := "gw-a", "gw-b"
		if leads(gws["gw-b"]) {
			leader, standby = "gw-b", "gw-a"
		}
		killed := time.Now()
		gws[leader].Kill()
		for deadline := killed.Add(30 * time.Second); !leads(gws[standby]); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("kill %d: %s not leading 30 s after %s was killed", k+1, standby, leader)
			}
		}
		took = append(took, time.Since(killed))
		gws[leader] = start(leader)
	}
	b.StopTimer()
	close(stop)
	<-stormDone

	storm := int(raised.Load())
	c := checkStorm(trapd, storm)
	for deadline := time.Now().Add(120 * time.Second); c.lost > 0 && time.Now().Before(deadline); c = checkStorm(trapd, storm) {
		time.Sleep(500 * time.Millisecond)
	}
	slices.Sort(took)
	pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	b.ReportMetric(float64(pct(0.50).Milliseconds()), "failover_p50_ms")
	b.ReportMetric(float64(pct(0.99).Milliseconds()), "failover_p99_ms")
	b.ReportMetric(float64(c.lost), "lost")
	b.ReportMetric(float64(c.duplicated), "duplicated")
	b.ReportMetric(float64(c.reused), "reused")
	fmt.Printf("pair failover: %d kills -9 of the leader (lease TTL %v), %d storm alarms (%d transitions)\n", kills, ttl, storm, 3*storm)
	fmt.Printf("failover p50 %v  p99 %v  max %v\n", pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	fmt.Printf("lost %d  duplicated %d  reused %d\n", c.lost, c.duplicated, c.reused)
	if c.lost > 0 {
		fmt.Printf("missing: %v\n", c.missing)
	}
}
