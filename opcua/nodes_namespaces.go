package opcua

import (
	"github.com/gopcua/opcua/id"
)

// Server/Namespaces (Part 5, 6.3.14) holds one NamespaceMetadataType object
// per information model: namespace 0's comes from the standard subset, the
// SmartView namespace's from nodeset/SmartView.NodeSet2.xml (written by
// namespaceMetadata). Their values are the files', except that namespace 0
// is served as a subset of the standard.

// namespaceBindings override values of the standard subset's metadata.
func namespaceBindings() map[uint32]binding {
	return map[uint32]binding{
		id.OPCUANamespaceMetadata_IsNamespaceSubset: {value: func(*evalCtx, node) sample { return good(variant(true)) }},
	}
}
