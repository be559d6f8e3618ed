package feed

import (
	"testing"
	"time"

	"github.com/svgateway/svgateway/model"
)

// FuzzDecodeApply feeds arbitrary bytes through decoding and applying: it
// must never panic, every event gets exactly one outcome, and a message that
// does not decode is malformed.
func FuzzDecodeApply(f *testing.F) {
	for _, seed := range []string{
		`{"name":"tagpoint_updated","data":{"tagId":"CH1.Gen-1:fuelhours","value":"12.5","readingTime":"1700000000000"}}`,
		`{"name":"alarm_updated","alarm":{"ibx":"CH1","assetid":"CH1.Gen-1","tagid":"CH1.Gen-1:fuelhours","conditionname":"High","severity":850,"status":true,"timetriggered":"1700000000000","timeprocessed":"1700000000100"}}`,
		`{"name":"alarm_active","alarm":{"ibx":"CH1","cage":"CH1:05:000550","severity":"650","status":"false"}}`,
		`{"name":"power_updated","data":{"ibx":"SV4","levelType":"circuit","levelValue":"20853717","kva":"0.41","readingTime":1700000000000}}`,
		`{"name":"environment_updated","data":{"ibx":"SV4","cage":"ALL","temperature":"21.0","humidity":"NA","timestamp":"1700000000000"}}`,
		`{"name":"alert_updated","alert":{"id":"a1","ibx":"CH1","acknowledge":true,"severity":"High","triggeredOn":1700000000000}}`,
		`{"name":"unknown_thing"}`, `{"name":1}`, `null`, `{`, `{"name":"alarm_","alarm":[]}`,
	} {
		f.Add([]byte(seed))
	}
	store, err := model.NewStore(model.Options{})
	if err != nil {
		f.Fatal(err)
	}
	id := model.LocationID{IBX: "SV4", Level: model.LevelCircuit, Name: "20853717"}
	store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{
			"CH1": {Assets: []model.Asset{{ID: "CH1.Gen-1"}}, Tags: []model.Tag{{ID: "CH1.Gen-1:fuelhours", Asset: "CH1.Gen-1"}}},
			"SV4": {Locations: []model.Location{{ID: id}}},
		})
		return nil
	})
	m := newMetrics()
	f.Fuzz(func(t *testing.T, data []byte) {
		e := decode(Message{Data: data}, time.UTC)
		var out Outcome
		_, err := store.Update(func(tx *model.Tx) error {
			out = applyEvent(tx, &e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if out >= numOutcomes {
			t.Fatalf("outcome %d", out)
		}
		if e.ev == nil && out != OutcomeMalformed {
			t.Fatalf("undecodable message had outcome %v", out)
		}
		m.applied(0, []*event{&e}, []Outcome{out})
	})
}
