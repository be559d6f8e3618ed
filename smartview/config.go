package smartview

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // userPrefTimeZone and time_zone must resolve on hosts without zoneinfo
)

// Config is the [smartview] table of gateway.toml. It is plain data: New and NewTokenSource take
// it by value, and Validate fills in defaults. Fields tagged secret:"true" are redacted by String,
// GoString and LogValue.
type Config struct {
	BaseURL          string   `toml:"base_url"`    // default https://api.equinix.com
	TokenURL         string   `toml:"token_url"`   // default BaseURL + Paths.Token
	RefreshURL       string   `toml:"refresh_url"` // default BaseURL + Paths.Refresh
	GrantType        string   `toml:"grant_type"`  // "client_credentials" (default) or "password"
	ClientID         string   `toml:"client_id"`   // the developer portal's consumer key
	ClientSecret     string   `toml:"client_secret" secret:"true"`
	UserName         string   `toml:"user_name"` // password grant only
	UserPassword     string   `toml:"user_password" secret:"true"`
	PasswordEncoding string   `toml:"password_encoding"` // "" or "md5-b64": send base64(md5(password))
	AccountNo        string   `toml:"account_no"`        // sent as accountNo on every data call
	IBXs             []string `toml:"ibxs"`              // the IBXs to sync; not used by the client

	// TimeZone is the IANA zone in which zone-less times ("Sep 16,2016 04:41 PM",
	// "20190324023353") are read, except in asset details, which name their own zone in
	// userPrefTimeZone. Default "UTC". Set it to the SmartView user's preferred time zone.
	TimeZone string `toml:"time_zone"`

	Timeout        time.Duration `toml:"timeout"`          // per HTTP attempt; default 30s
	MaxAttempts    int           `toml:"max_attempts"`     // HTTP attempts per call; default 4
	RetryBudget    time.Duration `toml:"retry_budget"`     // wall time per call, retries included; default 60s
	RetryBaseDelay time.Duration `toml:"retry_base_delay"` // first backoff ceiling; default 500ms
	RetryMaxDelay  time.Duration `toml:"retry_max_delay"`  // backoff ceiling; default 20s
	RateLimit      float64       `toml:"rate_limit"`       // requests per second; default 10; negative: unlimited
	RateBurst      int           `toml:"rate_burst"`       // default 20
	AlarmPageSize  int           `toml:"alarm_page_size"`  // alarms per page (limit); default 100
	AlarmMaxPages  int           `toml:"alarm_max_pages"`  // page cap per Alarms call; default 1000
	UserAgent      string        `toml:"user_agent"`       // default "svgateway-smartview/1"

	// Catalog is the API catalog the account is served by: "documented" (the API reference the
	// gateway was built from: /asset/v1/list, /hierarchy/v1/location, /alarms/v1/smartview/alarms),
	// "2024" (the catalog Equinix's developer portal publishes since 2024: /smartview/v1/asset/list,
	// /smartview/v1/hierarchy/location, trending, the alerts API, no alarms list) or "auto"
	// (default): each endpoint tries the documented path, then on a 404 the 2024 one, remembers
	// the one that answered, and tries the catalog that answered last first. See catalog.go.
	Catalog string `toml:"catalog"`

	Paths Paths `toml:"paths"`
}

// Paths are the endpoint paths, joined to BaseURL. The documentation disagrees with itself about
// several of them; the defaults are its "URL or End Point" rows, and the variants it also uses are
// noted on each field. The keys the reference does not have (alerts, trending) default to their
// 2024 paths. A path left at the default of either catalog follows Config.Catalog; any other value
// is an override used as it is, whatever the catalog (see catalog.go).
type Paths struct {
	Token              string `toml:"token"`               // /oauth2/v1/token
	Refresh            string `toml:"refresh"`             // /oauth2/v1/refreshaccesstoken
	Alarms             string `toml:"alarms"`              // /alarms/v1/smartview/alarms (curl examples: /alarm/v1/smartview/alarms)
	AssetList          string `toml:"asset_list"`          // /asset/v1/list
	AssetDetails       string `toml:"asset_details"`       // /asset/v1/details (GET and POST)
	AffectedAssets     string `toml:"affected_assets"`     // /asset/v1/tagpoint/affected-assets
	TagPoint           string `toml:"tag_point"`           // /asset/v1/tagpoint/current (GET and POST)
	EnvironmentCurrent string `toml:"environment_current"` // /environment/v1/current
	EnvironmentList    string `toml:"environment_list"`    // /environment/v1/listCurrent
	PowerCurrent       string `toml:"power_current"`       // /power/v1/current (GET and POST)
	LocationHierarchy  string `toml:"location_hierarchy"`  // /hierarchy/v1/location
	PowerHierarchy     string `toml:"power_hierarchy"`     // /hierarchy/v1/power
	// Subscriptions: /feedsubscription/v1/subscribe. Section headings say
	// /feedsubscriptions/v1/subscribe and curl examples /registration/v1/subscribe.
	Subscriptions string `toml:"subscriptions"`

	// 2024 catalog only (no documented path).
	AssetSearch         string `toml:"asset_search"`         // /smartview/v1/asset/search
	Alerts              string `toml:"alerts"`               // /smartview/v1/alerts/getAlerts
	AlertActivityLog    string `toml:"alert_activity_log"`   // /smartview/v1/alerts/getAlertActivityLog
	PowerTrending       string `toml:"power_trending"`       // /power/v1/trending
	EnvironmentTrending string `toml:"environment_trending"` // /environment/v1/trending
	TagPointTrending    string `toml:"tag_point_trending"`   // /smartview/v1/asset/tagpoint/trending

	// StreamSubscriptions and StreamData are the 2024 catalog's v2
	// streaming API: /smartview/v2/streaming/subscriptions[/{id}] and
	// /smartview/v2/streaming/subscriptionData/{id}.
	StreamSubscriptions string `toml:"stream_subscriptions"`
	StreamData          string `toml:"stream_data"`
}

// DefaultPaths returns the paths of the reference's "URL or End Point" rows.
func DefaultPaths() Paths {
	return Paths{
		Token:              "/oauth2/v1/token",
		Refresh:            "/oauth2/v1/refreshaccesstoken",
		Alarms:             "/alarms/v1/smartview/alarms",
		AssetList:          "/asset/v1/list",
		AssetDetails:       "/asset/v1/details",
		AffectedAssets:     "/asset/v1/tagpoint/affected-assets",
		TagPoint:           "/asset/v1/tagpoint/current",
		EnvironmentCurrent: "/environment/v1/current",
		EnvironmentList:    "/environment/v1/listCurrent",
		PowerCurrent:       "/power/v1/current",
		LocationHierarchy:  "/hierarchy/v1/location",
		PowerHierarchy:     "/hierarchy/v1/power",
		Subscriptions:      "/feedsubscription/v1/subscribe",

		AssetSearch:         "/smartview/v1/asset/search",
		Alerts:              "/smartview/v1/alerts/getAlerts",
		AlertActivityLog:    "/smartview/v1/alerts/getAlertActivityLog",
		PowerTrending:       "/power/v1/trending",
		EnvironmentTrending: "/environment/v1/trending",
		TagPointTrending:    "/smartview/v1/asset/tagpoint/trending",
		StreamSubscriptions: "/smartview/v2/streaming/subscriptions",
		StreamData:          "/smartview/v2/streaming/subscriptionData",
	}
}

// Grant types and password encodings.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	PasswordEncodingMD5B64 = "md5-b64"
)

// Defaults applied by Validate.
const (
	DefaultBaseURL        = "https://api.equinix.com"
	DefaultTimeout        = 30 * time.Second
	DefaultMaxAttempts    = 4
	DefaultRetryBudget    = 60 * time.Second
	DefaultRetryBaseDelay = 500 * time.Millisecond
	DefaultRetryMaxDelay  = 20 * time.Second
	DefaultRateLimit      = 10.0
	DefaultRateBurst      = 20
	DefaultAlarmPageSize  = 100
	DefaultAlarmMaxPages  = 1000
	DefaultUserAgent      = "svgateway-smartview/1"
)

// setDefaults fills every empty field with its default. It never fails.
func (c *Config) setDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.GrantType == "" {
		c.GrantType = GrantClientCredentials
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	defaults := DefaultPaths()
	def := defaults.entries()
	for i, p := range c.Paths.entries() {
		if *p.value == "" {
			*p.value = *def[i].value
		}
	}
	if c.TokenURL == "" {
		c.TokenURL = c.BaseURL + c.Paths.Token
	}
	if c.RefreshURL == "" {
		c.RefreshURL = c.BaseURL + c.Paths.Refresh
	}
	setDefault(&c.Timeout, DefaultTimeout)
	setDefault(&c.MaxAttempts, DefaultMaxAttempts)
	setDefault(&c.RetryBudget, DefaultRetryBudget)
	setDefault(&c.RetryBaseDelay, DefaultRetryBaseDelay)
	setDefault(&c.RetryMaxDelay, DefaultRetryMaxDelay)
	setDefault(&c.RateLimit, DefaultRateLimit)
	setDefault(&c.RateBurst, DefaultRateBurst)
	setDefault(&c.AlarmPageSize, DefaultAlarmPageSize)
	setDefault(&c.AlarmMaxPages, DefaultAlarmMaxPages)
	setDefault(&c.UserAgent, DefaultUserAgent)
	setDefault(&c.Catalog, CatalogAuto)
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Validate fills in defaults and checks the configuration. The error names each offending key
// as it is spelt in gateway.toml, e.g. `smartview.grant_type: must be "client_credentials" or
// "password"`; several problems are joined into one error.
func (c *Config) Validate() error {
	c.setDefaults()
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("smartview.%s: "+format, append([]any{key}, args...)...))
	}
	for _, u := range []struct{ key, value string }{
		{"base_url", c.BaseURL}, {"token_url", c.TokenURL}, {"refresh_url", c.RefreshURL},
	} {
		if msg := CheckHTTPURL(u.value); msg != "" {
			bad(u.key, "%s", msg)
		}
	}
	switch c.GrantType {
	case GrantClientCredentials:
	case GrantPassword:
		if c.UserName == "" {
			bad("user_name", "required with grant_type %q", GrantPassword)
		}
		if c.UserPassword == "" {
			bad("user_password", "required with grant_type %q", GrantPassword)
		}
	default:
		bad("grant_type", "must be %q or %q", GrantClientCredentials, GrantPassword)
	}
	switch c.PasswordEncoding {
	case "", PasswordEncodingMD5B64:
	default:
		bad("password_encoding", `must be "" or %q`, PasswordEncodingMD5B64)
	}
	if c.ClientID == "" {
		bad("client_id", "required")
	}
	if c.ClientSecret == "" {
		bad("client_secret", "required")
	}
	if c.AccountNo == "" {
		bad("account_no", "required")
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		bad("time_zone", "unknown time zone %q", c.TimeZone)
	}
	for _, d := range []struct {
		key   string
		value time.Duration
	}{
		{"timeout", c.Timeout}, {"retry_budget", c.RetryBudget},
		{"retry_base_delay", c.RetryBaseDelay}, {"retry_max_delay", c.RetryMaxDelay},
	} {
		if d.value < 0 {
			bad(d.key, "must not be negative, got %s", d.value)
		}
	}
	for _, n := range []struct {
		key   string
		value int
	}{
		{"max_attempts", c.MaxAttempts}, {"rate_burst", c.RateBurst},
		{"alarm_page_size", c.AlarmPageSize}, {"alarm_max_pages", c.AlarmMaxPages},
	} {
		if n.value < 1 {
			bad(n.key, "must be at least 1, got %d", n.value)
		}
	}
	if c.MaxAttempts > 100 {
		bad("max_attempts", "must be at most 100, got %d", c.MaxAttempts)
	}
	switch c.Catalog {
	case CatalogAuto, CatalogDocumented, Catalog2024:
	default:
		bad("catalog", "must be %q, %q or %q, got %q", CatalogAuto, CatalogDocumented, Catalog2024, c.Catalog)
	}
	for _, p := range c.Paths.entries() {
		if !strings.HasPrefix(*p.value, "/") {
			bad("paths."+p.key, "must start with /, got %q", *p.value)
		}
	}
	return errors.Join(errs...)
}

// CheckHTTPURL returns why s is not usable as an http(s) endpoint URL
// (unparseable, another scheme, no host, or credentials in it, which
// would end up in logs), or "" when it is.
func CheckHTTPURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("not a URL: %q", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("must be an http or https URL, got %q", s)
	case u.Host == "":
		return fmt.Sprintf("has no host: %q", s)
	case u.User != nil:
		return "must not carry credentials"
	}
	return ""
}

// entries lists the paths with their config keys, in one order for every
// Paths (setDefaults pairs a config's entries with the defaults' by index).
func (p *Paths) entries() []struct {
	key   string
	value *string
} {
	return []struct {
		key   string
		value *string
	}{
		{"token", &p.Token}, {"refresh", &p.Refresh}, {"alarms", &p.Alarms},
		{"asset_list", &p.AssetList}, {"asset_details", &p.AssetDetails},
		{"affected_assets", &p.AffectedAssets}, {"tag_point", &p.TagPoint},
		{"environment_current", &p.EnvironmentCurrent}, {"environment_list", &p.EnvironmentList},
		{"power_current", &p.PowerCurrent}, {"location_hierarchy", &p.LocationHierarchy},
		{"power_hierarchy", &p.PowerHierarchy}, {"subscriptions", &p.Subscriptions},
		{"asset_search", &p.AssetSearch}, {"alerts", &p.Alerts}, {"alert_activity_log", &p.AlertActivityLog},
		{"power_trending", &p.PowerTrending}, {"environment_trending", &p.EnvironmentTrending},
		{"tag_point_trending", &p.TagPointTrending},
		{"stream_subscriptions", &p.StreamSubscriptions}, {"stream_data", &p.StreamData},
	}
}

const redacted = "[REDACTED]"

// redact returns a copy of c with the secret fields replaced, for printing.
func (c Config) redact() Config {
	if c.ClientSecret != "" {
		c.ClientSecret = redacted
	}
	if c.UserPassword != "" {
		c.UserPassword = redacted
	}
	return c
}

// configView has Config's fields without its methods, so printing it does not recurse.
type configView Config

// String formats the configuration with secrets redacted (fmt's %v and %+v use it).
func (c Config) String() string { return fmt.Sprintf("%+v", configView(c.redact())) }

// GoString formats the configuration with secrets redacted (fmt's %#v uses it).
func (c Config) GoString() string { return fmt.Sprintf("%#v", configView(c.redact())) }

// LogValue implements slog.LogValuer: the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	r := c.redact()
	return slog.GroupValue(
		slog.String("base_url", r.BaseURL),
		slog.String("token_url", r.TokenURL),
		slog.String("grant_type", r.GrantType),
		slog.String("client_id", r.ClientID),
		slog.String("client_secret", r.ClientSecret),
		slog.String("user_name", r.UserName),
		slog.String("user_password", r.UserPassword),
		slog.String("password_encoding", r.PasswordEncoding),
		slog.String("account_no", r.AccountNo),
		slog.Any("ibxs", r.IBXs),
		slog.String("time_zone", r.TimeZone),
		slog.String("catalog", r.Catalog),
		slog.Duration("timeout", r.Timeout),
		slog.Int("max_attempts", r.MaxAttempts),
		slog.Duration("retry_budget", r.RetryBudget),
		slog.Float64("rate_limit", r.RateLimit),
		slog.Int("rate_burst", r.RateBurst),
	)
}
