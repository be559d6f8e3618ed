// Package uaservertest holds the stub services that the protocol server's
// tests serve: its unit tests (package uaserver) and the node-opcua
// end-to-end tests (test/opcua) answer the same requests with the same
// values, so a client sees the same server in both. It imports only
// gopcua's ua, never uaserver (whose own tests import it); each test
// adapts Stub to uaserver.Services in a few lines. For tests only.
package uaservertest

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
)

const (
	// BigNode (ns=1) reads as a string larger than any chunk (response
	// chunking).
	BigNode = "Big"
	bigSize = 300 << 10
	// PanicNode makes the stub panic.
	PanicNode = "Panic"
	// Value is what every other node reads as.
	Value = 42.5
)

// BigValue is the value of BigNode.
var BigValue = strings.Repeat("0123456789abcdef", bigSize/16)

// Stub answers Read with fixed values, Browse with one reference,
// CreateSubscription with id 1 and Publish with a keep-alive after a short
// hold, and counts the requests it answers by service.
type Stub struct {
	mu     sync.Mutex
	served map[string]int // requests per service
	seq    uint32
	closed chan Closed
	errs   map[string]error // the last Respond error per service
}

// Closed is a session the stub was told of its end (Services.SessionClosed).
type Closed struct {
	ID                  *ua.NodeID
	User                string
	DeleteSubscriptions bool
}

// NewStub returns a stub that has answered nothing.
func NewStub() *Stub {
	return &Stub{served: map[string]int{}, closed: make(chan Closed, 100), errs: map[string]error{}}
}

// SessionClosed records the end of a session (Services.SessionClosed).
func (st *Stub) SessionClosed(c Closed) { st.closed <- c }

// WaitClosed waits for the next session end the stub was told of.
func (st *Stub) WaitClosed(t testing.TB) Closed {
	t.Helper()
	select {
	case c := <-st.closed:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("no session closed")
		return Closed{}
	}
}

// Count is the number of requests of a service ("Read", "Write", …) the
// stub was asked to answer.
func (st *Stub) Count(service string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.served[service]
}

// RespondErr is what Respond returned for the last request of a service
// the stub answered (nil: sent, or none answered yet).
func (st *Stub) RespondErr(service string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.errs[service]
}

// Offers says which requests the stub answers (Services.Offers): the ones
// it answers, and Write (which it refuses itself).
func (st *Stub) Offers(req ua.Request) bool {
	switch req.(type) {
	case *ua.ReadRequest, *ua.WriteRequest, *ua.BrowseRequest, *ua.CreateSubscriptionRequest,
		*ua.PublishRequest, *ua.DeleteSubscriptionsRequest:
		return true
	}
	return false
}

// Answer answers one request through respond (Services.Serve).
func (st *Stub) Answer(body ua.Request, respond func(ua.Response) error) {
	service := strings.TrimSuffix(reflect.TypeOf(body).Elem().Name(), "Request")
	st.mu.Lock()
	st.served[service]++
	st.mu.Unlock()
	respond = func(send func(ua.Response) error) func(ua.Response) error {
		return func(resp ua.Response) error {
			err := send(resp)
			st.mu.Lock()
			st.errs[service] = err
			st.mu.Unlock()
			return err
		}
	}(respond)
	switch q := body.(type) {
	case *ua.ReadRequest:
		results := make([]*ua.DataValue, len(q.NodesToRead))
		for i, n := range q.NodesToRead {
			if n.NodeID.StringID() == PanicNode {
				panic("stub services panic")
			}
			v := ua.MustVariant(Value)
			switch {
			case n.NodeID.Namespace() == 1 && n.NodeID.StringID() == BigNode:
				v = ua.MustVariant(BigValue)
			case n.NodeID.Namespace() == 0 && n.NodeID.IntID() == id.Server_NamespaceArray:
				v = ua.MustVariant([]string{"http://opcfoundation.org/UA/", "urn:svgateway:test"})
			}
			results[i] = &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueServerTimestamp, Value: v, ServerTimestamp: time.Now()}
		}
		_ = respond(&ua.ReadResponse{Results: results})
	case *ua.BrowseRequest:
		results := make([]*ua.BrowseResult, len(q.NodesToBrowse))
		for i := range results {
			results[i] = &ua.BrowseResult{References: []*ua.ReferenceDescription{{
				ReferenceTypeID: ua.NewNumericNodeID(0, id.Organizes),
				IsForward:       true,
				NodeID:          ua.NewStringExpandedNodeID(1, "Leaf"),
				BrowseName:      &ua.QualifiedName{NamespaceIndex: 1, Name: "Leaf"},
				DisplayName:     ua.NewLocalizedText("Leaf"),
				NodeClass:       ua.NodeClassVariable,
				TypeDefinition:  ua.NewNumericExpandedNodeID(0, id.BaseDataVariableType),
			}}}
		}
		_ = respond(&ua.BrowseResponse{Results: results})
	case *ua.CreateSubscriptionRequest:
		_ = respond(&ua.CreateSubscriptionResponse{SubscriptionID: 1, RevisedPublishingInterval: 100,
			RevisedLifetimeCount: q.RequestedLifetimeCount, RevisedMaxKeepAliveCount: q.RequestedMaxKeepAliveCount})
	case *ua.PublishRequest:
		// hold the request, then answer with a keep-alive from another goroutine
		time.AfterFunc(100*time.Millisecond, func() {
			st.mu.Lock()
			st.seq++
			seq := st.seq
			st.mu.Unlock()
			_ = respond(&ua.PublishResponse{SubscriptionID: 1,
				NotificationMessage: &ua.NotificationMessage{SequenceNumber: seq, PublishTime: time.Now()}})
		})
	case *ua.DeleteSubscriptionsRequest:
		_ = respond(&ua.DeleteSubscriptionsResponse{Results: make([]ua.StatusCode, len(q.SubscriptionIDs))})
	default:
		_ = respond(&ua.ServiceFault{ResponseHeader: &ua.ResponseHeader{ServiceResult: ua.StatusBadServiceUnsupported}})
	}
}
