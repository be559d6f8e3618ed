package opcua

import (
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// HistoryRead: the details say what to read. ReadEventDetails reads alarm
// events (history_events.go); every other kind is refused per node with
// Bad_HistoryOperationUnsupported.

// maxHistoryNodes bounds the nodes of one HistoryRead request.
const maxHistoryNodes = 1000

func (s *services) historyRead(r *uaserver.Request, req *ua.HistoryReadRequest) ua.Response {
	if code := s.checkCount(len(req.NodesToRead), maxHistoryNodes); code != ua.StatusGood {
		return uaserver.Fault(code)
	}
	if req.TimestampsToReturn > ua.TimestampsToReturnNeither {
		return uaserver.Fault(ua.StatusBadTimestampsToReturnInvalid)
	}
	if req.HistoryReadDetails == nil || req.HistoryReadDetails.Value == nil {
		return uaserver.Fault(ua.StatusBadHistoryOperationInvalid)
	}
	var results []*ua.HistoryReadResult
	switch d := req.HistoryReadDetails.Value.(type) {
	case *ua.ReadEventDetails:
		results = s.historyReadEvents(r, d, req.NodesToRead, req.ReleaseContinuationPoints)
	default:
		results = make([]*ua.HistoryReadResult, len(req.NodesToRead))
		for i := range results {
			results[i] = &ua.HistoryReadResult{StatusCode: ua.StatusBadHistoryOperationUnsupported, HistoryData: ua.NewExtensionObject(nil)}
		}
	}
	return &ua.HistoryReadResponse{ResponseHeader: uaserver.Header(ua.StatusGood), Results: results, DiagnosticInfos: []*ua.DiagnosticInfo{}}
}
