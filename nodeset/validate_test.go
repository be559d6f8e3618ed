package nodeset

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// need returns the path of an external tool, skipping the test when it is
// missing, or failing it when SVGATEWAY_E2E=1 says every tool must be there.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("SVGATEWAY_E2E") == "1" {
			t.Fatalf("%s is required (SVGATEWAY_E2E=1): %v", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
	return p
}

// TestSchemaValid validates both NodeSet2 files against the OPC Foundation's
// UANodeSet.xsd with xmllint (Debian libxml2-utils).
func TestSchemaValid(t *testing.T) {
	xmllint := need(t, "xmllint")
	for _, f := range []string{"SmartView.NodeSet2.xml", "Opc.Ua.Subset.NodeSet2.xml"} {
		out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/UANodeSet.xsd", f).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "validates") {
			t.Errorf("xmllint %s: %v\n%s", f, err, out)
		}
	}
	// and the schema check is real: a node without its NodeId does not validate
	bad := filepath.Join(t.TempDir(), "bad.xml")
	doc, _ := os.ReadFile("SmartView.NodeSet2.xml")
	os.WriteFile(bad, []byte(strings.Replace(string(doc), `<UAObjectType NodeId="ns=1;i=1002"`, `<UAObjectType`, 1)), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/UANodeSet.xsd", bad).CombinedOutput(); err == nil {
		t.Errorf("xmllint accepted a UAObjectType without NodeId:\n%s", out)
	}
}

// TestNodeOPCUALoads loads the SmartView model into node-opcua's address
// space (with node-opcua's own standard nodeset) and checks that every
// reference, type definition and data type resolves.
func TestNodeOPCUALoads(t *testing.T) {
	node := need(t, "node")
	if _, err := os.Stat("../test/node_modules/node-opcua"); err != nil {
		if os.Getenv("SVGATEWAY_E2E") == "1" {
			t.Fatal("test/node_modules/node-opcua missing: run npm ci in test/ (test/run.sh does)")
		}
		t.Skip("node-opcua not installed in test/node_modules")
	}
	run := func(file string) (string, error) {
		cmd := exec.Command(node, "opcua/load-nodeset.js", file)
		cmd.Dir = "../test"
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	abs, _ := filepath.Abs("SmartView.NodeSet2.xml")
	if out, err := run(abs); err != nil || !strings.Contains(out, "ok nodes=") {
		t.Fatalf("node-opcua does not load SmartView.NodeSet2.xml: %v\n%s", err, out)
	}
	// the loader check is real: a dangling data type is refused
	doc, _ := os.ReadFile("SmartView.NodeSet2.xml")
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(strings.ReplaceAll(string(doc), `DataType="Range"`, `DataType="i=99999"`)), 0o644)
	if out, err := run(bad); err == nil {
		t.Errorf("load-nodeset.js accepted a dangling DataType:\n%s", out)
	}
}
