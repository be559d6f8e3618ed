package snmp

// The agent's communities and USM users are one value, built from the
// configuration by newCredentials and swapped whole: at start by NewAgent,
// on a configuration reload (SIGHUP) by Reload. A request sees either the old
// set or the new one, never a mix.

// credentials are who may read the agent: v2c communities and v3 users.
type credentials struct {
	communities []community
	users       map[string]*usmUser
}

// newCredentials builds the communities and users of cfg (validated), the
// users' keys localized to engineID.
func newCredentials(cfg Config, engineID []byte) (*credentials, error) {
	c := &credentials{communities: newCommunities(cfg.Communities), users: map[string]*usmUser{}}
	for _, u := range cfg.Users {
		usr, err := newUSMUser(u, engineID)
		if err != nil {
			return nil, err
		}
		c.users[u.Name] = usr
	}
	return c, nil
}

// Reload replaces the agent's communities and users with those of cfg
// (validated here); the next request is checked against them. Nothing else
// of cfg is applied: the listen address, engine and limits need a restart.
// On an error the agent keeps its current communities and users.
func (a *Agent) Reload(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	creds, err := newCredentials(cfg, a.engine.id)
	if err != nil {
		return err
	}
	a.credentials.Store(creds)
	a.log.Info("snmp: agent communities and users reloaded", "communities", len(creds.communities), "users", len(creds.users))
	return nil
}
