// Package cluster makes two (or more) gateways a redundant pair on etcd:
// one leader at a time, elected through an etcd lease (the concurrency
// package's Election), and the alarm ledger and the notification outbox
// shared through etcd keys that only the current leader can write.
//
// # Roles
//
// Every node polls SmartView and follows the feed on its own, so both
// serve SNMP and OPC UA reads from a warm model with their own readings
// (twice the upstream API calls and feed subscriptions of one gateway: the
// price of a standby that does not go stale when the leader dies, and of
// not depending on the leader for reads). The alarm book is the leader's:
// a standby's model ignores its own alarm sightings (model.Store.Follow)
// and adopts the ledger the leader saves, as soon as etcd reports it, so
// both serve the same alarm ids. Only the leader runs the notification
// sender (traps, informs, AgentX Notify).
//
// # Fencing
//
// The leader writes the ledger and the outbox with a transaction that
// compares the create revision of its election key: once its lease is
// gone (expired, revoked) every write fails, whatever the deposed process
// still believes. A leader whose lease renewals go unanswered for two
// thirds of the lease TTL stops leading by itself (its sender stops, its
// queued notifications stay in the shared outbox), before etcd can elect
// another node, so two nodes do not send at once.
//
// # Takeover
//
// A new leader first reads the newest ledger (every write of the old
// leader is in it or was refused) and the outbox (the cursor and the
// queues), then starts the sender: what was queued is delivered again, and
// every transition after the cursor is notified (notify.Sender's
// reconcile). A transition is never lost: the sender queues nothing whose
// ledger is not saved, and saves the cursor only with the queues. What the
// old leader delivered after its last outbox save (at most 250 ms of
// deliveries, plus one attempt in flight per target) is delivered again:
// duplicates, never a new id for a known alarm.
//
// The package reads and writes the model only through model.Store's
// Follow, Lead and AdoptLedger; it knows nothing of SNMP or OPC UA.
package cluster
