package e2e

// The status page at / as a NOC sees it: rendered by a real browser
// (Debian's chromium, headless), its text checked against the model.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium renders url headless and returns the DOM after rendering; with
// screenshot set it also writes a PNG of the page there.
func chromium(t *testing.T, url, screenshot string) string {
	t.Helper()
	bin := requireTool(t, "chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1800"}
	if screenshot != "" {
		args = append(args, "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	return string(out)
}

// text is the visible text of an HTML fragment, white space collapsed.
func text(fragment string) string {
	s := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]+>`).ReplaceAllString(fragment, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// element returns the text of the element with id.
func element(t *testing.T, dom, id string) string {
	t.Helper()
	loc := regexp.MustCompile(`<(\w+)[^>]*\bid="` + id + `"[^>]*>`).FindStringSubmatchIndex(dom)
	if loc == nil {
		t.Fatalf("no element #%s in the rendered page", id)
	}
	tag := dom[loc[2]:loc[3]]
	end := strings.Index(dom[loc[1]:], "</"+tag+">") // the page nests no element in one of its kind
	if end < 0 {
		t.Fatalf("element #%s is not closed", id)
	}
	return text(dom[loc[1] : loc[1]+end])
}

func TestStatusPageInChromium(t *testing.T) {
	trapd := startTrapd(t, 0)
	g := StartGateway(t, GatewayOptions{Extra: fmt.Sprintf(`[snmp]
listen = "off"
[[snmp.targets]]
name = "noc-console"
address = %q
community = "public"
`, trapd.Addr)})
	m := g.Model()
	// The documented DC5 alarm is acknowledged and not cleared: once the
	// target delivered its raise, the page shows a delivery.
	WaitFor(t, 30*time.Second, "a notification delivered to snmptrapd", func() bool { return len(trapd.Notifications()) > 0 })

	dom := chromium(t, g.StatusURL+"/", "")
	if got := element(t, dom, "upstream"); got != "ok" {
		t.Errorf("upstream state %q, want ok", got)
	}
	if got := element(t, dom, "feed"); got != "connected" {
		t.Errorf("feed state %q, want connected", got)
	}
	if got := element(t, dom, "last-sync"); !strings.Contains(got, "UTC") || !strings.Contains(got, "ago") {
		t.Errorf("last sync %q", got)
	}
	// One row per IBX, with the model's counts of assets and tags.
	ibxs := element(t, dom, "ibxs")
	for _, ibx := range m.IBXs {
		var assets, tags int
		for _, a := range m.Assets {
			if a.IBX == ibx {
				assets++
			}
		}
		for _, tg := range m.Tags {
			if tg.IBX == ibx {
				tags++
			}
		}
		if !regexp.MustCompile(fmt.Sprintf(`\b%s( \d+){5} %d %d \d+ \d+`, ibx, assets, tags)).MatchString(ibxs) {
			t.Errorf("IBX row of %s (assets %d, tags %d) not in %q", ibx, assets, tags, ibxs)
		}
	}
	page := text(dom)
	// Active alarms by severity, with their acknowledgement.
	dc5 := m.AlarmOf("DC5.UPS-R1", "")
	if dc5 == nil {
		t.Fatal("no documented DC5 alarm in the model")
	}
	if !regexp.MustCompile(fmt.Sprintf(`Urgent: \d+ .*\b%d DC5 DC5\.UPS-R1 .* yes`, dc5.ID)).MatchString(page) {
		t.Errorf("the acknowledged Urgent DC5 alarm %d is not on the page:\n%s", dc5.ID, page)
	}
	if !strings.Contains(page, "Alarms not cleared:") {
		t.Errorf("no alarm section:\n%s", page)
	}
	// The notification target with its queue and last delivery.
	targets := element(t, dom, "targets")
	if !regexp.MustCompile(`noc-console trap \d+ \d+\w? (\d+\w )?ago`).MatchString(targets) {
		t.Errorf("target row %q, want noc-console with a last delivery", targets)
	}
	for _, link := range []string{`href="/metrics"`, `href="/api/model"`, `href="/mib/SVGATEWAY-MIB.txt"`, `href="/nodeset/SmartView.NodeSet2.xml"`} {
		if !strings.Contains(dom, link) {
			t.Errorf("no link %s", link)
		}
	}
	// The links answer.
	if mib := string(g.Get("/mib/SVGATEWAY-MIB.txt")); !strings.Contains(mib, "SVGATEWAY-MIB DEFINITIONS ::= BEGIN") {
		t.Error("/mib/SVGATEWAY-MIB.txt is not the MIB")
	}
	if ns := string(g.Get("/nodeset/SmartView.NodeSet2.xml")); !strings.Contains(ns, "<UANodeSet") {
		t.Error("/nodeset/SmartView.NodeSet2.xml is not the NodeSet")
	}

	// The screenshot README.md shows (SVGATEWAY_SCREENSHOT=path writes it).
	shot := filepath.Join(t.TempDir(), "status.png")
	if p := os.Getenv("SVGATEWAY_SCREENSHOT"); p != "" {
		shot = p
	}
	chromium(t, g.StatusURL+"/", shot)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
}

// TestAPIModelFilters: ?ibx= and ?kind= select what /api/model streams; a
// bad filter is a 400 that names the parameter.
func TestAPIModelFilters(t *testing.T) {
	g := StartGateway(t, GatewayOptions{})
	var all, some struct {
		IBXs      []string               `json:"ibxs"`
		Counts    map[string]int         `json:"counts"`
		Tags      []struct{ IBX string } `json:"tags"`
		Alarms    []struct{ IBX string } `json:"alarms"`
		Locations []struct{ IBX string } `json:"locations"`
	}
	if err := json.Unmarshal(g.Get("/api/model"), &all); err != nil {
		t.Fatal(err)
	}
	body := g.Get("/api/model?ibx=CH1,dc5&kind=tags&kind=alarms")
	if err := json.Unmarshal(body, &some); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), `"locations":[`) || strings.Contains(string(body), `"assets":[`) {
		t.Error("sections not asked for were sent")
	}
	if fmt.Sprint(some.IBXs) != "[CH1 DC5]" {
		t.Errorf("ibxs %v", some.IBXs)
	}
	want := 0
	for _, tg := range all.Tags {
		if tg.IBX == "CH1" || tg.IBX == "DC5" {
			want++
		}
	}
	if len(some.Tags) != want || some.Counts["tags"] != want || want == 0 {
		t.Errorf("%d tags (counted %d), want %d", len(some.Tags), some.Counts["tags"], want)
	}
	for _, a := range some.Alarms {
		if a.IBX != "CH1" && a.IBX != "DC5" {
			t.Errorf("alarm of %s", a.IBX)
		}
	}
	for q, want := range map[string]string{"kind=bogus": "kind:", "ibx=XX9": "ibx:", "frob=1": "frob:"} {
		resp, err := httpGetStatus(g.StatusURL + "/api/model?" + q)
		if err != nil || resp.code != 400 || !strings.HasPrefix(resp.body, want) {
			t.Errorf("%s: %+v %v, want 400 %s...", q, resp, err, want)
		}
	}
}

type statusResponse struct {
	code int
	body string
}

// httpGetStatus fetches url (bounded) whatever its status.
func httpGetStatus(url string) (statusResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return statusResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return statusResponse{resp.StatusCode, string(b)}, err
}
