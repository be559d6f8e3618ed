package feed

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/svgateway/svgateway/smartview"
)

// Providers: the values of [feed] provider.
const (
	ProviderNone    = "none"
	ProviderSandbox = "sandbox"
	ProviderGoogle  = "google"
	ProviderAWS     = "aws"
	ProviderAzure   = "azure"
	ProviderOracle  = "oracle"
	// ProviderPrivate is the Subscriptions API's PRIVATE channel: arranged
	// with the vendor, with nothing documented to build against; Validate
	// rejects it with a message that says so.
	ProviderPrivate = "private"
)

// Providers lists every provider name, in the order the documentation gives them.
var Providers = []string{ProviderNone, ProviderSandbox, ProviderGoogle, ProviderAWS, ProviderAzure, ProviderOracle,
	ProviderSubscriptionData, ProviderWebhook, ProviderAWSIoTCore}

// EventKinds are the event categories of a SmartView feed subscription.
var EventKinds = []string{"power", "asset", "alarm", "alert", "environment"}

// Config is the [feed] table of gateway.toml. It is plain data; Validate
// fills in defaults.
type Config struct {
	// Provider selects the consumer: "none", "sandbox" (the built-in
	// sandbox's events), "google", "aws", "azure" or "oracle" (the documented
	// v1 subscriptions), or "subscription_data", "webhook" or "aws_iot_core"
	// (the 2024 catalog's v2 streaming API). The caller fills the default
	// before Validate: "sandbox" in sandbox mode, "none" otherwise.
	Provider string `toml:"provider"`
	// ManageSubscription registers the feed subscription through the
	// SmartView Subscriptions API on start, creating or updating it so it
	// covers IBXs and Events (default true). When false, the provider's own
	// keys name what to read.
	ManageSubscription *bool `toml:"manage_subscription"`
	// Events are the event categories to subscribe to (default all five:
	// power, asset, alarm, alert, environment).
	Events []string `toml:"events"`
	// IBXs are the IBXs to subscribe for (default: the IBXs the sync reads).
	IBXs []string `toml:"ibxs"`
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// connection attempts (defaults 1s and 1m).
	ReconnectMin time.Duration `toml:"reconnect_min"`
	ReconnectMax time.Duration `toml:"reconnect_max"`
	// ProbeInterval is how often a connected consumer whose SDK reconnects
	// by itself (google) checks that its subscription is still reachable, so
	// the feed state says "down" while it is not (default 15s).
	ProbeInterval time.Duration `toml:"probe_interval"`
	// MaxBatch bounds the events applied to the model in one update (default 512).
	MaxBatch int `toml:"max_batch"`

	Google  GoogleConfig  `toml:"google"`
	AWS     AWSConfig     `toml:"aws"`
	Azure   AzureConfig   `toml:"azure"`
	Oracle  OracleConfig  `toml:"oracle"`
	Sandbox SandboxConfig `toml:"sandbox"`

	// The v2 streaming API's providers (streamconfig.go).
	Stream     StreamConfig     `toml:"stream"`
	Webhook    WebhookConfig    `toml:"webhook"`
	AWSIoTCore AWSIoTCoreConfig `toml:"aws_iot_core"`
}

// GoogleConfig is [feed.google]: Google Cloud Pub/Sub streaming pull.
type GoogleConfig struct {
	// Subscription is the Pub/Sub subscription to read,
	// "projects/PROJECT/subscriptions/NAME" (default: the SmartView
	// subscription's subscriptionName).
	Subscription string `toml:"subscription"`
	// CredentialsFile is the service-account key file the vendor provides
	// (default: GOOGLE_APPLICATION_CREDENTIALS or the application default
	// credentials).
	CredentialsFile string `toml:"credentials_file"`
	// EmulatorHost is the host:port of a Pub/Sub emulator: plaintext, no
	// credentials (default: the PUBSUB_EMULATOR_HOST environment variable).
	EmulatorHost string `toml:"emulator_host"`
	// Streams is the number of StreamingPull streams (default 2).
	Streams int `toml:"streams"`
	// MaxOutstanding bounds the messages held unacknowledged (default 1000).
	MaxOutstanding int `toml:"max_outstanding"`
}

// AWSConfig is [feed.aws]: an SQS queue subscribed to the vendor's SNS topic.
type AWSConfig struct {
	// QueueURL is the queue to read (required unless the SmartView
	// subscription's name is a queue URL).
	QueueURL string `toml:"queue_url"`
	// Region is the queue's region (default: read from an
	// sqs.REGION.amazonaws.com queue URL, else AWS_REGION).
	Region string `toml:"region"`
	// Endpoint overrides the SQS endpoint (for an SQS-compatible server).
	Endpoint string `toml:"endpoint"`
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials
	// (default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
	AccessKeyID     string `toml:"access_key_id"`
	SecretAccessKey string `toml:"secret_access_key" secret:"true"`
	SessionToken    string `toml:"session_token" secret:"true"`
	// WaitTime is the long-poll wait of one receive, at most 20s (default 20s).
	WaitTime time.Duration `toml:"wait_time"`
	// VisibilityTimeout is how long a received message stays hidden before
	// it is delivered again if not deleted (default 0: the queue's own).
	VisibilityTimeout time.Duration `toml:"visibility_timeout"`
	// MaxMessages per receive, 1 to 10 (default 10).
	MaxMessages int `toml:"max_messages"`
}

// AzureConfig is [feed.azure]: a Service Bus topic subscription, PeekLock.
type AzureConfig struct {
	// ConnectionString is the namespace's connection string (required; a
	// secret: write it as "env:NAME" or "file:/path").
	ConnectionString string `toml:"connection_string" secret:"true"`
	// Topic and Subscription name what to read (default: the SmartView
	// subscription's name, "TOPIC/subscriptions/SUBSCRIPTION").
	Topic        string `toml:"topic"`
	Subscription string `toml:"subscription"`
	// MaxMessages per receive (default 100).
	MaxMessages int `toml:"max_messages"`
}

// OracleConfig is [feed.oracle]: an OCI Streaming stream read through its
// Kafka-compatible API (SASL/PLAIN over TLS) as one consumer group.
type OracleConfig struct {
	// BootstrapServers are the stream pool's Kafka endpoints, host:port
	// ("cell-1.streaming.us-ashburn-1.oci.oraclecloud.com:9092"; required).
	BootstrapServers []string `toml:"bootstrap_servers"`
	// Stream is the stream (Kafka topic) to read (default: the SmartView
	// subscription's name).
	Stream string `toml:"stream"`
	// Group is the consumer group whose committed offsets say what was
	// applied (default "svgateway").
	Group string `toml:"group"`
	// User is the SASL/PLAIN user, "TENANCY/USER/STREAM_POOL_OCID", and
	// AuthToken the user's auth token (both required; secrets: write them as
	// "env:NAME" or "file:/path").
	User      string `toml:"user" secret:"true"`
	AuthToken string `toml:"auth_token" secret:"true"`
	// CAFile is a PEM file of the CAs that sign the brokers' certificates
	// (default: the system roots).
	CAFile string `toml:"ca_file"`
	// StartOffset is where a new consumer group starts: "latest" (default:
	// what is published from now on; the poll covers the rest) or
	// "earliest" (everything the stream still retains).
	StartOffset string `toml:"start_offset"`
	// MaxRecords bounds the records applied, then committed, at once
	// (default 500).
	MaxRecords int `toml:"max_records"`
}

// StreamName matches a valid Kafka topic (OCI stream) name.
var StreamName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// SandboxConfig is [feed.sandbox]: how the sandbox provider delivers the
// built-in sandbox's events.
type SandboxConfig struct {
	// PubSubTopic, when set, has the sandbox publish its events to this
	// topic of the Pub/Sub emulator at google.emulator_host
	// ("projects/PROJECT/topics/NAME"), read back by the google consumer from
	// google.subscription (default: "projects/PROJECT/subscriptions/NAME-svgateway").
	// Topic and subscription are created when missing. Empty: in-process.
	PubSubTopic string `toml:"pubsub_topic"`
	// Buffer is the in-process event buffer (default 4096); events beyond it
	// are dropped by the sandbox and recovered by the next poll.
	Buffer int `toml:"buffer"`
}

// Defaults applied by Validate.
const (
	DefaultReconnectMin  = time.Second
	DefaultReconnectMax  = time.Minute
	DefaultProbeInterval = 15 * time.Second
	DefaultMaxBatch      = 512
)

var (
	googleSubscriptionName = regexp.MustCompile(`^projects/([^/]+)/subscriptions/([^/]+)$`)
	googleTopicName        = regexp.MustCompile(`^projects/([^/]+)/topics/([^/]+)$`)
)

// GoogleProject returns the project of a "projects/P/subscriptions/S" or
// "projects/P/topics/T" name.
func GoogleProject(name string) (string, bool) {
	for _, re := range []*regexp.Regexp{googleSubscriptionName, googleTopicName} {
		if m := re.FindStringSubmatch(name); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// SandboxSubscription is the emulator subscription the sandbox provider
// reads when google.subscription is not set.
func SandboxSubscription(topic string) string {
	m := googleTopicName.FindStringSubmatch(topic)
	if m == nil {
		return ""
	}
	return "projects/" + m[1] + "/subscriptions/" + m[2] + "-svgateway"
}

// Manage reports whether the SmartView subscription is managed.
func (c *Config) Manage() bool {
	return c.Provider != ProviderNone && (c.ManageSubscription == nil || *c.ManageSubscription)
}

// namesSource reports whether the provider's own keys name what to read,
// so the consumer need not wait for the SmartView subscription's name.
func (c *Config) namesSource() bool {
	switch c.Provider {
	case ProviderGoogle:
		return c.Google.Subscription != ""
	case ProviderAWS:
		return c.AWS.QueueURL != ""
	case ProviderAzure:
		return c.Azure.Topic != ""
	case ProviderOracle:
		return c.Oracle.Stream != ""
	}
	return c.Provider == ProviderSandbox || c.Provider == ProviderWebhook || c.Provider == ProviderAWSIoTCore
}

// Validate fills in defaults and checks the table; errors name the key
// ("feed.aws.queue_url: required with provider \"aws\""). Only the table of
// the selected provider is checked.
func (c *Config) Validate() error {
	if c.Provider == "" {
		c.Provider = ProviderNone
	}
	if c.Events == nil {
		c.Events = slices.Clone(EventKinds)
	}
	setDefault(&c.ReconnectMin, DefaultReconnectMin)
	setDefault(&c.ReconnectMax, DefaultReconnectMax)
	setDefault(&c.ProbeInterval, DefaultProbeInterval)
	setDefault(&c.MaxBatch, DefaultMaxBatch)
	setDefault(&c.Sandbox.Buffer, 4096)
	setDefault(&c.Google.Streams, 2)
	setDefault(&c.Google.MaxOutstanding, 1000)
	setDefault(&c.Google.EmulatorHost, os.Getenv("PUBSUB_EMULATOR_HOST"))
	setDefault(&c.AWS.WaitTime, 20*time.Second)
	setDefault(&c.AWS.MaxMessages, 10)
	setDefault(&c.Azure.MaxMessages, 100)
	setDefault(&c.Oracle.Group, "svgateway")
	setDefault(&c.Oracle.StartOffset, "latest")
	setDefault(&c.Oracle.MaxRecords, 500)
	c.streamDefaults()

	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("feed.%s: "+format, append([]any{key}, args...)...))
	}
	if c.Provider == ProviderPrivate {
		bad("provider", `%q (the Subscriptions API's PRIVATE channel) is not supported: the API reference says to contact Equinix for it and documents nothing to build against; use one of %s`,
			c.Provider, strings.Join(Providers, ", "))
	} else if !slices.Contains(Providers, c.Provider) {
		bad("provider", "%q is not one of %s", c.Provider, strings.Join(Providers, ", "))
	}
	for i, e := range c.Events {
		if !slices.Contains(EventKinds, strings.ToLower(e)) {
			bad(fmt.Sprintf("events[%d]", i), "%q is not one of %s", e, strings.Join(EventKinds, ", "))
		}
		c.Events[i] = strings.ToLower(e)
	}
	for i, ibx := range c.IBXs {
		if strings.TrimSpace(ibx) == "" {
			bad(fmt.Sprintf("ibxs[%d]", i), "empty IBX code")
		}
	}
	switch {
	case c.ReconnectMin < 10*time.Millisecond:
		bad("reconnect_min", "%v is below the minimum of 10ms", c.ReconnectMin)
	case c.ReconnectMax < c.ReconnectMin:
		bad("reconnect_max", "%v is shorter than feed.reconnect_min (%v)", c.ReconnectMax, c.ReconnectMin)
	}
	if c.ProbeInterval < 100*time.Millisecond {
		bad("probe_interval", "%v is below the minimum of 100ms", c.ProbeInterval)
	}
	if c.MaxBatch < 1 || c.MaxBatch > 1<<16 {
		bad("max_batch", "%d is not between 1 and 65536", c.MaxBatch)
	}
	if c.Sandbox.Buffer < 1 || c.Sandbox.Buffer > 1<<16 {
		bad("sandbox.buffer", "%d is not between 1 and 65536", c.Sandbox.Buffer)
	}

	google := c.Provider == ProviderGoogle || (c.Provider == ProviderSandbox && c.Sandbox.PubSubTopic != "")
	if c.Provider == ProviderSandbox && c.Sandbox.PubSubTopic != "" {
		if !googleTopicName.MatchString(c.Sandbox.PubSubTopic) {
			bad("sandbox.pubsub_topic", "%q is not projects/PROJECT/topics/NAME", c.Sandbox.PubSubTopic)
		}
		if c.Google.EmulatorHost == "" {
			// Never publish simulated data to a real Pub/Sub project.
			bad("sandbox.pubsub_topic", "needs feed.google.emulator_host (or PUBSUB_EMULATOR_HOST): the sandbox publishes only to an emulator")
		}
	}
	if google {
		g := &c.Google
		if g.Subscription != "" && !googleSubscriptionName.MatchString(g.Subscription) {
			bad("google.subscription", "%q is not projects/PROJECT/subscriptions/NAME", g.Subscription)
		}
		if g.Streams < 1 || g.Streams > 16 {
			bad("google.streams", "%d is not between 1 and 16", g.Streams)
		}
		if g.MaxOutstanding < 1 {
			bad("google.max_outstanding", "%d must be positive", g.MaxOutstanding)
		}
		if g.CredentialsFile != "" && g.EmulatorHost == "" {
			if _, err := os.Stat(g.CredentialsFile); err != nil {
				bad("google.credentials_file", "%v", err)
			}
		}
		if c.Provider == ProviderGoogle && !c.Manage() && g.Subscription == "" {
			bad("google.subscription", "required when feed.manage_subscription is false")
		}
	}
	if c.Provider == ProviderAWS {
		a := &c.AWS
		if a.QueueURL == "" && !c.Manage() {
			bad("aws.queue_url", "required when feed.manage_subscription is false")
		}
		if a.QueueURL != "" {
			if msg := smartview.CheckHTTPURL(a.QueueURL); msg != "" {
				bad("aws.queue_url", "%s", msg)
			}
			if a.Region == "" {
				a.Region = RegionOfQueue(a.QueueURL)
			}
		}
		setDefault(&a.Region, os.Getenv("AWS_REGION"))
		if a.Region == "" {
			bad("aws.region", "required (or AWS_REGION) when the queue URL does not name it")
		}
		if a.Endpoint != "" {
			if msg := smartview.CheckHTTPURL(a.Endpoint); msg != "" {
				bad("aws.endpoint", "%s", msg)
			}
		}
		if a.WaitTime < time.Second || a.WaitTime > 20*time.Second {
			bad("aws.wait_time", "%v is not between 1s and 20s", a.WaitTime)
		}
		if a.VisibilityTimeout < 0 || a.VisibilityTimeout > 12*time.Hour {
			bad("aws.visibility_timeout", "%v is not between 0 and 12h", a.VisibilityTimeout)
		}
		if a.MaxMessages < 1 || a.MaxMessages > 10 {
			bad("aws.max_messages", "%d is not between 1 and 10", a.MaxMessages)
		}
	}
	if c.Provider == ProviderAzure {
		z := &c.Azure
		if z.ConnectionString == "" {
			bad("azure.connection_string", `required (write it as "env:NAME" or "file:/path")`)
		} else if !strings.Contains(z.ConnectionString, "Endpoint=") {
			bad("azure.connection_string", "has no Endpoint=")
		}
		if (z.Topic == "") != (z.Subscription == "") {
			bad("azure.topic", "azure.topic and azure.subscription go together")
		}
		if z.Topic == "" && !c.Manage() {
			bad("azure.topic", "required when feed.manage_subscription is false")
		}
		if z.MaxMessages < 1 || z.MaxMessages > 5000 {
			bad("azure.max_messages", "%d is not between 1 and 5000", z.MaxMessages)
		}
	}
	if c.Provider == ProviderOracle {
		c.Oracle.validate(c.Manage(), bad)
	}
	if IsStream(c.Provider) {
		c.validateStream(bad)
	}
	return errors.Join(errs...)
}

func (o *OracleConfig) validate(managed bool, bad func(key, format string, args ...any)) {
	if len(o.BootstrapServers) == 0 {
		bad("oracle.bootstrap_servers", "required: the stream pool's Kafka endpoints, host:port")
	}
	for i, hp := range o.BootstrapServers {
		if host, port, err := net.SplitHostPort(hp); err != nil || host == "" || port == "" {
			bad(fmt.Sprintf("oracle.bootstrap_servers[%d]", i), "%q is not host:port", hp)
		}
	}
	if o.Stream != "" && !StreamName.MatchString(o.Stream) {
		bad("oracle.stream", "%q is not a stream name (letters, digits, '.', '_', '-'; at most 249)", o.Stream)
	}
	if o.Stream == "" && !managed {
		bad("oracle.stream", "required when feed.manage_subscription is false")
	}
	if strings.TrimSpace(o.Group) == "" {
		bad("oracle.group", "empty consumer group")
	}
	if o.User == "" {
		bad("oracle.user", `required: the SASL/PLAIN user "TENANCY/USER/STREAM_POOL_OCID"`)
	}
	if o.AuthToken == "" {
		bad("oracle.auth_token", `required (a secret: write it as "env:NAME" or "file:/path")`)
	}
	if o.CAFile != "" {
		if b, err := os.ReadFile(o.CAFile); err != nil {
			bad("oracle.ca_file", "%v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(b) {
			bad("oracle.ca_file", "%s holds no PEM certificate", o.CAFile)
		}
	}
	if o.StartOffset != "latest" && o.StartOffset != "earliest" {
		bad("oracle.start_offset", `%q is not "latest" or "earliest"`, o.StartOffset)
	}
	if o.MaxRecords < 1 || o.MaxRecords > 10000 {
		bad("oracle.max_records", "%d is not between 1 and 10000", o.MaxRecords)
	}
}

// RegionOfQueue reads the region from an https://sqs.REGION.amazonaws.com/… URL.
func RegionOfQueue(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 4 && parts[0] == "sqs" && parts[2] == "amazonaws" {
		return parts[1]
	}
	return ""
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
