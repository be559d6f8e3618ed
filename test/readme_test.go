package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMEByNameWalk runs the README's by-name walk and table commands
// (section SNMP) as written, against a gateway on another port.
func TestREADMEByNameWalk(t *testing.T) {
	requireTool(t, "snmpbulkwalk")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := regexp.MustCompile(`(?m)^(snmpbulkwalk|snmptable) +-v2c -c public -M \+mibs:test/\.cache/base-mibs .*$`).FindAllString(string(readme), -1)
	if len(cmds) != 2 {
		t.Fatalf("README has %d by-name commands, want the walk and the table: %q", len(cmds), cmds)
	}
	port := freePort(t, "udp")
	StartGateway(t, GatewayOptions{Extra: fmt.Sprintf("[snmp]\nlisten = \"127.0.0.1:%d\"\n[[snmp.communities]]\nname = \"public\"\n", port)})
	root, _ := filepath.Abs("..")
	base := baseMIBs(t)
	for i, want := range []string{"SVGATEWAY-MIB::svgUpstreamState.0 = INTEGER: ok(2)", "CH1.Gen-1:fuelhours"} {
		line := strings.Replace(cmds[i], "127.0.0.1:1161", fmt.Sprintf("127.0.0.1:%d", port), 1)
		line = strings.Replace(line, "test/.cache/base-mibs", base, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "sh", "-c", line)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS=", "SNMPCONFPATH="+t.TempDir(), "SNMP_PERSISTENT_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "Cannot find module") {
			t.Errorf("%s: %v\n%.2000s", line, err, out)
		}
	}
}
