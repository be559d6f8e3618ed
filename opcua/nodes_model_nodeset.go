package opcua

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"

	"github.com/svgateway/svgateway/nodeset"
)

// The NodeSet2 file of the information model is generated from the same
// typeSpecs the address space serves, so that what clients load and what
// they browse cannot drift; the test TestNodeSetFile fails when it is stale.

//go:generate go run ./internal/nodesetgen -o ../nodeset/SmartView.NodeSet2.xml

// TypesNodeSet renders typeSpecs, the SmartView information model the server
// serves, as a NodeSet2 set (namespace 1 of the file is nodeset.TypesURI):
// go generate writes it to nodeset/SmartView.NodeSet2.xml.
func TypesNodeSet() *nodeset.Set {
	s := &nodeset.Set{
		Comment: "The SmartView information model of svgateway. Generated from opcua/nodes_model.go by " +
			"`go generate ./...`; the server serves these types. Do not edit.",
		NamespaceURIs: []string{nodeset.TypesURI},
		Models: []nodeset.Model{{URI: nodeset.TypesURI, Version: modelVersion, PublicationDate: modelPublished,
			Required: []nodeset.Model{{URI: nodeset.UAURI, Version: "1.05.02", PublicationDate: "2022-11-01T00:00:00Z"}}}},
	}
	for _, a := range []struct {
		name string
		id   uint32
	}{{"Boolean", id.Boolean}, {"UInt64", id.UInt64}, {"Double", id.Double}, {"String", id.String},
		{"DateTime", id.DateTime}, {"Range", id.Range}, {"EUInformation", id.EUInformation},
		{"HasModellingRule", id.HasModellingRule}, {"HasTypeDefinition", id.HasTypeDefinition},
		{"HasSubtype", id.HasSubtype}, {"HasProperty", id.HasProperty}, {"HasComponent", id.HasComponent}} {
		s.Aliases = append(s.Aliases, nodeset.Alias{Name: a.name, NodeID: fmt.Sprintf("i=%d", a.id)})
	}
	i := func(n uint32) string { return fmt.Sprintf("i=%d", n) }
	fileID := func(n *ua.NodeID) string {
		if n.Namespace() == nsTypes {
			return fmt.Sprintf("ns=1;i=%d", n.IntID())
		}
		return i(n.IntID())
	}
	for _, t := range typeSpecs {
		n := &nodeset.Node{Class: t.class, NodeID: fmt.Sprintf("ns=1;i=%d", t.id), BrowseName: "1:" + t.name,
			DisplayName: t.name, Description: t.description, IsAbstract: t.abstract, InverseName: t.inverseName,
			ValueRank: -1, AccessLevel: 1, UserAccessLevel: 1, DataType: "i=24",
			References: []nodeset.Reference{{Type: i(id.HasSubtype), Target: fileID(t.super), Forward: false}}}
		if t.dataType != nil {
			n.DataType = fileID(t.dataType)
		}
		s.Nodes = append(s.Nodes, n)
		var decls []*nodeset.Node
		var add func(parent *nodeset.Node, ms []memberSpec)
		add = func(parent *nodeset.Node, ms []memberSpec) {
			for _, m := range ms {
				bn := "1:" + m.name
				if m.standard {
					bn = m.name
				}
				rule := id.ModellingRule_Mandatory
				if m.optional {
					rule = id.ModellingRule_Optional
				}
				d := &nodeset.Node{Class: ua.NodeClassVariable, NodeID: parent.NodeID + "." + m.name, BrowseName: bn,
					DisplayName: m.name, Description: m.description, ParentNodeID: parent.NodeID, DataType: i(m.dataType),
					ValueRank: -1, AccessLevel: 1, UserAccessLevel: 1,
					References: []nodeset.Reference{{Type: i(id.HasTypeDefinition), Target: i(m.typeDef), Forward: true},
						{Type: i(id.HasModellingRule), Target: i(uint32(rule)), Forward: true},
						{Type: i(m.refType), Target: parent.NodeID, Forward: false}}}
				if parent == n {
					d.NodeID = fmt.Sprintf("ns=1;s=%s.%s", t.name, m.name)
				}
				parent.References = append(parent.References, nodeset.Reference{Type: i(m.refType), Target: d.NodeID, Forward: true})
				decls = append(decls, d)
				add(d, m.children)
			}
		}
		add(n, t.members)
		s.Nodes = append(s.Nodes, decls...)
	}
	var numeric []uint32
	for _, t := range typeSpecs {
		numeric = append(numeric, t.id)
	}
	s.Nodes = append(s.Nodes, namespaceMetadata(s.Models[0], "The SmartView information model of svgateway.", numeric)...)
	return s
}

// The version and publication date of the SmartView information model.
const (
	modelVersion   = "1.0.0"
	modelPublished = "2026-11-23T00:00:00Z"
)

// instancesMetadata is the NamespaceMetadataType object of the instance
// namespace (namespace 1 of the set), served beside the SmartView types'
// but made here, not in the NodeSet2 file clients import: the instances
// are the gateway's, not the model's. Its NodeIds are the SmartView
// identities, stable as the model version they follow.
func instancesMetadata() *nodeset.Set {
	return &nodeset.Set{NamespaceURIs: []string{InstancesURI}, Nodes: namespaceMetadata(
		nodeset.Model{URI: InstancesURI, Version: modelVersion, PublicationDate: modelPublished},
		"The IBXs, locations, assets, tags and alarms svgateway serves, named by their SmartView identities.", nil)}
}

// namespaceMetadataID is the NamespaceMetadataType object of the SmartView
// namespace (file namespace 1), a component of Server/Namespaces; its
// properties follow it.
const (
	namespaceMetadataID    = 5001
	namespaceMetadataProps = 7
)

// numericRanges writes ids as NumericRange strings ("1001:1007", "4001"),
// each run of consecutive ids one range, in the XML of a ListOfString.
func numericRanges(ids []uint32) string {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j == i {
			fmt.Fprintf(&b, "<String>%d</String>", ids[i])
		} else {
			fmt.Fprintf(&b, "<String>%d:%d</String>", ids[i], ids[j])
		}
		i = j + 1
	}
	return b.String()
}

// namespaceMetadata describes a SmartView namespace (file namespace 1)
// under Server/Namespaces (Part 5, 6.3.14): its URI, version and
// publication date (the model's), complete (not a subset), with static
// numeric NodeIds (numeric and this object's) and static string NodeIds
// (every one: the types' instance declarations, or the instances'
// SmartView identities).
func namespaceMetadata(m nodeset.Model, description string, numeric []uint32) []*nodeset.Node {
	for i := uint32(0); i <= namespaceMetadataProps; i++ {
		numeric = append(numeric, namespaceMetadataID+i)
	}
	i := func(n uint32) string { return fmt.Sprintf("i=%d", n) }
	obj := &nodeset.Node{Class: ua.NodeClassObject, NodeID: fmt.Sprintf("ns=1;i=%d", namespaceMetadataID),
		BrowseName: "1:" + m.URI, DisplayName: m.URI, ParentNodeID: i(id.Server_Namespaces),
		Description: description,
		References: []nodeset.Reference{{Type: i(id.HasTypeDefinition), Target: i(id.NamespaceMetadataType), Forward: true},
			{Type: i(id.HasComponent), Target: i(id.Server_Namespaces), Forward: false}}}
	const xsd = ` xmlns="http://opcfoundation.org/UA/2008/02/Types.xsd"`
	props := []struct {
		name     string
		dataType uint32
		rank     int32
		value    string
	}{
		{"NamespaceUri", id.String, -1, "<String" + xsd + ">" + m.URI + "</String>"},
		{"NamespaceVersion", id.String, -1, "<String" + xsd + ">" + m.Version + "</String>"},
		{"NamespacePublicationDate", id.DateTime, -1, "<DateTime" + xsd + ">" + m.PublicationDate + "</DateTime>"},
		{"IsNamespaceSubset", id.Boolean, -1, "<Boolean" + xsd + ">false</Boolean>"},
		{"StaticNodeIdTypes", id.IDType, 1, "<ListOfInt32" + xsd + "><Int32>0</Int32><Int32>1</Int32></ListOfInt32>"},
		{"StaticNumericNodeIdRange", id.NumericRange, 1, "<ListOfString" + xsd + ">" + numericRanges(numeric) + "</ListOfString>"},
		{"StaticStringNodeIdPattern", id.String, -1, "<String" + xsd + ">.*</String>"},
	}
	nodes := []*nodeset.Node{obj}
	for _, p := range props {
		pid := fmt.Sprintf("ns=1;i=%d", namespaceMetadataID+len(nodes))
		obj.References = append(obj.References, nodeset.Reference{Type: i(id.HasProperty), Target: pid, Forward: true})
		n := &nodeset.Node{Class: ua.NodeClassVariable, NodeID: pid, BrowseName: p.name, DisplayName: p.name,
			ParentNodeID: obj.NodeID, DataType: i(p.dataType), ValueRank: p.rank, AccessLevel: 1, UserAccessLevel: 1, Value: p.value,
			References: []nodeset.Reference{{Type: i(id.HasTypeDefinition), Target: i(id.PropertyType), Forward: true},
				{Type: i(id.HasProperty), Target: obj.NodeID, Forward: false}}}
		if p.rank == 1 {
			n.ArrayDimensions = "0"
		}
		nodes = append(nodes, n)
	}
	return nodes
}
