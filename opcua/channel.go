package opcua

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
	"github.com/gopcua/opcua/uapolicy"
)

// maxEndpointURL bounds the EndpointUrl of a Hello (Part 6, 7.1.2.3).
const maxEndpointURL = 4096

// channel is one TCP connection and the secure channel opened on it. One
// goroutine (serve) reads, verifies and dispatches; responses may be sent
// from any goroutine (send* methods, under mu).
type channel struct {
	srv    *Server
	conn   net.Conn
	log    *slog.Logger
	remote string // client IP, for rate limiting

	// Negotiated by Hello / Acknowledge; fixed afterwards.
	recvBuf, sendBuf          uint32 // largest chunk received / sent
	maxRecvMsg, maxRecvChunks uint32 // ours
	maxSendMsg, maxSendChunks uint32 // the client's; 0 = no limit
	// Fixed when the channel is issued.
	id         uint32
	policy     string
	mode       ua.MessageSecurityMode
	clientCert *x509.Certificate // nil for SecurityPolicy None
	clientKey  *rsa.PublicKey
	// discoveryOnly: a SecurityPolicy None channel while None is not an
	// offered endpoint. Clients open one to fetch the endpoints and the
	// server certificate; it serves GetEndpoints and FindServers only.
	discoveryOnly bool

	// Receive state, owned by the serve goroutine.
	recvSeq   uint32
	reqID     uint32 // request being reassembled
	partial   []byte // its body so far (nil: none)
	chunks    uint32 // its chunks so far
	tooLarge  bool   // it exceeded the limits: its chunks are dropped
	expiresAt time.Time

	mu       sync.Mutex // send side and tokens
	sendSeq  uint32
	current  *token   // the newest token the client has used; responses are secured with it
	tokens   []*token // the tokens the client may use: current and those renewed since, oldest first
	closed   bool
	closedCh chan struct{}
}

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

func newChannel(s *Server, conn net.Conn) *channel {
	remote := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(remote); err == nil {
		remote = host
	}
	return &channel{
		srv:      s,
		conn:     conn,
		remote:   remote,
		log:      s.log.With("remote", conn.RemoteAddr().String()),
		closedCh: make(chan struct{}),
	}
}

// serve runs the connection until it ends. Nothing in it may take the
// process down: a panic closes this connection only.
func (c *channel) serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { c.close() })
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("opcua: connection handler panic", "panic", r, "stack", string(debug.Stack()))
			c.fail(errorf(ua.StatusBadInternalError, "internal error"))
		}
		c.close()
		if c.id != 0 {
			c.srv.unregister(c)
		}
	}()
	deadline := time.Now().Add(c.srv.cfg.HelloTimeout)
	if err := c.hello(deadline); err != nil {
		c.fail(err)
		return
	}
	c.expiresAt = deadline
	for {
		_ = c.conn.SetReadDeadline(c.expiresAt)
		b, err := c.readChunk()
		if err == nil {
			err = c.handle(b)
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// errClosed ends a connection without an Error message.
var errClosed = errors.New("connection closed")

// fail ends the connection, sending an Error message for protocol errors.
func (c *channel) fail(err error) {
	var se *statusError
	var ne net.Error
	switch {
	case errors.Is(err, errClosed), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		c.log.Debug("opcua: connection closed")
	case errors.As(err, &ne) && ne.Timeout():
		code := ua.StatusBadTimeout
		if c.id != 0 {
			code = ua.StatusBadSecureChannelTokenUnknown
		}
		c.log.Info("opcua: connection timed out", "status", statusName(code))
		c.sendError(code, "timeout")
	case errors.As(err, &se):
		c.srv.metrics.badRequests.WithLabelValues(statusName(se.code)).Inc()
		c.log.Warn("opcua: closing connection", "status", statusName(se.code), "reason", se.msg)
		reason := se.msg
		if se.code == ua.StatusBadSecurityChecksFailed {
			reason = "" // Part 6: say nothing about why security checks failed
		}
		c.sendError(se.code, reason)
	default:
		c.log.Info("opcua: connection lost", "err", err)
	}
	c.close()
}

func (c *channel) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *channel) closeLocked() {
	if !c.closed {
		c.closed = true
		close(c.closedCh)
		c.conn.Close()
	}
}

// hello reads the Hello message and answers with the negotiated
// Acknowledge.
func (c *channel) hello(deadline time.Time) error {
	_ = c.conn.SetReadDeadline(deadline)
	var hdr [tcpHeaderLen]byte
	if _, err := io.ReadFull(c.conn, hdr[:]); err != nil {
		return err
	}
	h := parseChunkHeader(hdr[:])
	if h.typ != uacp.MessageTypeHello || h.chunkType != 'F' {
		return errorf(ua.StatusBadTCPMessageTypeInvalid, "expected Hello, got %q", h.typ)
	}
	if h.size < tcpHeaderLen+24 || h.size > tcpHeaderLen+24+maxEndpointURL {
		return errorf(ua.StatusBadTCPMessageTooLarge, "Hello of %d bytes", h.size)
	}
	b := make([]byte, h.size-tcpHeaderLen)
	if _, err := io.ReadFull(c.conn, b); err != nil {
		return err
	}
	var hel uacp.Hello
	if _, err := hel.Decode(b); err != nil {
		return errorf(ua.StatusBadTCPMessageTypeInvalid, "Hello: %v", err)
	}
	if len(hel.EndpointURL) > maxEndpointURL {
		return errorf(ua.StatusBadTCPEndpointURLInvalid, "endpoint URL too long")
	}
	if hel.ReceiveBufSize < 8192 || hel.SendBufSize < 8192 {
		return errorf(ua.StatusBadTCPNotEnoughResources, "buffers of %d/%d bytes are below 8192", hel.ReceiveBufSize, hel.SendBufSize)
	}
	cfg := &c.srv.cfg
	c.recvBuf = min(cfg.ReceiveBufferSize, hel.SendBufSize)
	c.sendBuf = min(cfg.SendBufferSize, hel.ReceiveBufSize)
	c.maxRecvMsg, c.maxRecvChunks = cfg.MaxMessageSize, cfg.MaxChunkCount
	c.maxSendMsg, c.maxSendChunks = hel.MaxMessageSize, hel.MaxChunkCount
	ack := &uacp.Acknowledge{
		Version:        0,
		ReceiveBufSize: c.recvBuf,
		SendBufSize:    c.sendBuf,
		MaxMessageSize: c.maxRecvMsg,
		MaxChunkCount:  c.maxRecvChunks,
	}
	body, err := ack.Encode()
	if err != nil {
		return err
	}
	msg := make([]byte, tcpHeaderLen, tcpHeaderLen+len(body))
	putChunkHeader(msg, uacp.MessageTypeAcknowledge, 'F', tcpHeaderLen+len(body), 0)
	return c.write(append(msg, body...))
}

// readChunk reads one whole message chunk.
func (c *channel) readChunk() ([]byte, error) {
	var hdr [tcpHeaderLen]byte
	if _, err := io.ReadFull(c.conn, hdr[:]); err != nil {
		return nil, err
	}
	h := parseChunkHeader(hdr[:])
	switch h.typ {
	case "OPN", "CLO":
		if h.chunkType != 'F' {
			return nil, errorf(ua.StatusBadTCPMessageTypeInvalid, "%s chunk type %q", h.typ, h.chunkType)
		}
	case "MSG":
		if h.chunkType != 'F' && h.chunkType != 'C' && h.chunkType != 'A' {
			return nil, errorf(ua.StatusBadTCPMessageTypeInvalid, "MSG chunk type %q", h.chunkType)
		}
	default:
		return nil, errorf(ua.StatusBadTCPMessageTypeInvalid, "message type %q", h.typ)
	}
	if h.size > c.recvBuf {
		return nil, errorf(ua.StatusBadTCPMessageTooLarge, "chunk of %d bytes exceeds the receive buffer of %d", h.size, c.recvBuf)
	}
	if h.size < symHeaderLen+seqHeaderLen {
		return nil, errorf(ua.StatusBadTCPMessageTypeInvalid, "chunk of %d bytes is too short", h.size)
	}
	b := make([]byte, h.size)
	copy(b, hdr[:])
	if _, err := io.ReadFull(c.conn, b[tcpHeaderLen:]); err != nil {
		return nil, err
	}
	return b, nil
}

// handle processes one chunk.
func (c *channel) handle(b []byte) error {
	typ := string(b[:3])
	channelID := binary.LittleEndian.Uint32(b[8:])
	if typ == "OPN" {
		return c.openSecureChannel(b, channelID)
	}
	if c.id == 0 {
		return errorf(ua.StatusBadSecureChannelIDInvalid, "%s before OpenSecureChannel", typ)
	}
	if channelID != c.id {
		return errorf(ua.StatusBadSecureChannelIDInvalid, "secure channel id %d on channel %d", channelID, c.id)
	}
	tok, err := c.token(binary.LittleEndian.Uint32(b[12:]))
	if err != nil {
		return err
	}
	seq, body, err := openSymmetric(b, tok.sec)
	if err != nil {
		return err
	}
	if err := c.checkSequence(seq.seq); err != nil {
		return err
	}
	c.used(tok)
	if typ == "CLO" {
		c.log.Debug("opcua: CloseSecureChannel")
		return errClosed
	}
	return c.message(b[3], seq.requestID, body)
}

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
	c.expiresAt = c.tokens[len(c.tokens)-1].expiry()
	if c.discoveryOnly {
		c.expiresAt = time.Now().Add(c.srv.cfg.HelloTimeout)
	}
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

// checkSequence enforces sequence numbers increasing by one per chunk
// (wrapping to below 1024 after 4294966271, Part 6, 6.7.2.4).
func (c *channel) checkSequence(seq uint32) error {
	if c.id == 0 {
		// first chunk of the channel (the Issue request)
		c.recvSeq = seq
		return nil
	}
	want := c.recvSeq + 1
	if seq != want && !(c.recvSeq > maxSeq && seq < 1024) {
		return errorf(ua.StatusBadSequenceNumberInvalid, "sequence number %d, want %d", seq, want)
	}
	c.recvSeq = seq
	return nil
}

// message adds one verified MSG chunk body to the request being
// reassembled and dispatches complete requests. A request over the limits
// is dropped chunk by chunk (memory stays bounded) and answered with
// Bad_RequestTooLarge.
func (c *channel) message(chunkType byte, reqID uint32, body []byte) error {
	if c.partial != nil || c.tooLarge {
		if reqID != c.reqID {
			return errorf(ua.StatusBadTCPMessageTypeInvalid, "chunk of request %d while request %d is incomplete", reqID, c.reqID)
		}
	} else {
		c.reqID, c.chunks = reqID, 0
	}
	if chunkType == 'A' {
		c.partial, c.tooLarge = nil, false
		c.log.Debug("opcua: request aborted by the client", "request_id", reqID)
		return nil
	}
	c.chunks++
	if !c.tooLarge && (uint64(len(c.partial))+uint64(len(body)) > uint64(c.maxRecvMsg) || c.chunks > c.maxRecvChunks) {
		c.partial, c.tooLarge = nil, true
	}
	if chunkType == 'C' {
		if !c.tooLarge {
			c.partial = append(c.partial, body...)
			if c.partial == nil {
				c.partial = []byte{}
			}
		}
		return nil
	}
	if c.tooLarge {
		c.tooLarge = false
		c.srv.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadRequestTooLarge)).Inc()
		c.log.Warn("opcua: request too large", "request_id", reqID, "max_message_size", c.maxRecvMsg, "max_chunk_count", c.maxRecvChunks)
		c.sendFault(reqID, 0, ua.StatusBadRequestTooLarge)
		return nil
	}
	msg := body
	if c.partial != nil {
		msg = append(c.partial, body...)
		c.partial = nil
	}
	c.srv.dispatch(c, reqID, msg)
	return nil
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
		if issue {
			if code := c.srv.trust.check(chain, time.Now()); code != ua.StatusOK {
				c.srv.metrics.authFailures.WithLabelValues("client_certificate").Inc()
				return errorf(code, "client certificate refused")
			}
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
	c.mu.Unlock()
	c.expiresAt = tok.expiry()
	if c.discoveryOnly {
		c.expiresAt = now.Add(c.srv.cfg.HelloTimeout)
	}

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

// errorMessage encodes an Error message (Part 6, 7.1.2.5).
func errorMessage(code ua.StatusCode, reason string) []byte {
	if len(reason) > 4096 {
		reason = reason[:4096]
	}
	body, _ := (&uacp.Error{ErrorCode: uint32(code), Reason: reason}).Encode()
	msg := make([]byte, tcpHeaderLen, tcpHeaderLen+len(body))
	putChunkHeader(msg, uacp.MessageTypeError, 'F', tcpHeaderLen+len(body), 0)
	return append(msg, body...)
}

// sendError sends an Error message; the caller closes the connection.
func (c *channel) sendError(code ua.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.conn.Write(errorMessage(code, reason))
}

// write sends raw bytes with the send timeout.
func (c *channel) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.srv.cfg.SendTimeout))
	_, err := c.conn.Write(b)
	return err
}

// nextSeq returns the next sequence number to send (c.mu held).
func (c *channel) nextSeq() uint32 {
	if c.sendSeq > maxSeq {
		c.sendSeq = 0
	}
	c.sendSeq++
	return c.sendSeq
}

// sendAsymmetric sends an OpenSecureChannel response.
func (c *channel) sendAsymmetric(reqID uint32, body []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	h := asymHeader{policy: c.policy}
	if c.policy != ua.SecurityPolicyURINone {
		h.senderCert = c.srv.own.der
		sum := uapolicy.Thumbprint(c.clientCert.Raw)
		h.thumbprint = sum
	}
	chunk, err := sealAsymmetric(c.id, h, sequence{seq: c.nextSeq(), requestID: reqID}, body, c.srv.own.key, c.clientKey)
	if err != nil {
		return fmt.Errorf("seal OpenSecureChannel response: %w", err)
	}
	if len(chunk) > int(c.sendBuf) {
		return errorf(ua.StatusBadTCPMessageTooLarge, "OpenSecureChannel response of %d bytes exceeds the client's buffer", len(chunk))
	}
	return c.write(chunk)
}

// errChannelGone is returned by sends on a closed channel.
var errChannelGone = errors.New("opcua: secure channel closed")

// sendMessage sends body (an encoded response) in as many MSG chunks as
// the client's receive buffer requires.
func (c *channel) sendMessage(reqID uint32, body []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.current == nil {
		return errChannelGone
	}
	tok := c.current
	maxBody := maxSymmetricBody(int(c.sendBuf), tok.sec)
	for {
		n := min(len(body), maxBody)
		final := n == len(body)
		chunkType := byte('C')
		if final {
			chunkType = 'F'
		}
		chunk, err := sealSymmetric("MSG", chunkType, c.id, tok.id, sequence{seq: c.nextSeq(), requestID: reqID}, body[:n], tok.sec)
		if err != nil {
			return err
		}
		if err := c.write(chunk); err != nil {
			c.closeLocked()
			return fmt.Errorf("%w: %v", errChannelGone, err)
		}
		if final {
			return nil
		}
		body = body[n:]
	}
}

// chunkCount is how many chunks body needs on this channel.
func (c *channel) chunkCount(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil {
		return 1
	}
	maxBody := maxSymmetricBody(int(c.sendBuf), c.current.sec)
	return max(1, (n+maxBody-1)/maxBody)
}

// isClosed reports whether the channel has ended.
func (c *channel) isClosed() bool {
	select {
	case <-c.closedCh:
		return true
	default:
		return false
	}
}
