package main

// The [status] table and its checks. The status listener serves the whole
// footprint (/api/model) and the metrics: reachable from the network it must
// be protected, so an address other than loopback needs TLS and
// authentication, configured in a Prometheus exporter-toolkit web
// configuration file (the format Prometheus and its exporters already use),
// unless allow_insecure says otherwise.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
)

// StatusConfig is the [status] table: the HTTP listener for health, metrics
// and the model as JSON.
type StatusConfig struct {
	Listen string `toml:"listen"` // default 127.0.0.1:9163; "" or "off" disables it
	// WebConfigFile is a Prometheus exporter-toolkit web configuration
	// (YAML: tls_server_config, basic_auth_users with bcrypt hashes,
	// http_server_config, rate_limit). It is read again on every request
	// and TLS handshake: certificates and users change without a restart.
	WebConfigFile string `toml:"web_config_file"`
	// AllowInsecure lets listen be an address other than loopback without
	// TLS and authentication (a warning is logged at start).
	AllowInsecure  bool          `toml:"allow_insecure"`
	ReadTimeout    time.Duration `toml:"read_timeout"`    // a whole request, headers and body; default 30s
	WriteTimeout   time.Duration `toml:"write_timeout"`   // from the end of the request headers to the end of the response; default 1m
	IdleTimeout    time.Duration `toml:"idle_timeout"`    // a kept-alive connection between requests; default 2m
	MaxConnections int           `toml:"max_connections"` // open connections at once; more wait to be accepted; default 64
	// Pprof serves Go's runtime profiles (heap, goroutines, CPU, …) under
	// /debug/pprof/ for measuring where memory and CPU go. Off by default:
	// the profiles show the process's internals; with it on they are behind
	// the same protection (web_config_file) as every other path.
	Pprof bool `toml:"pprof"`
}

// Status listener defaults.
const (
	defaultStatusReadTimeout    = 30 * time.Second
	defaultStatusWriteTimeout   = time.Minute
	defaultStatusIdleTimeout    = 2 * time.Minute
	defaultStatusMaxConnections = 64
)

// validate fills in the defaults and checks the table: the address, the web
// configuration file (as the exporter toolkit reads it: YAML, certificates,
// bcrypt hashes) and that an address reachable from the network is
// protected or explicitly allowed not to be.
func (c *StatusConfig) validate() error {
	var errs []error
	switch c.Listen {
	case "":
		c.Listen = "127.0.0.1:9163"
	case "off":
		return nil
	default:
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("status.listen: %q is not host:port: %w", c.Listen, err))
		}
	}
	durations := []struct {
		key string
		v   *time.Duration
		def time.Duration
	}{
		{"status.read_timeout", &c.ReadTimeout, defaultStatusReadTimeout},
		{"status.write_timeout", &c.WriteTimeout, defaultStatusWriteTimeout},
		{"status.idle_timeout", &c.IdleTimeout, defaultStatusIdleTimeout},
	}
	for _, d := range durations {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 100*time.Millisecond:
			errs = append(errs, fmt.Errorf("%s: %v is below the minimum of 100ms", d.key, *d.v))
		}
	}
	switch {
	case c.MaxConnections == 0:
		c.MaxConnections = defaultStatusMaxConnections
	case c.MaxConnections < 1:
		errs = append(errs, fmt.Errorf("status.max_connections: %d must be at least 1", c.MaxConnections))
	}
	var p webProtection
	if c.WebConfigFile != "" {
		var err error
		if p, err = readWebConfig(c.WebConfigFile); err != nil {
			errs = append(errs, fmt.Errorf("status.web_config_file: %w", err))
		}
	}
	if len(errs) == 0 && !loopback(c.Listen) && !p.secure() && !c.AllowInsecure {
		errs = append(errs, fmt.Errorf("status.listen: %s is reachable from the network but %s: "+
			"the status listener serves the whole footprint and the metrics; configure TLS and basic_auth_users "+
			"(or required client certificates) in status.web_config_file, bind 127.0.0.1, "+
			"or set status.allow_insecure = true", c.Listen, p.missing()))
	}
	return errors.Join(errs...)
}

// insecureExposure is what a start-time warning says when the listener is
// reachable from the network without protection (allow_insecure); "" when it
// is protected or on loopback.
func (c *StatusConfig) insecureExposure() string {
	if c.Listen == "off" || loopback(c.Listen) {
		return ""
	}
	var p webProtection
	if c.WebConfigFile != "" {
		p, _ = readWebConfig(c.WebConfigFile) // validated at load
	}
	if p.secure() {
		return ""
	}
	return p.missing()
}

// webProtection is what a web configuration file turns on.
type webProtection struct {
	tls  bool // tls_server_config has a certificate
	auth bool // basic_auth_users, or client certificates required and verified
}

func (p webProtection) secure() bool { return p.tls && p.auth }

func (p webProtection) missing() string {
	switch {
	case !p.tls && !p.auth:
		return "serves no TLS and asks no authentication"
	case !p.tls:
		return "serves no TLS (basic auth passwords would cross the network in clear)"
	default:
		return "asks no authentication"
	}
}

// readWebConfig validates a web configuration file as the exporter toolkit
// will use it and reports what it protects.
func readWebConfig(path string) (webProtection, error) {
	if err := web.Validate(path); err != nil {
		return webProtection{}, fmt.Errorf("%s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return webProtection{}, err
	}
	var wc web.Config
	if err := yaml.UnmarshalStrict(data, &wc); err != nil {
		return webProtection{}, fmt.Errorf("%s: %w", path, err)
	}
	t := wc.TLSConfig
	p := webProtection{tls: t.TLSCertPath != "" || t.TLSCert != ""}
	p.auth = len(wc.Users) > 0 || p.tls && t.ClientAuth == "RequireAndVerifyClientCert"
	return p, nil
}

// loopback reports whether host:port binds only loopback: "localhost" or a
// loopback IP. An empty host or 0.0.0.0 binds every address.
func loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
