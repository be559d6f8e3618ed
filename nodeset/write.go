package nodeset

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gopcua/opcua/ua"
)

var elementNames = map[ua.NodeClass]string{
	ua.NodeClassObject: "UAObject", ua.NodeClassVariable: "UAVariable", ua.NodeClassMethod: "UAMethod",
	ua.NodeClassView: "UAView", ua.NodeClassObjectType: "UAObjectType", ua.NodeClassVariableType: "UAVariableType",
	ua.NodeClassDataType: "UADataType", ua.NodeClassReferenceType: "UAReferenceType",
}

// Write writes s as a NodeSet2 document. Attributes equal to the schema's
// defaults are left out; ReferenceType and DataType NodeIds that have an
// alias are written as the alias. LastModified is the first model's
// PublicationDate, so the same Set always gives the same bytes.
func Write(w io.Writer, s *Set) error {
	bw := bufio.NewWriter(w)
	alias := map[string]string{}
	for _, a := range s.Aliases {
		alias[a.NodeID] = a.Name
	}
	aliased := func(id string) string {
		if a, ok := alias[id]; ok {
			return a
		}
		return id
	}
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
	if s.Comment != "" {
		p("<!-- %s -->\n", strings.ReplaceAll(s.Comment, "--", "- -"))
	}
	p("<UANodeSet xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"")
	if len(s.Models) > 0 && s.Models[0].PublicationDate != "" {
		p(" LastModified=\"%s\"", escape(s.Models[0].PublicationDate))
	}
	p(" xmlns=\"http://opcfoundation.org/UA/2011/03/UANodeSet.xsd\">\n")
	if len(s.NamespaceURIs) > 0 {
		p("  <NamespaceUris>\n")
		for _, u := range s.NamespaceURIs {
			p("    <Uri>%s</Uri>\n", escape(u))
		}
		p("  </NamespaceUris>\n")
	}
	if len(s.Models) > 0 {
		p("  <Models>\n")
		for _, m := range s.Models {
			writeModel(bw, m, "    ", "Model")
		}
		p("  </Models>\n")
	}
	if len(s.Aliases) > 0 {
		p("  <Aliases>\n")
		for _, a := range s.Aliases {
			p("    <Alias Alias=\"%s\">%s</Alias>\n", escape(a.Name), escape(a.NodeID))
		}
		p("  </Aliases>\n")
	}
	for _, n := range s.Nodes {
		el, ok := elementNames[n.Class]
		if !ok {
			return fmt.Errorf("nodeset: %s: node class %v cannot be written", n.NodeID, n.Class)
		}
		p("  <%s NodeId=\"%s\" BrowseName=\"%s\"", el, escape(n.NodeID), escape(n.BrowseName))
		if n.SymbolicName != "" {
			p(" SymbolicName=\"%s\"", escape(n.SymbolicName))
		}
		if n.ParentNodeID != "" {
			p(" ParentNodeId=\"%s\"", escape(n.ParentNodeID))
		}
		if n.Class == ua.NodeClassVariable || n.Class == ua.NodeClassVariableType {
			if n.DataType != "" && n.DataType != "i=24" {
				p(" DataType=\"%s\"", escape(aliased(n.DataType)))
			}
			if n.ValueRank != -1 {
				p(" ValueRank=\"%d\"", n.ValueRank)
			}
			if n.ArrayDimensions != "" {
				p(" ArrayDimensions=\"%s\"", escape(n.ArrayDimensions))
			}
		}
		if n.Class == ua.NodeClassVariable {
			if n.AccessLevel != 1 {
				p(" AccessLevel=\"%d\"", n.AccessLevel)
			}
			if n.UserAccessLevel != 1 {
				p(" UserAccessLevel=\"%d\"", n.UserAccessLevel)
			}
			if n.MinimumSamplingInterval != 0 {
				p(" MinimumSamplingInterval=\"%s\"", strconv.FormatFloat(n.MinimumSamplingInterval, 'f', -1, 64))
			}
			if n.Historizing {
				p(" Historizing=\"true\"")
			}
		}
		if n.IsAbstract {
			p(" IsAbstract=\"true\"")
		}
		if n.Symmetric {
			p(" Symmetric=\"true\"")
		}
		if n.EventNotifier != 0 {
			p(" EventNotifier=\"%d\"", n.EventNotifier)
		}
		if n.ContainsNoLoops {
			p(" ContainsNoLoops=\"true\"")
		}
		p(">\n")
		p("    <DisplayName>%s</DisplayName>\n", escape(n.DisplayName))
		if n.Description != "" {
			p("    <Description>%s</Description>\n", escape(n.Description))
		}
		if len(n.References) > 0 {
			p("    <References>\n")
			for _, r := range n.References {
				p("      <Reference ReferenceType=\"%s\"", escape(aliased(r.Type)))
				if !r.Forward {
					p(" IsForward=\"false\"")
				}
				p(">%s</Reference>\n", escape(r.Target))
			}
			p("    </References>\n")
		}
		if n.InverseName != "" {
			p("    <InverseName>%s</InverseName>\n", escape(n.InverseName))
		}
		if n.Value != "" {
			p("    <Value>\n      %s\n    </Value>\n", n.Value)
		}
		if n.Definition != "" {
			p("    %s\n", n.Definition)
		}
		p("  </%s>\n", el)
	}
	p("</UANodeSet>\n")
	return bw.Flush()
}

func writeModel(w io.Writer, m Model, indent, el string) {
	fmt.Fprintf(w, "%s<%s ModelUri=\"%s\"", indent, el, escape(m.URI))
	if m.Version != "" {
		fmt.Fprintf(w, " Version=\"%s\"", escape(m.Version))
	}
	if m.PublicationDate != "" {
		fmt.Fprintf(w, " PublicationDate=\"%s\"", escape(m.PublicationDate))
	}
	if len(m.Required) == 0 {
		fmt.Fprintf(w, " />\n")
		return
	}
	fmt.Fprintf(w, ">\n")
	for _, r := range m.Required {
		writeModel(w, r, indent+"  ", "RequiredModel")
	}
	fmt.Fprintf(w, "%s</%s>\n", indent, el)
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")

func escape(s string) string { return xmlEscaper.Replace(s) }
