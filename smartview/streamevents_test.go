package smartview

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readV2(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v2stream", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeStreamExamples: every v2 message type of the description's
// examples decodes into the Event the documented feed's messages decode to.
func TestDecodeStreamExamples(t *testing.T) {
	at := time.Date(2023, 10, 3, 13, 9, 32, 0, time.UTC)
	for _, tc := range []struct {
		file   string
		kind   EventKind
		stream string
		check  func(t *testing.T, ev *Event)
	}{
		{"alarm.json", EventAlarm, "IBX.CRAH-EQ1-04:dirtyfilter#ABSOLUTE:HIGH", func(t *testing.T, ev *Event) {
			a := ev.Alarm
			if a.IBX != "IBX" || a.AssetID != "IBX.CRAH-EQ1-04" || a.TagID != "IBX.CRAH-EQ1-04:dirtyfilter" || a.ConditionName != "High" ||
				a.Severity.Code != 900 || a.AssetClassification != "Mechanical" || a.Value.Text != "35.023" || a.UOM != "%" {
				t.Errorf("alarm = %+v", a)
			}
			if !a.Status.Value || a.Ack.Value || !a.Ack.Valid || !a.AckTime.Time.Equal(at) || !a.TimeTriggered.Time.Equal(at) {
				t.Errorf("status: active %v ack %+v ackTime %v triggered %v", a.Status, a.Ack, a.AckTime.Time, a.TimeTriggered.Time)
			}
		}},
		{"alert.json", EventAlert, "IBX.685306-15843739015670.6640131967865078", func(t *testing.T, ev *Event) {
			a := ev.Alert
			if a.ID != "IBX.685306-15843739015670.6640131967865078" || a.IBX != "IBX" || a.AlertTypeName != "drawAmpFalls" ||
				a.EventType != "Falls below" || a.ThresholdValue.Value != 10 || a.ThresholdValueMax.Value != 5 || !a.TriggeredOn.Time.Equal(at) {
				t.Errorf("alert = %+v", a)
			}
		}},
		{"environmental.json", EventEnvironment, "IBX.IBX:humidity", func(t *testing.T, ev *Event) {
			e := ev.Environment
			if e.IBX != "IBX" || e.Humidity.Value != 50.045 || e.HumidityUOM != "PERCENT" || e.Temperature.Valid || ev.Measure != "humidity" || !e.Timestamp.Time.Equal(at) {
				t.Errorf("environment = %+v, measure %q", e, ev.Measure)
			}
		}},
		{"power.json", EventPower, "IBX:140838", func(t *testing.T, ev *Event) {
			p := ev.Power
			if p.LevelType != "CIRCUIT" || p.LevelValue != "140838" || p.KVA.Value != 7.36 || p.Amps.Value != 7.36 ||
				p.PercentageKVA.Value != 68.125 || p.Cage != "IBX:02:021305" || p.Cabinet != "IBX:01:000Z4Z:0102" || !p.ReadingTime.Time.Equal(at) {
				t.Errorf("power = %+v", p)
			}
		}},
		{"metered-power.json", EventTagPoint, "IBX.CBM-B1-4-1:kilowattHour", func(t *testing.T, ev *Event) {
			if tp := ev.TagPoint; tp.TagID != "IBX.CBM-B1-4-1:kilowattHour" || tp.Value.Value != 412568.125 || tp.UOM != "kWh" {
				t.Errorf("metered power = %+v", tp)
			}
		}},
		{"tag-point.json", EventTagPoint, "IBX.ATS-M1-04:outputvoltageca", func(t *testing.T, ev *Event) {
			if tp := ev.TagPoint; tp.TagID != "IBX.ATS-M1-04:outputvoltageca" || tp.Value.Value != 50.045 || tp.UOM != "V" || !tp.ReadingTime.Time.Equal(at) {
				t.Errorf("tag point = %+v", tp)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := DecodeEvent(readV2(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != tc.kind || ev.StreamID != tc.stream {
				t.Fatalf("kind %v stream %q, want %v %q", ev.Kind, ev.StreamID, tc.kind, tc.stream)
			}
			tc.check(t, ev)
		})
	}
}

// TestDecodeStreamBad: v2 messages that cannot be applied are errors that
// say why; an unknown type is an unknown event, not an error.
func TestDecodeStreamBad(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"type":"power"}`, `no "data" object`},
		{`{"type":"power","data":[1]}`, `"data" is not an object`},
		{`{"type":"environmental","data":{"ibx":"X","asset":{"id":"X","level":"ROOF"},"tag":{"id":"humidity"}}}`, "asset.level"},
		{`{"type":"environmental","data":{"ibx":"X","asset":{"id":"X","level":"IBX"},"tag":{"id":"dewpoint"}}}`, "tag.id"},
		{`{"type":"system-alert","data":{"severity":{}}}`, "system-alert"},
	} {
		if _, err := DecodeEvent([]byte(tc.body)); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: err %v, want one naming %q", tc.body, err, tc.want)
		}
	}
	ev, err := DecodeEvent([]byte(`{"type":"weather","data":{}}`))
	if err != nil || ev.Kind != EventUnknown || ev.Name != "v2:weather" {
		t.Errorf("unknown type: %+v, %v", ev, err)
	}
}

// TestStreamDataAndPayloads: subscriptionData's lists become messages with
// their type; a pushed body may be one message, an array, or a
// subscriptionData object; anything else is ErrDecode.
func TestStreamDataAndPayloads(t *testing.T) {
	page, err := DecodeStreamData(bytes.NewReader(readV2(t, "subscription-data.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 6 || !page.HasPagination || page.Pagination.Total != 500 || page.Pagination.Next != "?offset=200&limit=100" {
		t.Fatalf("page: %d messages, pagination %+v", len(page.Messages), page.Pagination)
	}
	for _, m := range page.Messages {
		if _, err := DecodeEvent(m); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	// An element without "type" gets its list's.
	page, err = DecodeStreamData(bytes.NewReader([]byte(`{"tagPointMessageData":[{"data":{"streamId":"s","tag":{"id":"T"},"reading":{"value":"1"}}}]}`)))
	if err != nil || len(page.Messages) != 1 {
		t.Fatalf("%+v %v", page, err)
	}
	if ev, err := DecodeEvent(page.Messages[0]); err != nil || ev.Kind != EventTagPoint || ev.TagPoint.TagID != "T" {
		t.Errorf("typed from its list: %+v %v", ev, err)
	}
	one := readV2(t, "tag-point.json")
	for _, tc := range []struct {
		body string
		n    int
	}{
		{string(one), 1}, {"[" + string(one) + "," + string(one) + "]", 2}, {string(readV2(t, "subscription-data.json")), 6},
		{"", 0}, {"[]", 0}, {"42", 0}, {`{"foo":1}`, 0}, {`{"type":`, 0},
	} {
		msgs, err := SplitStreamPayload([]byte(tc.body))
		if len(msgs) != tc.n || (tc.n == 0) != (err != nil) {
			t.Errorf("%.40q: %d messages, err %v; want %d", tc.body, len(msgs), err, tc.n)
		}
	}
}
