package svctest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
)

// ModuleRoot returns the directory holding go.mod, found upwards from the
// working directory (a package's directory under go test). It returns an
// error rather than failing a test: TestMain has no testing.TB.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 20 { // bounded: no repository is that deep
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("svctest: go.mod not found above the working directory")
}

// FreePort returns a loopback port ("tcp" or "udp") that was free a moment
// ago.
func FreePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
