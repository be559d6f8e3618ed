package snmp

import (
	"runtime"
	"runtime/debug"
)

// sysORs are the rows of sysORTable (RFC 3418): the MIB modules the
// standalone agent serves, SVGATEWAY-MIB first (its OID is read when the
// table is served: it follows enterprise_oid).
var sysORs = []struct {
	oid   func() OID
	descr string
}{
	{RootOID, "SVGATEWAY-MIB: the Equinix IBX SmartView footprint, readings, alarms and gateway state"},
	{func() OID { return OID{1, 3, 6, 1, 6, 3, 1} }, "SNMPv2-MIB: the system group and SNMP statistics (RFC 3418)"},
	{func() OID { return OID{1, 3, 6, 1, 6, 3, 10} }, "SNMP-FRAMEWORK-MIB: the SNMP engine (RFC 3411)"},
	{func() OID { return OID{1, 3, 6, 1, 6, 3, 11} }, "SNMP-MPD-MIB: message processing statistics (RFC 3412)"},
	{func() OID { return OID{1, 3, 6, 1, 6, 3, 15} }, "SNMP-USER-BASED-SM-MIB: USM statistics (RFC 3414)"},
}

// sysORRows are the indexes of sysORTable: 1 to len(sysORs).
var sysORRows rowSet = func() indexRows {
	r := make(indexRows, len(sysORs))
	for i := range r {
		r[i] = uint32(i + 1)
	}
	return r
}()

// SysDescr is the agent's sysDescr for a gateway version ("" when unknown:
// the module's build version is used).
func SysDescr(version string) string {
	if version == "" {
		version = "(unknown version)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			version = bi.Main.Version
		}
	}
	return "svgateway " + version + ": Equinix IBX SmartView gateway (" + runtime.GOOS + "/" + runtime.GOARCH + ", " + runtime.Version() + ")"
}

// localGroups are the objects of the IETF MIBs the standalone agent serves
// itself (under snmpd, in AgentX mode, snmpd serves its own): the system
// group a manager identifies a device by, the SNMP and USM statistics, and
// the engine group.
func (a *Agent) localGroups() subtrees {
	descr := text(SysDescr(a.version))
	scalar := func(obj *Object, value func() any) column {
		return boxedColumn(obj, func(*View, int) (any, bool) { return value(), true })
	}
	count := func(obj *Object, r reason) column {
		return scalar(obj, func() any { return a.stats.counter32(r) })
	}
	zero := func(obj *Object) column { return scalar(obj, func() any { return uint32(0) }) }
	group := func(cols ...column) *subtree {
		o := cols[0].obj.OID
		return newSubtree(o[:len(o)-1], func(*View) rowSet { return scalarRow{} }, cols...)
	}
	ts := subtrees{
		group(
			scalar(sysDescr, func() any { return descr }),
			scalar(sysObjectID, func() any { return rootOID.String() }),
			scalar(sysUpTime, func() any { return a.engine.Uptime() }),
			scalar(sysContact, func() any { return text(a.cfg.SysContact) }),
			scalar(sysName, func() any { return text(a.sysName) }),
			scalar(sysLocation, func() any { return text(a.cfg.SysLocation) }),
			scalar(sysServices, func() any { return 72 }),            // applications and end-to-end hosts
			scalar(sysORLastChange, func() any { return uint32(0) }), // the table is fixed at start
		).until(sysORID.OID[:len(sysORID.OID)-2]), // sysORTable (system.9) is a subtree of its own
		newSubtree(sysORID.OID[:len(sysORID.OID)-1], func(*View) rowSet { return sysORRows },
			boxedColumn(sysORID, func(_ *View, r int) (any, bool) { return sysORs[r].oid().String(), true }),
			boxedColumn(sysORDescr, func(_ *View, r int) (any, bool) { return sysORs[r].descr, true }),
			boxedColumn(sysORUpTime, func(_ *View, r int) (any, bool) { return uint32(0), true }),
		),
		group(
			scalar(snmpInPkts, func() any { return uint32(a.stats.packets.Load()) }),
			count(snmpInBadVersions, dropBadVersion),
			count(snmpInBadCommunityNames, dropBadCommunity),
			scalar(snmpInBadCommunityUses, func() any { return a.stats.counter32(respNoAccess) + a.stats.counter32(respVersionRefused) }),
			count(snmpInASNParseErrs, dropParse),
			count(snmpSilentDrops, dropEncode),
			zero(snmpProxyDrops),
		),
		group(
			scalar(snmpEngineID, func() any { return a.engine.ID() }),
			scalar(snmpEngineBoots, func() any { return int(a.engine.Boots()) }),
			scalar(snmpEngineTime, func() any { return int(a.engine.Time()) }),
			scalar(snmpEngineMaxMessageSize, func() any { return a.cfg.MaxMessageSize }),
		),
		group(
			zero(snmpUnknownSecurityModels),
			count(snmpInvalidMsgs, dropInvalidMsg),
			count(snmpUnknownPDUHandlers, authUnknownPDUHandler),
		),
		group(
			zero(snmpUnavailableContexts),
			count(snmpUnknownContexts, authUnknownContext),
		),
		group(
			count(usmStatsUnsupportedSecLevels, authUnsupportedSecLevel),
			count(usmStatsNotInTimeWindows, authNotInTimeWindow),
			count(usmStatsUnknownUserNames, authUnknownUser),
			count(usmStatsUnknownEngineIDs, authUnknownEngineID),
			count(usmStatsWrongDigests, authWrongDigest),
			count(usmStatsDecryptionErrors, authDecryption),
		),
	}
	ts.sort()
	return ts
}
