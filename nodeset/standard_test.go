package nodeset

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopcua/opcua/ua"
)

// TestStandardSubsetUpToDate regenerates Opc.Ua.Subset.NodeSet2.xml from
// gopcua's standard nodeset and fails when the committed file differs: run
// go generate ./... .
func TestStandardSubsetUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool: %v", err)
	}
	out := filepath.Join(t.TempDir(), "subset.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, goTool, "run", "./internal/subsetgen", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("subsetgen: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, standardXML) {
		t.Fatal("Opc.Ua.Subset.NodeSet2.xml is not what the generator makes; run go generate ./...")
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
