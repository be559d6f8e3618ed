package smartview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNumberDecode(t *testing.T) {
	tests := []struct {
		in    string
		value float64
		valid bool
		text  string
	}{
		{`175.334`, 175.334, true, "175.334"},
		{`"175.334"`, 175.334, true, "175.334"},
		{`"21.0"`, 21, true, "21.0"},
		{`"0"`, 0, true, "0"},
		{`-0.106`, -0.106, true, "-0.106"},
		{`1e3`, 1000, true, "1e3"},
		{`" 4.9 "`, 4.9, true, " 4.9 "},
		{`"NA"`, 0, false, "NA"},
		{`""`, 0, false, ""},
		{`null`, 0, false, ""},
		{`"NORMAL"`, 0, false, "NORMAL"},
		{`"READY TO START, AUTO"`, 0, false, "READY TO START, AUTO"},
		{`"4.\u0035"`, 4.5, true, "4.5"},
		{`"NaN"`, 0, false, "NaN"},
		{`"Inf"`, 0, false, "Inf"},
	}
	for _, tt := range tests {
		var n Number
		if err := json.Unmarshal([]byte(tt.in), &n); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if n.Value != tt.value || n.Valid != tt.valid || n.Text != tt.text {
			t.Errorf("%s: got {%v %v %q}, want {%v %v %q}", tt.in, n.Value, n.Valid, n.Text, tt.value, tt.valid, tt.text)
		}
		out, err := json.Marshal(n)
		if err != nil || string(out) != tt.in && !strings.Contains(tt.in, `\u`) {
			t.Errorf("%s: marshals to %s, %v", tt.in, out, err)
		}
	}
	for _, bad := range []string{`{}`, `[1]`, `true`, `"`, `"abc`, `"a"b"`} {
		var n Number
		if err := json.Unmarshal([]byte(bad), &n); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if out, _ := json.Marshal(Number{Value: 2.5, Valid: true}); string(out) != "2.5" {
		t.Errorf("Number built in code marshals to %s", out)
	}
}

func TestBoolDecode(t *testing.T) {
	tests := []struct {
		in           string
		value, valid bool
	}{
		{`true`, true, true},
		{`false`, false, true},
		{`"true"`, true, true},
		{`"FALSE"`, false, true},
		{`"1"`, true, true},
		{`0`, false, true},
		{`null`, false, false},
		{`""`, false, false},
		{`"maybe"`, false, false},
	}
	for _, tt := range tests {
		var b Bool
		if err := json.Unmarshal([]byte(tt.in), &b); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if b.Value != tt.value || b.Valid != tt.valid {
			t.Errorf("%s: got {%v %v}, want {%v %v}", tt.in, b.Value, b.Valid, tt.value, tt.valid)
		}
	}
	var b Bool
	if err := json.Unmarshal([]byte(`{"a":1}`), &b); err == nil {
		t.Error("object: no error")
	}
}

func TestTextDecode(t *testing.T) {
	for in, want := range map[string]Text{`"1"`: "1", `1234`: "1234", `null`: "", `true`: "true", `"CH1"`: "CH1"} {
		var got Text
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
	var x Text
	if err := json.Unmarshal([]byte(`[1]`), &x); err == nil {
		t.Error("array: no error")
	}
}

func TestTimeDecode(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*int(time.Millisecond), time.UTC)
	}
	tests := []struct {
		in       string
		want     time.Time // zero: not Valid
		active   bool
		zoneless bool
		unknown  bool
	}{
		{in: `"Sep 16,2016 04:41 PM"`, want: utc(2016, 9, 16, 16, 41, 0, 0), zoneless: true},
		{in: `"Oct 04,2016 07:54 AM"`, want: utc(2016, 10, 4, 7, 54, 0, 0), zoneless: true},
		{in: `"Sep 6, 2016 4:41 PM"`, want: utc(2016, 9, 6, 16, 41, 0, 0), zoneless: true},
		{in: `"Mar 17,2019"`, want: utc(2019, 3, 17, 0, 0, 0, 0), zoneless: true},
		{in: `"20190324023353"`, want: utc(2019, 3, 24, 2, 33, 53, 0), zoneless: true},
		{in: `1550519327497`, want: utc(2019, 2, 18, 19, 48, 47, 497)},
		{in: `"1552275932446"`, want: time.UnixMilli(1552275932446).UTC()},
		{in: `"1497410400"`, want: utc(2017, 6, 14, 3, 20, 0, 0)}, // seconds, as one docs table shows
		{in: `"2019-03-24T03:33:54Z"`, want: utc(2019, 3, 24, 3, 33, 54, 0)},
		{in: `"2019-03-24T03:33:54-05:00"`, want: utc(2019, 3, 24, 8, 33, 54, 0)},
		{in: `"Currently Active"`, active: true},
		{in: `"currently active"`, active: true},
		{in: `"Dec 31,1969 07:00 PM"`},
		{in: `"Jan 01,1970 12:00 AM"`},
		{in: `0`},
		{in: `"0"`},
		{in: `null`},
		{in: `""`},
		{in: `"NA"`},
		{in: `"next Tuesday"`, unknown: true},
		{in: `"99999999999999999999"`, unknown: true},
	}
	for _, tt := range tests {
		var tm Time
		if err := json.Unmarshal([]byte(tt.in), &tm); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if tm.Valid != !tt.want.IsZero() || !tm.Time.Equal(tt.want) {
			t.Errorf("%s: got %v (valid %v), want %v", tt.in, tm.Time, tm.Valid, tt.want)
		}
		if tm.Active != tt.active || tm.Zoneless() != tt.zoneless || tm.Unrecognized() != tt.unknown {
			t.Errorf("%s: active %v zoneless %v unrecognized %v", tt.in, tm.Active, tm.Zoneless(), tm.Unrecognized())
		}
		var raw string
		if json.Unmarshal([]byte(tt.in), &raw) != nil {
			raw = tt.in // a JSON number
		}
		if tt.in != "null" && tm.Raw != raw {
			t.Errorf("%s: Raw %q", tt.in, tm.Raw)
		}
		if out, err := json.Marshal(tm); err != nil || string(out) != tt.in {
			t.Errorf("%s: marshals to %s, %v", tt.in, out, err)
		}
	}
	for _, bad := range []string{`{}`, `[]`, `false`} {
		var tm Time
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestTimeDigitsLayouts: an all-digit time of 12 or 14 digits is read by its one digit layout
// exactly as by trying every zone-less layout in turn (the others cannot match digits).
func TestTimeDigitsLayouts(t *testing.T) {
	for _, s := range []string{"20190324023353", "201903240233", "19700101000000", "196912311900", "20191332023353",
		"20190230120000", "20190324246060", "00000000000000", "99991231235959", "201903240260", "000000000000"} {
		var all, one Time
		okAll := all.parseZoneless(s, zonelessLayouts...)
		layout := "20060102150405"
		if len(s) == 12 {
			layout = "200601021504"
		}
		okOne := one.parseZoneless(s, layout)
		if okAll != okOne || all != one {
			t.Errorf("%s: every layout %v %+v, its own %v %+v", s, okAll, all, okOne, one)
		}
	}
}

// TestTimeDigitsAsTimeParse: parseDigits reads a 12- or 14-digit time as time.Parse with its
// layout does (the path it replaced), for every month and day around the ends of months in leap
// and common years (1900, 2000, 2024, 2100), each field at and past its range, and 200,000
// random digit strings.
func TestTimeDigitsAsTimeParse(t *testing.T) {
	check := func(s string) {
		t.Helper()
		layout := "20060102150405"
		if len(s) == 12 {
			layout = "200601021504"
		}
		var fast, old Time
		okFast, okOld := fast.parseDigits(s), old.parseZoneless(s, layout)
		if okFast != okOld || fast != old {
			t.Fatalf("%s: parseDigits %v %+v, time.Parse %v %+v", s, okFast, fast, okOld, old)
		}
	}
	n := 0
	for _, year := range []int{0, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999} {
		for month := 0; month <= 13; month++ {
			for day := 0; day <= 32; day++ {
				for _, hms := range []string{"000000", "235959", "240000", "236000", "235960", "120000"} {
					s := fmt.Sprintf("%04d%02d%02d%s", year, month, day, hms)
					check(s)
					check(s[:12])
					n += 2
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(14, 14))
	for i := 0; i < 100000; i++ {
		b := make([]byte, 14)
		for k := range b {
			b[k] = byte('0' + rng.IntN(10))
		}
		// Plausible fields half of the time, so that most strings parse.
		if i%2 == 0 {
			copy(b[4:], fmt.Sprintf("%02d%02d%02d%02d%02d", 1+rng.IntN(12), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60)))
		}
		check(string(b))
		check(string(b[:12]))
		n += 2
	}
	var tp Time
	if !tp.parseDigits("20240229235959") || !tp.Valid || tp.Time != time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC) {
		t.Errorf("20240229235959: %+v", tp)
	}
	t.Logf("%d strings", n)
}

// TestParseNumberAsParseFloat: parseNumber, which does not hand strconv.ParseFloat text that
// cannot be a finite number, gives what ParseFloat of the trimmed text with the finite check gave
// (the path it replaced) for words, signs, special values, hex and underscores, and 200,000 random
// strings over the characters that matter.
func TestParseNumberAsParseFloat(t *testing.T) {
	old := func(text string) (float64, bool) {
		v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v, true
		}
		return 0, false
	}
	check := func(s string) {
		t.Helper()
		gv, gok := parseNumber(s)
		wv, wok := old(s)
		if gok != wok || math.Float64bits(gv) != math.Float64bits(wv) {
			t.Fatalf("%q: parseNumber %v %v, ParseFloat %v %v", s, gv, gok, wv, wok)
		}
	}
	for _, s := range []string{"", " ", "NA", "N/A", "NORMAL", "-", "+", ".", "-.", "+.5", "-.5e3", "1", " 1.5 ", "\t-2\n", "+-1", "-+1",
		"inf", "-Inf", "+INF", "infinity", "NaN", "nan", "-nan", "1e400", "-1e400", "1e-400", "0x1p-2", "-0x1.8p1", "0x_1p0", "1_000",
		"0x", "0b101", "00012", "1.", ".e1", "1e", "1e+", "12abc", "\u0661", "\xff1", "1\x00", "175.334", "-0", "9007199254740993"} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(14, 15))
	const alphabet = "0123456789+-.eExXpPinfaINFA_ \t"
	for i := 0; i < 200000; i++ {
		b := make([]byte, 1+rng.IntN(8))
		for k := range b {
			b[k] = alphabet[rng.IntN(len(alphabet))]
		}
		check(string(b))
	}
}

func TestTimeInLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	zoneless := ParseTime("Feb 15,2019 02:59 AM", nil)
	if got, want := zoneless.InLocation(ny).Time, time.Date(2019, 2, 15, 7, 59, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("zone-less in New York: %v, want %v", got, want)
	}
	epoch := ParseTime("1550519327497", nil)
	if got := epoch.InLocation(ny).Time; !got.Equal(epoch.Time) {
		t.Errorf("epoch time moved by InLocation: %v -> %v", epoch.Time, got)
	}
	if got := ParseTime("Feb 15,2019 02:59 AM", ny).Time; !got.Equal(time.Date(2019, 2, 15, 2, 59, 0, 0, ny)) {
		t.Errorf("ParseTime with a location: %v", got)
	}
}

func TestSeverityDecode(t *testing.T) {
	tests := []struct {
		in    string
		level SeverityLevel
		code  int
		text  string
	}{
		{`"Urgent"`, SeverityUrgent, 0, "Urgent"},
		{`"high"`, SeverityHigh, 0, "high"},
		{`"Low"`, SeverityLow, 0, "Low"},
		{`"Informational"`, SeverityInformational, 0, "Informational"},
		{`800`, SeverityUrgent, 800, "800"},
		{`899`, SeverityUrgent, 899, "899"},
		{`"650"`, SeverityHigh, 650, "650"},
		{`400`, SeverityLow, 400, "400"},
		{`250`, SeverityInformational, 250, "250"},
		{`500`, SeverityUnknown, 500, "500"},
		{`"Weird"`, SeverityUnknown, 0, "Weird"},
		{`null`, SeverityUnknown, 0, ""},
	}
	for _, tt := range tests {
		var s Severity
		if err := json.Unmarshal([]byte(tt.in), &s); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if s.Level != tt.level || s.Code != tt.code || s.Text != tt.text {
			t.Errorf("%s: got %+v, want {%v %d %q}", tt.in, s, tt.level, tt.code, tt.text)
		}
	}
	if SeverityUrgent.String() != "Urgent" || SeverityLevel(9).String() != "SeverityLevel(9)" {
		t.Error("SeverityLevel.String")
	}
}

func BenchmarkDecodePowerHierarchy(b *testing.B) {
	data := docExample(b, "hierarchy_power.json")
	for b.Loop() {
		lr := &listReader[HierarchyNode]{}
		if err := decodeAnswer(bytes.NewReader(data), lr.answer(false)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeAlarmPage(b *testing.B) {
	data := docExample(b, "alarms.json")
	for b.Loop() {
		var page alarmPage
		if err := json.Unmarshal(data, &page); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	for b.Loop() {
		for _, s := range []string{"Sep 16,2016 04:41 PM", "20190324023353", "1552275932446", "Currently Active"} {
			ParseTime(s, nil)
		}
	}
}

// BenchmarkTimeDigits: a tag point's readingTime (yyyyMMddHHmmss) read by parseDigits and by
// time.Parse with its layout, in one run.
func BenchmarkTimeDigits(b *testing.B) {
	for _, v := range []struct {
		name  string
		parse func(*Time, string) bool
	}{
		{"time.Parse", func(t *Time, s string) bool { return t.parseZoneless(s, "20060102150405") }},
		{"parseDigits", (*Time).parseDigits},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var t Time
				if !v.parse(&t, "20261207061530") {
					b.Fatal("not parsed")
				}
			}
		})
	}
}
