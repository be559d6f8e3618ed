// Package smartview is the client of the Equinix IBX SmartView REST API: OAuth2 access tokens,
// every documented endpoint (alarms, assets, tag points, environment, power, hierarchies, feed
// subscriptions), and the decoding of the API's objects, including the near-real-time feed events
// (DecodeEvent), into typed values.
//
// What it must not do: it keeps no model of the footprint (package model does), speaks no SNMP or
// OPC UA, runs no polling loops or feed consumers, and starts no goroutines of its own. Each
// method makes the requests it needs and returns.
//
// # Quirks absorbed
//
// Token endpoints take JSON bodies and answer token_timeout as a string of seconds; the
// documentation's client_credentials answer has a trailing comma, which token answers tolerate.
// Data answers are wrapped in {"payLoad", "status"} whose statuscode is an error even under HTTP
// 200 ("3001", "4000": ErrInvalidLevelType, ErrInternal), except alarms, hierarchies and
// subscriptions, which come bare (an envelope is accepted there too). Numbers arrive as numbers,
// strings or "NA" (Number); times in half a dozen notations (Time); alarm fields in two spellings
// (Alarm). Endpoint paths disagree across the documentation: Paths has the "URL or End Point"
// defaults and names the variants.
//
// # Catalogs
//
// Accounts are served by the documented catalog or by the 2024 one (/smartview/v1/… asset and
// hierarchy paths, trending, the alerts API, no alarms list). Config.Catalog chooses; "auto"
// finds each endpoint's path by trying the other on a 404, once, and remembers it. An optional
// endpoint the account does not serve fails fast with ErrNotServed. See catalog.go.
//
// # Time zones
//
// Epoch times are absolute. Zone-less times ("Sep 16,2016 04:41 PM", "20190324023353") are read
// in Config.TimeZone (default UTC), except an asset's own times in asset details
// (lastMaintenanceDate, alarmLastTriggeredTime, alarmLastProcessedTime), read in the asset's
// userPrefTimeZone: the documentation's "Dec 31,1969 07:00 PM" is epoch zero in exactly that
// zone. Tag readingTime stays in Config.TimeZone even inside asset details, so that one reading
// means one instant whichever endpoint delivered it (the tag point endpoints name no zone). Feed
// events are decoded in UTC; Event.InLocation re-reads them. Time.Raw keeps the text as sent.
//
// # Failures
//
// Every error is an *APIError (or wraps one, or the caller's context error) and matches the
// sentinels that apply with errors.Is. Calls are rate limited (golang.org/x/time/rate), retried
// with exponential backoff and full jitter within Config.MaxAttempts and Config.RetryBudget
// (429 and 503 honour Retry-After; 500/502/504 and transport errors are retried for reads only),
// and re-authenticated once on 401: refresh token first, then a new grant. Credentials and tokens
// never appear in errors or logs: messages taken from answers are redacted of every credential
// the client knows.
package smartview
