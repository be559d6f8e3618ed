package e2e

// The release artefacts as an operator gets them: packaging/release.sh
// builds the static binary and the .deb; the .deb is inspected (dpkg-deb,
// lintian), its systemd unit verified (systemd-analyze), and it is
// installed into a scratch root whose binary checks the shipped
// configuration and runs with its version stamped everywhere.

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const releaseVersion = "9.9.9~test1"

// run runs a command (bounded) and returns its combined output.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestReleaseDeb(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "lintian", "systemd-analyze", "sha256sum", "snmpget"} {
		requireTool(t, tool)
	}
	root, _ := filepath.Abs("..")
	dist := t.TempDir()
	out, err := run(t, root, []string{"DIST=" + dist, "ARCHES=amd64", "SOURCE_DATE_EPOCH=1780000000"}, "packaging/release.sh", releaseVersion)
	if err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "svgateway_"+releaseVersion+"_linux_amd64")
	deb := filepath.Join(dist, "svgateway_"+releaseVersion+"_amd64.deb")

	// Checksums of every artefact.
	if out, err := run(t, dist, nil, "sha256sum", "-c", "SHA256SUMS"); err != nil || strings.Count(out, ": OK") != 2 {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
	// Static: no program interpreter.
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the release binary is dynamically linked")
		}
	}
	f.Close()
	if out, _ := run(t, dist, nil, bin, "--version"); !strings.HasPrefix(out, "svgateway "+releaseVersion+" (built 2026-05-28T20:26:40Z, go") {
		t.Errorf("--version: %q", out)
	}

	// What the .deb holds.
	contents, err := run(t, dist, nil, "dpkg-deb", "-c", deb)
	if err != nil {
		t.Fatal(contents)
	}
	for _, want := range []string{"./usr/bin/svgateway", "./etc/svgateway/gateway.toml",
		"./lib/systemd/system/svgateway.service", "./usr/share/snmp/mibs/SVGATEWAY-MIB.txt",
		"./usr/share/doc/svgateway/copyright", "./usr/share/doc/svgateway/contrib/prometheus/svgateway.rules.yml",
		"./usr/share/doc/svgateway/contrib/grafana/svgateway.json"} {
		if !regexp.MustCompile(`(?m) ` + regexp.QuoteMeta(want) + `$`).MatchString(contents) {
			t.Errorf("the .deb has no %s:\n%s", want, contents)
		}
	}
	info, _ := run(t, dist, nil, "dpkg-deb", "-I", deb)
	for _, want := range []string{"Package: svgateway", "Version: " + releaseVersion, "Architecture: amd64"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I: no %q in\n%s", want, info)
		}
	}
	ctrl := t.TempDir()
	if out, err := run(t, dist, nil, "dpkg-deb", "-e", deb, ctrl); err != nil {
		t.Fatal(out)
	}
	if b, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); strings.TrimSpace(string(b)) != "/etc/svgateway/gateway.toml" {
		t.Errorf("conffiles: %q, want /etc/svgateway/gateway.toml", b)
	}

	// lintian: no error. Accepted, with the reason: a Go binary is static by
	// design (statically-linked-binary), and a daemon configured by a
	// conffile has its documentation in README (no-manual-page).
	lint, _ := run(t, dist, nil, "lintian", "--tag-display-limit", "0", "--suppress-tags",
		"statically-linked-binary,no-manual-page,binary-without-manpage", deb)
	t.Logf("lintian:\n%s", lint)
	if regexp.MustCompile(`(?m)^E: `).MatchString(lint) {
		t.Errorf("lintian errors:\n%s", lint)
	}

	// Installed into a scratch root.
	scratch := t.TempDir()
	if out, err := run(t, dist, nil, "dpkg-deb", "-x", deb, scratch); err != nil {
		t.Fatal(out)
	}
	unit := filepath.Join(scratch, "lib/systemd/system/svgateway.service")
	unitText, _ := os.ReadFile(unit)
	// systemd-analyze verify checks the unit's keys and that its commands
	// exist: the copy it checks runs the scratch root's binary.
	verify := filepath.Join(t.TempDir(), "svgateway.service")
	os.WriteFile(verify, bytes.ReplaceAll(unitText, []byte("/usr/bin/svgateway"), []byte(filepath.Join(scratch, "usr/bin/svgateway"))), 0o644)
	if out, err := run(t, dist, nil, "systemd-analyze", "verify", verify); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	for _, want := range []string{"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "DynamicUser=yes", "StateDirectory=svgateway",
		"LoadCredential=", "ExecStartPre=/usr/bin/svgateway -config /etc/svgateway/gateway.toml check-config",
		"ProtectSystem=strict", "NoNewPrivileges=yes"} {
		if !strings.Contains(string(unitText), want) {
			t.Errorf("unit has no %s", want)
		}
	}
	// check-config on the shipped configuration, with the credentials
	// systemd would provide.
	installed := filepath.Join(scratch, "usr/bin/svgateway")
	creds := t.TempDir()
	hash, err := run(t, dist, nil, "sh", "-c", "echo operator-pass | "+installed+" hash-password")
	if err != nil {
		t.Fatal(hash)
	}
	for name, secret := range map[string]string{"smartview-client-secret": "s3cret", "snmp-community": "c0mmunity", "opcua-operator-hash": hash} {
		os.WriteFile(filepath.Join(creds, name), []byte(secret), 0o600)
	}
	conf := filepath.Join(scratch, "etc/svgateway/gateway.toml")
	out, err = run(t, dist, []string{"CREDENTIALS_DIRECTORY=" + creds}, installed, "-config", conf, "check-config")
	switch {
	case strings.Contains(out, "s3cret"):
		t.Errorf("check-config of the shipped configuration shows the secret:\n%s", out)
	case err == nil && strings.Contains(out, "ok") && strings.Contains(out, "mode: live"):
	case err != nil && onlyBindErrors(out):
		// A gateway running on this machine holds the shipped ports, and
		// check-config says so, located; the rest of the file is valid.
	default:
		t.Errorf("check-config of the shipped configuration: %v\n%s", err, out)
	}
	// Without the credentials it says which is missing.
	out, err = run(t, dist, nil, installed, "-config", conf, "check-config")
	if err == nil || !strings.Contains(out, "smartview.client_secret: CREDENTIALS_DIRECTORY is not set") {
		t.Errorf("check-config without credentials: %v\n%s", err, out)
	}
	if mib, _ := os.ReadFile(filepath.Join(scratch, "usr/share/snmp/mibs/SVGATEWAY-MIB.txt")); !bytes.Contains(mib, []byte("SVGATEWAY-MIB DEFINITIONS ::= BEGIN")) {
		t.Error("the installed MIB is not SVGATEWAY-MIB")
	}

	// The installed binary runs with its version in svgateway_build_info,
	// the SNMP sysDescr and the OPC UA BuildInfo.
	port := freePort(t, "udp")
	opcPort := freePort(t, "tcp")
	g := StartGateway(t, GatewayOptions{Binary: installed, Extra: fmt.Sprintf(`[snmp]
listen = "127.0.0.1:%d"
[[snmp.communities]]
name = "public"
[opcua]
endpoint = "opc.tcp://127.0.0.1:%d"
security = ["None"]
allow_anonymous = true
`, port, opcPort)})
	if m := string(g.Get("/metrics")); !strings.Contains(m, `svgateway_build_info{build_date="2026-05-28T20:26:40Z",goversion="go`) ||
		!strings.Contains(m, `version="`+releaseVersion+`"} 1`) {
		t.Errorf("svgateway_build_info: %s", regexp.MustCompile(`(?m)^svgateway_build_info.*$`).FindString(m))
	}
	descr, err := snmpTool(t, "snmpget", "-v2c", "-c", "public", "-Ovq", fmt.Sprintf("udp:127.0.0.1:%d", port), "SNMPv2-MIB::sysDescr.0")
	if err != nil || !strings.Contains(descr, "svgateway "+releaseVersion) {
		t.Errorf("sysDescr: %q %v", descr, err)
	}
	lines, _, stderr := nodeScript(t, "client.js", "--url", fmt.Sprintf("opc.tcp://127.0.0.1:%d", opcPort), "--pki", t.TempDir(),
		"--step", "read=ns=0;i=2264,ns=0;i=2266")
	var build string
	for _, l := range lines {
		if l["step"] == "read" {
			build = fmt.Sprint(l["results"])
		}
	}
	if !strings.Contains(build, releaseVersion) || !strings.Contains(build, "2026-05-28T20:26:40") {
		t.Errorf("OPC UA BuildInfo SoftwareVersion and BuildDate: %s %s", build, stderr)
	}
}

// onlyBindErrors reports whether check-config's output is an invalid
// configuration whose every error is a listener's located "address already
// in use".
func onlyBindErrors(out string) bool {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], "invalid configuration") {
		return false
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "gateway.toml:") || !strings.Contains(l, "cannot listen on") || !strings.Contains(l, "address already in use") {
			return false
		}
	}
	return true
}
