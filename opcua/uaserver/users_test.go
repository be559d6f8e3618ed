package uaserver

import (
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != passwordCost {
		t.Errorf("cost %d %v", cost, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")) != nil {
		t.Error("hash does not verify")
	}
	c := Config{Users: []User{{Name: "u", PasswordHash: h}}}
	if err := c.Validate(); err != nil {
		t.Errorf("a HashPassword hash is not a valid password_hash: %v", err)
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("empty password hashed")
	}
}

func TestUserStore(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("hashed"), bcrypt.MinCost)
	s, err := newUserStore([]User{{Name: "a", PasswordHash: string(hash)}, {Name: "b", Password: "from-env"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, password string
		want           bool
	}{
		{"a", "hashed", true}, {"a", "Hashed", false}, {"a", "", false},
		{"b", "from-env", true}, {"b", "hashed", false}, {"c", "hashed", false},
	} {
		if got := s.check(tt.user, []byte(tt.password)); got != tt.want {
			t.Errorf("check(%q, %q) = %v", tt.user, tt.password, got)
		}
	}
}

func TestActivationLimiter(t *testing.T) {
	l := newActivationLimiter(3, time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// the first max attempts pass, then the backoff doubles from 1s
	for i := range 3 {
		if ok, _ := l.attempt("10.0.0.1", "u", at(0)); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if ok, wait := l.attempt("10.0.0.1", "u", at(500*time.Millisecond)); ok || wait != 500*time.Millisecond {
		t.Errorf("4th attempt within the first backoff: %v %v", ok, wait)
	}
	if ok, _ := l.attempt("10.0.0.1", "u", at(time.Second)); !ok {
		t.Error("attempt after the first backoff refused")
	}
	// 5 attempts so far: the next waits 1s << 2
	if ok, wait := l.attempt("10.0.0.1", "u", at(2*time.Second)); ok || wait != 3*time.Second {
		t.Errorf("backoff did not double: %v %v", ok, wait)
	}
	if n := l.counted("10.0.0.1", "u"); n != 6 {
		t.Errorf("counted %d attempts, want 6 (refused ones too)", n)
	}
	// another name, or another address, is not affected
	for _, k := range [][2]string{{"10.0.0.1", "v"}, {"10.0.0.1", "anonymous"}, {"10.0.0.2", "u"}} {
		if ok, _ := l.attempt(k[0], k[1], at(2*time.Second)); !ok {
			t.Errorf("%v refused", k)
		}
	}
	// the backoff never exceeds the window, and a success forgets
	for range 40 {
		l.attempt("10.0.0.3", "w", at(0))
	}
	if _, wait := l.attempt("10.0.0.3", "w", at(0)); wait > time.Minute {
		t.Errorf("backoff %v beyond the window", wait)
	}
	l.succeeded("10.0.0.1", "u")
	if ok, _ := l.attempt("10.0.0.1", "u", at(2*time.Second)); !ok {
		t.Error("refused after a success")
	}
	// a window after the last attempt, the failures are forgotten
	if ok, _ := l.attempt("10.0.0.3", "w", at(time.Minute)); !ok {
		t.Error("still refused a window after the last attempt")
	}
	// the table stays bounded
	for i := range maxLimiterEntries + 100 {
		l.attempt(fmt.Sprintf("addr-%d", i), "u", at(2*time.Minute))
	}
	if n := len(l.entries); n > maxLimiterEntries {
		t.Errorf("%d entries", n)
	}
}

func TestDummyHashHasTheConfiguredCost(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, 6} {
		hash, _ := bcrypt.GenerateFromPassword([]byte("x"), cost)
		s, err := newUserStore([]User{{Name: "a", PasswordHash: string(hash)}, {Name: "b", Password: "plain"}})
		if err != nil {
			t.Fatal(err)
		}
		for name, h := range map[string][]byte{"dummy": s.dummy, "in-memory hash": s.hashes["b"]} {
			if got, _ := bcrypt.Cost(h); got != cost {
				t.Errorf("%s at cost %d, the configured hash at %d", name, got, cost)
			}
		}
	}
}

func TestCertificateUsers(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	alice := clientCert(t, "urn:user:alice")
	ca, caKey := issue(t, "urn:user-ca", true, nil, nil)
	bob, bobKey := issue(t, "urn:user:bob", false, ca, caKey)
	old, err := generateOwnCert(&Config{ApplicationURI: "urn:user:old", ApplicationName: "old"}, time.Now().Add(-2*certValidity))
	if err != nil {
		t.Fatal(err)
	}
	stranger := clientCert(t, "urn:user:stranger")

	cfg := attackConfig(t)
	cfg.Users = append(cfg.Users,
		User{Name: "alice", Certificate: write("alice.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: alice.der}))},
		User{Name: "bob", Certificate: write("bob.der", bob.Raw)},
		User{Name: "old", Certificate: write("old.der", old.der)})
	ts := startServer(t, cfg)
	appCert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, appCert.der)

	eps := ts.endpointDescriptions()
	for _, ep := range eps {
		if !slices.ContainsFunc(ep.UserIdentityTokens, func(p *ua.UserTokenPolicy) bool {
			return p.TokenType == ua.UserTokenTypeCertificate && p.PolicyID == policyCertificate
		}) {
			t.Errorf("%s: no certificate token policy in %+v", ep.SecurityPolicyURI, ep.UserIdentityTokens)
		}
	}

	for _, p := range []securityPair{
		{ua.SecurityPolicyURINone, ua.MessageSecurityModeNone},
		{ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign},
		{ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt},
	} {
		var cert *ownCert
		if p.Policy != ua.SecurityPolicyURINone {
			cert = appCert
		}
		c := connect(t, ts, p.Policy, p.Mode, cert)
		if err := c.createSession(); err != nil {
			t.Fatal(err)
		}
		if err := c.activate(c.x509User(alice.cert, alice.key)); err != nil {
			t.Fatalf("%s: alice: %v", p, err)
		}
		if err := c.read("A"); err != nil {
			t.Fatalf("%s: Read as alice: %v", p, err)
		}
		if _, err := c.call(&ua.CloseSessionRequest{RequestHeader: c.header(c.authToken), DeleteSubscriptions: true}); err != nil {
			t.Fatal(err)
		}
		if cs := ts.waitClosed(t); cs.User != "alice" {
			t.Errorf("%s: the session's user is %q, want alice", p, cs.User)
		}
	}

	// revoked by its CA's CRL (the CA in issuers/, the CRL in issuers/crl)
	pki := filepath.Join(ts.dir, "opcua", "pki")
	if err := os.WriteFile(filepath.Join(pki, "issuers", "certs", "ca.der"), ca.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, appCert)
	try := func(what string, tok func() any, want ua.StatusCode) {
		t.Helper()
		c.userSig = nil
		if err := c.createSession(); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, what, c.activate(tok()), want)
	}
	try("bob before revocation", func() any { return c.x509User(bob, bobKey) }, ua.StatusOK)
	if err := os.WriteFile(filepath.Join(pki, "issuers", "crl", "ca.crl"), crl(t, ca, caKey, bob), 0o644); err != nil {
		t.Fatal(err)
	}
	try("revoked user certificate", func() any { return c.x509User(bob, bobKey) }, ua.StatusBadIdentityTokenRejected)
	try("untrusted user certificate", func() any { return c.x509User(stranger.cert, stranger.key) }, ua.StatusBadIdentityTokenRejected)
	try("expired user certificate", func() any { return c.x509User(old.cert, old.key) }, ua.StatusBadIdentityTokenRejected)
	try("signed with another key", func() any { return c.x509User(alice.cert, stranger.key) }, ua.StatusBadUserSignatureInvalid)
	try("no signature", func() any {
		tok := c.x509User(alice.cert, alice.key)
		c.userSig = nil
		return tok
	}, ua.StatusBadUserSignatureInvalid)
	try("alice still", func() any { return c.x509User(alice.cert, alice.key) }, ua.StatusOK)
	if !strings.Contains(ts.logs.String(), `user certificate outside its validity period: the user cannot log in with it" user=old`) {
		t.Error("the expired user certificate was not warned about at start")
	}
}

func TestMixedHashCostsAreWarnedAbout(t *testing.T) {
	h4, _ := bcrypt.GenerateFromPassword([]byte("a"), 4)
	h5, _ := bcrypt.GenerateFromPassword([]byte("b"), 5)
	for _, tt := range []struct {
		users []User
		warn  bool
	}{
		{[]User{{Name: "a", PasswordHash: string(h4)}, {Name: "b", PasswordHash: string(h4)}, {Name: "c", Password: "p"}}, false},
		{[]User{{Name: "a", PasswordHash: string(h4)}, {Name: "b", PasswordHash: string(h5)}}, true},
	} {
		cfg := Config{Users: tt.users}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		ids, err := newIdentities(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var logs strings.Builder
		ids.warn(slog.New(slog.NewTextHandler(&logs, nil)), time.Now())
		if got := strings.Contains(logs.String(), "different bcrypt costs"); got != tt.warn {
			t.Errorf("%d users: warned %v, want %v: %s", len(tt.users), got, tt.warn, logs.String())
		}
	}
}

func TestCertificateUserConfigErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "u.der")
	if err := os.WriteFile(good, clientCert(t, "urn:u").der, 0o644); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		users []User
		key   string
	}{
		{[]User{{Name: "a", Certificate: filepath.Join(dir, "missing.der")}}, "opcua.users[0].certificate"},
		{[]User{{Name: "a", Certificate: junk}}, "opcua.users[0].certificate"},
		{[]User{{Name: "a", Certificate: good}, {Name: "b", Certificate: good}}, "opcua.users[1].certificate"},
		{[]User{{Name: "a"}}, "opcua.users[0]"},
	} {
		c := Config{Users: tt.users}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.key+":") {
			t.Errorf("%+v: %v, want an error naming %s", tt.users, err, tt.key)
		}
	}
	c := Config{Users: []User{{Name: "a", Certificate: good, Password: "and a password"}}}
	if err := c.Validate(); err != nil {
		t.Errorf("a user with a certificate and a password: %v", err)
	}
}
