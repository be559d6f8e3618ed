// Package uaserver is an OPC UA binary protocol server (UA TCP, UA Secure
// Conversation, the session services): it listens, answers Hello with
// Acknowledge, reassembles and checks message chunks, opens and renews
// secure channels (SecurityPolicy Basic256Sha256 Sign and SignAndEncrypt,
// None for discovery and the sandbox), keeps the application instance
// certificate and the trust list of client certificates, answers
// GetEndpoints and FindServers, creates, activates and closes sessions, and
// authenticates users (anonymous, user name and password, bcrypt hashes).
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
