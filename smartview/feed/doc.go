// Package feed is svgateway's near-real-time path: it registers the
// gateway's feed subscription through the SmartView Subscriptions API (the
// documented v1 one, or the 2024 catalog's v2 streaming one), runs one
// provider's consumer (Google Pub/Sub, AWS SQS, Azure Service Bus, OCI
// Streaming through its Kafka API, the built-in sandbox's own events, or for
// v2 the REST subscriptionData read, the gateway's webhook, or AWS IoT Core
// over MQTT), decodes each event and applies it to the model, and records
// the feed's health (state, counters, lag, rate) there.
//
// Delivery is at least once: a message is acknowledged only after its
// update is committed to the model, and a redelivered message changes
// nothing (readings are newest-wins by their source time; alarms and alerts
// have a stable identity and report each transition once). Malformed events
// and events of an unknown kind are counted, logged at most once a minute
// per kind, and acknowledged so they do not loop. Connections are retried
// with bounded exponential backoff; while the feed is down the REST sync goes
// on, and when it comes back the sync is asked for a cycle at once.
//
// v2 messages carry a streamId: one already applied at the same message time
// and state, or at a later one, is dropped as a duplicate (apply.go).
//
// The provider SDKs live in the sub-packages google, aws, azure, oracle and
// awsiot (the v2 consumers streamdata and webhook need none),
// which implement Consumer; this package imports none of them. It must not poll
// the REST API for readings (package poll does), serve anything, or keep
// state other than the subscription files in state_dir.
package feed
