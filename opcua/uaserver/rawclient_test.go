package uaserver

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"
	"github.com/gopcua/opcua/uapolicy"
)

// rawClient is a minimal OPC UA client built on the same chunk code as the
// server, for tests that must send what well-behaved clients never send.
type rawClient struct {
	t    *testing.T
	conn net.Conn

	policy string
	mode   ua.MessageSecurityMode
	cert   *ownCert // the client's; nil for None
	server *x509.Certificate

	sendBuf   uint32
	channelID uint32
	tokenID   uint32
	sec       symmetric
	seq       uint32
	reqID     uint32
	handle    uint32

	authToken   *ua.NodeID
	serverNonce []byte
	// sessionTimeout is the requested session timeout (0: 60 s); appURI
	// overrides the ApplicationUri sent in CreateSession.
	sessionTimeout float64
	appURI         string
	// userSig, if set, makes the UserTokenSignature of the next activate
	// from the server nonce (an X.509 user token's proof).
	userSig func(serverNonce []byte) *ua.SignatureData
}

// clientCert makes a client application instance certificate.
func clientCert(t *testing.T, uri string) *ownCert {
	t.Helper()
	oc, err := generateOwnCert(&Config{ApplicationURI: uri, ApplicationName: "rawclient", Hostnames: []string{"localhost"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

// trust puts a client certificate into the server's trusted/ folder.
func (ts *testServer) trust(t *testing.T, der []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(ts.dir, "opcua", "pki", "trusted", fmt.Sprintf("client-%x.der", der[len(der)-8:])), der, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dialTCP connects without saying anything.
func dialTCP(t *testing.T, ts *testServer) net.Conn { return dialFrom(t, ts, "") }

// dialFrom connects from a local loopback address ("": any), e.g.
// "127.0.0.2", without saying anything.
func dialFrom(t *testing.T, ts *testServer, local string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	conn, err := d.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	return conn
}

// dial connects and sends Hello; open must follow.
func dial(t *testing.T, ts *testServer) *rawClient {
	return dialWithHello(t, ts, 0)
}

// dialWithHello connects and sends a Hello accepting responses of at most
// maxMessageSize bytes (0: no limit).
func dialWithHello(t *testing.T, ts *testServer, maxMessageSize uint32) *rawClient {
	t.Helper()
	c, err := hello(t, ts, maxMessageSize)
	if err != nil {
		t.Fatalf("Hello: %v", err)
	}
	return c
}

// hello connects and exchanges Hello / Acknowledge.
func hello(t *testing.T, ts *testServer, maxMessageSize uint32) (*rawClient, error) {
	return helloOn(t, ts, dialTCP(t, ts), maxMessageSize)
}

// helloOn exchanges Hello / Acknowledge on conn.
func helloOn(t *testing.T, ts *testServer, conn net.Conn, maxMessageSize uint32) (*rawClient, error) {
	c := &rawClient{t: t, conn: conn, server: ts.own.cert, policy: ua.SecurityPolicyURINone}
	hel := &uacp.Hello{ReceiveBufSize: 65535, SendBufSize: 65535, MaxMessageSize: maxMessageSize, EndpointURL: ts.EndpointURL()}
	body, _ := hel.Encode()
	msg := make([]byte, tcpHeaderLen, tcpHeaderLen+len(body))
	putChunkHeader(msg, "HEL", 'F', tcpHeaderLen+len(body), 0)
	c.write(append(msg, body...))
	typ, b, err := c.readChunk()
	if err != nil {
		return nil, err
	}
	if typ != "ACK" {
		return nil, fmt.Errorf("got %s", typ)
	}
	var ack uacp.Acknowledge
	if _, err := ack.Decode(b[tcpHeaderLen:]); err != nil {
		return nil, err
	}
	c.sendBuf = ack.ReceiveBufSize
	return c, nil
}

// connect dials and opens a secure channel with policy/mode.
func connect(t *testing.T, ts *testServer, policy string, mode ua.MessageSecurityMode, cert *ownCert) *rawClient {
	t.Helper()
	c := dial(t, ts)
	if err := c.open(policy, mode, cert); err != nil {
		t.Fatalf("OpenSecureChannel: %v", err)
	}
	return c
}

func (c *rawClient) write(b []byte) {
	if _, err := c.conn.Write(b); err != nil {
		c.t.Logf("write: %v", err)
	}
}

// readChunk reads one chunk; an Error message becomes a *statusError.
func (c *rawClient) readChunk() (string, []byte, error) {
	var hdr [tcpHeaderLen]byte
	if _, err := io.ReadFull(c.conn, hdr[:]); err != nil {
		return "", nil, err
	}
	h := parseChunkHeader(hdr[:])
	if h.size < tcpHeaderLen || h.size > 1<<24 {
		return "", nil, fmt.Errorf("chunk size %d", h.size)
	}
	b := make([]byte, h.size)
	copy(b, hdr[:])
	if _, err := io.ReadFull(c.conn, b[tcpHeaderLen:]); err != nil {
		return "", nil, err
	}
	if h.typ == "ERR" {
		var e uacp.Error
		_, _ = e.Decode(b[tcpHeaderLen:])
		return h.typ, b, &statusError{code: ua.StatusCode(e.ErrorCode), msg: e.Reason}
	}
	return h.typ, b, nil
}

func (c *rawClient) nextSeq() uint32 { c.seq++; return c.seq }

// open sends OpenSecureChannel Issue and installs the token.
func (c *rawClient) open(policy string, mode ua.MessageSecurityMode, cert *ownCert) error {
	c.policy, c.mode, c.cert = policy, mode, cert
	return c.openSecureChannel(ua.SecurityTokenRequestTypeIssue)
}

func (c *rawClient) openSecureChannel(typ ua.SecurityTokenRequestType) error {
	nonce := []byte{}
	if c.policy != ua.SecurityPolicyURINone {
		nonce = randomBytes(32)
	}
	c.reqID++
	req := &ua.OpenSecureChannelRequest{
		RequestHeader:     c.header(nil),
		RequestType:       typ,
		SecurityMode:      c.mode,
		ClientNonce:       nonce,
		RequestedLifetime: 600000,
	}
	body, err := encodeService(req)
	if err != nil {
		return err
	}
	h := asymHeader{policy: c.policy}
	var key *rsa.PrivateKey
	var remote *rsa.PublicKey
	if c.cert != nil {
		h.senderCert, h.thumbprint = c.cert.der, uapolicy.Thumbprint(c.server.Raw)
		key, remote = c.cert.key, c.server.PublicKey.(*rsa.PublicKey)
	}
	chunk, err := sealAsymmetric(c.channelID, h, sequence{c.nextSeq(), c.reqID}, body, key, remote)
	if err != nil {
		return err
	}
	c.write(chunk)
	typName, b, err := c.readChunk()
	if err != nil {
		return err
	}
	if typName != "OPN" {
		return fmt.Errorf("got %s", typName)
	}
	rh, off, err := parseAsymHeader(b)
	if err != nil {
		return err
	}
	_, rbody, err := openAsymmetric(b, off, rh.policy, key, remote)
	if err != nil {
		return err
	}
	_, v, err := ua.DecodeService(rbody)
	if err != nil {
		return err
	}
	resp, ok := v.(*ua.OpenSecureChannelResponse)
	if !ok {
		return fmt.Errorf("OPN response %T", v)
	}
	c.channelID, c.tokenID = resp.SecurityToken.ChannelID, resp.SecurityToken.TokenID
	c.sec = symmetric{mode: c.mode}
	if c.mode != ua.MessageSecurityModeNone {
		if c.sec.alg, err = uapolicy.Symmetric(c.policy, nonce, resp.ServerNonce); err != nil {
			return err
		}
	}
	return nil
}

func (c *rawClient) header(tok *ua.NodeID) *ua.RequestHeader {
	if tok == nil {
		tok = ua.NewTwoByteNodeID(0)
	}
	c.handle++
	return &ua.RequestHeader{AuthenticationToken: tok, Timestamp: time.Now(), RequestHandle: c.handle,
		TimeoutHint: 10000, AdditionalHeader: ua.NewExtensionObject(nil)}
}

// sendBody sends an encoded request in chunks of at most maxBody bytes
// (0: as large as the server accepts).
func (c *rawClient) sendBody(body []byte, maxBody int) uint32 {
	c.reqID++
	if maxBody == 0 {
		maxBody = maxSymmetricBody(int(c.sendBuf), c.sec)
	}
	for {
		n := min(len(body), maxBody)
		ct := byte('C')
		if n == len(body) {
			ct = 'F'
		}
		chunk, err := sealSymmetric("MSG", ct, c.channelID, c.tokenID, sequence{c.nextSeq(), c.reqID}, body[:n], c.sec)
		if err != nil {
			c.t.Fatal(err)
		}
		c.write(chunk)
		if ct == 'F' {
			return c.reqID
		}
		body = body[n:]
	}
}

// receive reads one response message (all its chunks) and decodes it.
func (c *rawClient) receive() (any, error) {
	var msg []byte
	for {
		typ, b, err := c.readChunk()
		if err != nil {
			return nil, err
		}
		if typ != "MSG" {
			return nil, fmt.Errorf("got %s", typ)
		}
		_, body, err := openSymmetric(b, c.sec)
		if err != nil {
			return nil, err
		}
		msg = append(msg, body...)
		if b[3] == 'F' {
			break
		}
	}
	_, v, err := ua.DecodeService(msg)
	return v, err
}

// call sends req and returns the response, or the ServiceFault's status.
func (c *rawClient) call(req ua.Request) (ua.Response, error) {
	body, err := encodeService(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendBody(body, 0)
	v, err := c.receive()
	if err != nil {
		return nil, err
	}
	if f, ok := v.(*ua.ServiceFault); ok {
		return nil, f.ResponseHeader.ServiceResult
	}
	resp, ok := v.(ua.Response)
	if !ok {
		return nil, fmt.Errorf("%T is not a response", v)
	}
	if code := resp.Header().ServiceResult; code != ua.StatusOK {
		return resp, code
	}
	return resp, nil
}

// createSession creates (does not activate) a session.
func (c *rawClient) createSession() error {
	nonce := randomBytes(32)
	var certDER []byte
	uri := "urn:test:rawclient"
	if c.cert != nil {
		certDER, uri = c.cert.der, certURI(c.cert.cert)
	}
	if c.appURI != "" {
		uri = c.appURI
	}
	timeout := c.sessionTimeout
	if timeout == 0 {
		timeout = 60000
	}
	resp, err := c.call(&ua.CreateSessionRequest{
		RequestHeader:           c.header(nil),
		ClientDescription:       &ua.ApplicationDescription{ApplicationURI: uri, ApplicationName: ua.NewLocalizedText("rawclient")},
		SessionName:             "raw",
		ClientNonce:             nonce,
		ClientCertificate:       certDER,
		RequestedSessionTimeout: timeout,
	})
	if err != nil {
		return err
	}
	cs := resp.(*ua.CreateSessionResponse)
	c.authToken, c.serverNonce = cs.AuthenticationToken, cs.ServerNonce
	return nil
}

// activate activates the session with identity (nil: anonymous).
func (c *rawClient) activate(identity any) error {
	sig := &ua.SignatureData{}
	if c.cert != nil {
		alg, err := uapolicy.Asymmetric(c.policy, c.cert.key, c.server.PublicKey.(*rsa.PublicKey))
		if err != nil {
			return err
		}
		s, err := alg.Signature(append(append([]byte{}, c.server.Raw...), c.serverNonce...))
		if err != nil {
			return err
		}
		sig = &ua.SignatureData{Algorithm: alg.SignatureURI(), Signature: s}
	}
	if identity == nil {
		identity = &ua.AnonymousIdentityToken{PolicyID: policyAnonymous}
	}
	userSig := &ua.SignatureData{}
	if c.userSig != nil {
		userSig = c.userSig(c.serverNonce)
	}
	resp, err := c.call(&ua.ActivateSessionRequest{
		RequestHeader:      c.header(c.authToken),
		ClientSignature:    sig,
		UserIdentityToken:  ua.NewExtensionObject(identity),
		UserTokenSignature: userSig,
	})
	if err != nil {
		return err
	}
	c.serverNonce = resp.(*ua.ActivateSessionResponse).ServerNonce
	return nil
}

// mustActivate creates and activates an anonymous session.
func (c *rawClient) mustActivate() {
	c.t.Helper()
	if err := c.createSession(); err != nil {
		c.t.Fatalf("CreateSession: %v", err)
	}
	if err := c.activate(nil); err != nil {
		c.t.Fatalf("ActivateSession: %v", err)
	}
}

// userName makes a UserName token with the password encrypted as the
// server's token policy says.
func (c *rawClient) userName(user, password string) *ua.UserNameIdentityToken {
	alg, err := uapolicy.Asymmetric(ua.SecurityPolicyURIBasic256Sha256, nil, c.server.PublicKey.(*rsa.PublicKey))
	if err != nil {
		c.t.Fatal(err)
	}
	plain := binary.LittleEndian.AppendUint32(nil, uint32(len(password)+len(c.serverNonce)))
	plain = append(append(plain, password...), c.serverNonce...)
	enc, err := alg.Encrypt(plain)
	if err != nil {
		c.t.Fatal(err)
	}
	return &ua.UserNameIdentityToken{PolicyID: policyUserName, UserName: user, Password: enc, EncryptionAlgorithm: alg.EncryptionURI()}
}

// x509User makes an X.509 user token for user and has the next activate
// sign it with key (user's own key, or another to forge).
func (c *rawClient) x509User(user *x509.Certificate, key *rsa.PrivateKey) *ua.X509IdentityToken {
	c.userSig = func(nonce []byte) *ua.SignatureData {
		alg, err := uapolicy.Asymmetric(userTokenSecurity(c.policy), key, c.server.PublicKey.(*rsa.PublicKey))
		if err != nil {
			c.t.Fatal(err)
		}
		sig, err := alg.Signature(append(append([]byte{}, c.server.Raw...), nonce...))
		if err != nil {
			c.t.Fatal(err)
		}
		return &ua.SignatureData{Algorithm: alg.SignatureURI(), Signature: sig}
	}
	return &ua.X509IdentityToken{PolicyID: policyCertificate, CertificateData: user.Raw}
}

// readRequest reads the Value of nodes (string ids in namespace 1).
func (c *rawClient) readRequest(tok *ua.NodeID, nodes ...string) *ua.ReadRequest {
	req := &ua.ReadRequest{RequestHeader: c.header(tok), TimestampsToReturn: ua.TimestampsToReturnBoth}
	for _, n := range nodes {
		req.NodesToRead = append(req.NodesToRead, &ua.ReadValueID{NodeID: ua.NewStringNodeID(1, n),
			AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}})
	}
	return req
}

// read reads one node in the client's session and returns the status.
func (c *rawClient) read(node string) error {
	resp, err := c.call(c.readRequest(c.authToken, node))
	if err != nil {
		return err
	}
	if rr := resp.(*ua.ReadResponse); len(rr.Results) != 1 {
		return fmt.Errorf("%d results", len(rr.Results))
	}
	return nil
}

// expectError reads until the server's Error message and returns its code;
// the connection must then be closed.
func (c *rawClient) expectError() ua.StatusCode {
	c.t.Helper()
	for range 100 {
		_, _, err := c.readChunk()
		var se *statusError
		if errors.As(err, &se) {
			if _, _, err := c.readChunk(); err == nil {
				c.t.Errorf("connection still open after the Error message")
			}
			return se.code
		}
		if err != nil {
			c.t.Fatalf("connection ended without an Error message: %v", err)
		}
	}
	c.t.Fatal("no Error message")
	return 0
}
