// Command benchagent is the load side of test/bench-snmp.sh: it serves a
// synthetic footprint of the sandbox's large size with the standalone
// agent, or, with -latency, polls an agent with concurrent GETs and prints
// latency percentiles. A benchmark tool, not part of the gateway.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
	"github.com/svgateway/svgateway/snmp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:11170", "agent address (serve mode)")
	latency := flag.Bool("latency", false, "poll -target with concurrent GETs instead of serving")
	target := flag.String("target", "127.0.0.1:11170", "agent to poll (-latency)")
	pollers := flag.Int("pollers", 8, "concurrent pollers (-latency)")
	duration := flag.Duration("duration", 10*time.Second, "how long to poll (-latency)")
	community := flag.String("community", "public", "v2c community")
	bulkSize := flag.Int("v2c-max-bulk-size", 65000, "[snmp] v2c_max_bulk_size of the agent (serve mode); the gateway's default, 1472, cuts a GETBULK answer at ~25 varbinds")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the serving agent to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchagent:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *latency {
		if err := poll(*target, *community, *pollers, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "benchagent:", err)
			os.Exit(1)
		}
		return
	}
	if err := serve(*listen, *community, *bulkSize); err != nil {
		fmt.Fprintln(os.Stderr, "benchagent:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func serve(listen, community string, bulkSize int) error {
	start := time.Now()
	store, err := modeltest.NewStore(modeltest.Large, start, func(tx *model.Tx) error { return modeltest.FillVaried(tx, start, 0) })
	if err != nil {
		return err
	}
	cfg := snmp.Config{Listen: listen, V2cMaxBulkSize: bulkSize, Communities: []snmp.Community{{Name: community, Versions: []string{snmp.VersionV1, snmp.VersionV2c}}},
		Users: []snmp.User{{Name: "bench", AuthProtocol: "SHA-256", AuthPassphrase: "benchauthpass", PrivProtocol: "AES", PrivPassphrase: "benchprivpass"}}}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := snmp.NewAgent(cfg, store, snmp.Deps{Logger: log})
	if err != nil {
		return err
	}
	a.MIB().View(store.Snapshot()) // build the tree before the first walk
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	<-a.Ready()
	if a.Addr() == nil {
		return <-done
	}
	st := store.Snapshot().Structure()
	fmt.Printf("READY addr=%s pid=%d locations=%d assets=%d tags=%d setup=%s\n", a.Addr(), os.Getpid(),
		len(st.Locations()), len(st.Assets()), len(st.Tags()), time.Since(start).Round(time.Millisecond))
	return <-done
}

// poll GETs the readings of random power rows (kVA, amps, quality, reading
// time: what an NMS polls per circuit) from concurrent pollers and prints
// the latency distribution.
func poll(target, community string, pollers int, d time.Duration) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	newClient := func() (*gosnmp.GoSNMP, error) {
		c := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Community: community, Version: gosnmp.Version2c,
			Timeout: 2 * time.Second, Retries: 0, MaxOids: 60}
		return c, c.Connect()
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	quality, _ := snmp.LookupObject("svgPowerQuality")
	var rows []uint32
	if err := c.BulkWalk(quality.OID.String(), func(pdu gosnmp.SnmpPDU) error {
		oid, err := snmp.ParseOID(pdu.Name)
		if err == nil {
			rows = append(rows, oid[len(oid)-1])
		}
		return err
	}); err != nil {
		return err
	}
	c.Conn.Close()
	if len(rows) == 0 {
		return fmt.Errorf("no power rows at %s", target)
	}
	var cols []snmp.OID
	for _, name := range []string{"svgPowerKvaText", "svgPowerAmpsText", "svgPowerQuality", "svgPowerReadingTime"} {
		o, _ := snmp.LookupObject(name)
		cols = append(cols, o.OID)
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range pollers {
		wg.Go(func() {
			c, err := newClient()
			if err != nil {
				mu.Lock()
				errs++
				mu.Unlock()
				return
			}
			defer c.Conn.Close()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(end) {
				row := rows[rand.IntN(len(rows))]
				oids := make([]string, len(cols))
				for i, col := range cols {
					oids[i] = col.Append(row).String()
				}
				t0 := time.Now()
				r, err := c.Get(oids)
				if err != nil || r.Error != gosnmp.NoError || len(r.Variables) != len(oids) {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat, errs = append(lat, mine...), errs+bad
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(lat) == 0 {
		return fmt.Errorf("no successful GET (%d errors)", errs)
	}
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	fmt.Printf("pollers=%d gets=%d errors=%d rate=%.0f/s p50=%s p99=%s max=%s\n", pollers, len(lat), errs,
		float64(len(lat))/d.Seconds(), pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	return nil
}
