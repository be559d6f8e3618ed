// Package opcua is svgateway's OPC UA server: a read-only address space over
// the model's snapshots (IBX / zone / cage / cabinet / circuit, asset / tag),
// with subscriptions fed by the model's change stream, served over secure
// channels and authenticated sessions. It is built on gopcua's ua (types and
// binary encoding), uapolicy (security-policy cryptography) and uacp
// (transport) packages; the channel, session and service layers are ours.
//
// It must not call the SmartView API, write to the model, or let any client —
// however malformed its requests — read without an activated session, write
// anything, or bring the process down.
package uaserver

import (
	"github.com/gopcua/opcua/ua"
)

// This file is the contract between the two halves of the server:
//
//   - the channel and session layer (transport, secure channels, discovery,
//     sessions, users, certificates, dispatch) accepts connections, enforces
//     security, and hands every request of an ACTIVATED session to Services;
//   - the services (address space, Browse, Read, Write refusal, subscriptions
//     and monitored items) implement Services.

// Session is an activated session, as the services see it. The session layer
// creates it; services may keep per-session state keyed by the pointer.
type Session struct {
	// ID is the SessionId (not the secret authentication token).
	ID *ua.NodeID
	// Name is the client's session name.
	Name string
	// User is the authenticated identity: a user name, "anonymous", or a
	// certificate subject.
	User string
}

// Request is one service request of an activated session.
type Request struct {
	Session *Session
	// Body is the decoded request, e.g. *ua.BrowseRequest, *ua.ReadRequest,
	// *ua.PublishRequest.
	Body ua.Request
	// respond is set by the session layer.
	respond func(ua.Response) error
}

// Respond sends resp (the matching response type, e.g. *ua.ReadResponse) on
// the session's current secure channel. The session layer fills the
// ResponseHeader's RequestHandle and Timestamp (and ServiceResult Good unless
// set). Call it exactly once per request, from any goroutine, possibly later
// (Publish). It returns an error when the response could not be sent (the
// channel is gone); a Publish response's notifications must then be kept for
// Republish.
func (r *Request) Respond(resp ua.Response) error { return r.respond(resp) }

// NewRequest makes a request of sess answered by respond, for callers that
// serve Services without a secure channel (the services' own tests).
func NewRequest(sess *Session, body ua.Request, respond func(ua.Response) error) *Request {
	return &Request{Session: sess, Body: body, respond: respond}
}

// Services serves everything that runs inside an activated session.
type Services interface {
	// Offers reports whether Serve answers requests of req's type. The
	// session layer refuses every other request with
	// Bad_ServiceUnsupported without calling Serve.
	Offers(req ua.Request) bool
	// Serve handles one request and calls r.Respond exactly once, now or
	// later. It must not block for long (Publish: park the request and
	// return). The session layer recovers a panic and answers
	// BadInternalError; services should not rely on that.
	Serve(r *Request)
	// SessionClosed is called when a session ends (CloseSession or timeout);
	// deleteSubscriptions says whether the client asked to delete them
	// (a timed-out session's subscriptions are always deleted).
	SessionClosed(s *Session, deleteSubscriptions bool)
}
