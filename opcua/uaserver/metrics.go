package uaserver

import (
	"fmt"
	"strings"

	"github.com/gopcua/opcua/ua"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the channel and session layer.
type metrics struct {
	channels     prometheus.Gauge
	sessions     prometheus.Gauge
	requests     *prometheus.CounterVec // service
	badRequests  *prometheus.CounterVec // status
	authFailures *prometheus.CounterVec // reason
	// refusedConnections counts connections refused at admission.
	refusedConnections *prometheus.CounterVec // reason
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		channels: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "svgateway_opcua_channels", Help: "Open OPC UA connections (secure channels and connections still negotiating).",
		}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "svgateway_opcua_sessions", Help: "OPC UA sessions (created or activated).",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_opcua_requests_total", Help: "OPC UA service requests received, by service.",
		}, []string{"service"}),
		badRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_opcua_bad_requests_total", Help: "OPC UA requests and messages refused by the channel and session layer, by status.",
		}, []string{"status"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_opcua_auth_failures_total", Help: "Refused OPC UA clients and users, by reason.",
		}, []string{"reason"}),
		refusedConnections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "svgateway_opcua_refused_connections_total",
			Help: "OPC UA connections refused at admission, by reason (per_address: max_connections_per_address; full: no slot left).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.channels, m.sessions, m.requests, m.badRequests, m.authFailures, m.refusedConnections)
	}
	return m
}

// statusName is the short symbolic name of a status code, e.g.
// "BadSessionIDInvalid", for metric labels and log fields.
func statusName(code ua.StatusCode) string {
	if d, ok := ua.StatusCodes[code]; ok {
		return strings.TrimPrefix(d.Name, "Status")
	}
	return fmt.Sprintf("0x%08X", uint32(code))
}
