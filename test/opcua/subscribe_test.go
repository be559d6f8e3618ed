package e2e

import (
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// TestSubscribeSeesStoreChanges: node-opcua subscribes; changes written to
// the store — a power reading, a tag, upstream going down — arrive as data
// changes with the reading's source time and the new quality.
func TestSubscribeSeesStoreChanges(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 2, Cabinets: 2, Circuits: 2, Assets: 3, Tags: 3})
	ibx := modeltest.IBX(0)
	cage := model.LocationID{IBX: ibx, Level: model.LevelCage, Name: ibx + ":01:000001"}
	kva := "ns=2;s=" + ibx + "/CAGE/" + cage.Name + "#KVA"
	tag := "ns=2;s=" + ibx + "/TAG/" + ibx + ".PDU-1:tag1"
	upstream := "ns=2;s=Gateway#Upstream"
	r := s.startScript(t, "subscribe.js", "--nodes", kva+","+tag+","+upstream, "--events", "--stdin", "--interval", "100")
	created := r.next(t, "items", func(m map[string]any) bool { return m["created"] != nil })
	if created["ok"] != 3.0 {
		t.Fatalf("created %v", created)
	}
	r.next(t, "ready", func(m map[string]any) bool { return m["ready"] == true })

	at := t0.Add(time.Minute)
	if _, err := s.store.Update(func(tx *model.Tx) error {
		if err := tx.SetPower(cage, model.Power{KVA: model.Number(123.5), ReadingTime: at}, time.Time{}); err != nil {
			return err
		}
		return tx.SetTag(ibx+".PDU-1:tag1", model.TagReading{Value: model.Number(77), AlarmStatus: "OK", ReadingTime: at}, time.Time{})
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ id, what string }{{kva, "KVA 123.5"}, {tag, "tag 77"}} {
		m := r.next(t, want.what, func(m map[string]any) bool {
			return m["id"] == want.id && (m["value"] == 123.5 || m["value"] == 77.0)
		})
		if m["status"] != "Good" || m["src"] != iso(at) {
			t.Errorf("%s: %v", want.what, m)
		}
	}
	s.store.Update(func(tx *model.Tx) error { tx.SetUpstream(model.UpstreamDown, "unreachable"); return nil })
	var noComm, down map[string]any // in either order
	for noComm == nil || down == nil {
		m := r.next(t, "KVA no-comm and upstream down", func(m map[string]any) bool {
			return (m["id"] == kva && m["status"] != "Good") || (m["id"] == upstream && m["value"] == "down")
		})
		if m["id"] == kva {
			noComm = m
		} else {
			down = m
		}
	}
	if noComm["status"] != "UncertainNoCommunicationLastUsableValue" || noComm["value"] != 123.5 {
		t.Errorf("KVA while upstream is down: %v", noComm)
	}
	sum := r.finish(t)
	if sum["errors"] != 0.0 {
		t.Errorf("summary: %v", sum)
	}
}

// TestTenThousandItems: one subscription with 10,000 monitored items (the
// create response and the first Publish span many chunks); every item
// reports its initial value, then the change of a model update.
func TestTenThousandItems(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 monitored items: not in -short")
	}
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 10, Cabinets: 10, Circuits: 4, Assets: 900, Tags: 10})
	r := s.startScript(t, "subscribe.js", "--items", "10000", "--events", "--stdin", "--interval", "200", "--max-seconds", "240")
	created := r.next(t, "items", func(m map[string]any) bool { return m["created"] != nil })
	if created["created"] != 10000.0 || created["ok"] != 10000.0 {
		t.Fatalf("created %v", created)
	}
	ready := r.next(t, "ready", func(m map[string]any) bool { return m["ready"] == true })
	if ready["initial"] != 10000.0 {
		t.Fatalf("initial values for %v of 10000", ready["initial"])
	}
	at := t0.Add(time.Minute)
	if _, err := s.store.Update(func(tx *model.Tx) error { return modeltest.Fill(tx, 1, at) }); err != nil {
		t.Fatal(err)
	}
	changed := map[string]bool{}
	for len(changed) < 10000 {
		m := r.next(t, "changes", func(m map[string]any) bool { return m["src"] == iso(at) })
		changed[m["id"].(string)] = true
	}
	if sum := r.finish(t); sum["errors"] != 0.0 || sum["updates"].(float64) < 10000 {
		t.Errorf("summary: %v", sum)
	}
}
