package uaserver

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
	"github.com/gopcua/opcua/uapolicy"
)

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

// ErrResponseTooLarge is returned by Request.Respond when the response was
// larger than the client accepts and a Bad_ResponseTooLarge fault went in
// its place: the client never saw it, so whatever the response handed out
// (continuation points) is the caller's to take back.
var ErrResponseTooLarge = errors.New("opcua: response larger than the client accepts, replaced by Bad_ResponseTooLarge")

// sendResponse encodes and sends a response. A response larger than the
// client accepts is replaced by a Bad_ResponseTooLarge fault, and the
// result is ErrResponseTooLarge (or the send's error).
func (c *channel) sendResponse(reqID uint32, resp ua.Response, sessionMax uint32) error {
	body, err := encodeService(resp)
	if err != nil {
		c.log.Error("opcua: cannot encode response", "err", err)
		body = replaceWithFault(resp, ua.StatusBadInternalError)
	}
	limit := c.maxSendMsg
	if sessionMax > 0 && (limit == 0 || sessionMax < limit) {
		limit = sessionMax
	}
	if (limit > 0 && uint64(len(body)) > uint64(limit)) ||
		(c.maxSendChunks > 0 && c.chunkCount(len(body)) > int(c.maxSendChunks)) {
		c.srv.metrics.badRequests.WithLabelValues(statusName(ua.StatusBadResponseTooLarge)).Inc()
		c.log.Warn("opcua: response too large for the client", "type", fmt.Sprintf("%T", resp), "bytes", len(body),
			"client_max_message_size", limit, "client_max_chunk_count", c.maxSendChunks)
		if err := c.sendMessage(reqID, replaceWithFault(resp, ua.StatusBadResponseTooLarge)); err != nil {
			return err
		}
		return ErrResponseTooLarge
	}
	return c.sendMessage(reqID, body)
}

// replaceWithFault encodes the ServiceFault that replaces resp.
func replaceWithFault(resp ua.Response, code ua.StatusCode) []byte {
	var handle uint32
	if h := resp.Header(); h != nil {
		handle = h.RequestHandle
	}
	b, _ := encodeService(&ua.ServiceFault{ResponseHeader: responseHeader(handle, code)})
	return b
}

// sendFault answers a request that could not be decoded.
func (c *channel) sendFault(reqID, handle uint32, code ua.StatusCode) {
	r := &responder{c: c, reqID: reqID, handle: handle}
	r.fault(code)
}
