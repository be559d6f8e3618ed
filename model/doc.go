// Package model is svgateway's in-memory picture of a customer's SmartView
// footprint: IBX sites and their zones, cages, cabinets, circuits and sensors;
// facility assets with their tag points; power and environment readings per
// level; alarms and alerts; and the health of the upstream connections.
//
// One writer, many readers. Writers (the REST sync and the feed consumers)
// apply batches with [Store.Update]; readers take an immutable [Snapshot] with
// [Store.Snapshot] without locking, so an SNMP walk or an OPC UA browse sees
// one consistent view however long it takes. Every committed batch is also
// published, in order, as a [Delta] on the change stream ([Store.Subscribe]):
// which readings changed, whether the structure changed, and every alarm and
// alert transition. A subscriber that falls too far behind (the stream keeps
// the last Options.History deltas and, among them, at most
// Options.HistoryEntries changed indexes: a few values cycles of a large
// footprint) is told so with a Resync delta instead of silently missing
// changes; it never slows the writer.
//
// Structure and values are kept apart. The [Structure] (which locations,
// assets and tags exist) changes rarely and is shared by all snapshots taken
// between two structure changes, so protocol front ends build their indexes
// (SNMP OIDs, OPC UA nodes) once per structure generation and never on a value
// change. Values live in copy-on-write chunked columns: a batch copies only the
// chunks it touches.
//
// Nothing upstream names is dropped: a zone, cage, cabinet, circuit or
// sensor that a reading, an asset link or an alarm names and no hierarchy
// lists becomes a discovered location ([Tx.Discover], [Location.Discovered]),
// served like any other and replaced in place when a hierarchy lists it;
// what cannot be placed at all is counted by reason ([Store.Unplaced]).
//
// Newest wins: every reading carries its source time, and an older reading
// never replaces a newer one. Every value knows when upstream last confirmed
// it; values not confirmed within StaleAfter are marked stale, and while
// upstream is unreachable all values are served as last-usable, never dropped.
//
// Alarms are transitions: each alarm has a stable identity and a state
// (active, acknowledged, cleared); each change of state is reported exactly
// once however many times it is observed (poll, feed or both). Alarm state is
// kept in a small ledger file written atomically, so a restart neither repeats
// nor forgets transitions.
//
// The model knows nothing of the SmartView API's JSON, of SNMP or of OPC UA:
// callers translate into and out of these types. Its only I/O is the ledger.
package model
