package snmp

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMIBLint runs smilint -l 6 on the MIB: no message of severity 0 to 3
// (errors). smilint exits 0 even on errors, so its output is what counts.
func TestMIBLint(t *testing.T) {
	smilint := needTool(t, "smilint")
	mib := filepath.Join(mibDir(t), "SVGATEWAY-MIB.txt")
	cmd := exec.Command(smilint, "-l", "6", "-s", "-m", mib)
	cmd.Env = append(os.Environ(), "SMIPATH="+mibDir(t)+":"+baseMIBs(t))
	out, _ := cmd.CombinedOutput()
	msgs := lines(string(out))
	for _, m := range msgs {
		if regexp.MustCompile(`\[[0-3]\]`).MatchString(m) {
			t.Errorf("smilint: %s", m)
		}
	}
	t.Logf("smilint -l 6: %d messages", len(msgs))
	if len(msgs) > 0 {
		t.Logf("%s", out)
	}
}

// TestMIBTranslate loads the MIB with net-snmp (a MIB parser other than
// the libsmi the Go definitions are generated with): every object and
// notification the Go code knows has the same OID there, and loading it
// prints nothing on stderr.
func TestMIBTranslate(t *testing.T) {
	mods := "SVGATEWAY-MIB:SNMPv2-MIB:SNMP-FRAMEWORK-MIB:SNMP-MPD-MIB:SNMP-TARGET-MIB:SNMP-USER-BASED-SM-MIB"
	out, stderr, err := netsnmp(t, "snmptranslate", "-M", mibDir(t)+":"+baseMIBs(t), "-m", mods, "-Tz", "-On")
	if err != nil || stderr != "" {
		t.Fatalf("snmptranslate: %v\n%s", err, stderr)
	}
	oids := map[string]string{}
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) == 2 {
			oids[strings.Trim(f[0], `"`)] = strings.Trim(f[1], `"`)
		}
	}
	n := 0
	for _, o := range Objects() {
		if got := oids[o.Name]; got != o.OID.String() {
			t.Errorf("%s::%s: net-snmp has %q, Go has %s", o.Module, o.Name, got, o.OID)
		}
		n++
	}
	for _, nt := range Notifications() {
		if got := oids[nt.Name]; got != nt.OID.String() {
			t.Errorf("%s: net-snmp has %q, Go has %s", nt.Name, got, nt.OID)
		}
		n++
	}
	if got := oids["svgatewayMIB"]; got != RootOID().String() {
		t.Errorf("svgatewayMIB: net-snmp has %q, Go has %s", got, RootOID())
	}
	t.Logf("%d objects and notifications agree", n)
}

// TestGeneratedDefinitionsCurrent regenerates mib_gen.go from the MIB and
// fails when the committed file differs: run go generate ./snmp.
func TestGeneratedDefinitionsCurrent(t *testing.T) {
	needTool(t, "smidump")
	goTool := needTool(t, "go")
	out := filepath.Join(t.TempDir(), "mib_gen.go")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "run", "./internal/mibgen", "-mib", filepath.Join(mibDir(t), "SVGATEWAY-MIB.txt"), "-base", baseMIBs(t), "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mibgen: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("mib_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Error("mib_gen.go is out of date with mibs/SVGATEWAY-MIB.txt: run go generate ./snmp")
	}
}
