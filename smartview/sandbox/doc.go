// Package sandbox is a simulated Equinix IBX SmartView API, served over real HTTP so that the
// gateway's own client, OAuth handling, retries and decoding run against it exactly as against
// the live API. The gateway embeds it by default (no account needed) and `svgateway sandbox`
// serves it alone, so the curl examples of the API reference work against it.
//
// It is a simulator and must never be pointed at, or presented as, production: its credentials
// are public defaults, its admin endpoints under /_sandbox/ have no authentication (Validate
// insists on a loopback listen address for that reason), and its data is synthetic.
//
// What it serves, from the API reference:
//
//   - OAuth: POST /oauth2/v1/token (password and client_credentials grants, optional
//     password_encoding "md5-b64") and POST /oauth2/v1/refreshaccesstoken, JSON bodies only.
//   - Every data endpoint (alarms, assets, tag points, environment, power, hierarchy,
//     subscriptions) under every path variant the reference uses, with the documented shapes
//     and quirks: the payLoad/status envelope, alarms without it and with "timeTrigerred",
//     bare hierarchy arrays, bare subscription objects, numbers as numbers or strings or "NA",
//     and the reference's several time formats.
//   - The documented errors: 401, 404, 415, 429 (with Retry-After), 500, 503 and the envelope
//     status codes 3001 (invalid level type) and 4000 (missing parameter).
//
// The footprint is deterministic for a profile and seed and starts from the reference's own
// examples (IBX CH1 with CH1.Gen-1 and CH1.Gen-1:fuelhours, SV4's location and power
// hierarchies as one footprint, the documented alarms in CH3 and DC5). A simulation tick drifts
// power, environment and tag values and raises, acknowledges and clears alarms; every change is
// also published as a near-real-time feed event (Subscribe). Faults (rate limiting, server
// errors, latency, token expiry, malformed bodies) are switched in Config or at run time.
//
// Decisions the reference leaves open are documented on the handlers and in README.md beside
// this file.
package sandbox
