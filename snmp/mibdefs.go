package snmp

import (
	"github.com/gosnmp/gosnmp"
)

// The Go definitions of the MIB objects are generated from
// mibs/SVGATEWAY-MIB.txt (and the few objects of the IETF base MIBs the
// agent serves) by internal/mibgen, which reads the MIB with libsmi's
// smidump; mib_gen.go is committed. TestGeneratedDefinitionsCurrent fails
// when it is out of date. Regenerate with the base MIBs test/run.sh unpacks
// ($SVGATEWAY_BASE_MIBS, else test/.cache/base-mibs): go generate ./snmp
//
//go:generate go run ./internal/mibgen -mib ../mibs/SVGATEWAY-MIB.txt -o mib_gen.go

// Access is the MAX-ACCESS of an object.
type Access uint8

// Access values.
const (
	NotAccessible Access = iota + 1
	AccessibleForNotify
	ReadOnly
	ReadWrite
	ReadCreate
)

// Object is an OBJECT-TYPE of a MIB module (a scalar or a column).
type Object struct {
	Module string // "SVGATEWAY-MIB"
	Name   string // "svgPowerKva"
	OID    OID
	// Scalar: the object has the single instance .0; otherwise it is a
	// column whose instances are OID.index.
	Scalar bool
	// Type is the BER type of the object's values on the wire.
	Type gosnmp.Asn1BER
	// Syntax is the syntax as the MIB writes it ("SvgThousandths",
	// "SnmpAdminString", "Unsigned32").
	Syntax string
	Access Access
}

// Notification is a NOTIFICATION-TYPE: the value of snmpTrapOID.0 and the
// objects whose instances follow sysUpTime.0 and snmpTrapOID.0, in order.
type Notification struct {
	Name    string
	OID     OID
	Objects []*Object
}

// RootOID returns the OID of the SVGATEWAY-MIB module identity, under which
// everything the gateway defines lives. It is defined once, in the MIB file.
func RootOID() OID { return rootOID.Append() }

// Objects returns every object the Go code knows, in OID order. Do not
// modify them.
func Objects() []*Object { return allObjects }

// Notifications returns the notifications of SVGATEWAY-MIB, in OID order.
func Notifications() []*Notification { return allNotifications }

// LookupObject returns the object with this MIB name.
func LookupObject(name string) (*Object, bool) {
	for _, o := range allObjects {
		if o.Name == name {
			return o, true
		}
	}
	return nil, false
}
