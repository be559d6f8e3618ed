package uaserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// activated opens a None channel with an activated anonymous session.
func activated(t *testing.T, ts *testServer) *rawClient {
	t.Helper()
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	c.mustActivate()
	return c
}

// serviceRequests are requests only an activated session may make.
func serviceRequests(c *rawClient, tok *ua.NodeID) map[string]ua.Request {
	return map[string]ua.Request{
		"Read": c.readRequest(tok, "A"),
		"Write": &ua.WriteRequest{RequestHeader: c.header(tok), NodesToWrite: []*ua.WriteValue{{
			NodeID: ua.NewStringNodeID(1, "A"), AttributeID: ua.AttributeIDDisplayName,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(ua.NewLocalizedText("pwned"))}}}},
		"Browse": &ua.BrowseRequest{RequestHeader: c.header(tok), View: &ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0)},
			NodesToBrowse: []*ua.BrowseDescription{{NodeID: ua.NewNumericNodeID(0, 85), ReferenceTypeID: ua.NewNumericNodeID(0, 33), IncludeSubtypes: true}}},
		"CreateSubscription": &ua.CreateSubscriptionRequest{RequestHeader: c.header(tok), RequestedPublishingInterval: 100,
			RequestedLifetimeCount: 60, RequestedMaxKeepAliveCount: 2, PublishingEnabled: true},
		"Publish": &ua.PublishRequest{RequestHeader: c.header(tok)},
		"Cancel":  &ua.CancelRequest{RequestHeader: c.header(tok)},
	}
}

func TestServicesNeedAnActivatedSessionOnItsChannel(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	owner := activated(t, ts)

	noSession := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	notActivated := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	if err := notActivated.createSession(); err != nil {
		t.Fatal(err)
	}
	thief := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)

	for _, tt := range []struct {
		name string
		c    *rawClient
		tok  *ua.NodeID
		want ua.StatusCode
	}{
		{"no session", noSession, nil, ua.StatusBadSessionIDInvalid},
		{"unknown token", noSession, ua.NewByteStringNodeID(0, randomBytes(32)), ua.StatusBadSessionIDInvalid},
		{"session not activated", notActivated, notActivated.authToken, ua.StatusBadSessionNotActivated},
		{"token of another channel", thief, owner.authToken, ua.StatusBadSessionIDInvalid},
	} {
		for service, req := range serviceRequests(tt.c, tt.tok) {
			_, err := tt.c.call(req)
			wantStatus(t, tt.name+": "+service, err, tt.want)
		}
	}
	for _, service := range []string{"Read", "Write", "Browse", "CreateSubscription", "Publish"} {
		if n := ts.services.count(service); n != 0 {
			t.Errorf("services saw %d %s requests without an activated session", n, service)
		}
	}
	if err := owner.read("A"); err != nil {
		t.Errorf("owner after the attempts: %v", err)
	}
	ts.mustServe(t)
}

func TestActivateSessionMovesASessionToANewChannel(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	a := activated(t, ts)
	b := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	b.authToken, b.serverNonce = a.authToken, a.serverNonce
	if err := b.activate(nil); err != nil {
		t.Fatalf("ActivateSession on a new channel: %v", err)
	}
	if err := b.read("A"); err != nil {
		t.Errorf("read on the new channel: %v", err)
	}
	wantStatus(t, "read on the old channel", a.read("A"), ua.StatusBadSessionIDInvalid)

	// another user cannot take it over
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	c.authToken, c.serverNonce = a.authToken, b.serverNonce
	wantStatus(t, "take-over with another identity", c.activate(c.userName(testUser, testPassword)), ua.StatusBadIdentityChangeNotSupported)

	// a secure session stays with its client certificate
	cert1, cert2 := clientCert(t, "urn:test:one"), clientCert(t, "urn:test:two")
	ts.trust(t, cert1.der)
	ts.trust(t, cert2.der)
	s1 := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert1)
	s1.mustActivate()
	s2 := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert2)
	s2.authToken, s2.serverNonce = s1.authToken, s1.serverNonce
	wantStatus(t, "take-over by another application", s2.activate(nil), ua.StatusBadSecurityChecksFailed)
	if err := s1.read("A"); err != nil {
		t.Errorf("owner after the take-over attempt: %v", err)
	}
}

func TestOnlyOfferedEndpointsAreServed(t *testing.T) {
	cfg := testConfig(t)
	cfg.Security = []string{"Basic256Sha256:SignAndEncrypt"}
	ts := startServer(t, cfg)

	// SecurityPolicy None serves discovery only
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	resp, err := c.call(&ua.GetEndpointsRequest{RequestHeader: c.header(nil)})
	if err != nil {
		t.Fatalf("GetEndpoints on a discovery channel: %v", err)
	}
	eps := resp.(*ua.GetEndpointsResponse).Endpoints
	if len(eps) != 1 || eps[0].SecurityMode != ua.MessageSecurityModeSignAndEncrypt || eps[0].SecurityPolicyURI != ua.SecurityPolicyURIBasic256Sha256 {
		t.Fatalf("endpoints %+v", eps)
	}
	ep := eps[0]
	if string(ep.ServerCertificate) != string(ts.own.der) || ep.Server.ApplicationURI != "urn:svgateway:test" || ep.EndpointURL != ts.EndpointURL() {
		t.Errorf("endpoint description: %+v", ep)
	}
	if len(ep.UserIdentityTokens) != 1 || ep.UserIdentityTokens[0].TokenType != ua.UserTokenTypeUserName ||
		ep.UserIdentityTokens[0].PolicyID != policyUserName || ep.UserIdentityTokens[0].SecurityPolicyURI != ua.SecurityPolicyURIBasic256Sha256 {
		t.Errorf("user token policies: %+v", ep.UserIdentityTokens)
	}
	fs, err := c.call(&ua.FindServersRequest{RequestHeader: c.header(nil)})
	if err != nil || len(fs.(*ua.FindServersResponse).Servers) != 1 {
		t.Errorf("FindServers: %v", err)
	}
	wantStatus(t, "CreateSession over None when None is not offered", c.createSession(), ua.StatusBadSecurityPolicyRejected)

	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	c = dial(t, ts)
	wantStatus(t, "Sign when only SignAndEncrypt is offered", c.open(ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert), ua.StatusBadSecurityModeRejected)
	c = dial(t, ts)
	wantStatus(t, "policy not offered", c.open(ua.SecurityPolicyURIBasic256, ua.MessageSecurityModeSignAndEncrypt, cert), ua.StatusBadSecurityPolicyRejected)

	c = connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	if err := c.createSession(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "anonymous when not allowed", c.activate(nil), ua.StatusBadIdentityTokenRejected)
	// the failed activation ended the session: a new one is needed
	wantStatus(t, "session after a failed activation", c.activate(c.userName(testUser, testPassword)), ua.StatusBadSessionIDInvalid)
	if err := c.createSession(); err != nil {
		t.Fatal(err)
	}
	if err := c.activate(c.userName(testUser, testPassword)); err != nil {
		t.Fatalf("UserName: %v", err)
	}
	if err := c.read("A"); err != nil {
		t.Error(err)
	}
}

func TestUntrustedClientCertificateIsRejectedAndKept(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	cert := clientCert(t, "urn:test:stranger")
	c := dial(t, ts)
	wantStatus(t, "untrusted certificate", c.open(ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert), ua.StatusBadSecurityChecksFailed)
	rejected := filepath.Join(ts.dir, "opcua", "pki", "rejected")
	entries, err := os.ReadDir(rejected)
	if err != nil || len(entries) != 1 {
		t.Fatalf("rejected/: %v %v", entries, err)
	}
	saved, err := os.ReadFile(filepath.Join(rejected, entries[0].Name()))
	if err != nil || string(saved) != string(cert.der) {
		t.Fatalf("rejected/%s does not hold the client certificate", entries[0].Name())
	}
	// the administrator moves it into trusted/
	if err := os.Rename(filepath.Join(rejected, entries[0].Name()), filepath.Join(ts.dir, "opcua", "pki", "trusted", entries[0].Name())); err != nil {
		t.Fatal(err)
	}
	c = connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	c.mustActivate()

	// expired and wrong-URI certificates
	old2, err := generateOwnCert(&Config{ApplicationURI: "urn:test:old", ApplicationName: "old", Hostnames: []string{"localhost"}}, time.Now().Add(-10*certValidity))
	if err != nil {
		t.Fatal(err)
	}
	ts.trust(t, old2.der)
	c = dial(t, ts)
	wantStatus(t, "expired certificate", c.open(ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, old2), ua.StatusBadCertificateTimeInvalid)

	c = connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert)
	c.appURI = "urn:test:somebody-else"
	wantStatus(t, "ApplicationUri not the certificate's", c.createSession(), ua.StatusBadCertificateURIInvalid)
	ts.mustServe(t)
}

func TestUserAuthentication(t *testing.T) {
	cfg := attackConfig(t)
	cfg.AllowAnonymous = false
	cfg.MaxFailedActivations = 3
	ts := startServer(t, cfg)
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	try := func(what string, token func() any, want ua.StatusCode) {
		t.Helper()
		if err := c.createSession(); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, what, c.activate(token()), want)
		if want != ua.StatusOK {
			// a failed activation ends the session
			wantStatus(t, what+": session after the failure", c.activate(token()), ua.StatusBadSessionIDInvalid)
		}
	}
	plain := func() any {
		return &ua.UserNameIdentityToken{PolicyID: policyUserName, UserName: testUser, Password: []byte(testPassword)}
	}
	try("unencrypted password", plain, ua.StatusBadIdentityTokenInvalid)
	try("wrong password", func() any { return c.userName(testUser, "wrong") }, ua.StatusBadUserAccessDenied)
	try("unknown user", func() any { return c.userName("nobody", testPassword) }, ua.StatusBadUserAccessDenied)
	try("anonymous while disabled", func() any { return nil }, ua.StatusBadIdentityTokenRejected)
	// the third attempt for the user passes (and succeeds); the next wrong
	// ones start the backoff for this user only
	try("right password", func() any { return c.userName(testUser, testPassword) }, ua.StatusOK)
	for range 3 {
		try("wrong password", func() any { return c.userName(testUser, "wrong") }, ua.StatusBadUserAccessDenied)
	}
	try("right password during the backoff", func() any { return c.userName(testUser, testPassword) }, ua.StatusBadUserAccessDenied)
	if !strings.Contains(ts.logs.String(), "too many failed activations") {
		t.Error("rate limiting not logged")
	}
}

func TestUserAuthenticationSucceeds(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	for _, mode := range []ua.MessageSecurityMode{ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt, ua.MessageSecurityModeNone} {
		var c *rawClient
		if mode == ua.MessageSecurityModeNone {
			c = connect(t, ts, ua.SecurityPolicyURINone, mode, nil)
		} else {
			c = connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, mode, cert)
		}
		if err := c.createSession(); err != nil {
			t.Fatal(err)
		}
		if err := c.activate(c.userName(testUser, testPassword)); err != nil {
			t.Fatalf("%v: UserName: %v", mode, err)
		}
		if err := c.read("A"); err != nil {
			t.Errorf("%v: %v", mode, err)
		}
		// a forged client signature
		c2 := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert)
		if err := c2.createSession(); err != nil {
			t.Fatal(err)
		}
		c2.serverNonce = randomBytes(32) // signs the wrong nonce
		wantStatus(t, "client signature over the wrong nonce", c2.activate(nil), ua.StatusBadApplicationSignatureInvalid)
	}
}

func TestSessionLimitsAndTimeout(t *testing.T) {
	cfg := attackConfig(t)
	cfg.MaxSessions = 2
	ts := startServer(t, cfg)
	a := activated(t, ts)
	b := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	if err := b.createSession(); err != nil {
		t.Fatal(err)
	}
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	wantStatus(t, "third session", c.createSession(), ua.StatusBadTooManySessions)
	if ts.Info().Sessions != 2 {
		t.Errorf("Info().Sessions = %d", ts.Info().Sessions)
	}

	// CloseSession tells the services, with the client's deleteSubscriptions
	if _, err := a.call(&ua.CloseSessionRequest{RequestHeader: a.header(a.authToken), DeleteSubscriptions: false}); err != nil {
		t.Fatal(err)
	}
	if cs := ts.waitClosed(t); cs.DeleteSubscriptions || cs.User != "anonymous" {
		t.Errorf("SessionClosed(%+v) after CloseSession(false)", cs)
	}
	wantStatus(t, "read after CloseSession", a.read("A"), ua.StatusBadSessionIDInvalid)

	// a session that is not used expires; its subscriptions are kept for
	// TransferSubscriptions (Part 4, 5.7.2.1)
	d := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	d.sessionTimeout = 3000
	d.mustActivate()
	cs := ts.waitClosed(t)
	if cs.DeleteSubscriptions || cs.ID.String() == "" {
		t.Errorf("SessionClosed(%+v) after the timeout", cs)
	}
	wantStatus(t, "read after the timeout", d.read("A"), ua.StatusBadSessionIDInvalid)
}
