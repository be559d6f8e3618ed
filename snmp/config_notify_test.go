package snmp

import (
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
			{Address: "h:1", Version: "v1", Kind: "notify", Community: secret, Retries: -1, Timeout: time.Hour, QueueSize: -5},
			{Address: "h:2", Version: "v3", Community: secret, AuthProtocol: "MD5", AuthPassphrase: "x", PrivProtocol: "DES", PrivPassphrase: secret},
			{Address: "h:3", Version: "v3", User: "u", AuthProtocol: "SHA", AuthPassphrase: secret, PrivPassphrase: secret, Expire: time.Millisecond},
			{Name: "dup", Address: "h:4", Community: "c"}, {Name: "dup", Address: "h:5", Community: "c"},
		},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"snmp.heartbeat_interval", "snmp.agentx.socket", "snmp.agentx.timeout", "snmp.agentx.priority",
		"snmp.agentx.ping_interval", "snmp.agentx.rate_limit", "snmp.targets[0].address", "snmp.targets[0].community",
		"snmp.targets[1].version", "snmp.targets[1].kind", "snmp.targets[1].retries", "snmp.targets[1].timeout", "snmp.targets[1].queue_size",
		"snmp.targets[2].user", "snmp.targets[2].community", "snmp.targets[2].auth_protocol", "snmp.targets[2].auth_passphrase",
		"snmp.targets[2].priv_protocol", "snmp.targets[3].priv_passphrase", "snmp.targets[3].expire", "snmp.targets[5].name"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("no error for %s in:\n%v", key, err)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("a secret reached the error message:\n%v", err)
	}
}
