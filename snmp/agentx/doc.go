// Package agentx is the subagent side of the AgentX protocol (RFC 2741): the
// PDU encoding, and a Session that opens itself with a master agent (snmpd),
// registers subtrees, answers the master's Get, GetNext and GetBulk PDUs from
// a Handler, refuses every SET (TestSet gets notWritable), sends Notify and
// Ping, and closes cleanly.
//
// It is protocol only: it knows nothing of svgateway's MIB or model (package
// snmp wires a Session to the MIB's View) and it does not reconnect by
// itself: a Session lives as long as its connection, and its owner dials a
// new one when Serve returns.
//
// Byte order: every PDU is decoded in the byte order its header's
// NETWORK_BYTE_ORDER flag announces, a response is encoded in the byte order
// of the request it answers, and the PDUs the subagent originates (Open,
// Register, Notify, Ping, Close) are in network byte order with the flag set.
//
// Decoding is bounds-checked everywhere: a malformed PDU is an error (and a
// parseError Response when its header could be read), never a panic
// (FuzzDecode). The per-PDU path reuses its buffers: answering a GetNext
// allocates only what the Handler does.
package agentx
