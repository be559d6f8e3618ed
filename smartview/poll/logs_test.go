package poll

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
)

// syncBuffer is a log sink shared by concurrent calls.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns the lines logged since the last call.
func (s *syncBuffer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := strings.Split(strings.TrimSpace(s.b.String()), "\n")
	s.b.Reset()
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	return out
}

// TestOutageLogLevels: during an outage, retries are DEBUG (and happen), each failed cycle is one WARN with
// its counts, the state change is one WARN, and the recovery one INFO.
func TestOutageLogLevels(t *testing.T) {
	doc, srv := newDocServer(t)
	var sink syncBuffer
	log := slog.New(slog.NewTextHandler(&sink, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := smartview.Config{BaseURL: srv.URL, GrantType: "password", ClientID: "ABCDE12345", ClientSecret: "FGHIJ67890",
		UserName: "john.doe@example.com", UserPassword: "jd1@#$", AccountNo: "1", IBXs: []string{"CH1", "SV4"},
		MaxAttempts: 3, RetryBaseDelay: 1, RetryMaxDelay: 1, RateLimit: -1}
	client, err := smartview.New(cfg, smartview.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pcfg := Config{}
	if err := pcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(pcfg, client, store, cfg.IBXs, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	down := []string{"/power/v1/current", "/environment/v1/current", "/environment/v1/listCurrent", "/asset/v1/list",
		"/asset/v1/details", "/alarms/v1/smartview/alarms", "/hierarchy/v1/location", "/hierarchy/v1/power"}
	steps := []struct {
		name string
		fail []string
		want []string // the lines logged at INFO and above, by level and message, in any order
	}{
		{name: "healthy", want: []string{`level=INFO msg="upstream restored" state=ok was=starting`}},
		{name: "outage", fail: down, want: []string{
			`level=WARN msg="sync cycle failed" calls=24 failed=24 by_call="map[alarms:2 asset_details_batch:2 asset_list:4 environment:2 environment_list:6 power_list:8]"`,
			`level=WARN msg="upstream state" state=down was=ok`}},
		{name: "outage goes on", fail: down, want: []string{`level=WARN msg="sync cycle failed" calls=24 failed=24`}},
		{name: "partly back", fail: []string{"/power/v1/current"}, want: []string{
			`level=WARN msg="sync cycle failed" calls=24 failed=8 by_call=map[power_list:8]`,
			`level=WARN msg="upstream state" state=degraded was=down`}},
		{name: "restored", want: []string{`level=INFO msg="upstream restored" state=ok was=degraded`}},
	}
	unserved, catalogs := 0, 0
	for _, st := range steps {
		doc.FailOnly(http.StatusServiceUnavailable, st.fail...)
		p.Cycle(context.Background(), st.name == "healthy")
		var lines []string
		retries := 0
		for _, l := range sink.take() {
			switch {
			case strings.Contains(l, `level=DEBUG msg="smartview: retrying"`):
				retries++
			case strings.Contains(l, "level=DEBUG"):
			case strings.Contains(l, `level=INFO msg="smartview: the account answers on this catalog's paths" catalog=documented`):
				catalogs++
			case strings.Contains(l, `level=INFO msg="smartview: endpoint not served by this account`):
				unserved++ // the alerts API, not in the documented catalog: once per endpoint, checked below
			case !strings.Contains(l, "alarm listing incomplete"): // the documented example's totalCount: not an outage
				lines = append(lines, l)
			}
		}
		if st.fail != nil && retries == 0 {
			t.Errorf("%s: no retry logged at DEBUG", st.name)
		}
		if len(lines) != len(st.want) {
			t.Errorf("%s: %d lines at INFO and above, want %d:\n%s", st.name, len(lines), len(st.want), strings.Join(lines, "\n"))
			continue
		}
		for _, w := range st.want {
			found := false
			for _, l := range lines {
				found = found || strings.Contains(l, w)
			}
			if !found {
				t.Errorf("%s: no line with %q in:\n%s", st.name, w, strings.Join(lines, "\n"))
			}
		}
	}
	if catalogs != 1 {
		t.Errorf("%d lines saying which catalog answers, want 1", catalogs)
	}
	if unserved != 2 {
		t.Errorf("%d lines saying an endpoint is not served, want 2 (getAlerts and getAlertActivityLog, once each)", unserved)
	}
}
