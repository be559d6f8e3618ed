package uaserver

import (
	"context"
	"errors"
	"testing"
	"time"

	gopcua "github.com/gopcua/opcua"
	"github.com/gopcua/opcua/ua"
)

// An independent client: gopcua's own (v0.8.0) over Basic256Sha256
// SignAndEncrypt with a UserName token.
func TestGopcuaClientSignAndEncrypt(t *testing.T) {
	ts := startServer(t, testConfig(t))
	cert := clientCert(t, "urn:test:gopcua")
	ts.trust(t, cert.der)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	eps, err := gopcua.GetEndpoints(ctx, ts.EndpointURL())
	if err != nil {
		t.Fatalf("GetEndpoints: %v", err)
	}
	ep, err := gopcua.SelectEndpoint(eps, ua.SecurityPolicyURIBasic256Sha256, ua.MessageSecurityModeSignAndEncrypt)
	if err != nil {
		t.Fatal(err)
	}
	client := func(password string) *gopcua.Client {
		c, err := gopcua.NewClient(ts.EndpointURL(),
			gopcua.ApplicationURI("urn:test:gopcua"),
			gopcua.Certificate(cert.der), gopcua.PrivateKey(cert.key),
			gopcua.SecurityPolicy(ua.SecurityPolicyURIBasic256Sha256),
			gopcua.SecurityMode(ua.MessageSecurityModeSignAndEncrypt),
			gopcua.AuthUsername(testUser, password),
			gopcua.SecurityFromEndpoint(ep, ua.UserTokenTypeUserName),
			gopcua.AutoReconnect(false))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	c := client(testPassword)
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close(ctx)
	resp, err := c.Read(ctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{
		{NodeID: ua.NewStringNodeID(1, "A"), AttributeID: ua.AttributeIDValue},
		{NodeID: ua.NewStringNodeID(1, bigNode), AttributeID: ua.AttributeIDValue},
	}})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got := resp.Results[0].Value.Value(); got != 42.5 {
		t.Errorf("A = %v", got)
	}
	if got, _ := resp.Results[1].Value.Value().(string); got != bigValue {
		t.Errorf("%s: %d bytes, corrupted", bigNode, len(got))
	}

	bad := client("wrong password")
	err = bad.Connect(ctx)
	if !errors.Is(err, ua.StatusBadUserAccessDenied) {
		t.Errorf("wrong password: %v, want BadUserAccessDenied", err)
	}
	bad.Close(ctx)
}
