package smartview

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// The readings' own decoders must decode exactly as encoding/json decodes the same structs by
// their tags: these types have the fields and tags but not the methods.
type (
	reflectPower Power
	// tablePowerComparison decodes by the table that Power's comparisonData is decoded by
	// (comparisonFields); PowerComparison itself decodes by reflection.
	tablePowerComparison PowerComparison
	reflectTagPoint      TagPoint
	reflectEnvironment   Environment
	// reflectAssetDetails decodes its tags by TagPoint's own decoder, whose equality with
	// reflection reflectTagPoint checks.
	reflectAssetDetails AssetDetails
	// Affected locations: the tree's lists decode their elements by AffectedLocation's own
	// decoder, whose equality with reflection reflectAffectedLocation checks.
	reflectAffectedLocations AffectedLocations
	reflectAffectedLocation  AffectedLocation
	// Trending answers: reflecttrendPayload decodes its samples by trendValue's own decoder,
	// whose equality with reflection reflecttrendValue checks. ("reflect" + the name: the test
	// takes the prefix off to compare error messages.)
	reflecttrendPayload trendPayload
	reflecttrendValue   trendValue
)

// sameDecoding decodes data with the type's UnmarshalJSON and by reflection, and reports a
// difference in the result or the error.
func sameDecoding[T, R any](t *testing.T, data []byte) {
	t.Helper()
	var got T
	var want R
	gotErr := json.Unmarshal(data, &got)
	wantErr := json.Unmarshal(data, &want)
	// The struct's name differs (reflectPower for Power): compare the rest.
	if te, ok := wantErr.(*json.UnmarshalTypeError); ok {
		te.Struct = strings.TrimPrefix(te.Struct, "reflect")
	}
	if fmt.Sprint(gotErr) != strings.ReplaceAll(fmt.Sprint(wantErr), "smartview.reflect", "smartview.") {
		t.Fatalf("%s:\nerror %v\nwant  %v", data, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, *(*T)(reflect.ValueOf(&want).UnsafePointer())) {
		t.Fatalf("%s:\ngot  %+v\nwant %+v", data, got, want)
	}
}

var readingObjects = []string{
	`{"ibx":"SV4","accountNo":123,"levelType":"CIRCUIT","levelValue":"SV4:01:000001","isAlarm":"false","kva":1.5,` +
		`"amps":"NA","soldKva":null,"powerFactor":"0.98","readingTime":1552275932446,"lastUpdatedTime":"1552275932446",` +
		`"comparisonData":{"datapoint":"percentageKva","yesterday":1,"lastweek":"NA"},"customerName":"ACME","extra":{"a":[1,{"b":"]}"}]}}`,
	`{"IBX":"CH1","LEVELTYPE":"cage","levelvalue":"CH1:05:000100","Kva":2,"kva":3}`,      // case-insensitive, later wins
	`{"ibx":"a\"b\\u00e9","cage":"x\ny","description":"\u00e9t\u00e9","type":"primary"}`, // escapes
	`{"ibx":null,"cage":null,"comparisonData":null}`,
	`{"ibx":12,"kva":1,"cage":true}`,             // wrong type: reported, the rest decoded
	`{"ibx":"A","kva":{"x":1},"amps":2}`,         // a loose type's error stops the decoding
	`{"comparisonData":"x","kva":1}`,             // wrong type of a nested object
	`{"comparisonData":{"datapoint":5},"kva":1}`, // wrong type inside it
	`{"readingTime":"Currently Active","peakKvaLastSevenDaysTime":"Sep 16,2016 04:41 PM"}`,
	`{"datapoint":"percentageKva","yesterday":-0.106,"lastweek":"NA","lastmonth":null,"LastQuarter":"2.964","lastquarter":3}`, // a comparison
	`{"datapoint":["x"],"yesterday":1,"lastweek":{}}`, `{"yesterday":true,"datapoint":"kva","lastmonth":"1"}`,
	`[1,2]`, `"x"`, `null`, `{}`, ` { "ibx" : "SV4" , "kva" : -1.5e3 } `,
	`{"tagId":"CH1.Gen-1:fuelhours","tagDisplayName":"Fuel Hours","value":"175.334","uom":"Hours","alarmStatus":"NORMAL","readingTime":"20190324023353"}`,
	`{"TAGID":"x","value":null,"readingTime":null,"uom":7}`,
	`{"ibx":"SV4","zone":"ALL","cage":"SV4:01:000001","cabinet":"ALL","sensor":"ALL","temperature":21.5,"humidity":"NA","timestamp":1552275932446,"temperatureUom":"F","humidityUom":"%","minTemperature":"1"}`,
	"{\"ibx\":\"\xff\xfe\",\"zone\":\"\u2028\"}", // invalid UTF-8 is replaced as encoding/json does
	// Asset details with their tags.
	`{"assetId":"CH1.Gen-1","assetType":"Generator","userPrefTimeZone":"America/Chicago","tags":[` +
		`{"tagId":"CH1.Gen-1:fuelhours","value":"175.334","uom":"Hours","readingTime":"20190324023353"},` +
		`{"tagId":"CH1.Gen-1:state","value":"NORMAL","alarmStatus":"NORMAL"}],` +
		`"lastMaintenanceDate":"2019-03-01","manufacturerName":"CAT","alarmLastTriggeredTime":null}`,
	`{"assetId":"a","tags":[]}`, `{"assetId":"a","tags":null}`, `{"tags":[null,{"tagId":"x"},null]}`,
	`{"tags":"x","assetId":"a"}`, `{"tags":{"tagId":"x"},"assetId":"a"}`, `{"tags":5}`, `{"tags":true}`, // the wrong type: reported after the rest
	`{"tags":[{"tagId":1},{"tagId":"b"}],"assetId":"a"}`, `{"tags":[5],"assetId":"a"}`, `{"tags":[{"value":{}}],"assetId":"a"}`, // an element's error stops
	`{"tags":[{"tagId":"a","uom":"x"},{"tagId":"b","uom":"y"},{"tagId":"c"}],"TAGS":[{"tagId":"d"},{"value":"2"}]}`, // later duplicate: shorter, into the earlier elements
	`{"tags":[{"tagId":"a","uom":"x"}],"tags":[{"tagId":"d"},{"value":"2"},{"uom":"z"}]}`,                           // longer
	`{"tags":[{"tagId":"a","uom":"x"},{"tagId":"b"}],"tags":[],"tags":[{"value":"1"}]}`,
	`{"tags":[{"tagId":"a"}],"tags":null,"tags":[{"value":"1"}]}`,
	`{"tags":[{"tagId":"a"},{"tagId":"b","uom":"y"},{"tagId":"c"}],"tags":[{"value":"1"}],"tags":[{},{"value":"2"},{}]}`, // within the earlier capacity
	`{"tags":[{"tagId":"a"},{"tagId":"b","uom":"y"},{"tagId":"c"}],"tags":[{"value":"1"}],"tags":[{},{"tagId":5},{}]}`,
	`{"tags":[{"tagId":"a"},{"tagId":"b"}],"manufacturerName":7,"tags":[{"tagId":"c"},{"tagId":[]}],"assetId":"x"}`,
	`{"assetId":5,"tags":[{"tagId":"a"}]}`, `{"lastMaintenanceDate":{},"tags":[{"tagId":"a"}]}`,
	// Affected locations, as the documentation's and the 2024 description's answers carry them.
	`{"cages":[{"name":"CH1:05:000550","type":"cage","cabinets":[{"name":"CH1:05:000550:0101","type":"cabinet",` +
		`"circuits":[{"name":"CH1:05:000550:0101:A","type":"circuit"},{"name":12345,"type":"circuit"}]}],"circuits":[]}],` +
		`"circuits":[{"name":"99001","type":"circuit"}]}`,
	`{"name":"x","type":"cage","cabinets":null,"circuits":[{"name":null},{"type":5}]}`, `{"cages":"x","circuits":[{}]}`,
	`{"cages":[{"name":{}},{"name":"b"}]}`, `{"cages":[{"cabinets":[{"circuits":[1]}]}]}`, `{"CAGES":[{"Name":"a","TYPE":"cage"}],"cages":[{"type":"c"}]}`,
}

func (c *tablePowerComparison) UnmarshalJSON(data []byte) error {
	return comparisonFields.decode(data, (*PowerComparison)(c))
}

func TestReadingDecodersMatchReflection(t *testing.T) {
	for _, s := range readingObjects {
		sameDecoding[Power, reflectPower](t, []byte(s))
		sameDecoding[tablePowerComparison, PowerComparison](t, []byte(s))
		sameDecoding[TagPoint, reflectTagPoint](t, []byte(s))
		sameDecoding[Environment, reflectEnvironment](t, []byte(s))
		sameDecoding[AssetDetails, reflectAssetDetails](t, []byte(s))
		sameDecoding[AffectedLocations, reflectAffectedLocations](t, []byte(s))
		sameDecoding[AffectedLocation, reflectAffectedLocation](t, []byte(s))
	}
	// In a list, as the answers carry them: the element's errors name its field.
	for _, s := range []string{`{"tags":[{"tagId":1}]}`, `{"tags":[{"value":{}}]}`} {
		var got AssetDetails
		err := json.Unmarshal([]byte(s), &got)
		if err == nil {
			t.Errorf("%s: no error", s)
		}
	}
	var d AssetDetails
	if err := json.Unmarshal([]byte(`{"tags":[{"tagId":1}]}`), &d); err == nil || !bytes.Contains([]byte(err.Error()), []byte("tags.tagId")) {
		t.Errorf("a tag's wrong field: %v, want it named tags.tagId", err)
	}
}

// trendingObjects are trending payloads and samples: power and tags list "data", environment
// "series" with modifiers; and the shapes a decoder must agree with encoding/json on.
var trendingObjects = []string{
	`{"ibx":"SV4","levelType":"CIRCUIT","levelValue":"SV4:01:000001","interval":"5m","uom":"kVA","data":[` +
		`{"datetime":1552275932446,"value":1.5},{"datetime":"1552276232446","value":"NA"},{"datetime":"Mar 11,2019 03:45 AM","value":null}]}`,
	`{"ibx":"SV4","datapoint":"temperature","levelType":"CAGE","levelValue":"SV4:01:000001","interval":"reading","uom":"F","series":[` +
		`{"datetime":1552275932446,"value":71.2,"modifiers":["recorded"]},{"datetime":1552276232446,"value":71.4,"modifiers":[]},` +
		`{"datetime":1552276532446,"value":71.4,"modifiers":null},{"datetime":1552276832446,"value":"71.5","modifiers":["a","b","c"]}]}`,
	`{"ibx":"CH1","tagId":"CH1.Gen-1:fuelhours","tagDisplayName":"Fuel Hours","dataType":"Float","interval":"1h","levelValue":5,"data":[` +
		`{"datetime":"20190324023353","value":"175.334"}],"series":[]}`,
	`{"data":null,"series":null}`, `{"data":[],"series":[{}]}`, `{"DATA":[{"DateTime":1}],"Series":[{"VALUE":2}]}`,
	`{"data":"x","ibx":"A"}`, `{"data":5}`, `{"series":{"value":1},"ibx":"A"}`, // the wrong type: reported after the rest
	`{"data":[5],"ibx":"A"}`, `{"data":[{"value":{}}],"ibx":"A"}`, `{"data":[{"datetime":[]}],"uom":"x"}`, // an element's error stops
	`{"data":[{"value":1},{"value":2},{"value":3}],"data":[{"datetime":1},{"modifiers":["x"]}]}`, // later duplicate: shorter
	`{"data":[{"value":1}],"data":[{"datetime":1},{"value":2},{}]}`,                              // longer
	`{"data":[{"value":1},{"value":2},{"value":3}],"data":[{"value":4}],"data":[{},{"datetime":5},{}]}`,
	`{"series":[{"modifiers":["a","b","c"],"modifiers":["d"]}]}`, `{"series":[{"modifiers":["a","b","c"],"modifiers":[null,"e",null,null]}]}`,
	`{"series":[{"modifiers":["a","b"],"modifiers":[]}]}`, `{"series":[{"modifiers":["a"],"modifiers":null,"modifiers":[null]}]}`,
	`{"series":[{"modifiers":["a",5,"b",{},[],true,"c"],"value":1}]}`, `{"series":[{"modifiers":"x","value":1}]}`, `{"series":[{"modifiers":{},"value":1}]}`,
	`{"series":[{"modifiers":["\u00e9\n","x\"y"]}]}`, "{\"series\":[{\"modifiers\":[\"\xff\"]}]}",
	`{"ibx":7,"uom":true,"data":[{"value":1}]}`, `{"levelValue":{},"data":[{"value":1}]}`,
	`[1]`, `"x"`, `null`, `{}`, ` { "interval" : "5m" , "data" : [ { "value" : -1.5e3 , "datetime" : 1 } ] } `,
}

// TestTrendingDecodersMatchReflection: the trending payload and its samples decode by their member
// tables exactly as encoding/json decodes the same structs by their tags, results and errors.
func TestTrendingDecodersMatchReflection(t *testing.T) {
	for _, s := range append(trendingObjects, readingObjects...) {
		sameDecoding[trendPayload, reflecttrendPayload](t, []byte(s))
		sameDecoding[trendValue, reflecttrendValue](t, []byte(s))
	}
	// Every sample of the payloads alone.
	for _, s := range trendingObjects {
		var raw struct{ Data, Series []json.RawMessage }
		if json.Unmarshal([]byte(s), &raw) == nil {
			for _, v := range append(raw.Data, raw.Series...) {
				sameDecoding[trendValue, reflecttrendValue](t, v)
			}
		}
	}
}

// TestTrendingAnswersMatchReflection: a trending answer decodes through the client's path
// (decodeEnveloped, whose payload decoder calls a payload's own UnmarshalJSON) exactly as the same
// struct without methods decodes through json.Unmarshal, in every answer shape of listBodies
// (errors before, in and after the payload) and as the bare payload.
func TestTrendingAnswersMatchReflection(t *testing.T) {
	for _, s := range trendingObjects {
		bodies := [][]byte{[]byte(`{"payLoad":` + s + `,"status":{"statuscode":"1000"}}`), []byte(`{"payLoad":` + s + `,"status":{"statuscode":1000,}}`),
			[]byte(`{"payLoad":` + s + `}}`), []byte(`{"payLoad":` + s), []byte(s)}
		for _, body := range append(bodies, listBodies(s)...) {
			var got trendPayload
			var want reflecttrendPayload
			gotErr := decodeEnveloped(bytes.NewReader(body), &got)
			wantErr := decodeEnveloped(bytes.NewReader(body), &want)
			if g, w := fmt.Sprint(gotErr), strings.ReplaceAll(fmt.Sprint(wantErr), "reflecttrendPayload", "trendPayload"); g != w {
				t.Fatalf("%s:\nerror %v\nwant  %v", body, g, w)
			}
			if !reflect.DeepEqual(got, trendPayload(want)) {
				t.Fatalf("%s:\ngot  %+v\nwant %+v", body, got, want)
			}
		}
	}
}

// TestMemberLookup: every member is found by its name, exactly and in another case, through the
// slots or the map; a name that is not a member is not.
func TestMemberLookup(t *testing.T) {
	check := func(names []string, lookup func([]byte) (int, bool)) {
		for i, n := range names {
			for _, k := range []string{n, strings.ToUpper(n), strings.ToLower(n)} {
				if j, ok := lookup([]byte(k)); !ok || !strings.EqualFold(names[j], k) || (k == n && j != i) {
					t.Errorf("%q: member %d %v, want %d", k, j, ok, i)
				}
			}
			if _, ok := lookup([]byte(n + "x")); ok {
				t.Errorf("%q found", n+"x")
			}
		}
	}
	check(powerFields.names, powerFields.lookupBytes)
	check(tagPointFields.names, tagPointFields.lookupBytes)
	check(environmentFields.names, environmentFields.lookupBytes)
	check(assetDetailsFields.names, assetDetailsFields.lookupBytes)
	check(trendPayloadFields.names, trendPayloadFields.lookupBytes)
	check(trendValueFields.names, trendValueFields.lookupBytes)
	many := map[string]func(*Power) any{}
	for i := range 200 {
		many[fmt.Sprint("m", i)] = func(p *Power) any { return &p.IBX }
	}
	f := newObjectFields(many)
	check(f.names, f.lookupBytes)
}

// TestElements checks the count that sizes a decoded list: every element counted once, whatever
// it holds, and a malformed array (commas alone, no end, an unterminated string) counted by the
// elements that can be read.
func TestElements(t *testing.T) {
	for _, tt := range []struct {
		array string
		want  int
	}{
		{`[]`, 0},
		{` [ ] `, 0},
		{`[1]`, 1},
		{`[1, "a,]", null ,true]`, 4},
		{`[{"a":[1,2,{"b":"}"}]}, {}, [[],[]], "\"],"]`, 4},
		{"[\n{\"tagId\":\"x\"},\n{\"tagId\":\"y\"}\n]", 2},
		{`[,,,,]`, 0},
		{`[1,2`, 2},
		{`["unterminated`, 0},
	} {
		if n := (scanner{data: []byte(tt.array), i: strings.IndexByte(tt.array, '[') + 1}).elements(); n != tt.want {
			t.Errorf("elements(%s) = %d, want %d", tt.array, n, tt.want)
		}
	}
	var d AssetDetails
	if err := d.UnmarshalJSON([]byte(`{"tags":[{"tagId":"a"},{"tagId":"b"},{"tagId":"c"}]}`)); err != nil {
		t.Fatal(err)
	}
	if len(d.Tags) != 3 || cap(d.Tags) != 3 {
		t.Errorf("tags: len %d cap %d, want 3 and 3", len(d.Tags), cap(d.Tags))
	}
}

func FuzzReadingDecoders(f *testing.F) {
	for _, s := range listElements {
		f.Add([]byte(s))
	}
	for _, s := range trendingObjects {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecoding[Power, reflectPower](t, data)
		sameDecoding[tablePowerComparison, PowerComparison](t, data)
		sameDecoding[TagPoint, reflectTagPoint](t, data)
		sameDecoding[Environment, reflectEnvironment](t, data)
		sameDecoding[AssetDetails, reflectAssetDetails](t, data)
		sameDecoding[AffectedLocations, reflectAffectedLocations](t, data)
		sameDecoding[AffectedLocation, reflectAffectedLocation](t, data)
		sameDecoding[trendPayload, reflecttrendPayload](t, data)
		sameDecoding[trendValue, reflecttrendValue](t, data)
		// Called directly with text encoding/json has not validated: an error, never a panic.
		var p Power
		_ = p.UnmarshalJSON(data)
		// In a list answer, through the list scanner and through encoding/json alone.
		// Whole, and in reads of sizes taken from the input (an element split anywhere).
		{
			sizes := []int{1, 7, 2}
			for _, b := range data[:min(len(data), 8)] {
				sizes = append(sizes, int(b)%64)
			}
			readers := func(body []byte) []io.Reader {
				return []io.Reader{bytes.NewReader(body), &chunkReader{data: body, sizes: sizes}}
			}
			bodies := listBodies(string(data))
			for _, body := range [][]byte{bodies[0], bodies[2], bodies[3], bodies[6], listBodies(string(data), string(data))[0], data} {
				sameListDecodingBy[Power](t, body, readers)
				sameListDecodingBy[TagPoint](t, body, readers)
				sameListDecodingBy[AssetDetails](t, body, readers)
			}
		}
	})
}

// BenchmarkDecodePowerList decodes a power list answer of 5,000 circuits, as a values cycle
// reads them (the large footprint: ~100,000 power readings a cycle): by reflection (the struct's
// tags, as before the table decoder) and by the table, in the same run.
func BenchmarkDecodePowerList(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"payLoad":{"data":[`)
	for i := range 5000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"ibx":"SV4","accountNo":"123","levelType":"CIRCUIT","levelValue":"SV4:01:%06d","isAlarm":false,`+
			`"kva":%d.25,"amps":12.5,"soldKva":5,"soldAmps":20,"cabinetRating":30,"contractualKva":5,"percentageKva":"41.2",`+
			`"primaryKva":1.2,"redundantKva":1.1,"kw":"NA","powerFactor":"NA","peakKvaLastSevenDays":2.5,`+
			`"peakKvaLastSevenDaysPercentage":50,"peakKvaLastSevenDaysContractualKva":5,"peakKvaLastSevenDaysTime":1552275932446,`+
			`"readingTime":1552275932446,"lastUpdatedTime":1552275932446,"customerName":"ACME",`+
			`"comparisonData":{"datapoint":"percentageKva","yesterday":-0.106,"lastweek":-0.034,"lastmonth":2.379,"lastquarter":2.964}}`, i, i%7)
	}
	buf.WriteString(`]},"status":{"statuscode":"1000","msg":"ok"}}`)
	data := buf.Bytes()
	b.Run("reflection", func(b *testing.B) { benchmarkDecodeList[reflectPower](b, data, false) })
	b.Run("fields", func(b *testing.B) { benchmarkDecodeList[Power](b, data, false) })
	b.Run("scanner", func(b *testing.B) { benchmarkDecodeList[Power](b, data, true) })
	// As the values cycle reads a power list (PowerListChunks): the chunks not joined.
	// As the values cycle reads a power list (PowerListChunks): the chunks not joined, and
	// released for the next list after it is applied.
	for _, pooled := range []bool{false, true} {
		var pool *chunkPool[Power]
		name := "scanner-chunks"
		if pooled {
			pool, name = new(chunkPool[Power]), "scanner-chunks-released"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				lr := &listReader[Power]{key: "data", pool: pool}
				if err := decodeAnswer(bytes.NewReader(data), lr.answer(true)); err != nil || len(lr.chunks()) != (5000+listChunk-1)/listChunk {
					b.Fatal(err, len(lr.chunks()))
				}
				if pool != nil {
					pool.put(lr.chunks())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5000, "ns/reading")
		})
	}
}

// BenchmarkDecodeAssetDetailsList decodes an asset details answer of 500 assets with 20 tag
// points each (the large footprint: ~10,000 assets, ~100,000 tag points a values cycle): by
// encoding/json's stream decoder and reflection (as main did before asset details had a member
// table; each tag point through TagPoint's table) and by the list scanner, in the same run.
func BenchmarkDecodeAssetDetailsList(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"payLoad":{"assetDetails":[`)
	for i := range 500 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"assetId":"SV4.UPS-%d","assetType":"UPS","userPrefTimeZone":"America/Los_Angeles","tags":[`, i)
		for j := range 20 {
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"value":"%d.%02d","tagId":"SV4.UPS-%d:tag%02d","tagDisplayName":"Tag %d","uom":"kW",`+
				`"alarmStatus":"NORMAL","readingTime":"20190324023353"}`, j*7, i%100, i, j, j)
		}
		buf.WriteString(`],"lastMaintenanceDate":"Mar 01,2019 10:00 AM","manufacturerName":"Eaton","equipmentModelNumber":"9395",` +
			`"equipmentSerialNumber":"SN123","alarmLastTriggeredTime":null,"alarmLastProcessedTime":null}`)
	}
	buf.WriteString(`]},"status":{"statuscode":"1000","msg":"ok"}}`)
	data := buf.Bytes()
	b.Run("reflection", func(b *testing.B) {
		benchmarkDecodeListKey[reflectAssetDetails](b, data, "assetDetails", 500, 10000, false)
	})
	b.Run("scanner", func(b *testing.B) { benchmarkDecodeListKey[AssetDetails](b, data, "assetDetails", 500, 10000, true) })
}

// benchmarkDecodeList decodes the list by encoding/json's stream decoder, or (scan) by the list
// scanner. It reports CPU per element beside ns/op.
func benchmarkDecodeList[T any](b *testing.B, data []byte, scan bool) {
	benchmarkDecodeListKey[T](b, data, "data", 5000, 5000, scan)
}

// benchmarkDecodeListKey decodes a list of n elements under key, reporting the CPU per reading
// (readings: the elements, or the tag points of n assets).
func benchmarkDecodeListKey[T any](b *testing.B, data []byte, key string, n, readings int, scan bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		lr := &listReader[T]{key: key}
		a := lr.answer(true)
		if !scan {
			a.src = nil
		}
		if err := decodeAnswer(bytes.NewReader(data), a); err != nil || len(lr.result()) != n {
			b.Fatal(err, len(lr.result()))
		}
		if scan && lr.scanned != n {
			b.Fatal("not read by the list scanner")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(readings), "ns/reading")
}

// sameListDecoding decodes body as a list answer in each shape, through the list scanner
// (listscan.go) and through encoding/json's stream decoder alone, read whole and a byte or a few
// bytes at a time (elements split across reads), and reports a difference in the list or the
// error (see sameListError).
func sameListDecoding[T any](t *testing.T, body []byte) {
	t.Helper()
	sameListDecodingBy[T](t, body, func(body []byte) []io.Reader {
		return []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body)),
			iotest.HalfReader(bytes.NewReader(body)), iotest.DataErrReader(bytes.NewReader(body))}
	})
}

// chunkReader returns its bytes in reads of the sizes given, in turn.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.sizes[c.i%len(c.sizes)])
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func sameListDecodingBy[T any](t *testing.T, body []byte, readers func([]byte) []io.Reader) {
	t.Helper()
	for _, key := range []string{"data", ""} {
		for _, enveloped := range []bool{true, false} {
			slow := &listReader[T]{key: key}
			sa := slow.answer(enveloped)
			sa.src = nil
			wantErr := decodeAnswer(bytes.NewReader(body), sa)
			for _, r := range readers(body) {
				fast := &listReader[T]{key: key}
				gotErr := decodeAnswer(r, fast.answer(enveloped))
				var skipped int64
				if fast.src != nil {
					skipped = fast.src.skipped
				}
				if msg := sameListError(gotErr, wantErr, skipped, len(body)); msg != "" {
					t.Fatalf("key %q enveloped %v %s:\n%s", key, enveloped, body, msg)
				}
				if !reflect.DeepEqual(fast.result(), slow.result()) {
					t.Fatalf("key %q enveloped %v %s:\ngot  %+v\nwant %+v", key, enveloped, body, fast.result(), slow.result())
				}
			}
		}
	}
}

var atByte = regexp.MustCompile(`at byte (\d+)`)

// sameListError compares the error of an answer read through the list scanner (got) with the
// error of encoding/json alone (want), and says how they differ ("" when they agree). Word for
// word when the scanner read nothing past the decoder (skipped 0); after a scanned list the
// decoder counts bytes it saw and the scanner adds those it read (listscan.go), so there the
// message is the same but for the offset, which must lie within the answer, not before
// encoding/json's, and equal to it for an early end (the decoder's own count of consumed bytes).
func sameListError(got, want error, skipped int64, size int) string {
	diff := fmt.Sprintf("error %v\nwant  %v", got, want)
	if fmt.Sprint(got) == fmt.Sprint(want) {
		return ""
	}
	if skipped == 0 || got == nil || want == nil || errors.Is(want, io.ErrUnexpectedEOF) {
		return diff
	}
	g, w := atByte.FindStringSubmatch(got.Error()), atByte.FindStringSubmatch(want.Error())
	if g == nil || w == nil || atByte.ReplaceAllString(got.Error(), "") != atByte.ReplaceAllString(want.Error(), "") {
		return diff
	}
	gotOff, _ := strconv.Atoi(g[1])
	wantOff, _ := strconv.Atoi(w[1])
	if gotOff < wantOff || gotOff > size {
		return diff + "\n(the offset is outside the answer or before encoding/json's)"
	}
	return ""
}

// listBodies wraps elements in the answers' shapes, well-formed and not.
func listBodies(elems ...string) [][]byte {
	list := strings.Join(elems, ",")
	var out [][]byte
	for _, f := range []string{
		`{"payLoad":{"data":[%s]},"status":{"statuscode":"1000","msg":"ok"}}`,
		`{"payLoad":[%s],"status":{"statuscode":"1000"}}`,
		`{"status":{"statuscode":"1000"},"payLoad":{"x":[1,[2]],"DATA":[ %s ] , "y":"[" }}`,
		`[%s]`,
		`{"data":[%s]}`,
		"{\"payLoad\":{\"data\":[\n%s\n]}, \"status\":{\"statuscode\":\"3001\",\"msg\":\"bad\"}}",
		`{"payLoad":{"data":[%s]},"status":{"statuscode":1000,}}`,    // an error after the list
		`{"payLoad":{"data":[%s]},"status":{"statuscode":"1000"}`,    // ends early after the list
		`{"payLoad":{"data":[%s]},"status":{"statuscode":"1000"}} x`, // trailing bytes
		`{"payLoad":{"data":[%s`, // ends in the list
		`{"payLoad":{"data":[%s}}`,
		`{"payLoad":{"data":[%s,]}}`,
		`{"payLoad":{"data":[%s 5]}}`,
		`{"payLoad":{"data":[%s.]}}`, `{"payLoad":{"data":[%se5]}}`, `{"payLoad":{"data":[%s"x"]}}`, // stuck to an element
		`{"payLoad":{"data":[%s,null,{"ibx":1}]}}`,
	} {
		out = append(out, []byte(fmt.Sprintf(f, list)))
	}
	return out
}

var listElements = append([]string{
	``, ` `,
	`{"ibx":"SV4","kva":1.5}` + strings.Repeat(`,{"ibx":"SV4","kva":1.5,"x":[{"y":"\u00e9\"\\"}]}`, 3),
	`{"extra":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `,"ibx":"deep"}`, // deeper than the scanner follows
	`{"extra":` + strings.Repeat(`{"a":`, 60) + `1` + strings.Repeat(`}`, 60) + `,"ibx":"deep"}`,
	`{"kva":123456789012345678901234567890e400,"amps":-0.0e-0,"soldKva":1E+2}`, // huge numbers
	`{"kva":01}`, `{"kva":1.}`, `{"kva":-}`, `{"kva":1e}`, `{"kva":.5}`, `{"kva":+1}`,
	`{"ibx":"\ud800\udc00\u0041"}`, `{"ibx":"\x"}`, `{"ibx":"\u12"}`, "{\"ibx\":\"a\tb\"}", "{\"ibx\":\"\xff\"}",
	`{"ibx":tru}`, `{"ibx":nul}`, `{"ibx":true,"isAlarm":false,"cage":null}`,
	`{"ibx" "x"}`, `{"ibx":"x",}`, `{,}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a"}`,
	`{"kva":{}}`, `{"ibx":5}`, `{"ibx":"a"} {"ibx":"b"}`,
	`{"tagId":"t","value":"1.5","readingTime":"20190324023353"}`,
}, readingObjects...)

func TestListScannerMatchesDecoder(t *testing.T) {
	for _, e := range listElements {
		for _, body := range listBodies(e) {
			sameListDecoding[Power](t, body)
			sameListDecoding[TagPoint](t, body)
			sameListDecoding[Environment](t, body)
			sameListDecoding[AssetDetails](t, body)
			sameListDecoding[Alarm](t, body) // decodes itself, without a member table
		}
		for _, body := range listBodies(e, e, `{"ibx":"last"}`) {
			sameListDecoding[Power](t, body)
		}
	}
	// Lists longer than a chunk (listChunk), read whole by the scanner, or handed to encoding/json
	// past the first chunk (a null element), or failing there.
	many := make([]string, 3*listChunk+5)
	for i := range many {
		many[i] = fmt.Sprintf(`{"ibx":"SV%d","kva":%d.5}`, i, i)
	}
	for _, null := range []bool{false, true} {
		if null {
			many[listChunk+3] = `null`
		}
		body := listBodies(many...)[0]
		sameListDecoding[Power](t, body)
		var want []Power // the list as encoding/json reads it whole
		if err := json.Unmarshal([]byte("["+strings.Join(many, ",")+"]"), &want); err != nil {
			t.Fatal(err)
		}
		lr := &listReader[Power]{key: "data"}
		if err := decodeAnswer(bytes.NewReader(body), lr.answer(true)); err != nil || !reflect.DeepEqual(lr.result(), want) {
			t.Errorf("a list of %d elements (null %v): %v, got %d elements, want %d", len(many), null, err, len(lr.result()), len(want))
		}
	}
	many[2*listChunk+1] = `{"ibx":5,"kva":1}`
	sameListDecoding[Power](t, listBodies(many...)[0])
	// An element larger than the scanner's window, split across reads.
	big := `{"ibx":"SV4","extra":"` + strings.Repeat("x", 100<<10) + `","kva":2}`
	for _, body := range listBodies(big, big) {
		sameListDecoding[Power](t, body)
	}
}

// TestListScannerReadsOnce: the elements of a well-formed list are read by the scanner, up to
// one it hands to encoding/json; a list after a bare '[' too.
func TestListScannerReadsOnce(t *testing.T) {
	for _, c := range []struct {
		body    string
		scanned int
		list    int
	}{
		{`{"payLoad":{"data":[{"ibx":"A"},{"ibx":"B"}]},"status":{"statuscode":"1000"}}`, 2, 2},
		{`{"payLoad":{"x":[1],"data":[{"ibx":"A"}, {"ibx":"B", "kva":{}}, {"ibx":"C"}]}}`, 1, 1},
		{`{"payLoad":{"data":[{"ibx":"A"},null,{"ibx":"C"}]}}`, 1, 3},
		{`[{"ibx":"A"},{"ibx":"B"}]`, 2, 2},
	} {
		lr := &listReader[Power]{key: "data"}
		err := decodeAnswer(strings.NewReader(c.body), lr.answer(false))
		if lr.scanned != c.scanned || len(lr.result()) != c.list {
			t.Errorf("%s: scanned %d of %d elements (%v), want %d of %d", c.body, lr.scanned, len(lr.result()), err, c.scanned, c.list)
		}
	}
}

// mainTrendPayload is trendPayload as main decoded it: json.Unmarshal by reflection, samples
// included (reflecttrendPayload's samples decode by their own table).
type mainTrendPayload struct {
	IBX            string              `json:"ibx"`
	Interval       string              `json:"interval"`
	UOM            string              `json:"uom"`
	DataPoint      string              `json:"datapoint"`
	TagID          string              `json:"tagId"`
	TagDisplayName string              `json:"tagDisplayName"`
	DataType       string              `json:"dataType"`
	LevelType      string              `json:"levelType"`
	LevelValue     Text                `json:"levelValue"`
	Data           []reflecttrendValue `json:"data"`
	Series         []reflecttrendValue `json:"series"`
}

// BenchmarkDecodeTrending decodes a trending answer as the history backfill asks for it (7 days at
// 5 minutes: 2,016 samples; environment, with modifiers) through the client's path: by reflection
// as before, and by the member tables, in the same run. It reports CPU per sample beside ns/op.
func BenchmarkDecodeTrending(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"payLoad":{"ibx":"SV4","datapoint":"temperature","levelType":"CAGE","levelValue":"SV4:01:000001","interval":"5m","uom":"F","series":[`)
	for i := range 2016 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"datetime":%d,"value":%d.%d,"modifiers":["recorded"]}`, 1552275932446+int64(i)*300000, 60+i%20, i%10)
	}
	buf.WriteString(`]},"status":{"statuscode":"1000","msg":"ok"}}`)
	data := buf.Bytes()
	run := func(b *testing.B, decode func() error) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		cpu0 := cpuNow()
		for b.Loop() {
			if err := decode(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuNow()-cpu0).Nanoseconds())/float64(b.N*2016), "cpu-ns/sample")
	}
	b.Run("reflection", func(b *testing.B) {
		run(b, func() error { var p mainTrendPayload; return decodeEnveloped(bytes.NewReader(data), &p) })
	})
	b.Run("tables", func(b *testing.B) {
		run(b, func() error { var p trendPayload; return decodeEnveloped(bytes.NewReader(data), &p) })
	})
}

// cpuNow is the test process's utime+stime.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeAffectedLocations decodes one affected-assets answer as the links pass reads one
// per asset (here 4 cages of 10 cabinets of 4 circuits): by reflection (a mirror of the types
// without their decoders, as before the member tables) and by the tables, in the same run.
func BenchmarkDecodeAffectedLocations(b *testing.B) {
	type mirror struct {
		Name     Text     `json:"name"`
		Type     string   `json:"type"`
		Cabinets []mirror `json:"cabinets,omitempty"`
		Circuits []mirror `json:"circuits,omitempty"`
	}
	type mirrors struct {
		Cages    []mirror `json:"cages"`
		Circuits []mirror `json:"circuits,omitempty"`
	}
	var buf bytes.Buffer
	buf.WriteString(`{"payLoad":{"cages":[`)
	for c := range 4 {
		if c > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"name":"SV4:01:%06d","type":"cage","cabinets":[`, c)
		for k := range 10 {
			if k > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"name":"SV4:01:%06d:%04d","type":"cabinet","circuits":[`, c, k)
			for r := range 4 {
				if r > 0 {
					buf.WriteByte(',')
				}
				fmt.Fprintf(&buf, `{"name":"SV4%03d%02d%d","type":"circuit"}`, c, k, r)
			}
			buf.WriteString(`]}`)
		}
		buf.WriteString(`]}`)
	}
	buf.WriteString(`]},"status":{"statuscode":"1000","msg":"ok"}}`)
	data := buf.Bytes()
	b.Run("reflection", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m mirrors
			if err := decodeEnveloped(bytes.NewReader(data), &m); err != nil || len(m.Cages) != 4 {
				b.Fatal(err)
			}
		}
	})
	b.Run("tables", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var l AffectedLocations
			if err := decodeEnveloped(bytes.NewReader(data), &l); err != nil || len(l.Cages) != 4 || len(l.Cages[3].Cabinets[9].Circuits) != 4 {
				b.Fatal(err)
			}
		}
	})
}
