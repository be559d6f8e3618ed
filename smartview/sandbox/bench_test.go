package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Figures, not assertions: generation of the large profile, encoding throughput of whole-IBX
// answers (in-process, no network), and simulation ticks.

var (
	largeOnce   sync.Once
	largeServer *Server
	largeErr    error
)

func large(b *testing.B) *Server {
	b.Helper()
	largeOnce.Do(func() { largeServer, largeErr = New(Config{Profile: "large"}, nil) })
	if largeErr != nil {
		b.Fatal(largeErr)
	}
	return largeServer
}

func BenchmarkGenerateLarge(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		generate(profiles["large"], 1, time.Unix(1700000000, 0))
	}
}

func BenchmarkGenerateSmall(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		generate(profiles["small"], 1, time.Unix(1700000000, 0))
	}
}

// benchmarkHandler runs a handler and reports the bytes it encodes per second.
func benchmarkHandler(b *testing.B, handle func(*Server, *http.Request, *jsonWriter) int, method, target, body string) {
	s := large(b)
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		w := getWriter()
		if status := handle(s, r, w); status != http.StatusOK {
			b.Fatalf("status %d: %s", status, w.b)
		}
		size = len(w.b)
		putWriter(w)
	}
	b.SetBytes(int64(size))
}

// largeIDs lists the ids of AM3's electrical assets or of all its tags, as a JSON array.
func largeIDs(b *testing.B, tags bool) string {
	s := large(b)
	f := s.fp
	ib := &f.ibxs[f.ibxByCode["AM3"]]
	var ids []string
	for ai := ib.assets.start; ai < ib.assets.end; ai++ {
		a := &f.assets[ai]
		switch {
		case tags:
			for ti := a.tags.start; ti < a.tags.end; ti++ {
				ids = append(ids, f.tags[ti].id)
			}
		case a.tmpl().class == electrical:
			ids = append(ids, a.id)
		}
	}
	out, _ := json.Marshal(ids)
	return string(out)
}

func BenchmarkLargePowerAllCircuitsOfIBX(b *testing.B) {
	benchmarkHandler(b, (*Server).handlePowerPost, "POST", "/power/v1/current", `{"accountNo":"1","ibx":"AM3","levelType":"CIRCUIT"}`)
}

func BenchmarkLargeAssetDetailsAllElectricalOfIBX(b *testing.B) {
	benchmarkHandler(b, (*Server).handleAssetDetailsPost, "POST", "/asset/v1/details",
		`{"accountNo":"1","ibx":"AM3","classification":"Electrical","assetIds":`+largeIDs(b, false)+`}`)
}

func BenchmarkLargeTagsAllOfIBX(b *testing.B) {
	benchmarkHandler(b, (*Server).handleTagCurrentPost, "POST", "/asset/v1/tagpoint/current",
		`{"accountNo":"1","ibx":"AM3","tagIds":`+largeIDs(b, true)+`}`)
}

func BenchmarkLargePowerHierarchy(b *testing.B) {
	benchmarkHandler(b, (*Server).handlePowerHierarchy, "GET", "/hierarchy/v1/power?accountNo=1&ibx=AM3", "")
}

func BenchmarkLargeStep(b *testing.B) {
	s := large(b)
	b.ReportAllocs()
	for b.Loop() {
		s.Step()
	}
}

// BenchmarkLargeStepWithSubscriber encodes every change as a feed event for a reader.
func BenchmarkLargeStepWithSubscriber(b *testing.B) {
	s := large(b)
	events, cancel := s.Subscribe(maxFeedBuffer)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range events {
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		s.Step()
	}
	b.StopTimer()
	cancel()
	<-done
}
