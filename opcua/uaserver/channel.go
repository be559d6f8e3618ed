package uaserver

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
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
	// reservedSlot: admitted from the slots kept for secured channels; the
	// first OpenSecureChannel must be signed (admission.go).
	reservedSlot bool

	// Receive state, owned by the serve goroutine.
	recvSeq   uint32
	reqID     uint32 // request being reassembled
	partial   []byte // its body so far (nil: none)
	chunks    uint32 // its chunks so far
	tooLarge  bool   // it exceeded the limits: its chunks are dropped
	expiresAt time.Time
	// authenticated: the client proved who it is, by a chunk verified on a
	// secure channel opened with a trusted certificate (proof that it
	// holds the keys: a replayed OpenSecureChannel gains no more than an
	// unauthenticated connection) or by activating a session on this
	// channel. Until then the connection lives at most until hardDeadline (its start
	// plus hello_timeout), whatever it sends, and may send single-chunk
	// requests only: it can pin neither a slot nor memory for long.
	authenticated bool
	hardDeadline  time.Time

	mu      sync.Mutex // send side and tokens
	sendSeq uint32
	current *token   // the newest token the client has used; responses are secured with it
	tokens  []*token // the tokens the client may use: current and those renewed since, oldest first
	closed  bool
}

func newChannel(s *Server, conn net.Conn) *channel {
	remote := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(remote); err == nil {
		remote = host
	}
	return &channel{
		srv:    s,
		conn:   conn,
		remote: remote,
		log:    s.log.With("remote", conn.RemoteAddr().String()),
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
	c.hardDeadline = time.Now().Add(c.srv.cfg.HelloTimeout)
	if err := c.hello(c.hardDeadline); err != nil {
		c.fail(err)
		return
	}
	c.expiresAt = c.hardDeadline
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
		if c.authenticated {
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
	// A chunk that has not arrived yet holds no more memory than what did
	// arrive: the buffer grows from readStep as bytes come in.
	b := make([]byte, tcpHeaderLen, min(h.size, readStep))
	copy(b, hdr[:])
	for len(b) < int(h.size) {
		n := min(int(h.size)-len(b), readStep)
		b = slices.Grow(b, n)
		if _, err := io.ReadFull(c.conn, b[len(b):len(b)+n]); err != nil {
			return nil, err
		}
		b = b[:len(b)+n]
	}
	return b, nil
}

// readStep is how much of a chunk is read before its buffer grows.
const readStep = 16 << 10

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
	if c.mode != ua.MessageSecurityModeNone {
		c.authenticate()
	}
	if typ == "CLO" {
		c.log.Debug("opcua: CloseSecureChannel")
		return errClosed
	}
	return c.message(b[3], seq.requestID, body)
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
	if chunkType == 'C' && !c.authenticated {
		return errorf(ua.StatusBadTCPMessageTooLarge, "multi-chunk request before the client authenticated")
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
