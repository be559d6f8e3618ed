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
	config         []User // as configured, for Users
}

func newIdentities(cfg Config) (*identities, error) {
	users, err := newUserStore(cfg.Users)
	if err != nil {
		return nil, err
	}
	return &identities{allowAnonymous: cfg.AllowAnonymous, users: users, config: cfg.Users}, nil
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
	s.trust.autoAccept.Store(cfg.AutoAcceptClients)
	s.log.Info("opcua: users and client trust reloaded", "allow_anonymous", ids.allowAnonymous, "users", ids.users.len(),
		"auto_accept_clients", cfg.AutoAcceptClients)
	if cfg.AutoAcceptClients {
		s.log.Warn("opcua: auto_accept_clients = true: ANY client certificate is accepted; never use this in production")
	}
	return nil
}
