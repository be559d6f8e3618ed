package snmp

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/svctest"
	"github.com/svgateway/svgateway/model"
)

// e2e reports whether end-to-end tests must run (test/run.sh sets it):
// then a missing tool fails the test instead of skipping it.
func e2e() bool { return os.Getenv("SVGATEWAY_E2E") == "1" }

// unavailable skips the test when something it needs is missing, or fails
// it with SVGATEWAY_E2E=1 (test/run.sh installs everything).
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if e2e() {
		t.Fatalf(format+" (test/run.sh provides it)", args...)
	}
	t.Skipf(format+"; run test/run.sh", args...)
}

// needTool returns the path of an external tool.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "%s is not installed: %v", name, err)
	}
	return p
}

// baseMIBs returns the directory of the IETF base MIBs test/run.sh unpacks
// (SVGATEWAY_BASE_MIBS, else test/.cache/base-mibs).
func baseMIBs(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SVGATEWAY_BASE_MIBS")
	if dir == "" {
		dir, _ = filepath.Abs("../test/.cache/base-mibs")
	}
	if _, err := os.Stat(filepath.Join(dir, "SNMPv2-SMI.txt")); err != nil {
		unavailable(t, "base MIBs not found in %s: %v", dir, err)
	}
	return dir
}

// mibDir is the project's MIB directory.
func mibDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../mibs")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// netsnmp runs a net-snmp tool with no MIB loaded unless args load one,
// a private persistent directory and a bounded time.
func netsnmp(t testing.TB, tool string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	path := needTool(t, tool)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	persist := t.TempDir()
	os.Mkdir(filepath.Join(persist, "cert_indexes"), 0o755) // else net-snmp says it created it, on stderr
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+persist, "SNMPCONFPATH="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// withMIB returns net-snmp options loading SVGATEWAY-MIB and the base MIBs.
func withMIB(t testing.TB) []string {
	return []string{"-M", mibDir(t) + ":" + baseMIBs(t), "-m", "SVGATEWAY-MIB"}
}

// startAgent runs an agent on 127.0.0.1 (an ephemeral port) until the test
// ends and returns it with its address.
func startAgent(t testing.TB, cfg Config, store *model.Store, deps Deps) (*Agent, string) {
	t.Helper()
	a, addr, _ := runAgent(t, cfg, store, deps)
	return a, addr
}

// runAgent is startAgent with a stop function that returns once Run did
// (also called when the test ends).
func runAgent(t testing.TB, cfg Config, store *model.Store, deps Deps) (*Agent, string, func()) {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	a, err := NewAgent(cfg, store, deps)
	if err != nil {
		t.Fatal(err)
	}
	stop := svctest.Start(t, a.Run)
	<-a.Ready()
	if a.Addr() == nil {
		t.Fatal("agent not listening")
	}
	return a, a.Addr().String(), stop
}

// lines splits tool output into non-empty lines.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}
