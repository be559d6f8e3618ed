package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// node-opcua against every security policy the server offers, and X.509
// user identity tokens: a certificate user logs in under each policy and
// mode; an untrusted, revoked or expired user certificate and a token
// signed with another key are refused (issue 17).

// userCert is a user certificate and its key, written as client.js reads
// them (DER certificate, PEM key).
type userCert struct {
	cert     *x509.Certificate
	key      *rsa.PrivateKey
	certPath string
	keyPath  string
}

// makeUserCert issues a certificate for name, signed by parent (self-signed
// if nil), valid from notBefore for a day, and writes it into dir.
func makeUserCert(t *testing.T, dir, name string, isCA bool, parent *userCert, notBefore time.Time) *userCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	uri, _ := url.Parse("urn:test:user:" + name)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name}, NotBefore: notBefore,
		NotAfter: notBefore.Add(24 * time.Hour), URIs: []*url.URL{uri}, BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageDataEncipherment | x509.KeyUsageKeyEncipherment}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	u := &userCert{cert: cert, key: key, certPath: filepath.Join(dir, name+".der"), keyPath: filepath.Join(dir, name+".key.pem")}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if os.WriteFile(u.certPath, der, 0o644) != nil || os.WriteFile(u.keyPath, keyPEM, 0o600) != nil {
		t.Fatal("cannot write the user certificate")
	}
	return u
}

func TestNodeOPCUAEveryPolicyAndCertificateUsers(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().Add(-time.Hour)
	alice := makeUserCert(t, dir, "alice", false, nil, now)
	ca := makeUserCert(t, dir, "user-ca", true, nil, now)
	bob := makeUserCert(t, dir, "bob", false, ca, now)
	old := makeUserCert(t, dir, "old", false, nil, now.Add(-72*time.Hour))
	stranger := makeUserCert(t, dir, "stranger", false, nil, now)

	cfg := testConfig(t) // the default endpoints: every policy, Sign and SignAndEncrypt
	cfg.Users = append(cfg.Users,
		uaserver.User{Name: "alice", Certificate: alice.certPath},
		uaserver.User{Name: "bob", Certificate: bob.certPath},
		uaserver.User{Name: "old", Certificate: old.certPath})
	ts := startServer(t, cfg)
	ts.trustNodeClient(t)

	for _, policy := range []string{"Aes256_Sha256_RsaPss", "Aes128_Sha256_RsaOaep", "Basic256Sha256"} {
		for _, mode := range []string{"SignAndEncrypt", "Sign"} {
			security := policy + ":" + mode
			t.Run(security+"/certificate user", func(t *testing.T) {
				r := runClient(t, ts, append([]string{"--security", security, "--user-cert", alice.certPath, "--user-key", alice.keyPath}, readSteps...)...)
				checkReads(t, r)
				if cs := ts.waitClosed(t); cs.User != "alice" {
					t.Errorf("session of user %q, want alice", cs.User)
				}
			})
			t.Run(security+"/user name", func(t *testing.T) {
				r := runClient(t, ts, "--security", security, "--user", testUser+":"+testPassword, "--step", "read=ns=1;s=A")
				if !r.ok("session") || !r.ok("read") {
					t.Errorf("session %v, read %v", r.step("session"), r.step("read"))
				}
				ts.waitClosed(t)
			})
		}
	}

	// bob's CA in issuers/ (not trusted itself), its CRL in issuers/crl
	pki := filepath.Join(ts.dir, "opcua", "pki")
	if err := os.WriteFile(filepath.Join(pki, "issuers", "certs", "user-ca.der"), ca.cert.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	login := func(t *testing.T, cert, key string) clientResult {
		return runClient(t, ts, "--security", "Aes256_Sha256_RsaPss:SignAndEncrypt", "--user-cert", cert, "--user-key", key, "--step", "read=ns=1;s=A")
	}
	t.Run("issued by a CA, not revoked", func(t *testing.T) {
		if r := login(t, bob.certPath, bob.keyPath); !r.ok("session") || !r.ok("read") {
			t.Errorf("session %v, read %v", r.step("session"), r.step("read"))
		}
	})
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(48 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: bob.cert.SerialNumber, RevocationTime: now}}}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pki, "issuers", "crl", "user-ca.crl"), crl, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, cert, key, want string
	}{
		{"untrusted user certificate", stranger.certPath, stranger.keyPath, "BadIdentityTokenRejected"},
		{"revoked user certificate", bob.certPath, bob.keyPath, "BadIdentityTokenRejected"},
		{"expired user certificate", old.certPath, old.keyPath, "BadIdentityTokenRejected"},
		{"token signed with another key", alice.certPath, stranger.keyPath, "BadUserSignatureInvalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := login(t, tt.cert, tt.key)
			if r.ok("session") || r.ok("read") || !strings.Contains(r.errorOf("session"), tt.want) {
				t.Errorf("session %v, read %v; want refused with %s", r.step("session"), r.step("read"), tt.want)
			}
		})
	}
	if !strings.Contains(ts.logs.String(), "reason=user_certificate_revoked") {
		t.Error("the revoked user certificate's refusal was not logged with its reason")
	}
}
