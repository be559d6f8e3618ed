// Package smartview is the client of the Equinix IBX SmartView REST API: OAuth2 access tokens,
// every documented endpoint (alarms, assets, tag points, environment, power, hierarchies, feed
// subscriptions), and the decoding of the API's objects, including the near-real-time feed events
// (DecodeEvent), into typed values.
//
// It absorbs the API's documented quirks: JSON token bodies, envelopes whose statuscode is an
// error even under HTTP 200, numbers as strings or "NA", times in half a dozen notations, alarm
// fields spelt two ways, endpoint paths the documentation itself disagrees on (see Paths). Calls
// are rate limited, retried with exponential backoff and jitter within a bounded number of
// attempts and time, and re-authenticated once on 401. Credentials and tokens never appear in its
// errors or logs.
//
// What it must not do: it keeps no model of the footprint (package model does), speaks no SNMP or
// OPC UA, runs no polling loops or feed consumers, and starts no goroutines of its own. Each
// method makes the requests it needs and returns.
package smartview
