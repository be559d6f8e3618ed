package uaserver

import (
	"github.com/gopcua/opcua/ua"
)

// This file is the contract with the services (package opcua, or a test's
// stub): the session layer hands them every request of an ACTIVATED session
// whose type they offer, and tells them when a session ends.

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
	// SecurityMode is the session's endpoint's message security mode;
	// ApplicationURI is the client's, from its verified certificate (empty
	// under SecurityPolicy None). TransferSubscriptions compares them for
	// anonymous sessions (Part 4, 5.14.7.1).
	SecurityMode   ua.MessageSecurityMode
	ApplicationURI string
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
// (Publish). It returns an error when the client did not get resp: the
// channel is gone, or resp was larger than the client accepts and a
// Bad_ResponseTooLarge fault was sent instead (ErrResponseTooLarge). A
// Publish response's notifications must then be kept for Republish, and
// continuation points the response carried released: the client may retry
// with a smaller request and needs them back.
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
	// SessionClosed is called when a session ends (CloseSession, timeout or
	// shutdown); deleteSubscriptions says whether its subscriptions go with
	// it: as the client asked on CloseSession, false on a timeout (Part 4,
	// 5.7.2.1: they live on until their own lifetime ends), true at
	// shutdown.
	SessionClosed(s *Session, deleteSubscriptions bool)
}

// StoppedNotifier is implemented by Services that keep state beyond sessions
// (subscriptions of closed sessions kept for TransferSubscriptions):
// ServerStopped is called once Run has closed every session.
type StoppedNotifier interface {
	ServerStopped()
}
