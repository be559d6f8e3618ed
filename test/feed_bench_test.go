package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// BenchmarkFeedToTrap measures, through the gateway binary (built without
// the race detector when benchmarks run), the time from an alarm event
// published to the svgAlarmRaised trap logged by a real snmptrapd (read
// from its stdout pipe as it writes the line):
//
//   - emulator: published to a topic of the real Pub/Sub emulator (t0 just
//     before the Publish call), consumed by [feed] provider = "google";
//   - oracle: written to a running kcat producer (t0 just before the
//     write), produced to a kfake broker (SASL/PLAIN over TLS, in this
//     process), consumed by [feed] provider = "oracle";
//   - inprocess: an alarm raised through the embedded sandbox's admin API
//     (t0 just before the HTTP POST), which publishes it in-process to
//     [feed] provider = "sandbox".
//
// One new alarm per op, each waited for, so queues stay empty: the figures
// are the path's latency, not a throughput. Polls are slow (every 5 min)
// and the sandbox does not tick, so every trap comes from the feed.
// Reports p50 and p99 in µs.
//
//	go test -run X -bench FeedToTrap -benchtime 200x ./test
func BenchmarkFeedToTrap(b *testing.B) {
	for _, path := range []string{"emulator", "oracle", "inprocess"} {
		b.Run(path, func(b *testing.B) {
			lines := make(chan netsnmptest.Line, 1024)
			trapd := netsnmptest.StartSnmptrapd(b, netsnmptest.SnmptrapdOptions{Community: "public", Lines: lines})
			extra := fmt.Sprintf("[snmp]\nlisten = \"off\"\n[[snmp.targets]]\naddress = %q\ncommunity = \"public\"\nrate_limit = 100000\n", trapd.Addr)
			var raise func(condition string)
			provider := "sandbox"
			if path == "emulator" {
				host := pubsubEmulator(b)
				_, sub, publish := pubsubTopic(b, host)
				extra += fmt.Sprintf("[feed]\nprovider = \"google\"\n[feed.google]\nemulator_host = %q\nsubscription = %q\n", host, sub)
				provider = "google"
				raise = func(condition string) {
					now := time.Now()
					publish(feedtest.AlarmEvent("CH1", "CH1.Gen-2", "CH1.Gen-2:voltage", condition, 870, true, now, now))
				}
			}
			if path == "oracle" {
				k := feedtest.StartKafka(b, map[string]int32{"bench": 1})
				extra += fmt.Sprintf("[feed]\nprovider = \"oracle\"\n[feed.oracle]\nbootstrap_servers = [%q]\nstream = \"bench\"\nstart_offset = \"earliest\"\nuser = %q\nauth_token = %q\nca_file = %q\n",
					k.Addr, k.User, k.Password, k.CAFile)
				provider = "oracle"
				p := k.StartProducer(b, "bench")
				raise = func(condition string) {
					now := time.Now()
					p.Send(b, feedtest.AlarmEvent("CH1", "CH1.Gen-2", "CH1.Gen-2:voltage", condition, 870, true, now, now))
				}
			}
			g := StartGateway(b, GatewayOptions{Tick: "1h", Sync: slowSync, Extra: extra})
			if raise == nil {
				raise = func(condition string) {
					g.SandboxPost("/_sandbox/alarms", map[string]any{"action": "raise", "assetId": "CH1.Gen-2",
						"tagId": "CH1.Gen-2:voltage", "conditionName": condition, "severity": 870})
				}
			}
			waitFeedConnected(b, g, provider)

			var lat []time.Duration
			b.ResetTimer()
			for i := range b.N {
				condition := fmt.Sprintf("Bench %s %d", path, i)
				want := fmt.Sprintf("STRING: %q", condition)
				t0 := time.Now()
				raise(condition)
				for received := false; !received; {
					select {
					case l := <-lines:
						if received = strings.Contains(l.Text, want); received {
							lat = append(lat, l.At.Sub(t0))
						}
					case <-time.After(30 * time.Second):
						b.Fatalf("no trap for %q within 30s", condition)
					}
				}
			}
			b.StopTimer()
			feedtest.ReportLatency(b, lat)
		})
	}
}
