// Package notify sends SVGATEWAY-MIB's notifications: alarm raised,
// acknowledged and cleared, alert triggered and acknowledged, upstream lost
// and restored, persistence failed and restored, and an optional heartbeat. It follows the model's change
// stream (it is a subscriber and never blocks the model's writer), builds
// each notification once with snmp.MIB, and delivers it to every
// [[snmp.targets]] entry with gosnmp (SNMPv2c or SNMPv3 USM, trap or
// inform) and, when the AgentX subagent runs, through the master agent
// (AgentX Notify; snmpd forwards to its own trap sinks). Both apply
// together: configure targets or snmpd's sinks, not both for one manager,
// or it receives everything twice.
//
// # Delivery
//
// Each target has its own FIFO queue and worker, so a slow or absent
// manager delays only itself. A trap is done once sent; an inform once
// acknowledged, and a Notify once the master accepted it. A failed attempt
// (no acknowledgement within the timeout, master away) is retried with
// backoff (1 s doubling to 1 min) until it succeeds, the target's retries
// are spent or the notification is older than its expiry (24 h by
// default); the head of a queue is retried before anything behind it is
// sent, so a manager sees an alarm's transitions in order. Per target, a
// token bucket bounds the rate (rate_limit per second).
//
// # Exactly once, across restarts
//
// The model reports every alarm transition once, with a sequence number,
// whether a poll, the feed or both saw it; the sender queues one
// notification per transition, but only once the model's alarm ledger
// holding it is on disk (model.Store.Durable): an alarm id never leaves
// before a crash could no longer give it to another alarm. While the
// ledger cannot be saved, alarm notifications are held (and
// svgPersistFailed is sent; svgPersistRestored when saves succeed again,
// and after an unclean stop, which may have sent a svgPersistFailed the
// outbox could not record). Its outbox (state_dir/snmp/outbox.json,
// written atomically when a notification was queued or a delivery ended,
// coalesced to at most four writes a second, and at shutdown) holds the
// cursor (the sequence number up to which transitions were queued), what
// each target still has queued (with failed attempts), the alarms and alerts
// last notified as open (less those the model has since forgotten), and
// whether upstream-lost was the last upstream notification. The cursor and
// the queues are saved as of one moment: never a cursor past a notification
// that is not saved. At start the queues are restored and delivered first;
// then every alarm or alert of the model whose latest transition is after
// the cursor (committed, but not queued before the stop) is notified from
// its current state and what was last notified for it (see
// Sender.reconcile). A clean shutdown lets each target finish the attempt in
// flight (not cancelled; bounded by its timeout) and saves the outbox, so
// nothing is sent twice or lost. After a crash, what was sent but not yet
// saved as sent is sent again: at least once, never lost. An inform
// acknowledged after its attempt timed out, or a Notify the master took
// while the session broke, may also arrive twice.
//
// # Storms
//
// A queue holds queue_size notifications. What a manager must end up with
// is the newest state of every alarm (alert, the upstream): an older
// notification of an alarm may go once a newer one of it is queued behind
// it, but the newest never goes to keep an older one. When a notification
// arrives at a full queue, room is made by dropping, in this order: a
// notification, clears included, whose alarm has a newer one queued or
// arriving (the older of the one superseded first and the arriving one's
// predecessor) — the newer one tells the manager where the alarm stands —,
// else the oldest notification that is not a clear.
// Clears (alarm cleared, upstream restored) are not dropped otherwise to
// make room: they are queued beyond queue_size, up to four times it, and so
// is a notification whose alarm's previous one is being delivered; only
// past that is the oldest clear dropped. A non-clear arriving at a queue
// full of clears, when its alarm has nothing queued, is dropped itself.
// Every drop is counted
// (svgateway_snmp_notifications_total{outcome="dropped_overflow"}) and
// logged at most every 10 s per target with the count.
//
// The package reads the model and never writes to it.
package notify
