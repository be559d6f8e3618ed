package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
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
		{ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt},
		{ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign},
	}
	if len(c.endpoints) != 2 || c.endpoints[0] != want[0] || c.endpoints[1] != want[1] || c.OffersNone() {
		t.Errorf("default endpoints %v", c.endpoints)
	}
	if c.Hostnames[0] != "127.0.0.1" {
		t.Errorf("hostnames %v", c.Hostnames)
	}
	if c.Limits != DefaultLimits {
		t.Errorf("limits %+v", c.Limits)
	}
	if c.Limits.MaxMonitoredItemsPerSubscription < 10000 {
		t.Errorf("MaxMonitoredItemsPerSubscription %d", c.Limits.MaxMonitoredItemsPerSubscription)
	}
	if c.MaxSessions != 100 || c.MaxConnections != 100 || c.MinSessionTimeout != 10*time.Second || c.MaxMessageSize != 4<<20 {
		t.Errorf("bounds %+v", c)
	}
}

func TestConfigFromTOML(t *testing.T) {
	var file struct {
		OPCUA Config `toml:"opcua"`
	}
	md, err := toml.Decode(`
[opcua]
endpoint = "opc.tcp://0.0.0.0:4841"
application_uri = "urn:example:gateway"
hostnames = ["gw.example.com", "10.0.0.5"]
security = ["None", "Basic256Sha256:SignAndEncrypt"]
allow_anonymous = false
max_session_timeout = "30m"
failed_activation_window = "5m"

[[opcua.users]]
name = "scada"
password = "s3cret"

[opcua.limits]
max_nodes_per_read = 500
min_publishing_interval = "100ms"
`, &file)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	c := file.OPCUA
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Hostnames) != 2 || c.Hostnames[0] != "gw.example.com" {
		t.Errorf("hostnames %v", c.Hostnames)
	}
	if !c.OffersNone() || len(c.endpoints) != 2 || c.MaxSessionTimeout != 30*time.Minute || c.FailedActivationWindow != 5*time.Minute {
		t.Errorf("decoded %+v", c)
	}
	if c.Limits.MaxNodesPerRead != 500 || c.Limits.MinPublishingInterval != 100*time.Millisecond || c.Limits.MaxNodesPerBrowse != DefaultLimits.MaxNodesPerBrowse {
		t.Errorf("limits %+v", c.Limits)
	}
	if c.Users[0].Name != "scada" {
		t.Errorf("users %+v", c.Users)
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
		{"opcua.limits.max_nodes_per_read", func(c *Config) { ok(c); c.Limits.MaxNodesPerRead = -1 }},
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
