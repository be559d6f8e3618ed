// This file starts Debian's mosquitto for the AWS_IOT_CORE tests: MQTT
// over TLS on loopback, every client authenticated by a certificate of the
// test's CA (require_certificate), as AWS IoT Core authenticates devices.

package feedtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
)

// MosquittoPath finds Debian's mosquitto broker.
func MosquittoPath() (string, error) {
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("mosquitto (Debian package mosquitto; test/run.sh installs it): %w", ErrMissing)
}

// StartMosquitto starts mosquitto on 127.0.0.1 with TLS (a server
// certificate of pki) and require_certificate: only clients with a
// certificate of pki's CA connect. The broker is stopped when the test ends.
func StartMosquitto(t testing.TB, pki *PKI) (*Process, error) {
	t.Helper()
	bin, err := MosquittoPath()
	if err != nil {
		return nil, err
	}
	port, err := svctest.FreePort("tcp")
	if err != nil {
		return nil, err
	}
	cert, key := pki.Server(t, "mosquitto")
	conf := filepath.Join(pki.Dir, "mosquitto.conf")
	// Run as root, mosquitto would switch to the "mosquitto" user, who cannot
	// read the test's files: it stays the user that runs the test.
	me, err := user.Current()
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf(`user %s
per_listener_settings false
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
require_certificate true
use_identity_as_username true
allow_anonymous false
`, me.Username, port, pki.CAFile, cert, key)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := start("mosquitto", addr, exec.Command(bin, "-c", conf), 20*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if p != nil {
		t.Cleanup(p.Stop)
	}
	return p, err
}

// Tool finds a tool a test runs (curl, snmptrapd …): a missing one skips
// the test, or fails it when SVGATEWAY_E2E=1.
func Tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Require(t, nil, fmt.Errorf("%s (Debian package %s; test/run.sh installs it): %w", name, debianPackage, ErrMissing))
	}
	return p
}
