package snmp

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// AgentXConfig is the [snmp.agentx] table: the AgentX subagent. The
// subagent and the standalone agent are independent: either, both or none
// may run (under snmpd, set [snmp] listen = "off" and let snmpd answer).
type AgentXConfig struct {
	// Enabled connects to the master agent (snmpd with "master agentx").
	Enabled bool `toml:"enabled"`
	// Socket is the master's AgentX address: "unix:/path" or
	// "tcp:host:port" (default unix:/var/agentx/master, snmpd's own default).
	Socket string `toml:"socket"`
	// Timeout is how long the master should wait for our answers (sent in
	// the Open PDU, whole seconds, at most 255 s) and how long we wait for
	// the master's (default 5s).
	Timeout time.Duration `toml:"timeout"`
	// Priority of the registration of our subtree: 1 (highest) to 255
	// (default 127, as net-snmp's subagents).
	Priority int `toml:"priority"`
	// Context registers the subtree in this non-default SNMP context
	// (a v3 context name, or a community snmpd maps to it); empty: the
	// default context.
	Context string `toml:"context"`
	// PingInterval is how often the subagent checks that the master still
	// answers (default 15s, like net-snmp's agentxPingInterval).
	PingInterval time.Duration `toml:"ping_interval"`
	// QueueSize and RateLimit bound the notifications sent through the
	// master (AgentX Notify), as for a target (defaults 10000 and 100/s).
	QueueSize int     `toml:"queue_size"`
	RateLimit float64 `toml:"rate_limit"`
}

// Target is one [[snmp.targets]] entry: a manager that receives every
// notification directly from the gateway (SNMPv2c or SNMPv3 USM, trap or
// inform). Targets apply with and without AgentX.
type Target struct {
	// Name identifies the target in metrics, logs and the outbox
	// (default "address/version/kind"). Renaming a target abandons what
	// was still queued for it under the old name.
	Name string `toml:"name"`
	// Address is the manager's UDP host:port (port 162 when omitted).
	Address string `toml:"address"`
	// Version is "v2c" (default), "v3" or "v1" (SNMPv1 Trap-PDUs, RFC 3584
	// 3.2: for legacy consoles; traps only).
	Version string `toml:"version"`
	// Kind is "trap" (default; unacknowledged) or "inform" (acknowledged,
	// retried until acknowledged or expired).
	Kind string `toml:"kind"`
	// Community is the v1 or v2c community.
	Community string `toml:"community" secret:"true"`
	// AgentAddress is the agent-addr of v1 traps: an IPv4 address
	// (default: the source address the trap is sent from).
	AgentAddress string `toml:"agent_address"`
	// User, AuthProtocol, AuthPassphrase, PrivProtocol and PrivPassphrase
	// are the v3 USM credentials, with the protocols [[snmp.users]] take;
	// authentication is required, privacy optional (authPriv with it). v3
	// traps are sent from the gateway's engine (snmp.engine_id: the
	// manager must know it); v3 informs discover the manager's engine.
	User           string `toml:"user"`
	AuthProtocol   string `toml:"auth_protocol"`
	AuthPassphrase string `toml:"auth_passphrase" secret:"true"`
	PrivProtocol   string `toml:"priv_protocol"`
	PrivPassphrase string `toml:"priv_passphrase" secret:"true"`
	// Timeout is how long an inform waits for its acknowledgement before
	// it is sent again (default 5s).
	Timeout time.Duration `toml:"timeout"`
	// Retries bounds the re-sends of an unacknowledged inform, with
	// exponential backoff between them (1s doubling to 1 min); 0 (default):
	// no bound other than Expire.
	Retries int `toml:"retries"`
	// Expire drops a notification not delivered within this time after it
	// was queued (default 24h), counted as expired.
	Expire time.Duration `toml:"expire"`
	// QueueSize bounds the notifications waiting for this target (default
	// 10000). Clears may exceed it up to four times: size it for the
	// largest burst of clears expected (see package snmp/notify).
	QueueSize int `toml:"queue_size"`
	// RateLimit is the most notifications per second sent to this target
	// (default 100).
	RateLimit float64 `toml:"rate_limit"`
}

// Defaults of the notification configuration.
const (
	DefaultAgentXSocket  = "unix:/var/agentx/master"
	defaultAgentXTimeout = 5 * time.Second
	defaultPriority      = 127
	defaultPingInterval  = 15 * time.Second
	defaultInformTimeout = 5 * time.Second
	defaultExpire        = 24 * time.Hour
	defaultQueueSize     = 10000
	defaultRateLimit     = 100
)

// Versions and kinds of targets.
const (
	VersionV1  = "v1"
	VersionV2c = "v2c"
	VersionV3  = "v3"
	KindTrap   = "trap"
	KindInform = "inform"
)

// validateNotify fills in the defaults of [snmp.agentx], [[snmp.targets]]
// and heartbeat_interval and checks them.
func (c *Config) validateNotify() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("snmp.%s: "+format, append([]any{key}, args...)...))
	}
	if c.HeartbeatInterval < 0 || (c.HeartbeatInterval > 0 && c.HeartbeatInterval < time.Second) {
		bad("heartbeat_interval", "%v: 0 (off) or at least 1s", c.HeartbeatInterval)
	}
	ax := &c.AgentX
	if ax.Socket == "" {
		ax.Socket = DefaultAgentXSocket
	}
	if !strings.HasPrefix(ax.Socket, "unix:/") && !strings.HasPrefix(ax.Socket, "/") {
		if a, ok := strings.CutPrefix(ax.Socket, "tcp:"); !ok {
			bad("agentx.socket", "%q is not unix:/path or tcp:host:port", ax.Socket)
		} else if _, _, err := net.SplitHostPort(a); err != nil {
			bad("agentx.socket", "%q is not tcp:host:port", ax.Socket)
		}
	}
	if ax.Timeout == 0 {
		ax.Timeout = defaultAgentXTimeout
	}
	if ax.Timeout < 100*time.Millisecond || ax.Timeout > 255*time.Second {
		bad("agentx.timeout", "%v is outside 100ms..255s", ax.Timeout)
	}
	if ax.Priority == 0 {
		ax.Priority = defaultPriority
	}
	if ax.Priority < 1 || ax.Priority > 255 {
		bad("agentx.priority", "%d is outside 1..255", ax.Priority)
	}
	if len(ax.Context) > maxAdminString {
		bad("agentx.context", "longer than %d octets", maxAdminString)
	}
	if ax.PingInterval == 0 {
		ax.PingInterval = defaultPingInterval
	}
	if ax.PingInterval < time.Second {
		bad("agentx.ping_interval", "%v is shorter than 1s", ax.PingInterval)
	}
	queueDefaults(&ax.QueueSize, &ax.RateLimit, "agentx", bad)

	names := map[string]bool{}
	for i := range c.Targets {
		tg := &c.Targets[i]
		key := fmt.Sprintf("targets[%d]", i)
		if tg.Address == "" {
			bad(key+".address", "empty")
		} else {
			if _, _, err := net.SplitHostPort(tg.Address); err != nil {
				tg.Address = net.JoinHostPort(strings.Trim(tg.Address, "[]"), "162")
			}
			if _, err := net.ResolveUDPAddr("udp", tg.Address); err != nil {
				bad(key+".address", "%q is not host:port: %v", tg.Address, err)
			}
		}
		if tg.Version == "" {
			tg.Version = VersionV2c
		}
		if tg.Kind == "" {
			tg.Kind = KindTrap
		}
		if tg.AgentAddress != "" {
			if a, err := netip.ParseAddr(tg.AgentAddress); err != nil || !a.Is4() {
				bad(key+".agent_address", "%q is not an IPv4 address", tg.AgentAddress)
			}
			if tg.Version != VersionV1 {
				bad(key+".agent_address", "set on a %s target (only v1 traps carry an agent address)", tg.Version)
			}
		}
		switch tg.Version {
		case VersionV1, VersionV2c:
			if tg.Community == "" {
				bad(key+".community", "empty (a %s target needs one)", tg.Version)
			}
			if tg.Version == VersionV1 && tg.Kind == KindInform {
				bad(key+".kind", "%q: SNMPv1 has no informs (use v2c or v3 for informs)", tg.Kind)
			}
			if tg.User != "" {
				bad(key+".user", "set on a v2c target")
			}
		case VersionV3:
			if tg.User == "" || len(tg.User) > 32 {
				bad(key+".user", "must be 1 to 32 octets for a v3 target")
			}
			if tg.Community != "" {
				bad(key+".community", "set on a v3 target")
			}
			checkUSM(bad, key, tg.AuthProtocol, tg.AuthPassphrase, tg.PrivProtocol, tg.PrivPassphrase)
		default:
			bad(key+".version", "%q is not v1, v2c or v3", tg.Version)
		}
		if tg.Kind != KindTrap && tg.Kind != KindInform {
			bad(key+".kind", "%q is not trap or inform", tg.Kind)
		}
		if tg.Timeout == 0 {
			tg.Timeout = defaultInformTimeout
		}
		if tg.Timeout < 10*time.Millisecond || tg.Timeout > 10*time.Minute {
			bad(key+".timeout", "%v is outside 10ms..10m", tg.Timeout)
		}
		if tg.Retries < 0 {
			bad(key+".retries", "negative")
		}
		if tg.Expire == 0 {
			tg.Expire = defaultExpire
		}
		if tg.Expire < time.Second {
			bad(key+".expire", "%v is shorter than 1s", tg.Expire)
		}
		queueDefaults(&tg.QueueSize, &tg.RateLimit, key, bad)
		if tg.Name == "" {
			tg.Name = tg.Address + "/" + tg.Version + "/" + tg.Kind
		}
		if names[tg.Name] {
			bad(key+".name", "%q names two targets", tg.Name)
		}
		names[tg.Name] = true
	}
	return errs
}

func queueDefaults(size *int, rate *float64, key string, bad func(key, format string, args ...any)) {
	if *size == 0 {
		*size = defaultQueueSize
	}
	if *size < 1 || *size > 1_000_000 {
		bad(key+".queue_size", "%d is outside 1..1000000", *size)
	}
	if *rate == 0 {
		*rate = defaultRateLimit
	}
	if *rate < 0.01 || *rate > 100_000 {
		bad(key+".rate_limit", "%v is outside 0.01..100000 per second", *rate)
	}
}

// USM returns the target's v3 security level and protocols (validated).
func (t *Target) USM() (gosnmp.SnmpV3MsgFlags, gosnmp.SnmpV3AuthProtocol, gosnmp.SnmpV3PrivProtocol) {
	auth := authProtocols[strings.ToUpper(t.AuthProtocol)]
	priv := privProtocols[strings.ToUpper(t.PrivProtocol)]
	if priv != gosnmp.NoPriv {
		return gosnmp.AuthPriv, auth, priv
	}
	return gosnmp.AuthNoPriv, auth, priv
}
