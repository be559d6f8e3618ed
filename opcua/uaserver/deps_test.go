package uaserver

import (
	"os/exec"
	"strings"
	"testing"
)

// The protocol server knows nothing of what it serves: the gateway's model
// and its NodeSet stay behind the Services interface. This keeps the seam a
// package boundary that no import can cross unnoticed.
func TestImportsNeitherModelNorNodeset(t *testing.T) {
	const module = "github.com/svgateway/svgateway/"
	forbidden := []string{module + "model", module + "nodeset", module + "opcua"}
	for _, args := range [][]string{
		{"list", "-deps", "."},          // the package
		{"list", "-deps", "-test", "."}, // and its tests
	} {
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			dep, _, _ := strings.Cut(line, " ") // "pkg [pkg.test]" for a test variant
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") && !strings.HasPrefix(dep, module+"opcua/uaserver") {
					t.Errorf("go %s: opcua/uaserver depends on %s", strings.Join(args, " "), dep)
				}
			}
		}
	}
}
