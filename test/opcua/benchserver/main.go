// Command benchserver serves a synthetic footprint with svgateway's OPC UA
// server, for test/opcua/bench.sh: SecurityPolicy None (or the endpoints
// -security lists), anonymous, on 127.0.0.1, every reading updated each
// tick (± jitter, so updates are not phase-locked to publishing cycles),
// bounded by -max-seconds. It prints
// "benchserver listening <url> nodes-of-model=..." once it serves. With
// -history-hours it also serves HistoryRead of the first numeric tag
// (test/opcua/bench-history.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
	"github.com/svgateway/svgateway/opcua"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

func main() {
	var shape modeltest.Shape
	port := flag.Int("port", 48600, "TCP port on 127.0.0.1")
	flag.IntVar(&shape.IBXs, "ibx", 1, "IBXs")
	flag.IntVar(&shape.Cages, "cages", 5, "cages per IBX")
	flag.IntVar(&shape.Cabinets, "cabinets", 6, "cabinets per cage")
	flag.IntVar(&shape.Circuits, "circuits", 4, "circuits per cabinet")
	flag.IntVar(&shape.Assets, "assets", 30, "assets per IBX")
	flag.IntVar(&shape.Tags, "tags", 10, "tags per asset")
	tick := flag.Duration("tick", 0, "update every reading this often (0: never)")
	jitter := flag.Float64("jitter", 0.5, "tick period varies uniformly by ± this fraction")
	maxSeconds := flag.Int("max-seconds", 900, "stop after this many seconds")
	historyHours := flag.Int("history-hours", 0, "record this many hours of history (one sample per 30 s) for the first numeric tag and serve HistoryRead")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	security := flag.String("security", "None", `offered endpoints, comma-separated "Policy:Mode" pairs or None`)
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	state, err := os.MkdirTemp("", "svgateway-benchserver-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(state)
	shape, start := shape.Assorted(), time.Now()
	store, err := modeltest.NewStore(shape, start, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, start) })
	if err != nil {
		fail(err)
	}
	defer store.Close()
	var options []opcua.Option
	historyNode := ""
	if *historyHours > 0 {
		hs, node, err := backfill(state, store, *historyHours, start)
		if err != nil {
			fail(err)
		}
		defer hs.Close()
		options, historyNode = append(options, opcua.WithHistory(hs)), node
	}
	srv, err := opcua.New(opcua.Config{Config: uaserver.Config{Endpoint: fmt.Sprintf("opc.tcp://127.0.0.1:%d", *port), Security: strings.Split(*security, ","),
		AllowAnonymous: true, AutoAcceptClients: true}}, store, uaserver.Options{Logger: log, StateDir: state}, options...)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*maxSeconds)*time.Second)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	if srv.Addr() == nil {
		fail(<-done)
	}
	st := store.Snapshot().Structure()
	fmt.Printf("benchserver listening %s locations=%d assets=%d tags=%d pid=%d history=%s\n", srv.EndpointURL(),
		len(st.Locations()), len(st.Assets()), len(st.Tags()), os.Getpid(), historyNode)
	ticks := 0
	if *tick > 0 {
		go func() {
			for ticks = 1; ctx.Err() == nil; ticks++ {
				period := time.Duration(float64(*tick) * (1 + *jitter*(2*rand.Float64()-1)))
				select {
				case <-ctx.Done():
					return
				case <-time.After(period):
				}
				n := ticks
				if _, err := store.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, n, time.Now()) }); err != nil {
					log.Error("benchserver: update", "err", err)
				}
			}
		}()
	}
	if err := <-done; err != nil {
		fail(err)
	}
	fmt.Printf("benchserver stopped ticks=%d\n", ticks)
}

// backfill fills hours of history, one sample per 30 s up to now, for the
// first tag with a unit (through history's Backfill, as a gap after an
// outage would be), and returns the store and the tag's NodeId.
func backfill(state string, store *model.Store, hours int, now time.Time) (*history.Store, string, error) {
	hs, err := history.Open(history.Options{Path: filepath.Join(state, history.FileName)})
	if err != nil {
		return nil, "", err
	}
	st := store.Snapshot().Structure()
	for i := range st.Tags() {
		tag := st.Tag(i)
		if tag.Unit == "" {
			continue
		}
		n := hours * 120
		samples := make([]history.Sample, n)
		for k := range samples {
			samples[k] = history.Sample{Time: now.Add(-time.Duration(n-k) * 30 * time.Second),
				Value: model.Number(modeltest.Reading(k, i)), Quality: model.QualityGood}
		}
		if _, err := hs.Backfill(context.Background(), history.TagKey(tag.ID), samples); err != nil {
			hs.Close()
			return nil, "", err
		}
		return hs, "ns=2;s=" + tag.IBX + "/TAG/" + tag.ID, nil
	}
	hs.Close()
	return nil, "", fmt.Errorf("no tag with a unit")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchserver:", err)
	os.Exit(1)
}
