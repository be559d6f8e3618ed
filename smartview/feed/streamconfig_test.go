package feed_test

import (
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/feed/feedtest"
)

// TestStreamConfigValidate: every v2 key's error names the key.
func TestStreamConfigValidate(t *testing.T) {
	pki := feedtest.NewPKI(t)
	cert, key := pki.Server(t, "gw")
	_, otherKey := pki.Server(t, "other")
	no := false
	hook := func(change func(*feed.WebhookConfig)) feed.WebhookConfig {
		w := feed.WebhookConfig{URL: "https://gw.example.com/smartview", CertFile: cert, KeyFile: key}
		if change != nil {
			change(&w)
		}
		return w
	}
	iot := func(change func(*feed.AWSIoTCoreConfig)) feed.AWSIoTCoreConfig {
		m := feed.AWSIoTCoreConfig{Broker: "ssl://abc-ats.iot.eu-west-1.amazonaws.com:8883", CertFile: cert, KeyFile: key}
		if change != nil {
			change(&m)
		}
		return m
	}
	for _, tc := range []struct {
		name string
		cfg  feed.Config
		want string
	}{
		{"subscription_data defaults", feed.Config{Provider: feed.ProviderSubscriptionData}, ""},
		{"unknown message type", feed.Config{Provider: feed.ProviderSubscriptionData, Stream: feed.StreamConfig{MessageTypes: []string{"power", "weather"}}}, `feed.stream.message_types[1]: "weather"`},
		{"per-IBX message types", feed.Config{Provider: feed.ProviderSubscriptionData, Stream: feed.StreamConfig{IBXMessageTypes: map[string][]string{"SV4": {"alarm"}}}}, `feed.stream.ibx_message_types.SV4[0]: "alarm"`},
		{"empty per-IBX", feed.Config{Provider: feed.ProviderSubscriptionData, Stream: feed.StreamConfig{IBXMessageTypes: map[string][]string{"SV4": {}}}}, "feed.stream.ibx_message_types.SV4: empty"},
		{"poll interval", feed.Config{Provider: feed.ProviderSubscriptionData, Stream: feed.StreamConfig{PollInterval: time.Millisecond}}, "feed.stream.poll_interval"},
		{"page size", feed.Config{Provider: feed.ProviderSubscriptionData, Stream: feed.StreamConfig{PageSize: 5000}}, "feed.stream.page_size"},
		{"unmanaged subscription_data", feed.Config{Provider: feed.ProviderSubscriptionData, ManageSubscription: &no}, "feed.manage_subscription"},
		{"webhook", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(nil)}, ""},
		{"webhook without url", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.URL = "" })}, "feed.webhook.url: required"},
		{"webhook over http", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.URL = "http://gw/x" })}, "feed.webhook.url"},
		{"webhook without cert", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.CertFile = "" })}, "feed.webhook.cert_file: required"},
		{"webhook mismatched key", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.KeyFile = otherKey })}, "feed.webhook.cert_file: with feed.webhook.key_file"},
		{"webhook listen", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.Listen = "8443" })}, "feed.webhook.listen"},
		{"webhook body", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.MaxBody = 10 })}, "feed.webhook.max_body"},
		{"webhook batch", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.BatchSize = 50 })}, "feed.webhook.batch_size"},
		{"webhook allow_from", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.AllowFrom = []string{"10.0.0.0/8", "gw.example"} })}, "feed.webhook.allow_from[1]"},
		{"webhook retries", feed.Config{Provider: feed.ProviderWebhook, Webhook: hook(func(w *feed.WebhookConfig) { w.Retries = 9 })}, "feed.webhook.retries"},
		{"aws_iot_core", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(nil)}, ""},
		{"aws_iot_core tcp", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(func(m *feed.AWSIoTCoreConfig) { m.Broker = "tcp://h:1883" })}, "feed.aws_iot_core.broker"},
		{"aws_iot_core no broker", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(func(m *feed.AWSIoTCoreConfig) { m.Broker = "" })}, "feed.aws_iot_core.broker: required"},
		{"aws_iot_core no key", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(func(m *feed.AWSIoTCoreConfig) { m.KeyFile = "" })}, "feed.aws_iot_core.key_file: required"},
		{"aws_iot_core qos", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(func(m *feed.AWSIoTCoreConfig) { m.QoS = 2 })}, "feed.aws_iot_core.qos"},
		{"aws_iot_core CA", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(func(m *feed.AWSIoTCoreConfig) { m.CAFile = "testdata/not-a-ca.pem" })}, "feed.aws_iot_core.ca_file"},
		{"aws_iot_core topic", feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(func(m *feed.AWSIoTCoreConfig) { m.Topics = []string{""} })}, "feed.aws_iot_core.topics[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	cfg := feed.Config{Provider: feed.ProviderAWSIoTCore, AWSIoTCore: iot(nil)}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if m := cfg.AWSIoTCore; m.Endpoint != "https://abc-ats.iot.eu-west-1.amazonaws.com" || m.QoS != 1 || m.Topics[0] != "#" {
		t.Errorf("aws_iot_core defaults: %+v", m)
	}
}
