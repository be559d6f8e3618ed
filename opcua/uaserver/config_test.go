package uaserver

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{AllowAnonymous: true}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "opc.tcp://127.0.0.1:4840" || !strings.HasPrefix(c.ApplicationURI, "urn:") || c.ApplicationName != "svgateway" {
		t.Errorf("identity defaults: %+v", c)
	}
	want := []securityPair{
		{ua.SecurityPolicyURIAes256Sha256RsaPss, ua.MessageSecurityModeSignAndEncrypt},
		{ua.SecurityPolicyURIAes256Sha256RsaPss, ua.MessageSecurityModeSign},
		{ua.SecurityPolicyURIAes128Sha256RsaOaep, ua.MessageSecurityModeSignAndEncrypt},
		{ua.SecurityPolicyURIAes128Sha256RsaOaep, ua.MessageSecurityModeSign},
		{ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt},
		{ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign},
	}
	if !slices.Equal(c.endpoints, want) || c.OffersNone() {
		t.Errorf("default endpoints %v", c.endpoints)
	}
	if c.Hostnames[0] != "127.0.0.1" {
		t.Errorf("hostnames %v", c.Hostnames)
	}
	if c.MaxSessions != 100 || c.MaxConnections != 100 || c.MinSessionTimeout != 10*time.Second || c.MaxMessageSize != 4<<20 {
		t.Errorf("bounds %+v", c)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	ok := func(c *Config) { c.AllowAnonymous = true }
	for _, tt := range []struct {
		key    string
		mutate func(c *Config)
	}{
		{"opcua.endpoint", func(c *Config) { ok(c); c.Endpoint = "http://127.0.0.1:4840" }},
		{"opcua.endpoint", func(c *Config) { ok(c); c.Endpoint = "opc.tcp://127.0.0.1:99999" }},
		{"opcua.application_uri", func(c *Config) { ok(c); c.ApplicationURI = "not a uri" }},
		{"opcua.security[1]", func(c *Config) { ok(c); c.Security = []string{"None", "Basic128Rsa15:Sign"} }},
		{"opcua.security[0]", func(c *Config) { ok(c); c.Security = []string{"Basic256Sha256:Encrypt"} }},
		{"opcua.security[1]", func(c *Config) { ok(c); c.Security = []string{"None", "None"} }},
		{"opcua.users", func(c *Config) {}},
		{"opcua.users[0]", func(c *Config) { c.Users = []User{{Name: "a"}} }},
		{"opcua.users[0]", func(c *Config) { c.Users = []User{{Name: "a", Password: "x", PasswordHash: "y"}} }},
		{"opcua.users[0].password_hash", func(c *Config) { c.Users = []User{{Name: "a", PasswordHash: "plaintext"}} }},
		{"opcua.users[1].name", func(c *Config) { c.Users = []User{{Name: "a", Password: "x"}, {Name: "a", Password: "y"}} }},
		{"opcua.receive_buffer_size", func(c *Config) { ok(c); c.ReceiveBufferSize = 1024 }},
		{"opcua.min_session_timeout", func(c *Config) { ok(c); c.MinSessionTimeout = 2 * time.Hour }},
		{"opcua.hostnames[0]", func(c *Config) { ok(c); c.Hostnames = []string{"a b"} }},
	} {
		var c Config
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.key+":") {
			t.Errorf("want an error naming %s, got %v", tt.key, err)
		}
	}
}

func TestConfigAllAddressesAdvertiseNames(t *testing.T) {
	c := Config{Endpoint: "opc.tcp://0.0.0.0:4840", AllowAnonymous: true}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, h := range c.Hostnames {
		if h == "0.0.0.0" {
			t.Errorf("hostnames %v include the unspecified address", c.Hostnames)
		}
	}
}
