package uaserver

import (
	"crypto/rsa"
	"encoding/binary"
	"fmt"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
)

// OPC UA Secure Conversation message chunks (Part 6, 6.7): framing, signing
// and encryption of one chunk at a time. The functions here are written in
// terms of "local" (this side) and "remote" keys so that they serve both
// the server and the test clients.

const (
	tcpHeaderLen = 8  // MessageType(3) ChunkType(1) MessageSize(4)
	headerLen    = 12 // + SecureChannelId
	symHeaderLen = 16 // + TokenId
	seqHeaderLen = 8  // SequenceNumber, RequestId
	// maxSeq is where sequence numbers may wrap (Part 6, 6.7.2.4).
	maxSeq = 1<<32 - 1 - 1024
)

// statusError is a protocol or security failure carrying the status code
// to report: in an Error message on the connection, or as a ServiceFault.
type statusError struct {
	code ua.StatusCode
	msg  string
}

func (e *statusError) Error() string { return fmt.Sprintf("%s: %s", e.msg, e.code) }
func (e *statusError) Unwrap() error { return e.code }

func errorf(code ua.StatusCode, format string, args ...any) *statusError {
	return &statusError{code: code, msg: fmt.Sprintf(format, args...)}
}

// chunkHeader is the common header of every message chunk.
type chunkHeader struct {
	typ       string // HEL, ACK, ERR, OPN, MSG, CLO
	chunkType byte   // 'F', 'C' or 'A'
	size      uint32 // whole chunk, header included
}

func parseChunkHeader(b []byte) chunkHeader {
	return chunkHeader{typ: string(b[:3]), chunkType: b[3], size: binary.LittleEndian.Uint32(b[4:8])}
}

func putChunkHeader(b []byte, typ string, chunkType byte, size int, channelID uint32) {
	copy(b, typ)
	b[3] = chunkType
	binary.LittleEndian.PutUint32(b[4:], uint32(size))
	if len(b) >= headerLen {
		binary.LittleEndian.PutUint32(b[8:], channelID)
	}
}

// sequence is the SequenceHeader of a chunk.
type sequence struct {
	seq, requestID uint32
}

// symmetric is the symmetric security of one security token: mode None
// (alg nil), Sign or SignAndEncrypt with keys derived from the nonces.
type symmetric struct {
	mode ua.MessageSecurityMode
	alg  *uapolicy.EncryptionAlgorithm
}

// openSymmetric verifies (and decrypts) a whole MSG/CLO chunk b and returns
// its sequence header and body. b may be modified.
func openSymmetric(b []byte, sec symmetric) (sequence, []byte, error) {
	if len(b) < symHeaderLen+seqHeaderLen {
		return sequence{}, nil, errorf(ua.StatusBadTCPMessageTypeInvalid, "chunk of %d bytes is too short", len(b))
	}
	full := b
	sigLen := 0
	switch sec.mode {
	case ua.MessageSecurityModeNone:
	case ua.MessageSecurityModeSign:
		sigLen = sec.alg.RemoteSignatureLength()
	case ua.MessageSecurityModeSignAndEncrypt:
		sigLen = sec.alg.RemoteSignatureLength()
		enc := b[symHeaderLen:]
		bs := sec.alg.BlockSize()
		if len(enc)%bs != 0 || len(enc) < seqHeaderLen+sigLen+1 {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "encrypted part of %d bytes is not a multiple of %d", len(enc), bs)
		}
		plain, err := sec.alg.Decrypt(enc)
		if err != nil || len(plain) != len(enc) {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "decrypt: %v", err)
		}
		copy(enc, plain)
	default:
		return sequence{}, nil, errorf(ua.StatusBadSecurityModeRejected, "mode %v", sec.mode)
	}
	if len(full) < symHeaderLen+seqHeaderLen+sigLen {
		return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "chunk of %d bytes too short for its signature", len(full))
	}
	end := len(full) - sigLen
	if sigLen > 0 {
		if err := sec.alg.VerifySignature(full[:end], full[end:]); err != nil {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "chunk signature invalid")
		}
	}
	if sec.mode == ua.MessageSecurityModeSignAndEncrypt {
		var ok bool
		if end, ok = stripPadding(full, symHeaderLen+seqHeaderLen, end, false); !ok {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "chunk padding invalid")
		}
	}
	s := sequence{
		seq:       binary.LittleEndian.Uint32(full[symHeaderLen:]),
		requestID: binary.LittleEndian.Uint32(full[symHeaderLen+4:]),
	}
	return s, full[symHeaderLen+seqHeaderLen : end], nil
}

// stripPadding removes PaddingSize / Padding / ExtraPaddingSize that end
// at end (just before the signature) and returns the end of the body,
// which must not start before bodyStart.
func stripPadding(b []byte, bodyStart, end int, extra bool) (int, bool) {
	if end-1 < bodyStart {
		return 0, false
	}
	n := int(b[end-1])
	hdr := 1
	if extra {
		if end-2 < bodyStart {
			return 0, false
		}
		n = n<<8 | int(b[end-2])
		hdr = 2
	}
	first := end - hdr - n
	if first < bodyStart {
		return 0, false
	}
	low := byte(n)
	for _, c := range b[first : end-hdr+1] {
		if c != low {
			return 0, false
		}
	}
	return first, true
}

// maxSymmetricBody is the most body bytes one chunk of chunkSize bytes can
// carry under sec.
func maxSymmetricBody(chunkSize int, sec symmetric) int {
	switch sec.mode {
	case ua.MessageSecurityModeSign:
		return chunkSize - symHeaderLen - seqHeaderLen - sec.alg.SignatureLength()
	case ua.MessageSecurityModeSignAndEncrypt:
		bs := sec.alg.BlockSize()
		region := (chunkSize - symHeaderLen) / bs * bs
		return region - seqHeaderLen - sec.alg.SignatureLength() - 1
	default:
		return chunkSize - symHeaderLen - seqHeaderLen
	}
}

// sealSymmetric builds one signed (and encrypted) MSG/CLO chunk.
func sealSymmetric(typ string, chunkType byte, channelID, tokenID uint32, s sequence, body []byte, sec symmetric) ([]byte, error) {
	sigLen, pad := 0, -1
	plainLen := seqHeaderLen + len(body)
	switch sec.mode {
	case ua.MessageSecurityModeNone:
	case ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt:
		sigLen = sec.alg.SignatureLength()
	default:
		return nil, fmt.Errorf("message security mode %v", sec.mode)
	}
	if sec.mode == ua.MessageSecurityModeSignAndEncrypt {
		bs := sec.alg.BlockSize()
		n := plainLen + 1 + sigLen
		pad = (bs - n%bs) % bs
		plainLen += 1 + pad
	}
	size := symHeaderLen + plainLen + sigLen
	b := make([]byte, symHeaderLen+plainLen, size)
	putChunkHeader(b, typ, chunkType, size, channelID)
	binary.LittleEndian.PutUint32(b[12:], tokenID)
	binary.LittleEndian.PutUint32(b[16:], s.seq)
	binary.LittleEndian.PutUint32(b[20:], s.requestID)
	copy(b[24:], body)
	for i := 24 + len(body); i < len(b); i++ {
		b[i] = byte(pad)
	}
	if sigLen == 0 {
		return b, nil
	}
	sig, err := sec.alg.Signature(b)
	if err != nil {
		return nil, err
	}
	if len(sig) != sigLen {
		return nil, fmt.Errorf("signature of %d bytes, want %d", len(sig), sigLen)
	}
	b = append(b, sig...)
	if sec.mode == ua.MessageSecurityModeSignAndEncrypt {
		enc, err := sec.alg.Encrypt(b[symHeaderLen:])
		if err != nil {
			return nil, err
		}
		copy(b[symHeaderLen:], enc)
	}
	return b, nil
}

// asymHeader is the AsymmetricSecurityHeader of an OPN chunk.
type asymHeader struct {
	policy     string
	senderCert []byte
	thumbprint []byte // of the receiver's certificate
}

// parseAsymHeader decodes the security header that starts at b[headerLen:]
// and returns it with the offset of the sequence header.
func parseAsymHeader(b []byte) (asymHeader, int, error) {
	buf := ua.NewBuffer(b[headerLen:])
	h := asymHeader{policy: buf.ReadString(), senderCert: buf.ReadBytes(), thumbprint: buf.ReadBytes()}
	if buf.Error() != nil {
		return asymHeader{}, 0, errorf(ua.StatusBadTCPMessageTypeInvalid, "OpenSecureChannel security header: %v", buf.Error())
	}
	return h, headerLen + buf.Pos(), nil
}

func (h asymHeader) encode() []byte {
	buf := ua.NewBuffer(nil)
	buf.WriteString(h.policy)
	buf.WriteByteString(h.senderCert)
	buf.WriteByteString(h.thumbprint)
	return buf.Bytes()
}

// openAsymmetric decrypts and verifies an OPN chunk whose sequence header
// starts at off. For SecurityPolicy None, keys are unused.
func openAsymmetric(b []byte, off int, policy string, local *rsa.PrivateKey, remote *rsa.PublicKey) (sequence, []byte, error) {
	end := len(b)
	if policy != ua.SecurityPolicyURINone {
		alg, err := uapolicy.Asymmetric(policy, local, remote)
		if err != nil {
			return sequence{}, nil, errorf(ua.StatusBadSecurityPolicyRejected, "%v", err)
		}
		enc := b[off:]
		if len(enc) == 0 || len(enc)%local.Size() != 0 {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "encrypted part of %d bytes is not a multiple of %d", len(enc), local.Size())
		}
		plain, err := alg.Decrypt(enc)
		if err != nil {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "decrypt failed")
		}
		b = append(b[:off:off], plain...)
		sigLen := alg.RemoteSignatureLength()
		if len(b) < off+seqHeaderLen+sigLen+1 {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "chunk too short for its signature")
		}
		end = len(b) - sigLen
		if err := alg.VerifySignature(b[:end], b[end:]); err != nil {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "signature invalid")
		}
		var ok bool
		if end, ok = stripPadding(b, off+seqHeaderLen, end, local.Size() > 256); !ok {
			return sequence{}, nil, errorf(ua.StatusBadSecurityChecksFailed, "padding invalid")
		}
	}
	if end < off+seqHeaderLen {
		return sequence{}, nil, errorf(ua.StatusBadTCPMessageTypeInvalid, "chunk too short")
	}
	s := sequence{seq: binary.LittleEndian.Uint32(b[off:]), requestID: binary.LittleEndian.Uint32(b[off+4:])}
	return s, b[off+seqHeaderLen : end], nil
}

// sealAsymmetric builds an OPN chunk: signed with local and encrypted for
// remote unless the policy is None.
func sealAsymmetric(channelID uint32, h asymHeader, s sequence, body []byte, local *rsa.PrivateKey, remote *rsa.PublicKey) ([]byte, error) {
	ah := h.encode()
	off := headerLen + len(ah)
	plain := make([]byte, 0, seqHeaderLen+len(body)+1024)
	plain = binary.LittleEndian.AppendUint32(plain, s.seq)
	plain = binary.LittleEndian.AppendUint32(plain, s.requestID)
	plain = append(plain, body...)
	if h.policy == ua.SecurityPolicyURINone {
		b := make([]byte, off, off+len(plain))
		putChunkHeader(b, "OPN", 'F', off+len(plain), channelID)
		copy(b[headerLen:], ah)
		return append(b, plain...), nil
	}
	alg, err := uapolicy.Asymmetric(h.policy, local, remote)
	if err != nil {
		return nil, err
	}
	plainBlock, cipherBlock, sigLen := alg.PlaintextBlockSize(), alg.BlockSize(), alg.SignatureLength()
	extra := remote.Size() > 256
	padHdr := 1
	if extra {
		padHdr = 2
	}
	n := len(plain) + padHdr + sigLen
	pad := (plainBlock - n%plainBlock) % plainBlock
	for range pad + 1 {
		plain = append(plain, byte(pad))
	}
	if extra {
		plain = append(plain, byte(pad>>8))
	}
	size := off + (len(plain)+sigLen)/plainBlock*cipherBlock
	b := make([]byte, off, size)
	putChunkHeader(b, "OPN", 'F', size, channelID)
	copy(b[headerLen:], ah)
	b = append(b, plain...)
	sig, err := alg.Signature(b)
	if err != nil {
		return nil, err
	}
	b = append(b, sig...)
	enc, err := alg.Encrypt(b[off:])
	if err != nil {
		return nil, err
	}
	if off+len(enc) != size {
		return nil, fmt.Errorf("encrypted OPN is %d bytes, want %d", off+len(enc), size)
	}
	return append(b[:off], enc...), nil
}
