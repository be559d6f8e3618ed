// Command nodesetgen writes nodeset/SmartView.NodeSet2.xml, the NodeSet2
// file of the SmartView information model, from the types the OPC UA front
// end serves (opcua.TypesNodeSet). It is a build-time tool: nothing in the
// gateway runs it. Usage (see the go:generate line in
// opcua/nodes_model_nodeset.go):
//
//	go run ./internal/nodesetgen -o ../nodeset/SmartView.NodeSet2.xml
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/svgateway/svgateway/internal/atomicfile"
	"github.com/svgateway/svgateway/nodeset"
	"github.com/svgateway/svgateway/opcua"
)

func main() {
	out := flag.String("o", "", "the NodeSet2 file to write")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: nodesetgen -o FILE")
		os.Exit(2)
	}
	var b bytes.Buffer
	if err := nodeset.Write(&b, opcua.TypesNodeSet()); err != nil {
		fmt.Fprintf(os.Stderr, "nodesetgen: %v\n", err)
		os.Exit(1)
	}
	if err := atomicfile.Write(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "nodesetgen: %v\n", err)
		os.Exit(1)
	}
}
