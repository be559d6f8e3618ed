package opcua

import (
	"bytes"
	"os"
	"testing"

	"github.com/svgateway/svgateway/nodeset"
)

const nodeSetFile = "../nodeset/SmartView.NodeSet2.xml"

// TestNodeSetFile: nodeset/SmartView.NodeSet2.xml is what typeSpecs say.
func TestNodeSetFile(t *testing.T) {
	var b bytes.Buffer
	if err := nodeset.Write(&b, TypesNodeSet()); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(nodeSetFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Fatal("nodeset/SmartView.NodeSet2.xml differs from typeSpecs; run go generate ./...")
	}
	if !bytes.Equal(have, nodeset.SmartViewXML()) {
		t.Fatal("the embedded SmartView.NodeSet2.xml is stale (rebuild)")
	}
}
