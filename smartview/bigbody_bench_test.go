package smartview_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/svgateway/svgateway/smartview"
)

// BenchmarkOversizedAnswersRSS is the oversized-answer case of issue 9: four concurrent calls
// each answered with 200 MB of power readings (streamed without a length, or announced by
// Content-Length), all refused at the 64 MiB limit. It reports the process's resident memory
// before, at its peak (VmHWM) and after a GC. Uses only the public API, so that it runs on
// older versions of the client too. Run it alone, once per mode, so that the peak is its own:
//
//	go test -run x -bench 'OversizedAnswersRSS/chunked' -benchtime 1x ./smartview/
func BenchmarkOversizedAnswersRSS(b *testing.B) {
	for _, mode := range []string{"chunked", "content-length"} {
		b.Run(mode, func(b *testing.B) {
			const size, callers = 200 << 20, 4
			elem := `{"ibx":"CH1","accountNo":"1","levelType":"CIRCUIT","levelValue":"14488436","kva":1.25,"readingTime":"1550506500000"}`
			chunk := strings.Repeat(","+elem, 256)
			mux := http.NewServeMux()
			mux.HandleFunc("POST /oauth2/v1/token", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"access_token":"t","token_timeout":"3600","token_type":"Bearer"}`)
			})
			mux.HandleFunc("POST /power/v1/current", func(w http.ResponseWriter, r *http.Request) {
				if mode == "content-length" {
					w.Header().Set("Content-Length", strconv.Itoa(size))
				}
				if _, err := io.WriteString(w, `{"payLoad":{"data":[`+elem); err != nil {
					return
				}
				for n := 0; n+len(chunk) < size; n += len(chunk) {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			cfg := smartview.Config{BaseURL: srv.URL, ClientID: "x", ClientSecret: "y", AccountNo: "1", RateLimit: -1, MaxAttempts: 1}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			c, err := smartview.New(cfg, smartview.Options{})
			if err != nil {
				b.Fatal(err)
			}
			before := procKB(b, "VmRSS")
			for b.Loop() {
				var wg sync.WaitGroup
				for range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := c.PowerList(context.Background(), "CH1", "CIRCUIT"); err == nil {
							b.Error("a 200 MB answer was accepted")
						}
					}()
				}
				wg.Wait()
			}
			runtime.GC()
			b.ReportMetric(float64(before)/1024, "rss_before_MB")
			b.ReportMetric(float64(procKB(b, "VmHWM"))/1024, "rss_peak_MB")
			b.ReportMetric(float64(procKB(b, "VmRSS"))/1024, "rss_after_MB")
		})
	}
}

func procKB(b *testing.B, field string) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb
		}
	}
	b.Fatalf("%s not in /proc/self/status", field)
	return 0
}
