// This file is the [cluster] table of gateway.toml.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is the [cluster] table. Without it (no etcd_endpoints) the
// gateway runs alone, as a single gateway always did.
type Config struct {
	// Endpoints are the etcd client URLs (http://host:2379, https://…).
	Endpoints []string `toml:"etcd_endpoints"`
	// Node names this gateway in the cluster (default: the host name); two
	// nodes must not share one.
	Node string `toml:"node"`
	// Prefix is the etcd key prefix of the cluster (default "/svgateway/"):
	// gateway pairs sharing an etcd cluster need distinct prefixes.
	Prefix string `toml:"prefix"`
	// LeaseTTL is the leader's lease: a dead leader is replaced after at
	// most this long (default 5s, at least 2s, whole seconds).
	LeaseTTL time.Duration `toml:"lease_ttl"`
	// DialTimeout bounds connecting to etcd and each request (default 2s).
	DialTimeout time.Duration `toml:"dial_timeout"`
	// Username and Password authenticate to etcd (etcd auth enabled).
	Username string `toml:"username"`
	Password string `toml:"password" secret:"true"`
	// CAFile verifies the etcd servers (https endpoints); CertFile and
	// KeyFile are this node's client certificate (etcd --client-cert-auth).
	CAFile   string `toml:"ca_file"`
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
}

// Enabled reports whether the table configures a cluster.
func (c *Config) Enabled() bool { return len(c.Endpoints) > 0 }

// Validate fills in defaults and checks the table; errors name the key.
func (c *Config) Validate() error {
	if !c.Enabled() {
		if c.Node != "" || c.Username != "" || c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" {
			return errors.New("cluster.etcd_endpoints: must be set when [cluster] has other keys (list the etcd client URLs)")
		}
		return nil
	}
	var errs []error
	tls := false
	for i, e := range c.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("cluster.etcd_endpoints[%d]: %q is not an http:// or https:// URL with a host", i, e))
			continue
		}
		tls = tls || u.Scheme == "https"
	}
	if c.Node == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			errs = append(errs, errors.New("cluster.node: must be set (the host name is unknown)"))
		}
		c.Node = h
	}
	if strings.ContainsAny(c.Node, "/ \t\n") {
		errs = append(errs, fmt.Errorf("cluster.node: %q must not contain '/' or white space", c.Node))
	}
	switch {
	case c.Prefix == "":
		c.Prefix = "/svgateway/"
	case !strings.HasSuffix(c.Prefix, "/"):
		c.Prefix += "/"
	}
	switch {
	case c.LeaseTTL == 0:
		c.LeaseTTL = 5 * time.Second
	case c.LeaseTTL < 2*time.Second || c.LeaseTTL%time.Second != 0:
		errs = append(errs, fmt.Errorf("cluster.lease_ttl: %s must be whole seconds, at least 2s", c.LeaseTTL))
	}
	switch {
	case c.DialTimeout == 0:
		c.DialTimeout = 2 * time.Second
	case c.DialTimeout < 100*time.Millisecond:
		errs = append(errs, fmt.Errorf("cluster.dial_timeout: %s is below the minimum of 100ms", c.DialTimeout))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("cluster.username, cluster.password: set both or neither"))
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("cluster.cert_file, cluster.key_file: set both or neither"))
	}
	if !tls && (c.CAFile != "" || c.CertFile != "") {
		errs = append(errs, errors.New("cluster.ca_file, cluster.cert_file: need https:// etcd_endpoints"))
	}
	for _, f := range []struct{ key, path string }{{"ca_file", c.CAFile}, {"cert_file", c.CertFile}, {"key_file", c.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("cluster.%s: %w", f.key, err))
		}
	}
	return errors.Join(errs...)
}

// Check reports, per endpoint, an etcd member that cannot be reached or
// refuses this node's credentials (check-config); cfg must be valid.
func Check(ctx context.Context, cfg Config) error {
	if !cfg.Enabled() {
		return nil
	}
	n, err := New(cfg, nil)
	if err != nil {
		return err
	}
	defer n.cli.Close()
	var errs []error
	for i, e := range cfg.Endpoints {
		sctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
		_, err := n.cli.Status(sctx, e)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("cluster.etcd_endpoints[%d]: etcd at %s: %w", i, e, err))
		}
	}
	return errors.Join(errs...)
}
