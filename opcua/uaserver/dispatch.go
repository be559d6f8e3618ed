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

// servicesHandle are the requests handed to Services (inside an activated
// session). Everything else that is not answered by the session layer is
// refused with Bad_ServiceUnsupported: the gateway has no node management,
// history updates, queries or server registration.
var servicesHandle = map[reflect.Type]bool{}

func init() {
	for _, r := range []ua.Request{
		&ua.BrowseRequest{}, &ua.BrowseNextRequest{}, &ua.TranslateBrowsePathsToNodeIDsRequest{},
		&ua.RegisterNodesRequest{}, &ua.UnregisterNodesRequest{},
		&ua.ReadRequest{}, &ua.WriteRequest{}, &ua.HistoryReadRequest{}, &ua.CallRequest{},
		&ua.CreateSubscriptionRequest{}, &ua.ModifySubscriptionRequest{}, &ua.SetPublishingModeRequest{},
		&ua.PublishRequest{}, &ua.RepublishRequest{}, &ua.DeleteSubscriptionsRequest{}, &ua.TransferSubscriptionsRequest{},
		&ua.CreateMonitoredItemsRequest{}, &ua.ModifyMonitoredItemsRequest{}, &ua.SetMonitoringModeRequest{},
		&ua.SetTriggeringRequest{}, &ua.DeleteMonitoredItemsRequest{},
	} {
		servicesHandle[reflect.TypeOf(r)] = true
	}
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
func (r *responder) fault(code ua.StatusCode) {
	_ = r.respond(&ua.ServiceFault{ResponseHeader: &ua.ResponseHeader{ServiceResult: code}})
}

// responseHeader makes the header of a response to request handle.
func responseHeader(handle uint32, code ua.StatusCode) *ua.ResponseHeader {
	h := &ua.ResponseHeader{Timestamp: time.Now(), RequestHandle: handle, ServiceResult: code}
	fillResponseHeader(h)
	return h
}

// fillResponseHeader sets the fields gopcua cannot encode as nil.
func fillResponseHeader(h *ua.ResponseHeader) {
	if h.ServiceDiagnostics == nil {
		h.ServiceDiagnostics = &ua.DiagnosticInfo{}
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

	switch q := req.(type) {
	case *ua.GetEndpointsRequest:
		_ = r.respond(s.getEndpoints(q))
		return
	case *ua.FindServersRequest:
		_ = r.respond(s.findServers(q))
		return
	}
	if c.discoveryOnly {
		// SecurityPolicy None is not an offered endpoint
		s.metrics.authFailures.WithLabelValues("security_policy").Inc()
		c.log.Warn("opcua: request refused on a discovery-only (SecurityPolicy None) channel", "service", name)
		r.fault(ua.StatusBadSecurityPolicyRejected)
		return
	}
	switch q := req.(type) {
	case *ua.CreateSessionRequest:
		s.createSession(c, r, q)
		return
	case *ua.ActivateSessionRequest:
		s.activateSession(c, r, q)
		return
	case *ua.CloseSessionRequest:
		s.closeSessionRequest(c, r, q)
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
	if _, ok := req.(*ua.CancelRequest); ok {
		// Services answer every request promptly (Publish is answered by
		// keep-alives), so there is nothing to cancel.
		_ = r.respond(&ua.CancelResponse{})
		return
	}
	if !servicesHandle[reflect.TypeOf(req)] {
		s.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadServiceUnsupported)).Inc()
		r.fault(ua.StatusBadServiceUnsupported)
		return
	}
	s.services.Serve(&Request{Session: ss.pub, Body: req, respond: r.respond})
}
