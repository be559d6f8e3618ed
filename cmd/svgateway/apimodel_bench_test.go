package main

// BenchmarkAPIModel measures what serving GET /api/model costs as the model
// grows (issue 14: the answer must stream, its serving peak independent of
// its size): the body's size, and the live heap the handler holds while it
// serves (the live heap after each collection during the serving, the GC
// made to run often, minus the live heap before: the model itself is not
// counted), for answers of different sizes from one model. Figures in
// BENCHMARKS.md.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// discardResponse is an http.ResponseWriter that counts the body.
type discardResponse struct {
	h http.Header
	n int64
}

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) WriteHeader(int)             {}
func (d *discardResponse) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

func BenchmarkAPIModel(b *testing.B) {
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	// One model (the large profile's size); answers of 1, 5 and 20 IBXs of it
	// (?ibx=), so that the heap the collector scans is the same in each.
	store, err := modeltest.NewStore(modeltest.Large, at, func(tx *model.Tx) error { return modeltest.Fill(tx, 0, at) })
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	s := &statusServer{store: store}
	for _, ibxs := range []int{1, 5, 20} {
		query := ""
		for i := 0; i < ibxs && ibxs < modeltest.Large.IBXs; i++ {
			query += "&ibx=" + modeltest.IBX(i)
		}
		b.Run(fmt.Sprintf("ibxs=%d", ibxs), func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/model?"+query, nil)
			defer debug.SetGCPercent(debug.SetGCPercent(10))
			runtime.GC()
			base := liveHeap()
			var peak atomic.Uint64
			done := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the live heap as of the latest collection, polled
				defer wg.Done()
				for {
					if l := liveHeap(); l > peak.Load() {
						peak.Store(l)
					}
					select {
					case <-done:
						return
					case <-time.After(100 * time.Microsecond):
					}
				}
			}()
			var body int64
			for b.Loop() {
				w := &discardResponse{h: http.Header{}}
				s.apiModel(w, req)
				body = w.n
			}
			close(done)
			wg.Wait()
			b.ReportMetric(float64(body)/1e6, "body-MB")
			b.ReportMetric(float64(int64(peak.Load())-int64(base))/1e6, "serving-live-MB")
		})
	}
}
