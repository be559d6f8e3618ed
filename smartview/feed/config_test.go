package feed

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	no := false
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" valid; else a substring of the error
	}{
		{"defaults", Config{}, ""},
		{"unknown provider", Config{Provider: "kafka"}, `feed.provider: "kafka" is not one of`},
		{"bad event kind", Config{Events: []string{"power", "door"}}, `feed.events[1]: "door"`},
		{"reconnect", Config{ReconnectMin: time.Second, ReconnectMax: time.Millisecond * 500}, "feed.reconnect_max"},
		{"google defaults", Config{Provider: ProviderGoogle}, ""},
		{"google bad subscription", Config{Provider: ProviderGoogle, Google: GoogleConfig{Subscription: "subs/x"}}, "feed.google.subscription"},
		{"google unmanaged needs a subscription", Config{Provider: ProviderGoogle, ManageSubscription: &no}, "feed.google.subscription: required"},
		{"google missing credentials file", Config{Provider: ProviderGoogle, Google: GoogleConfig{CredentialsFile: "/nonexistent/key.json"}}, "feed.google.credentials_file"},
		{"aws region from URL", Config{Provider: ProviderAWS, AWS: AWSConfig{QueueURL: "https://sqs.eu-west-1.amazonaws.com/123/q"}}, ""},
		{"aws no region", Config{Provider: ProviderAWS, AWS: AWSConfig{QueueURL: "http://127.0.0.1:9324/123/q"}}, "feed.aws.region"},
		{"aws wait", Config{Provider: ProviderAWS, AWS: AWSConfig{QueueURL: "http://h/1/q", Region: "x", WaitTime: time.Minute}}, "feed.aws.wait_time"},
		{"aws max", Config{Provider: ProviderAWS, AWS: AWSConfig{QueueURL: "http://h/1/q", Region: "x", MaxMessages: 11}}, "feed.aws.max_messages"},
		{"azure needs a connection string", Config{Provider: ProviderAzure}, "feed.azure.connection_string: required"},
		{"azure topic alone", Config{Provider: ProviderAzure, Azure: AzureConfig{ConnectionString: "Endpoint=sb://h/;SharedAccessKey=s", Topic: "t"}}, "feed.azure.topic"},
		{"oracle", Config{Provider: ProviderOracle, Oracle: oracleOK}, ""},
		{"oracle needs brokers", Config{Provider: ProviderOracle, Oracle: OracleConfig{User: "t/u/p", AuthToken: "x"}}, "feed.oracle.bootstrap_servers: required"},
		{"oracle broker without a port", Config{Provider: ProviderOracle, Oracle: OracleConfig{BootstrapServers: []string{"cell-1"}, User: "t/u/p", AuthToken: "x"}}, "feed.oracle.bootstrap_servers[0]"},
		{"oracle needs a token", Config{Provider: ProviderOracle, Oracle: OracleConfig{BootstrapServers: []string{"h:9092"}, User: "t/u/p"}}, "feed.oracle.auth_token: required"},
		{"oracle needs a user", Config{Provider: ProviderOracle, Oracle: OracleConfig{BootstrapServers: []string{"h:9092"}, AuthToken: "x"}}, "feed.oracle.user: required"},
		{"oracle bad stream", Config{Provider: ProviderOracle, Oracle: with(func(o *OracleConfig) { o.Stream = "a/b" })}, "feed.oracle.stream"},
		{"oracle unmanaged needs a stream", Config{Provider: ProviderOracle, ManageSubscription: &no, Oracle: oracleOK}, "feed.oracle.stream: required"},
		{"oracle start", Config{Provider: ProviderOracle, Oracle: with(func(o *OracleConfig) { o.StartOffset = "beginning" })}, "feed.oracle.start_offset"},
		{"oracle missing CA file", Config{Provider: ProviderOracle, Oracle: with(func(o *OracleConfig) { o.CAFile = "/nonexistent/ca.pem" })}, "feed.oracle.ca_file"},
		{"oracle CA file not PEM", Config{Provider: ProviderOracle, Oracle: with(func(o *OracleConfig) { o.CAFile = "testdata/not-a-ca.pem" })}, "feed.oracle.ca_file: testdata/not-a-ca.pem holds no PEM certificate"},
		{"oracle max records", Config{Provider: ProviderOracle, Oracle: with(func(o *OracleConfig) { o.MaxRecords = 20000 })}, "feed.oracle.max_records"},
		{"private", Config{Provider: ProviderPrivate}, `feed.provider: "private" (the Subscriptions API's PRIVATE channel) is not supported`},
		{"sandbox to a real project", Config{Provider: ProviderSandbox, Sandbox: SandboxConfig{PubSubTopic: "projects/p/topics/t"}}, "needs feed.google.emulator_host"},
		{"sandbox to the emulator", Config{Provider: ProviderSandbox, Sandbox: SandboxConfig{PubSubTopic: "projects/p/topics/t"}, Google: GoogleConfig{EmulatorHost: "127.0.0.1:8085"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PUBSUB_EMULATOR_HOST", "")
			t.Setenv("AWS_REGION", "")
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

var oracleOK = OracleConfig{BootstrapServers: []string{"cell-1.streaming.us-ashburn-1.oci.oraclecloud.com:9092"},
	User: "tenancy/user@example.com/ocid1.streampool.oc1.iad.x", AuthToken: "token"}

func with(change func(*OracleConfig)) OracleConfig {
	o := oracleOK
	change(&o)
	return o
}

func TestOracleDefaults(t *testing.T) {
	cfg := Config{Provider: ProviderOracle, Oracle: oracleOK}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if o := cfg.Oracle; o.Group != "svgateway" || o.StartOffset != "latest" || o.MaxRecords != 500 {
		t.Errorf("defaults %+v", o)
	}
	if APIProvider(ProviderOracle) != "ORACLE" {
		t.Errorf("API provider %q", APIProvider(ProviderOracle))
	}
}

func TestConfigSecretNotInErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Provider: ProviderAzure, Azure: AzureConfig{ConnectionString: "SharedAccessKey=very-secret"}},
		{Provider: ProviderOracle, Oracle: OracleConfig{User: "very-secret-user", AuthToken: "very-secret", StartOffset: "x"}},
	} {
		err := cfg.Validate()
		if err == nil || strings.Contains(err.Error(), "very-secret") {
			t.Errorf("error %v", err)
		}
	}
}
