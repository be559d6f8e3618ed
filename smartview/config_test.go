package smartview

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestConfigFromTOML(t *testing.T) {
	const doc = `
[smartview]
base_url = "http://127.0.0.1:8443/"
grant_type = "password"
client_id = "id"
client_secret = "s3cret"
user_name = "u"
user_password = "p"
password_encoding = "md5-b64"
account_no = "123"
ibxs = ["CH1", "SV4"]
time_zone = "America/Chicago"
timeout = "15s"
retry_budget = "2m"
max_attempts = 6
rate_limit = 2.5
rate_burst = 5

[smartview.paths]
alarms = "/alarm/v1/smartview/alarms"
subscriptions = "/registration/v1/subscribe"
`
	var file struct {
		SmartView Config `toml:"smartview"`
	}
	md, err := toml.Decode(doc, &file)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Errorf("undecoded keys %v", u)
	}
	c := file.SmartView
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Timeout != 15*time.Second || c.RetryBudget != 2*time.Minute || c.MaxAttempts != 6 || c.RateLimit != 2.5 || c.RateBurst != 5 {
		t.Errorf("numbers: %+v", c)
	}
	if c.BaseURL != "http://127.0.0.1:8443" || c.TokenURL != "http://127.0.0.1:8443/oauth2/v1/token" ||
		c.RefreshURL != "http://127.0.0.1:8443/oauth2/v1/refreshaccesstoken" {
		t.Errorf("urls: %s %s %s", c.BaseURL, c.TokenURL, c.RefreshURL)
	}
	if c.Paths.Alarms != "/alarm/v1/smartview/alarms" || c.Paths.Subscriptions != "/registration/v1/subscribe" ||
		c.Paths.EnvironmentList != "/environment/v1/listCurrent" || len(c.IBXs) != 2 {
		t.Errorf("paths: %+v", c.Paths)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{ClientID: "id", ClientSecret: "s", AccountNo: "1"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != DefaultBaseURL || c.GrantType != GrantClientCredentials || c.TimeZone != "UTC" || c.Timeout != DefaultTimeout ||
		c.MaxAttempts != 4 || c.RetryBudget != time.Minute || c.RateLimit != 10 || c.RateBurst != 20 || c.Paths != DefaultPaths() ||
		c.TokenURL != "https://api.equinix.com/oauth2/v1/token" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestConfigValidateNamesKeys(t *testing.T) {
	tests := []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.GrantType = "implicit" }, `smartview.grant_type: must be "client_credentials" or "password"`},
		{func(c *Config) { c.GrantType = GrantPassword }, "smartview.user_name: required with grant_type \"password\""},
		{func(c *Config) { c.GrantType = GrantPassword; c.UserName = "u" }, "smartview.user_password: required"},
		{func(c *Config) { c.PasswordEncoding = "sha1" }, `smartview.password_encoding: must be "" or "md5-b64"`},
		{func(c *Config) { c.ClientID = "" }, "smartview.client_id: required"},
		{func(c *Config) { c.ClientSecret = "" }, "smartview.client_secret: required"},
		{func(c *Config) { c.AccountNo = "" }, "smartview.account_no: required"},
		{func(c *Config) { c.BaseURL = "ftp://x" }, "smartview.base_url: must be an http or https URL"},
		{func(c *Config) { c.TokenURL = "https://user:pw@x/t" }, "smartview.token_url: must not carry credentials"},
		{func(c *Config) { c.TimeZone = "Mars/Olympus" }, `smartview.time_zone: unknown time zone "Mars/Olympus"`},
		{func(c *Config) { c.Timeout = -time.Second }, "smartview.timeout: must not be negative"},
		{func(c *Config) { c.MaxAttempts = -1 }, "smartview.max_attempts: must be at least 1"},
		{func(c *Config) { c.Paths.Alarms = "alarms" }, `smartview.paths.alarms: must start with /, got "alarms"`},
	}
	for _, tt := range tests {
		c := Config{ClientID: "id", ClientSecret: "s", AccountNo: "1"}
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
		if _, err := New(c, Options{}); err == nil {
			t.Errorf("New accepted a config failing with %q", tt.want)
		}
	}
}

func TestConfigPrintsWithoutSecrets(t *testing.T) {
	c := Config{ClientID: "id", ClientSecret: testClientSecret, UserPassword: testPassword, AccountNo: "1"}
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %#v %s", c, c, c, c)
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "smartview", c)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "smartview", c)
	out := b.String()
	if strings.Contains(out, testClientSecret) || strings.Contains(out, testPassword) {
		t.Errorf("secret printed: %s", out)
	}
	if !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, "id") {
		t.Errorf("config not printed: %s", out)
	}
}
