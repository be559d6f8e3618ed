package snmp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Config is the [snmp] table of gateway.toml: the standalone agent.
type Config struct {
	// Listen is the UDP address of the standalone agent (default
	// 127.0.0.1:1161). "off" disables it.
	Listen string `toml:"listen"`
	// EnterpriseOID roots SVGATEWAY-MIB (default 1.3.6.1.4.1.32473, the
	// documentation PEN of RFC 5612): set it to your own PEN (or an arc
	// below it) before production, and give your NMS "svgateway mib".
	EnterpriseOID string `toml:"enterprise_oid"`
	// EngineID is the SNMPv3 engine ID as hex (5 to 32 octets). Empty: one
	// is generated on the first start and kept in state_dir/snmp/engine.json.
	EngineID string `toml:"engine_id"`
	// MaxMessageSize bounds every response (default 65507, at least 484);
	// an SNMPv3 manager's own msgMaxSize lowers it further.
	MaxMessageSize int `toml:"max_message_size"`
	// MaxRepetitions caps a GETBULK's max-repetitions (default 200).
	MaxRepetitions int `toml:"max_repetitions"`
	// V2cMaxBulkSize bounds an SNMPv2c GETBULK response, whole message
	// (default 1472, at least 484). A community is sent in clear and a
	// UDP source address can be forged: without this bound a 46-octet
	// GETBULK could make the agent send ~5 KB to a victim (×111). 1472
	// octets is one unfragmented datagram on Ethernet; the amplification
	// is then at most ~32× the smallest GETBULK. SNMPv3 requests are
	// authenticated and keep max_message_size.
	V2cMaxBulkSize int `toml:"v2c_max_bulk_size"`
	// MaxVarbinds bounds the varbinds of a request and of a GETBULK
	// response (default 1024).
	MaxVarbinds int `toml:"max_varbinds"`
	// SysName, SysContact and SysLocation are served in the system group
	// (sysName defaults to the host name).
	SysName     string `toml:"sys_name"`
	SysContact  string `toml:"sys_contact"`
	SysLocation string `toml:"sys_location"`
	// Communities are the SNMPv2c read-only communities. None: v2c is off.
	Communities []Community `toml:"communities"`
	// Users are the SNMPv3 USM users (read-only).
	Users []User `toml:"users"`
	// AgentX, Targets and HeartbeatInterval configure the AgentX subagent
	// and the notifications (config_notify.go).
	AgentX            AgentXConfig  `toml:"agentx"`
	Targets           []Target      `toml:"targets"`
	HeartbeatInterval time.Duration `toml:"heartbeat_interval"`
}

// Community is an SNMPv2c read-only community.
type Community struct {
	Name string `toml:"name" secret:"true"`
	// Sources are the networks requests may come from ("127.0.0.1/32");
	// empty: any.
	Sources []string `toml:"sources"`
	// View lists the OID subtrees the community may read; empty: all.
	View []string `toml:"view"`
	// Versions are the SNMP versions the community answers: "v1" and/or
	// "v2c" (default ["v2c"]: SNMPv1, RFC 3584, only where asked for).
	Versions []string `toml:"versions"`
}

// User is an SNMPv3 USM user. Its configured protocols are also the least
// security it must use: a user with a privacy protocol must use authPriv.
type User struct {
	Name string `toml:"name"`
	// AuthProtocol: SHA (SHA-1), SHA-224, SHA-256, SHA-384 or SHA-512.
	AuthProtocol   string `toml:"auth_protocol"`
	AuthPassphrase string `toml:"auth_passphrase" secret:"true"`
	// PrivProtocol: empty (authNoPriv), AES (AES-128), AES-192, AES-256
	// (key extension of draft-blumenthal-aes-usm, as net-snmp), or
	// AES-192-C, AES-256-C (the Reeder extension Cisco uses).
	PrivProtocol   string `toml:"priv_protocol"`
	PrivPassphrase string `toml:"priv_passphrase" secret:"true"`
	// View lists the OID subtrees the user may read; empty: all.
	View []string `toml:"view"`
}

// Defaults.
const (
	DefaultListen         = "127.0.0.1:1161"
	defaultMaxMessageSize = 65507
	minMaxMessageSize     = 484
	defaultMaxRepetitions = 200
	defaultV2cMaxBulkSize = 1472
	defaultMaxVarbinds    = 1024
)

var authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{
	"SHA": gosnmp.SHA, "SHA1": gosnmp.SHA, "SHA-1": gosnmp.SHA,
	"SHA224": gosnmp.SHA224, "SHA-224": gosnmp.SHA224, "SHA256": gosnmp.SHA256, "SHA-256": gosnmp.SHA256,
	"SHA384": gosnmp.SHA384, "SHA-384": gosnmp.SHA384, "SHA512": gosnmp.SHA512, "SHA-512": gosnmp.SHA512,
}

var privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{
	"": gosnmp.NoPriv, "AES": gosnmp.AES, "AES128": gosnmp.AES, "AES-128": gosnmp.AES,
	"AES192": gosnmp.AES192, "AES-192": gosnmp.AES192, "AES256": gosnmp.AES256, "AES-256": gosnmp.AES256,
	"AES192C": gosnmp.AES192C, "AES-192-C": gosnmp.AES192C, "AES256C": gosnmp.AES256C, "AES-256-C": gosnmp.AES256C,
}

// Validate fills in defaults and checks the configuration. Errors name the
// key; they never contain a secret.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("snmp.%s: "+format, append([]any{key}, args...)...))
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Listen != "off" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			bad("listen", "%q is not host:port (or \"off\")", c.Listen)
		}
	}
	if c.EnterpriseOID == "" {
		c.EnterpriseOID = DefaultEnterpriseOID
	}
	if _, err := ParseEnterpriseOID(c.EnterpriseOID); err != nil {
		bad("enterprise_oid", "%v", err)
	}
	if c.EngineID != "" {
		if _, err := parseEngineID(c.EngineID); err != nil {
			bad("engine_id", "%v", err)
		}
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = defaultMaxMessageSize
	}
	if c.MaxMessageSize < minMaxMessageSize || c.MaxMessageSize > defaultMaxMessageSize {
		bad("max_message_size", "%d is outside %d..%d", c.MaxMessageSize, minMaxMessageSize, defaultMaxMessageSize)
	}
	if c.MaxRepetitions == 0 {
		c.MaxRepetitions = defaultMaxRepetitions
	}
	if c.MaxRepetitions < 1 {
		bad("max_repetitions", "must be at least 1")
	}
	if c.V2cMaxBulkSize == 0 {
		c.V2cMaxBulkSize = min(defaultV2cMaxBulkSize, c.MaxMessageSize)
	}
	if c.V2cMaxBulkSize < minMaxMessageSize || c.V2cMaxBulkSize > c.MaxMessageSize {
		bad("v2c_max_bulk_size", "%d is outside %d..max_message_size (%d)", c.V2cMaxBulkSize, minMaxMessageSize, c.MaxMessageSize)
	}
	if c.MaxVarbinds == 0 {
		c.MaxVarbinds = defaultMaxVarbinds
	}
	if c.MaxVarbinds < 1 || c.MaxVarbinds > maxRequestVarbinds {
		bad("max_varbinds", "%d is outside 1..%d", c.MaxVarbinds, maxRequestVarbinds)
	}
	for _, s := range []struct{ key, v string }{{"sys_name", c.SysName}, {"sys_contact", c.SysContact}, {"sys_location", c.SysLocation}} {
		if len(s.v) > maxAdminString {
			bad(s.key, "longer than %d octets", maxAdminString)
		}
	}
	seen := map[string]bool{}
	for i, cm := range c.Communities {
		key := fmt.Sprintf("communities[%d]", i)
		switch {
		case cm.Name == "":
			bad(key+".name", "empty")
		case len(cm.Name) > 127:
			bad(key+".name", "longer than 127 octets")
		case seen[cm.Name]:
			bad(key+".name", "the same community is configured twice")
		}
		seen[cm.Name] = true
		if _, err := parseSources(cm.Sources); err != nil {
			bad(key+".sources", "%v", err)
		}
		if _, err := parseView(cm.View); err != nil {
			bad(key+".view", "%v", err)
		}
		if len(cm.Versions) == 0 {
			c.Communities[i].Versions = []string{VersionV2c}
		}
		for _, v := range cm.Versions {
			if v != VersionV1 && v != VersionV2c {
				bad(key+".versions", "%q is not v1 or v2c", v)
			}
		}
	}
	users := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		if u.Name == "" || len(u.Name) > 32 {
			bad(key+".name", "must be 1 to 32 octets")
		}
		if users[u.Name] {
			bad(key+".name", "user %q is configured twice", u.Name)
		}
		users[u.Name] = true
		checkUSM(bad, key, u.AuthProtocol, u.AuthPassphrase, u.PrivProtocol, u.PrivPassphrase)
		if _, err := parseView(u.View); err != nil {
			bad(key+".view", "%v", err)
		}
	}
	errs = append(errs, c.validateNotify()...)
	return errors.Join(errs...)
}

// Root returns the validated enterprise_oid.
func (c *Config) Root() OID {
	root, _ := ParseEnterpriseOID(c.EnterpriseOID)
	return root
}

// DocumentationRoot reports whether the root is still the documentation
// PEN (RFC 5612), which no production site should ship.
func (c *Config) DocumentationRoot() bool {
	return c.Root().Equal(MustParseOID(DefaultEnterpriseOID))
}

// parseEngineID decodes a hex engine ID ("0x" prefix and ":" allowed).
func parseEngineID(s string) ([]byte, error) {
	s = strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), ":", "")
	id, err := hex.DecodeString(s)
	switch {
	case err != nil:
		return nil, errors.New("not hex")
	case len(id) < 5 || len(id) > 32:
		return nil, fmt.Errorf("%d octets, want 5 to 32", len(id))
	case !slices.ContainsFunc(id, func(b byte) bool { return b != 0 }) || !slices.ContainsFunc(id, func(b byte) bool { return b != 0xff }):
		return nil, errors.New("all zeros or all ones (RFC 3411 forbids it)")
	}
	return id, nil
}

func parseSources(srcs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range srcs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR prefix", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// parseView parses OID subtrees, sorted, without subtrees inside others;
// nil when empty (everything).
func parseView(oids []string) ([]OID, error) {
	var view []OID
	for _, s := range oids {
		o, err := ParseOID(s)
		if err != nil {
			return nil, err
		}
		view = append(view, o)
	}
	slices.SortFunc(view, OID.Compare)
	var out []OID
	for _, o := range view {
		if len(out) == 0 || !o.HasPrefix(out[len(out)-1]) {
			out = append(out, o)
		}
	}
	return out, nil
}

// checkUSM checks the SNMPv3 USM security of a user or a notification
// target (key is its config key): authentication is required (no MD5),
// privacy optional (no DES); passphrases of at least 8 characters.
func checkUSM(bad func(key, format string, args ...any), key, auth, authPass, priv, privPass string) {
	if _, ok := authProtocols[strings.ToUpper(auth)]; !ok {
		bad(key+".auth_protocol", "%q is not one of SHA, SHA-224, SHA-256, SHA-384, SHA-512 (no authentication, and MD5, are not supported)", auth)
	}
	if len(authPass) < 8 {
		bad(key+".auth_passphrase", "must be at least 8 characters")
	}
	p, ok := privProtocols[strings.ToUpper(priv)]
	if !ok {
		bad(key+".priv_protocol", "%q is not one of AES, AES-192, AES-256, AES-192-C, AES-256-C or empty (DES is not supported)", priv)
	}
	if p != gosnmp.NoPriv && len(privPass) < 8 {
		bad(key+".priv_passphrase", "must be at least 8 characters")
	}
	if p == gosnmp.NoPriv && privPass != "" {
		bad(key+".priv_passphrase", "set without priv_protocol")
	}
}
