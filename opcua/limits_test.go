package opcua

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// The [opcua] table is decoded into one Config whose protocol-server keys
// live in uaserver.Config: these tests keep users' files working.

func TestConfigDefaultLimits(t *testing.T) {
	c := Config{}
	c.AllowAnonymous = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Limits != DefaultLimits {
		t.Errorf("limits %+v", c.Limits)
	}
	if c.Limits.MaxMonitoredItemsPerSubscription < 10000 {
		t.Errorf("MaxMonitoredItemsPerSubscription %d", c.Limits.MaxMonitoredItemsPerSubscription)
	}
	if c.Endpoint != "opc.tcp://127.0.0.1:4840" || c.MaxSessions != 100 {
		t.Errorf("the protocol server's defaults were not filled: %+v", c.Config)
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
	if !c.OffersNone() || len(c.Security) != 2 || c.MaxSessionTimeout != 30*time.Minute || c.FailedActivationWindow != 5*time.Minute {
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
	for _, tt := range []struct {
		key    string
		mutate func(c *Config)
	}{
		{"opcua.limits.max_nodes_per_read", func(c *Config) { c.AllowAnonymous = true; c.Limits.MaxNodesPerRead = -1 }},
		{"opcua.limits.min_publishing_interval", func(c *Config) { c.AllowAnonymous = true; c.Limits.MinPublishingInterval = -time.Second }},
		{"opcua.users", func(c *Config) {}},
		{"opcua.users[1].role", func(c *Config) {
			c.Users = []uaserver.User{{Name: "a", Password: "x", Role: "operator"}, {Name: "b", Password: "y", Role: "admin"}}
		}},
		{"opcua.users[0].role", func(c *Config) {
			c.AllowAnonymous = true
			c.Users = []uaserver.User{{Name: "anonymous", Password: "x", Role: "operator"}}
		}},
	} {
		var c Config
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.key+":") {
			t.Errorf("want an error naming %s, got %v", tt.key, err)
		}
	}
}
