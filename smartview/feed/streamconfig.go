// This file holds the configuration of the v2 streaming providers
// (subscription_data, webhook, aws_iot_core): [feed.stream],
// [feed.webhook] and [feed.aws_iot_core].

package feed

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/svgateway/svgateway/smartview"
)

// The v2 streaming providers.
const (
	// ProviderSubscriptionData reads the v2 subscription's data over REST
	// (/smartview/v2/streaming/subscriptionData/{id}); no cloud account.
	ProviderSubscriptionData = "subscription_data"
	// ProviderWebhook serves the v2 WEBHOOK channel on an HTTPS listener.
	ProviderWebhook = "webhook"
	// ProviderAWSIoTCore reads the v2 AWS_IOT_CORE channel over MQTT/TLS.
	ProviderAWSIoTCore = "aws_iot_core"
)

// StreamMessageTypes are the v2 message types, as [feed.stream]
// message_types and the API's messageType spell them.
var StreamMessageTypes = []string{"systemAlert", "customAlert", "environmental", "power", "meteredPower", "asset"}

// IsStream reports whether provider is one of the v2 streaming providers.
func IsStream(provider string) bool {
	return provider == ProviderSubscriptionData || provider == ProviderWebhook || provider == ProviderAWSIoTCore
}

// StreamConfig is [feed.stream]: what the v2 subscription asks for, and how
// subscription_data reads it.
type StreamConfig struct {
	// MessageTypes are the message types for every IBX of feed.ibxs (default
	// all: systemAlert, customAlert, environmental, power, meteredPower, asset).
	MessageTypes []string `toml:"message_types"`
	// IBXMessageTypes overrides MessageTypes for the IBXs it names
	// (IBX = [types]); an IBX named here and not in feed.ibxs is added.
	IBXMessageTypes map[string][]string `toml:"ibx_message_types"`
	// PollInterval is how often subscription_data reads the data, to its
	// last page (default 15s).
	PollInterval time.Duration `toml:"poll_interval"`
	// PageSize is the limit of one subscriptionData page, 1 to 1000 (default 250).
	PageSize int `toml:"page_size"`
	// MaxPages bounds the pages of one read (default 1000): a server whose
	// pagination never ends cannot hold the reader.
	MaxPages int `toml:"max_pages"`
}

// WebhookConfig is [feed.webhook]: the gateway's HTTPS listener for the v2
// WEBHOOK channel.
type WebhookConfig struct {
	// Listen is the listener's address (default ":8443").
	Listen string `toml:"listen"`
	// URL is the https URL SmartView posts to, as reachable from Equinix
	// (required); its path is the path served (default "/").
	URL string `toml:"url"`
	// CertFile and KeyFile are the listener's certificate chain and key,
	// PEM (required). The certificate is offered to SmartView as
	// sslCertificate unless OfferCertificate is false.
	CertFile         string `toml:"cert_file"`
	KeyFile          string `toml:"key_file"`
	OfferCertificate *bool  `toml:"offer_certificate"`
	// MaxBody bounds one delivery's body in bytes (default 1 MiB).
	MaxBody int64 `toml:"max_body"`
	// MaxConcurrent bounds the deliveries handled at once; more are
	// answered 503 with Retry-After (default 32).
	MaxConcurrent int `toml:"max_concurrent"`
	// AllowFrom lists the networks (CIDR, or single addresses) deliveries
	// may come from; others are answered 403 (default: any). The v2 API
	// describes no other authentication of the caller.
	AllowFrom []string `toml:"allow_from"`
	// Retries, ConcurrentCalls and BatchSize are asked of SmartView
	// (numberOfRetries 1–5, numberOfConcurrentCalls 20–50, batchSize 5–20;
	// 0: the API's default).
	Retries         int `toml:"retries"`
	ConcurrentCalls int `toml:"concurrent_calls"`
	BatchSize       int `toml:"batch_size"`
}

// AWSIoTCoreConfig is [feed.aws_iot_core]: an MQTT-over-TLS session with
// the AWS IoT Core endpoint SmartView publishes to, authenticated by a
// client certificate.
type AWSIoTCoreConfig struct {
	// Broker is the MQTT endpoint, "ssl://HOST:8883" (required; "tls://"
	// and "mqtts://" are accepted too).
	Broker string `toml:"broker"`
	// Endpoint is the URL given to SmartView as the channel's url (default
	// https:// and the broker's host).
	Endpoint string `toml:"endpoint"`
	// Topics are the topic filters subscribed to (default ["#"]).
	Topics []string `toml:"topics"`
	// ClientID is the MQTT client id (default "svgateway-" and the host name).
	ClientID string `toml:"client_id"`
	// CertFile and KeyFile are the client certificate and key, PEM
	// (required); CAFile the CAs of the broker's certificate (default: the
	// system roots).
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	CAFile   string `toml:"ca_file"`
	// QoS of the subscriptions, 0 or 1 (default 1; AWS IoT Core has no 2).
	QoS int `toml:"qos"`
	// KeepAlive is the MQTT keep-alive (default 30s).
	KeepAlive time.Duration `toml:"keep_alive"`
}

func (c *Config) streamDefaults() {
	s := &c.Stream
	if s.MessageTypes == nil {
		s.MessageTypes = slices.Clone(StreamMessageTypes)
	}
	setDefault(&s.PollInterval, 15*time.Second)
	setDefault(&s.PageSize, 250)
	setDefault(&s.MaxPages, 1000)
	w := &c.Webhook
	setDefault(&w.Listen, ":8443")
	setDefault(&w.MaxBody, 1<<20)
	setDefault(&w.MaxConcurrent, 32)
	m := &c.AWSIoTCore
	if m.Topics == nil {
		m.Topics = []string{"#"}
	}
	if m.ClientID == "" {
		host, _ := os.Hostname()
		m.ClientID = "svgateway-" + host
	}
	setDefault(&m.QoS, 1)
	setDefault(&m.KeepAlive, 30*time.Second)
}

// validateStream checks the tables of a v2 streaming provider.
func (c *Config) validateStream(bad func(key, format string, args ...any)) {
	s := &c.Stream
	checkTypes := func(key string, types []string) {
		if len(types) == 0 {
			bad(key, "empty: name at least one of %s", strings.Join(StreamMessageTypes, ", "))
		}
		for i, t := range types {
			if !slices.Contains(StreamMessageTypes, t) {
				bad(fmt.Sprintf("%s[%d]", key, i), "%q is not one of %s", t, strings.Join(StreamMessageTypes, ", "))
			}
		}
	}
	checkTypes("stream.message_types", s.MessageTypes)
	for ibx, types := range s.IBXMessageTypes {
		if strings.TrimSpace(ibx) == "" {
			bad("stream.ibx_message_types", "an empty IBX code")
		}
		checkTypes("stream.ibx_message_types."+ibx, types)
	}
	if s.PollInterval < time.Second {
		bad("stream.poll_interval", "%v is below the minimum of 1s", s.PollInterval)
	}
	if s.PageSize < 1 || s.PageSize > 1000 {
		bad("stream.page_size", "%d is not between 1 and 1000", s.PageSize)
	}
	if s.MaxPages < 1 {
		bad("stream.max_pages", "%d must be positive", s.MaxPages)
	}
	if c.Provider == ProviderSubscriptionData && !c.Manage() {
		bad("manage_subscription", "subscription_data reads the subscription the gateway manages: it cannot be false")
	}
	switch c.Provider {
	case ProviderWebhook:
		c.Webhook.validate(bad)
	case ProviderAWSIoTCore:
		c.AWSIoTCore.validate(bad)
	}
}

func (w *WebhookConfig) validate(bad func(key, format string, args ...any)) {
	if _, _, err := net.SplitHostPort(w.Listen); err != nil {
		bad("webhook.listen", "%q is not host:port", w.Listen)
	}
	if w.URL == "" {
		bad("webhook.url", "required: the https URL SmartView posts to")
	} else if u, err := url.Parse(w.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("webhook.url", "%q is not an https://HOST/PATH URL", w.URL)
	}
	checkKeyPair("webhook", w.CertFile, w.KeyFile, bad)
	if w.MaxBody < 1024 || w.MaxBody > 64<<20 {
		bad("webhook.max_body", "%d is not between 1024 and 67108864", w.MaxBody)
	}
	if w.MaxConcurrent < 1 || w.MaxConcurrent > 4096 {
		bad("webhook.max_concurrent", "%d is not between 1 and 4096", w.MaxConcurrent)
	}
	for i, a := range w.AllowFrom {
		if _, err := ParseAllow(a); err != nil {
			bad(fmt.Sprintf("webhook.allow_from[%d]", i), "%q is not a CIDR or an IP address", a)
		}
	}
	inRange := func(key string, v, lo, hi int) {
		if v != 0 && (v < lo || v > hi) {
			bad(key, "%d is not between %d and %d (0: the API's default)", v, lo, hi)
		}
	}
	inRange("webhook.retries", w.Retries, 1, 5)
	inRange("webhook.concurrent_calls", w.ConcurrentCalls, 20, 50)
	inRange("webhook.batch_size", w.BatchSize, 5, 20)
}

// ParseAllow reads one allow_from entry: a CIDR, or an address (a /32 or /128).
func ParseAllow(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// WebhookPath is the path the listener serves: the URL's path.
func (w *WebhookConfig) WebhookPath() string {
	u, err := url.Parse(w.URL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}

func (m *AWSIoTCoreConfig) validate(bad func(key, format string, args ...any)) {
	if m.Broker == "" {
		bad("aws_iot_core.broker", `required: the MQTT endpoint, "ssl://HOST:8883"`)
	} else if u, err := url.Parse(m.Broker); err != nil || (u.Scheme != "ssl" && u.Scheme != "tls" && u.Scheme != "mqtts") || u.Hostname() == "" || u.Port() == "" {
		bad("aws_iot_core.broker", `%q is not ssl://HOST:PORT (the channel is MQTT over TLS)`, m.Broker)
	} else if m.Endpoint == "" {
		m.Endpoint = "https://" + u.Hostname()
	}
	if m.Endpoint != "" {
		if u, err := url.Parse(m.Endpoint); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("aws_iot_core.endpoint", "%q is not an https:// URL", m.Endpoint)
		}
	}
	if len(m.Topics) == 0 {
		bad("aws_iot_core.topics", "empty: name at least one topic filter")
	}
	for i, t := range m.Topics {
		if t == "" || strings.ContainsRune(t, 0) {
			bad(fmt.Sprintf("aws_iot_core.topics[%d]", i), "%q is not a topic filter", t)
		}
	}
	if strings.TrimSpace(m.ClientID) == "" {
		bad("aws_iot_core.client_id", "empty client id")
	}
	checkKeyPair("aws_iot_core", m.CertFile, m.KeyFile, bad)
	if m.CAFile != "" {
		if b, err := os.ReadFile(m.CAFile); err != nil {
			bad("aws_iot_core.ca_file", "%v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(b) {
			bad("aws_iot_core.ca_file", "%s holds no PEM certificate", m.CAFile)
		}
	}
	if m.QoS != 0 && m.QoS != 1 {
		bad("aws_iot_core.qos", "%d is not 0 or 1", m.QoS)
	}
	if m.KeepAlive < time.Second || m.KeepAlive > 20*time.Minute {
		bad("aws_iot_core.keep_alive", "%v is not between 1s and 20m", m.KeepAlive)
	}
}

// checkKeyPair checks that cert_file and key_file are given and load as a pair.
func checkKeyPair(table, certFile, keyFile string, bad func(key, format string, args ...any)) {
	switch {
	case certFile == "":
		bad(table+".cert_file", "required: a PEM certificate (chain)")
	case keyFile == "":
		bad(table+".key_file", "required: the certificate's PEM private key")
	default:
		if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
			bad(table+".cert_file", "with feed.%s.key_file: %v", table, err)
		}
	}
}

// Channel returns the WEBHOOK channel to ask SmartView for: the URL and,
// unless offer_certificate is false, the listener's certificate file as
// sslCertificate (base64 of the PEM).
func (w *WebhookConfig) Channel() (*smartview.StreamChannel, error) {
	wh := &smartview.StreamWebhook{URL: w.URL, StreamDeliveryTuning: smartview.StreamDeliveryTuning{
		NumberOfRetries: w.Retries, NumberOfConcurrentCalls: w.ConcurrentCalls, BatchSize: w.BatchSize}}
	if w.OfferCertificate == nil || *w.OfferCertificate {
		b, err := os.ReadFile(w.CertFile)
		if err != nil {
			return nil, fmt.Errorf("feed.webhook.cert_file: %w", err)
		}
		wh.SSLCertificate = base64.StdEncoding.EncodeToString(b)
	}
	return &smartview.StreamChannel{ChannelType: smartview.ChannelWebhook, Webhook: wh}, nil
}

// Channel returns the AWS_IOT_CORE channel to ask SmartView for.
func (m *AWSIoTCoreConfig) Channel() *smartview.StreamChannel {
	return &smartview.StreamChannel{ChannelType: smartview.ChannelAWSIoTCore, AWSIoTCore: &smartview.StreamAWSIoTCore{URL: m.Endpoint}}
}

// StreamTypesByIBX returns the message types wanted for each IBX: the
// [feed.stream] message_types for every IBX of ibxs, overridden per IBX by
// ibx_message_types.
func (c *Config) StreamTypesByIBX(ibxs []string) map[string][]string {
	out := make(map[string][]string, len(ibxs))
	for _, ibx := range ibxs {
		out[ibx] = c.Stream.MessageTypes
	}
	for ibx, types := range c.Stream.IBXMessageTypes {
		out[ibx] = types
	}
	return out
}
