package opcua

import (
	"github.com/gopcua/opcua/id"
)

// Server/Namespaces (Part 5, 6.3.14) holds one NamespaceMetadataType object
// per namespace with nodes: namespace 0's comes from the standard subset,
// the SmartView types' from nodeset/SmartView.NodeSet2.xml and the
// instances' from instancesMetadata (both written by namespaceMetadata).
// Their values are static, except that namespace 0 is served as a subset of
// the standard.

// namespaceBindings override values of the standard subset's metadata.
func namespaceBindings() map[uint32]binding {
	return map[uint32]binding{
		id.OPCUANamespaceMetadata_IsNamespaceSubset: {value: func(*evalCtx, node) sample { return good(variant(true)) }},
	}
}
