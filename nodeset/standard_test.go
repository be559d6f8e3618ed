package nodeset

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/schema"
	"github.com/gopcua/opcua/ua"
)

var update = flag.Bool("update", false, "rewrite Opc.Ua.Subset.NodeSet2.xml from gopcua's standard nodeset")

// standardRoots are the namespace-0 nodes the server serves. The subset is
// closed over supertypes, type definitions, modelling rules, data types and
// the reference types of the kept references; references to nodes outside
// the subset are dropped.
var standardRoots = []uint32{
	// folders
	id.RootFolder, id.ObjectsFolder, id.TypesFolder, id.ViewsFolder, id.ObjectTypesFolder,
	id.VariableTypesFolder, id.DataTypesFolder, id.ReferenceTypesFolder,
	// the Server object
	id.Server, id.Server_ServerArray, id.Server_NamespaceArray, id.Server_ServiceLevel, id.Server_Auditing,
	id.Server_ServerStatus, id.Server_ServerStatus_StartTime, id.Server_ServerStatus_CurrentTime,
	id.Server_ServerStatus_State, id.Server_ServerStatus_BuildInfo, id.Server_ServerStatus_BuildInfo_ProductURI,
	id.Server_ServerStatus_BuildInfo_ManufacturerName, id.Server_ServerStatus_BuildInfo_ProductName,
	id.Server_ServerStatus_BuildInfo_SoftwareVersion, id.Server_ServerStatus_BuildInfo_BuildNumber,
	id.Server_ServerStatus_BuildInfo_BuildDate, id.Server_ServerStatus_SecondsTillShutdown,
	id.Server_ServerStatus_ShutdownReason,
	id.Server_ServerCapabilities, id.Server_ServerCapabilities_ServerProfileArray,
	id.Server_ServerCapabilities_LocaleIDArray, id.Server_ServerCapabilities_MinSupportedSampleRate,
	id.Server_ServerCapabilities_MaxBrowseContinuationPoints, id.Server_ServerCapabilities_MaxQueryContinuationPoints,
	id.Server_ServerCapabilities_MaxHistoryContinuationPoints, id.Server_ServerCapabilities_SoftwareCertificates,
	id.Server_ServerCapabilities_MaxSubscriptionsPerSession, id.Server_ServerCapabilities_MaxMonitoredItemsPerSubscription,
	id.Server_ServerCapabilities_MaxMonitoredItemsQueueSize,
	id.Server_ServerCapabilities_ModellingRules, id.Server_ServerCapabilities_AggregateFunctions,
	id.Server_ServerCapabilities_OperationLimits,
	id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
	id.Server_ServerCapabilities_OperationLimits_MaxNodesPerWrite,
	id.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
	id.Server_ServerCapabilities_OperationLimits_MaxNodesPerRegisterNodes,
	id.Server_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIDs,
	id.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
	id.Server_ServerRedundancy, id.Server_ServerRedundancy_RedundancySupport, id.Server_VendorServerInfo,
	// modelling rules
	id.ModellingRule_Mandatory, id.ModellingRule_Optional, id.ModellingRule_MandatoryPlaceholder,
	id.ModellingRule_OptionalPlaceholder,
	// reference types
	id.References, id.NonHierarchicalReferences, id.HierarchicalReferences, id.HasChild, id.Organizes,
	id.HasEventSource, id.HasModellingRule, id.HasEncoding, id.HasTypeDefinition, id.GeneratesEvent,
	id.Aggregates, id.HasSubtype, id.HasProperty, id.HasComponent, id.HasNotifier, id.HasOrderedComponent,
	// object types
	id.BaseObjectType, id.FolderType, id.ModellingRuleType,
	// variable types and their instance declarations
	id.BaseVariableType, id.BaseDataVariableType, id.PropertyType,
	id.DataItemType, 2366, 2367, id.BaseAnalogType, 17567, 17568, 17569,
	id.AnalogItemType, 2369, id.AnalogUnitType, 17502,
	id.ServerStatusType, id.ServerStatusType_StartTime, id.ServerStatusType_CurrentTime, id.ServerStatusType_State,
	id.ServerStatusType_BuildInfo, id.ServerStatusType_SecondsTillShutdown, id.ServerStatusType_ShutdownReason,
	id.ServerStatusType_BuildInfo_ProductURI, id.ServerStatusType_BuildInfo_ManufacturerName,
	id.ServerStatusType_BuildInfo_ProductName, id.ServerStatusType_BuildInfo_SoftwareVersion,
	id.ServerStatusType_BuildInfo_BuildNumber, id.ServerStatusType_BuildInfo_BuildDate,
	id.BuildInfoType, id.BuildInfoType_ProductURI, id.BuildInfoType_ManufacturerName, id.BuildInfoType_ProductName,
	id.BuildInfoType_SoftwareVersion, id.BuildInfoType_BuildNumber, id.BuildInfoType_BuildDate,
	// data types: the built-ins, their abstract parents, and what our variables hold
	id.Boolean, id.SByte, id.Byte, id.Int16, id.UInt16, id.Int32, id.UInt32, id.Int64, id.UInt64, id.Float,
	id.Double, id.String, id.DateTime, id.GUID, id.ByteString, id.XMLElement, id.NodeID, id.ExpandedNodeID,
	id.StatusCode, id.QualifiedName, id.LocalizedText, id.Structure, id.DataValue, id.BaseDataType,
	id.DiagnosticInfo, id.Number, id.Integer, id.UInteger, id.Enumeration,
	id.Duration, id.UtcTime, id.LocaleID, id.EUInformation, id.Range,
	id.ServerStatusDataType, id.BuildInfo, id.ServerState, id.ServerState_EnumStrings,
	id.RedundancySupport, id.RedundancySupport_EnumStrings,
}

// cutStandard selects the subset from the full standard nodeset.
func cutStandard(full *Set) (*Set, error) {
	byID := map[string]*Node{}
	for _, n := range full.Nodes {
		byID[n.NodeID] = n
	}
	keep := map[string]bool{}
	var queue []string
	add := func(id string) {
		if id == "" || keep[id] {
			return
		}
		keep[id] = true
		queue = append(queue, id)
	}
	for _, r := range standardRoots {
		add(fmt.Sprintf("i=%d", r))
	}
	for len(queue) > 0 {
		n := byID[queue[0]]
		queue = queue[1:]
		if n == nil {
			continue
		}
		if n.Class == ua.NodeClassVariable || n.Class == ua.NodeClassVariableType {
			add(n.DataType)
		}
		for _, r := range n.References {
			switch {
			case r.Type == "i=45" && !r.Forward, r.Type == "i=40" && r.Forward, r.Type == "i=37" && r.Forward:
				add(r.Target) // supertype, type definition, modelling rule
			}
		}
	}
	out := &Set{Models: []Model{{URI: UAURI, Version: full.Models[0].Version, PublicationDate: full.Models[0].PublicationDate}}}
	usedAlias := map[string]bool{}
	for _, n := range full.Nodes { // in the standard file's order
		if !keep[n.NodeID] {
			continue
		}
		if byID[n.NodeID] == nil {
			return nil, fmt.Errorf("standard nodeset has no %s", n.NodeID)
		}
		c := *n
		c.References = nil
		for _, r := range n.References {
			if keep[r.Target] && keep[r.Type] {
				c.References = append(c.References, r)
				usedAlias[r.Type] = true
			}
		}
		if !keep[c.ParentNodeID] {
			c.ParentNodeID = ""
		}
		usedAlias[c.DataType] = true
		if _, err := c.DecodeValue(); err != nil {
			return nil, err
		}
		out.Nodes = append(out.Nodes, &c)
	}
	for _, r := range standardRoots {
		if !keep[fmt.Sprintf("i=%d", r)] || byID[fmt.Sprintf("i=%d", r)] == nil {
			return nil, fmt.Errorf("standard nodeset has no i=%d", r)
		}
	}
	for _, a := range full.Aliases {
		if usedAlias[a.NodeID] && a.NodeID != "i=24" {
			out.Aliases = append(out.Aliases, a)
		}
	}
	return out, nil
}

func TestStandardSubsetUpToDate(t *testing.T) {
	full, err := Parse(bytes.NewReader(schema.OpcUaNodeSet2))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cutStandard(full)
	if err != nil {
		t.Fatal(err)
	}
	sub.Comment = "Generated by `go test ./nodeset -update` from gopcua v0.8.0 schema/Opc.Ua.NodeSet2.xml " +
		"(OPC Foundation, MIT License); see Opc.Ua.Subset.NodeSet2.xml.SOURCE.md. Do not edit."
	var b bytes.Buffer
	if err := Write(&b, sub); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if *update {
		if err := os.WriteFile("Opc.Ua.Subset.NodeSet2.xml", out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out, standardXML) {
		t.Fatal("Opc.Ua.Subset.NodeSet2.xml is not what the generator makes; run go test ./nodeset -update")
	}
}

func TestStandardSubsetIsClosed(t *testing.T) {
	s, err := Standard()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range s.Nodes {
		have[n.NodeID] = true
	}
	for _, n := range s.Nodes {
		for _, r := range n.References {
			if !have[r.Target] || !have[r.Type] {
				t.Errorf("%s: reference %s -> %s leaves the subset", n.NodeID, r.Type, r.Target)
			}
		}
		if n.Class == ua.NodeClassVariable && !have[n.DataType] {
			t.Errorf("%s: DataType %s not in the subset", n.NodeID, n.DataType)
		}
	}
	for _, want := range []string{"i=84", "i=85", "i=2253", "i=2256", "i=11705", "i=2368", "i=17497", "i=887"} {
		if !have[want] {
			t.Errorf("subset lacks %s", want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"truncated":    `<UANodeSet xmlns="http://opcfoundation.org/UA/2011/03/UANodeSet.xsd"><UAObject NodeId="i=1" BrowseName="x">`,
		"no NodeId":    `<UANodeSet><UAObject BrowseName="x"/></UANodeSet>`,
		"bad NodeId":   `<UANodeSet><UAObject NodeId="ns=x;i=1" BrowseName="x"/></UANodeSet>`,
		"duplicate":    `<UANodeSet><UAObject NodeId="i=1" BrowseName="x"/><UAObject NodeId="i=1" BrowseName="y"/></UANodeSet>`,
		"bad bool":     `<UANodeSet><UAObjectType NodeId="i=1" BrowseName="x" IsAbstract="maybe"/></UANodeSet>`,
		"bad rank":     `<UANodeSet><UAVariable NodeId="i=1" BrowseName="x" ValueRank="one"/></UANodeSet>`,
		"dangling ref": `<UANodeSet><UAObject NodeId="i=1" BrowseName="x"><References><Reference ReferenceType="">i=2</Reference></References></UAObject></UANodeSet>`,
	} {
		if _, err := Parse(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	const ns = `xmlns="http://opcfoundation.org/UA/2008/02/Types.xsd"`
	for _, c := range []struct {
		value string
		want  any
	}{
		{`<Int32 ` + ns + `>1</Int32>`, int32(1)},
		{`<String ` + ns + `>a b</String>`, "a b"},
		{`<ListOfString ` + ns + `><String>a</String><String>b</String></ListOfString>`, []string{"a", "b"}},
		{`<ListOfLocalizedText ` + ns + `><LocalizedText><Text>Running</Text></LocalizedText></ListOfLocalizedText>`,
			[]string{"Running"}},
	} {
		v, err := (&Node{NodeID: "i=1", Value: c.value}).DecodeValue()
		if err != nil {
			t.Errorf("%s: %v", c.value, err)
			continue
		}
		got := v.Value()
		if lts, ok := got.([]*ua.LocalizedText); ok {
			var texts []string
			for _, lt := range lts {
				texts = append(texts, lt.Text)
			}
			got = texts
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.value, got, c.want)
		}
	}
	if _, err := (&Node{NodeID: "i=1", Value: `<ExtensionObject/>`}).DecodeValue(); err == nil {
		t.Error("an ExtensionObject value decoded")
	}
}

// TestRoundTrip: writing a parsed set and parsing it again gives the same set.
func TestRoundTrip(t *testing.T) {
	for name, load := range map[string]func() (*Set, error){"standard": Standard, "SmartView": SmartView} {
		s, err := load()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b bytes.Buffer
		if err := Write(&b, s); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(&b)
		if err != nil {
			t.Fatalf("%s: reparse: %v", name, err)
		}
		if len(again.Nodes) != len(s.Nodes) {
			t.Fatalf("%s: %d nodes after round trip, want %d", name, len(again.Nodes), len(s.Nodes))
		}
		for i, n := range s.Nodes {
			m := again.Nodes[i]
			if n.NodeID != m.NodeID || n.BrowseName != m.BrowseName || n.DataType != m.DataType ||
				n.ValueRank != m.ValueRank || !slices.Equal(n.References, m.References) || n.Value != m.Value {
				t.Errorf("%s: node %s changed in the round trip", name, n.NodeID)
			}
		}
	}
}
