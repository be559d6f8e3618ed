// This file tests the redundant pair ([cluster]): a real three-member etcd
// cluster on loopback, two gateways as separate processes against one
// standalone sandbox, and a v2c inform target at snmptrapd.

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/svgateway/svgateway/internal/netsnmptest"
	"github.com/svgateway/svgateway/internal/svctest"
)

// etcdMember is one etcd process of an etcdCluster.
type etcdMember struct {
	t      testing.TB
	args   []string
	log    *svctest.Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// etcdCluster is a real etcd cluster on loopback, data in t.TempDir().
type etcdCluster struct {
	Endpoints []string
	Members   []*etcdMember
}

// startEtcd starts an n-member etcd cluster and waits until it has a
// leader; every member is stopped when the test ends.
func startEtcd(t testing.TB, n int) *etcdCluster {
	t.Helper()
	bin := requireTool(t, "etcd")
	dir := t.TempDir()
	type ports struct{ client, peer int }
	ps := make([]ports, n)
	var initial []string
	for i := range ps {
		ps[i] = ports{freePort(t, "tcp"), freePort(t, "tcp")}
		initial = append(initial, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ps[i].peer))
	}
	c := &etcdCluster{}
	for i, p := range ps {
		client := fmt.Sprintf("http://127.0.0.1:%d", p.client)
		peer := fmt.Sprintf("http://127.0.0.1:%d", p.peer)
		m := &etcdMember{t: t, log: &svctest.Buffer{}, args: []string{bin,
			"--name", fmt.Sprintf("m%d", i), "--data-dir", filepath.Join(dir, fmt.Sprintf("m%d", i)),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "svgateway-e2e", "--heartbeat-interval", "50", "--election-timeout", "500",
			"--listen-metrics-urls", fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "tcp")),
		}}
		c.Endpoints = append(c.Endpoints, client)
		c.Members = append(c.Members, m)
		m.Start()
		t.Cleanup(func() {
			m.Stop()
			if t.Failed() {
				t.Logf("etcd m%d log (tail):\n%s", i, tail(m.log.String(), 3000))
			}
		})
	}
	WaitFor(t, 30*time.Second, "the etcd cluster healthy", func() bool {
		for _, e := range c.Endpoints {
			if b, err := httpGetQuiet(e + "/health"); err != nil || !strings.Contains(b, `"health":"true"`) {
				return false
			}
		}
		return true
	})
	return c
}

// Start (re)starts the member on its data directory.
func (m *etcdMember) Start() {
	m.cmd = exec.Command(m.args[0], m.args[1:]...)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	m.exited = make(chan struct{})
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(m.cmd, m.exited)
}

// Stop stops the member (SIGTERM, then SIGKILL after 10 s); safe twice.
func (m *etcdMember) Stop() {
	if m.cmd == nil {
		return
	}
	select {
	case <-m.exited:
		return
	default:
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-m.exited
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// pairOptions configure startPairMember.
type pairOptions struct {
	Node, SandboxURL string
	Endpoints        []string
	TrapdAddr        string
	LeaseTTL         string
	SNMPPort         int // the agent's UDP port (v2c community public)
	OPCUAPort        int // 0: no OPC UA server
	Dir              string
}

// startPairMember starts a gateway of the pair in live mode against the
// standalone sandbox, with [cluster] on the etcd cluster, and waits until
// it is ready (reads served).
func startPairMember(t testing.TB, o pairOptions) *Gateway {
	t.Helper()
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	statusPort := freePort(t, "tcp")
	state := filepath.Join(dir, "state")
	var eps []string
	for _, e := range o.Endpoints {
		eps = append(eps, fmt.Sprintf("%q", e))
	}
	cfg := fmt.Sprintf(`state_dir = %q
log_level = "debug"
%s
[sync]
values_interval = "1s"
stale_after = "30s"
[status]
listen = "127.0.0.1:%d"
[cluster]
etcd_endpoints = [%s]
node = %q
lease_ttl = %q
[snmp]
listen = "127.0.0.1:%d"
engine_id = %q
[[snmp.communities]]
name = "public"
sources = ["127.0.0.1/32"]
[[snmp.targets]]
address = %q
version = "v2c"
kind = "inform"
community = "public"
timeout = "1s"
queue_size = 100000
`, state, liveSmartView(o.SandboxURL), statusPort, strings.Join(eps, ", "), o.Node, o.LeaseTTL, o.SNMPPort, e2eEngineID, o.TrapdAddr)
	if o.OPCUAPort != 0 {
		cfg += fmt.Sprintf("[opcua]\nendpoint = \"opc.tcp://127.0.0.1:%d\"\nallow_anonymous = true\nauto_accept_clients = true\napplication_uri = \"urn:svgateway:%s\"\n", o.OPCUAPort, o.Node)
	}
	g := &Gateway{t: t, Dir: dir, StateDir: state, Config: cfg, StatusURL: fmt.Sprintf("http://127.0.0.1:%d", statusPort)}
	g.launch(gatewayBin, nil, "gateway "+o.Node, 20000)
	g.WaitReady(60 * time.Second)
	return g
}

// leads reports whether g says it leads (false if it does not answer).
func leads(g *Gateway) bool {
	b, err := httpGetQuiet(g.StatusURL + "/metrics")
	return err == nil && strings.Contains(b, "\nsvgateway_cluster_leader 1\n")
}

// leaderChanges lists the nodes svgClusterLeaderChanged named, in order.
func leaderChanges(d *netsnmptest.Snmptrapd) []string {
	var out []string
	for _, n := range d.Notifications() {
		if trap, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0"); strings.HasSuffix(trap, "svgClusterLeaderChanged") {
			node, _ := n.Value("SVGATEWAY-MIB::svgClusterNode.0")
			out = append(out, strings.Trim(strings.TrimPrefix(node, "STRING: "), `"`))
		}
	}
	return out
}

// clusterScalars reads svgClusterRole, svgClusterNode, svgClusterLeader and
// svgClusterConnected at a gateway's agent (v2c public), values only.
func clusterScalars(t *testing.T, port int) string {
	t.Helper()
	requireTool(t, "snmpget")
	mibs, _ := filepath.Abs("../mibs")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "snmpget", "-M", mibs+":"+baseMIBs(t), "-m", "SVGATEWAY-MIB", "-v2c", "-c", "public", "-t", "2", "-r", "1",
		"-Oqv", fmt.Sprintf("udp:127.0.0.1:%d", port),
		"SVGATEWAY-MIB::svgClusterRole.0", "SVGATEWAY-MIB::svgClusterNode.0", "SVGATEWAY-MIB::svgClusterLeader.0", "SVGATEWAY-MIB::svgClusterConnected.0")
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS=", "SNMPCONFPATH="+t.TempDir(), "SNMP_PERSISTENT_DIR="+t.TempDir())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Errorf("snmpget at %d: %v\n%s", port, err, errOut.String())
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(out.String(), `"`, "")), " ")
}

// stormAlarm drives one alarm of the storm in the standalone sandbox.
func stormAlarm(t testing.TB, sandboxURL, action string, i int) {
	body := fmt.Sprintf(`{"action":%q,"assetId":"CH1.Gen-2","tagId":"CH1.Gen-2:voltage","conditionName":"Storm %04d","severity":650}`, action, i)
	postQuiet(sandboxURL+"/_sandbox/alarms", body)
}

// ledgerCheck is what snmptrapd received of the storm's alarms.
type ledgerCheck struct {
	lost, duplicated, reused int
	missing                  []string
}

// checkStorm counts, over every alarm notification snmptrapd logged, the
// storm alarms missing a transition (raised, acknowledged, cleared), the
// transitions received more than once, and the alarm ids that name more
// than one alarm (or alarms with more than one id).
func checkStorm(d *netsnmptest.Snmptrapd, storm int) ledgerCheck {
	var c ledgerCheck
	type alarmKey struct{ condition, triggered string }
	idsOf := map[alarmKey]map[string]bool{}
	alarmsOf := map[string]map[alarmKey]bool{}
	got := map[string]int{} // condition/kind → count
	for _, n := range d.Notifications() {
		id, ok := n.Value("SVGATEWAY-MIB::svgAlarmId.")
		if !ok {
			continue
		}
		cond, _ := n.Value("SVGATEWAY-MIB::svgAlarmCondition.")
		cond = strings.Trim(strings.TrimPrefix(cond, "STRING: "), `"`)
		trig, _ := n.Value("SVGATEWAY-MIB::svgAlarmTriggeredTime.")
		trap, _ := n.Value("SNMPv2-MIB::snmpTrapOID.0")
		k := alarmKey{cond, trig}
		if idsOf[k] == nil {
			idsOf[k] = map[string]bool{}
		}
		idsOf[k][id] = true
		if alarmsOf[id] == nil {
			alarmsOf[id] = map[alarmKey]bool{}
		}
		alarmsOf[id][k] = true
		got[cond+" "+strings.TrimPrefix(trap, "OID: SVGATEWAY-MIB::")]++
	}
	for _, ids := range idsOf {
		if len(ids) > 1 {
			c.reused += len(ids) - 1
		}
	}
	for _, as := range alarmsOf {
		if len(as) > 1 {
			c.reused += len(as) - 1
		}
	}
	for i := range storm {
		for _, kind := range []string{"svgAlarmRaised", "svgAlarmAcknowledged", "svgAlarmCleared"} {
			key := fmt.Sprintf("Storm %04d %s", i, kind)
			switch n := got[key]; {
			case n == 0:
				c.lost++
				c.missing = append(c.missing, key)
			case n > 1:
				c.duplicated += n - 1
			}
		}
	}
	return c
}

// TestPairFailoverDuringAlarmStorm: the leader of a gateway pair on a
// three-member etcd cluster is killed (-9) in the middle of an alarm
// storm; the standby takes over within the lease TTL + 2 s, and snmptrapd
// ends with every transition of every storm alarm (0 lost), no alarm id
// naming two alarms; duplicates are counted and logged.
func TestPairFailoverDuringAlarmStorm(t *testing.T) {
	requireTool(t, "etcd")
	etcd := startEtcd(t, 3)
	sandbox := StartSandbox(t, "tick = \"1h\"\nclient_id = \"sandbox\"\nclient_secret = \"sandbox-secret\"")
	trapd := startTrapd(t, 0)
	const ttl = 3 * time.Second
	snmpPorts := map[string]int{"gw-a": freePort(t, "udp"), "gw-b": freePort(t, "udp")}
	opts := func(node string) pairOptions {
		return pairOptions{Node: node, SandboxURL: sandbox, Endpoints: etcd.Endpoints, TrapdAddr: trapd.Addr,
			LeaseTTL: ttl.String(), SNMPPort: snmpPorts[node]}
	}
	a := startPairMember(t, opts("gw-a"))
	WaitFor(t, 30*time.Second, "gw-a leading", func() bool { return leads(a) })
	b := startPairMember(t, opts("gw-b"))
	WaitFor(t, 30*time.Second, "svgClusterLeaderChanged naming gw-a", func() bool { return slices.Contains(leaderChanges(trapd), "gw-a") })
	scalars := clusterScalars(t, snmpPorts["gw-b"])
	for deadline := time.Now().Add(30 * time.Second); scalars != "standby gw-b gw-a true" && time.Now().Before(deadline); scalars = clusterScalars(t, snmpPorts["gw-b"]) {
		time.Sleep(200 * time.Millisecond)
	}
	if scalars != "standby gw-b gw-a true" {
		t.Fatalf("gw-b: svgClusterRole, Node, Leader, Connected: %q, want standby gw-b gw-a true", scalars)
	}
	if got := clusterScalars(t, snmpPorts["gw-a"]); got != "leader gw-a gw-a true" {
		t.Errorf("gw-a svgCluster scalars %q", got)
	}
	if leads(b) {
		t.Fatal("gw-b leads while gw-a does")
	}
	if h := b.Model().Health.Cluster; h == nil || h.Role != "standby" || h.Node != "gw-b" || h.Leader != "gw-a" || !h.Connected {
		t.Errorf("gw-b /api/model health.cluster: %+v", h)
	}

	const storm = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A sliding window: raise i, acknowledge i-3, clear i-6; 150 ms apart.
		for i := 0; i < storm+6; i++ {
			if i < storm {
				stormAlarm(t, sandbox, "raise", i)
			}
			if j := i - 3; j >= 0 && j < storm {
				stormAlarm(t, sandbox, "ack", j)
			}
			if j := i - 6; j >= 0 {
				stormAlarm(t, sandbox, "clear", j)
			}
			time.Sleep(150 * time.Millisecond)
		}
	}()
	// Kill once the leader is delivering the storm: a third of its
	// transitions received.
	WaitFor(t, 60*time.Second, "the storm under way at snmptrapd", func() bool {
		return checkStorm(trapd, storm).lost <= 2*storm
	})
	killed := time.Now()
	a.Kill()
	WaitFor(t, 30*time.Second, "gw-b leading after gw-a was killed", func() bool { return leads(b) })
	took := time.Since(killed)
	t.Logf("takeover after kill -9: %v (lease TTL %v)", took.Round(10*time.Millisecond), ttl)
	if took > ttl+2*time.Second {
		t.Errorf("gw-b took over after %v, more than the lease TTL + 2 s", took)
	}
	if got := clusterScalars(t, snmpPorts["gw-b"]); got != "leader gw-b gw-b true" {
		t.Errorf("gw-b svgCluster scalars after the takeover: %q", got)
	}
	<-done
	WaitFor(t, 30*time.Second, "svgClusterLeaderChanged naming gw-b", func() bool { return slices.Contains(leaderChanges(trapd), "gw-b") })

	c := checkStorm(trapd, storm)
	for deadline := time.Now().Add(90 * time.Second); c.lost > 0 && time.Now().Before(deadline); c = checkStorm(trapd, storm) {
		time.Sleep(200 * time.Millisecond)
	}
	if c.lost > 0 {
		t.Errorf("%d storm transitions never reached snmptrapd: %v", c.lost, c.missing)
	}
	t.Logf("storm of %d alarms (%d transitions): lost %d, duplicated %d, ids reused %d", storm, 3*storm, c.lost, c.duplicated, c.reused)
	if c.reused != 0 {
		t.Errorf("%d alarm ids name more than one alarm (or alarms have more than one id)", c.reused)
	}
}

// alarmConditions walks svgAlarmCondition at a gateway's SNMP agent (v2c
// public): the conditions of the alarms it serves.
func alarmConditions(t *testing.T, port int) (string, error) {
	t.Helper()
	return snmpTool(t, "snmpwalk", "-v2c", "-c", "public", "-t", "2", "-r", "1", fmt.Sprintf("udp:127.0.0.1:%d", port), "SVGATEWAY-MIB::svgAlarmCondition")
}

// TestPairEtcdMajorityLost: two of the three etcd members stop. Both
// gateways keep serving SNMP reads; the leader stops sending (alarms
// raised meanwhile reach no one); once the members are back a node leads
// again and every transition of those alarms arrives.
func TestPairEtcdMajorityLost(t *testing.T) {
	requireTool(t, "etcd")
	etcd := startEtcd(t, 3)
	sandbox := StartSandbox(t, "tick = \"1h\"\nclient_id = \"sandbox\"\nclient_secret = \"sandbox-secret\"")
	trapd := startTrapd(t, 0)
	const ttl = 3 * time.Second
	ports := []int{freePort(t, "udp"), freePort(t, "udp")}
	opts := func(i int) pairOptions {
		return pairOptions{Node: fmt.Sprintf("gw-%c", 'a'+i), SandboxURL: sandbox, Endpoints: etcd.Endpoints, TrapdAddr: trapd.Addr,
			LeaseTTL: ttl.String(), SNMPPort: ports[i]}
	}
	a := startPairMember(t, opts(0))
	WaitFor(t, 30*time.Second, "gw-a leading", func() bool { return leads(a) })
	b := startPairMember(t, opts(1))

	// Before: an alarm raised goes out, and both serve it.
	stormAlarm(t, sandbox, "raise", 0)
	WaitFor(t, 30*time.Second, "alarm 0 raised at snmptrapd", func() bool { return checkStorm(trapd, 1).lost == 2 })
	for _, p := range ports {
		WaitFor(t, 30*time.Second, "alarm 0 in both agents' svgAlarmTable", func() bool {
			out, _ := alarmConditions(t, p)
			return strings.Contains(out, "Storm 000")
		})
	}

	etcd.Members[1].Stop()
	etcd.Members[2].Stop()
	WaitFor(t, 30*time.Second, "gw-a no longer leading without an etcd quorum", func() bool { return !leads(a) })
	if leads(b) {
		t.Fatal("gw-b leads without an etcd quorum")
	}
	before := len(trapd.Notifications())
	// Transitions during the outage: alarm 0 acknowledged and cleared,
	// alarms 1 to 4 raised, 1 and 2 acknowledged, 1 cleared.
	stormAlarm(t, sandbox, "ack", 0)
	stormAlarm(t, sandbox, "clear", 0)
	for i := 1; i <= 4; i++ {
		stormAlarm(t, sandbox, "raise", i)
	}
	stormAlarm(t, sandbox, "ack", 1)
	stormAlarm(t, sandbox, "ack", 2)
	stormAlarm(t, sandbox, "clear", 1)
	// Reads go on at both, from their own polls (the alarm table is the
	// leader's, as last shared: alarm 0 still there).
	for i, p := range ports {
		node := fmt.Sprintf("gw-%c", 'a'+i)
		WaitFor(t, 30*time.Second, node+" a standby without etcd", func() bool {
			return strings.HasPrefix(clusterScalars(t, p), "standby "+node+" ") && strings.HasSuffix(clusterScalars(t, p), " false")
		})
	}
	for _, p := range ports {
		if out, err := alarmConditions(t, p); err != nil || !strings.Contains(out, "Storm 000") {
			t.Errorf("agent on %d without etcd: %v\n%s", p, err, out)
		}
	}
	for _, g := range []*Gateway{a, b} {
		if code, body := readyz(t, g); code != 200 {
			t.Errorf("%s /readyz without etcd: %d %s", g.StatusURL, code, body)
		}
	}
	time.Sleep(3 * ttl) // several polls: nothing may leave meanwhile
	if n := len(trapd.Notifications()); n != before {
		t.Errorf("%d notifications sent without an etcd quorum", n-before)
	}

	etcd.Members[1].Start()
	etcd.Members[2].Start()
	WaitFor(t, 60*time.Second, "a gateway leading again", func() bool { return leads(a) || leads(b) })
	want := map[string]bool{"Storm 0000 svgAlarmRaised": true, "Storm 0000 svgAlarmAcknowledged": true, "Storm 0000 svgAlarmCleared": true,
		"Storm 0001 svgAlarmRaised": true, "Storm 0001 svgAlarmAcknowledged": true, "Storm 0001 svgAlarmCleared": true,
		"Storm 0002 svgAlarmRaised": true, "Storm 0002 svgAlarmAcknowledged": true,
		"Storm 0003 svgAlarmRaised": true, "Storm 0004 svgAlarmRaised": true}
	var c ledgerCheck
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		c = checkStorm(trapd, 5)
		missing := 0
		for _, m := range c.missing {
			if want[m] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
	}
	for _, m := range c.missing {
		if want[m] {
			t.Errorf("never arrived after etcd came back: %s", m)
		}
	}
	if c.reused != 0 {
		t.Errorf("%d alarm ids name more than one alarm", c.reused)
	}
	t.Logf("after the outage: duplicated %d", c.duplicated)
}

// serviceLevelWatch keeps the latest value a node-opcua subscriber was
// notified of per node (ServiceLevel, RedundancySupport, ServerUriArray),
// and every ServiceLevel it saw.
type serviceLevelWatch struct {
	t      *testing.T
	name   string
	mu     sync.Mutex
	latest map[string]any
	levels []float64
}

// Standard NodeIds of the Server object's redundancy variables, and the
// gateway's ServerUriArray (in its own namespace, 1).
const (
	uaServiceLevel      = "ns=0;i=2267"
	uaRedundancySupport = "ns=0;i=3709"
	uaServerURIArray    = "ns=1;s=ServerRedundancy.ServerUriArray"
)

func watchRedundancy(t *testing.T, name, url string) *serviceLevelWatch {
	sub := startSubscriberWith(t, url, []string{"--security", "Basic256Sha256:SignAndEncrypt"}, uaServiceLevel, uaRedundancySupport, uaServerURIArray)
	w := &serviceLevelWatch{t: t, name: name, latest: map[string]any{}}
	go func() {
		for e := range sub.events {
			id, ok := e["id"].(string)
			if !ok {
				continue
			}
			w.mu.Lock()
			w.latest[id] = e["value"]
			if v, isNum := e["value"].(float64); isNum && id == uaServiceLevel {
				w.levels = append(w.levels, v)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// until waits (bounded) until the latest value of id satisfies ok.
func (w *serviceLevelWatch) until(what, id string, ok func(any) bool) {
	w.t.Helper()
	WaitFor(w.t, 60*time.Second, w.name+" "+what, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		v, seen := w.latest[id]
		return seen && ok(v)
	})
}

// level waits (bounded) until the latest ServiceLevel satisfies ok.
func (w *serviceLevelWatch) level(what string, ok func(float64) bool) {
	w.t.Helper()
	w.until("ServiceLevel "+what, uaServiceLevel, func(v any) bool { f, isNum := v.(float64); return isNum && ok(f) })
}

// TestPairOPCUARedundancy: a node-opcua client subscribed to each server
// of the pair sees non-transparent Hot redundancy (RedundancySupport 3,
// ServerUriArray naming both servers) and ServiceLevel follow the roles:
// leader 255 and standby 200; both degraded (below 200) while etcd has no
// quorum; 255 and 200 again once it has; the standby 255 when the leader
// is killed.
func TestPairOPCUARedundancy(t *testing.T) {
	requireNodeOPCUA(t)
	etcd := startEtcd(t, 3)
	sandbox := StartSandbox(t, "tick = \"1h\"\nclient_id = \"sandbox\"\nclient_secret = \"sandbox-secret\"")
	trapd := startTrapd(t, 0)
	uaPorts := []int{freePort(t, "tcp"), freePort(t, "tcp")}
	opts := func(i int) pairOptions {
		return pairOptions{Node: fmt.Sprintf("gw-%c", 'a'+i), SandboxURL: sandbox, Endpoints: etcd.Endpoints, TrapdAddr: trapd.Addr,
			LeaseTTL: "3s", SNMPPort: freePort(t, "udp"), OPCUAPort: uaPorts[i]}
	}
	a := startPairMember(t, opts(0))
	WaitFor(t, 30*time.Second, "gw-a leading", func() bool { return leads(a) })
	b := startPairMember(t, opts(1))
	var w []*serviceLevelWatch
	for i, p := range uaPorts {
		w = append(w, watchRedundancy(t, fmt.Sprintf("gw-%c", 'a'+i), fmt.Sprintf("opc.tcp://127.0.0.1:%d", p)))
	}
	t.Cleanup(func() {
		for _, x := range w {
			x.mu.Lock()
			t.Logf("%s: ServiceLevel notifications %v", x.name, x.levels)
			x.mu.Unlock()
		}
	})
	for _, x := range w {
		x.until("RedundancySupport Hot (3)", uaRedundancySupport, func(v any) bool { return v == 3.0 })
		x.until("ServerUriArray of both", uaServerURIArray, func(v any) bool {
			uris, _ := v.([]any)
			return len(uris) == 2 && uris[0] == "urn:svgateway:gw-a" && uris[1] == "urn:svgateway:gw-b"
		})
	}
	w[0].level("255 (leader)", func(v float64) bool { return v == 255 })
	w[1].level("200 (standby)", func(v float64) bool { return v == 200 })

	etcd.Members[1].Stop()
	etcd.Members[2].Stop()
	for _, x := range w {
		x.level("degraded without an etcd quorum", func(v float64) bool { return v >= 2 && v < 200 })
	}
	etcd.Members[1].Start()
	etcd.Members[2].Start()
	WaitFor(t, 60*time.Second, "a gateway leading again", func() bool { return leads(a) || leads(b) })
	leader, standby := w[0], w[1]
	killed := a
	if leads(b) {
		leader, standby, killed = w[1], w[0], b
	}
	leader.level("255 (leader again)", func(v float64) bool { return v == 255 })
	standby.level("200 (standby again)", func(v float64) bool { return v == 200 })

	killed.Kill()
	standby.level("255 (took over)", func(v float64) bool { return v == 255 })
}
