package snmp

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// Varbind is one variable binding the gateway serves or sends: an instance
// OID, its BER type and its value in the form gosnmp.SnmpPDU.Value takes
// for that type: Integer: int; Counter32, Gauge32, TimeTicks: uint32;
// Counter64: uint64; OctetString: string or []byte; ObjectIdentifier: the
// dotted OID as a string; NoSuchObject, NoSuchInstance, EndOfMibView: nil.
type Varbind struct {
	OID   OID
	Type  gosnmp.Asn1BER
	Value any
}

// PDU returns the varbind as gosnmp encodes it.
func (vb Varbind) PDU() gosnmp.SnmpPDU {
	return gosnmp.SnmpPDU{Name: vb.OID.String(), Type: vb.Type, Value: vb.Value}
}

// exception returns a varbind carrying an SNMPv2 exception for oid.
func exception(oid OID, t gosnmp.Asn1BER) Varbind { return Varbind{OID: oid, Type: t} }

// maxAdminString is the size limit of SnmpAdminString (and DisplayString).
const maxAdminString = 255

// text returns s as an SnmpAdminString value: at most 255 octets, cut at a
// UTF-8 character boundary.
func text(s string) string {
	if len(s) <= maxAdminString {
		return s
	}
	cut := maxAdminString
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// epoch is what a DateAndTime column serves for a time the gateway does
// not know (the MIB's module description says so).
var epoch = time.Unix(0, 0).UTC()

// dateAndTime encodes t as an 11-octet DateAndTime in UTC.
func dateAndTime(t time.Time) []byte { return appendDate(make([]byte, 0, 11), dateOctets(t)) }

// Scales of the MIB's textual conventions.
const (
	thousandths = 1000 // SvgThousandths, DISPLAY-HINT "d-3"
	hundredths  = 100  // SvgHundredths, DISPLAY-HINT "d-2"
)

// quality maps a model quality to SvgQuality: NoComm is served as stale.
func quality(q model.Quality) int {
	switch q {
	case model.QualityGood:
		return svgQualityFresh
	case model.QualityStale, model.QualityNoComm:
		return svgQualityStale
	}
	return svgQualityUnavailable
}

// TruthValue (SNMPv2-TC).
const (
	truthTrue  = 1
	truthFalse = 2
)

func truth(b bool) int {
	if b {
		return truthTrue
	}
	return truthFalse
}

// okStatus maps SmartView's "OK" / "NOT OK" to SvgOkStatus.
func okStatus(s string) int {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "OK":
		return svgOkStatusOk
	case "NOT OK", "NOTOK", "NOT_OK":
		return svgOkStatusNotOk
	}
	return svgOkStatusUnknown
}

// role maps a circuit role to SvgRole.
func role(s string) int {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "primary":
		return svgRolePrimary
	case "redundant":
		return svgRoleRedundant
	}
	return svgRoleUnknown
}

// perceivedSeverity maps an alarm to SvgPerceivedSeverity (ITU).
func perceivedSeverity(a *model.Alarm) int {
	if a.State == model.AlarmCleared {
		return svgPerceivedSeverityCleared
	}
	switch a.Severity {
	case model.SeverityUrgent:
		return svgPerceivedSeverityCritical
	case model.SeverityHigh:
		return svgPerceivedSeverityMajor
	case model.SeverityLow:
		return svgPerceivedSeverityMinor
	case model.SeverityInformational:
		return svgPerceivedSeverityWarning
	}
	return svgPerceivedSeverityIndeterminate
}

// gauge clamps n into an Unsigned32/Gauge32 value.
func gauge[T ~int | ~int32 | ~int64 | ~uint64 | ~uint32](n T) uint32 {
	switch {
	case n < 0:
		return 0
	case uint64(n) > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(n)
}
