package e2e

import (
	"context"
	"testing"
	"time"

	gopcua "github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/model/modeltest"
)

// TestGopcuaAlarmEvents: a second client library, gopcua's (v0.8.0),
// subscribes to the Server object's events with an EventFilter and
// receives an alarm raised in the model, with its condition's fields.
func TestGopcuaAlarmEvents(t *testing.T) {
	s := start(t, modeltest.Shape{IBXs: 1, Cages: 1, Cabinets: 1, Circuits: 1, Assets: 3, Tags: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := gopcua.NewClient(s.EndpointURL(), gopcua.SecurityMode(ua.MessageSecurityModeNone), gopcua.AutoReconnect(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close(context.Background())
	ch := make(chan *gopcua.PublishNotificationData, 16)
	sub, err := c.Subscribe(ctx, &gopcua.SubscriptionParameters{Interval: 10 * time.Millisecond}, ch)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub.Cancel(context.Background())
	field := func(ns uint16, names ...string) *ua.SimpleAttributeOperand {
		var path []*ua.QualifiedName
		for _, n := range names {
			path = append(path, &ua.QualifiedName{NamespaceIndex: ns, Name: n})
		}
		return &ua.SimpleAttributeOperand{TypeDefinitionID: ua.NewNumericNodeID(0, id.BaseEventType), BrowsePath: path,
			AttributeID: ua.AttributeIDValue}
	}
	filter := &ua.EventFilter{
		SelectClauses: []*ua.SimpleAttributeOperand{field(0, "EventType"), field(0, "Severity"), field(0, "ActiveState", "Id"),
			field(0, "SourceName"), field(3, "AlarmId")},
		WhereClause: &ua.ContentFilter{Elements: []*ua.ContentFilterElement{{FilterOperator: ua.FilterOperatorGreaterThanOrEqual,
			FilterOperands: []*ua.ExtensionObject{ua.NewExtensionObject(field(0, "Severity")),
				ua.NewExtensionObject(&ua.LiteralOperand{Value: ua.MustVariant(uint16(800))})}}}},
	}
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnNeither, &ua.MonitoredItemCreateRequest{
		// gopcua encodes a nil DataEncoding as nothing at all: give it the empty one
		ItemToMonitor: &ua.ReadValueID{NodeID: ua.NewNumericNodeID(0, id.Server), AttributeID: ua.AttributeIDEventNotifier,
			DataEncoding: &ua.QualifiedName{}},
		MonitoringMode: ua.MonitoringModeReporting,
		RequestedParameters: &ua.MonitoringParameters{ClientHandle: 7, QueueSize: 100, DiscardOldest: true,
			Filter: ua.NewExtensionObject(filter)},
	})
	if err != nil || res.Results[0].StatusCode != ua.StatusGood {
		t.Fatalf("Monitor: %v %v", err, res)
	}
	asset := s.store.Snapshot().Structure().Asset(0)
	raise := func(condition string, sev model.Severity) {
		s.store.Update(func(tx *model.Tx) error {
			tx.ObserveAlarm(model.AlarmObservation{IBX: asset.IBX, AssetID: asset.ID, Condition: condition, Severity: sev,
				Active: true, Triggered: time.Now(), Processed: time.Now()}, "feed")
			return nil
		})
	}
	raise("Low fuel", model.SeverityLow)      // 500: filtered out by the where clause
	raise("On battery", model.SeverityUrgent) // 900
	for {
		select {
		case n := <-ch:
			if n.Error != nil {
				t.Fatal(n.Error)
			}
			l, ok := n.Value.(*ua.EventNotificationList)
			if !ok {
				continue
			}
			if len(l.Events) != 1 {
				t.Fatalf("%d events, want the urgent one", len(l.Events))
			}
			f := l.Events[0].EventFields
			if et, _ := f[0].Value().(*ua.NodeID); et == nil || et.IntID() != 1020 || f[1].Value() != uint16(900) ||
				f[2].Value() != true || f[3].Value() != asset.ID || f[4].Value() != uint64(2) {
				t.Fatalf("event fields %v", f)
			}
			return
		case <-ctx.Done():
			t.Fatal("no event")
		}
	}
}
