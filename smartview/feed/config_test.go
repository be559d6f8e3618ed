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

func TestConfigSecretNotInErrors(t *testing.T) {
	cfg := Config{Provider: ProviderAzure, Azure: AzureConfig{ConnectionString: "SharedAccessKey=very-secret"}}
	err := cfg.Validate()
	if err == nil || strings.Contains(err.Error(), "very-secret") {
		t.Errorf("error %v", err)
	}
}
