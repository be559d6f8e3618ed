package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const liveConfig = `state_dir = "/tmp/x"
[sandbox]
enabled = false
[smartview]
client_id = "id"
client_secret = "secret"
account_no = "1"
ibxs = ["CH1", "SV4"]
`

func TestFeedConfigDefaultsByMode(t *testing.T) {
	cfg, err := loadConfig("gateway.toml", []byte("state_dir = \"x\"\n[sandbox]\nenabled = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Feed.Provider != "sandbox" || !cfg.Feed.Manage() || len(cfg.Feed.Events) != 5 {
		t.Errorf("sandbox mode feed = %+v", cfg.Feed)
	}
	cfg, err = loadConfig("gateway.toml", []byte(liveConfig))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Feed.Provider != "none" || strings.Join(cfg.Feed.IBXs, ",") != "CH1,SV4" {
		t.Errorf("live mode feed = %+v", cfg.Feed)
	}
}

func TestFeedConfigErrors(t *testing.T) {
	t.Setenv("SB_CONN", "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0;UseDevelopmentEmulator=true")
	t.Setenv("OCI_USER", "tenancy/user/ocid1.streampool.x")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("c2VjcmV0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, toml string
		want       []string
	}{
		{"sandbox provider in live mode", liveConfig + "[feed]\nprovider = \"sandbox\"\n", []string{"gateway.toml:10:", "feed.provider", "[sandbox] enabled"}},
		{"unknown provider", liveConfig + "[feed]\nprovider = \"kafka\"\n", []string{"gateway.toml:10:", `feed.provider: "kafka"`}},
		{"aws without a region", liveConfig + "[feed]\nprovider = \"aws\"\n[feed.aws]\nqueue_url = \"http://127.0.0.1:9324/1/q\"\n", []string{"gateway.toml:11:", "feed.aws.region"}},
		{"azure with the connection string from env", liveConfig + "[feed]\nprovider = \"azure\"\n[feed.azure]\nconnection_string = \"env:SB_CONN\"\n", nil},
		{"azure connection string env unset", liveConfig + "[feed]\nprovider = \"azure\"\n[feed.azure]\nconnection_string = \"env:SB_CONN_UNSET\"\n", []string{"feed.azure.connection_string: environment variable SB_CONN_UNSET is not set"}},
		{"oracle with the token from a file", liveConfig + "[feed]\nprovider = \"oracle\"\n[feed.oracle]\nbootstrap_servers = [\"127.0.0.1:9092\"]\nuser = \"env:OCI_USER\"\nauth_token = \"file:" + tokenFile + "\"\n", nil},
		{"oracle token env unset", liveConfig + "[feed]\nprovider = \"oracle\"\n[feed.oracle]\nbootstrap_servers = [\"127.0.0.1:9092\"]\nuser = \"env:OCI_USER\"\nauth_token = \"env:OCI_TOKEN_UNSET\"\n", []string{"feed.oracle.auth_token: environment variable OCI_TOKEN_UNSET is not set"}},
		{"private", liveConfig + "[feed]\nprovider = \"private\"\n", []string{"gateway.toml:10:", `feed.provider: "private"`, "not supported", "contact Equinix"}},
		{"unknown feed key", liveConfig + "[feed]\nprovider = \"google\"\nsubscription = \"x\"\n", []string{"gateway.toml:11:", "feed.subscription: unknown key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig("gateway.toml", []byte(tc.toml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("a secret in the error: %v", err)
			}
		})
	}
}
