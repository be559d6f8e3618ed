package smartview

// Fuzz targets of the client's hand-written JSON decoding: the streaming
// envelope and list reader, the lenient scalars (numbers and booleans as
// strings, times in every shape the API uses, severities as codes or
// words), and feed events. test/fuzz-campaign.sh runs them for a stated
// time; crashes they find are kept under testdata/fuzz as regression inputs.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// addTestdata seeds f with every JSON answer of testdata/.
func addTestdata(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
}

// FuzzDecodeAnswer: any body, read in each shape the client reads answers
// (an enveloped value, an optional envelope, a list bare, keyed or
// enveloped), decodes or fails with an error: never a panic, and a list's
// check sees only decoded elements.
func FuzzDecodeAnswer(f *testing.F) {
	addTestdata(f)
	f.Add([]byte(`{"payLoad":null,"status":{"statuscode":"1000"}}`))
	f.Add([]byte(`[{"ibx":"CH1"}]`))
	f.Add([]byte(`{"data":[{"assetId":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Power
		decodeEnveloped(bytes.NewReader(body), &p)
		var nodes []HierarchyNode
		decodeOptionalEnvelope(bytes.NewReader(body), &nodes)
		var subs []Subscription
		decodeOptionalEnvelope(bytes.NewReader(body), &subs)
		for _, enveloped := range []bool{false, true} {
			alarms := &listReader[Alarm]{}
			decodeAnswer(bytes.NewReader(body), alarms.answer(enveloped))
			details := &listReader[AssetDetails]{key: "assetDetails", check: func(d *AssetDetails) error {
				if d == nil {
					t.Fatal("check of a nil element")
				}
				return nil
			}}
			decodeAnswer(bytes.NewReader(body), details.answer(enveloped))
			env := &listReader[Environment]{key: "data"}
			decodeAnswer(bytes.NewReader(body), env.answer(enveloped))
		}
	})
}

// FuzzDecodeScalars: the lenient scalar types decode any JSON value or
// refuse it with an error; what they decode marshals to valid JSON.
func FuzzDecodeScalars(f *testing.F) {
	for _, s := range []string{`"12.5"`, `12.5`, `"NA"`, `null`, `true`, `"false"`, `"Y"`, `1700000000000`, `"1700000000000"`,
		`"2024-02-15T07:59:00.000Z"`, `"2024-02-15 07:59:00"`, `"02/15/2024 07:59:00"`, `850`, `"Urgent"`, `"650"`, `{"a":1}`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			// encoding/json hands an Unmarshaler only a valid JSON value
			// (the fuzzer's "00" is not one).
			return
		}
		check := func(what string, m json.Marshaler) {
			out, err := m.MarshalJSON()
			if err == nil && !json.Valid(out) {
				t.Fatalf("%s decoded from %q marshals to invalid JSON %q", what, data, out)
			}
		}
		var n Number
		if n.UnmarshalJSON(data) == nil {
			check("Number", n)
			_ = n.String()
		}
		var b Bool
		if b.UnmarshalJSON(data) == nil {
			check("Bool", b)
		}
		var x Text
		_ = x.UnmarshalJSON(data)
		var tm Time
		if tm.UnmarshalJSON(data) == nil {
			check("Time", tm)
			check("Time in a zone", tm.InLocation(time.FixedZone("X", -5*3600)))
		}
		var s Severity
		if s.UnmarshalJSON(data) == nil {
			check("Severity", s)
		}
		ParseTime(string(data), time.UTC)
	})
}

// FuzzDecodeEvent: a feed event decodes or fails with an error, and a
// decoded one can be moved to a time zone.
func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob("testdata/event_*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEvent(data)
		if err != nil {
			return
		}
		if e == nil {
			t.Fatal("no event and no error")
		}
		e.InLocation(time.FixedZone("X", 3600))
		_ = e.Kind.String()
	})
}
