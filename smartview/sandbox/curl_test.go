package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The reference's curl examples, replayed as written (host aside) against Serve on a real
// loopback listener: a token from the documented JSON body, then the documented requests with
// the documented headers.
func TestReferenceCurlExamples(t *testing.T) {
	addr, stop, served := startServe(t, Config{Tick: 20 * time.Millisecond})
	base := "http://" + addr

	curl := func(method, url string, headers []string, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}

	status, body := curl("POST", "/oauth2/v1/token", []string{"content-type: application/json"}, `{

"grant_type": "password",

"user_name": "john.doe@example.com",

"user_password": "jd1@#$",

"client_id": "ABCDE12345",

"client_secret": "FGHIJ67890"

}`)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tok); status != 200 || err != nil {
		t.Fatalf("token: %d %s", status, body)
	}
	status, body = curl("POST", "/oauth2/v1/refreshaccesstoken", []string{"content-type: application/json"},
		`{"client_id": "ABCDE12345", "client_secret": "FGHIJ67890", "refresh_token": "`+tok.RefreshToken+`"}`)
	if err := json.Unmarshal(body, &tok); status != 200 || err != nil {
		t.Fatalf("refresh: %d %s", status, body)
	}
	auth := "authorization: Bearer " + tok.AccessToken
	jsonHeaders := []string{"content-type: application/json", auth}

	for _, ex := range []struct {
		method, url, body string
		want              []string // substrings of the answer
	}{
		{"GET", "/asset/v1/list?accountNo=1&ibx=CH1&classification=Electrical", "", []string{`"assetId":"CH1.Gen-1"`, `"templateId":"Generator"`}},
		{"GET", "/asset/v1/details?accountNo=1&ibx=CH1&assetId=CH1.Gen-1&classification=Electrical", "", []string{`"tagId":"CH1.Gen-1:fuelhours"`}},
		{"GET", "/asset/v1/tagpoint/affected-assets?accountNo=1&ibx=CH1&classification=Electrical&assetId=CH1.ASTS-1-2-A", "", []string{`"name":"M10294567"`}},
		{"GET", "/asset/v1/tagpoint/current?accountNo=1&ibx=CH1&tagId=CH1.Gen-1:fuelhours", "", []string{`"tagDisplayName":"Fuel Hours"`}},
		{"GET", "/alarm/v1/smartview/alarms?accountNo=1&limit=10", "", []string{`"assetId":"DC5.UPS-R1"`, `"timeTrigerred":1546510663707`}},
		{"GET", "/alarms/v1/smartview/alarms?accountNo=1&limit=10", "", []string{`"assetId":"CH3.STS-B1.A5"`}},
		{"GET", "/asset/v1/list?accountNo=1&ibx=CH1&classification=Mechanical", "", []string{`"assetId":"CH1.FC 2"`}},
		{"GET", "/asset/v1/details?accountNo=1&ibx=CH1&assetId=CH1.FC%202&classification=Mechanical", "", []string{`"lastMaintenanceDate":"Dec 19,2018"`}},
		{"POST", "/asset/v1/details", `{
  "accountNo": "1",
  "ibx": "CH1",
  "assetIds": [
    "CH1.FC 2",
    "CH1.Lead Chilled Water Manager"
  ],
  "classification":"Mechanical"
}`, []string{`"totalCount":2`, `"alarmLastProcessedTime":"Currently Active"`}},
		{"GET", "/asset/v1/tagpoint/affected-assets?accountNo=1&ibx=CH1&classification=Electrical&assetId=CH1.PDU-1-2A", "", []string{`"name":"15137957"`}},
		{"GET", "/asset/v1/tagpoint/current?accountNo=1&ibx=CH1&tagId=CH1.Lead%20Chilled%20Water%20Manager:primarychilledwatersupplytemperature", "", []string{`"uom":"°C"`}},
		{"POST", "/asset/v1/tagpoint/current", `{
  "accountNo": "1",
  "tagIds": [
    "CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature",
    "CH1.UPS-5:batterytimeremaining"
  ],
  "ibx": "CH1"
}`, []string{`"value":"AVAILABLE DURING DISCHARGE"`}},
		{"GET", "/environment/v1/current?accountNo=1&ibx=CH1&levelType=IBX&levelValue=CH1", "", []string{`"zone":"ALL"`}},
		{"GET", "/environment/v1/listCurrent?accountNo=1&ibx=CH1&levelType=IBX", "", []string{`"totalCount":1`}},
		{"GET", "/power/v1/current?accountNo=1&ibx=CH1&levelType=IBX&levelValue=CH1", "", []string{`"kw":"NA"`}},
		{"POST", "/power/v1/current", `{
     "accountNo": "1",
     "ibx": "CH1",
     "levelType": "IBX"
}`, []string{`"data":[{"ibx":"CH1"`}},
		{"GET", "/hierarchy/v1/location?accountNo=123&ibx=SV4", "", []string{`"label":"SV4:01:001150"`}},
		{"GET", "/hierarchy/v1/power?accountNo=123&ibx=SV4", "", []string{`"label":"120V 20A 1Ph Red (3717)"`}},
		{"GET", "/registration/v1/subscribe", "", []string{`"provider":"GOOGLE"`}},
		{"GET", "/registration/v1/subscribe/5c4f7103ce9a9d4903419128", "", []string{`"subscriptionId":"5c4f7103ce9a9d4903419128"`}},
		{"POST", "/registration/v1/subscribe", `{
    "power": [
    {
      "accountNo": "1",
      "ibx": "CH1"
    }
  ],
  "config": {
    "provider": "GOOGLE",
    "method": "PULL"
  }
}`, []string{`"status":"OK"`, `"power":[{"ucmId":null,"accountNo":"1","ibx":"CH1"}]`, `"asset":[]`}},
		{"PUT", "/registration/v1/subscribe/5c4f7103ce9a9d4903419128", `{
  "power": [
  {
  "accountNo": "1",
  "ibx": "CH1"
  }
  ],
  "asset": [
  {
  "accountNo": "1",
  "ibx": "CH1"
  }
  ],
  "config": {
  "method": "PULL",
  "provider": "GOOGLE"
  }
}`, []string{`"asset":[{"ucmId":null,"accountNo":"1","ibx":"CH1"}]`}},
		{"DELETE", "/registration/v1/subscribe", "", []string{`"status":"OK"`}},
		{"GET", "/feedsubscription/v1/subscribe/5c4f7103ce9a9d4903419128", "", []string{`"config":{"method":"PULL","provider":"GOOGLE"}`}},
		{"GET", "/environment/v1/current/?accountNo=1&ibx=CH1&levelType=ibc&levelValue=CH1", "", []string{`"statuscode":"3001"`}},
		{"GET", "/environment/v1/current/?accountNo=1&levelType=ibx&levelValue=CH1", "", []string{`"statuscode":"4000"`}},
	} {
		status, body := curl(ex.method, ex.url, jsonHeaders, ex.body)
		if status != 200 {
			t.Errorf("%s %s: %d %s", ex.method, ex.url, status, body)
			continue
		}
		for _, w := range ex.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s %s: no %s in %s", ex.method, ex.url, w, body)
			}
		}
	}
	// and once with curl itself: where it is installed, and always under
	// test/run.sh (SVGATEWAY_E2E=1), which installs it: missing, it fails.
	curlPath, err := exec.LookPath("curl")
	if err != nil && os.Getenv("SVGATEWAY_E2E") == "1" {
		t.Errorf("curl is not installed (test/run.sh installs it): %v", err)
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, curlPath, "-sS", "-X", "GET", base+"/asset/v1/list?accountNo=1&ibx=CH1&classification=Electrical",
			"-H", "content-type: application/json", "-H", auth).Output()
		if err != nil || !strings.Contains(string(out), `"assetId":"CH1.Gen-1"`) {
			t.Errorf("curl: %v %s", err, out)
		}
	}
	// the 404 example: GET with "accept" and "Authorization" headers
	if status, body := curl("GET", "/feedsubscription/v1/subscribed", []string{"accept: application/json", auth}, ""); status != 404 ||
		!strings.Contains(string(body), `"message":"Not Found - No message available"`) {
		t.Errorf("404 example: %d %s", status, body)
	}

	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := http.Get(base + "/_sandbox/stats"); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("still serving after shutdown: %v", err)
	}
}
