package uaserver

import (
	"log/slog"
	"testing"
)

// TestUserRoleFollowsReload: UserRole answers from the configuration in
// force, so a role changed by a reload applies at once.
func TestUserRoleFollowsReload(t *testing.T) {
	cfg := testConfig(t)
	cfg.Users = []User{{Name: "alice", Password: "a password", Role: "operator"}, {Name: "bob", Password: "b password"}}
	srv, err := NewServer(cfg, newStubServices(), Options{Logger: slog.New(slog.DiscardHandler), StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if srv.UserRole("alice") != "operator" || srv.UserRole("bob") != "" || srv.UserRole("carol") != "" {
		t.Fatalf("roles: %q %q %q", srv.UserRole("alice"), srv.UserRole("bob"), srv.UserRole("carol"))
	}
	cfg.Users[0].Role = "read-only"
	if err := srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if r := srv.UserRole("alice"); r != "read-only" {
		t.Errorf("after a reload: %q", r)
	}
}
