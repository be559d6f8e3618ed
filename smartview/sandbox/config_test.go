package sandbox

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{Profile: "small", Listen: "127.0.0.1:0", Tick: 2 * time.Second, AccountNo: "1", ClientID: "sandbox",
		ClientSecret: "sandbox-secret", UserName: "sandbox@example.com", UserPassword: "sandbox-password", TokenTTL: time.Hour,
		Catalog: CatalogBoth, Faults: Faults{RetryAfter: time.Second}, Stream: StreamConfig{MQTTTopic: "smartview/v2/{id}"}}
	if c != want {
		t.Errorf("defaults %+v\nwant %+v", c, want)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Profile: "huge"}, "sandbox.profile:"},
		{Config{Listen: "0.0.0.0:8080"}, "sandbox.listen:"},
		{Config{Listen: "localhost"}, "sandbox.listen:"},
		{Config{Tick: time.Millisecond}, "sandbox.tick:"},
		{Config{TokenTTL: time.Millisecond}, "sandbox.token_ttl:"},
		{Config{Faults: Faults{RateLimit: 1.5}}, "sandbox.faults.rate_limit:"},
		{Config{Faults: Faults{ServerError: 0.7, Unavailable: 0.7}}, "sandbox.faults.rate_limit:"},
		{Config{Faults: Faults{Latency: time.Hour}}, "sandbox.faults.latency:"},
		{Config{Faults: Faults{Malformed: -1}}, "sandbox.faults.malformed:"},
		{Config{Catalog: "v2"}, "sandbox.catalog:"},
		{Config{Stream: StreamConfig{MQTTBroker: "tcp://127.0.0.1:1883"}}, "sandbox.stream.mqtt_broker:"},
		{Config{Stream: StreamConfig{MQTTBroker: "ssl://127.0.0.1:8883"}}, "sandbox.stream.mqtt_cert_file:"},
		{Config{Stream: StreamConfig{WebhookCAFile: "/nonexistent/ca.pem"}}, "sandbox.stream.webhook_ca_file:"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	for _, ok := range []string{"127.0.0.1:0", "[::1]:8480", "localhost:8480"} {
		c := Config{Listen: ok}
		if err := c.Validate(); err != nil {
			t.Errorf("listen %s: %v", ok, err)
		}
	}
	if _, err := New(Config{Profile: "huge"}, nil); err == nil || !strings.Contains(err.Error(), "sandbox.profile") {
		t.Errorf("New with a bad profile: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	s, err := New(Config{AccountNo: "77", ClientID: "id", ClientSecret: "secret", UserName: "u", UserPassword: "p"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.IBXs(); strings.Join(got, ",") != "CH1,SV4,CH3,DC5" {
		t.Errorf("IBXs %q", got)
	}
	if s.AccountNo() != "77" {
		t.Errorf("AccountNo %q", s.AccountNo())
	}
	if id, secret, user, password := s.Credentials(); id != "id" || secret != "secret" || user != "u" || password != "p" {
		t.Errorf("Credentials %q %q %q %q", id, secret, user, password)
	}
}
