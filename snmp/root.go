package snmp

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/svgateway/svgateway/mibs"
)

// This file re-roots SVGATEWAY-MIB at run time: [snmp] enterprise_oid moves
// every object, notification and alarm type of the module under a site's
// own Private Enterprise Number, and ModuleText prints the MIB file with
// that root so the NMS loads a module consistent with what is served.

// DefaultEnterpriseOID is the root the MIB file is written with:
// enterprises.32473, the number IANA reserves for documentation (RFC 5612).
const DefaultEnterpriseOID = "1.3.6.1.4.1.32473"

// enterprises is SNMPv2-SMI's enterprises arc, under which a root must be.
var enterprises = OID{1, 3, 6, 1, 4, 1}

// ParseEnterpriseOID parses an enterprise_oid: a dotted OID under
// enterprises (1.3.6.1.4.1.PEN, optionally with arcs below the PEN).
func ParseEnterpriseOID(s string) (OID, error) {
	oid, err := ParseOID(s)
	if err != nil {
		return nil, err
	}
	if len(oid) <= len(enterprises) || !oid.HasPrefix(enterprises) {
		return nil, fmt.Errorf("%q is not under enterprises (1.3.6.1.4.1.PEN[.arc…])", s)
	}
	if len(oid) > 32 {
		return nil, fmt.Errorf("%q has %d sub-identifiers (at most 32)", s, len(oid))
	}
	return oid, nil
}

// SetRoot moves SVGATEWAY-MIB to root (ParseEnterpriseOID's result): every
// object's, notification's and alarm type's OID, sysObjectID and the AgentX
// registration follow. Call it once at start, before a MIB, agent, subagent
// or sender is created; it must not run while they serve.
func SetRoot(root OID) error {
	if len(root) <= len(enterprises) || !root.HasPrefix(enterprises) {
		return fmt.Errorf("snmp: root %s is not under enterprises", root)
	}
	old := rootOID
	move := func(o OID) OID { return root.Append(o[len(old):]...) }
	for _, o := range allObjects {
		if o.Module == "SVGATEWAY-MIB" {
			o.OID = move(o.OID)
		}
	}
	for _, n := range allNotifications {
		n.OID = move(n.OID)
	}
	rootOID = root.Append()
	return nil
}

// rootLine is the MODULE-IDENTITY's "::=" line in the MIB file.
var rootLine = []byte("    ::= { enterprises 32473 }\n")

// ModuleText returns SVGATEWAY-MIB rooted at root (under enterprises): the
// embedded file with its MODULE-IDENTITY's "::=" line rewritten.
func ModuleText(root OID) ([]byte, error) {
	if len(root) <= len(enterprises) || !root.HasPrefix(enterprises) {
		return nil, fmt.Errorf("snmp: root %s is not under enterprises", root)
	}
	if bytes.Count(mibs.SVGATEWAYMIB, rootLine) != 1 {
		return nil, errors.New("snmp: the embedded MIB has no single root line")
	}
	line := []byte("    ::= { enterprises")
	for _, n := range root[len(enterprises):] {
		line = append(append(line, ' '), strconv.FormatUint(uint64(n), 10)...)
	}
	line = append(line, " }\n"...)
	return bytes.Replace(mibs.SVGATEWAYMIB, rootLine, line, 1), nil
}
