// Package uaserver is an OPC UA binary protocol server (UA TCP, UA Secure
// Conversation, the session services): it listens, answers Hello with
// Acknowledge, reassembles and checks message chunks, opens and renews
// secure channels (SecurityPolicy Aes256_Sha256_RsaPss,
// Aes128_Sha256_RsaOaep and Basic256Sha256, Sign and SignAndEncrypt; None
// for discovery and the sandbox), admits connections so that no peer that
// has not authenticated can exhaust them (admission.go), keeps the
// application instance certificate and the PKI folders of trusted and
// issuer certificates and CRLs (checked at every channel renewal), answers
// GetEndpoints and FindServers, creates, activates and closes sessions, and
// authenticates users (anonymous, user name and password with bcrypt
// hashes, X.509 user certificates), throttling failed activations per
// client address and user name.
// Every request of an activated session whose type the Services offer is
// handed to them; every other request is refused with a status code.
//
// It is built on gopcua's ua (types and binary encoding), uapolicy
// (security-policy cryptography) and uacp (connection-protocol messages)
// packages; the channel, session and dispatch layers are its own. Its
// exported surface is the contract with the services: [Services],
// [Request] and [Session], [Server] with its [Config] and [Options], and
// [Header] and [Fault] for responses.
//
// It must not know what it serves: it imports neither the gateway's model
// nor its NodeSet (a test keeps it so), and it never reads or writes an
// address space. It must not let any client — however malformed its
// requests — reach the services without an activated session on its own
// secure channel, make it allocate by what a message claims rather than
// what it holds, or bring the process down.
package uaserver
