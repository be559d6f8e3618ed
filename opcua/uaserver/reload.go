package uaserver

// Who may open a session is one value, built from the configuration by
// newIdentities and swapped whole: at start by NewServer, on a configuration
// reload (SIGHUP) by Reload. The trust list needs no reload: trusted/ is
// read on every certificate check, so a certificate moved there is trusted
// from the next connection on.

// identities are the user tokens the server accepts.
type identities struct {
	allowAnonymous bool
	users          *userStore
	// certUsers maps a user certificate (its DER) to the user's name.
	certUsers map[string]string
}

// newIdentities builds the identities of a validated cfg.
func newIdentities(cfg Config) (*identities, error) {
	users, err := newUserStore(cfg.Users)
	if err != nil {
		return nil, err
	}
	ids := &identities{allowAnonymous: cfg.AllowAnonymous, users: users, certUsers: map[string]string{}}
	for _, u := range cfg.Users {
		if u.cert != nil {
			ids.certUsers[string(u.cert.Raw)] = u.Name
		}
	}
	return ids, nil
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
	s.trust.autoAccept.Store(cfg.AutoAcceptClients)
	s.log.Info("opcua: users and client trust reloaded", "allow_anonymous", ids.allowAnonymous, "users", ids.users.len(),
		"certificate_users", len(ids.certUsers),
		"auto_accept_clients", cfg.AutoAcceptClients)
	if cfg.AutoAcceptClients {
		s.log.Warn("opcua: auto_accept_clients = true: ANY client certificate is accepted; never use this in production")
	}
	return nil
}
