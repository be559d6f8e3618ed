package snmp

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNotifyConfigValidate(t *testing.T) {
	c := Config{Targets: []Target{{Address: "10.1.2.3", Community: "public"}, {Address: "[::1]:1162", Version: "v3", Kind: "inform",
		User: "u", AuthProtocol: "sha-256", AuthPassphrase: "12345678"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	v1 := Config{Targets: []Target{{Address: "10.1.2.3", Version: "v1", Community: "public", AgentAddress: "192.0.2.1"}},
		Communities: []Community{{Name: "c"}}}
	if err := v1.Validate(); err != nil || v1.Targets[0].Name != "10.1.2.3:162/v1/trap" || !slices.Equal(v1.Communities[0].Versions, []string{"v2c"}) {
		t.Errorf("v1 target: %v %+v; community versions default %q", err, v1.Targets[0], v1.Communities[0].Versions)
	}
	tg := c.Targets[0]
	if tg.Address != "10.1.2.3:162" || tg.Version != "v2c" || tg.Kind != "trap" || tg.Name != "10.1.2.3:162/v2c/trap" ||
		tg.Timeout != 5*time.Second || tg.Expire != 24*time.Hour || tg.QueueSize != 10000 || tg.RateLimit != 100 {
		t.Errorf("target defaults: %+v", tg)
	}
	if level, _, _ := c.Targets[1].USM(); level != 1 { // authNoPriv
		t.Errorf("v3 without privacy: level %v", level)
	}
	ax := c.AgentX
	if ax.Socket != DefaultAgentXSocket || ax.Timeout != 5*time.Second || ax.Priority != 127 || ax.PingInterval != 15*time.Second || ax.QueueSize != 10000 {
		t.Errorf("agentx defaults: %+v", ax)
	}

	secret := "very-secret-pass"
	bad := Config{
		HeartbeatInterval: time.Millisecond,
		AgentX:            AgentXConfig{Socket: "udp:1.2.3.4:705", Timeout: time.Hour, Priority: 300, PingInterval: time.Millisecond, RateLimit: -1},
		Targets: []Target{
			{Address: "", Community: ""},
			{Address: "h:1", Version: "v2", Kind: "notify", Community: secret, Retries: -1, Timeout: time.Hour, QueueSize: -5},
			{Address: "h:2", Version: "v3", Community: secret, AuthProtocol: "MD5", AuthPassphrase: "x", PrivProtocol: "DES", PrivPassphrase: secret},
			{Address: "h:3", Version: "v3", User: "u", AuthProtocol: "SHA", AuthPassphrase: secret, PrivPassphrase: secret, Expire: time.Millisecond},
			{Name: "dup", Address: "h:4", Community: "c"}, {Name: "dup", Address: "h:5", Community: "c"},
			{Address: "h:6", Version: "v1", Kind: "inform", Community: secret, AgentAddress: "::1"},
			{Address: "h:7", Version: "v1"},
			{Address: "h:8", Community: "c", AgentAddress: "10.0.0.1"},
		},
		Communities: []Community{{Name: secret, Versions: []string{"v1", "v3"}}},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"snmp.heartbeat_interval", "snmp.agentx.socket", "snmp.agentx.timeout", "snmp.agentx.priority",
		"snmp.agentx.ping_interval", "snmp.agentx.rate_limit", "snmp.targets[0].address", "snmp.targets[0].community",
		"snmp.targets[1].version", "snmp.targets[1].kind", "snmp.targets[1].retries", "snmp.targets[1].timeout", "snmp.targets[1].queue_size",
		"snmp.targets[2].user", "snmp.targets[2].community", "snmp.targets[2].auth_protocol", "snmp.targets[2].auth_passphrase",
		"snmp.targets[2].priv_protocol", "snmp.targets[3].priv_passphrase", "snmp.targets[3].expire", "snmp.targets[5].name",
		"snmp.targets[6].kind", "snmp.targets[6].agent_address", "snmp.targets[7].community", "snmp.targets[8].agent_address",
		"snmp.communities[0].versions"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("no error for %s in:\n%v", key, err)
		}
	}
	for _, want := range []string{`SNMPv1 has no informs`, `"::1" is not an IPv4 address`, `"v3" is not v1 or v2c`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("a secret reached the error message:\n%v", err)
	}
}
