// Package mibs embeds the MIB modules of svgateway, so the binary prints
// them re-rooted at the configured enterprise OID (svgateway mib). It holds
// the files only: the Go definitions of the objects are generated from them
// in package snmp.
package mibs

import _ "embed"

// SVGATEWAYMIB is the text of SVGATEWAY-MIB.txt, rooted at
// enterprises.32473 on the "::=" line of its MODULE-IDENTITY.
//
//go:embed SVGATEWAY-MIB.txt
var SVGATEWAYMIB []byte
