package snmp

// End-to-end tests of the standalone agent against net-snmp's own tools
// (snmpwalk, snmpbulkwalk, snmpget, snmptable, snmpset), run on loopback
// with SVGATEWAY-MIB loaded from mibs/ and the base MIBs test/run.sh
// unpacks. They skip when the tools are missing, and fail then with
// SVGATEWAY_E2E=1.

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// toolVarbind is one line of net-snmp output: ".oid = TYPE: value".
type toolVarbind struct {
	oid         OID
	typ, value  string
	isException bool
}

func parseToolOutput(t *testing.T, out string) []toolVarbind {
	t.Helper()
	var vbs []toolVarbind
	for _, l := range lines(out) {
		name, rest, ok := strings.Cut(l, " = ")
		if !ok {
			t.Fatalf("unexpected output line %q", l)
		}
		oid, err := ParseOID(name)
		if err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		vb := toolVarbind{oid: oid}
		switch {
		case rest == `""`:
			vb.typ = "STRING"
		case strings.HasPrefix(rest, "No Such") || strings.HasPrefix(rest, "No more variables"):
			vb.typ, vb.isException = rest, true
		default:
			vb.typ, vb.value, ok = strings.Cut(rest, ": ")
			if !ok {
				vb.typ, vb.value = strings.TrimSuffix(rest, ":"), ""
			}
		}
		vbs = append(vbs, vb)
	}
	return vbs
}

// hinted formats n with a "d-k" DISPLAY-HINT the way net-snmp does
// (1234, 3 → "1.234"; 5 → ".005"; -500 → "-.500").
func hinted(n, k int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.Itoa(n)
	for len(s) < k {
		s = "0" + s
	}
	s = s[:len(s)-k] + "." + s[len(s)-k:]
	if neg {
		s = "-" + s
	}
	return s
}

// netsnmpText is how net-snmp prints a varbind of SVGATEWAY-MIB with the
// MIB loaded and -On -Oe -OU: its type word and value.
func netsnmpText(t *testing.T, vb Varbind) (string, string) {
	t.Helper()
	obj, ok := objectOf(vb.OID)
	if !ok {
		t.Fatalf("%s is not a MIB instance", vb.OID)
	}
	switch vb.Type {
	case gosnmp.Integer:
		n := vb.Value.(int)
		switch obj.Syntax {
		case "SvgThousandths":
			return "INTEGER", hinted(n, 3)
		case "SvgHundredths":
			return "INTEGER", hinted(n, 2)
		}
		return "INTEGER", strconv.Itoa(n)
	case gosnmp.Gauge32:
		return "Gauge32", fmt.Sprint(vb.Value)
	case gosnmp.Counter64:
		return "Counter64", fmt.Sprint(vb.Value)
	case gosnmp.OctetString:
		var b []byte
		switch v := vb.Value.(type) {
		case string:
			b = []byte(v)
		case []byte:
			b = v
		}
		if obj.Syntax == "DateAndTime" {
			return "STRING", fmt.Sprintf("%d-%d-%d,%d:%d:%d.%d,%c%d:%d", int(b[0])<<8|int(b[1]), b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10])
		}
		return "STRING", string(b)
	case gosnmp.ObjectIdentifier:
		return "OID", "." + vb.Value.(string)
	}
	t.Fatalf("%s: type %s not expected", vb.OID, vb.Type)
	return "", ""
}

// agentWalk returns what a walk of everything should return: the agent's
// own groups and the MIB's instances, in order.
func agentWalk(t *testing.T, a *Agent) ([]OID, *View) {
	t.Helper()
	v := a.mib.View(a.store.Snapshot())
	all := &access{}
	var oids []OID
	for oid := (OID{0}); len(oids) < 10_000_000; {
		vb := a.next(v, all, oid, nil)
		if vb.typ == gosnmp.EndOfMibView {
			return oids, v
		}
		oids = append(oids, vb.oid)
		oid = vb.oid
	}
	t.Fatal("walk does not end")
	return nil, nil
}

// checkToolWalk compares a tool's walk with the agent's own: the same
// instances in the same order, and every SVGATEWAY-MIB value printed as
// the view holds it. The agent's own counters change between the two and
// are compared by name only.
func checkToolWalk(t *testing.T, a *Agent, got []toolVarbind) {
	t.Helper()
	want, v := agentWalk(t, a)
	// Walking .1, the tools print the endOfMibView that ends the walk.
	if n := len(got); n > 0 && got[n-1].isException && strings.HasPrefix(got[n-1].typ, "No more variables") {
		got = got[:n-1]
	}
	if len(got) != len(want) {
		t.Errorf("tool walked %d instances, agent has %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !got[i].oid.Equal(want[i]) {
			t.Fatalf("instance %d: tool %s, agent %s", i, got[i].oid, want[i])
		}
		if !got[i].oid.HasPrefix(rootOID) {
			continue
		}
		typ, val := netsnmpText(t, v.Get(got[i].oid))
		if got[i].typ != typ || got[i].value != val {
			t.Errorf("%s: tool printed %s: %q, the model holds %s: %q", got[i].oid, got[i].typ, got[i].value, typ, val)
		}
	}
}

const (
	testCommunity = "public-test"
	authPass      = "auth-pass-1"
	privPass      = "priv-pass-1"
)

// testUsers cover the hash family and the AES key sizes.
var testUsers = []User{
	{Name: "sha256aes", AuthProtocol: "SHA-256", AuthPassphrase: authPass, PrivProtocol: "AES", PrivPassphrase: privPass},
	{Name: "sha1aes", AuthProtocol: "SHA", AuthPassphrase: authPass, PrivProtocol: "AES", PrivPassphrase: privPass},
	{Name: "sha512aes256", AuthProtocol: "SHA-512", AuthPassphrase: authPass, PrivProtocol: "AES-256", PrivPassphrase: privPass},
	{Name: "sha384aes192", AuthProtocol: "SHA-384", AuthPassphrase: authPass, PrivProtocol: "AES-192", PrivPassphrase: privPass},
	{Name: "sha224auth", AuthProtocol: "SHA-224", AuthPassphrase: authPass},
}

func testConfig() Config {
	return Config{Communities: []Community{{Name: testCommunity, Sources: []string{"127.0.0.0/8"}}}, Users: testUsers}
}

// v3Args returns net-snmp options for a test user.
func v3Args(u User) []string {
	args := []string{"-v3", "-u", u.Name, "-a", u.AuthProtocol, "-A", u.AuthPassphrase}
	if u.PrivProtocol == "" {
		return append(args, "-l", "authNoPriv")
	}
	return append(args, "-l", "authPriv", "-x", u.PrivProtocol, "-X", u.PrivPassphrase)
}

func v2cArgs() []string { return []string{"-v2c", "-c", testCommunity} }

// TestNetSNMPWalk walks everything with snmpwalk and snmpbulkwalk, over
// v2c and over v3 with every kind of user: net-snmp must see exactly the
// agent's instances, in order, with the model's values, and complain about
// nothing (no "OID not increasing").
func TestNetSNMPWalk(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, testConfig(), store, Deps{})
	cases := []struct {
		name string
		tool string
		args []string
	}{
		{"v2c bulkwalk", "snmpbulkwalk", append(v2cArgs(), "-Cr50")},
		{"v2c bulkwalk Cr7", "snmpbulkwalk", append(v2cArgs(), "-Cr7")},
		{"v2c walk", "snmpwalk", v2cArgs()},
	}
	for _, u := range testUsers {
		cases = append(cases, struct {
			name string
			tool string
			args []string
		}{"v3 " + u.Name + " bulkwalk", "snmpbulkwalk", append(v3Args(u), "-Cr50")})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append(withMIB(t), c.args...), "-On", "-Oe", "-OU", addr, ".1")
			out, stderr, err := netsnmp(t, c.tool, args...)
			if err != nil || stderr != "" {
				t.Fatalf("%s: %v\n%s", c.tool, err, stderr)
			}
			checkToolWalk(t, a, parseToolOutput(t, out))
		})
	}
}

// TestNetSNMPGetMatchesWalk GETs every instance a walk returned, in
// batches, and gets the same values; then GETs what does not exist.
func TestNetSNMPGetMatchesWalk(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, testConfig(), store, Deps{})
	opts := append(append(withMIB(t), v2cArgs()...), "-On", "-Oe", "-OU")
	out, stderr, err := netsnmp(t, "snmpbulkwalk", append(opts, addr, rootOID.String())...)
	if err != nil || stderr != "" {
		t.Fatalf("snmpbulkwalk: %v\n%s", err, stderr)
	}
	walked := parseToolOutput(t, out)
	for from := 0; from < len(walked); from += 60 {
		batch := walked[from:min(from+60, len(walked))]
		args := append(slices.Clone(opts), addr)
		for _, vb := range batch {
			args = append(args, "."+vb.oid.String())
		}
		out, stderr, err := netsnmp(t, "snmpget", args...)
		if err != nil || stderr != "" {
			t.Fatalf("snmpget: %v\n%s", err, stderr)
		}
		got := parseToolOutput(t, out)
		if len(got) != len(batch) {
			t.Fatalf("snmpget returned %d varbinds for %d", len(got), len(batch))
		}
		for i := range got {
			if !slices.Equal(got[i].oid, batch[i].oid) || got[i].typ != batch[i].typ || got[i].value != batch[i].value {
				t.Errorf("GET %s = %s %q, walk gave %s %q", batch[i].oid, got[i].typ, got[i].value, batch[i].typ, batch[i].value)
			}
		}
	}
	// A reading upstream sent as "NA" has no instance.
	v := a.mib.View(store.Snapshot())
	var absent OID
	for _, vb := range walked {
		if vb.oid.HasPrefix(svgPowerSoldKvaText.OID) && vb.value == "NA" {
			absent = svgPowerSoldKva.OID.Append(vb.oid[len(vb.oid)-1])
			break
		}
	}
	if absent == nil || v.Get(absent).Type != gosnmp.NoSuchInstance {
		t.Fatalf("fixture has no absent sold kVA (%v)", absent)
	}
	out, _, _ = netsnmp(t, "snmpget", append(opts, addr, "."+svgCageId.OID.Append(999999).String(), ".1.3.6.1.4.1.32473.1.99.0", "."+absent.String())...)
	got := parseToolOutput(t, out)
	if len(got) != 3 || !strings.HasPrefix(got[0].typ, "No Such Instance") || !strings.HasPrefix(got[1].typ, "No Such Object") || !strings.HasPrefix(got[2].typ, "No Such Instance") {
		t.Errorf("GET of missing instances:\n%s", out)
	}
}

// TestNetSNMPTable reads every table with snmptable: the rows and cells
// the model has ("?" where a reading is absent).
func TestNetSNMPTable(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, testConfig(), store, Deps{})
	v := a.mib.View(store.Snapshot())
	for _, table := range []string{"svgIbxTable", "svgZoneTable", "svgCageTable", "svgCabinetTable", "svgCircuitTable", "svgSensorTable",
		"svgPowerTable", "svgEnvTable", "svgAssetTable", "svgTagTable", "svgAlarmTable", "svgAlertTable"} {
		t.Run(table, func(t *testing.T) {
			args := append(append(withMIB(t), v2cArgs()...), "-Oe", "-OU", "-Ci", "-Cf", "\t", "-Cb", addr, "SVGATEWAY-MIB::"+table)
			out, stderr, err := netsnmp(t, "snmptable", args...)
			if err != nil || stderr != "" {
				t.Fatalf("snmptable: %v\n%s", err, stderr)
			}
			ls := lines(out)
			// "SNMP table: ...", the header, then one line per row.
			if len(ls) < 2 || !strings.HasPrefix(ls[0], "SNMP table: SVGATEWAY-MIB::"+table) {
				t.Fatalf("snmptable output:\n%s", out)
			}
			header := strings.Split(ls[1], "\t")
			var cols []*Object
			for _, h := range header[1:] {
				obj, ok := tableColumn(table, h)
				if !ok {
					t.Fatalf("column %q of %s not in the MIB", h, table)
				}
				cols = append(cols, obj)
			}
			rows := 0
			for _, l := range ls[2:] {
				cells := strings.Split(l, "\t")
				idx, err := strconv.ParseUint(strings.TrimPrefix(cells[0], "index: "), 10, 32)
				if err != nil || len(cells) != len(header) {
					t.Fatalf("row %q", l)
				}
				rows++
				for i, obj := range cols {
					vb := v.Get(obj.OID.Append(uint32(idx)))
					want := "?"
					if vb.Type != gosnmp.NoSuchInstance {
						_, want = netsnmpText(t, vb)
					}
					if vb.Type == gosnmp.ObjectIdentifier { // snmptable prints OIDs by name
						want = symbolicOID(t, vb.Value.(string))
					}
					if got := strings.Trim(cells[i+1], `"`); got != want {
						t.Errorf("%s.%d = %q, want %q", obj.Name, idx, got, want)
					}
				}
			}
			if want := tableRows(t, v, cols[0]); rows != want {
				t.Errorf("%d rows, the model has %d", rows, want)
			}
		})
	}
}

// symbolicOID is how net-snmp names an instance OID with the MIB loaded.
func symbolicOID(t *testing.T, s string) string {
	t.Helper()
	if s == "0.0" {
		return "SNMPv2-SMI::zeroDotZero"
	}
	oid := MustParseOID(s)
	for _, at := range AlarmTypes() {
		if at.OID().Equal(oid) {
			return "SVGATEWAY-MIB::" + at.Name
		}
	}
	obj, ok := objectOf(oid)
	if !ok {
		t.Fatalf("%s is no MIB instance", s)
	}
	return fmt.Sprintf("%s::%s.%d", obj.Module, obj.Name, oid[len(oid)-1])
}

// tableColumn finds a column of a table by its label in snmptable's header
// (the object name without the table's prefix, as -Cb prints it).
func tableColumn(table, label string) (*Object, bool) {
	prefix := strings.TrimSuffix(table, "Table")
	for _, o := range Objects() {
		if o.Name == label || o.Name == prefix+label {
			return o, true
		}
	}
	return nil, false
}

// tableRows counts the rows of a column's table in the view.
func tableRows(t *testing.T, v *View, col *Object) int {
	t.Helper()
	entry := entryOf(col)
	for _, st := range v.tree.subtrees {
		if st.prefix.Equal(entry) {
			return st.rows(v).Len()
		}
	}
	t.Fatalf("no table for %s", col.Name)
	return 0
}

// TestNetSNMPRefusals: a wrong community gets no answer (counted), wrong
// v3 keys and unknown users get the USM report net-snmp names (never
// data), a user below its security level is refused, and SET is refused.
func TestNetSNMPRefusals(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	a, addr := startAgent(t, testConfig(), store, Deps{})
	get := func(args ...string) (string, string, error) {
		return netsnmp(t, "snmpget", append(append([]string{"-On", "-t", "1", "-r", "0"}, args...), addr, "."+svgUpstreamState.OID.Append(0).String())...)
	}
	t.Run("wrong community", func(t *testing.T) {
		before := a.stats.reasons[dropBadCommunity].Load()
		out, stderr, err := get("-v2c", "-c", "wrong")
		if err == nil || out != "" || !strings.Contains(stderr, "Timeout") {
			t.Errorf("got %v, stdout %q, stderr %q; want a timeout", err, out, stderr)
		}
		if n := a.stats.reasons[dropBadCommunity].Load(); n != before+1 {
			t.Errorf("bad community counted %d times", n-before)
		}
	})
	t.Run("v1 on a v2c-only community", func(t *testing.T) {
		// RFC 3584 4.4: the access check fails (authorizationError), which
		// SNMPv1 carries as noSuchName; snmpInBadCommunityUses counts it.
		before := a.stats.reasons[respVersionRefused].Load()
		if out, stderr, err := get("-v1", "-c", testCommunity); err == nil || strings.Contains(out, "INTEGER") || !strings.Contains(stderr, "noSuchName") {
			t.Errorf("v1 answered: %v %q %q", err, out, stderr)
		}
		if n := a.stats.reasons[respVersionRefused].Load(); n != before+1 {
			t.Errorf("refusal counted %d times", n-before)
		}
	})
	u := testUsers[0]
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong auth passphrase", []string{"-v3", "-l", "authPriv", "-u", u.Name, "-a", u.AuthProtocol, "-A", "wrong-pass", "-x", "AES", "-X", privPass}, "Authentication failure"},
		{"wrong auth protocol", []string{"-v3", "-l", "authPriv", "-u", u.Name, "-a", "SHA", "-A", authPass, "-x", "AES", "-X", privPass}, "Authentication failure"},
		{"wrong priv passphrase", []string{"-v3", "-l", "authPriv", "-u", u.Name, "-a", u.AuthProtocol, "-A", authPass, "-x", "AES", "-X", "wrong-pass"}, "Decryption error"},
		{"unknown user", []string{"-v3", "-l", "authPriv", "-u", "nobody", "-a", "SHA", "-A", authPass, "-x", "AES", "-X", privPass}, "Unknown user name"},
		{"priv for an authNoPriv user", []string{"-v3", "-l", "authPriv", "-u", "sha224auth", "-a", "SHA-224", "-A", authPass, "-x", "AES", "-X", privPass}, "Unsupported security level"},
		{"authNoPriv for an authPriv user", []string{"-v3", "-l", "authNoPriv", "-u", u.Name, "-a", u.AuthProtocol, "-A", authPass}, "authorizationError"},
		{"noAuthNoPriv", []string{"-v3", "-l", "noAuthNoPriv", "-u", u.Name}, "authorizationError"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := get(c.args...)
			if err == nil || !strings.Contains(out+stderr, c.want) {
				t.Errorf("got %v\nstdout %q\nstderr %q\nwant %q", err, out, stderr, c.want)
			}
			if strings.Contains(out, "INTEGER") {
				t.Errorf("data returned: %q", out)
			}
		})
	}
	for _, c := range []struct {
		name string
		args []string
	}{{"v2c", v2cArgs()}, {"v3", v3Args(u)}} {
		t.Run("set "+c.name, func(t *testing.T) {
			out, stderr, err := netsnmp(t, "snmpset", append(append([]string{"-On", "-t", "2", "-r", "0"}, c.args...), addr, "."+svgCageLabel.OID.Append(3).String(), "s", "x")...)
			if err == nil || !strings.Contains(stderr, "noAccess") || !strings.Contains(stderr, svgCageLabel.OID.Append(3).String()) {
				t.Errorf("snmpset: %v %q %q; want noAccess on the varbind", err, out, stderr)
			}
		})
	}
}

// TestNetSNMPIndexesStable: the indexes a manager walked stay the same
// across an agent restart on the same state directory and across a
// structure refresh that adds and removes rows.
func TestNetSNMPIndexesStable(t *testing.T) {
	dir := t.TempDir()
	ids := func(addr string) map[string]map[uint32]string {
		out := map[string]map[uint32]string{}
		for _, col := range []*Object{svgIbxId, svgCageId, svgCabinetId, svgCircuitId, svgAssetId, svgTagId} {
			stdout, stderr, err := netsnmp(t, "snmpbulkwalk", append(v2cArgs(), "-On", "-Oq", "-Cr50", addr, col.OID.String())...)
			if err != nil || stderr != "" {
				t.Fatalf("snmpbulkwalk: %v\n%s", err, stderr)
			}
			out[col.Name] = map[uint32]string{}
			for _, l := range lines(stdout) {
				name, val, _ := strings.Cut(l, " ")
				oid, _ := ParseOID(name)
				out[col.Name][oid[len(oid)-1]] = strings.Trim(val, `"`)
			}
		}
		return out
	}
	store := newFixtureStore(t, smallFootprint())
	_, addr1, stop := runAgent(t, testConfig(), store, Deps{StateDir: dir})
	before := ids(addr1)
	stop()
	// A "restarted" agent: a new one on the same state directory, over a
	// new store built from the same footprint in another order.
	store2 := newFixtureStore(t, map[string]model.IBXStructure{"SV4": footprint("SV4", 3, 1, 2, 2, 3), "CH1": footprint("CH1", 2, 2, 3, 3, 4)})
	_, addr2 := startAgent(t, testConfig(), store2, Deps{StateDir: dir})
	if after := ids(addr2); !maps.EqualFunc(before, after, maps.Equal) {
		t.Errorf("indexes changed across a restart:\nbefore %v\nafter  %v", before, after)
	}
	// Refresh: CH1 loses cage 0 (and what is in it), gains cages 2 and 3.
	ch1 := footprint("CH1", 4, 2, 3, 4, 4)
	var kept []model.Location
	for _, l := range ch1.Locations {
		if !strings.Contains(l.ID.Name, "CH1:01:000000") && !strings.HasPrefix(l.ID.Name, "CH1-000") {
			kept = append(kept, l)
		}
	}
	ch1.Locations = kept
	unlink(&ch1, "CH1:01:000000")
	store2.Update(func(tx *model.Tx) error { tx.SetStructure(map[string]model.IBXStructure{"CH1": ch1}); return nil })
	after := ids(addr2)
	for col, m := range after {
		byID := map[string]uint32{}
		for idx, id := range before[col] {
			byID[id] = idx
		}
		for idx, id := range m {
			if old, ok := byID[id]; ok && old != idx {
				t.Errorf("%s: %s moved from %d to %d", col, id, old, idx)
			}
			if prev, ok := before[col][idx]; ok && prev != id {
				t.Errorf("%s: index %d now %s, was %s", col, idx, id, prev)
			}
		}
	}
	if len(after["svgCageId"]) != len(before["svgCageId"])+1 {
		t.Errorf("cages: %d after, %d before (one removed, two added)", len(after["svgCageId"]), len(before["svgCageId"]))
	}
}

// TestNetSNMPTooBig: with a small message size a GET that cannot fit gets
// tooBig, and a bulk walk still completes (responses shortened to fit).
func TestNetSNMPTooBig(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	cfg := testConfig()
	cfg.MaxMessageSize = 484
	a, addr := startAgent(t, cfg, store, Deps{})
	args := append(v2cArgs(), "-On", addr)
	for i := uint32(1); i <= 30; i++ {
		args = append(args, "."+svgAlarmKey.OID.Append(1).String(), "."+svgTagId.OID.Append(i).String())
	}
	out, stderr, err := netsnmp(t, "snmpget", args...)
	if err == nil || !strings.Contains(stderr+out, "tooBig") {
		t.Errorf("snmpget of 60 long strings in 484 octets: %v %q %q", err, out, stderr)
	}
	for _, tool := range []struct {
		name string
		args []string
	}{{"snmpbulkwalk", []string{"-Cr200"}}, {"snmpwalk", nil}} {
		out, stderr, err = netsnmp(t, tool.name, append(append(append(withMIB(t), v2cArgs()...), tool.args...), "-On", "-Oe", "-OU", addr, ".1")...)
		if err != nil || stderr != "" {
			t.Fatalf("%s: %v\n%s", tool.name, err, stderr)
		}
		checkToolWalk(t, a, parseToolOutput(t, out))
	}
	// The v3 manager's own msgMaxSize bounds responses too.
	out, stderr, err = netsnmp(t, "snmpbulkwalk", append(append(v3Args(testUsers[0]), "-Cr100", "-On"), addr, rootOID.String())...)
	if err != nil || stderr != "" || len(lines(out)) == 0 {
		t.Errorf("v3 bulkwalk at 484 octets: %v %q", err, stderr)
	}
}

// TestNetSNMPBulkAmplificationCapped: a v2c GETBULK asking for 200
// repetitions gets an answer of at most v2c_max_bulk_size octets (default
// 1472, as net-snmp's snmpbulkget -d sees it on the wire), shortened but
// not empty; raising the cap gives the same request more, so the cap is
// what bounds it.
func TestNetSNMPBulkAmplificationCapped(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	wire := regexp.MustCompile(`(?m)^(Sending|Received) (\d+) (?:bytes|byte packet)`)
	bulk := func(cfg Config) (sent, received, varbinds int) {
		t.Helper()
		_, addr := startAgent(t, cfg, store, Deps{})
		out, stderr, err := netsnmp(t, "snmpbulkget", append(v2cArgs(), "-d", "-On", "-Cn0", "-Cr200", addr, rootOID.String())...)
		if err != nil {
			t.Fatalf("snmpbulkget: %v\n%s", err, stderr)
		}
		for _, m := range wire.FindAllStringSubmatch(out+stderr, -1) {
			n, _ := strconv.Atoi(m[2])
			if m[1] == "Sending" {
				sent = n
			} else {
				received = n
			}
		}
		for _, l := range lines(out) {
			if strings.HasPrefix(l, ".") && strings.Contains(l, " = ") {
				varbinds++
			}
		}
		if sent == 0 || received == 0 {
			t.Fatalf("no packet sizes in snmpbulkget -d output:\n%s\n%s", out, stderr)
		}
		return sent, received, varbinds
	}
	sent, got, n := bulk(testConfig())
	t.Logf("default cap: %d octets sent, %d received (×%.0f), %d varbinds", sent, got, float64(got)/float64(sent), n)
	if got > defaultV2cMaxBulkSize || n == 0 || n >= 200 {
		t.Errorf("GETBULK of 200 repetitions: %d octets, %d varbinds; want at most %d octets, shortened but not empty", got, n, defaultV2cMaxBulkSize)
	}
	cfg := testConfig()
	cfg.V2cMaxBulkSize = defaultMaxMessageSize
	sentUncapped, gotUncapped, nUncapped := bulk(cfg)
	t.Logf("v2c_max_bulk_size = %d: %d octets sent, %d received (×%.0f), %d varbinds", defaultMaxMessageSize,
		sentUncapped, gotUncapped, float64(gotUncapped)/float64(sentUncapped), nUncapped)
	if gotUncapped <= defaultV2cMaxBulkSize || nUncapped <= n {
		t.Errorf("with v2c_max_bulk_size = %d: %d octets, %d varbinds; want more than the capped %d octets, %d varbinds",
			defaultMaxMessageSize, gotUncapped, nUncapped, got, n)
	}
}

// TestNetSNMPListenFamilies: the agent's sockets (blocking, read outside
// the net package on Linux) answer IPv4 and IPv6 managers on the address
// families the listen address names (":0" is dual-stack: an IPv4 manager
// arrives IPv4-mapped and must still match an IPv4 community source), send
// the answer back to the manager's port, and refuse a source the community
// does not allow; stopping the agent returns (the readers are woken).
func TestNetSNMPListenFamilies(t *testing.T) {
	store := newFixtureStore(t, smallFootprint())
	for _, c := range []struct {
		listen, target string
		sources        []string
		answered       bool
	}{
		{"127.0.0.1:0", "udp:127.0.0.1", []string{"127.0.0.0/8"}, true},
		{"[::1]:0", "udp6:[::1]", nil, true},
		{"[::1]:0", "udp6:[::1]", []string{"127.0.0.0/8"}, false},
		{"[::]:0", "udp:127.0.0.1", []string{"127.0.0.0/8"}, true},
		{"[::]:0", "udp6:[::1]", []string{"::1/128"}, true},
	} {
		t.Run(c.listen+" from "+c.target, func(t *testing.T) {
			cfg := Config{Listen: c.listen, Communities: []Community{{Name: testCommunity, Sources: c.sources}}}
			a, addr, stop := runAgent(t, cfg, store, Deps{})
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatal(err)
			}
			out, stderr, err := netsnmp(t, "snmpget", append(v2cArgs(), "-On", "-t", "1", "-r", "0", c.target+":"+port, "."+svgUpstreamState.OID.Append(0).String())...)
			if c.answered && (err != nil || !strings.Contains(out, "INTEGER")) {
				t.Errorf("snmpget: %v %q %q; want an answer", err, out, stderr)
			}
			if !c.answered && (err == nil || !strings.Contains(stderr, "Timeout")) {
				t.Errorf("snmpget: %v %q %q; want no answer", err, out, stderr)
			}
			if n := a.stats.reasons[dropBadCommunity].Load(); c.answered == (n != 0) {
				t.Errorf("%d requests refused for their source", n)
			}
			stop()
		})
	}
}
