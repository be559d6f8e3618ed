package poll

import (
	"context"
	"net/http"
	"testing"

	"github.com/svgateway/svgateway/model"
)

// TestRetryKeepsWhatSucceeded: after a cycle in which some calls failed, the
// retry re-reads only those (the hierarchies that were read are kept), and
// the gateway is ready once everything has been read once, across cycles.
func TestRetryKeepsWhatSucceeded(t *testing.T) {
	doc, srv := newDocServer(t)
	p, store := newPoller(t, srv.URL, []string{"CH1", "SV4"})
	steps := []struct {
		name      string
		fail      []string
		retry     bool
		wantHits  map[string]int // requests this step, by path (absent: not checked)
		wantReady bool
	}{
		{name: "first cycle: details and power fail", fail: []string{"/asset/v1/details", "/power/v1/current"},
			wantHits: map[string]int{"/hierarchy/v1/location": 2, "/power/v1/current": 8}},
		{name: "retry while power still fails: only what failed", fail: []string{"/power/v1/current"}, retry: true,
			// CH1's details (one batch per classification) now succeed; the lists and hierarchies are kept.
			wantHits: map[string]int{"/hierarchy/v1/location": 0, "/hierarchy/v1/power": 0, "/asset/v1/list": 0,
				"/asset/v1/details": 2, "/power/v1/current": 8, "/alarms/v1/smartview/alarms": 0, "/environment/v1/listCurrent": 0}},
		{name: "retry with upstream back: the power levels only", retry: true, wantReady: true,
			wantHits: map[string]int{"/hierarchy/v1/location": 0, "/asset/v1/details": 0, "/power/v1/current": 8, "/environment/v1/current": 0}},
		{name: "nothing left: a retry makes no call", retry: true, wantReady: true,
			wantHits: map[string]int{"/power/v1/current": 0, "/asset/v1/details": 0}},
	}
	for _, st := range steps {
		doc.ResetHits()
		doc.FailOnly(http.StatusServiceUnavailable, st.fail...)
		if st.retry {
			p.Retry(context.Background())
		} else {
			p.Cycle(context.Background(), true)
		}
		hits := doc.Hits()
		for path, want := range st.wantHits {
			if got := hits[path]; got != want {
				t.Errorf("%s: %d requests to %s, want %d", st.name, got, path, want)
			}
		}
		h := store.Snapshot().Health()
		if ready := !h.LastSync.IsZero(); ready != st.wantReady {
			t.Errorf("%s: ready = %v, want %v (health %+v)", st.name, ready, st.wantReady, h)
		}
	}
	// What the retries read is in the model: CH1's tags (details) and power.
	snap := store.Snapshot()
	ti, ok := snap.Structure().TagIndex("CH1.Gen-1:fuelhours")
	if !ok || snap.Tag(ti).Quality != model.QualityGood {
		t.Errorf("CH1.Gen-1:fuelhours after the retries: present %v", ok)
	}
	li, _ := snap.Structure().LocationIndex(model.IBXLocation("CH1"))
	if pw := snap.Power(li); pw.KVA.Num != 175.951 || pw.Quality != model.QualityGood {
		t.Errorf("CH1 power after the retries = %v %v", pw.KVA, pw.Quality)
	}
}
