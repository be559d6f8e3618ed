package awsiot_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/awsiot"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
	"github.com/svgateway/svgateway/smartview/sandbox"
)

// publisher connects a paho client to the broker with a certificate of pki
// (nil cert: none).
func publisher(t *testing.T, pki *feedtest.PKI, addr string, withCert bool) (mqtt.Client, error) {
	t.Helper()
	caPEM, err := os.ReadFile(pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}
	tc.RootCAs.AppendCertsFromPEM(caPEM)
	if withCert {
		certFile, keyFile := pki.Client(t, "test-publisher")
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + addr).SetClientID("test-publisher").
		SetTLSConfig(tc).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return nil, context.DeadlineExceeded
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

func publish(t *testing.T, c mqtt.Client, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
}

// TestMQTTThroughMosquitto: the consumer's session with a real mosquitto
// over TLS with client-certificate authentication; a v2 message published
// there reaches the model, a payload that does not parse is counted and
// logged once and acknowledged, and a client without a certificate is
// refused by the broker.
func TestMQTTThroughMosquitto(t *testing.T) {
	pki := feedtest.NewPKI(t)
	p, err := feedtest.StartMosquitto(t, pki)
	broker := feedtest.Require(t, p, err)
	rig := feedtest.NewRig(t)
	cert, key := pki.Client(t, "svgateway")
	no := false
	cfg := feed.Config{Provider: feed.ProviderAWSIoTCore, ManageSubscription: &no, AWSIoTCore: feed.AWSIoTCoreConfig{
		Broker: "ssl://" + broker.Addr, CertFile: cert, KeyFile: key, CAFile: pki.CAFile,
		Topics: []string{"smartview/v2/#"}, ClientID: "svgateway-test"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs svctest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	rig.StartFeed(t, cfg, awsiot.New(cfg.AWSIoTCore, log), feed.Options{Logger: log})
	feedtest.WaitFor(t, 20*time.Second, "the MQTT session", func() bool {
		return rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})

	if _, err := publisher(t, pki, broker.Addr, false); err == nil {
		t.Error("mosquitto accepted a client without a certificate")
	}
	pub, err := publisher(t, pki, broker.Addr, true)
	if err != nil {
		t.Fatal(err)
	}
	const fuel = "CH1.Gen-1:fuelhours"
	for range 2 {
		publish(t, pub, "smartview/v2/sub-1", `{"type":"tag-point","data":{"streamId":"x"`) // cut short
		publish(t, pub, "smartview/v2/sub-1", `[1,2]`)                                      // two elements, not messages
	}
	publish(t, pub, "smartview/v2/sub-1", `{"type":"tag-point","data":{"streamId":"`+fuel+`","ibx":"CH1","tag":{"id":"`+fuel+
		`"},"reading":{"value":"4242.5","unit":"h"},"readingTime":"2031-05-06T07:08:09","dataQuality":"Good"}}`)
	feedtest.WaitFor(t, 15*time.Second, "the MQTT message in the model", func() bool {
		return feedtest.TagValue(rig.Store, fuel) == "4242.5"
	})
	h := rig.Store.Snapshot().Health().Feed
	if h.Malformed != 6 { // 2 × (one cut short + two elements that are not messages)
		t.Errorf("malformed = %d, want 6 (feed health %+v)", h.Malformed, h)
	}
	if n := strings.Count(logs.String(), "malformed feed event skipped"); n != 1 {
		t.Errorf("malformed payloads logged %d times, want once:\n%s", n, logs.String())
	}
	if h.State != model.FeedConnected {
		t.Errorf("after bad payloads the feed is %v", h.State)
	}
}

// TestSandboxPublishesToMosquitto: the gateway registers an AWS_IOT_CORE
// subscription; the sandbox publishes the alarm's raise, acknowledgement
// and clear to mosquitto with its own client certificate, and the consumer
// applies them with the sandbox's acknowledgement time.
func TestSandboxPublishesToMosquitto(t *testing.T) {
	pki := feedtest.NewPKI(t)
	p, err := feedtest.StartMosquitto(t, pki)
	broker := feedtest.Require(t, p, err)
	sbCert, sbKey := pki.Client(t, "smartview-sandbox")
	sandbox.DialMQTT = awsiot.DialPublisher
	rig := feedtest.NewRigWith(t, sandbox.Config{Seed: 1, Stream: sandbox.StreamConfig{MQTTBroker: "ssl://" + broker.Addr,
		MQTTCertFile: sbCert, MQTTKeyFile: sbKey, MQTTCAFile: pki.CAFile}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rig.Sandbox.RunPush(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	cert, key := pki.Client(t, "svgateway")
	yes := true
	cfg := feed.Config{Provider: feed.ProviderAWSIoTCore, ManageSubscription: &yes, AWSIoTCore: feed.AWSIoTCoreConfig{
		Broker: "ssl://" + broker.Addr, CertFile: cert, KeyFile: key, CAFile: pki.CAFile,
		Topics: []string{"smartview/v2/#"}, ClientID: "svgateway-test"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	subs := &feed.StreamSubscriptions{API: rig.Client, AccountNo: rig.Sandbox.AccountNo(),
		Types: cfg.StreamTypesByIBX(rig.Sandbox.IBXs()), Channel: cfg.AWSIoTCore.Channel(),
		StatePath: feed.StreamStatePath(t.TempDir())}
	rig.StartFeed(t, cfg, awsiot.New(cfg.AWSIoTCore, nil), feed.Options{StreamSubscriptions: subs})
	feedtest.WaitFor(t, 20*time.Second, "the subscription and the MQTT session", func() bool {
		list, _ := rig.Client.StreamSubscriptions(context.Background())
		return len(list) == 1 && rig.Store.Snapshot().Health().Feed.State == model.FeedConnected
	})

	const tagID, cond = "CH1.Gen-2:voltage", "MQTT Low Voltage"
	spec := sandbox.AlarmSpec{AssetID: "CH1.Gen-2", TagID: tagID, ConditionName: cond, Severity: 850}
	find := func() *model.Alarm {
		for _, a := range rig.Store.Snapshot().Alarms() {
			if a.TagID == tagID && a.Condition == cond {
				return a
			}
		}
		return nil
	}
	if _, err := rig.Sandbox.RaiseAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the published alarm", func() bool { a := find(); return a != nil && a.State == model.AlarmActive })
	time.Sleep(5 * time.Millisecond)
	ref, err := rig.Sandbox.AckAlarm(spec)
	if err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the published acknowledgement", func() bool { return find().State == model.AlarmAcknowledged })
	if a := find(); !a.AckTime.Equal(time.UnixMilli(ref.TimeAcknowledged)) {
		t.Errorf("AckTime %v, want the sandbox's %v", a.AckTime, time.UnixMilli(ref.TimeAcknowledged))
	}
	if _, err := rig.Sandbox.ClearAlarm(spec); err != nil {
		t.Fatal(err)
	}
	feedtest.WaitFor(t, 15*time.Second, "the published clear", func() bool { return find().State == model.AlarmCleared })
	if st := rig.Sandbox.StreamStats(); st.MQTTPublished == 0 || st.MQTTFailed != 0 {
		t.Errorf("sandbox push stats: %+v", st)
	}
}
