package main

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/svgateway/svgateway/model"
)

// TestPersistHealthShown: a failing save turns /readyz to 503 "degraded"
// with the reason and sets the persist metrics; a later success restores
// both.
func TestPersistHealthShown(t *testing.T) {
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.Update(func(tx *model.Tx) error { tx.SetLastSync(time.Now()); return nil })
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newModelCollector(store))
	s := &statusServer{store: store, log: slog.New(slog.DiscardHandler)}
	readyz := func() (int, string) {
		rec := httptest.NewRecorder()
		s.readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	gauges := func() string {
		var b strings.Builder
		for _, name := range []string{"svgateway_persist_ok", "svgateway_persist_failing"} {
			n, err := testutil.GatherAndCount(reg, name)
			if err != nil || n == 0 {
				t.Fatalf("%s: %d series, %v", name, n, err)
			}
		}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "svgateway_persist_") {
				for _, m := range mf.GetMetric() {
					lbl := ""
					for _, l := range m.GetLabel() {
						lbl = l.GetValue()
					}
					if m.GetGauge().GetValue() == 1 {
						b.WriteString(mf.GetName() + "{" + lbl + "} ")
					}
				}
			}
		}
		return strings.TrimSpace(b.String())
	}

	tests := []struct {
		name      string
		component string
		err       error
		code      int
		body      string
		gauges    string
	}{
		{name: "every save succeeds", code: 200, body: "ready:", gauges: "svgateway_persist_ok{}"},
		{name: "the ledger fails", component: model.LedgerComponent, err: errors.New("write alarms.json: no space left on device"),
			code: 503, body: "degraded: state not saved since", gauges: "svgateway_persist_failing{alarm ledger}"},
		{name: "saved again", component: model.LedgerComponent, code: 200, body: "ready:", gauges: "svgateway_persist_ok{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.component != "" {
				store.ReportPersist(tt.component, tt.err)
			}
			code, body := readyz()
			if code != tt.code || !strings.HasPrefix(body, tt.body) || tt.err != nil && !strings.Contains(body, "alarm ledger: "+tt.err.Error()) {
				t.Errorf("/readyz = %d %q, want %d %q with the reason", code, body, tt.code, tt.body)
			}
			if got := gauges(); got != tt.gauges {
				t.Errorf("persist gauges at 1: %q, want %q", got, tt.gauges)
			}
		})
	}
}
