package opcua

import (
	"reflect"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// offered is the one table of the services the gateway offers inside an
// activated session: adding a service is adding its line, refusing one is
// removing it. The session layer refuses every request type not listed
// here with Bad_ServiceUnsupported (HistoryUpdate, queries and node
// management are not offered); its own services (discovery, sessions,
// Cancel) are uaserver's.
var offered = table(
	undoable((*services).browse),
	undoable((*services).browseNext),
	answer(noRequest((*services).translate)),
	answer(noRequest((*services).registerNodes)),
	answer(noRequest((*services).unregisterNodes)),
	answer(noRequest((*services).read)),
	answer(noRequest((*services).write)),
	undoable((*services).historyRead),
	answer((*services).createSubscription),
	answer((*services).modifySubscription),
	answer((*services).setPublishingMode),
	answer((*services).deleteSubscriptions),
	answer((*services).republish),
	answer((*services).transferSubscriptions),
	park((*services).publish),
	answer((*services).createMonitoredItems),
	answer((*services).modifyMonitoredItems),
	answer((*services).setMonitoringMode),
	answer((*services).deleteMonitoredItems),
	answer((*services).setTriggering),
	answer((*services).callMethods),
)

// handler serves one request type.
type handler struct {
	typ reflect.Type
	// serve answers the request: it returns the response, or, when parks
	// is set, keeps the request to answer it later (Publish) and returns nil.
	serve func(s *services, r *uaserver.Request) ua.Response
	parks bool
	// undo, when set, serves instead of serve and also returns what takes
	// back the state the response hands out (continuation points) should
	// the client not get it (uaserver.ErrResponseTooLarge, channel gone).
	undo func(s *services, r *uaserver.Request) (ua.Response, func())
}

func table(hs ...handler) map[reflect.Type]handler {
	m := make(map[reflect.Type]handler, len(hs))
	for _, h := range hs {
		m[h.typ] = h
	}
	return m
}

// answer is a service that returns its response.
func answer[Q ua.Request](f func(*services, *uaserver.Request, Q) ua.Response) handler {
	return handler{typ: reflect.TypeFor[Q](), serve: func(s *services, r *uaserver.Request) ua.Response {
		return f(s, r, r.Body.(Q))
	}}
}

// undoable is a service whose response hands the client state kept for it
// (continuation points): with the response it returns the function that
// takes that state back if the response is not delivered, so a client
// refused a too-large answer can ask again in smaller pieces.
func undoable[Q ua.Request](f func(*services, *uaserver.Request, Q) (ua.Response, func())) handler {
	return handler{typ: reflect.TypeFor[Q](), undo: func(s *services, r *uaserver.Request) (ua.Response, func()) {
		return f(s, r, r.Body.(Q))
	}}
}

// park is a service that answers later.
func park[Q ua.Request](f func(*services, *uaserver.Request, Q)) handler {
	return handler{typ: reflect.TypeFor[Q](), parks: true, serve: func(s *services, r *uaserver.Request) ua.Response {
		f(s, r, r.Body.(Q))
		return nil
	}}
}

// noRequest adapts a service that needs neither the session nor the request
// beyond its body.
func noRequest[Q ua.Request](f func(*services, Q) ua.Response) func(*services, *uaserver.Request, Q) ua.Response {
	return func(s *services, _ *uaserver.Request, q Q) ua.Response { return f(s, q) }
}
