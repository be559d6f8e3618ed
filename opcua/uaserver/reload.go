package uaserver

// Who may open a session is one value, built from the configuration by
// newIdentities and swapped whole: at start by NewServer, on a configuration
// reload (SIGHUP) by Reload. The trust list needs no reload: the PKI
// folders are read on every certificate check, so a certificate moved into
// trusted/ is trusted from the next connection on, and one removed or
// revoked is refused from the next secure channel renewal on.

import (
	"crypto/x509"
	"log/slog"
	"maps"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// identities are the user tokens the server accepts.
type identities struct {
	allowAnonymous bool
	users          *userStore
	// certUsers maps a user certificate (its DER) to the user's name.
	certUsers map[string]string
	// certs are the configured user certificates by user, for warn.
	certs map[string]*x509.Certificate
	// costs are the bcrypt costs of the configured password hashes.
	costs  map[int]bool
	config []User // as configured, for UserRole
}

// warn logs what weakens the configured identities: password hashes of
// different costs (a login's time then tells which group a name is in)
// and user certificates that expired or expire within 30 days.
func (ids *identities) warn(log *slog.Logger, now time.Time) {
	if len(ids.costs) > 1 {
		log.Warn("opcua: the users' password hashes have different bcrypt costs: a login's time tells them apart; rehash them at one cost (svgateway hash-password)",
			"costs", slices.Sorted(maps.Keys(ids.costs)))
	}
	for _, name := range slices.Sorted(maps.Keys(ids.certs)) {
		c := ids.certs[name]
		switch {
		case now.After(c.NotAfter) || now.Before(c.NotBefore):
			log.Warn("opcua: user certificate outside its validity period: the user cannot log in with it", "user", name, "not_before", c.NotBefore, "not_after", c.NotAfter)
		case c.NotAfter.Sub(now) < 30*24*time.Hour:
			log.Warn("opcua: user certificate expires soon", "user", name, "not_after", c.NotAfter)
		}
	}
}

// newIdentities builds the identities of a validated cfg.
func newIdentities(cfg Config) (*identities, error) {
	users, err := newUserStore(cfg.Users)
	if err != nil {
		return nil, err
	}
	ids := &identities{allowAnonymous: cfg.AllowAnonymous, users: users, config: cfg.Users,
		certUsers: map[string]string{}, certs: map[string]*x509.Certificate{}, costs: map[int]bool{}}
	for _, u := range cfg.Users {
		if u.cert != nil {
			ids.certUsers[string(u.cert.Raw)] = u.Name
			ids.certs[u.Name] = u.cert
		}
		if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil {
			ids.costs[cost] = true
		}
	}
	return ids, nil
}

// UserRole returns the Role of the configured user name as the current
// configuration (after any Reload) has it; "" for anyone else. The
// services decide what a role allows.
func (s *Server) UserRole(name string) string {
	for _, u := range s.ids.Load().config {
		if u.Name == name {
			return u.Role
		}
	}
	return ""
}

// Reload applies the users, allow_anonymous and auto_accept_clients of cfg
// (validated here) from the next ActivateSession and certificate check on;
// sessions already activated stay. Nothing else of cfg is applied (the
// endpoint, security policies and limits need a restart). On an error the
// server keeps its current users.
func (s *Server) Reload(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	ids, err := newIdentities(cfg)
	if err != nil {
		return err
	}
	s.ids.Store(ids)
	ids.warn(s.log, time.Now())
	s.trust.autoAccept.Store(cfg.AutoAcceptClients)
	s.log.Info("opcua: users and client trust reloaded", "allow_anonymous", ids.allowAnonymous, "users", ids.users.len(),
		"certificate_users", len(ids.certUsers),
		"auto_accept_clients", cfg.AutoAcceptClients)
	if cfg.AutoAcceptClients {
		s.log.Warn("opcua: auto_accept_clients = true: ANY client certificate is accepted; never use this in production")
	}
	return nil
}
