package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// Default credentials of the sandbox. They are public: the sandbox is a simulator.
const (
	DefaultClientID     = "sandbox"
	DefaultClientSecret = "sandbox-secret"
	DefaultUserName     = "sandbox@example.com"
	DefaultUserPassword = "sandbox-password"
	DefaultAccountNo    = "1"
)

// The credentials of the API reference's own curl examples. They are accepted as well unless
// Config.RejectDocCredentials is set, so that the examples work against the sandbox as written.
const (
	docClientID     = "ABCDE12345"
	docClientSecret = "FGHIJ67890"
	docUserName     = "john.doe@example.com"
	docUserPassword = "jd1@#$"
)

// Config is the [sandbox] section of gateway.toml.
type Config struct {
	// Enabled is read by main: run the embedded sandbox and point the client at it.
	Enabled bool `toml:"enabled"`
	// Profile sizes the footprint: "small" (default; the documentation's examples filled out to
	// tens of cages and a few hundred tags), "large" (about 20 IBXs, 2,000 cages, 20,000
	// cabinets, 80,000 circuits, 10,000 assets, 100,000 tags) or "xlarge" (five times large:
	// 100 IBXs, 10,000 cages, 100,000 cabinets, 400,000 circuits, 50,000 assets, ~500,000 tags)
	// for benchmarks.
	Profile string `toml:"profile"`
	// Listen is the address to listen on; it must be a loopback address because the admin
	// endpoints under /_sandbox/ have no authentication. Default "127.0.0.1:0".
	Listen string `toml:"listen"`
	// Seed makes the footprint and the simulation deterministic.
	Seed int64 `toml:"seed"`
	// Tick is the simulation period while Serve runs. Default 2s.
	Tick time.Duration `toml:"tick"`
	// AccountNo is the customer account that owns the footprint. Default "1". Requests may name
	// any account number (the reference's examples use both 1 and 123); responses carry this one.
	AccountNo string `toml:"account_no"`
	// ClientID, ClientSecret, UserName and UserPassword are the accepted credentials.
	// Defaults: DefaultClientID, DefaultClientSecret, DefaultUserName, DefaultUserPassword.
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	UserName     string `toml:"user_name"`
	UserPassword string `toml:"user_password"`
	// RejectDocCredentials turns off the credentials of the reference's curl examples
	// (client ABCDE12345 / FGHIJ67890, user john.doe@example.com / jd1@#$), accepted by default.
	RejectDocCredentials bool `toml:"reject_doc_credentials"`
	// TokenTTL is the lifetime of an access token. Default 1h (token_timeout "3600").
	TokenTTL time.Duration `toml:"token_ttl"`
	// Catalog is the API catalog served: "both" (default: the documented paths and the 2024
	// ones), "documented" (only the API reference's paths) or "2024" (only the 2024 catalog's:
	// /smartview/v1/…, trending, alerts; no alarms list). One catalog alone stands in for a live
	// account served by it.
	Catalog string `toml:"catalog"`
	// Faults are switched on from the start; all off by default. See also Server.SetFaults.
	Faults Faults `toml:"faults"`
	// Stream is where the v2 streaming API's pushes go (streaming_push.go).
	Stream StreamConfig `toml:"stream"`
}

// Catalogs the sandbox can serve (Config.Catalog).
const (
	CatalogBoth       = "both"
	CatalogDocumented = "documented"
	Catalog2024       = "2024"
)

// Faults are the failures the sandbox injects into API requests (never into /_sandbox/).
// Fractions are probabilities in [0, 1], drawn per request.
type Faults struct {
	// RateLimit is the fraction of requests answered 429 with a Retry-After header.
	RateLimit float64 `toml:"rate_limit" json:"rate_limit"`
	// RetryAfter is the Retry-After sent with a 429, in whole seconds (rounded up). Default 1s.
	RetryAfter time.Duration `toml:"retry_after" json:"retry_after"`
	// ServerError is the fraction of requests answered 500.
	ServerError float64 `toml:"server_error" json:"server_error"`
	// Unavailable is the fraction of requests answered 503.
	Unavailable float64 `toml:"unavailable" json:"unavailable"`
	// Latency is added before every API request is answered (at most a minute).
	Latency time.Duration `toml:"latency" json:"latency"`
	// TokenTTL, when set, overrides Config.TokenTTL for tokens issued from now on: a short one
	// makes tokens expire under the client.
	TokenTTL time.Duration `toml:"token_ttl" json:"token_ttl"`
	// Malformed is the fraction of successful responses whose body is broken: cut short (not
	// JSON) or with the wrong types (valid JSON, wrong shape).
	Malformed float64 `toml:"malformed" json:"malformed"`
}

const maxLatency = time.Minute

// Validate fills in defaults and checks every field; errors name the key.
func (c *Config) Validate() error {
	if c.Profile == "" {
		c.Profile = "small"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Tick == 0 {
		c.Tick = 2 * time.Second
	}
	if c.AccountNo == "" {
		c.AccountNo = DefaultAccountNo
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.ClientSecret == "" {
		c.ClientSecret = DefaultClientSecret
	}
	if c.UserName == "" {
		c.UserName = DefaultUserName
	}
	if c.UserPassword == "" {
		c.UserPassword = DefaultUserPassword
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = time.Hour
	}
	if c.Catalog == "" {
		c.Catalog = CatalogBoth
	}
	var errs []error
	switch c.Catalog {
	case CatalogBoth, CatalogDocumented, Catalog2024:
	default:
		errs = append(errs, fmt.Errorf("sandbox.catalog: %q is not one of %q, %q, %q", c.Catalog, CatalogBoth, CatalogDocumented, Catalog2024))
	}
	if _, ok := profiles[c.Profile]; !ok {
		errs = append(errs, fmt.Errorf("sandbox.profile: unknown profile %q (want \"small\", \"large\" or \"xlarge\")", c.Profile))
	}
	if err := checkLoopback(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("sandbox.listen: %w", err))
	}
	if c.Tick < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("sandbox.tick: %v is too short (at least 10ms)", c.Tick))
	}
	if c.TokenTTL < time.Second {
		errs = append(errs, fmt.Errorf("sandbox.token_ttl: %v is too short (at least 1s)", c.TokenTTL))
	}
	if err := c.Faults.validate(); err != nil {
		errs = append(errs, fmt.Errorf("sandbox.faults.%w", err))
	}
	errs = append(errs, c.Stream.validate()...)
	return errors.Join(errs...)
}

// checkLoopback accepts host:port where host is a loopback IP or "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address (the sandbox's admin endpoints have no authentication)", addr)
}

// validate fills RetryAfter's default and checks ranges; errors start with the key name.
func (f *Faults) validate() error {
	if f.RetryAfter == 0 {
		f.RetryAfter = time.Second
	}
	for _, p := range []struct {
		key string
		v   float64
	}{{"rate_limit", f.RateLimit}, {"server_error", f.ServerError}, {"unavailable", f.Unavailable}, {"malformed", f.Malformed}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("%s: %v is not a fraction in [0, 1]", p.key, p.v)
		}
	}
	if sum := f.RateLimit + f.ServerError + f.Unavailable; sum > 1 {
		return fmt.Errorf("rate_limit: rate_limit + server_error + unavailable = %v exceeds 1", sum)
	}
	if f.RetryAfter < 0 || f.RetryAfter > time.Hour {
		return fmt.Errorf("retry_after: %v is out of range (0 to 1h)", f.RetryAfter)
	}
	if f.Latency < 0 || f.Latency > maxLatency {
		return fmt.Errorf("latency: %v is out of range (0 to %v)", f.Latency, maxLatency)
	}
	if f.TokenTTL < 0 {
		return fmt.Errorf("token_ttl: %v is negative", f.TokenTTL)
	}
	return nil
}

// faultsJSON is Faults as the admin endpoint reads and writes it: durations as strings ("2s").
type faultsJSON struct {
	RateLimit   float64 `json:"rate_limit"`
	RetryAfter  string  `json:"retry_after"`
	ServerError float64 `json:"server_error"`
	Unavailable float64 `json:"unavailable"`
	Latency     string  `json:"latency"`
	TokenTTL    string  `json:"token_ttl"`
	Malformed   float64 `json:"malformed"`
}

// MarshalJSON writes durations as strings such as "1.5s".
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		RateLimit: f.RateLimit, RetryAfter: f.RetryAfter.String(), ServerError: f.ServerError,
		Unavailable: f.Unavailable, Latency: f.Latency.String(), TokenTTL: f.TokenTTL.String(),
		Malformed: f.Malformed,
	})
}

// UnmarshalJSON reads durations as strings ("250ms"); absent fields are zero.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Faults{RateLimit: j.RateLimit, ServerError: j.ServerError, Unavailable: j.Unavailable, Malformed: j.Malformed}
	for _, d := range []struct {
		key string
		s   string
		dst *time.Duration
	}{{"retry_after", j.RetryAfter, &out.RetryAfter}, {"latency", j.Latency, &out.Latency}, {"token_ttl", j.TokenTTL, &out.TokenTTL}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("%s: %w", d.key, err)
		}
		*d.dst = v
	}
	*f = out
	return nil
}
