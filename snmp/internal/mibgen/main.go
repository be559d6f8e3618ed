// Command mibgen generates snmp/mib_gen.go, the Go definitions of the MIB
// objects and notifications the gateway serves and sends, from
// mibs/SVGATEWAY-MIB.txt and a few objects of the IETF base MIBs. It reads
// the modules with libsmi's smidump (Debian package smitools), so the OIDs
// and types in Go are exactly what a MIB compiler makes of the files.
//
// It is a build-time tool, kept apart from the serving path: nothing in the
// gateway runs it. Usage (see the go:generate line in snmp/mibdefs.go):
//
//	go run ./internal/mibgen -mib ../mibs/SVGATEWAY-MIB.txt [-base BASE_MIB_DIR] -o mib_gen.go
package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// baseObjects are the objects of other modules the gateway serves (the
// standalone agent's system, SNMP and engine groups, the USM and MPD
// statistics its reports carry) or sends (sysUpTime.0, snmpTrapOID.0 open
// every notification).
var baseObjects = map[string][]string{
	"SNMPv2-MIB": {"sysDescr", "sysObjectID", "sysUpTime", "sysContact", "sysName", "sysLocation", "sysServices",
		"snmpInPkts", "snmpInBadVersions", "snmpInBadCommunityNames", "snmpInBadCommunityUses", "snmpInASNParseErrs",
		"snmpSilentDrops", "snmpProxyDrops", "snmpTrapOID", "snmpTrapEnterprise",
		"sysORLastChange", "sysORID", "sysORDescr", "sysORUpTime"},
	"SNMP-FRAMEWORK-MIB":     {"snmpEngineID", "snmpEngineBoots", "snmpEngineTime", "snmpEngineMaxMessageSize"},
	"SNMP-MPD-MIB":           {"snmpUnknownSecurityModels", "snmpInvalidMsgs", "snmpUnknownPDUHandlers"},
	"SNMP-TARGET-MIB":        {"snmpUnavailableContexts", "snmpUnknownContexts"},
	"SNMP-USER-BASED-SM-MIB": {"usmStatsUnsupportedSecLevels", "usmStatsNotInTimeWindows", "usmStatsUnknownUserNames", "usmStatsUnknownEngineIDs", "usmStatsWrongDigests", "usmStatsDecryptionErrors"},
}

// importedTypes are the textual conventions of other modules the objects
// use, with the base type that fixes their BER tag. A TC not listed here is
// an error: add it deliberately.
var importedTypes = map[string]string{
	"SNMPv2-TC::DisplayString":            "OctetString",
	"SNMPv2-TC::DateAndTime":              "OctetString",
	"SNMPv2-TC::TruthValue":               "Integer",
	"SNMPv2-TC::RowPointer":               "ObjectIdentifier",
	"SNMPv2-TC::AutonomousType":           "ObjectIdentifier",
	"SNMPv2-TC::TimeStamp":                "TimeTicks",
	"SNMPv2-TC::TestAndIncr":              "Integer",
	"SNMP-FRAMEWORK-MIB::SnmpAdminString": "OctetString",
	"SNMP-FRAMEWORK-MIB::SnmpEngineID":    "OctetString",
}

// baseTypes maps SMI base types (as smidump names them) to gosnmp's BER
// type constants.
var baseTypes = map[string]string{
	"Integer32": "Integer", "INTEGER": "Integer", "Enumeration": "Integer",
	"Unsigned32": "Gauge32", "Gauge32": "Gauge32", "Counter32": "Counter32", "Counter64": "Counter64",
	"TimeTicks": "TimeTicks", "IpAddress": "IPAddress", "Opaque": "Opaque",
	"OctetString": "OctetString", "OCTET STRING": "OctetString", "Bits": "OctetString",
	"ObjectIdentifier": "ObjectIdentifier", "OBJECT IDENTIFIER": "ObjectIdentifier",
}

type smiDoc struct {
	Module struct {
		Name     string `xml:"name,attr"`
		Identity struct {
			Node string `xml:"node,attr"`
		} `xml:"identity"`
	} `xml:"module"`
	Typedefs []typedef `xml:"typedefs>typedef"`
	Nodes    struct {
		Nodes   []node     `xml:"node"`
		Scalars []object   `xml:"scalar"`
		Tables  []tableDef `xml:"table"`
	} `xml:"nodes"`
	Notifications []notification `xml:"notifications>notification"`
}

type typeRef struct {
	Module string `xml:"module,attr"`
	Name   string `xml:"name,attr"`
}

type namedNumber struct {
	Name   string `xml:"name,attr"`
	Number int64  `xml:"number,attr"`
}

type typedef struct {
	Name     string        `xml:"name,attr"`
	Basetype string        `xml:"basetype,attr"`
	Parent   *typeRef      `xml:"parent"`
	Named    []namedNumber `xml:"namednumber"`
}

type node struct {
	Name string `xml:"name,attr"`
	OID  string `xml:"oid,attr"`
}

type object struct {
	Name   string `xml:"name,attr"`
	OID    string `xml:"oid,attr"`
	Syntax struct {
		Type    *typeRef `xml:"type"`
		Typedef *typedef `xml:"typedef"`
	} `xml:"syntax"`
	Access string `xml:"access"`
}

type tableDef struct {
	Name string `xml:"name,attr"`
	OID  string `xml:"oid,attr"`
	Row  struct {
		Name    string   `xml:"name,attr"`
		OID     string   `xml:"oid,attr"`
		Columns []object `xml:"column"`
	} `xml:"row"`
}

type notification struct {
	Name    string    `xml:"name,attr"`
	OID     string    `xml:"oid,attr"`
	Objects []typeRef `xml:"objects>object"`
}

// genObject is one object as generated.
type genObject struct {
	module, name string
	oid          []uint32
	scalar       bool
	ber, syntax  string
	access       string
}

func main() {
	mib := flag.String("mib", "../mibs/SVGATEWAY-MIB.txt", "the MIB module file")
	defBase := os.Getenv("SVGATEWAY_BASE_MIBS")
	if defBase == "" {
		defBase = "../test/.cache/base-mibs"
	}
	base := flag.String("base", defBase, "directory of the IETF base MIBs (test/run.sh unpacks them; default $SVGATEWAY_BASE_MIBS)")
	out := flag.String("o", "mib_gen.go", "output file")
	flag.Parse()
	// libsmi resolves SMIPATH entries relative to nothing useful: make them absolute.
	mibAbs, err1 := filepath.Abs(*mib)
	baseAbs, err2 := filepath.Abs(*base)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintln(os.Stderr, "mibgen:", err)
		os.Exit(1)
	}
	if _, err := os.Stat(filepath.Join(baseAbs, "SNMPv2-SMI.txt")); err != nil {
		fmt.Fprintf(os.Stderr, "mibgen: no base MIBs in %s (run test/run.sh once, or set SVGATEWAY_BASE_MIBS): %v\n", baseAbs, err)
		os.Exit(1)
	}
	src, err := generate(mibAbs, baseAbs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mibgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mibgen:", err)
		os.Exit(1)
	}
}

// smidump runs smidump -f xml on a module file and decodes its output.
func smidump(file, base string) (*smiDoc, error) {
	cmd := exec.Command("smidump", "-q", "-l", "3", "-f", "xml", file)
	cmd.Env = append(os.Environ(), "SMIPATH="+filepath.Dir(file)+":"+base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("smidump %s: %w: %s", file, err, stderr.String())
	}
	if stderr.Len() > 0 {
		msg := stderr.String()
		if len(msg) > 4000 {
			msg = msg[:4000] + "\n..."
		}
		return nil, fmt.Errorf("smidump %s reports problems:\n%s", file, msg)
	}
	var doc smiDoc
	if err := xml.Unmarshal(outb, &doc); err != nil {
		return nil, fmt.Errorf("smidump %s: decoding its XML: %w", file, err)
	}
	return &doc, nil
}

func generate(mibFile, base string) ([]byte, error) {
	doc, err := smidump(mibFile, base)
	if err != nil {
		return nil, err
	}
	module := doc.Module.Name
	var root []uint32
	for _, n := range doc.Nodes.Nodes {
		if n.Name == doc.Module.Identity.Node {
			if root, err = parseOID(n.OID); err != nil {
				return nil, err
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s: no MODULE-IDENTITY node", module)
	}
	local := map[string]typedef{}
	for _, t := range doc.Typedefs {
		local[t.Name] = t
	}
	objs, err := collect(doc, module, local, nil)
	if err != nil {
		return nil, err
	}
	var extra []genObject
	for _, mod := range slices.Sorted(maps.Keys(baseObjects)) {
		d, err := smidump(filepath.Join(base, mod+".txt"), base)
		if err != nil {
			return nil, err
		}
		want := map[string]bool{}
		for _, n := range baseObjects[mod] {
			want[n] = true
		}
		got, err := collect(d, mod, nil, want)
		if err != nil {
			return nil, err
		}
		if len(got) != len(want) {
			return nil, fmt.Errorf("%s: found %d of the objects %q", mod, len(got), baseObjects[mod])
		}
		extra = append(extra, got...)
	}
	byName := map[string]genObject{}
	for _, o := range append(slices.Clone(objs), extra...) {
		if _, dup := byName[o.name]; dup {
			return nil, fmt.Errorf("object name %s defined twice", o.name)
		}
		byName[o.name] = o
	}

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by internal/mibgen from %s and the IETF base MIBs; DO NOT EDIT.\n\n", filepath.Base(mibFile))
	p("package snmp\n\nimport \"github.com/gosnmp/gosnmp\"\n\n")
	p("// rootOID is %s, the MODULE-IDENTITY of %s: the one place the Go code\n", doc.Module.Identity.Node, module)
	p("// learns the enterprise arc. Every %s OID below is derived from it.\n", module)
	p("var rootOID = OID{%s}\n\n", join(root))
	p("// %s objects.\nvar (\n", module)
	for _, o := range objs {
		rel := o.oid[len(root):]
		p("\t%s = &Object{Module: %q, Name: %q, OID: rootOID.Append(%s), Scalar: %v, Type: gosnmp.%s, Syntax: %q, Access: %s}\n",
			o.name, o.module, o.name, join(rel), o.scalar, o.ber, o.syntax, o.access)
	}
	p(")\n\n// Objects of the IETF base MIBs.\nvar (\n")
	for _, o := range extra {
		p("\t%s = &Object{Module: %q, Name: %q, OID: OID{%s}, Scalar: %v, Type: gosnmp.%s, Syntax: %q, Access: %s}\n",
			o.name, o.module, o.name, join(o.oid), o.scalar, o.ber, o.syntax, o.access)
	}
	p(")\n\n")
	all := append(slices.Clone(objs), extra...)
	slices.SortFunc(all, func(a, b genObject) int { return slices.Compare(a.oid, b.oid) })
	p("var allObjects = []*Object{\n")
	for _, o := range all {
		p("\t%s,\n", o.name)
	}
	p("}\n\n")

	p("// %s notifications.\nvar (\n", module)
	var notifs []string
	for _, n := range doc.Notifications {
		oid, err := parseOID(n.OID)
		if err != nil {
			return nil, err
		}
		if !hasPrefix(oid, root) {
			return nil, fmt.Errorf("notification %s (%s) is not under the module root", n.Name, n.OID)
		}
		var members []string
		for _, m := range n.Objects {
			if _, ok := byName[m.Name]; !ok || (m.Module != module && m.Module != "") {
				return nil, fmt.Errorf("notification %s: object %s::%s is not generated", n.Name, m.Module, m.Name)
			}
			members = append(members, m.Name)
		}
		p("\t%s = &Notification{Name: %q, OID: rootOID.Append(%s), Objects: []*Object{%s}}\n",
			n.Name, n.Name, join(oid[len(root):]), strings.Join(members, ", "))
		notifs = append(notifs, n.Name)
	}
	p(")\n\nvar allNotifications = []*Notification{%s}\n\n", strings.Join(notifs, ", "))

	p("// Enumerations of %s's textual conventions.\nconst (\n", module)
	for _, t := range doc.Typedefs {
		for _, nn := range t.Named {
			p("\t%s%s = %d\n", lowerFirst(t.Name), upperFirst(nn.Name), nn.Number)
		}
	}
	p(")\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the output: %w", err)
	}
	return src, nil
}

// collect returns the scalars and columns of doc (only those named in want
// when want is not nil), in OID order.
func collect(doc *smiDoc, module string, local map[string]typedef, want map[string]bool) ([]genObject, error) {
	var out []genObject
	add := func(o object, scalar bool) error {
		if want != nil && !want[o.Name] {
			return nil
		}
		oid, err := parseOID(o.OID)
		if err != nil {
			return err
		}
		ber, syntax, err := resolve(o, local)
		if err != nil {
			return fmt.Errorf("%s::%s: %w", module, o.Name, err)
		}
		access, ok := map[string]string{"noaccess": "NotAccessible", "notifyonly": "AccessibleForNotify",
			"readonly": "ReadOnly", "readwrite": "ReadWrite", "readcreate": "ReadCreate"}[o.Access]
		if !ok {
			return fmt.Errorf("%s::%s: unknown access %q", module, o.Name, o.Access)
		}
		out = append(out, genObject{module: module, name: o.Name, oid: oid, scalar: scalar, ber: ber, syntax: syntax, access: access})
		return nil
	}
	for _, s := range doc.Nodes.Scalars {
		if err := add(s, true); err != nil {
			return nil, err
		}
	}
	for _, t := range doc.Nodes.Tables {
		for _, c := range t.Row.Columns {
			if err := add(c, false); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(out, func(a, b genObject) int { return slices.Compare(a.oid, b.oid) })
	return out, nil
}

// resolve returns the gosnmp BER type constant name and the syntax as
// written for an object.
func resolve(o object, local map[string]typedef) (ber, syntax string, err error) {
	switch {
	case o.Syntax.Typedef != nil: // an inline refinement: INTEGER { ... }, Unsigned32 (1..n), ...
		t := o.Syntax.Typedef
		syntax = t.Basetype
		if t.Parent != nil {
			syntax = t.Parent.Name
		}
		// Only Integer32, Unsigned32/Gauge32 and OCTET STRING can be
		// refined, so libsmi's base type fixes the tag.
		if ber, ok := baseTypes[t.Basetype]; ok {
			return ber, syntax, nil
		}
		return "", "", fmt.Errorf("unknown base type %q", t.Basetype)
	case o.Syntax.Type != nil:
		ref := *o.Syntax.Type
		if ber, ok := importedTypes[ref.Module+"::"+ref.Name]; ok {
			return ber, ref.Name, nil
		}
		if t, ok := local[ref.Name]; ok && ref.Module != "SNMPv2-SMI" && ref.Module != "" {
			if t.Basetype == "Unsigned32" {
				// Counter32, Gauge32 and TimeTicks all have base type
				// Unsigned32 in libsmi but different tags.
				return "", "", fmt.Errorf("textual convention %s on an unsigned type: give mibgen its tag", ref.Name)
			}
			if ber, ok := baseTypes[t.Basetype]; ok {
				return ber, ref.Name, nil
			}
			return "", "", fmt.Errorf("textual convention %s: unknown base type %q", ref.Name, t.Basetype)
		}
		if ref.Module == "SNMPv2-SMI" || ref.Module == "" {
			if ber, ok := baseTypes[ref.Name]; ok {
				return ber, ref.Name, nil
			}
		}
		return "", "", fmt.Errorf("unknown type %s::%s (add it to importedTypes)", ref.Module, ref.Name)
	}
	return "", "", errors.New("no syntax")
}

func parseOID(s string) ([]uint32, error) {
	var oid []uint32
	for part := range strings.SplitSeq(s, ".") {
		n, err := strconv.ParseUint(part, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad OID %q", s)
		}
		oid = append(oid, uint32(n))
	}
	return oid, nil
}

func hasPrefix(oid, prefix []uint32) bool {
	return len(oid) >= len(prefix) && slices.Equal(oid[:len(prefix)], prefix)
}

func join(oid []uint32) string {
	parts := make([]string, len(oid))
	for i, n := range oid {
		parts[i] = strconv.FormatUint(uint64(n), 10)
	}
	return strings.Join(parts, ", ")
}

func lowerFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

func upperFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
