package uaserver

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/internal/svctest"
)

func TestOwnCertificateIsGeneratedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	cfg := &Config{ApplicationURI: "urn:test:gw", ApplicationName: "gw", Hostnames: []string{"gw.example.com", "127.0.0.1"}}
	log := slog.New(slog.DiscardHandler)
	oc, err := loadOrCreateOwnCert(dir, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	c := oc.cert
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok || pub.N.BitLen() != 2048 {
		t.Errorf("key: %T", c.PublicKey)
	}
	if c.SignatureAlgorithm != x509.SHA256WithRSA || certURI(c) != "urn:test:gw" ||
		len(c.DNSNames) != 1 || c.DNSNames[0] != "gw.example.com" || len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal([]byte{127, 0, 0, 1}) {
		t.Errorf("certificate: alg %v uri %q dns %v ip %v", c.SignatureAlgorithm, certURI(c), c.DNSNames, c.IPAddresses)
	}
	if c.KeyUsage&x509.KeyUsageKeyEncipherment == 0 || c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Errorf("key usage %v", c.KeyUsage)
	}
	st, err := os.Stat(filepath.Join(dir, "own", "key.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", st.Mode(), err)
	}

	again, err := loadOrCreateOwnCert(dir, cfg, log)
	if err != nil || string(again.der) != string(oc.der) {
		t.Fatalf("not reused: %v", err)
	}

	// a new ApplicationURI needs a new certificate; the old one is kept
	cfg.ApplicationURI = "urn:test:renamed"
	renamed, err := loadOrCreateOwnCert(dir, cfg, log)
	if err != nil || string(renamed.der) == string(oc.der) || certURI(renamed.cert) != "urn:test:renamed" {
		t.Fatalf("not regenerated: %v", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "own", "cert.der.*.old"))
	if len(old) != 1 {
		t.Errorf("old certificate not kept: %v", old)
	}

	// a damaged key is an error, not silently replaced
	if err := os.WriteFile(filepath.Join(dir, "own", "key.pem"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateOwnCert(dir, cfg, log); err == nil {
		t.Error("damaged key accepted")
	}
}

// issue makes a certificate for uri signed by parent (self-signed if nil).
func issue(t *testing.T, uri string, isCA bool, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, _ := testKeys(t)
	u, _ := url.Parse(uri)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: uri}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), URIs: []*url.URL{u}, IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCRLSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestTrustList(t *testing.T) {
	dir := t.TempDir()
	var logs svctest.Buffer
	tl, err := newTrustList(dir, false, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, pemFile, stranger := clientCert(t, "urn:a").cert, clientCert(t, "urn:b").cert, clientCert(t, "urn:c").cert
	ca, caKey := issue(t, "urn:ca", true, nil, nil)
	signed, _ := issue(t, "urn:d", false, ca, caKey)

	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, "trusted", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.der", der.Raw)
	write("b.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pemFile.Raw}))
	write("ca.crt", ca.Raw)
	write("notes.txt", []byte("not a certificate"))

	for _, tt := range []struct {
		name string
		cert *x509.Certificate
		want ua.StatusCode
	}{
		{"DER in trusted/", der, ua.StatusOK},
		{"PEM in trusted/", pemFile, ua.StatusOK},
		{"issued by a CA in trusted/", signed, ua.StatusOK},
		{"unknown", stranger, ua.StatusBadSecurityChecksFailed},
	} {
		if got := tl.check([]*x509.Certificate{tt.cert}, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	rejected, _ := os.ReadDir(filepath.Join(dir, "rejected"))
	if len(rejected) != 1 || !strings.HasSuffix(rejected[0].Name(), ".der") {
		t.Fatalf("rejected/: %v", rejected)
	}
	// refused again: still one file
	tl.check([]*x509.Certificate{stranger}, now)
	if rejected, _ = os.ReadDir(filepath.Join(dir, "rejected")); len(rejected) != 1 {
		t.Errorf("rejected/ grew to %d files", len(rejected))
	}
	if got := tl.check([]*x509.Certificate{der}, now.Add(10*certValidity)); got != ua.StatusBadCertificateTimeInvalid {
		t.Errorf("expired: %v", got)
	}

	tl.autoAccept.Store(true)
	if got := tl.check([]*x509.Certificate{stranger}, now); got != ua.StatusOK {
		t.Errorf("auto-accept: %v", got)
	}
	if !strings.Contains(logs.String(), "ACCEPTING UNTRUSTED CLIENT CERTIFICATE") {
		t.Error("auto-accept not logged loudly")
	}
}

// crl makes a CRL of ca revoking certs.
func crl(t *testing.T, ca *x509.Certificate, caKey *rsa.PrivateKey, certs ...*x509.Certificate) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	for _, c := range certs {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now()})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestTrustListChainsAndCRLs(t *testing.T) {
	dir := t.TempDir()
	tl, err := newTrustList(dir, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	write := func(sub, name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, sub, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, rootKey := issue(t, "urn:root", true, nil, nil)
	inter, interKey := issue(t, "urn:inter", true, root, rootKey)
	viaInter, _ := issue(t, "urn:via-inter", false, inter, interKey)
	revoked, _ := issue(t, "urn:revoked", false, root, rootKey)
	fine, _ := issue(t, "urn:fine", false, root, rootKey)
	pinned, _ := issue(t, "urn:pinned", false, inter, interKey) // itself in trusted/, its CA revokes it
	other, otherKey := issue(t, "urn:other-ca", true, nil, nil)
	lonely, _ := issue(t, "urn:lonely", false, other, otherKey)

	write("trusted/certs", "root.der", root.Raw)
	write("trusted/certs", "pinned.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pinned.Raw}))
	write("issuers/certs", "inter.der", inter.Raw)
	write("issuers/certs", "other.der", other.Raw)
	write("trusted/crl", "root.crl", crl(t, root, rootKey, revoked))
	write("issuers/crl", "inter.crl", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl(t, inter, interKey, pinned)}))
	// a CRL that claims to be root's but is signed by another key: ignored
	// (issue signs every test certificate with the same key)
	forgerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forged := crl(t, &x509.Certificate{RawSubject: root.RawSubject, Subject: root.Subject, PublicKey: &forgerKey.PublicKey,
		KeyUsage: x509.KeyUsageCRLSign, SubjectKeyId: []byte{1}}, forgerKey, fine)
	write("trusted/crl", "forged.crl", forged)

	now := time.Now()
	for _, tt := range []struct {
		name  string
		chain []*x509.Certificate
		want  ua.StatusCode
	}{
		{"issued by a trusted root", []*x509.Certificate{fine}, ua.StatusOK},
		{"through an intermediate in issuers/", []*x509.Certificate{viaInter}, ua.StatusOK},
		{"through an intermediate sent along", []*x509.Certificate{viaInter, inter}, ua.StatusOK},
		{"revoked by the root's CRL", []*x509.Certificate{revoked}, ua.StatusBadCertificateRevoked},
		{"in trusted/ but revoked by its CA", []*x509.Certificate{pinned}, ua.StatusBadCertificateRevoked},
		{"CA only in issuers/", []*x509.Certificate{lonely}, ua.StatusBadSecurityChecksFailed},
	} {
		if got := tl.check(tt.chain, now); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	// the root revokes the intermediate: what it issued is refused
	write("trusted/crl", "root.crl", crl(t, root, rootKey, revoked, inter))
	if got := tl.check([]*x509.Certificate{viaInter}, now); got != ua.StatusBadCertificateIssuerRevoked {
		t.Errorf("issued by a revoked intermediate: %v, want BadCertificateIssuerRevoked", got)
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"": "client", "..": "client", "../../etc/passwd": ".._.._etc_passwd", "Client A/B": "Client_A_B"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
