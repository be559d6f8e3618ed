package webhook_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/feed/webhook"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

const fuelHours = "CH1.Gen-1:fuelhours"

type webhookRig struct {
	*feedtest.Rig
	pki  *feedtest.PKI
	cfg  feed.Config
	c    *webhook.Consumer
	logs *svctest.Buffer
}

// startWebhook runs a Feed with the webhook consumer on a free loopback port.
func startWebhook(t *testing.T, manage bool, opts feed.Options, change ...func(*feed.WebhookConfig)) *webhookRig {
	t.Helper()
	rig := feedtest.NewRig(t)
	pki := feedtest.NewPKI(t)
	cert, key := pki.Server(t, "webhook")
	port, err := svctest.FreePort("tcp")
	if err != nil {
		t.Fatal(err)
	}
	cfg := feed.Config{Provider: feed.ProviderWebhook, ManageSubscription: &manage, Webhook: feed.WebhookConfig{
		Listen: fmt.Sprintf("127.0.0.1:%d", port), URL: fmt.Sprintf("https://127.0.0.1:%d/smartview/events", port),
		CertFile: cert, KeyFile: key, MaxBody: 4096, MaxConcurrent: 4}}
	for _, f := range change {
		f(&cfg.Webhook)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &svctest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	c := webhook.New(cfg.Webhook, log)
	opts.Logger = log
	if manage {
		ch, err := cfg.Webhook.Channel()
		if err != nil {
			t.Fatal(err)
		}
		opts.StreamSubscriptions = &feed.StreamSubscriptions{API: rig.Client, AccountNo: rig.Sandbox.AccountNo(),
			Types: cfg.StreamTypesByIBX(rig.Sandbox.IBXs()), Channel: ch, StatePath: feed.StreamStatePath(t.TempDir())}
	}
	rig.StartFeed(t, cfg, c, opts)
	feedtest.WaitFor(t, 15*time.Second, "webhook listening", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})
	return &webhookRig{Rig: rig, pki: pki, cfg: cfg, c: c, logs: logs}
}

// curl posts body to the webhook with the real curl over TLS, trusting
// only the test CA, and returns the HTTP status.
func (w *webhookRig) curl(t *testing.T, contentType, body string) int {
	t.Helper()
	bin := feedtest.Tool(t, "curl", "curl")
	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", w.pki.CAFile,
		"-H", "Content-Type: "+contentType, "--data-binary", "@"+file, w.cfg.Webhook.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	var status int
	fmt.Sscan(string(out), &status)
	return status
}

func tagMessage(value, at string) string {
	return `{"type":"tag-point","data":{"streamId":"` + fuelHours + `","ibx":"CH1","tag":{"id":"` + fuelHours +
		`","displayName":"Fuel Hours"},"reading":{"value":"` + value + `","unit":"h"},"readingTime":"` + at + `","dataQuality":"Good"}}`
}

// TestWebhookDeliveryFromCurl: a v2 delivery posted by curl over TLS reaches
// the model; a wrong content type, an oversized body and a malformed body
// are rejected (415, 413, 400), counted and logged once per reason, and a
// replay of an older message and a retried delivery change nothing.
func TestWebhookDeliveryFromCurl(t *testing.T) {
	w := startWebhook(t, false, feed.Options{})
	newer := tagMessage("812.5", "2031-01-02T03:04:05")
	if got := w.curl(t, "application/json", "["+newer+"]"); got != 200 {
		t.Fatalf("delivery: HTTP %d", got)
	}
	if v := feedtest.TagValue(w.Store, fuelHours); v != "812.5" {
		t.Fatalf("after the delivery fuelhours = %q", v)
	}

	for range 2 { // each bad input twice: counted twice, logged once
		if got := w.curl(t, "text/plain", newer); got != 415 {
			t.Errorf("wrong content type: HTTP %d", got)
		}
		if got := w.curl(t, "application/json", "["+strings.Repeat(newer+",", 40)+newer+"]"); got != 413 {
			t.Errorf("oversized: HTTP %d", got)
		}
		if got := w.curl(t, "application/json", `{"type":"tag-point","data":`); got != 400 {
			t.Errorf("malformed: HTTP %d", got)
		}
	}
	for _, r := range []string{webhook.ResultContentType, webhook.ResultOversized, webhook.ResultMalformed} {
		if n := w.c.Count(r); n != 2 {
			t.Errorf("%s counted %d times, want 2", r, n)
		}
		if n := strings.Count(w.logs.String(), "result="+r); n != 1 {
			t.Errorf("%s logged %d times, want once", r, n)
		}
	}

	// A retried delivery and a replay of an older message: accepted (so
	// SmartView stops retrying), nothing changes, each counted a duplicate.
	_, sub := w.Store.Subscribe()
	older := tagMessage("1.0", "2030-01-01T00:00:00")
	for _, body := range []string{newer, older, "[" + newer + "," + older + "]"} {
		if got := w.curl(t, "application/json", body); got != 200 {
			t.Errorf("replay %s: HTTP %d", body[:40], got)
		}
	}
	if tags, _ := feedtest.Changes(t, sub); tags != 0 {
		t.Errorf("replays changed %d tags", tags)
	}
	if v := feedtest.TagValue(w.Store, fuelHours); v != "812.5" {
		t.Errorf("after replays fuelhours = %q", v)
	}
	if n := w.c.Count(webhook.ResultAccepted); n != 4 {
		t.Errorf("%d deliveries accepted, want 4", n)
	}
	if !strings.Contains(w.logs.String(), "v2 message already applied") {
		t.Errorf("the replays were not reported as duplicates:\n%s", w.logs.String())
	}
	if h := w.Store.Snapshot().Health().Feed; h.Malformed != 0 {
		t.Errorf("feed health: %+v", h)
	}
}

// TestSandboxWebhookPush: the gateway registers a WEBHOOK subscription with
// its certificate as sslCertificate; the sandbox posts an alarm's raise,
// acknowledgement and clear to it over TLS, trusting only that certificate;
// a replay of everything the sandbox retains changes nothing.
func TestSandboxWebhookPush(t *testing.T) {
	w := startWebhook(t, true, feed.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Sandbox.RunPush(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	const tagID, cond = "CH1.Gen-2:voltage", "Webhook Low Voltage"
	spec := sandbox.AlarmSpec{AssetID: "CH1.Gen-2", TagID: tagID, ConditionName: cond, Severity: 850}
	var subID string
	feedtest.WaitFor(t, 15*time.Second, "the v2 subscription", func() bool {
		list, err := w.Client.StreamSubscriptions(context.Background())
		if err == nil && len(list) == 1 {
			subID = list[0].ID
		}
		return subID != ""
	})
	find := func() *model.Alarm {
		for _, a := range w.Store.Snapshot().Alarms() {
			if a.TagID == tagID && a.Condition == cond {
				return a
			}
		}
		return nil
	}
	if _, err := w.Sandbox.RaiseAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the pushed alarm", func() bool { a := find(); return a != nil && a.State == model.AlarmActive })
	time.Sleep(5 * time.Millisecond)
	ref, err := w.Sandbox.AckAlarm(spec)
	if err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the pushed acknowledgement", func() bool { a := find(); return a.State == model.AlarmAcknowledged })
	if a := find(); !a.AckTime.Equal(time.UnixMilli(ref.TimeAcknowledged)) {
		t.Errorf("AckTime %v, want the sandbox's %v", a.AckTime, time.UnixMilli(ref.TimeAcknowledged))
	}
	if _, err := w.Sandbox.ClearAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the pushed clear", func() bool { return find().State == model.AlarmCleared })

	_, sub := w.Store.Subscribe()
	accepted := w.c.Count(webhook.ResultAccepted)
	n, err := w.Sandbox.ReplayStream(subID)
	if err != nil || n == 0 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the replay delivered", func() bool {
		return w.c.Count(webhook.ResultAccepted) > accepted && w.Sandbox.StreamStats().WebhookFailed == 0
	})
	time.Sleep(200 * time.Millisecond) // let the rest of the replay arrive
	if tags, raised := feedtest.Changes(t, sub); raised != 0 {
		t.Errorf("the replay raised %d alarms (and changed %d tags)", raised, tags)
	}
	if st := w.Sandbox.StreamStats(); st.WebhookFailed != 0 || st.WebhookBatches == 0 {
		t.Errorf("sandbox push stats: %+v", st)
	}
}

// TestSandboxWebhookPushUnderFaults: the sandbox's fault switches apply to
// its pushes. With every attempt failing (unavailable = 1) a batch is tried
// numberOfRetries + 1 times (the gateway asks for 5 retries) and dropped,
// as SmartView would; with some attempts failing or cut short (400 from
// the webhook) the retries bring everything, and the alarm's later
// messages still give the model all three transitions once each.
func TestSandboxWebhookPushUnderFaults(t *testing.T) {
	w := startWebhook(t, true, feed.Options{}, func(c *feed.WebhookConfig) { c.Retries = 5 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Sandbox.RunPush(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	feedtest.WaitFor(t, 15*time.Second, "the v2 subscription", func() bool {
		list, err := w.Client.StreamSubscriptions(context.Background())
		return err == nil && len(list) == 1
	})
	_, sub := w.Store.Subscribe()
	var kinds []string
	collect := func() {
		for sub.Pending() > 0 {
			d, _ := sub.Next(context.Background())
			for _, tr := range d.Alarms {
				if tr.Alarm.Condition == "Faulty Push" {
					kinds = append(kinds, tr.Kind.String())
				}
			}
		}
	}
	spec := sandbox.AlarmSpec{AssetID: "CH1.Gen-2", TagID: "CH1.Gen-2:voltage", ConditionName: "Faulty Push", Severity: 850}

	if err := w.Sandbox.SetFaults(sandbox.Faults{Unavailable: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Sandbox.RaiseAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 30*time.Second, "the raise's batches given up", func() bool {
		st := w.Sandbox.StreamStats()
		return st.WebhookBatches > 0 && st.WebhookFailed == st.WebhookBatches
	})
	if st := w.Sandbox.StreamStats(); st.WebhookAttempts != 6*st.WebhookBatches {
		t.Errorf("%d attempts for %d batches, want 6 each (numberOfRetries 5)", st.WebhookAttempts, st.WebhookBatches)
	}
	if collect(); len(kinds) != 0 {
		t.Fatalf("a push that always failed delivered %q", kinds)
	}

	// Failure probability per attempt 0.28: a batch is lost (6 failures) once in ~2000.
	if err := w.Sandbox.SetFaults(sandbox.Faults{Unavailable: 0.2, Malformed: 0.1}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Sandbox.AckAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 60*time.Second, "the acknowledgement (and the raise it proves)", func() bool { collect(); return len(kinds) >= 2 })
	if _, err := w.Sandbox.ClearAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 60*time.Second, "the clear", func() bool { collect(); return len(kinds) >= 3 })
	collect()
	if got := strings.Join(kinds, ","); got != "raised,acknowledged,cleared" {
		t.Errorf("transitions %q", got)
	}
	t.Logf("sandbox pushes: %+v; webhook malformed %d", w.Sandbox.StreamStats(), w.c.Count(webhook.ResultMalformed))
}

// TestWebhookAllowFrom: a delivery from outside allow_from is refused
// (403, counted, logged once) and applies nothing; from inside it is taken.
func TestWebhookAllowFrom(t *testing.T) {
	for _, tc := range []struct {
		allow  []string
		status int
	}{
		{[]string{"192.0.2.0/24", "2001:db8::/32"}, 403},
		{[]string{"192.0.2.0/24", "127.0.0.1"}, 200},
	} {
		w := startWebhook(t, false, feed.Options{}, func(c *feed.WebhookConfig) { c.AllowFrom = tc.allow })
		for range 2 {
			if got := w.curl(t, "application/json", tagMessage("55.5", "2031-01-01T00:00:00")); got != tc.status {
				t.Errorf("allow_from %v: HTTP %d, want %d", tc.allow, got, tc.status)
			}
		}
		applied := feedtest.TagValue(w.Store, fuelHours) == "55.5"
		if applied != (tc.status == 200) {
			t.Errorf("allow_from %v: applied %v", tc.allow, applied)
		}
		if tc.status == 403 && (w.c.Count(webhook.ResultForbidden) != 2 || strings.Count(w.logs.String(), "result=forbidden") != 1) {
			t.Errorf("forbidden counted %d times, logged:\n%s", w.c.Count(webhook.ResultForbidden), w.logs.String())
		}
	}
}
