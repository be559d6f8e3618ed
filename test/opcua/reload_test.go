package e2e

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// TestNodeOPCUAReloadUsers: a node-opcua client logs in with the users of
// the last Reload (SIGHUP): a removed user is refused from the next
// session on, an added one is accepted; anonymous access follows
// allow_anonymous; a Reload that does not validate changes nothing.
func TestNodeOPCUAReloadUsers(t *testing.T) {
	ts := startServer(t, testConfig(t))
	ts.trustNodeClient(t)
	login := func(user string) clientResult {
		args := []string{"--security", "Basic256Sha256:SignAndEncrypt", "--step", "read=ns=1;s=A"}
		if user != "" {
			args = append(args, "--user", user)
		}
		return runClient(t, ts, args...)
	}
	if r := login(testUser + ":" + testPassword); !r.ok("read") {
		t.Fatalf("before the reload: %v", r.step("session"))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("new-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Users = []uaserver.User{{Name: "rotated", PasswordHash: string(hash)}}
	cfg.AllowAnonymous = true
	if err := ts.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if r := login(testUser + ":" + testPassword); r.ok("session") || !strings.Contains(r.errorOf("session"), "BadUserAccessDenied") {
		t.Errorf("removed user after the reload: %v", r.step("session"))
	}
	if r := login("rotated:new-pass"); !r.ok("read") {
		t.Errorf("added user after the reload: %v", r.step("session"))
	}
	if r := login(""); !r.ok("read") {
		t.Errorf("anonymous after allow_anonymous = true: %v", r.step("session"))
	}
	bad := cfg
	bad.Users = []uaserver.User{{Name: "x", PasswordHash: "not-bcrypt"}}
	if err := ts.Reload(bad); err == nil {
		t.Error("a user without a valid hash was accepted")
	}
	if r := login("rotated:new-pass"); !r.ok("read") {
		t.Errorf("after a refused reload: %v", r.step("session"))
	}
}
