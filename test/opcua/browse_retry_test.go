package e2e

import (
	"fmt"
	"testing"

	"github.com/svgateway/svgateway/model/modeltest"
)

// TestBrowseRetryAfterResponseTooLarge: node-opcua asking for answers of at
// most 32 KiB browses 100 copies of a folder five references at a time; the
// answer is refused (Bad_ResponseTooLarge) and asked again in halves, and
// BrowseNext follows the continuation points. The refused answers must not
// spend the session's continuation points (100 by default): every node of
// the accepted Browse gets one and every reference of the folder arrives.
func TestBrowseRetryAfterResponseTooLarge(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 60, Tags: 1})
	ibx := modeltest.IBX(0)
	c := checks(t, s.script(t, "browse-retry.js", "--folder", "ns=2;s="+ibx+"/Assets/Electrical/Global/PDU",
		"--nodes", "100", "--per-node", "5", "--max-message-size", "32768"))
	if r := c["refused"]; r == nil || r["status"] != "BadResponseTooLarge" {
		t.Fatalf("the first Browse (100 nodes) is not refused as too large: %v", r)
	}
	b := c["browse"]
	if b == nil || b["status"] != "Good" || fmt.Sprint(b["statuses"]) != "[Good]" || b["continuationPoints"] != b["nodes"] {
		t.Fatalf("the Browse asked again in halves: %v (want Good for every node, each with a continuation point)", b)
	}
	done := c["complete"]
	if done == nil || done["status"] != "Good" || fmt.Sprint(done["counts"]) != fmt.Sprintf("[%v]", done["all"]) {
		t.Errorf("references per node after BrowseNext: %v, want all of the folder's for every node", done)
	}
	if all, _ := done["all"].(float64); all <= 5 {
		t.Errorf("the folder has %v references: the test needs more than one page", done["all"])
	}
}
