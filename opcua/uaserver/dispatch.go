package uaserver

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/ua"
)

// phase says when the session layer answers one of its own services.
type phase int

const (
	anyChannel       phase = iota // discovery: on every channel, even a discovery-only one
	offeredChannel                // the session services: on a channel whose security is offered
	activatedSession              // inside an activated session bound to the channel
)

// own is a service the session layer answers itself.
type own struct {
	phase phase
	serve func(s *Server, c *channel, r *responder, req ua.Request)
}

// ownServices are the services the session layer answers itself, one line
// each. Every other request must come from an activated session and be one
// that Services offers; the rest is refused with Bad_ServiceUnsupported.
var ownServices = map[reflect.Type]own{
	reflect.TypeFor[*ua.GetEndpointsRequest]():    {anyChannel, answer((*Server).getEndpoints)},
	reflect.TypeFor[*ua.FindServersRequest]():     {anyChannel, answer((*Server).findServers)},
	reflect.TypeFor[*ua.CreateSessionRequest]():   {offeredChannel, serve((*Server).createSession)},
	reflect.TypeFor[*ua.ActivateSessionRequest](): {offeredChannel, serve((*Server).activateSession)},
	reflect.TypeFor[*ua.CloseSessionRequest]():    {offeredChannel, serve((*Server).closeSessionRequest)},
	// Services answer every request promptly (Publish is answered by
	// keep-alives), so there is nothing to cancel.
	reflect.TypeFor[*ua.CancelRequest](): {activatedSession, answer(func(*Server, *ua.CancelRequest) *ua.CancelResponse { return &ua.CancelResponse{} })},
}

// answer adapts a service that returns its response.
func answer[Q ua.Request, P ua.Response](f func(*Server, Q) P) func(*Server, *channel, *responder, ua.Request) {
	return func(s *Server, _ *channel, r *responder, req ua.Request) { _ = r.respond(f(s, req.(Q))) }
}

// serve adapts a service that answers through the responder itself.
func serve[Q ua.Request](f func(*Server, *channel, *responder, Q)) func(*Server, *channel, *responder, ua.Request) {
	return func(s *Server, c *channel, r *responder, req ua.Request) { f(s, c, r, req.(Q)) }
}

// serviceName is the service of a request, for metrics and logs.
func serviceName(req ua.Request) string {
	return strings.TrimSuffix(reflect.TypeOf(req).Elem().Name(), "Request")
}

// responder answers one request exactly once.
type responder struct {
	c       *channel
	reqID   uint32
	handle  uint32
	maxSize uint32 // the session's MaxResponseMessageSize; 0 = none
	done    atomic.Bool
}

var errResponded = errors.New("opcua: request already answered")

// respond sends resp, filling its ResponseHeader.
func (r *responder) respond(resp ua.Response) error {
	if resp == nil || reflect.ValueOf(resp).IsNil() {
		return errors.New("opcua: nil response")
	}
	if !r.done.CompareAndSwap(false, true) {
		return errResponded
	}
	h := resp.Header()
	if h == nil {
		h = &ua.ResponseHeader{}
		resp.SetHeader(h)
	}
	h.RequestHandle = r.handle
	h.Timestamp = time.Now()
	fillResponseHeader(h)
	return r.c.sendResponse(r.reqID, resp, r.maxSize)
}

// fault answers with a ServiceFault, unless already answered.
func (r *responder) fault(code ua.StatusCode) { _ = r.respond(Fault(code)) }

// Header is a complete response header with a service result: every field
// gopcua cannot encode as nil is set. Respond fills RequestHandle and
// Timestamp.
func Header(code ua.StatusCode) *ua.ResponseHeader {
	h := &ua.ResponseHeader{ServiceResult: code}
	fillResponseHeader(h)
	return h
}

// Fault is a ServiceFault with a service result.
func Fault(code ua.StatusCode) *ua.ServiceFault {
	return &ua.ServiceFault{ResponseHeader: Header(code)}
}

// responseHeader makes the header of a response to request handle.
func responseHeader(handle uint32, code ua.StatusCode) *ua.ResponseHeader {
	h := Header(code)
	h.Timestamp, h.RequestHandle = time.Now(), handle
	return h
}

// fillResponseHeader sets the fields gopcua cannot encode as nil, and an
// empty string table.
func fillResponseHeader(h *ua.ResponseHeader) {
	if h.ServiceDiagnostics == nil {
		h.ServiceDiagnostics = &ua.DiagnosticInfo{}
	}
	if h.StringTable == nil {
		h.StringTable = []string{}
	}
	if h.AdditionalHeader == nil {
		h.AdditionalHeader = ua.NewExtensionObject(nil)
	}
}

// encodeService encodes a request or response with its type id. A value
// gopcua cannot encode (a nil field where a value is needed) is an error,
// not a panic.
func encodeService(v any) (b []byte, err error) {
	id := ua.ServiceTypeID(v)
	if id == 0 {
		return nil, fmt.Errorf("opcua: %T is not a registered service type", v)
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("opcua: encode %T: %v", v, r)
		}
	}()
	if b, ok := encodeFast(v); ok {
		return b, nil
	}
	buf := ua.NewBuffer(nil)
	buf.WriteStruct(ua.NewFourByteExpandedNodeID(0, id))
	buf.WriteStruct(v)
	if buf.Error() != nil {
		return nil, fmt.Errorf("opcua: encode %T: %w", v, buf.Error())
	}
	return buf.Bytes(), nil
}

// dispatch decodes one complete request and answers it: discovery and
// session services here, everything else through Services, and only for
// an activated session bound to this channel.
func (s *Server) dispatch(c *channel, reqID uint32, msg []byte) {
	req, err := decodeRequest(msg)
	if err != nil {
		code := ua.StatusBadDecodingError
		var se *statusError
		if errors.As(err, &se) {
			code = se.code
		}
		var handle uint32
		if h := decodeRequestHeader(msg); h != nil {
			handle = h.RequestHandle
		}
		s.metrics.badRequests.WithLabelValues(statusName(code)).Inc()
		c.log.Warn("opcua: undecodable request", "status", statusName(code), "err", err)
		c.sendFault(reqID, handle, code)
		return
	}
	name := serviceName(req)
	s.metrics.requests.WithLabelValues(name).Inc()
	r := &responder{c: c, reqID: reqID, handle: req.Header().RequestHandle}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("opcua: panic while serving a request", "service", name, "panic", p, "stack", string(debug.Stack()))
			r.fault(ua.StatusBadInternalError)
		}
	}()

	svc, isOwn := ownServices[reflect.TypeOf(req)]
	if isOwn && svc.phase == anyChannel {
		svc.serve(s, c, r, req)
		return
	}
	if c.discoveryOnly {
		// SecurityPolicy None is not an offered endpoint
		s.metrics.authFailures.WithLabelValues("security_policy").Inc()
		c.log.Warn("opcua: request refused on a discovery-only (SecurityPolicy None) channel", "service", name)
		r.fault(ua.StatusBadSecurityPolicyRejected)
		return
	}
	if isOwn && svc.phase == offeredChannel {
		svc.serve(s, c, r, req)
		return
	}

	ss, code := s.sessionFor(c, req.Header())
	if code != ua.StatusOK {
		s.metrics.badRequests.WithLabelValues(statusName(code)).Inc()
		c.log.Info("opcua: request refused", "service", name, "status", statusName(code))
		r.fault(code)
		return
	}
	r.maxSize = ss.maxResponse
	if isOwn {
		svc.serve(s, c, r, req)
		return
	}
	if !s.services.Offers(req) {
		s.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadServiceUnsupported)).Inc()
		r.fault(ua.StatusBadServiceUnsupported)
		return
	}
	s.services.Serve(&Request{Session: ss.pub, Body: req, respond: r.respond})
}
