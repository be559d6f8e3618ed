package cluster

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" valid; else a substring (the key)
		check   func(t *testing.T, c Config)
	}{
		{name: "absent: a single gateway", cfg: Config{}},
		{name: "keys without endpoints", cfg: Config{Node: "a"}, wantErr: "cluster.etcd_endpoints"},
		{name: "defaults", cfg: Config{Endpoints: []string{"http://127.0.0.1:2379"}, Node: "a"}, check: func(t *testing.T, c Config) {
			if c.Prefix != "/svgateway/" || c.LeaseTTL != 5*time.Second || c.DialTimeout != 2*time.Second {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "prefix gets its slash", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a", Prefix: "/pair1"}, check: func(t *testing.T, c Config) {
			if c.Prefix != "/pair1/" {
				t.Errorf("prefix %q", c.Prefix)
			}
		}},
		{name: "node defaults to the host name", cfg: Config{Endpoints: []string{"http://e:2379"}}, check: func(t *testing.T, c Config) {
			if c.Node == "" {
				t.Error("no node name")
			}
		}},
		{name: "endpoint not a URL", cfg: Config{Endpoints: []string{"127.0.0.1:2379"}, Node: "a"}, wantErr: "cluster.etcd_endpoints[0]"},
		{name: "node with a slash", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a/b"}, wantErr: "cluster.node"},
		{name: "ttl too short", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a", LeaseTTL: time.Second}, wantErr: "cluster.lease_ttl"},
		{name: "ttl not whole seconds", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a", LeaseTTL: 2500 * time.Millisecond}, wantErr: "cluster.lease_ttl"},
		{name: "dial timeout too short", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a", DialTimeout: time.Millisecond}, wantErr: "cluster.dial_timeout"},
		{name: "user without password", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a", Username: "u"}, wantErr: "cluster.username"},
		{name: "cert without key", cfg: Config{Endpoints: []string{"https://e:2379"}, Node: "a", CertFile: "/etc/hostname"}, wantErr: "cluster.cert_file"},
		{name: "TLS files on http", cfg: Config{Endpoints: []string{"http://e:2379"}, Node: "a", CAFile: "/etc/hostname"}, wantErr: "need https://"},
		{name: "missing CA file", cfg: Config{Endpoints: []string{"https://e:2379"}, Node: "a", CAFile: "/nonexistent/ca.pem"}, wantErr: "cluster.ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
