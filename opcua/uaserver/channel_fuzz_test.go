package uaserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uacp"

	"github.com/svgateway/svgateway/internal/svctest"
)

// FuzzChannel feeds arbitrary byte streams to a connection of a real
// server (None offered, stub services): whatever arrives, the connection
// ends or answers, and nothing panics.
func FuzzChannel(f *testing.F) {
	cfg := testConfig(&testing.T{})
	cfg.Security = []string{"None"}
	cfg.AllowAnonymous = true
	var logs svctest.Buffer
	srv, err := NewServer(cfg, newStubServices(), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), StateDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}

	// seed: Hello, OpenSecureChannel, GetEndpoints, CreateSession, a sessionless Read
	hel, _ := (&uacp.Hello{ReceiveBufSize: 65535, SendBufSize: 65535, EndpointURL: "opc.tcp://x"}).Encode()
	stream := make([]byte, tcpHeaderLen)
	putChunkHeader(stream, "HEL", 'F', tcpHeaderLen+len(hel), 0)
	stream = append(stream, hel...)
	c := &rawClient{t: &testing.T{}}
	opn, _ := encodeService(&ua.OpenSecureChannelRequest{RequestHeader: c.header(nil), ClientNonce: []byte{}, RequestedLifetime: 60000})
	chunk, _ := sealAsymmetric(0, asymHeader{policy: ua.SecurityPolicyURINone}, sequence{1, 1}, opn, nil, nil)
	stream = append(stream, chunk...)
	for i, req := range []ua.Request{
		&ua.GetEndpointsRequest{RequestHeader: c.header(nil)},
		&ua.CreateSessionRequest{RequestHeader: c.header(nil), ClientDescription: &ua.ApplicationDescription{ApplicationName: ua.NewLocalizedText("x")},
			ClientNonce: make([]byte, 32), RequestedSessionTimeout: 1000},
		c.readRequest(nil, "A"),
	} {
		body, _ := encodeService(req)
		// the channel id is unknown in advance: 0 makes the seed end at the
		// first MSG, mutations find the rest
		chunk, _ := sealSymmetric("MSG", 'F', 0, 1, sequence{uint32(i + 2), uint32(i + 2)}, body, symmetric{mode: ua.MessageSecurityModeNone})
		stream = append(stream, chunk...)
	}
	f.Add(stream)
	f.Add([]byte("HELF\x08\x00\x00\x00"))

	f.Fuzz(func(t *testing.T, b []byte) {
		server, client := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			newChannel(srv, server).serve(context.Background())
		}()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		_, _ = client.Write(b)
		client.Close()
		<-done
		if strings.Contains(logs.Take(), "panic") {
			t.Fatalf("panic while serving %q", bytes.TrimSpace(b[:min(len(b), 64)]))
		}
	})
}
