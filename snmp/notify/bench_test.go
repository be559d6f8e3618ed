package notify

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp"
)

// BenchmarkAlarmToTrap measures the latency from an alarm transition
// committed to the model to the notification logged by a real snmptrapd
// (read from its stdout pipe as it writes the line): directly (a v2c trap
// target, and a v1 trap target: the RFC 3584 translation) and through a real snmpd as AgentX master (Notify, then snmpd's
// trap2sink). One transition per op, each waited for, so queues stay
// empty: the figures are the path's latency, not a throughput. Reports
// p50 and p99 in µs. "direct+ledger" is "direct" with the alarm ledger on
// disk, as the gateway runs: a notification waits for the ledger write
// (fsynced) that numbers its alarm. Run: go test -run X -bench AlarmToTrap
// -benchtime 300x ./snmp/notify
func BenchmarkAlarmToTrap(b *testing.B) {
	for _, path := range []string{"direct", "direct+ledger", "v1", "agentx"} {
		b.Run(path, func(b *testing.B) {
			lines := make(chan netsnmptest.Line, 1024)
			trapd := netsnmptest.StartSnmptrapd(b, netsnmptest.SnmptrapdOptions{Community: "public", Lines: lines})
			var opts model.Options
			if path == "direct+ledger" {
				opts.LedgerPath = filepath.Join(b.TempDir(), "alarms.json")
			}
			store, err := model.NewStore(opts)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { store.Close() })
			cfg := snmp.Config{Listen: "off", EngineID: testEngineID}
			var master Master
			switch path {
			case "direct", "direct+ledger":
				cfg.Targets = []snmp.Target{{Address: trapd.Addr, Community: "public", RateLimit: 100000}}
			case "v1":
				cfg.Targets = []snmp.Target{{Address: trapd.Addr, Version: snmp.VersionV1, Community: "public", RateLimit: 100000}}
			default:
				d := netsnmptest.StartSnmpd(b, netsnmptest.SnmpdOptions{Extra: []string{"trap2sink " + trapd.Addr + " public"}})
				cfg.AgentX = snmp.AgentXConfig{Enabled: true, Socket: d.Socket, RateLimit: 100000}
				sub, err := snmp.NewSubagent(cfg, store, snmp.Deps{})
				if err != nil {
					b.Fatal(err)
				}
				svctest.Start(b, sub.Run)
				for i := 0; !sub.Connected(); i++ {
					if i == 300 {
						b.Fatal("subagent not registered")
					}
					time.Sleep(10 * time.Millisecond)
				}
				master = sub
			}
			mib, _ := snmp.OpenMIB("", nil)
			engine, _ := snmp.OpenEngine("", testEngineID)
			s, err := New(cfg, store, Deps{MIB: mib, Engine: engine, Master: master})
			if err != nil {
				b.Fatal(err)
			}
			svctest.Start(b, s.Run)
			waitReady(b, s)
			// Our coldStart and snmpd's own may be in the pipe: drain what is there.
			time.Sleep(200 * time.Millisecond)
			for len(lines) > 0 {
				<-lines
			}

			alarmIDObject, _ := snmp.LookupObject("svgAlarmId")
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o := alarmObs(i, true, false)
				t0 := time.Now()
				store.Update(func(tx *model.Tx) error { tx.ObserveAlarm(o, "bench"); return nil })
				a, _ := store.Snapshot().Alarm(o.Key())
				want := fmt.Sprintf(".%s.%d = ", alarmIDObject.OID, a.ID)
				for {
					select {
					case l := <-lines:
						if strings.Contains(l.Text, want) {
							lat = append(lat, l.At.Sub(t0))
						} else {
							continue
						}
					case <-time.After(10 * time.Second):
						b.Fatalf("alarm %d not received", a.ID)
					}
					break
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
