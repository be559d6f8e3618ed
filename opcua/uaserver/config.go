package uaserver

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"
	"golang.org/x/crypto/bcrypt"
)

// Config is the [opcua] table of gateway.toml. Validate fills the defaults.
type Config struct {
	// Endpoint is the opc.tcp URL the server listens on and advertises,
	// e.g. "opc.tcp://127.0.0.1:4840". Port 0 picks a free port (tests).
	Endpoint string `toml:"endpoint"`
	// ApplicationURI identifies this server instance; it is written into
	// the application instance certificate. Default "urn:<hostname>:svgateway".
	ApplicationURI string `toml:"application_uri"`
	// ProductURI identifies the product.
	ProductURI string `toml:"product_uri"`
	// ApplicationName is the server's display name (and certificate CN).
	ApplicationName string `toml:"application_name"`
	// Hostnames are the DNS names and IP addresses written into the
	// certificate's SubjectAltName. Default: the endpoint's host, the
	// machine's host name and "localhost". When the endpoint listens on
	// all addresses (0.0.0.0 or ::), the first is advertised instead.
	Hostnames []string `toml:"hostnames"`
	// Security lists the offered endpoints as "Policy:Mode" pairs: policy
	// Aes256_Sha256_RsaPss, Aes128_Sha256_RsaOaep or Basic256Sha256, mode
	// Sign or SignAndEncrypt (e.g. "Aes256_Sha256_RsaPss:SignAndEncrypt"),
	// or "None" (no signing, no encryption; only for the sandbox). Default:
	// all three policies, SignAndEncrypt and Sign.
	Security []string `toml:"security"`
	// AllowAnonymous offers the Anonymous user token.
	AllowAnonymous bool `toml:"allow_anonymous"`
	// Users may authenticate with UserName tokens.
	Users []User `toml:"users"`
	// AutoAcceptClients accepts client certificates that are not in the
	// trust list. Never in production.
	AutoAcceptClients bool `toml:"auto_accept_clients"`

	// MaxConnections bounds concurrent TCP connections (default 100).
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerAddress bounds the connections of one client address
	// (an IPv6 client's /64), so that no single peer can take every slot
	// (default max_connections / 4, at least 1). Raise it for many clients
	// behind one NAT address.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// ReservedSecureConnections of the max_connections slots are kept for
	// connections that open a signed secure channel with a trusted client
	// certificate: once the others are taken, a new connection is admitted
	// only to open such a channel within hello_timeout (default
	// max_connections / 4; 0 after Validate only if max_connections is 1..3).
	ReservedSecureConnections int `toml:"reserved_secure_connections"`
	// MaxSessions bounds concurrent sessions (default 100).
	MaxSessions int `toml:"max_sessions"`
	// MinSessionTimeout and MaxSessionTimeout bound the revised session
	// timeout (defaults 10s, 1h).
	MinSessionTimeout time.Duration `toml:"min_session_timeout"`
	MaxSessionTimeout time.Duration `toml:"max_session_timeout"`
	// MinChannelLifetime and MaxChannelLifetime bound the revised lifetime
	// of a secure channel's security token (defaults 10s, 1h).
	MinChannelLifetime time.Duration `toml:"min_channel_lifetime"`
	MaxChannelLifetime time.Duration `toml:"max_channel_lifetime"`
	// HelloTimeout is how long a new connection may take to send Hello and
	// open its secure channel (default 10s). It is also the hard lifetime of
	// a connection that has not authenticated: a discovery-only channel
	// (SecurityPolicy None while None is not offered) is closed this long
	// after it connected, whatever it sends, and so is a None channel that
	// has not activated a session by then.
	HelloTimeout time.Duration `toml:"hello_timeout"`
	// SendTimeout bounds one write to a client; a client that does not
	// read for that long is disconnected (default 30s).
	SendTimeout time.Duration `toml:"send_timeout"`
	// ReceiveBufferSize and SendBufferSize are the largest message chunks
	// the server accepts and sends (default 65535, at least 8192).
	ReceiveBufferSize uint32 `toml:"receive_buffer_size"`
	SendBufferSize    uint32 `toml:"send_buffer_size"`
	// MaxMessageSize is the largest request body accepted (default 4 MiB);
	// MaxChunkCount the most chunks per request (default 1024).
	MaxMessageSize uint32 `toml:"max_message_size"`
	MaxChunkCount  uint32 `toml:"max_chunk_count"`
	// MaxFailedActivations failed ActivateSession calls for one user name
	// from one client address are allowed before backoff starts; each
	// further one doubles the wait before the next try of that name from
	// that address (1s, 2s, 4s, ...) up to FailedActivationWindow, which is
	// also how long failures are remembered (defaults 5, 1m). Every attempt
	// is counted before the credentials are checked, and other user names
	// (and anonymous) from the same address are not affected.
	MaxFailedActivations   int           `toml:"max_failed_activations"`
	FailedActivationWindow time.Duration `toml:"failed_activation_window"`

	// endpoints is Security parsed by Validate.
	endpoints []securityPair
}

// User is one [[opcua.users]] entry: a name and its credentials, a
// password (at most one of PasswordHash, a bcrypt hash, see HashPassword,
// and Password, resolved by main from "env:NAME" or "file:/path" and hashed
// in memory at start), a Certificate, or both.
type User struct {
	Name         string `toml:"name"`
	PasswordHash string `toml:"password_hash" secret:"true"`
	Password     string `toml:"password" secret:"true"`
	// Certificate is the path of the user's X.509 certificate (DER or
	// PEM): an X509IdentityToken with exactly this certificate, within its
	// validity, not revoked by a CRL in the PKI folders and signed with its
	// private key, logs in as this user. The file is read at start and on
	// reload.
	Certificate string `toml:"certificate"`

	cert *x509.Certificate // Certificate, read by Validate

	// Role is what the user may do beyond reading, for the services
	// (package opcua checks and applies it; uaserver only carries it).
	Role string `toml:"role"`
}

// securityPair is one offered endpoint: a security policy and mode.
type securityPair struct {
	Policy string // full URI
	Mode   ua.MessageSecurityMode
}

func (p securityPair) String() string {
	name := strings.TrimPrefix(p.Policy, ua.SecurityPolicyURIPrefix)
	switch p.Mode {
	case ua.MessageSecurityModeSign:
		return name + ":Sign"
	case ua.MessageSecurityModeSignAndEncrypt:
		return name + ":SignAndEncrypt"
	}
	return name
}

// securityPolicies are the policies a "Policy:Mode" pair may name.
var securityPolicies = map[string]string{
	"Aes256_Sha256_RsaPss":  ua.SecurityPolicyURIAes256Sha256RsaPss,
	"Aes128_Sha256_RsaOaep": ua.SecurityPolicyURIAes128Sha256RsaOaep,
	"Basic256Sha256":        ua.SecurityPolicyURIBasic256Sha256,
}

// defaultSecurity is offered when security is not set: every policy,
// strongest first.
var defaultSecurity = []string{
	"Aes256_Sha256_RsaPss:SignAndEncrypt", "Aes256_Sha256_RsaPss:Sign",
	"Aes128_Sha256_RsaOaep:SignAndEncrypt", "Aes128_Sha256_RsaOaep:Sign",
	"Basic256Sha256:SignAndEncrypt", "Basic256Sha256:Sign",
}

// parseSecurity parses "None" or "Policy:Mode", e.g.
// "Aes256_Sha256_RsaPss:SignAndEncrypt" or "Basic256Sha256:Sign".
func parseSecurity(s string) (securityPair, error) {
	if s == "None" {
		return securityPair{ua.SecurityPolicyURINone, ua.MessageSecurityModeNone}, nil
	}
	policy, mode, ok := strings.Cut(s, ":")
	if !ok {
		return securityPair{}, fmt.Errorf("%q: want \"None\" or \"Policy:Mode\", e.g. \"Aes256_Sha256_RsaPss:SignAndEncrypt\"", s)
	}
	uri, ok := securityPolicies[policy]
	if !ok {
		return securityPair{}, fmt.Errorf("%q: unsupported security policy %q (supported: Aes256_Sha256_RsaPss, Aes128_Sha256_RsaOaep, Basic256Sha256, None)", s, policy)
	}
	p := securityPair{Policy: uri}
	switch mode {
	case "Sign":
		p.Mode = ua.MessageSecurityModeSign
	case "SignAndEncrypt":
		p.Mode = ua.MessageSecurityModeSignAndEncrypt
	default:
		return securityPair{}, fmt.Errorf("%q: unsupported message security mode %q (Sign, SignAndEncrypt)", s, mode)
	}
	return p, nil
}

// Validate fills defaults and checks the configuration; errors name the key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("opcua.%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if c.Endpoint == "" {
		c.Endpoint = "opc.tcp://127.0.0.1:4840"
	}
	host, _, err := splitEndpoint(c.Endpoint)
	if err != nil {
		bad("endpoint", "%v", err)
	}
	machine, _ := os.Hostname()
	if machine == "" {
		machine = "localhost"
	}
	if c.ApplicationURI == "" {
		c.ApplicationURI = "urn:" + machine + ":svgateway"
	} else if u, err := url.Parse(c.ApplicationURI); err != nil || u.Scheme == "" {
		bad("application_uri", "%q is not an absolute URI", c.ApplicationURI)
	}
	if c.ProductURI == "" {
		c.ProductURI = "https://github.com/svgateway/svgateway"
	}
	if c.ApplicationName == "" {
		c.ApplicationName = "svgateway"
	}
	if len(c.Hostnames) == 0 {
		for _, h := range []string{host, machine, "localhost"} {
			if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
				continue // listening on all addresses: advertise names
			}
			if h != "" && !slices.Contains(c.Hostnames, h) {
				c.Hostnames = append(c.Hostnames, h)
			}
		}
	}
	for i, h := range c.Hostnames {
		if h == "" || strings.ContainsAny(h, " /:") && net.ParseIP(h) == nil {
			bad(fmt.Sprintf("hostnames[%d]", i), "%q is neither a host name nor an IP address", h)
		}
	}

	if len(c.Security) == 0 {
		c.Security = slices.Clone(defaultSecurity)
	}
	c.endpoints = nil
	for i, s := range c.Security {
		p, err := parseSecurity(s)
		if err != nil {
			bad(fmt.Sprintf("security[%d]", i), "%v", err)
			continue
		}
		if slices.Contains(c.endpoints, p) {
			bad(fmt.Sprintf("security[%d]", i), "%q listed twice", s)
			continue
		}
		c.endpoints = append(c.endpoints, p)
	}

	seen := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Name == "":
			bad(key+".name", "empty")
		case seen[u.Name]:
			bad(key+".name", "user %q listed twice", u.Name)
		}
		seen[u.Name] = true
		switch {
		case u.PasswordHash == "" && u.Password == "" && u.Certificate == "":
			bad(key, "user %q needs password_hash (see `svgateway hash-password`), password or certificate", u.Name)
		case u.PasswordHash != "" && u.Password != "":
			bad(key, "user %q has both password_hash and password; keep one", u.Name)
		case u.PasswordHash != "":
			if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
				bad(key+".password_hash", "user %q: not a bcrypt hash (see `svgateway hash-password`)", u.Name)
			}
		case len(u.Password) > 72:
			bad(key+".password", "user %q: longer than 72 bytes", u.Name)
		}
		c.Users[i].cert = nil
		if u.Certificate != "" {
			cert, err := readUserCert(u.Certificate)
			if err != nil {
				bad(key+".certificate", "user %q: %v", u.Name, err)
				continue
			}
			for j := range c.Users[:i] {
				if o := c.Users[j].cert; o != nil && bytes.Equal(o.Raw, cert.Raw) {
					bad(key+".certificate", "user %q: the same certificate as user %q", u.Name, c.Users[j].Name)
				}
			}
			c.Users[i].cert = cert
		}
	}
	if !c.AllowAnonymous && len(c.Users) == 0 {
		bad("users", "no way to authenticate: add [[opcua.users]] or set allow_anonymous = true")
	}

	defInt := func(v *int, def int, key string) {
		if *v == 0 {
			*v = def
		} else if *v < 0 {
			bad(key, "must be positive, got %d", *v)
		}
	}
	defDur := func(v *time.Duration, def time.Duration, key string) {
		if *v == 0 {
			*v = def
		} else if *v < 0 {
			bad(key, "must be positive, got %s", *v)
		}
	}
	defInt(&c.MaxConnections, 100, "max_connections")
	if c.MaxConnectionsPerAddress == 0 {
		c.MaxConnectionsPerAddress = max(1, c.MaxConnections/4)
	} else if c.MaxConnectionsPerAddress < 0 || c.MaxConnectionsPerAddress > c.MaxConnections {
		bad("max_connections_per_address", "must be 1..max_connections (%d), got %d", c.MaxConnections, c.MaxConnectionsPerAddress)
	}
	if c.ReservedSecureConnections == 0 {
		c.ReservedSecureConnections = c.MaxConnections / 4
	} else if c.ReservedSecureConnections < 0 || c.ReservedSecureConnections >= c.MaxConnections {
		bad("reserved_secure_connections", "must be 0..max_connections-1 (%d), got %d", c.MaxConnections-1, c.ReservedSecureConnections)
	}
	defInt(&c.MaxSessions, 100, "max_sessions")
	defDur(&c.MinSessionTimeout, 10*time.Second, "min_session_timeout")
	defDur(&c.MaxSessionTimeout, time.Hour, "max_session_timeout")
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		bad("min_session_timeout", "%s is above max_session_timeout %s", c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	defDur(&c.MinChannelLifetime, 10*time.Second, "min_channel_lifetime")
	defDur(&c.MaxChannelLifetime, time.Hour, "max_channel_lifetime")
	if c.MinChannelLifetime > c.MaxChannelLifetime {
		bad("min_channel_lifetime", "%s is above max_channel_lifetime %s", c.MinChannelLifetime, c.MaxChannelLifetime)
	}
	if c.MaxChannelLifetime > time.Duration(1<<32-1)*time.Millisecond {
		bad("max_channel_lifetime", "%s is too long", c.MaxChannelLifetime)
	}
	defDur(&c.HelloTimeout, 10*time.Second, "hello_timeout")
	defDur(&c.SendTimeout, 30*time.Second, "send_timeout")
	defBuf := func(v *uint32, key string) {
		if *v == 0 {
			*v = 65535
		} else if *v < 8192 {
			bad(key, "must be at least 8192, got %d", *v)
		}
	}
	defBuf(&c.ReceiveBufferSize, "receive_buffer_size")
	defBuf(&c.SendBufferSize, "send_buffer_size")
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = 4 << 20
	} else if c.MaxMessageSize < c.ReceiveBufferSize {
		bad("max_message_size", "%d is below receive_buffer_size %d", c.MaxMessageSize, c.ReceiveBufferSize)
	}
	if c.MaxChunkCount == 0 {
		c.MaxChunkCount = 1024
	}
	defInt(&c.MaxFailedActivations, 5, "max_failed_activations")
	defDur(&c.FailedActivationWindow, time.Minute, "failed_activation_window")

	return errors.Join(errs...)
}

// readUserCert reads a user certificate file: one DER or PEM certificate
// with an RSA key of 2048 to 4096 bits.
func readUserCert(path string) (*x509.Certificate, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	certs := readCertFile(path)
	switch {
	case len(certs) == 0:
		return nil, fmt.Errorf("%s: no DER or PEM certificate", path)
	case len(certs) > 1:
		return nil, fmt.Errorf("%s: %d certificates; put only the user's", path, len(certs))
	}
	if pub, ok := certs[0].PublicKey.(*rsa.PublicKey); !ok || pub.Size() < 256 || pub.Size() > 512 {
		return nil, fmt.Errorf("%s: the key is not RSA 2048..4096 bits", path)
	}
	return certs[0], nil
}

// OffersNone reports whether the configuration offers SecurityPolicy None
// (valid only after Validate). The gateway allows it only with the sandbox.
func (c *Config) OffersNone() bool {
	return slices.ContainsFunc(c.endpoints, func(p securityPair) bool { return p.Policy == ua.SecurityPolicyURINone })
}

// splitEndpoint checks an opc.tcp URL and returns its host and port.
func splitEndpoint(endpoint string) (host string, port int, err error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %w", endpoint, err)
	}
	if u.Scheme != "opc.tcp" {
		return "", 0, fmt.Errorf("%q: scheme must be opc.tcp", endpoint)
	}
	host, ps := u.Hostname(), u.Port()
	if host == "" {
		return "", 0, fmt.Errorf("%q: no host", endpoint)
	}
	if ps == "" {
		return host, 4840, nil
	}
	port, err = strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port %q", endpoint, ps)
	}
	return host, port, nil
}

// ListenAddr is the host:port the server binds for Endpoint.
func (c *Config) ListenAddr() (string, error) {
	host, port, err := splitEndpoint(c.Endpoint)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}
