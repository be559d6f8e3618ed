package uaserver

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
)

const (
	// activationTimeout bounds how long a created session may wait for
	// ActivateSession, whatever its timeout.
	activationTimeout = 30 * time.Second
	// maxPendingPerChannel bounds sessions created but not activated on one
	// channel.
	maxPendingPerChannel = 4
	// user token policy ids offered on every endpoint
	policyAnonymous = "anonymous"
	policyUserName  = "username"
	// policyCertificate is the X.509 user token policy
	policyCertificate = "certificate"
	// encryptionRSAOAEP is the UserName token password encryption of
	// Basic256Sha256 (RSA-OAEP with SHA-1).
	encryptionRSAOAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep"
)

// session is the session layer's state of one session.
type session struct {
	authToken   string // the secret AuthenticationToken (its StringID)
	id          *ua.NodeID
	name        string
	endpoint    securityPair
	clientCert  *x509.Certificate // nil for SecurityPolicy None
	timeout     time.Duration
	maxResponse uint32

	mu          sync.Mutex
	channel     *channel
	serverNonce []byte // the last nonce sent to the client
	activated   bool
	closed      bool
	user        string // identity it was activated with
	pub         *Session
	lastSeen    time.Time
}

// deadline is when the session expires without requests.
func (ss *session) deadline() time.Time {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.activated {
		return ss.lastSeen.Add(min(ss.timeout, activationTimeout))
	}
	return ss.lastSeen.Add(ss.timeout)
}

// sessionTable holds the sessions by authentication token.
type sessionTable struct {
	mu      sync.Mutex
	byToken map[string]*session
}

func (t *sessionTable) get(tok *ua.NodeID) *session {
	if tok == nil || tok.Type() != ua.NodeIDTypeByteString || tok.Namespace() != 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byToken[tok.StringID()]
}

func (t *sessionTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byToken)
}

// add inserts ss unless max sessions exist or c has too many pending ones.
func (t *sessionTable) add(ss *session, max int, c *channel) ua.StatusCode {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byToken) >= max {
		return ua.StatusBadTooManySessions
	}
	pending := 0
	for _, o := range t.byToken {
		o.mu.Lock()
		if o.channel == c && !o.activated {
			pending++
		}
		o.mu.Unlock()
	}
	if pending >= maxPendingPerChannel {
		return ua.StatusBadTooManySessions
	}
	t.byToken[ss.authToken] = ss
	return ua.StatusOK
}

// remove deletes ss and reports whether it was there.
func (t *sessionTable) remove(ss *session) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byToken[ss.authToken] != ss {
		return false
	}
	delete(t.byToken, ss.authToken)
	return true
}

func (t *sessionTable) removeAll() []*session {
	t.mu.Lock()
	defer t.mu.Unlock()
	var all []*session
	for k, ss := range t.byToken {
		all = append(all, ss)
		delete(t.byToken, k)
	}
	return all
}

func (t *sessionTable) all() []*session {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := make([]*session, 0, len(t.byToken))
	for _, ss := range t.byToken {
		all = append(all, ss)
	}
	return all
}

// expireSessions closes sessions that outlive their timeout, until ctx ends.
func (s *Server) expireSessions(ctx context.Context) {
	tick := time.NewTicker(max(10*time.Millisecond, min(time.Second, s.cfg.MinSessionTimeout/4)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			for _, ss := range s.sessions.all() {
				if now.After(ss.deadline()) && s.sessions.remove(ss) {
					// Part 4, 5.7.2.1: a session the server ends keeps
					// its subscriptions (for TransferSubscriptions, until
					// their lifetime ends)
					s.diag.timeouts.Add(1)
					s.closeSession(ss, false, "timeout")
				}
			}
		}
	}
}

// closeSession ends a session removed from the table: the services drop
// its state (and subscriptions if deleteSubscriptions).
func (s *Server) closeSession(ss *session, deleteSubscriptions bool, reason string) {
	s.metrics.sessions.Set(float64(s.sessions.count()))
	ss.mu.Lock()
	pub, activated := ss.pub, ss.activated
	ss.activated, ss.closed = false, true
	ss.mu.Unlock()
	s.log.Info("opcua: session closed", "session", ss.id.String(), "name", ss.name, "reason", reason)
	if !activated {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("opcua: panic in Services.SessionClosed", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	s.services.SessionClosed(pub, deleteSubscriptions)
}

// sessionFor finds the activated session of a request on channel c.
func (s *Server) sessionFor(c *channel, h *ua.RequestHeader) (*session, ua.StatusCode) {
	ss := s.sessions.get(h.AuthenticationToken)
	if ss == nil {
		return nil, ua.StatusBadSessionIDInvalid
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.channel != c {
		// the token is bound to its secure channel: only ActivateSession
		// may move it
		s.metrics.authFailures.WithLabelValues("token_on_other_channel").Inc()
		c.log.Warn("opcua: session token presented on another secure channel", "session", ss.id.String())
		return nil, ua.StatusBadSessionIDInvalid
	}
	if !ss.activated {
		return nil, ua.StatusBadSessionNotActivated
	}
	ss.lastSeen = time.Now()
	return ss, ua.StatusOK
}

// createSession serves CreateSession.
func (s *Server) createSession(c *channel, r *responder, q *ua.CreateSessionRequest) {
	fail := func(code ua.StatusCode, reason string) {
		s.diag.rejected.Add(1)
		s.metrics.badRequests.WithLabelValues(statusName(code)).Inc()
		c.log.Warn("opcua: CreateSession refused", "status", statusName(code), "reason", reason)
		r.fault(code)
	}
	ep := securityPair{c.policy, c.mode}
	var signature *ua.SignatureData
	if c.policy != ua.SecurityPolicyURINone {
		chain, err := parseCertChain(q.ClientCertificate)
		if err != nil || !bytes.Equal(chain[0].Raw, c.clientCert.Raw) {
			fail(ua.StatusBadCertificateInvalid, "client certificate differs from the secure channel's")
			return
		}
		if q.ClientDescription == nil || q.ClientDescription.ApplicationURI != certURI(c.clientCert) {
			s.metrics.authFailures.WithLabelValues("application_uri").Inc()
			fail(ua.StatusBadCertificateURIInvalid, "ApplicationUri differs from the client certificate's")
			return
		}
		if len(q.ClientNonce) < 32 {
			fail(ua.StatusBadNonceInvalid, fmt.Sprintf("client nonce of %d bytes", len(q.ClientNonce)))
			return
		}
		alg, err := uapolicy.Asymmetric(c.policy, s.own.key, c.clientKey)
		if err != nil {
			fail(ua.StatusBadSecurityChecksFailed, err.Error())
			return
		}
		sig, err := alg.Signature(append(append([]byte{}, q.ClientCertificate...), q.ClientNonce...))
		if err != nil {
			fail(ua.StatusBadInternalError, err.Error())
			return
		}
		signature = &ua.SignatureData{Algorithm: alg.SignatureURI(), Signature: sig}
	} else {
		signature = &ua.SignatureData{}
	}

	requested := time.Duration(0)
	if !math.IsNaN(q.RequestedSessionTimeout) && q.RequestedSessionTimeout > 0 {
		requested = time.Duration(min(q.RequestedSessionTimeout, float64(math.MaxInt64/int64(time.Millisecond))) * float64(time.Millisecond))
	}
	timeout := min(max(requested, s.cfg.MinSessionTimeout), s.cfg.MaxSessionTimeout)

	token := ua.NewByteStringNodeID(0, randomBytes(32))
	ss := &session{
		authToken:   token.StringID(),
		id:          ua.NewGUIDNodeID(1, randomGUID()),
		name:        q.SessionName,
		endpoint:    ep,
		clientCert:  c.clientCert,
		timeout:     timeout,
		maxResponse: q.MaxResponseMessageSize,
		channel:     c,
		serverNonce: randomBytes(32),
		lastSeen:    time.Now(),
	}
	if code := s.sessions.add(ss, s.cfg.MaxSessions, c); code != ua.StatusOK {
		fail(code, "session limit reached")
		return
	}
	s.diag.cumulated.Add(1)
	s.metrics.sessions.Set(float64(s.sessions.count()))
	c.log.Info("opcua: session created", "session", ss.id.String(), "name", ss.name, "timeout", timeout)
	_ = r.respond(&ua.CreateSessionResponse{
		SessionID:             ss.id,
		AuthenticationToken:   token,
		RevisedSessionTimeout: float64(timeout / time.Millisecond),
		ServerNonce:           ss.serverNonce,
		ServerCertificate:     s.own.der,
		ServerEndpoints:       s.endpointDescriptions(),
		ServerSignature:       signature,
		MaxRequestMessageSize: s.cfg.MaxMessageSize,
	})
}

// activateSession serves ActivateSession: verifies the client's proof of
// possession of its certificate and the user identity, binds the session
// to this channel and hands it to the services.
func (s *Server) activateSession(c *channel, r *responder, q *ua.ActivateSessionRequest) {
	ss := s.sessions.get(q.RequestHeader.AuthenticationToken)
	if ss == nil {
		s.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadSessionIDInvalid)).Inc()
		r.fault(ua.StatusBadSessionIDInvalid)
		return
	}
	now := time.Now()
	log := c.log.With("session", ss.id.String(), "name", ss.name)
	// The attempt is counted before anything is checked; a failed one ends
	// a session not yet activated (an activated one stays: a failed
	// re-activation must not let whoever holds its token end it).
	claimed := claimedUser(q.UserIdentityToken)
	endPending := func(reason string) {
		ss.mu.Lock()
		pending := !ss.activated
		ss.mu.Unlock()
		if pending && s.sessions.remove(ss) {
			s.closeSession(ss, true, reason)
		}
	}
	refuse := func(code ua.StatusCode, reason, user string) {
		s.diag.rejected.Add(1)
		s.diag.securityRejected.Add(1)
		s.metrics.authFailures.WithLabelValues(reason).Inc()
		log.Warn("opcua: ActivateSession refused", "status", statusName(code), "reason", reason, "user", user,
			"failed_attempts", s.limiter.counted(c.remote, claimed))
		r.fault(code)
		endPending("activation failed")
	}
	if ok, wait := s.limiter.attempt(c.remote, claimed, now); !ok {
		s.diag.rejected.Add(1)
		s.diag.securityRejected.Add(1)
		s.metrics.authFailures.WithLabelValues("rate_limited").Inc()
		log.Warn("opcua: ActivateSession refused: too many failed activations for this user from this address",
			"address", c.remote, "user", claimed, "retry_after", wait.Round(time.Millisecond))
		r.fault(ua.StatusBadUserAccessDenied)
		endPending("activation rate limited")
		return
	}

	// checks run on a snapshot (a password check takes a while); the
	// result is committed only if nothing changed meanwhile
	ss.mu.Lock()
	channel, activated, activeUser, nonce := ss.channel, ss.activated, ss.user, ss.serverNonce
	ss.mu.Unlock()
	if channel != c {
		// moving a session to a new secure channel: only an activated
		// session, only by the same client application on the same endpoint
		switch {
		case !activated:
			refuse(ua.StatusBadSessionIDInvalid, "token_on_other_channel", "")
			return
		case ss.endpoint != (securityPair{c.policy, c.mode}):
			refuse(ua.StatusBadSecurityChecksFailed, "transfer_endpoint", "")
			return
		case ss.clientCert != nil && (c.clientCert == nil || !bytes.Equal(ss.clientCert.Raw, c.clientCert.Raw)):
			refuse(ua.StatusBadSecurityChecksFailed, "transfer_certificate", "")
			return
		}
	}
	if c.policy != ua.SecurityPolicyURINone {
		alg, err := uapolicy.Asymmetric(c.policy, s.own.key, c.clientKey)
		if err != nil || q.ClientSignature == nil || q.ClientSignature.Algorithm != alg.SignatureURI() ||
			alg.VerifySignature(append(append([]byte{}, s.own.der...), nonce...), q.ClientSignature.Signature) != nil {
			refuse(ua.StatusBadApplicationSignatureInvalid, "client_signature", "")
			return
		}
	}
	user, code, reason := s.identify(c, nonce, q)
	if code != ua.StatusOK {
		refuse(code, reason, user)
		return
	}
	if activated && user != activeUser {
		refuse(ua.StatusBadIdentityChangeNotSupported, "identity_change", user)
		return
	}

	ss.mu.Lock()
	if ss.closed || ss.activated != activated || !bytes.Equal(ss.serverNonce, nonce) {
		ss.mu.Unlock()
		refuse(ua.StatusBadSessionIDInvalid, "concurrent_activation", user)
		return
	}
	ss.serverNonce = randomBytes(32)
	ss.lastSeen = now
	ss.channel = c
	if !activated {
		ss.activated, ss.user = true, user
		ss.pub = &Session{ID: ss.id, Name: ss.name, User: user, SecurityMode: ss.endpoint.Mode}
		if ss.clientCert != nil {
			ss.pub.ApplicationURI = certURI(ss.clientCert)
		}
	}
	nonce = ss.serverNonce
	ss.mu.Unlock()
	s.limiter.succeeded(c.remote, claimed)
	c.authenticate()

	if !activated {
		log.Info("opcua: session activated", "user", user, "security", ss.endpoint.String())
	} else if channel != c {
		log.Info("opcua: session moved to a new secure channel", "user", user)
	}
	results := make([]ua.StatusCode, len(q.ClientSoftwareCertificates))
	_ = r.respond(&ua.ActivateSessionResponse{ServerNonce: nonce, Results: results})
}

// closeSessionRequest serves CloseSession.
func (s *Server) closeSessionRequest(c *channel, r *responder, q *ua.CloseSessionRequest) {
	ss := s.sessions.get(q.RequestHeader.AuthenticationToken)
	if ss != nil {
		ss.mu.Lock()
		onChannel := ss.channel == c
		ss.mu.Unlock()
		if !onChannel {
			ss = nil
		}
	}
	if ss == nil || !s.sessions.remove(ss) {
		s.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadSessionIDInvalid)).Inc()
		r.fault(ua.StatusBadSessionIDInvalid)
		return
	}
	s.closeSession(ss, q.DeleteSubscriptions, "CloseSession")
	_ = r.respond(&ua.CloseSessionResponse{})
}

// randomGUID is a random (version 4) GUID in its string form.
func randomGUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
