package main

// FuzzLoadConfig is the TOML configuration loader's fuzz target (the
// decoder is BurntSushi/toml; the key locator, bare-duration walk, secret
// resolution and validation are ours). test/fuzz-campaign.sh runs it for a
// stated time; crashes are kept under testdata/fuzz as regression inputs.

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzLoadConfig: any file loads or fails with located errors: never a
// panic, every error a *ConfigError, every line within the file.
func FuzzLoadConfig(f *testing.F) {
	for _, name := range []string{"../../gateway.toml", "../../packaging/gateway.toml"} {
		if b, err := os.ReadFile(name); err == nil {
			// Without the lines naming files (see below).
			var keep [][]byte
			for _, l := range bytes.Split(b, []byte("\n")) {
				if !bytes.Contains(l, []byte("file")) {
					keep = append(keep, l)
				}
			}
			f.Add(bytes.Join(keep, []byte("\n")))
		}
	}
	f.Add([]byte("state_dir = \"x\"\n[sync]\nvalues_interval = 30\n[[snmp.communities]]\nname = \"c\"\n"))
	f.Add([]byte("state_dir = \"x\"\n[sandbox]\nenabled = false\n[smartview]\nclient_id = \"id\"\n[opcua]\nsecurity = [\"None\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Keys naming files ("file:" secrets, web_config_file, ca_file,
		// credentials_file) would have the loader read whatever the
		// fuzzer names, /dev/zero included: not the loader's input.
		if bytes.Contains(data, []byte("file")) {
			return
		}
		_, err := loadConfig("gateway.toml", data)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range unjoin(err) {
			var ce *ConfigError
			if !errors.As(e, &ce) {
				t.Fatalf("error %q (%T) is not a *ConfigError", e, e)
			}
			if ce.Line < 0 || ce.Line > lines {
				t.Fatalf("error %q located at line %d of %d", e, ce.Line, lines)
			}
		}
	})
}
