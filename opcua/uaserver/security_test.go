package uaserver

// Regression tests of the security review (issue 17): each reproduces one
// way a peer without credentials (or with one wrong credential) could deny
// service, guess faster than allowed, tell user names apart or keep a
// revoked certificate connected, and fails on the code before the fix.

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"
)

// connectFrom opens a secure channel from a local loopback address.
func connectFrom(t *testing.T, ts *testServer, local, policy string, mode ua.MessageSecurityMode, cert *ownCert) *rawClient {
	t.Helper()
	c, err := helloOn(t, ts, dialFrom(t, ts, local), 0)
	if err != nil {
		t.Fatalf("Hello from %s: %v", local, err)
	}
	if err := c.open(policy, mode, cert); err != nil {
		t.Fatalf("OpenSecureChannel from %s: %v", local, err)
	}
	return c
}

func TestIdleConnectionsFromOneAddressLeaveRoomForOthers(t *testing.T) {
	cfg := testConfig(t) // max_connections 100; None not offered
	cfg.AllowAnonymous = true
	cfg.HelloTimeout = 30 * time.Second // the idle connections outlive the test's setup on a slow machine
	ts := startServer(t, cfg)
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)

	// 100 idle connections from 127.0.0.1, each holding a discovery channel
	admitted := 0
	for range 100 {
		c, err := helloOn(t, ts, dialTCP(t, ts), 0)
		if err == nil {
			err = c.open(ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
		}
		if err == nil {
			admitted++
			continue
		}
		wantStatus(t, "connection over the per-address share", err, ua.StatusBadTCPServerTooBusy)
	}
	if admitted == 0 || admitted > ts.cfg.MaxConnectionsPerAddress {
		t.Errorf("%d idle connections admitted from one address, want 1..%d", admitted, ts.cfg.MaxConnectionsPerAddress)
	}
	// a client from another address connects, activates and reads, and
	// another one discovers
	c := connectFrom(t, ts, "127.0.0.2", ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	c.mustActivate()
	if err := c.read("A"); err != nil {
		t.Fatalf("Read from another address: %v", err)
	}
	d := connectFrom(t, ts, "127.0.0.3", ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	if _, err := d.call(&ua.GetEndpointsRequest{RequestHeader: d.header(nil)}); err != nil {
		t.Fatalf("GetEndpoints from another address: %v", err)
	}
}

func TestReservedSlotsAreForSecuredChannels(t *testing.T) {
	cfg := testConfig(t)
	cfg.AllowAnonymous = true
	cfg.MaxConnections = 8
	cfg.MaxConnectionsPerAddress = 8
	cfg.ReservedSecureConnections = 2
	cfg.HelloTimeout = 30 * time.Second
	ts := startServer(t, cfg)
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)

	for i := range 6 { // the open slots, from many addresses
		connectFrom(t, ts, "127.0.1."+string(rune('1'+i)), ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	}
	// a reserved slot does not serve discovery...
	c, err := helloOn(t, ts, dialFrom(t, ts, "127.0.2.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "discovery on a reserved slot", c.open(ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil), ua.StatusBadTCPServerTooBusy)
	// ...but a signed channel with a trusted certificate
	for i := range 2 {
		c := connectFrom(t, ts, "127.0.2."+string(rune('2'+i)), ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert)
		c.mustActivate()
		if err := c.read("A"); err != nil {
			t.Fatalf("Read on reserved slot %d: %v", i+1, err)
		}
	}
}

func TestDiscoveryChannelHasAHardLifetime(t *testing.T) {
	cfg := testConfig(t)
	cfg.HelloTimeout = 2 * time.Second
	ts := startServer(t, cfg)
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	// GetEndpoints every 250 ms does not keep it open past hello_timeout
	for i := range 24 {
		if _, err := c.call(&ua.GetEndpointsRequest{RequestHeader: c.header(nil)}); err != nil {
			wantStatus(t, "discovery channel at its end", err, ua.StatusBadTimeout)
			return
		}
		if i == 23 {
			t.Fatal("a discovery channel kept busy outlived hello_timeout by 4 s")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestWrongPasswordsForOneUserDoNotLockOutOthers(t *testing.T) {
	cfg := attackConfig(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("other password"), bcrypt.MinCost)
	cfg.Users = append(cfg.Users, User{Name: "other", PasswordHash: string(hash)})
	cfg.HelloTimeout = 30 * time.Second // a None channel without a session lives this long
	ts := startServer(t, cfg)
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	login := func(user, password string) error {
		if err := c.createSession(); err != nil {
			t.Fatal(err)
		}
		if user == "" {
			return c.activate(nil)
		}
		return c.activate(c.userName(user, password))
	}
	for i := range 5 {
		wantStatus(t, "wrong password", login(testUser, "wrong"), ua.StatusBadUserAccessDenied)
		_ = i
	}
	if err := login("other", "other password"); err != nil {
		t.Errorf("another user from the same address: %v", err)
	}
	if err := login("", ""); err != nil {
		t.Errorf("anonymous from the same address: %v", err)
	}
	if err := login(testUser, "wrong"); err == nil {
		t.Error("a wrong password passed")
	}
	if err := login(testUser, testPassword); err == nil {
		t.Error("the user with 6 failures was let in without a backoff")
	}
}

func TestParallelWrongLoginsAreAllCounted(t *testing.T) {
	cfg := attackConfig(t)
	// a slow hash, so that the guesses overlap while it is checked
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), 8)
	cfg.Users = []User{{Name: testUser, PasswordHash: string(hash)}}
	cfg.HelloTimeout = 30 * time.Second // a None channel without a session lives this long
	ts := startServer(t, cfg)
	const n = 24
	clients := make([]*rawClient, n)
	tokens := make([]*ua.UserNameIdentityToken, n)
	for i := range clients {
		clients[i] = connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
		if err := clients[i].createSession(); err != nil {
			t.Fatal(err)
		}
		tokens[i] = clients[i].userName(testUser, "guess")
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			errs[i] = c.activate(tokens[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		wantStatus(t, "guess "+string(rune('a'+i)), err, ua.StatusBadUserAccessDenied)
	}
	if got := ts.limiter.counted("127.0.0.1", testUser); got != n {
		t.Errorf("%d of %d parallel guesses counted", got, n)
	}
	checked := testutil.ToFloat64(ts.metrics.authFailures.WithLabelValues("wrong_password"))
	limited := testutil.ToFloat64(ts.metrics.authFailures.WithLabelValues("rate_limited"))
	if checked > float64(ts.cfg.MaxFailedActivations) || checked+limited != n {
		t.Errorf("%v guesses checked, %v rate limited; want at most %d checked of %d", checked, limited, ts.cfg.MaxFailedActivations, n)
	}
}

func TestLoginTimeDoesNotTellWhichNamesExist(t *testing.T) {
	cfg := attackConfig(t)
	// a configured cost below the default (the dummy hash used to be at
	// the default, whatever the configured hashes' cost)
	hash, _ := bcrypt.GenerateFromPassword([]byte(testPassword), 7)
	cfg.Users = []User{{Name: testUser, PasswordHash: string(hash)}}
	cfg.MaxFailedActivations = 1000
	ts := startServer(t, cfg)
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert)
	login := func(user string) time.Duration {
		if err := c.createSession(); err != nil {
			t.Fatal(err)
		}
		tok := c.userName(user, "wrong")
		start := time.Now()
		err := c.activate(tok)
		d := time.Since(start)
		wantStatus(t, user, err, ua.StatusBadUserAccessDenied)
		return d
	}
	// Pairs of tries back to back, in alternating order, each pair's ratio
	// (unknown / existing) taken: the load of a busy machine changes slowly
	// against one pair and slows either side alike, and the median of the
	// ratios shrugs off the pairs it hit.
	var ratios []float64
	var known, unknown []time.Duration
	for i := range 15 {
		var k, u time.Duration
		if i%2 == 0 {
			k = login(testUser)
			u = login("nobody")
		} else {
			u = login("nobody")
			k = login(testUser)
		}
		known, unknown = append(known, k), append(unknown, u)
		ratios = append(ratios, float64(u)/float64(k))
	}
	slices.Sort(ratios)
	if ratio := ratios[len(ratios)/2]; ratio > 1.5 || ratio < 1/1.5 {
		t.Errorf("a login takes %v for an existing name, %v for an unknown one: median ratio ×%.2f", known, unknown, ratio)
	}
	t.Logf("median ratio unknown/existing ×%.2f; fastest login: existing name %v, unknown name %v", ratios[len(ratios)/2], slices.Min(known), slices.Min(unknown))
}

// cpuTime is the CPU time used by the process so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestReplayedLargeOpenSecureChannelIsRefusedCheaply(t *testing.T) {
	ts := startServer(t, testConfig(t))
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	// a ~60 KB OpenSecureChannel, properly signed and encrypted by a
	// trusted client (as a replay of a captured one would be)
	body, _ := encodeService(&ua.OpenSecureChannelRequest{
		RequestHeader: (&rawClient{}).header(nil), RequestType: ua.SecurityTokenRequestTypeIssue,
		SecurityMode: ua.MessageSecurityModeSign, ClientNonce: randomBytes(50000), RequestedLifetime: 60000,
	})
	h := asymHeader{policy: ua.SecurityPolicyURIBasic256Sha256, senderCert: cert.der, thumbprint: ts.own.thumbprint}
	chunk, err := sealAsymmetric(0, h, sequence{1, 1}, body, cert.key, &ts.own.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunk) < 60000 || len(chunk) > 65535 {
		t.Fatalf("OPN of %d bytes", len(chunk))
	}
	c := dial(t, ts)
	before := cpuTime(t)
	c.write(chunk)
	got := c.expectError()
	used := cpuTime(t) - before
	if got != ua.StatusBadTCPMessageTooLarge {
		t.Errorf("large OpenSecureChannel: %v, want BadTcpMessageTooLarge", got)
	}
	// 10 ms, as the issue asks (more under the race detector, which slows
	// the certificate parsing; decrypting the body took 0.5 s or more)
	if limit := 10 * time.Millisecond * raceSlowdown; used > limit {
		t.Errorf("refusing it took %v of CPU, want under %v", used, limit)
	}
	t.Logf("refused with %v of CPU", used)
	ts.mustServeSecure(t, cert)
}

func TestReplayedOpenSecureChannelHoldsNoSlot(t *testing.T) {
	cfg := testConfig(t)
	cfg.HelloTimeout = 2 * time.Second
	ts := startServer(t, cfg)
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	// a valid OpenSecureChannel of a trusted client, replayed by someone
	// who cannot derive its keys: it opens a channel that is never used
	body, _ := encodeService(&ua.OpenSecureChannelRequest{
		RequestHeader: (&rawClient{}).header(nil), RequestType: ua.SecurityTokenRequestTypeIssue,
		SecurityMode: ua.MessageSecurityModeSign, ClientNonce: randomBytes(32), RequestedLifetime: 3600000,
	})
	h := asymHeader{policy: ua.SecurityPolicyURIBasic256Sha256, senderCert: cert.der, thumbprint: ts.own.thumbprint}
	chunk, err := sealAsymmetric(0, h, sequence{1, 1}, body, cert.key, &ts.own.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, ts)
	c.write(chunk)
	if typ, _, err := c.readChunk(); err != nil || typ != "OPN" {
		t.Fatalf("replayed OpenSecureChannel: %s %v", typ, err)
	}
	// it lives no longer than an unauthenticated connection (hello_timeout
	// from its start), not for the hour of its token
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, _, err := c.readChunk()
	wantStatus(t, "replayed channel at hello_timeout (got "+typ+")", err, ua.StatusBadTimeout)
}

// mustServeSecure checks that a client with cert can still connect and read.
func (ts *testServer) mustServeSecure(t *testing.T, cert *ownCert) {
	t.Helper()
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	if err := c.createSession(); err != nil {
		t.Fatal(err)
	}
	if err := c.activate(c.userName(testUser, testPassword)); err != nil {
		t.Fatal(err)
	}
	if err := c.read("A"); err != nil {
		t.Fatalf("server no longer serves: Read: %v", err)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestIncompleteDiscoveryRequestsDoNotPinMemory(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnectionsPerAddress = 100
	cfg.HelloTimeout = 30 * time.Second // the incomplete requests stay while the heap is measured
	ts := startServer(t, cfg)
	before := heapInUse()
	const conns = 50
	clients := make([]*rawClient, conns)
	for i := range clients {
		c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
		clients[i] = c
		if i%2 == 0 {
			// first chunks of a request that never ends: 1 MiB each
			for range 16 {
				chunk, _ := sealSymmetric("MSG", 'C', c.channelID, c.tokenID, sequence{c.nextSeq(), 7}, make([]byte, 65000), c.sec)
				_ = c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, err := c.conn.Write(chunk); err != nil {
					break // the server closed the connection
				}
			}
		} else {
			// a whole chunk announced, a sliver sent
			hdr := make([]byte, symHeaderLen, symHeaderLen+200)
			putChunkHeader(hdr, "MSG", 'F', 65535, c.channelID)
			binary.LittleEndian.PutUint32(hdr[12:], c.tokenID)
			c.write(append(hdr, make([]byte, 200)...))
		}
	}
	grown := int64(heapInUse()) - int64(before)
	if grown > 4<<20 {
		t.Errorf("%d incomplete discovery requests hold %.1f MiB of heap", conns, float64(grown)/(1<<20))
	}
	t.Logf("heap grew by %.2f MiB", float64(grown)/(1<<20))
	if got := clients[0].expectError(); got != ua.StatusBadTCPMessageTooLarge {
		t.Errorf("multi-chunk request on a discovery channel: %v, want BadTcpMessageTooLarge", got)
	}
}

func TestTamperedEarlyCiphertextBlockIsRefused(t *testing.T) {
	// The padding is intact and the sequence header decrypts as sent: only
	// the signature, verified in SignAndEncrypt as in Sign, can refuse it.
	ts := startServer(t, attackConfig(t))
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	c.mustActivate()
	body, _ := encodeService(c.readRequest(c.authToken, "A", "B", "C", "D"))
	chunk, err := sealSymmetric("MSG", 'F', c.channelID, c.tokenID, sequence{c.nextSeq(), 99}, body, c.sec)
	if err != nil {
		t.Fatal(err)
	}
	chunk[symHeaderLen+16+5] ^= 0x01 // the second AES block: the request header
	c.write(chunk)
	// the very next thing from the server is the Error message
	typ, _, err := c.readChunk()
	wantStatus(t, "tampered ciphertext (got "+typ+")", err, ua.StatusBadSecurityChecksFailed)
	if n := ts.services.count("Read"); n != 0 {
		t.Errorf("%d Reads reached the services", n)
	}
}

func TestCertificateRemovedFromTrustedIsCutOffAtRenewal(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert)
	c.mustActivate()
	if err := c.openSecureChannel(ua.SecurityTokenRequestTypeRenew); err != nil {
		t.Fatalf("renewal while trusted: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(ts.dir, "opcua", "pki", "trusted"))
	for _, e := range entries {
		if !e.IsDir() {
			os.Remove(filepath.Join(ts.dir, "opcua", "pki", "trusted", e.Name()))
		}
	}
	wantStatus(t, "renewal once untrusted", c.openSecureChannel(ua.SecurityTokenRequestTypeRenew), ua.StatusBadSecurityChecksFailed)
	if _, _, err := c.readChunk(); err == nil {
		t.Error("the channel is still open")
	}
}

func TestCertificateRevokedByCRLIsCutOffAtRenewal(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	ca, caKey := issue(t, "urn:test:ca", true, nil, nil)
	leaf, key := issue(t, "urn:test:rawclient", false, ca, caKey)
	cert := &ownCert{der: leaf.Raw, cert: leaf, key: key}
	pki := filepath.Join(ts.dir, "opcua", "pki")
	if err := os.WriteFile(filepath.Join(pki, "trusted", "certs", "ca.der"), ca.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	c.mustActivate()
	if err := c.read("A"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pki, "trusted", "crl", "ca.crl"), crl(t, ca, caKey, leaf), 0o644); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "renewal once revoked", c.openSecureChannel(ua.SecurityTokenRequestTypeRenew), ua.StatusBadCertificateRevoked)
	if _, _, err := c.readChunk(); err == nil {
		t.Error("the channel is still open")
	}
	c = dial(t, ts)
	wantStatus(t, "new channel once revoked", c.open(ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSign, cert), ua.StatusBadCertificateRevoked)
}

func TestEverySecurityPolicyServes(t *testing.T) {
	cfg := testConfig(t) // the default endpoints: every policy and mode
	ts := startServer(t, cfg)
	if len(ts.cfg.endpoints) != 6 {
		t.Fatalf("default endpoints %v", ts.cfg.endpoints)
	}
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	for _, p := range ts.cfg.endpoints {
		t.Run(p.String(), func(t *testing.T) {
			c := connect(t, ts, p.Policy, p.Mode, cert)
			if err := c.createSession(); err != nil {
				t.Fatal(err)
			}
			if err := c.activate(c.userName(testUser, testPassword)); err != nil {
				t.Fatalf("ActivateSession: %v", err)
			}
			if err := c.read(bigNode); err != nil { // a response of many chunks
				t.Fatalf("Read: %v", err)
			}
			if err := c.openSecureChannel(ua.SecurityTokenRequestTypeRenew); err != nil {
				t.Fatalf("Renew: %v", err)
			}
			if err := c.read("A"); err != nil {
				t.Fatalf("Read after renewal: %v", err)
			}
			// a tampered chunk is refused under every policy
			body, _ := encodeService(c.readRequest(c.authToken, "A", "B"))
			chunk, _ := sealSymmetric("MSG", 'F', c.channelID, c.tokenID, sequence{c.nextSeq(), 99}, body, c.sec)
			chunk[symHeaderLen+16+5] ^= 0x01
			c.write(chunk)
			typ, _, err := c.readChunk()
			wantStatus(t, "tampered chunk (got "+typ+")", err, ua.StatusBadSecurityChecksFailed)
		})
	}
}

// raceSlowdown scales CPU limits under the race detector (race_test.go).
var raceSlowdown time.Duration = 1
