// Package snmp serves svgateway's model over SNMP: the SVGATEWAY-MIB module
// (mibs/SVGATEWAY-MIB.txt) as an OID tree over model snapshots, and a
// standalone agent (SNMPv1 and SNMPv2c read-only communities, SNMPv1 as RFC
// 3584 says, SNMPv3 USM with SHA-1 and SHA-2 authentication and AES
// privacy) on a UDP port.
//
// The pieces, and who uses them:
//
//   - The MIB's objects and notifications in Go (Objects, Notifications,
//     RootOID) are generated from the MIB file by internal/mibgen; the MIB
//     is the single definition of every OID and type, and its root arc is
//     written once, on the MODULE-IDENTITY's "::=" line. SetRoot moves it
//     at run time ([snmp] enterprise_oid) and ModuleText prints the MIB
//     with that root (root.go).
//   - The alarm-type registry (alarmtype.go) classifies alarms: type,
//     ITU probable cause and event type.
//   - MIB keeps the Tree of the current model Structure (built once per
//     structure, never on a value change) and the persistent table indexes
//     (state_dir/snmp/indexes.json). A View, a Tree over one Snapshot,
//     answers Get and Next (with an AgentX-style end bound); the AgentX
//     subagent serves the same View. MIB also builds the varbinds of the
//     alarm, alert, upstream and heartbeat notifications with the same
//     column functions the tables use.
//   - Engine is the SNMPv3 engine (ID, boots persisted in
//     state_dir/snmp/engine.json, time), shared by the agent and the
//     notification sender.
//   - Agent is the standalone agent: Run(ctx) serves until ctx is done.
//   - Subagent is the AgentX subagent (the protocol is package agentx):
//     it registers the MIB's root with snmpd and serves the same View,
//     reconnecting when snmpd restarts; it also forwards notifications to
//     snmpd. Agent and Subagent are independent: either or both may run.
//   - Sending notifications (targets, informs, the outbox) is package
//     notify; Config carries its [[snmp.targets]] and [snmp.agentx].
//
// The package reads model snapshots and the change stream only: it never
// calls the SmartView API and never writes to the model. Nothing here is
// writable over SNMP: every SET is refused.
package snmp
