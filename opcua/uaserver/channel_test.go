package uaserver

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// Protocol-level attacks and limits, sent with rawClient. After each, the
// server must still serve a new client.

// attackConfig offers None (for raw clients without certificates) next to
// the secure endpoints, anonymous and one user.
func attackConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.Security = []string{"None", "Basic256Sha256:SignAndEncrypt", "Basic256Sha256:Sign"}
	cfg.AllowAnonymous = true
	return cfg
}

// mustServe checks that a new client can still open a channel, activate a
// session and read.
func (ts *testServer) mustServe(t *testing.T) {
	t.Helper()
	c := connect(t, ts, ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
	c.mustActivate()
	if err := c.read("A"); err != nil {
		t.Fatalf("server no longer serves: Read: %v", err)
	}
}

func wantStatus(t *testing.T, what string, err error, want ua.StatusCode) {
	t.Helper()
	var got ua.StatusCode
	if !errors.As(err, &got) {
		var se *statusError
		if errors.As(err, &se) {
			got = se.code
		}
	}
	if got != want {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func TestProtocolViolationsGetAnErrorMessage(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	msgHeader := func(typ string, chunkType byte, size int, channelID uint32) []byte {
		b := make([]byte, headerLen)
		putChunkHeader(b, typ, chunkType, size, channelID)
		return b
	}
	tests := []struct {
		name string
		open bool // open a None channel first
		send func(c *rawClient) []byte
		want ua.StatusCode
	}{
		{"garbage instead of Hello", false, nil, ua.StatusBadTCPMessageTypeInvalid},
		{"garbage after Hello", false, func(c *rawClient) []byte {
			return []byte("GARBAGE!GARBAGE!GARBAGE!GARBAGE!")
		}, ua.StatusBadTCPMessageTypeInvalid},
		{"MSG before OpenSecureChannel", false, func(c *rawClient) []byte {
			return append(msgHeader("MSG", 'F', 32, 7), make([]byte, 20)...)
		}, ua.StatusBadSecureChannelIDInvalid},
		{"chunk larger than the receive buffer", true, func(c *rawClient) []byte {
			return msgHeader("MSG", 'F', 1<<20, c.channelID)
		}, ua.StatusBadTCPMessageTooLarge},
		{"chunk shorter than its headers", true, func(c *rawClient) []byte {
			return append(msgHeader("MSG", 'F', 20, c.channelID), 0, 0, 0, 0, 0, 0, 0, 0)
		}, ua.StatusBadTCPMessageTypeInvalid},
		{"unknown chunk type", true, func(c *rawClient) []byte {
			return append(msgHeader("MSG", 'X', 24, c.channelID), make([]byte, 12)...)
		}, ua.StatusBadTCPMessageTypeInvalid},
		{"wrong secure channel id", true, func(c *rawClient) []byte {
			chunk, _ := sealSymmetric("MSG", 'F', c.channelID+1, c.tokenID, sequence{c.nextSeq(), 9}, []byte{1}, c.sec)
			return chunk
		}, ua.StatusBadSecureChannelIDInvalid},
		{"unknown token", true, func(c *rawClient) []byte {
			chunk, _ := sealSymmetric("MSG", 'F', c.channelID, c.tokenID+7, sequence{c.nextSeq(), 9}, []byte{1}, c.sec)
			return chunk
		}, ua.StatusBadSecureChannelTokenUnknown},
		{"sequence number skipped", true, func(c *rawClient) []byte {
			body, _ := encodeService(c.readRequest(nil, "A"))
			chunk, _ := sealSymmetric("MSG", 'F', c.channelID, c.tokenID, sequence{c.nextSeq() + 5, 9}, body, c.sec)
			return chunk
		}, ua.StatusBadSequenceNumberInvalid},
		{"sequence number replayed", true, func(c *rawClient) []byte {
			body, _ := encodeService(c.readRequest(nil, "A"))
			chunk, _ := sealSymmetric("MSG", 'F', c.channelID, c.tokenID, sequence{c.seq, 9}, body, c.sec)
			return chunk
		}, ua.StatusBadSequenceNumberInvalid},
		{"second Issue on an open channel", true, func(c *rawClient) []byte {
			body, _ := encodeService(&ua.OpenSecureChannelRequest{RequestHeader: c.header(nil), RequestType: ua.SecurityTokenRequestTypeIssue,
				ClientNonce: []byte{}, RequestedLifetime: 1000})
			chunk, _ := sealAsymmetric(c.channelID, asymHeader{policy: ua.SecurityPolicyURINone}, sequence{c.nextSeq(), 9}, body, nil, nil)
			return chunk
		}, ua.StatusBadRequestTypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *rawClient
			if tt.send == nil {
				// raw garbage as the very first bytes
				c = &rawClient{t: t}
				conn := dialTCP(t, ts)
				c.conn = conn
				c.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			} else {
				c = dial(t, ts)
				if tt.open {
					if err := c.open(ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil); err != nil {
						t.Fatal(err)
					}
				}
				c.write(tt.send(c))
			}
			if got := c.expectError(); got != tt.want {
				t.Errorf("Error message %v, want %v", got, tt.want)
			}
			ts.mustServe(t)
		})
	}
}

func TestTamperedChunksAreRefused(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	for _, mode := range []ua.MessageSecurityMode{ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt} {
		t.Run(mode.String(), func(t *testing.T) {
			c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, mode, cert)
			c.mustActivate()
			if err := c.read("A"); err != nil {
				t.Fatal(err)
			}
			body, _ := encodeService(c.readRequest(c.authToken, "A"))
			chunk, err := sealSymmetric("MSG", 'F', c.channelID, c.tokenID, sequence{c.nextSeq(), 99}, body, c.sec)
			if err != nil {
				t.Fatal(err)
			}
			chunk[len(chunk)-40] ^= 0x55 // in the body (Sign) or the ciphertext (SignAndEncrypt)
			c.write(chunk)
			if got := c.expectError(); got != ua.StatusBadSecurityChecksFailed {
				t.Errorf("Error message %v, want BadSecurityChecksFailed", got)
			}
			ts.mustServe(t)
		})
	}
}

func TestOversizedRequestIsRefusedAndChannelSurvives(t *testing.T) {
	cfg := attackConfig(t)
	cfg.MaxMessageSize = 100000
	ts := startServer(t, cfg)
	c := activated(t, ts)
	nodes := make([]string, 10000)
	for i := range nodes {
		nodes[i] = "IBX01.C001.R001.K1.kVA"
	}
	_, err := c.call(c.readRequest(c.authToken, nodes...))
	wantStatus(t, "Read of 10000 nodes over max_message_size", err, ua.StatusBadRequestTooLarge)
	if err := c.read("A"); err != nil {
		t.Errorf("same channel after the refused request: %v", err)
	}
	// too many chunks: 2000 small chunks
	body, _ := encodeService(c.readRequest(c.authToken, "A", "B", "C"))
	body = append(body, make([]byte, 2000*4)...)
	c.sendBody(body, 4)
	v, err := c.receive()
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := v.(*ua.ServiceFault); !ok || f.ResponseHeader.ServiceResult != ua.StatusBadRequestTooLarge {
		t.Errorf("request in 2000 chunks: %T %v, want BadRequestTooLarge", v, v)
	}
	if err := c.read("A"); err != nil {
		t.Errorf("same channel after the chunk flood: %v", err)
	}
}

func TestLargeRequestIsReassembled(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	c := activated(t, ts)
	nodes := make([]string, 10000)
	for i := range nodes {
		nodes[i] = "IBX01.C001.R001.K1.kVA"
	}
	resp, err := c.call(c.readRequest(c.authToken, nodes...))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.(*ua.ReadResponse).Results); n != 10000 {
		t.Errorf("%d results, want 10000", n)
	}
}

func TestResponseOverClientLimitIsAFault(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	c := activated(t, ts)
	// the session's MaxResponseMessageSize is 0 (none); the Hello's is 0 too:
	// a 300 KiB response arrives in chunks
	resp, err := c.call(c.readRequest(c.authToken, bigNode))
	if err != nil {
		t.Fatal(err)
	}
	if v := resp.(*ua.ReadResponse).Results[0].Value.Value(); v != bigValue {
		t.Errorf("big value corrupted (%d bytes)", len(v.(string)))
	}
	// now a client that accepts at most 100000 bytes
	c2 := dialWithHello(t, ts, 100000)
	if err := c2.open(ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil); err != nil {
		t.Fatal(err)
	}
	c2.mustActivate()
	_, err = c2.call(c2.readRequest(c2.authToken, bigNode))
	wantStatus(t, "Read of a 300 KiB value by a client accepting 100000 bytes", err, ua.StatusBadResponseTooLarge)
	// the services learn that their response did not reach the client
	// (Respond returns once the fault is written, perhaps after the client
	// read it)
	if err := respondErrOf(ts, "Read", func(err error) bool { return err != nil }); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("Respond of the refused response: %v, want ErrResponseTooLarge", err)
	}
	if err := c2.read("A"); err != nil {
		t.Errorf("same channel after the refused response: %v", err)
	}
	if err := respondErrOf(ts, "Read", func(err error) bool { return err == nil }); err != nil {
		t.Errorf("Respond of a delivered response: %v", err)
	}
}

// respondErrOf is what the services last learnt Respond returned for a
// service, once done says it is the awaited outcome or after 10 s. The
// services learn it when Respond returns, which may be after the client
// has read the response.
func respondErrOf(ts *testServer, service string, done func(error) bool) error {
	err := ts.services.RespondErr(service)
	for deadline := time.Now().Add(10 * time.Second); !done(err) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		err = ts.services.RespondErr(service)
	}
	return err
}

func TestUndecodableRequests(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	c := activated(t, ts)
	readTypeID := func(id uint16) []byte {
		b := ua.NewBuffer(nil)
		b.WriteStruct(ua.NewFourByteExpandedNodeID(0, id))
		return b.Bytes()
	}
	header := func() []byte {
		b, _ := ua.Encode(c.header(c.authToken))
		return b
	}
	// a Read claiming 2^31-1 nodes in a few bytes
	bomb := append(readTypeID(631), header()...)
	bomb = binary.LittleEndian.AppendUint64(bomb, 0)          // MaxAge
	bomb = binary.LittleEndian.AppendUint32(bomb, 0)          // TimestampsToReturn
	bomb = binary.LittleEndian.AppendUint32(bomb, 0x7fffffff) // NodesToRead
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, tt := range []struct {
		name string
		body []byte
		want ua.StatusCode
	}{
		{"array length bomb", bomb, ua.StatusBadDecodingError},
		{"unknown service", append(readTypeID(60000), header()...), ua.StatusBadServiceUnsupported},
		{"truncated Read", append(readTypeID(631), header()[:10]...), ua.StatusBadDecodingError},
		{"a response type as request", append(readTypeID(634), 0, 0), ua.StatusBadDecodingError},
		{"node management", mustEncode(t, &ua.AddNodesRequest{RequestHeader: c.header(c.authToken)}), ua.StatusBadServiceUnsupported},
		{"history update", mustEncode(t, &ua.HistoryUpdateRequest{RequestHeader: c.header(c.authToken)}), ua.StatusBadServiceUnsupported},
	} {
		c.sendBody(tt.body, 0)
		v, err := c.receive()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		f, ok := v.(*ua.ServiceFault)
		if !ok {
			t.Errorf("%s: %T, want ServiceFault", tt.name, v)
			continue
		}
		if f.ResponseHeader.ServiceResult != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, f.ResponseHeader.ServiceResult, tt.want)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapSys) - int64(before.HeapSys); grown > 256<<20 {
		t.Errorf("heap grew by %d MiB for a %d-byte request", grown>>20, len(bomb))
	}
	if err := c.read("A"); err != nil {
		t.Errorf("same channel after undecodable requests: %v", err)
	}
	if n := ts.services.count("AddNodes") + ts.services.count("HistoryUpdate"); n != 0 {
		t.Errorf("services saw %d unsupported requests", n)
	}
}

func mustEncode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := encodeService(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPanicInServicesIsAnInternalError(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	c := activated(t, ts)
	_, err := c.call(c.readRequest(c.authToken, panicNode))
	wantStatus(t, "Read that panics in Services", err, ua.StatusBadInternalError)
	if err := c.read("A"); err != nil {
		t.Errorf("same channel after the panic: %v", err)
	}
	ts.mustServe(t)
}

func TestRenewedTokenReplacesTheOldOnceUsed(t *testing.T) {
	ts := startServer(t, attackConfig(t))
	cert := clientCert(t, "urn:test:rawclient")
	ts.trust(t, cert.der)
	c := connect(t, ts, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt, cert)
	c.mustActivate()
	type key struct {
		id  uint32
		sec symmetric
	}
	tokens := []key{{c.tokenID, c.sec}}
	// a quiet client renews twice without sending anything else
	for range 2 {
		if err := c.openSecureChannel(ua.SecurityTokenRequestTypeRenew); err != nil {
			t.Fatalf("Renew: %v", err)
		}
		if c.tokenID == tokens[len(tokens)-1].id {
			t.Fatal("renewal gave the same token")
		}
		tokens = append(tokens, key{c.tokenID, c.sec})
	}
	// until the client uses a newer token, the older ones stay valid;
	// using one retires those before it
	for i, k := range tokens {
		c.tokenID, c.sec = k.id, k.sec
		if err := c.read("A"); err != nil {
			t.Fatalf("token %d of %d: %v", i+1, len(tokens), err)
		}
	}
	c.tokenID, c.sec = tokens[1].id, tokens[1].sec
	body, _ := encodeService(c.readRequest(c.authToken, "A"))
	c.sendBody(body, 0)
	if got := c.expectError(); got != ua.StatusBadSecureChannelTokenUnknown {
		t.Errorf("retired token: %v, want BadSecureChannelTokenUnknown", got)
	}
	ts.mustServe(t)
}

func TestConnectionLimitsAndHelloTimeout(t *testing.T) {
	cfg := attackConfig(t)
	cfg.MaxConnections = 2
	cfg.MaxConnectionsPerAddress = 2
	cfg.HelloTimeout = 2 * time.Second
	ts := startServer(t, cfg)

	// a connection that never says Hello is closed with an Error message
	silent := &rawClient{t: t, conn: dialTCP(t, ts)}
	if got := silent.expectError(); got != ua.StatusBadTimeout {
		t.Errorf("silent connection: %v, want BadTimeout", got)
	}
	// The server frees the silent connection's slot just after it closes
	// it: wait for that (bounded), or the next two could find one slot.
	for i := 0; ts.admission.held() != 0; i++ {
		if i == 250 {
			t.Fatalf("the silent connection's slot is still held: %d connections", ts.admission.held())
		}
		time.Sleep(20 * time.Millisecond)
	}

	a := activated(t, ts)
	b := dial(t, ts)
	over := &rawClient{t: t, conn: dialTCP(t, ts)}
	if got := over.expectError(); got != ua.StatusBadTCPServerTooBusy {
		t.Errorf("connection over max_connections: %v, want BadTCPServerTooBusy", got)
	}
	if err := a.read("A"); err != nil {
		t.Errorf("existing connection: %v", err)
	}
	b.conn.Close()
	// once a connection ends, a new one is served (the count drops when the
	// server notices, so retry a bounded number of times)
	for i := range 50 {
		c, err := hello(t, ts, 0)
		if err == nil {
			err = c.open(ua.SecurityPolicyURINone, ua.MessageSecurityModeNone, nil)
		}
		if err == nil {
			break
		}
		if i == 49 {
			t.Fatalf("no connection after one ended: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
