package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/svgateway/svgateway/model"
)

// startEtcd runs a one-member etcd (Debian etcd-server) on loopback for
// the test and returns its client URL.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("SVGATEWAY_E2E") == "1" {
			t.Fatal("etcd not installed (Debian package etcd-server)")
		}
		t.Skip("etcd not installed (Debian package etcd-server)")
	}
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	client, peer := fmt.Sprintf("http://127.0.0.1:%d", port()), fmt.Sprintf("http://127.0.0.1:%d", port())
	cmd := exec.Command(bin, "--name", "m0", "--data-dir", filepath.Join(t.TempDir(), "m0"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "m0="+peer,
		"--listen-metrics-urls", fmt.Sprintf("http://127.0.0.1:%d", port()))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Get(ctx, "health")
		cancel()
		if err == nil {
			return client
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd not answering: %v", err)
		}
	}
}

// member is a node with its store, running until the test ends.
type member struct {
	node  *Node
	store *model.Store
	stop  func()
}

func startMember(t *testing.T, endpoint, name string) *member {
	t.Helper()
	n, err := New(Config{Endpoints: []string{endpoint}, Node: name, LeaseTTL: 2 * time.Second, DialTimeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := model.NewStore(model.Options{LedgerBackend: n})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- n.Run(ctx, Binding{Store: store, Lead: func(ctx context.Context) error { <-ctx.Done(); return nil }})
	}()
	m := &member{node: n, store: store, stop: func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: Run: %v", name, err)
		}
		store.Close()
	}}
	t.Cleanup(m.stop)
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// raise observes an active alarm and waits until the ledger holding it
// is saved; it returns its id.
func raise(t *testing.T, s *model.Store, condition string) uint64 {
	t.Helper()
	d, err := s.Update(func(tx *model.Tx) error {
		tx.ObserveAlarm(model.AlarmObservation{IBX: "CH1", AssetID: "CH1.Gen-1", TagID: "CH1.Gen-1:alarm", Condition: condition,
			Active: true, Triggered: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}, "test")
		return nil
	})
	if err != nil || d == nil || len(d.Alarms) != 1 {
		t.Fatalf("raise %s: %v %+v", condition, err, d)
	}
	waitFor(t, "the ledger in etcd", func() bool { seq, _ := s.Durable(); return seq >= d.Alarms[0].Seq })
	return d.Alarms[0].Alarm.ID
}

// TestFencedTakeover: against a real etcd, one of two nodes leads; the
// standby follows its ledger (same ids). When the leader's election key is
// deleted under it, its writes are refused at once (fencing), it stops
// leading, and the other node leads on the shared ledger: the ids it gives
// continue after the deposed leader's.
func TestFencedTakeover(t *testing.T) {
	endpoint := startEtcd(t)
	a := startMember(t, endpoint, "a")
	waitFor(t, "a leading", func() bool { return a.node.State().Role == Leader })
	b := startMember(t, endpoint, "b")
	waitFor(t, "b connected, following a", func() bool { st := b.node.State(); return st.Connected && st.Leader == "a" })

	id1 := raise(t, a.store, "first")
	waitFor(t, "b following a's ledger", func() bool {
		for _, al := range b.store.Snapshot().Alarms() {
			if al.ID == id1 && al.Condition == "first" {
				return true
			}
		}
		return false
	})

	// Depose a behind its back: delete its election key.
	term := a.node.term.Load()
	if term == nil {
		t.Fatal("a leads without a term")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := a.node.cli.Delete(ctx, term.key); err != nil {
		t.Fatal(err)
	}
	if err := a.node.SaveLedger([]byte(`{"version":1}`)); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a deposed leader's write: %v, want ErrNotLeader", err)
	}
	waitFor(t, "b leading", func() bool { return b.node.State().Role == Leader })
	waitFor(t, "a a standby", func() bool { return a.node.State().Role == Standby })
	if !a.store.Following() || b.store.Following() {
		t.Fatalf("following: a %v b %v", a.store.Following(), b.store.Following())
	}
	id2 := raise(t, b.store, "second")
	if id2 <= id1 {
		t.Errorf("the new leader gave id %d after the deposed leader's %d", id2, id1)
	}
	waitFor(t, "a following b's ledger", func() bool {
		for _, al := range a.store.Snapshot().Alarms() {
			if al.ID == id2 && al.Condition == "second" {
				return true
			}
		}
		return false
	})
	// A write with a's old term stays refused.
	a.node.term.Store(term)
	if err := a.node.SaveLedger([]byte(`{"version":1}`)); !errors.Is(err, ErrNotLeader) {
		t.Errorf("a write under a deleted election key: %v, want ErrNotLeader", err)
	}
	a.node.term.Store(nil)
}
