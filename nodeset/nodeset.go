// Package nodeset is svgateway's OPC UA information model as NodeSet2 XML,
// and a reader and writer for that format.
//
//   - SmartView.NodeSet2.xml: the types of the SmartView footprint (IBX, zone,
//     cage, cabinet, circuit, sensor, asset, tag, alarm, gateway status) and
//     the Serves reference type, in the namespace [TypesURI]. It is what an
//     OPC UA client or engineering tool imports, and what the server serves
//     as its type nodes. It is generated from the server's type table
//     (go test ./opcua -run TestNodeSetFile -update) and checked against it.
//   - Opc.Ua.Subset.NodeSet2.xml: the part of the standard OPC UA nodeset
//     (namespace 0) the server serves: folders, the Server object, and the
//     types, reference types and data types its nodes use. It is cut from
//     the standard nodeset shipped with gopcua (go test ./nodeset -update).
//
// The package must not know about the model or about serving: the opcua
// package loads these sets and serves them.
package nodeset

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gopcua/opcua/ua"
)

// TypesURI is the namespace of the SmartView information model.
const TypesURI = "https://github.com/svgateway/svgateway/UA/SmartView/"

// UAURI is the namespace of the OPC UA standard nodes (index 0).
const UAURI = "http://opcfoundation.org/UA/"

//go:embed SmartView.NodeSet2.xml
var smartViewXML []byte

//go:embed Opc.Ua.Subset.NodeSet2.xml
var standardXML []byte

// SmartView returns the parsed SmartView information model.
func SmartView() (*Set, error) { return Parse(bytes.NewReader(smartViewXML)) }

// Standard returns the parsed subset of the standard nodeset the server serves.
func Standard() (*Set, error) { return Parse(bytes.NewReader(standardXML)) }

// SmartViewXML returns the SmartView information model file as embedded.
func SmartViewXML() []byte { return bytes.Clone(smartViewXML) }

// Set is the content of one NodeSet2 file. NodeIds are kept as written in
// the file ("ns=1;i=1001", "i=85"), with aliases resolved; namespace index n
// > 0 refers to NamespaceURIs[n-1].
type Set struct {
	// Comment is written as an XML comment at the top of the file (not parsed).
	Comment       string
	NamespaceURIs []string
	Models        []Model
	// Aliases are used when writing (ReferenceType and DataType attributes);
	// parsing resolves them.
	Aliases []Alias
	Nodes   []*Node
}

// Model is a Models entry.
type Model struct {
	URI             string
	Version         string
	PublicationDate string
	Required        []Model
}

// Alias is an Aliases entry.
type Alias struct{ Name, NodeID string }

// Node is one node of a NodeSet2 file.
type Node struct {
	Class        ua.NodeClass
	NodeID       string
	BrowseName   string // "1:CageType", or "Objects" in namespace 0
	SymbolicName string
	DisplayName  string
	Description  string
	ParentNodeID string
	References   []Reference

	IsAbstract      bool   // types
	Symmetric       bool   // reference types
	InverseName     string // reference types
	EventNotifier   uint8  // objects, views
	ContainsNoLoops bool   // views

	// Variables and variable types. DataType defaults to "i=24", ValueRank to -1.
	DataType                string
	ValueRank               int32
	ArrayDimensions         string
	AccessLevel             uint8
	UserAccessLevel         uint8
	MinimumSamplingInterval float64
	Historizing             bool
	// Value is the inner XML of the Value element ("" if none); see
	// [Node.DecodeValue].
	Value string
	// Definition is the Definition element of a data type, as written
	// (including the element itself).
	Definition string
}

// Reference is one reference of a node.
type Reference struct {
	Type    string // NodeId of the reference type
	Target  string
	Forward bool
}

// The XML shapes of the schema, as far as we read them.
type xmlSet struct {
	XMLName       xml.Name    `xml:"UANodeSet"`
	NamespaceURIs []string    `xml:"NamespaceUris>Uri"`
	Models        []xmlModel  `xml:"Models>Model"`
	Aliases       []xmlAlias  `xml:"Aliases>Alias"`
	Nodes         []xmlNode   `xml:",any"`
	Extensions    *xmlIgnored `xml:"Extensions"`
	ServerURIs    *xmlIgnored `xml:"ServerUris"`
}

type xmlIgnored struct {
	Inner string `xml:",innerxml"`
}

type xmlModel struct {
	URI             string     `xml:"ModelUri,attr"`
	Version         string     `xml:"Version,attr"`
	PublicationDate string     `xml:"PublicationDate,attr"`
	Required        []xmlModel `xml:"RequiredModel"`
}

type xmlAlias struct {
	Name  string `xml:"Alias,attr"`
	Value string `xml:",chardata"`
}

type xmlText struct {
	Locale string `xml:"Locale,attr"`
	Text   string `xml:",chardata"`
}

type xmlRef struct {
	Type    string  `xml:"ReferenceType,attr"`
	Forward *string `xml:"IsForward,attr"`
	Target  string  `xml:",chardata"`
}

type xmlNode struct {
	XMLName         xml.Name
	NodeID          string      `xml:"NodeId,attr"`
	BrowseName      string      `xml:"BrowseName,attr"`
	SymbolicName    string      `xml:"SymbolicName,attr"`
	ParentNodeID    string      `xml:"ParentNodeId,attr"`
	IsAbstract      string      `xml:"IsAbstract,attr"`
	Symmetric       string      `xml:"Symmetric,attr"`
	EventNotifier   string      `xml:"EventNotifier,attr"`
	ContainsNoLoops string      `xml:"ContainsNoLoops,attr"`
	DataType        string      `xml:"DataType,attr"`
	ValueRank       string      `xml:"ValueRank,attr"`
	ArrayDimensions string      `xml:"ArrayDimensions,attr"`
	AccessLevel     string      `xml:"AccessLevel,attr"`
	UserAccessLevel string      `xml:"UserAccessLevel,attr"`
	MinSampling     string      `xml:"MinimumSamplingInterval,attr"`
	Historizing     string      `xml:"Historizing,attr"`
	DisplayName     []xmlText   `xml:"DisplayName"`
	Description     []xmlText   `xml:"Description"`
	References      []xmlRef    `xml:"References>Reference"`
	InverseName     []xmlText   `xml:"InverseName"`
	Value           *xmlIgnored `xml:"Value"`
	Definition      *xmlElement `xml:"Definition"`
}

// xmlElement keeps an element whole, to be written back as it was.
type xmlElement struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Inner   string     `xml:",innerxml"`
}

var nodeClasses = map[string]ua.NodeClass{
	"UAObject": ua.NodeClassObject, "UAVariable": ua.NodeClassVariable, "UAMethod": ua.NodeClassMethod,
	"UAView": ua.NodeClassView, "UAObjectType": ua.NodeClassObjectType, "UAVariableType": ua.NodeClassVariableType,
	"UADataType": ua.NodeClassDataType, "UAReferenceType": ua.NodeClassReferenceType,
}

// Parse reads a NodeSet2 document. It checks what the server relies on:
// every node has a NodeId, BrowseName and known node class, attributes
// parse, no NodeId appears twice; it does not validate against the schema
// (use xmllint for that).
func Parse(r io.Reader) (*Set, error) {
	var x xmlSet
	if err := xml.NewDecoder(r).Decode(&x); err != nil {
		return nil, fmt.Errorf("nodeset: %w", err)
	}
	s := &Set{NamespaceURIs: x.NamespaceURIs}
	for _, m := range x.Models {
		s.Models = append(s.Models, m.model())
	}
	alias := map[string]string{}
	for _, a := range x.Aliases {
		alias[a.Name] = strings.TrimSpace(a.Value)
		s.Aliases = append(s.Aliases, Alias{a.Name, strings.TrimSpace(a.Value)})
	}
	resolve := func(id string) string {
		id = strings.TrimSpace(id)
		if v, ok := alias[id]; ok {
			return v
		}
		return id
	}
	seen := map[string]bool{}
	for _, xn := range x.Nodes {
		class, ok := nodeClasses[xn.XMLName.Local]
		if !ok {
			continue // Extensions and the like
		}
		n, err := xn.node(class, resolve)
		if err != nil {
			return nil, fmt.Errorf("nodeset: %s %s: %w", xn.XMLName.Local, xn.NodeID, err)
		}
		if seen[n.NodeID] {
			return nil, fmt.Errorf("nodeset: duplicate NodeId %s", n.NodeID)
		}
		seen[n.NodeID] = true
		s.Nodes = append(s.Nodes, n)
	}
	return s, nil
}

func (m xmlModel) model() Model {
	out := Model{URI: m.URI, Version: m.Version, PublicationDate: m.PublicationDate}
	for _, r := range m.Required {
		out.Required = append(out.Required, r.model())
	}
	return out
}

func (xn *xmlNode) node(class ua.NodeClass, resolve func(string) string) (*Node, error) {
	n := &Node{
		Class: class, NodeID: resolve(xn.NodeID), BrowseName: xn.BrowseName, SymbolicName: xn.SymbolicName,
		ParentNodeID: resolve(xn.ParentNodeID), DataType: "i=24", ValueRank: -1, AccessLevel: 1, UserAccessLevel: 1,
		ArrayDimensions: xn.ArrayDimensions,
		DisplayName:     firstText(xn.DisplayName), Description: firstText(xn.Description), InverseName: firstText(xn.InverseName),
	}
	if n.NodeID == "" || n.BrowseName == "" {
		return nil, fmt.Errorf("NodeId and BrowseName are required")
	}
	if _, err := ua.ParseNodeID(n.NodeID); err != nil {
		return nil, fmt.Errorf("NodeId: %w", err)
	}
	if n.DisplayName == "" {
		_, n.DisplayName = SplitQualifiedName(n.BrowseName)
	}
	if xn.DataType != "" {
		n.DataType = resolve(xn.DataType)
	}
	var err error
	parseBool := func(s string, dst *bool) {
		if s != "" && err == nil {
			*dst, err = strconv.ParseBool(s)
		}
	}
	parseUint8 := func(s string, dst *uint8) {
		if s != "" && err == nil {
			var v uint64
			v, err = strconv.ParseUint(s, 10, 8)
			*dst = uint8(v)
		}
	}
	parseBool(xn.IsAbstract, &n.IsAbstract)
	parseBool(xn.Symmetric, &n.Symmetric)
	parseBool(xn.ContainsNoLoops, &n.ContainsNoLoops)
	parseBool(xn.Historizing, &n.Historizing)
	parseUint8(xn.EventNotifier, &n.EventNotifier)
	parseUint8(xn.AccessLevel, &n.AccessLevel)
	parseUint8(xn.UserAccessLevel, &n.UserAccessLevel)
	if xn.ValueRank != "" && err == nil {
		var v int64
		v, err = strconv.ParseInt(xn.ValueRank, 10, 32)
		n.ValueRank = int32(v)
	}
	if xn.MinSampling != "" && err == nil {
		n.MinimumSamplingInterval, err = strconv.ParseFloat(xn.MinSampling, 64)
	}
	if err != nil {
		return nil, err
	}
	if xn.Value != nil {
		n.Value = strings.TrimSpace(xn.Value.Inner)
	}
	if d := xn.Definition; d != nil {
		var b strings.Builder
		b.WriteString("<Definition")
		for _, a := range d.Attrs {
			fmt.Fprintf(&b, " %s=\"%s\"", a.Name.Local, escape(a.Value))
		}
		fmt.Fprintf(&b, ">%s</Definition>", d.Inner)
		n.Definition = b.String()
	}
	for _, r := range xn.References {
		ref := Reference{Type: resolve(r.Type), Target: resolve(r.Target), Forward: true}
		if r.Forward != nil {
			if ref.Forward, err = strconv.ParseBool(*r.Forward); err != nil {
				return nil, fmt.Errorf("reference IsForward: %w", err)
			}
		}
		if ref.Type == "" || ref.Target == "" {
			return nil, fmt.Errorf("reference without type or target")
		}
		n.References = append(n.References, ref)
	}
	return n, nil
}

func firstText(ts []xmlText) string {
	if len(ts) == 0 {
		return ""
	}
	return strings.TrimSpace(ts[0].Text)
}

// SplitQualifiedName splits "1:Name" into (1, "Name"); a name without a
// namespace prefix is in namespace 0.
func SplitQualifiedName(s string) (uint16, string) {
	if i := strings.IndexByte(s, ':'); i > 0 {
		if ns, err := strconv.ParseUint(s[:i], 10, 16); err == nil {
			return uint16(ns), s[i+1:]
		}
	}
	return 0, s
}
