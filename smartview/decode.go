package smartview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The value types in this file absorb the API's loose typing: the same field arrives as a JSON
// number in one response and as a string in another, "NA" stands for "no value", and times come in
// half a dozen notations. Each type keeps what was received (Text, Raw) next to what it means, so
// nothing is lost when a value cannot be interpreted.

// Number is a numeric reading as the API sends it: a JSON number, a numeric string ("175.334",
// "21.0"), a non-numeric string ("NA", "NORMAL", "READY TO START, AUTO"), "" or null.
//
// Valid reports whether Value holds a finite number. Text is the value exactly as received
// (a number's literal, a string's content, "" for null), so string-valued tag points keep their
// text.
type Number struct {
	Value float64
	Valid bool
	Text  string

	quoted bool // received as a JSON string: MarshalJSON sends it back the same way
}

// UnmarshalJSON implements json.Unmarshaler. It fails only on JSON objects, arrays and booleans.
func (n *Number) UnmarshalJSON(data []byte) error {
	*n = Number{}
	sc, err := readScalar(data, "number", false)
	if err != nil || sc.null {
		return err
	}
	n.Text, n.quoted = sc.text, sc.quoted
	n.Value, n.Valid = parseNumber(n.Text)
	return nil
}

// parseNumber reads a reading's text as a finite float64 (false: it is not one). Text that cannot
// be one ("NA", "NORMAL", ""; anything whose first character after a sign is not a digit or a
// point: only "inf" and "nan" would parse, and they are not finite) is not handed to
// strconv.ParseFloat, whose error allocates a copy of the text (~11 MB a values cycle of the large
// profile, which sends "NA" for several power values).
func parseNumber(text string) (float64, bool) {
	s := strings.TrimSpace(text)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i >= len(s) || (s[i] != '.' && (s[i] < '0' || s[i] > '9')) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// MarshalJSON implements json.Marshaler: the value goes back out as it came in (string or number);
// a Number built in code (Text empty) is written as a JSON number, or null when not Valid.
func (n Number) MarshalJSON() ([]byte, error) {
	switch {
	case n.quoted:
		return json.Marshal(n.Text)
	case n.Text == "" && !n.Valid:
		return []byte("null"), nil
	case n.Text == "":
		return []byte(strconv.FormatFloat(n.Value, 'f', -1, 64)), nil
	case !n.Valid:
		return json.Marshal(n.Text)
	default:
		return []byte(n.Text), nil
	}
}

// String returns the text as received, or the formatted value for a Number built in code.
func (n Number) String() string {
	if n.Text == "" && n.Valid {
		return strconv.FormatFloat(n.Value, 'f', -1, 64)
	}
	return n.Text
}

// Bool is a boolean the API sends as true/false, "true"/"false", or null (power "isAlarm").
// Valid is false for null, "" and strings that are not a boolean; Text keeps a string as received.
type Bool struct {
	Value bool
	Valid bool
	Text  string
}

// UnmarshalJSON implements json.Unmarshaler. It fails only on JSON objects and arrays.
func (b *Bool) UnmarshalJSON(data []byte) error {
	*b = Bool{}
	sc, err := readScalar(data, "bool", true)
	if err != nil || sc.null {
		return err
	}
	if sc.quoted {
		b.Text = sc.text
	}
	switch strings.ToLower(strings.TrimSpace(sc.text)) {
	case "true", "yes", "y", "1":
		b.Value, b.Valid = true, true
	case "false", "no", "n", "0":
		b.Value, b.Valid = false, true
	}
	return nil
}

// MarshalJSON implements json.Marshaler: true, false, or null when not Valid.
func (b Bool) MarshalJSON() ([]byte, error) {
	if !b.Valid {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatBool(b.Value)), nil
}

// Text is an identifier the documentation types inconsistently (accountNo is "string" in one table
// and "number" in the next; subscriptionId likewise). It accepts a JSON string, number or boolean,
// keeping the literal text, and null as "". It marshals as a JSON string.
type Text string

// UnmarshalJSON implements json.Unmarshaler. It fails only on JSON objects and arrays.
func (t *Text) UnmarshalJSON(data []byte) error {
	sc, err := readScalar(data, "text", true)
	if err != nil {
		return err
	}
	*t = Text(sc.text)
	return nil
}

// Time is a point in time in any of the API's notations:
//
//	"Sep 16,2016 04:41 PM"     asset list and details (zone-less)
//	"Mar 17,2019"              lastMaintenanceDate (zone-less, date only)
//	"20190324023353"           tag point readingTime (zone-less)
//	"201701010004"             power trending datetime (zone-less, to the minute)
//	1550519327497, "1552275932446"   epoch milliseconds (alarms, environment, power)
//	"1497410400"               epoch seconds: numbers below 1e11 (the docs show such values)
//	"2019-03-24T02:33:53Z"     RFC 3339 ("format: date-time" in the feed schema)
//	0, "0", null, "", "NA"     unset
//	"Currently Active"         not a time: Active is set (an alarm that has not cleared)
//	"Dec 31,1969 07:00 PM"     epoch zero rendered in a US zone: unset
//
// Zone-less notations are read in UTC when decoded; the Client then re-reads them in the zone the
// response is in (see InLocation and Config.TimeZone). Epoch values are absolute.
//
// Valid reports whether Time holds an instant. Raw is the value as received (a number's literal,
// a string's content, "" for null), so an unrecognised notation is kept, not lost: Valid and
// Active are then false and Raw is non-empty (see Unrecognized).
type Time struct {
	Time   time.Time
	Valid  bool
	Active bool
	Raw    string

	zoneless     bool // Time's wall clock was read without a zone
	quoted       bool // received as a JSON string
	unrecognized bool // Raw is in no known notation
}

// Zone-less layouts, tried in order. "2" and "3" accept one or two digits.
var zonelessLayouts = []string{
	"Jan 2,2006 3:04 PM",
	"Jan 2,2006 15:04",
	"Jan 2,2006",
	"20060102150405",
	"200601021504",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// Unset times that came out as a wall clock near the epoch: "Dec 31,1969 07:00 PM" is epoch zero
// rendered in US Eastern time; any zone is within 14 hours of UTC.
const epochZeroSlack = 14 * time.Hour

// ParseTime interprets one time value as the API sends it (see Time); loc is the zone for zone-less
// notations (nil means UTC). It never fails: an unrecognised notation gives a Time with only Raw set.
func ParseTime(s string, loc *time.Location) Time {
	t := Time{Raw: s, quoted: true}
	t.parse()
	return t.InLocation(loc)
}

func (t *Time) parse() {
	s := strings.TrimSpace(t.Raw)
	switch strings.ToLower(s) {
	case "", "0", "null", "na", "n/a", "-":
		return
	case "currently active":
		t.Active = true
		return
	}
	if isDigits(s) {
		// Only the all-digit layouts can match digits: the others are not tried (their failures
		// were a third of decoding a tag point, whose readingTime is yyyyMMddHHmmss).
		if (len(s) == 14 || len(s) == 12) && t.parseDigits(s) { // yyyyMMddHHmm[ss] (ss: tag points; without: power trending), not epoch ms
			return
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.setEpoch(n)
		} else {
			t.unrecognized = true // out of range
		}
		return
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil { // 1.5503796e12
		t.unrecognized = v < math.MinInt64 || v > math.MaxInt64
		if !t.unrecognized {
			t.setEpoch(int64(v))
		}
		return
	}
	if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time, t.Valid = at, true
		return
	}
	t.unrecognized = !t.parseZoneless(strings.ReplaceAll(s, ", ", ","), zonelessLayouts...)
}

func (t *Time) setEpoch(n int64) {
	switch {
	case n <= 0:
		return
	case n < 1e11: // seconds: as milliseconds this would be before March 1973
		t.Time = time.Unix(n, 0).UTC()
	default:
		t.Time = time.UnixMilli(n).UTC()
	}
	t.Valid = true
}

// parseZoneless reads s by the first of layouts that matches; false when none does.
func (t *Time) parseZoneless(s string, layouts ...string) bool {
	for _, layout := range layouts {
		at, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t.setZoneless(at)
		return true
	}
	return false
}

func (t *Time) setZoneless(at time.Time) {
	if d := at.Sub(time.Unix(0, 0)); d > -epochZeroSlack && d < epochZeroSlack {
		return // epoch zero: unset
	}
	t.Time, t.Valid, t.zoneless = at, true, true
}

// parseDigits reads s, 12 or 14 ASCII digits, by the layout 200601021504 or 20060102150405 as
// time.Parse does (a tenth of its CPU: ~100,000 tag points a values cycle on the large profile
// carry one), false where time.Parse fails: a month, day, hour, minute or second out of range.
func (t *Time) parseDigits(s string) bool {
	num := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	year, month, day, hour, minute, sec := num(0)*100+num(2), num(4), num(6), num(8), num(10), 0
	if len(s) == 14 {
		sec = num(12)
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	// The day number from the civil date (H. Hinnant's days_from_civil), cheaper than time.Date's
	// normalization.
	y := year
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (month + 9) % 12 // March = 0
	doe := yoe*365 + yoe/4 - yoe/100 + (153*mp+2)/5 + day - 1
	days := int64(era)*146097 + int64(doe) - 719468
	t.setZoneless(time.Unix(days*86400+int64(hour*3600+minute*60+sec), 0).UTC())
	return true
}

// daysIn is the number of days of month in year, as time.Parse judges a day.
func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int((m-1)%7%2)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// UnmarshalJSON implements json.Unmarshaler. It fails only on JSON objects, arrays and booleans;
// a string in an unknown notation is kept in Raw.
func (t *Time) UnmarshalJSON(data []byte) error {
	*t = Time{}
	sc, err := readScalar(data, "time", false)
	if err != nil || sc.null {
		return err
	}
	t.Raw, t.quoted = sc.text, sc.quoted
	t.parse()
	return nil
}

// MarshalJSON implements json.Marshaler: Raw as received (string or number); a Time built in code
// (Raw empty) is written as epoch milliseconds, "Currently Active", or null.
func (t Time) MarshalJSON() ([]byte, error) {
	switch {
	case t.quoted:
		return json.Marshal(t.Raw)
	case t.Raw != "":
		return []byte(t.Raw), nil
	case t.Active:
		return []byte(`"Currently Active"`), nil
	case t.Valid:
		return []byte(strconv.FormatInt(t.Time.UnixMilli(), 10)), nil
	default:
		return []byte("null"), nil
	}
}

// InLocation returns t with a zone-less wall clock re-read in loc ("04:41 PM" in America/New_York
// rather than in UTC). Epoch and RFC 3339 times are absolute and come back unchanged, as does t
// when loc is nil.
func (t Time) InLocation(loc *time.Location) Time {
	if !t.zoneless || !t.Valid || loc == nil {
		return t
	}
	w := t.Time
	t.Time = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	return t
}

// Zoneless reports whether the time was sent without a zone, so its instant depends on the zone it
// was read in.
func (t Time) Zoneless() bool { return t.zoneless }

// Unrecognized reports whether Raw holds a value in none of the known notations.
func (t Time) Unrecognized() bool { return t.unrecognized }

// SeverityLevel is an alarm severity class.
type SeverityLevel int

// Severity classes, ordered: a higher level is more severe.
const (
	SeverityUnknown SeverityLevel = iota
	SeverityInformational
	SeverityLow
	SeverityHigh
	SeverityUrgent
)

var severityNames = [...]string{"Unknown", "Informational", "Low", "High", "Urgent"}

func (l SeverityLevel) String() string {
	if l < 0 || int(l) >= len(severityNames) {
		return "SeverityLevel(" + strconv.Itoa(int(l)) + ")"
	}
	return severityNames[l]
}

// Severity is an alarm or alert severity: a word in the REST API ("Urgent"), an integer in the
// feed (800–899 Urgent, 600–699 High, 400–499 Low, 200–299 Informational). Code is the integer
// when one was sent (0 otherwise); Text is the value as received. Anything unrecognised decodes to
// SeverityUnknown with Text kept, not to an error.
type Severity struct {
	Level SeverityLevel
	Code  int
	Text  string
}

// SeverityFromCode classifies a feed severity integer.
func SeverityFromCode(code int) SeverityLevel {
	switch {
	case code >= 800 && code <= 899:
		return SeverityUrgent
	case code >= 600 && code <= 699:
		return SeverityHigh
	case code >= 400 && code <= 499:
		return SeverityLow
	case code >= 200 && code <= 299:
		return SeverityInformational
	default:
		return SeverityUnknown
	}
}

// SeverityFromWord classifies a REST severity word ("Urgent", "High", "Low", "Informational"),
// case-insensitively. Other words are SeverityUnknown: the documentation names no others.
func SeverityFromWord(word string) SeverityLevel {
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "urgent":
		return SeverityUrgent
	case "high":
		return SeverityHigh
	case "low":
		return SeverityLow
	case "informational", "info":
		return SeverityInformational
	default:
		return SeverityUnknown
	}
}

// UnmarshalJSON implements json.Unmarshaler. It fails only on JSON objects, arrays and booleans.
func (s *Severity) UnmarshalJSON(data []byte) error {
	*s = Severity{}
	sc, err := readScalar(data, "severity", false)
	if err != nil || sc.null {
		return err
	}
	s.Text = sc.text
	if code, err := strconv.Atoi(strings.TrimSpace(s.Text)); err == nil {
		s.Code, s.Level = code, SeverityFromCode(code)
	} else if f, err := strconv.ParseFloat(strings.TrimSpace(s.Text), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1e9 {
		s.Code = int(f)
		s.Level = SeverityFromCode(s.Code)
	} else {
		s.Level = SeverityFromWord(s.Text)
	}
	return nil
}

// MarshalJSON implements json.Marshaler: the integer code when there is one, else the text, else
// the level's word.
func (s Severity) MarshalJSON() ([]byte, error) {
	switch {
	case s.Code != 0:
		return []byte(strconv.Itoa(s.Code)), nil
	case s.Text != "":
		return json.Marshal(s.Text)
	case s.Level != SeverityUnknown:
		return json.Marshal(s.Level.String())
	default:
		return []byte("null"), nil
	}
}

// scalar is one JSON scalar as the loose types read it.
type scalar struct {
	text   string // a string's content, or a number's (or boolean's) literal
	quoted bool   // it was a JSON string
	null   bool   // it was null (or empty)
}

// readScalar reads a JSON string, number, null, and with bools a boolean. Anything else (an
// object, an array) is an error prefixed with what.
func readScalar(data []byte, what string, bools bool) (scalar, error) {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		return scalar{null: true}, nil
	case data[0] == '"':
		// The common case, a string without escapes, is sliced out rather than decoded again.
		if len(data) >= 2 && data[len(data)-1] == '"' {
			if inner := data[1 : len(data)-1]; bytes.IndexAny(inner, `\"`) < 0 && utf8.Valid(inner) {
				return scalar{text: string(inner), quoted: true}, nil
			}
		}
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return scalar{}, fmt.Errorf("%s: %w", what, err)
		}
		return scalar{text: s, quoted: true}, nil
	case data[0] == '-' || (data[0] >= '0' && data[0] <= '9'),
		bools && (string(data) == "true" || string(data) == "false"):
		return scalar{text: string(data)}, nil
	default:
		return scalar{}, fmt.Errorf("%s: want a number or a string, got %s", what, excerpt(data))
	}
}

// excerpt quotes the start of a JSON value for an error message. Callers only pass wire values of
// the wrong JSON type, never request bodies or headers.
func excerpt(data []byte) string {
	const max = 40
	if len(data) > max {
		return strconv.Quote(string(data[:max])) + "..."
	}
	return strconv.Quote(string(data))
}
