package uaserver

// User identity tokens (Part 4, 7.36): who a session is activated as. An
// ActivateSession's token is checked here, after the activation limiter
// has counted the attempt: Anonymous, UserName (the password encrypted for
// the server's key, compared with bcrypt) and X509 (a configured user
// certificate and the token's signature with its key).

import (
	"crypto/rsa"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
)

// claimedUser is the user name an identity token claims, before anything
// in it is checked: the key of the activation limiter.
func claimedUser(eo *ua.ExtensionObject) string {
	if eo == nil {
		return "anonymous"
	}
	switch t := eo.Value.(type) {
	case nil, *ua.AnonymousIdentityToken:
		return "anonymous"
	case *ua.UserNameIdentityToken:
		return t.UserName
	case *ua.X509IdentityToken:
		sum := sha1.Sum(t.CertificateData)
		return "x509:" + hex.EncodeToString(sum[:])
	default:
		return "?"
	}
}

// identify checks the user identity token of q against the session's last
// server nonce and returns the user name ("anonymous" for Anonymous), or a
// status and the reason for metrics.
func (s *Server) identify(c *channel, nonce []byte, q *ua.ActivateSessionRequest) (string, ua.StatusCode, string) {
	ids := s.ids.Load()
	eo := q.UserIdentityToken
	var value any
	if eo != nil {
		value = eo.Value
	}
	switch t := value.(type) {
	case nil:
		if eo != nil && eo.EncodingMask != ua.ExtensionObjectEmpty {
			return "", ua.StatusBadIdentityTokenInvalid, "identity_token_type"
		}
		// a null token is Anonymous (Part 4, 5.6.3)
		if !ids.allowAnonymous {
			return "anonymous", ua.StatusBadIdentityTokenRejected, "anonymous_disabled"
		}
		return "anonymous", ua.StatusOK, ""
	case *ua.AnonymousIdentityToken:
		if !ids.allowAnonymous {
			return "anonymous", ua.StatusBadIdentityTokenRejected, "anonymous_disabled"
		}
		if t.PolicyID != policyAnonymous {
			return "anonymous", ua.StatusBadIdentityTokenInvalid, "token_policy"
		}
		return "anonymous", ua.StatusOK, ""
	case *ua.UserNameIdentityToken:
		if ids.users.len() == 0 {
			return t.UserName, ua.StatusBadIdentityTokenRejected, "username_disabled"
		}
		if t.PolicyID != policyUserName {
			return t.UserName, ua.StatusBadIdentityTokenInvalid, "token_policy"
		}
		password, ok := s.decryptPassword(nonce, t)
		if !ok {
			return t.UserName, ua.StatusBadIdentityTokenInvalid, "password_encryption"
		}
		valid := ids.users.check(t.UserName, password)
		clear(password)
		if !valid {
			return t.UserName, ua.StatusBadUserAccessDenied, "wrong_password"
		}
		return t.UserName, ua.StatusOK, ""
	case *ua.X509IdentityToken:
		return s.identifyCertificate(ids, c, nonce, t, q.UserTokenSignature)
	default:
		return "", ua.StatusBadIdentityTokenRejected, "identity_token_type"
	}
}

// identifyCertificate checks an X.509 user token: a certificate configured
// for a user, within its validity, not revoked by a CRL in the PKI
// folders, and the token signed with its key over the server certificate
// and the last server nonce (Part 4, 5.6.3.1), with the algorithm of the
// token policy.
func (s *Server) identifyCertificate(ids *identities, c *channel, nonce []byte, t *ua.X509IdentityToken, sig *ua.SignatureData) (string, ua.StatusCode, string) {
	if len(ids.certUsers) == 0 {
		return "", ua.StatusBadIdentityTokenRejected, "certificate_disabled"
	}
	if t.PolicyID != policyCertificate {
		return "", ua.StatusBadIdentityTokenInvalid, "token_policy"
	}
	chain, err := parseCertChain(t.CertificateData)
	if err != nil {
		return "", ua.StatusBadIdentityTokenInvalid, "user_certificate_invalid"
	}
	leaf := chain[0]
	user, ok := ids.certUsers[string(leaf.Raw)]
	if !ok {
		s.log.Warn("opcua: unknown user certificate refused; configure it as certificate of an [[opcua.users]] entry", certAttrs(leaf)...)
		return "", ua.StatusBadIdentityTokenRejected, "user_certificate_untrusted"
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return user, ua.StatusBadIdentityTokenRejected, "user_certificate_expired"
	}
	store := s.trust.load()
	if code := store.revoked(store.issuerPath(leaf, chain[1:], now)); code != ua.StatusOK {
		return user, ua.StatusBadIdentityTokenRejected, "user_certificate_revoked"
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return user, ua.StatusBadIdentityTokenInvalid, "user_certificate_invalid"
	}
	alg, err := uapolicy.Asymmetric(userTokenSecurity(c.policy), nil, pub)
	if err != nil || sig == nil || sig.Algorithm != alg.SignatureURI() ||
		alg.VerifySignature(append(append([]byte{}, s.own.der...), nonce...), sig.Signature) != nil {
		return user, ua.StatusBadUserSignatureInvalid, "user_signature"
	}
	return user, ua.StatusOK, ""
}

// decryptPassword recovers a UserName token's password: RSA-OAEP (SHA-1)
// with the server's key over length + password + the last server nonce
// (Part 4, 7.36.4). Unencrypted passwords are refused: the token policy
// always names Basic256Sha256.
func (s *Server) decryptPassword(nonce []byte, t *ua.UserNameIdentityToken) ([]byte, bool) {
	if t.EncryptionAlgorithm != encryptionRSAOAEP {
		return nil, false
	}
	alg, err := uapolicy.Asymmetric(ua.SecurityPolicyURIBasic256Sha256, s.own.key, nil)
	if err != nil {
		return nil, false
	}
	if len(t.Password) == 0 || len(t.Password)%s.own.key.Size() != 0 {
		return nil, false
	}
	plain, err := alg.Decrypt(t.Password)
	if err != nil || len(plain) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(plain)
	if uint64(n) > uint64(len(plain)-4) || int(n) < len(nonce) {
		clear(plain)
		return nil, false
	}
	secret := plain[4 : 4+n]
	cut := len(secret) - len(nonce)
	if !equalBytes(secret[cut:], nonce) {
		clear(plain)
		return nil, false
	}
	password := append([]byte{}, secret[:cut]...)
	clear(plain)
	return password, true
}
