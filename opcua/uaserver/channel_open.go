package uaserver

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
)

// token is one security token of a channel and its symmetric keys.
type token struct {
	id       uint32
	created  time.Time
	lifetime time.Duration
	sec      symmetric
}

// expiry is when a token stops being accepted: its lifetime plus the 25 %
// grace clients are given to renew (Part 4, 5.5.2).
func (t *token) expiry() time.Time { return t.created.Add(t.lifetime * 5 / 4) }

// maxOpenBlocks bounds the encrypted part of an OpenSecureChannel request,
// in blocks of the server's key, before any is decrypted: a request, its
// padding and a 4096-bit signature need at most 4 (a replayed 64 KB one
// would cost hundreds of private-key operations). maxOpenNoneBody bounds
// an unsecured one.
const (
	maxOpenBlocks   = 8
	maxOpenNoneBody = 8 << 10
)

// maxPendingTokens bounds the renewed tokens kept while a quiet client
// renews without sending anything else.
const maxPendingTokens = 4

// token finds the unexpired token a MSG/CLO chunk claims to be secured with.
func (c *channel) token(id uint32) (*token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.tokens {
		if t.id != id {
			continue
		}
		if time.Now().After(t.expiry()) {
			return nil, errorf(ua.StatusBadSecureChannelTokenUnknown, "token %d expired", id)
		}
		return t, nil
	}
	return nil, errorf(ua.StatusBadSecureChannelTokenUnknown, "token %d", id)
}

// used records a verified chunk secured with t: the first chunk secured
// with a renewed token retires the tokens before it (Part 6, 6.7.4), and
// the channel lives as long as its newest token.
func (c *channel) used(t *token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t != c.current {
		c.current = t
		for len(c.tokens) > 0 && c.tokens[0] != t {
			c.tokens = c.tokens[1:]
		}
	}
	c.expiresAt = c.lifetimeLocked()
}

// lifetimeLocked is when the connection ends unless a token is renewed
// (c.mu held): its newest token's expiry once authenticated, else the
// hard deadline.
func (c *channel) lifetimeLocked() time.Time {
	if !c.authenticated {
		return c.hardDeadline
	}
	return c.tokens[len(c.tokens)-1].expiry()
}

// authenticate marks the connection authenticated (on the serve goroutine:
// a chunk verified on a secure channel, or ActivateSession): it now lives
// as long as its tokens and may send requests of many chunks.
func (c *channel) authenticate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.authenticated || len(c.tokens) == 0 {
		return
	}
	c.authenticated = true
	c.expiresAt = c.lifetimeLocked()
}

// addToken installs a newly issued token (c.mu held). Renewed tokens wait
// for the client to use them; the oldest unused ones are dropped beyond
// maxPendingTokens.
func (c *channel) addToken(t *token) {
	if c.current == nil {
		c.current = t
	}
	c.tokens = append(c.tokens, t)
	if pending := len(c.tokens) - 1; pending > maxPendingTokens {
		c.tokens = append(c.tokens[:1], c.tokens[len(c.tokens)-maxPendingTokens:]...)
	}
}

// openSecureChannel handles an OPN chunk: Issue on a new connection, Renew
// on an open channel.
func (c *channel) openSecureChannel(b []byte, channelID uint32) error {
	ah, off, err := parseAsymHeader(b)
	if err != nil {
		return err
	}
	if c.id == 0 && channelID != 0 {
		return errorf(ua.StatusBadTCPSecureChannelUnknown, "OpenSecureChannel for unknown channel %d", channelID)
	}
	if c.id != 0 && channelID != c.id {
		return errorf(ua.StatusBadSecureChannelIDInvalid, "renewal for channel %d on channel %d", channelID, c.id)
	}
	if ah.policy != ua.SecurityPolicyURINone && !c.srv.offersPolicy(ah.policy) {
		c.srv.metrics.authFailures.WithLabelValues("security_policy").Inc()
		return errorf(ua.StatusBadSecurityPolicyRejected, "security policy %q is not offered", ah.policy)
	}
	if c.id != 0 && ah.policy != c.policy {
		return errorf(ua.StatusBadSecurityPolicyRejected, "renewal with another security policy")
	}

	if c.id == 0 && c.reservedSlot && ah.policy == ua.SecurityPolicyURINone {
		c.srv.metrics.refusedConnections.WithLabelValues("reserved_for_secure").Inc()
		return errorf(ua.StatusBadTCPServerTooBusy, "only signed secure channels are admitted now (the other connection slots are taken)")
	}

	// Everything that costs little is checked before the RSA work: the
	// size, the certificate and its trust (on Issue and on every Renew, so
	// that a certificate removed from trusted/, revoked or expired since
	// is cut off at the next renewal).
	var chain []*x509.Certificate
	var remote *rsa.PublicKey
	if ah.policy != ua.SecurityPolicyURINone {
		if chain, err = parseCertChain(ah.senderCert); err != nil {
			return errorf(ua.StatusBadCertificateInvalid, "sender certificate: %v", err)
		}
		var ok bool
		if remote, ok = chain[0].PublicKey.(*rsa.PublicKey); !ok {
			return errorf(ua.StatusBadCertificateInvalid, "sender certificate has no RSA key")
		}
		if !bytes.Equal(ah.thumbprint, c.srv.own.thumbprint) {
			return errorf(ua.StatusBadCertificateInvalid, "OpenSecureChannel is not encrypted for this server's certificate")
		}
		if c.clientCert != nil && !bytes.Equal(chain[0].Raw, c.clientCert.Raw) {
			return errorf(ua.StatusBadSecurityChecksFailed, "renewal with another client certificate")
		}
		if blocks := (len(b) - off) / c.srv.own.key.Size(); blocks > maxOpenBlocks {
			c.srv.metrics.authFailures.WithLabelValues("open_too_large").Inc()
			return errorf(ua.StatusBadTCPMessageTooLarge, "OpenSecureChannel of %d encrypted blocks (at most %d)", blocks, maxOpenBlocks)
		}
		if code := c.srv.trust.check(chain, time.Now()); code != ua.StatusOK {
			c.srv.metrics.authFailures.WithLabelValues("client_certificate").Inc()
			if c.id != 0 {
				c.log.Warn("opcua: secure channel closed at renewal: the client certificate is no longer trusted or valid",
					append(certAttrs(chain[0]), "status", statusName(code))...)
			}
			return errorf(code, "client certificate refused")
		}
	} else if len(b)-off > maxOpenNoneBody {
		return errorf(ua.StatusBadTCPMessageTooLarge, "OpenSecureChannel of %d bytes", len(b))
	}
	seq, body, err := openAsymmetric(b, off, ah.policy, c.srv.own.key, remote)
	if err != nil {
		return err
	}
	if err := c.checkSequence(seq.seq); err != nil {
		return err
	}
	req, err := decodeRequest(body)
	if err != nil {
		return err
	}
	osc, ok := req.(*ua.OpenSecureChannelRequest)
	if !ok {
		return errorf(ua.StatusBadTCPMessageTypeInvalid, "OPN carries %T", req)
	}
	c.srv.metrics.requests.WithLabelValues("OpenSecureChannel").Inc()

	issue := c.id == 0
	switch {
	case issue && osc.RequestType != ua.SecurityTokenRequestTypeIssue,
		!issue && osc.RequestType != ua.SecurityTokenRequestTypeRenew:
		return errorf(ua.StatusBadRequestTypeInvalid, "request type %v on %s channel", osc.RequestType, map[bool]string{true: "a new", false: "an open"}[issue])
	case !issue && osc.SecurityMode != c.mode:
		return errorf(ua.StatusBadSecurityModeRejected, "renewal with another security mode")
	case ah.policy == ua.SecurityPolicyURINone && osc.SecurityMode != ua.MessageSecurityModeNone:
		return errorf(ua.StatusBadSecurityModeRejected, "SecurityPolicy None with mode %v", osc.SecurityMode)
	case ah.policy != ua.SecurityPolicyURINone && !c.srv.offers(securityPair{ah.policy, osc.SecurityMode}):
		c.srv.metrics.authFailures.WithLabelValues("security_mode").Inc()
		return errorf(ua.StatusBadSecurityModeRejected, "%s is not offered", securityPair{ah.policy, osc.SecurityMode})
	}
	var serverNonce []byte
	if ah.policy != ua.SecurityPolicyURINone {
		if len(osc.ClientNonce) != 32 {
			return errorf(ua.StatusBadNonceInvalid, "client nonce of %d bytes", len(osc.ClientNonce))
		}
		serverNonce = randomBytes(32)
	}

	now := time.Now()
	lifetime := time.Duration(osc.RequestedLifetime) * time.Millisecond
	lifetime = min(max(lifetime, c.srv.cfg.MinChannelLifetime), c.srv.cfg.MaxChannelLifetime)
	tok := &token{created: now, lifetime: lifetime, sec: symmetric{mode: osc.SecurityMode}}
	if osc.SecurityMode != ua.MessageSecurityModeNone {
		if tok.sec.alg, err = uapolicy.Symmetric(ah.policy, serverNonce, osc.ClientNonce); err != nil {
			return errorf(ua.StatusBadSecurityChecksFailed, "derive keys: %v", err)
		}
	}

	if issue {
		c.policy, c.mode = ah.policy, osc.SecurityMode
		c.discoveryOnly = ah.policy == ua.SecurityPolicyURINone && !c.srv.offersPolicy(ah.policy)
		if chain != nil {
			c.clientCert, c.clientKey = chain[0], remote
		}
		c.srv.register(c)
		c.log = c.log.With("channel", c.id)
	}
	c.mu.Lock()
	tok.id = 1
	if n := len(c.tokens); n > 0 {
		tok.id = c.tokens[n-1].id + 1
	}
	c.addToken(tok)
	c.expiresAt = c.lifetimeLocked()
	c.mu.Unlock()

	resp := &ua.OpenSecureChannelResponse{
		ResponseHeader:        responseHeader(osc.RequestHeader.RequestHandle, ua.StatusOK),
		ServerProtocolVersion: 0,
		SecurityToken: &ua.ChannelSecurityToken{
			ChannelID:       c.id,
			TokenID:         tok.id,
			CreatedAt:       now,
			RevisedLifetime: uint32(lifetime / time.Millisecond),
		},
		ServerNonce: serverNonce,
	}
	if serverNonce == nil {
		resp.ServerNonce = []byte{}
	}
	out, err := encodeService(resp)
	if err != nil {
		return err
	}
	if issue && c.discoveryOnly {
		c.log.Debug("opcua: discovery channel opened")
	} else if issue {
		c.log.Info("opcua: secure channel opened", "security", securityPair{c.policy, c.mode}.String(),
			"lifetime", lifetime, "client", clientSubject(c.clientCert))
	} else {
		c.log.Debug("opcua: secure channel renewed", "token", tok.id, "lifetime", lifetime)
	}
	return c.sendAsymmetric(seq.requestID, out)
}

func clientSubject(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	return cert.Subject.String()
}
