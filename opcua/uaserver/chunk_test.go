package uaserver

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
)

var (
	keysOnce         sync.Once
	key2048, key4096 *rsa.PrivateKey
)

// testKeys are generated once: a 2048-bit key (like the server's) and a
// 4096-bit one (whose encryption needs the ExtraPaddingSize byte).
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		if key2048, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if key4096, err = rsa.GenerateKey(rand.Reader, 4096); err != nil {
			panic(err)
		}
	})
	return key2048, key4096
}

// symmetricPair returns the keys of both ends of a Basic256Sha256 channel.
func symmetricPair(t testing.TB, mode ua.MessageSecurityMode) (client, server symmetric) {
	client, server = symmetric{mode: mode}, symmetric{mode: mode}
	if mode == ua.MessageSecurityModeNone {
		return
	}
	cn, sn := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	var err error
	if client.alg, err = uapolicy.Symmetric(ua.SecurityPolicyURIBasic256Sha256, cn, sn); err != nil {
		t.Fatal(err)
	}
	if server.alg, err = uapolicy.Symmetric(ua.SecurityPolicyURIBasic256Sha256, sn, cn); err != nil {
		t.Fatal(err)
	}
	return
}

func TestSymmetricChunkRoundTrip(t *testing.T) {
	for _, mode := range []ua.MessageSecurityMode{ua.MessageSecurityModeNone, ua.MessageSecurityModeSign, ua.MessageSecurityModeSignAndEncrypt} {
		client, server := symmetricPair(t, mode)
		for _, chunkSize := range []int{8192, 65535} {
			maxBody := maxSymmetricBody(chunkSize, client)
			for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 1000, maxBody - 1, maxBody} {
				body := make([]byte, n)
				_, _ = rand.Read(body)
				chunk, err := sealSymmetric("MSG", 'F', 7, 3, sequence{42, 9}, body, client)
				if err != nil {
					t.Fatalf("%v/%d: seal: %v", mode, n, err)
				}
				if len(chunk) > chunkSize && n <= maxBody {
					t.Errorf("%v: %d-byte body makes a %d-byte chunk, over %d", mode, n, len(chunk), chunkSize)
				}
				if got := parseChunkHeader(chunk).size; int(got) != len(chunk) {
					t.Errorf("%v/%d: header size %d, chunk %d", mode, n, got, len(chunk))
				}
				s, got, err := openSymmetric(chunk, server)
				if err != nil {
					t.Fatalf("%v/%d: open: %v", mode, n, err)
				}
				if s != (sequence{42, 9}) || !bytes.Equal(got, body) {
					t.Errorf("%v/%d: round trip changed the chunk", mode, n)
				}
			}
		}
	}
}

func TestAsymmetricChunkRoundTrip(t *testing.T) {
	k2048, k4096 := testKeys(t)
	for _, tt := range []struct {
		name           string
		sender, server *rsa.PrivateKey
	}{
		{"2048 to 2048", k2048, k2048},
		{"4096 to 2048", k4096, k2048},
		{"2048 to 4096 (extra padding)", k2048, k4096},
	} {
		for _, n := range []int{0, 1, 100, 213, 214, 215, 1000, 3000} {
			body := make([]byte, n)
			_, _ = rand.Read(body)
			h := asymHeader{policy: ua.SecurityPolicyURIBasic256Sha256, senderCert: []byte("cert"), thumbprint: []byte("thumb")}
			chunk, err := sealAsymmetric(5, h, sequence{1, 2}, body, tt.sender, &tt.server.PublicKey)
			if err != nil {
				t.Fatalf("%s/%d: seal: %v", tt.name, n, err)
			}
			gh, off, err := parseAsymHeader(chunk)
			if err != nil || gh.policy != h.policy || string(gh.senderCert) != "cert" {
				t.Fatalf("%s/%d: header %+v %v", tt.name, n, gh, err)
			}
			s, got, err := openAsymmetric(chunk, off, gh.policy, tt.server, &tt.sender.PublicKey)
			if err != nil {
				t.Fatalf("%s/%d: open: %v", tt.name, n, err)
			}
			if s != (sequence{1, 2}) || !bytes.Equal(got, body) {
				t.Errorf("%s/%d: round trip changed the chunk", tt.name, n)
			}
			// one flipped bit anywhere is refused
			chunk[len(chunk)/2+off/2] ^= 1
			if _, _, err := openAsymmetric(chunk, off, gh.policy, tt.server, &tt.sender.PublicKey); err == nil {
				t.Errorf("%s/%d: tampered chunk accepted", tt.name, n)
			}
		}
	}
}

// testRequests are encoded requests covering every shape the bounded
// decoder walks: arrays, Variants (scalar, array, matrix, nested),
// DataValues, ExtensionObjects, NodeIds of every kind.
func testRequests() []ua.Request {
	hdr := func() *ua.RequestHeader {
		return &ua.RequestHeader{AuthenticationToken: ua.NewByteStringNodeID(0, []byte("token")), Timestamp: time.Now(),
			RequestHandle: 7, AdditionalHeader: ua.NewExtensionObject(nil)}
	}
	matrix, err := ua.NewVariant([][]int32{{1, 2, 3}, {4, 5, 6}})
	if err != nil {
		panic(err)
	}
	nested := ua.MustVariant([]*ua.Variant{ua.MustVariant(1.5), ua.MustVariant("x"), ua.MustVariant([]string{"a", "b"})})
	write := func(v *ua.Variant) *ua.WriteValue {
		return &ua.WriteValue{NodeID: ua.NewGUIDNodeID(2, "72962B91-FA75-4AE6-8D28-B404DC7DAF63"), AttributeID: ua.AttributeIDValue,
			Value: &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp | ua.DataValueStatusCode,
				Value: v, SourceTimestamp: time.Now(), Status: ua.StatusUncertain}}
	}
	return []ua.Request{
		&ua.ReadRequest{RequestHeader: hdr(), TimestampsToReturn: ua.TimestampsToReturnBoth, NodesToRead: []*ua.ReadValueID{
			{NodeID: ua.NewStringNodeID(1, "IBX01.C001"), AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}},
			{NodeID: ua.NewNumericNodeID(0, 2255), AttributeID: ua.AttributeIDValue, IndexRange: "1:2", DataEncoding: &ua.QualifiedName{NamespaceIndex: 0, Name: "Default Binary"}},
			{NodeID: ua.NewFourByteNodeID(1, 1000), AttributeID: ua.AttributeIDDisplayName, DataEncoding: &ua.QualifiedName{}},
		}},
		&ua.WriteRequest{RequestHeader: hdr(), NodesToWrite: []*ua.WriteValue{
			write(ua.MustVariant(42.5)), write(matrix), write(nested),
			write(ua.MustVariant(ua.NewLocalizedText("text"))), write(ua.MustVariant([]byte{1, 2, 3})),
			write(ua.MustVariant(ua.NewExtensionObject(&ua.Range{Low: 1, High: 2}))),
			write(ua.MustVariant(&ua.DataValue{EncodingMask: ua.DataValueValue, Value: ua.MustVariant(int64(-1))})),
			write(ua.MustVariant(ua.NewNumericExpandedNodeID(3, 77))),
		}},
		&ua.ActivateSessionRequest{RequestHeader: hdr(), ClientSignature: &ua.SignatureData{Algorithm: "a", Signature: []byte("s")},
			LocaleIDs: []string{"en"}, UserTokenSignature: &ua.SignatureData{},
			UserIdentityToken: ua.NewExtensionObject(&ua.UserNameIdentityToken{PolicyID: "username", UserName: "u", Password: []byte("p"), EncryptionAlgorithm: encryptionRSAOAEP})},
		&ua.CreateMonitoredItemsRequest{RequestHeader: hdr(), SubscriptionID: 1, TimestampsToReturn: ua.TimestampsToReturnSource,
			ItemsToCreate: []*ua.MonitoredItemCreateRequest{{
				ItemToMonitor:  &ua.ReadValueID{NodeID: ua.NewStringNodeID(1, "x"), AttributeID: ua.AttributeIDValue, DataEncoding: &ua.QualifiedName{}},
				MonitoringMode: ua.MonitoringModeReporting,
				RequestedParameters: &ua.MonitoringParameters{ClientHandle: 1, SamplingInterval: 100, QueueSize: 5, DiscardOldest: true,
					Filter: ua.NewExtensionObject(&ua.DataChangeFilter{Trigger: ua.DataChangeTriggerStatusValue, DeadbandType: 1, DeadbandValue: 0.5})},
			}}},
		&ua.BrowseRequest{RequestHeader: hdr(), View: &ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0)}, RequestedMaxReferencesPerNode: 5,
			NodesToBrowse: []*ua.BrowseDescription{{NodeID: ua.NewNumericNodeID(0, 85), ReferenceTypeID: ua.NewNumericNodeID(0, 33), IncludeSubtypes: true, ResultMask: 63}}},
		&ua.PublishRequest{RequestHeader: hdr(), SubscriptionAcknowledgements: []*ua.SubscriptionAcknowledgement{{SubscriptionID: 1, SequenceNumber: 2}}},
	}
}

// The bounded decoder must accept exactly what gopcua encodes and decodes.
func TestBoundedDecoderAgreesWithGopcua(t *testing.T) {
	for _, req := range testRequests() {
		b, err := encodeService(req)
		if err != nil {
			t.Fatalf("%T: %v", req, err)
		}
		got, err := decodeRequest(b)
		if err != nil {
			t.Errorf("%T refused: %v", req, err)
			continue
		}
		again, _ := encodeService(got)
		if !bytes.Equal(again, b) {
			t.Errorf("%T changed in a decode/encode round trip", req)
		}
		// every truncation is refused, never a panic
		for n := range len(b) {
			if _, err := decodeRequest(b[:n]); err == nil && n > 0 {
				t.Errorf("%T truncated to %d of %d bytes accepted", req, n, len(b))
				break
			}
		}
	}
}

func TestBoundedDecoderRefusesBombs(t *testing.T) {
	typeID := func(id uint16) *ua.Buffer {
		b := ua.NewBuffer(nil)
		b.WriteStruct(ua.NewFourByteExpandedNodeID(0, id))
		b.WriteStruct(&ua.RequestHeader{AuthenticationToken: ua.NewTwoByteNodeID(0), AdditionalHeader: ua.NewExtensionObject(nil)})
		return b
	}
	write := func(value func(b *ua.Buffer)) []byte {
		b := typeID(673) // WriteRequest
		b.WriteUint32(1)
		b.WriteStruct(ua.NewTwoByteNodeID(1))
		b.WriteUint32(13) // Value
		b.WriteString("")
		b.WriteByte(ua.DataValueValue)
		value(b)
		return b.Bytes()
	}
	deep := func(b *ua.Buffer) {
		for range 1000 {
			b.WriteByte(24 | 0x80) // array of Variant
			b.WriteUint32(1)
		}
		b.WriteByte(0)
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"array of 2^31 ReadValueIds", func() []byte {
			b := typeID(631)
			b.WriteFloat64(0)
			b.WriteUint32(0)
			b.WriteUint32(0x7fffffff)
			return b.Bytes()
		}()},
		{"Variant nested 1000 deep", write(deep)},
		{"Variant dimensions overflowing int32", write(func(b *ua.Buffer) {
			b.WriteByte(6 | 0x80 | 0x40) // Int32 array with dimensions
			b.WriteUint32(0)             // no elements
			b.WriteUint32(2)
			b.WriteUint32(65536)
			b.WriteUint32(65536)
		})},
		{"Variant array of -5 elements", write(func(b *ua.Buffer) {
			b.WriteByte(6 | 0x80)
			b.WriteInt32(-5)
		})},
		{"Variant with 2^30 dimensions", write(func(b *ua.Buffer) {
			b.WriteByte(6 | 0x80 | 0x40)
			b.WriteUint32(1)
			b.WriteInt32(7)
			b.WriteUint32(1 << 30)
		})},
		{"200000 BrowseDescriptions of a few bytes each", func() []byte {
			b := typeID(527) // BrowseRequest
			b.WriteStruct(&ua.ViewDescription{ViewID: ua.NewTwoByteNodeID(0)})
			b.WriteUint32(0)
			b.WriteUint32(200000)
			for range 200000 {
				b.WriteStruct(&ua.BrowseDescription{NodeID: ua.NewTwoByteNodeID(1), ReferenceTypeID: ua.NewTwoByteNodeID(33)})
			}
			return b.Bytes()
		}()},
		{"ExtensionObject body longer than the message", write(func(b *ua.Buffer) {
			b.WriteByte(22)
			b.WriteStruct(ua.NewFourByteExpandedNodeID(0, 886))
			b.WriteByte(1)
			b.WriteUint32(1 << 30)
		})},
	} {
		if _, err := decodeRequest(tt.b); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// FuzzOpenChunk feeds arbitrary chunks to the chunk security and the
// request decoder: errors are fine, panics and hangs are not.
func FuzzOpenChunk(f *testing.F) {
	_, none := symmetricPair(f, ua.MessageSecurityModeNone)
	signC, sign := symmetricPair(f, ua.MessageSecurityModeSign)
	encC, enc := symmetricPair(f, ua.MessageSecurityModeSignAndEncrypt)
	for _, req := range testRequests() {
		body, _ := encodeService(req)
		for _, sec := range []symmetric{none, signC, encC} {
			c, err := sealSymmetric("MSG", 'F', 1, 1, sequence{1, 1}, body, sec)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(c)
		}
	}
	f.Add(append([]byte("OPN"), make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < symHeaderLen+seqHeaderLen {
			return
		}
		for _, sec := range []symmetric{none, sign, enc} {
			_, body, err := openSymmetric(bytes.Clone(b), sec)
			if err == nil {
				_, _ = decodeRequest(body)
				_ = decodeRequestHeader(body)
			}
		}
		if h, off, err := parseAsymHeader(b); err == nil {
			_, body, err := openAsymmetric(bytes.Clone(b), off, ua.SecurityPolicyURINone, nil, nil)
			if err == nil {
				_, _ = decodeRequest(body)
			}
			_ = h
		}
		_, _ = decodeRequest(b)
	})
}
