package opcua

import (
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/nodeset"
	"github.com/svgateway/svgateway/opcua/uaserver"
)

// serverBindings are the values of the Server object (namespace 0):
// status, namespaces, capabilities and the operation limits the services
// enforce.
func serverBindings() map[uint32]binding {
	info := func(f func(*uaserver.ServerInfo) *ua.Variant) binding {
		return binding{value: func(c *evalCtx, _ node) sample { i := c.srv.serverInfo(); return good(f(&i)) }}
	}
	limit := func(f func(*Limits) int) binding {
		return binding{value: func(c *evalCtx, _ node) sample { return good(variant(uint32(f(&c.srv.limits)))) }}
	}
	fixed := func(v any) binding {
		vv := variant(v)
		return binding{value: func(*evalCtx, node) sample { return good(vv) }}
	}
	clock := binding{source: srcClock, value: func(c *evalCtx, _ node) sample { return good(variant(c.now.UTC())) }}
	status := binding{source: srcClock, value: func(c *evalCtx, _ node) sample {
		i := c.srv.serverInfo()
		return good(variant(ua.NewExtensionObject(&ua.ServerStatusDataType{
			StartTime: i.StartTime, CurrentTime: c.now.UTC(), State: ua.ServerStateRunning,
			BuildInfo: &i.BuildInfo, ShutdownReason: ua.NewLocalizedText(""),
		})))
	}}
	return map[uint32]binding{
		id.Server_ServerArray: info(func(i *uaserver.ServerInfo) *ua.Variant { return variant([]string{i.ApplicationURI}) }),
		id.Server_NamespaceArray: info(func(i *uaserver.ServerInfo) *ua.Variant {
			return variant([]string{nodeset.UAURI, i.ApplicationURI, InstancesURI, nodeset.TypesURI})
		}),
		id.Server_Auditing:     fixed(false),
		id.Server_ServerStatus: status,
		id.Server_ServerStatus_StartTime: info(func(i *uaserver.ServerInfo) *ua.Variant {
			return variant(i.StartTime.UTC())
		}),
		id.Server_ServerStatus_CurrentTime:                clock,
		id.Server_ServerStatus_State:                      fixed(int32(ua.ServerStateRunning)),
		id.Server_ServerStatus_BuildInfo:                  info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(ua.NewExtensionObject(&i.BuildInfo)) }),
		id.Server_ServerStatus_BuildInfo_ProductURI:       info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(i.BuildInfo.ProductURI) }),
		id.Server_ServerStatus_BuildInfo_ManufacturerName: info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(i.BuildInfo.ManufacturerName) }),
		id.Server_ServerStatus_BuildInfo_ProductName:      info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(i.BuildInfo.ProductName) }),
		id.Server_ServerStatus_BuildInfo_SoftwareVersion:  info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(i.BuildInfo.SoftwareVersion) }),
		id.Server_ServerStatus_BuildInfo_BuildNumber:      info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(i.BuildInfo.BuildNumber) }),
		id.Server_ServerStatus_BuildInfo_BuildDate:        info(func(i *uaserver.ServerInfo) *ua.Variant { return variant(i.BuildInfo.BuildDate.UTC()) }),
		id.Server_ServerStatus_SecondsTillShutdown:        fixed(uint32(0)),
		id.Server_ServerStatus_ShutdownReason:             fixed(ua.NewLocalizedText("")),
		id.Server_ServerCapabilities_ServerProfileArray: fixed([]string{
			"http://opcfoundation.org/UA-Profile/Server/EmbeddedUA2017"}),
		id.Server_ServerCapabilities_LocaleIDArray: fixed([]string{"en"}),
		id.Server_ServerCapabilities_MinSupportedSampleRate: binding{value: func(c *evalCtx, _ node) sample {
			return good(variant(float64(c.srv.limits.MinSamplingInterval.Milliseconds())))
		}},
		id.Server_ServerCapabilities_MaxBrowseContinuationPoints: binding{value: func(c *evalCtx, _ node) sample {
			return good(variant(uint16(min(c.srv.limits.MaxBrowseContinuationPoints, 0xffff))))
		}},
		id.Server_ServerCapabilities_MaxQueryContinuationPoints: fixed(uint16(0)),
		id.Server_ServerCapabilities_MaxHistoryContinuationPoints: binding{value: func(c *evalCtx, _ node) sample {
			if c.srv.hist == nil {
				return good(variant(uint16(0)))
			}
			return good(variant(uint16(min(c.srv.limits.MaxHistoryContinuationPoints, 0xffff))))
		}},
		id.Server_ServerCapabilities_SoftwareCertificates:       fixed([]*ua.ExtensionObject{}),
		id.Server_ServerCapabilities_MaxSubscriptionsPerSession: limit(func(l *Limits) int { return l.MaxSubscriptionsPerSession }),
		id.Server_ServerCapabilities_MaxMonitoredItemsPerSubscription: limit(func(l *Limits) int {
			return l.MaxMonitoredItemsPerSubscription
		}),
		id.Server_ServerCapabilities_MaxMonitoredItemsQueueSize:        limit(func(l *Limits) int { return l.MaxQueueSize }),
		id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead:   limit(func(l *Limits) int { return l.MaxNodesPerRead }),
		id.Server_ServerCapabilities_OperationLimits_MaxNodesPerWrite:  limit(func(l *Limits) int { return l.MaxNodesPerRead }),
		id.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse: limit(func(l *Limits) int { return l.MaxNodesPerBrowse }),
		id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRegisterNodes: limit(func(l *Limits) int {
			return l.MaxNodesPerRegisterNodes
		}),
		id.Server_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIDs: limit(func(l *Limits) int {
			return l.MaxNodesPerTranslateBrowsePaths
		}),
		id.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall: limit(func(l *Limits) int {
			return l.MaxMonitoredItemsPerCall
		}),
	}
}
