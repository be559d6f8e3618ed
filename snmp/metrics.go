package snmp

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a packet is dropped or a request fails, as counted.
type reason uint8

const (
	// Dropped without an answer.
	dropParse           reason = iota // not a well-formed SNMP message (snmpInASNParseErrs)
	dropBadVersion                    // SNMPv1 or unknown version (snmpInBadVersions)
	dropBadCommunity                  // unknown community or source (snmpInBadCommunityNames)
	dropInvalidMsg                    // v3 header values out of range (snmpInvalidMsgs)
	dropUnknownSecModel               // v3 security model other than USM (snmpUnknownSecurityModels)
	dropUnexpectedPDU                 // a Response, Trap, Inform or Report sent to the agent
	dropEncode                        // a response that could not be encoded (snmpSilentDrops)
	// USM reports (RFC 3414), sent when the request is reportable.
	authUnknownEngineID
	authUnknownUser
	authUnsupportedSecLevel
	authWrongDigest
	authNotInTimeWindow
	authDecryption
	authUnknownContext
	authUnknownPDUHandler
	// Error responses.
	respTooBig
	respNoAccess         // SET on a read-only agent (snmpInBadCommunityUses for v2c)
	respAuthorizationErr // a user below its security level
	respVersionRefused   // a community used with a version it does not answer (snmpInBadCommunityUses)
	respNoSuchName       // an SNMPv1 GET of no instance or of a Counter64, a GETNEXT past the end
	numReasons
)

var reasonNames = [numReasons]struct{ metric, label string }{
	dropParse: {"dropped", "parse"}, dropBadVersion: {"dropped", "bad_version"}, dropBadCommunity: {"auth_failures", "bad_community"},
	dropInvalidMsg: {"dropped", "invalid_msg"}, dropUnknownSecModel: {"dropped", "unknown_security_model"},
	dropUnexpectedPDU: {"dropped", "unexpected_pdu"}, dropEncode: {"dropped", "encode"},
	authUnknownEngineID: {"reports", "unknown_engine_id"}, authUnknownUser: {"auth_failures", "unknown_user"},
	authUnsupportedSecLevel: {"auth_failures", "unsupported_sec_level"}, authWrongDigest: {"auth_failures", "wrong_digest"},
	authNotInTimeWindow: {"reports", "not_in_time_window"}, authDecryption: {"auth_failures", "decryption"},
	authUnknownContext: {"reports", "unknown_context"}, authUnknownPDUHandler: {"reports", "unknown_pdu_handler"},
	respTooBig: {"error_responses", "too_big"}, respNoAccess: {"error_responses", "no_access"},
	respAuthorizationErr: {"auth_failures", "authorization"}, respVersionRefused: {"auth_failures", "version_not_allowed"},
	respNoSuchName: {"error_responses", "no_such_name"},
}

// Request kinds counted by version.
const (
	reqGet = iota
	reqGetNext
	reqGetBulk
	reqSet
	numReqKinds
)

var reqKindNames = [numReqKinds]string{"get", "getnext", "getbulk", "set"}

// stats are the agent's counters: read lock-free in the hot path, served
// as SNMP counters (snmpInPkts, usmStats*, ...) and exported to Prometheus
// by the same values.
type stats struct {
	packets  atomic.Uint64
	requests [numVersions][numReqKinds]atomic.Uint64 // [verV2c, verV3, verV1]
	varbinds atomic.Uint64
	reasons  [numReasons]atomic.Uint64
}

func (s *stats) count(r reason) uint64 { return s.reasons[r].Add(1) }

func (s *stats) counter32(r reason) uint32 { return uint32(s.reasons[r].Load()) }

var (
	descPackets  = prometheus.NewDesc("svgateway_snmp_packets_total", "UDP packets received by the SNMP agent.", nil, nil)
	descRequests = prometheus.NewDesc("svgateway_snmp_requests_total", "SNMP requests processed, by version and type.", []string{"version", "type"}, nil)
	descVarbinds = prometheus.NewDesc("svgateway_snmp_varbinds_total", "Varbinds served in responses.", nil, nil)
	descReasons  = map[string]*prometheus.Desc{
		"dropped":         prometheus.NewDesc("svgateway_snmp_dropped_total", "Packets dropped without an answer, by reason.", []string{"reason"}, nil),
		"auth_failures":   prometheus.NewDesc("svgateway_snmp_auth_failures_total", "Requests refused for their credentials, by reason.", []string{"reason"}, nil),
		"reports":         prometheus.NewDesc("svgateway_snmp_reports_total", "SNMPv3 reports for engine discovery, time synchronization and unknown contexts.", []string{"reason"}, nil),
		"error_responses": prometheus.NewDesc("svgateway_snmp_error_responses_total", "Responses with an error status, by status.", []string{"status"}, nil),
	}
	descTreeBuilds = prometheus.NewDesc("svgateway_snmp_tree_builds_total", "OID trees built (one per footprint structure).", nil, nil)
)

// collector exports an agent's stats to Prometheus.
type collector struct {
	s   *stats
	mib *MIB
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPackets
	ch <- descRequests
	ch <- descVarbinds
	for _, d := range descReasons {
		ch <- d
	}
	ch <- descTreeBuilds
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(c.s.packets.Load()))
	for v, name := range [numVersions]string{verV2c: "2c", verV3: "3", verV1: "1"} {
		for k := range numReqKinds {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(c.s.requests[v][k].Load()), name, reqKindNames[k])
		}
	}
	ch <- prometheus.MustNewConstMetric(descVarbinds, prometheus.CounterValue, float64(c.s.varbinds.Load()))
	for r := range numReasons {
		n := reasonNames[r]
		ch <- prometheus.MustNewConstMetric(descReasons[n.metric], prometheus.CounterValue, float64(c.s.reasons[r].Load()), n.label)
	}
	ch <- prometheus.MustNewConstMetric(descTreeBuilds, prometheus.CounterValue, float64(c.mib.Builds()))
}

// logLimiter lets one message per key through per interval and says how
// many were suppressed in between: malformed or unauthorized packets must
// not flood the log.
type logLimiter struct {
	mu         sync.Mutex
	interval   time.Duration
	last       map[string]time.Time
	suppressed map[string]int
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

func (l *logLimiter) log(log *slog.Logger, level slog.Level, key, msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.last[key]) < l.interval {
		l.suppressed[key]++
		l.mu.Unlock()
		return
	}
	n := l.suppressed[key]
	l.last[key], l.suppressed[key] = now, 0
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	log.Log(context.Background(), level, msg, args...)
}
