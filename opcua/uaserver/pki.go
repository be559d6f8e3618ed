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
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/svgateway/svgateway/internal/atomicfile"
)

// The PKI lives under state_dir/opcua/pki:
//
//	own/cert.der      the application instance certificate (generated on first start)
//	own/key.pem       its RSA private key (mode 0600)
//	trusted/          client certificates (or their CAs), DER or PEM, put there by an administrator
//	rejected/         client certificates that were refused, for the administrator to move into trusted/
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
	trustedDir, rejectedDir string
	autoAccept              atomic.Bool // set by Reload
	log                     *slog.Logger
}

func newTrustList(pkiDir string, autoAccept bool, log *slog.Logger) (*trustList, error) {
	t := &trustList{
		trustedDir:  filepath.Join(pkiDir, "trusted"),
		rejectedDir: filepath.Join(pkiDir, "rejected"),
		log:         log,
	}
	t.autoAccept.Store(autoAccept)
	for _, d := range []string{t.trustedDir, t.rejectedDir} {
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
	if t.trusted(leaf, now) {
		return ua.StatusOK
	}
	if t.autoAccept.Load() {
		t.log.Warn("opcua: ACCEPTING UNTRUSTED CLIENT CERTIFICATE because auto_accept_clients = true; never use this in production",
			certAttrs(leaf)...)
		return ua.StatusOK
	}
	path := t.reject(leaf)
	t.log.Warn("opcua: untrusted client certificate refused; move it into trusted/ to allow this client",
		append(certAttrs(leaf), "saved", path)...)
	return ua.StatusBadSecurityChecksFailed
}

// trusted reports whether leaf is in trusted/ or was issued by a CA
// certificate in trusted/.
func (t *trustList) trusted(leaf *x509.Certificate, now time.Time) bool {
	entries, err := os.ReadDir(t.trustedDir)
	if err != nil {
		t.log.Error("opcua: cannot read the trust list", "dir", t.trustedDir, "err", err)
		return false
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		for _, c := range readCertFile(filepath.Join(t.trustedDir, e.Name())) {
			if bytes.Equal(c.Raw, leaf.Raw) {
				return true
			}
			if c.IsCA && now.After(c.NotBefore) && now.Before(c.NotAfter) &&
				bytes.Equal(leaf.RawIssuer, c.RawSubject) && leaf.CheckSignatureFrom(c) == nil {
				return true
			}
		}
	}
	return false
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
