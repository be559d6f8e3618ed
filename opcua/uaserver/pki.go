package uaserver

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/svgateway/svgateway/internal/atomicfile"
)

// The PKI lives under state_dir/opcua/pki, laid out as OPC UA Part 12
// (F.1) says, and is read on every certificate check (no restart needed):
//
//	own/cert.der      the application instance certificate (generated on first start)
//	own/key.pem       its RSA private key (mode 0600)
//	trusted/certs/    trusted client certificates, or CAs whose certificates are trusted; DER or PEM
//	                  (files directly in trusted/ are read too, as before this layout)
//	trusted/crl/      CRLs of the CAs in trusted/certs
//	issuers/certs/    CAs that are not trusted themselves but complete chains up to a trusted one
//	issuers/crl/      CRLs of the CAs in issuers/certs
//	rejected/         client certificates that were refused, for the administrator to move into trusted/
//
// A CRL is honoured when its signature verifies with the CA that issued it
// (from trusted/ or issuers/); a certificate whose CA has no CRL is taken
// as not revoked. Revocation, removal from trusted/ and expiry cut a
// connected client off at its next secure channel renewal.
const (
	certValidity = 5 * 365 * 24 * time.Hour
	// maxRejected bounds the rejected/ folder so that a client cycling
	// through certificates cannot fill the disk.
	maxRejected = 1000
)

// ownCert is the server's application instance certificate.
type ownCert struct {
	der  []byte
	cert *x509.Certificate
	key  *rsa.PrivateKey
	// thumbprint is the SHA-1 of der, as OPN requests name it.
	thumbprint []byte
}

// loadOrCreateOwnCert loads own/cert.der and own/key.pem, or generates them
// when missing or no longer matching the configuration (ApplicationURI,
// host names, expiry).
func loadOrCreateOwnCert(pkiDir string, cfg *Config, log *slog.Logger) (*ownCert, error) {
	dir := filepath.Join(pkiDir, "own")
	certPath, keyPath := filepath.Join(dir, "cert.der"), filepath.Join(dir, "key.pem")
	oc, err := loadOwnCert(certPath, keyPath)
	switch {
	case err == nil:
		why := ownCertMismatch(oc.cert, cfg, time.Now())
		if why == "" {
			if time.Until(oc.cert.NotAfter) < 30*24*time.Hour {
				log.Warn("opcua: application instance certificate expires soon", "path", certPath, "not_after", oc.cert.NotAfter)
			}
			return oc, nil
		}
		log.Warn("opcua: replacing the application instance certificate", "path", certPath, "reason", why)
		stamp := time.Now().UTC().Format("20060102T150405")
		for _, p := range []string{certPath, keyPath} {
			if err := os.Rename(p, p+"."+stamp+".old"); err != nil {
				return nil, fmt.Errorf("keep old %s: %w", p, err)
			}
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("opcua: application instance certificate in %s: %w (remove the files to regenerate)", dir, err)
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	oc, err = generateOwnCert(cfg, time.Now())
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(oc.key)})
	if err := atomicfile.Write(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", keyPath, err)
	}
	if err := atomicfile.Write(certPath, oc.der, 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", certPath, err)
	}
	log.Info("opcua: generated the application instance certificate", "path", certPath,
		"application_uri", cfg.ApplicationURI, "thumbprint", hex.EncodeToString(oc.thumbprint))
	return oc, nil
}

func loadOwnCert(certPath, keyPath string) (*ownCert, error) {
	der, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", keyPath)
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k8, err8 := x509.ParsePKCS8PrivateKey(block.Bytes); err8 == nil {
		var ok bool
		if key, ok = k8.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("%s: not an RSA key", keyPath)
		}
	} else {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%s does not belong to %s", keyPath, certPath)
	}
	sum := sha1.Sum(der)
	return &ownCert{der: der, cert: cert, key: key, thumbprint: sum[:]}, nil
}

// ownCertMismatch says why cert no longer fits cfg, or "".
func ownCertMismatch(cert *x509.Certificate, cfg *Config, now time.Time) string {
	if now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return "outside its validity period"
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || pub.Size() < 256 {
		return "key is not RSA 2048 or longer"
	}
	if certURI(cert) != cfg.ApplicationURI {
		return fmt.Sprintf("application_uri changed (certificate has %q)", certURI(cert))
	}
	for _, h := range cfg.Hostnames {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				return fmt.Sprintf("IP address %s is not in the certificate", h)
			}
		} else if !slices.Contains(cert.DNSNames, h) {
			return fmt.Sprintf("host name %s is not in the certificate", h)
		}
	}
	return ""
}

// generateOwnCert makes a self-signed RSA-2048 / SHA-256 application
// instance certificate (OPC UA Part 6, 6.2.2).
func generateOwnCert(cfg *Config, now time.Time) (*ownCert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	uri, err := url.Parse(cfg.ApplicationURI)
	if err != nil {
		return nil, fmt.Errorf("opcua.application_uri: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cfg.ApplicationName, Organization: []string{"svgateway"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment |
			x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{uri},
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	for _, h := range cfg.Hostnames {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der)
	return &ownCert{der: der, cert: cert, key: key, thumbprint: sum[:]}, nil
}

// certURI is the first URI SubjectAltName of cert (the ApplicationURI).
func certURI(cert *x509.Certificate) string {
	if len(cert.URIs) == 0 {
		return ""
	}
	return cert.URIs[0].String()
}

// trustList decides whether client certificates are trusted.
type trustList struct {
	trustedDir, issuersDir, rejectedDir string
	autoAccept                          atomic.Bool // set by Reload
	log                                 *slog.Logger

	// The folders' content is parsed again only when a file's name, size
	// or modification time changed: a check costs a few stat calls, not a
	// parse of every certificate and CRL (a peer without credentials can
	// ask for one check per connection).
	mu        sync.Mutex
	cached    *certStore
	cachedKey string
}

func newTrustList(pkiDir string, autoAccept bool, log *slog.Logger) (*trustList, error) {
	t := &trustList{
		trustedDir:  filepath.Join(pkiDir, "trusted"),
		issuersDir:  filepath.Join(pkiDir, "issuers"),
		rejectedDir: filepath.Join(pkiDir, "rejected"),
		log:         log,
	}
	t.autoAccept.Store(autoAccept)
	for _, d := range []string{
		filepath.Join(t.trustedDir, "certs"), filepath.Join(t.trustedDir, "crl"),
		filepath.Join(t.issuersDir, "certs"), filepath.Join(t.issuersDir, "crl"), t.rejectedDir,
	} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// parseCertChain parses a SenderCertificate / ClientCertificate field: one
// DER certificate, optionally followed by its issuers.
func parseCertChain(b []byte) ([]*x509.Certificate, error) {
	if len(b) == 0 {
		return nil, errors.New("no certificate")
	}
	certs, err := x509.ParseCertificates(b)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	return certs, nil
}

// check validates a client application instance certificate chain and its
// trust. It returns Good, or the status to refuse the client with.
func (t *trustList) check(chain []*x509.Certificate, now time.Time) ua.StatusCode {
	leaf := chain[0]
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		t.log.Warn("opcua: client certificate outside its validity period", certAttrs(leaf)...)
		return ua.StatusBadCertificateTimeInvalid
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok || pub.Size() < 256 || pub.Size() > 512 {
		t.log.Warn("opcua: client certificate key is not RSA 2048..4096 bits", certAttrs(leaf)...)
		return ua.StatusBadCertificatePolicyCheckFailed
	}
	if certURI(leaf) == "" {
		t.log.Warn("opcua: client certificate has no ApplicationURI", certAttrs(leaf)...)
		return ua.StatusBadCertificateURIInvalid
	}
	store := t.load()
	path, trusted := store.verify(leaf, chain[1:], now)
	if code := store.revoked(path); code != ua.StatusOK {
		t.log.Warn("opcua: client certificate refused: revoked by a CRL", append(certAttrs(leaf), "status", statusName(code))...)
		return code
	}
	if trusted {
		return ua.StatusOK
	}
	if t.autoAccept.Load() {
		t.log.Warn("opcua: ACCEPTING UNTRUSTED CLIENT CERTIFICATE because auto_accept_clients = true; never use this in production",
			certAttrs(leaf)...)
		return ua.StatusOK
	}
	saved := t.reject(leaf)
	t.log.Warn("opcua: untrusted client certificate refused; move it into trusted/ to allow this client",
		append(certAttrs(leaf), "saved", saved)...)
	return ua.StatusBadSecurityChecksFailed
}

// certStore is the PKI folders' content at one check.
type certStore struct {
	trusted []*x509.Certificate // trusted/ and trusted/certs/
	issuers []*x509.Certificate // issuers/certs/
	crls    []*x509.RevocationList
}

// load returns the PKI folders' content; unreadable files hold nothing.
func (t *trustList) load() *certStore {
	certDirs := []string{t.trustedDir, filepath.Join(t.trustedDir, "certs"), filepath.Join(t.issuersDir, "certs")}
	crlDirs := []string{filepath.Join(t.trustedDir, "crl"), filepath.Join(t.issuersDir, "crl")}
	var key strings.Builder
	files := map[string][]string{}
	for _, d := range slices.Concat(certDirs, crlDirs) {
		entries, err := os.ReadDir(d)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.log.Error("opcua: cannot read a PKI folder", "dir", d, "err", err)
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || info.IsDir() {
				continue
			}
			path := filepath.Join(d, e.Name())
			files[d] = append(files[d], path)
			fmt.Fprintf(&key, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cached != nil && t.cachedKey == key.String() {
		return t.cached
	}
	s := &certStore{}
	for i, d := range certDirs {
		for _, f := range files[d] {
			if i < 2 {
				s.trusted = append(s.trusted, readCertFile(f)...)
			} else {
				s.issuers = append(s.issuers, readCertFile(f)...)
			}
		}
	}
	for _, d := range crlDirs {
		for _, f := range files[d] {
			s.crls = append(s.crls, readCRLFile(f)...)
		}
	}
	t.cached, t.cachedKey = s, key.String()
	return s
}

// verify reports whether leaf is trusted (itself in trusted/, or chaining
// up to a CA there through the sent chain and issuers/) and returns the
// chain it checked for revocation: leaf first, then its issuers as far as
// they are known.
func (s *certStore) verify(leaf *x509.Certificate, sent []*x509.Certificate, now time.Time) ([]*x509.Certificate, bool) {
	for _, c := range s.trusted {
		if bytes.Equal(c.Raw, leaf.Raw) {
			return s.issuerPath(leaf, sent, now), true
		}
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	anchors := 0
	for _, c := range s.trusted {
		if c.IsCA {
			roots.AddCert(c)
			anchors++
		}
	}
	for _, c := range append(slices.Clone(s.issuers), sent...) {
		if c.IsCA {
			inter.AddCert(c)
		}
	}
	if anchors > 0 {
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil && len(chains) > 0 {
			return chains[0], true
		}
	}
	return s.issuerPath(leaf, sent, now), false
}

// issuerPath is leaf and the known CAs above it (for revocation checks of
// a certificate that is not verified through a chain).
func (s *certStore) issuerPath(leaf *x509.Certificate, sent []*x509.Certificate, now time.Time) []*x509.Certificate {
	path := []*x509.Certificate{leaf}
	all := slices.Concat(s.trusted, s.issuers, sent)
	for cur := leaf; len(path) < 8; {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break // self-signed
		}
		var next *x509.Certificate
		for _, c := range all {
			if c.IsCA && bytes.Equal(cur.RawIssuer, c.RawSubject) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		path = append(path, next)
		cur = next
	}
	return path
}

// revoked checks every certificate of path but its last against the CRLs
// of its issuer (path[i+1]); it returns Good, Bad_CertificateRevoked (the
// leaf) or Bad_CertificateIssuerRevoked (a CA).
func (s *certStore) revoked(path []*x509.Certificate) ua.StatusCode {
	for i := 0; i+1 < len(path); i++ {
		c, issuer := path[i], path[i+1]
		for _, crl := range s.crls {
			if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) || crl.CheckSignatureFrom(issuer) != nil {
				continue
			}
			for _, r := range crl.RevokedCertificateEntries {
				if r.SerialNumber != nil && r.SerialNumber.Cmp(c.SerialNumber) == 0 {
					if i == 0 {
						return ua.StatusBadCertificateRevoked
					}
					return ua.StatusBadCertificateIssuerRevoked
				}
			}
		}
	}
	return ua.StatusOK
}

// readCRLFile reads the DER or PEM ("X509 CRL") revocation lists of one
// file; unreadable files hold none.
func readCRLFile(path string) []*x509.RevocationList {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if crl, err := x509.ParseRevocationList(b); err == nil {
		return []*x509.RevocationList{crl}
	}
	var out []*x509.RevocationList
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out
		}
		if block.Type != "X509 CRL" {
			continue
		}
		if crl, err := x509.ParseRevocationList(block.Bytes); err == nil {
			out = append(out, crl)
		}
	}
}

// readCertFile reads the DER or PEM certificates of one file; unreadable
// files hold none.
func readCertFile(path string) []*x509.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if certs, err := x509.ParseCertificates(b); err == nil {
		return certs
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

// reject saves leaf into rejected/ (unless the folder is full) and returns
// the path, or "" if not saved.
func (t *trustList) reject(leaf *x509.Certificate) string {
	sum := sha1.Sum(leaf.Raw)
	name := safeName(leaf.Subject.CommonName) + " [" + hex.EncodeToString(sum[:]) + "].der"
	path := filepath.Join(t.rejectedDir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if entries, err := os.ReadDir(t.rejectedDir); err != nil || len(entries) >= maxRejected {
		return ""
	}
	if err := atomicfile.Write(path, leaf.Raw, 0o644); err != nil {
		t.log.Error("opcua: cannot save rejected certificate", "path", path, "err", err)
		return ""
	}
	return path
}

// safeName keeps letters, digits, '-', '_' and '.' of a certificate's name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" || strings.Trim(s, ".") == "" {
		s = "client"
	}
	return s
}

func certAttrs(c *x509.Certificate) []any {
	sum := sha1.Sum(c.Raw)
	return []any{"subject", c.Subject.String(), "application_uri", certURI(c), "thumbprint", hex.EncodeToString(sum[:])}
}
