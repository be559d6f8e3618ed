// This file runs the election: sessions, campaigning, leading and
// following, and the fenced writes of the shared keys.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/svgateway/svgateway/model"
)

// Role is what a node does in the pair.
type Role int32

// Roles. A node starts as a standby and leads once elected.
const (
	Standby Role = iota
	Leader
)

func (r Role) String() string {
	if r == Leader {
		return "leader"
	}
	return "standby"
}

// State is a node's role and whether it reaches etcd.
type State struct {
	Role Role
	// Connected: the node holds a live etcd session (it is campaigning or
	// leading). False while etcd is unreachable or has no quorum.
	Connected bool
	// Leader is the leading node's name as last seen ("" unknown).
	Leader string
	// Term identifies this node's leadership while it leads (its election
	// key's revision); 0 otherwise.
	Term int64
}

// ErrNotLeader is returned by the shared writes of a node that does not
// lead (or no longer does: its election key is gone).
var ErrNotLeader error = notLeader{}

// notLeader is ErrNotLeader's type: it says Fenced, so that the writers
// (the notification outbox) tell a refusal from a failure without
// depending on this package.
type notLeader struct{}

func (notLeader) Error() string { return "cluster: this node is not the leader" }
func (notLeader) Fenced() bool  { return true }

// Binding is what a node drives, given to Run.
type Binding struct {
	// Store follows the leader's ledger while this node is a standby and
	// leads while it leads (it must have been created with the node as
	// its model.Options.LedgerBackend).
	Store *model.Store
	// Lead runs while the node leads (the notification sender), with a
	// context cancelled when it stops leading; it must return promptly
	// then. An error stops the node (and the gateway).
	Lead func(ctx context.Context) error
	// OnChange, when set, is called after each change of State.
	OnChange func(State)
	// Seed, when set, is a ledger (model's encoding) the first leader of
	// the cluster adopts while etcd holds none yet: the alarm ledger of a
	// single gateway that becomes one of a pair, so that its alarm ids
	// are not given again.
	Seed []byte
}

// Node is one gateway's membership in the cluster.
type Node struct {
	cfg Config
	log *slog.Logger
	cli *clientv3.Client

	term atomic.Pointer[term] // set while leading: the fence of every write

	mu      sync.Mutex
	state   State
	bind    Binding
	uri     string            // this node's OPC UA ApplicationURI, announced to the others
	members map[string]string // node name → announced URI, as last read
}

// term is one leadership: the election key and its create revision.
type term struct {
	key string
	rev int64
}

// New returns the node of cfg (validated) and its etcd client; it does not
// connect yet.
func New(cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ec := clientv3.Config{Endpoints: cfg.Endpoints, DialTimeout: cfg.DialTimeout, Username: cfg.Username, Password: cfg.Password,
		DialKeepAliveTime: cfg.LeaseTTL / 2, DialKeepAliveTimeout: cfg.DialTimeout, Logger: zap.NewNop()}
	if cfg.CAFile != "" || cfg.CertFile != "" {
		tlsInfo := transport.TLSInfo{CertFile: cfg.CertFile, KeyFile: cfg.KeyFile, TrustedCAFile: cfg.CAFile}
		tc, err := tlsInfo.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("cluster: etcd TLS: %w", err)
		}
		ec.TLS = tc
	}
	cli, err := clientv3.New(ec)
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd client: %w", err)
	}
	return &Node{cfg: cfg, log: log, cli: cli}, nil
}

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Node }

// State returns the node's current state.
func (n *Node) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

func (n *Node) setState(f func(*State)) {
	n.mu.Lock()
	old := n.state
	f(&n.state)
	st, cb := n.state, n.bind.OnChange
	n.mu.Unlock()
	if st == old {
		return
	}
	n.log.Info("cluster: state", "role", st.Role.String(), "connected", st.Connected, "leader", st.Leader)
	if cb != nil {
		cb(st)
	}
}

func (n *Node) key(name string) string { return n.cfg.Prefix + name }

// The keys of a cluster, below its prefix.
const (
	keyLeader = "leader"       // the election
	keyLedger = "alarm-ledger" // model's ledger encoding
	keyOutbox = "snmp-outbox"  // notify's outbox encoding
	keyMember = "members/"     // + node name: its OPC UA ApplicationURI
)

// Announce sets the URI (the OPC UA ApplicationURI) this node publishes
// to the others; call it before Run.
func (n *Node) Announce(uri string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.uri = uri
}

// MemberURIs returns the URIs the nodes of the cluster announced, this
// node's included, in node-name order.
func (n *Node) MemberURIs() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	names := make([]string, 0, len(n.members)+1)
	uris := map[string]string{}
	for name, uri := range n.members {
		uris[name] = uri
	}
	if n.uri != "" {
		uris[n.cfg.Node] = n.uri
	}
	for name := range uris {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, name := range names {
		out = append(out, uris[name])
	}
	return out
}

// watchMembers announces this node and keeps the members' URIs current until
// ctx is done.
func (n *Node) watchMembers(ctx context.Context) {
	n.mu.Lock()
	uri := n.uri
	n.mu.Unlock()
	prefix := n.key(keyMember)
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
		var err error
		if uri != "" {
			_, err = n.cli.Put(rctx, prefix+n.cfg.Node, uri)
		}
		var resp *clientv3.GetResponse
		if err == nil {
			resp, err = n.cli.Get(rctx, prefix, clientv3.WithPrefix())
		}
		cancel()
		if err == nil {
			m := map[string]string{}
			for _, kv := range resp.Kvs {
				m[strings.TrimPrefix(string(kv.Key), prefix)] = string(kv.Value)
			}
			n.mu.Lock()
			n.members = m
			n.mu.Unlock()
			for wr := range n.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
				n.mu.Lock()
				for _, ev := range wr.Events {
					name := strings.TrimPrefix(string(ev.Kv.Key), prefix)
					if ev.Type == clientv3.EventTypePut {
						n.members[name] = string(ev.Kv.Value)
					} else {
						delete(n.members, name)
					}
				}
				n.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// SaveLedger stores the alarm ledger, fenced (model.LedgerBackend).
func (n *Node) SaveLedger(data []byte) error { return n.put(keyLedger, data) }

// SaveOutbox stores the notification outbox, fenced.
func (n *Node) SaveOutbox(data []byte) error { return n.put(keyOutbox, data) }

// LoadOutbox returns the stored notification outbox; nil if none.
func (n *Node) LoadOutbox() ([]byte, error) {
	data, _, err := n.get(context.Background(), keyOutbox)
	return data, err
}

// put writes key if this node still holds its election key.
func (n *Node) put(name string, data []byte) error {
	t := n.term.Load()
	if t == nil {
		return ErrNotLeader
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.DialTimeout)
	defer cancel()
	resp, err := n.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.rev)).
		Then(clientv3.OpPut(n.key(name), string(data))).Commit()
	if err != nil {
		return fmt.Errorf("cluster: saving %s to etcd: %w", name, err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("cluster: saving %s: %w (its election key is gone)", name, ErrNotLeader)
	}
	return nil
}

// get reads key (linearizable); nil data without one.
func (n *Node) get(ctx context.Context, name string) ([]byte, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
	defer cancel()
	resp, err := n.cli.Get(ctx, n.key(name))
	if err != nil {
		return nil, 0, fmt.Errorf("cluster: reading %s from etcd: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, resp.Header.Revision, nil
	}
	return resp.Kvs[0].Value, resp.Header.Revision, nil
}

// Run takes part in the election until ctx is done, then resigns (if it
// leads) and closes the etcd client. It returns an error only if
// Binding.Lead failed.
func (n *Node) Run(ctx context.Context, b Binding) error {
	n.mu.Lock()
	n.bind = b
	n.mu.Unlock()
	defer n.cli.Close()
	n.setState(func(s *State) {}) // report the initial state
	if b.OnChange != nil {
		b.OnChange(n.State())
	}
	retry := time.Second
	for ctx.Err() == nil {
		err := n.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var lf leadFailed
		if errors.As(err, &lf) {
			return lf.err
		}
		n.setState(func(s *State) { s.Connected = false })
		n.log.Warn("cluster: no etcd session; serving reads as a standby, retrying", "err", err, "retry", retry)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
		retry = min(2*retry, n.cfg.LeaseTTL)
	}
	return nil
}

type leadFailed struct{ err error }

func (e leadFailed) Error() string { return e.err.Error() }

var (
	errLeaseLost = errors.New("cluster: lease renewals unanswered; stopped leading")
	errKeyGone   = errors.New("cluster: election key deleted; stopped leading")
)

// session runs one etcd session: campaign (following the ledger), then
// lead until the session is lost or ctx is done.
func (n *Node) session(ctx context.Context) error {
	ttl := int64(n.cfg.LeaseTTL / time.Second)
	gctx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
	lease, err := n.cli.Grant(gctx, ttl)
	cancel()
	if err != nil {
		return fmt.Errorf("cluster: lease grant: %w", err)
	}
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	sess, err := concurrency.NewSession(n.cli, concurrency.WithLease(lease.ID), concurrency.WithContext(sctx))
	if err != nil {
		return fmt.Errorf("cluster: session: %w", err)
	}
	defer func() {
		// Revoke (also on errors: our key must not block the next
		// election for a whole TTL); bounded, etcd may be away.
		rctx, cancel := context.WithTimeout(context.Background(), n.cfg.DialTimeout)
		_, _ = n.cli.Revoke(rctx, lease.ID)
		cancel()
	}()
	// A renewal watchdog: the session's own loop notices a dead lease only
	// after the whole TTL, when etcd may already have elected another node.
	renewed := make(chan struct{}, 1)
	ka, err := n.cli.KeepAlive(sctx, lease.ID)
	if err != nil {
		return fmt.Errorf("cluster: lease keepalive: %w", err)
	}
	go func() {
		for range ka {
			select {
			case renewed <- struct{}{}:
			default:
			}
		}
	}()
	n.setState(func(s *State) { s.Connected = true })
	el := concurrency.NewElection(sess, n.key(keyLeader))
	go n.watchMembers(sctx)

	fctx, fcancel := context.WithCancel(sctx)
	var fwg sync.WaitGroup
	fwg.Go(func() { n.follow(fctx, el) })
	cctx, ccancel := context.WithCancel(sctx)
	go func() {
		select {
		case <-sess.Done():
		case <-cctx.Done():
		}
		ccancel()
	}()
	err = el.Campaign(cctx, n.cfg.Node)
	ccancel()
	fcancel()
	fwg.Wait()
	if err != nil {
		return fmt.Errorf("cluster: campaign: %w", err)
	}
	return n.lead(ctx, sess, el, renewed)
}

// lead is one term: adopt the shared ledger, run Binding.Lead, and stop at
// the first sign the lease may be gone.
func (n *Node) lead(ctx context.Context, sess *concurrency.Session, el *concurrency.Election, renewed <-chan struct{}) error {
	store := n.bind.Store
	data, _, err := n.get(ctx, keyLedger)
	if err != nil {
		n.resign(el)
		return err
	}
	if data == nil && n.bind.Seed != nil {
		n.log.Info("cluster: no shared alarm ledger yet; the first leader starts from this gateway's own")
		data = n.bind.Seed
	}
	if data != nil {
		if err := store.AdoptLedger(data); err != nil {
			n.resign(el)
			return leadFailed{err}
		}
	}
	n.term.Store(&term{key: el.Key(), rev: el.Rev()})
	store.Lead()
	n.setState(func(s *State) { s.Role, s.Leader, s.Term = Leader, n.cfg.Node, el.Rev() })
	n.log.Info("cluster: leading", "node", n.cfg.Node, "key", el.Key(), "rev", el.Rev())

	lctx, lcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.bind.Lead(lctx) }()

	// The election key deleted (by an operator, or the lease revoked
	// elsewhere) ends the term too: the writes are fenced already.
	gone := n.cli.Watch(lctx, el.Key(), clientv3.WithRev(el.Rev()+1), clientv3.WithFilterPut())
	limit := n.cfg.LeaseTTL * 2 / 3
	watchdog := time.NewTimer(limit)
	defer watchdog.Stop()
	var result error
loop:
	for {
		select {
		case <-renewed:
			watchdog.Reset(limit)
		case <-watchdog.C:
			result = errLeaseLost
			break loop
		case <-sess.Done():
			result = errLeaseLost
			break loop
		case wr, ok := <-gone:
			if !ok || wr.Canceled {
				gone = nil // the watch ended (etcd away): the watchdog decides
				continue
			}
			if len(wr.Events) == 0 {
				continue // progress notification
			}
			result = errKeyGone
			break loop
		case <-ctx.Done():
			break loop
		case err := <-done:
			done <- err
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			result = leadFailed{fmt.Errorf("cluster: leading: %w", err)}
			break loop
		}
	}
	// Fence first (no write from here on), then stop sending.
	n.term.Store(nil)
	store.Follow()
	lcancel()
	err = <-done
	n.setState(func(s *State) { s.Role, s.Term = Standby, 0 })
	if result == errLeaseLost || result == errKeyGone {
		n.log.Warn("cluster: stopped leading; notifications wait for the next leader", "node", n.cfg.Node, "why", result)
		n.setState(func(s *State) { s.Leader = "" })
	}
	if ctx.Err() != nil {
		n.resign(el)
	}
	if err != nil && result == nil {
		result = leadFailed{err}
	}
	return result
}

// resign gives up leadership at once (a clean stop), bounded.
func (n *Node) resign(el *concurrency.Election) {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.DialTimeout)
	defer cancel()
	if err := el.Resign(ctx); err != nil {
		n.log.Warn("cluster: resign failed; the other node takes over when the lease expires", "err", err)
	}
}

// follow keeps the store on the leader's ledger and State.Leader current
// while this node campaigns.
func (n *Node) follow(ctx context.Context, el *concurrency.Election) {
	go func() {
		for resp := range el.Observe(ctx) {
			if len(resp.Kvs) > 0 {
				leader := string(resp.Kvs[0].Value)
				n.setState(func(s *State) { s.Leader = leader })
			}
		}
	}()
	for ctx.Err() == nil {
		data, rev, err := n.get(ctx, keyLedger)
		if err == nil && data != nil {
			n.adopt(data)
		}
		if err == nil {
			wch := n.cli.Watch(clientv3.WithRequireLeader(ctx), n.key(keyLedger), clientv3.WithRev(rev+1))
			for wr := range wch {
				for _, ev := range wr.Events {
					if ev.Type == clientv3.EventTypePut {
						n.adopt(ev.Kv.Value)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (n *Node) adopt(data []byte) {
	if err := n.bind.Store.AdoptLedger(data); err != nil {
		n.log.Error("cluster: cannot follow the leader's alarm ledger", "err", err)
	}
}
