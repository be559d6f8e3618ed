// Package opcua is svgateway's OPC UA front end: a read-only address space
// built from the model's snapshots (IBX / zone / cage / cabinet / circuit,
// asset / tag, alarms as Part 9 conditions, the Server object), and the
// services that run inside a session over it — Browse, BrowseNext,
// TranslateBrowsePathsToNodeIds, RegisterNodes, Read, Write (refused),
// subscriptions with data and event monitored items fed by the model's
// change stream (with TransferSubscriptions and SetTriggering), Call
// (ConditionRefresh, Acknowledge, AddComment, GetMonitoredItems) and
// HistoryRead (values that package history records; alarm events of the
// ledger). [New] wires them to the protocol server of package uaserver,
// which cmd/svgateway runs; the services offered are the one table in
// services.go, the methods the one table in call.go.
//
// It must not call the SmartView API, write to the model anything but an
// operator's acknowledgement or comment of an alarm (by a user whose role
// allows it; never sent upstream), or answer any request a client did not
// make inside an activated session (uaserver enforces that); it must not
// block the model's change stream on a slow client. The wire protocol, security and sessions are uaserver's: nothing
// here reads a socket or a certificate.
package opcua
