// This file wires a gateway into a redundant pair ([cluster]): the store
// shares its ledger through the node, and the notification sender runs
// only while the node leads.

package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gopcua/opcua/ua"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svgateway/svgateway/cluster"
	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp"
	"github.com/svgateway/svgateway/snmp/notify"
)

// wireCluster adds the cluster node's service; newSender, when not nil,
// builds the sender of one leadership term.
func (g *gateway) wireCluster() {
	if g.node == nil {
		return
	}
	reg := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "svgateway_cluster_leader",
		Help: "1 while this gateway leads its cluster (sends notifications), 0 as a standby."}, func() float64 {
		if g.node.State().Role == cluster.Leader {
			return 1
		}
		return 0
	})
	conn := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "svgateway_cluster_connected",
		Help: "1 while this gateway holds an etcd session, 0 while etcd is unreachable."}, func() float64 {
		if g.node.State().Connected {
			return 1
		}
		return 0
	})
	g.registry.MustRegister(reg, conn)
	newSender := g.newSender
	// A single gateway becoming one of a pair: its ledger seeds the shared
	// one (if etcd has none yet), so alarm ids continue where it left off.
	seed, err := os.ReadFile(filepath.Join(g.cfg.StateDir, ledgerFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		g.log.Warn("cluster: this gateway's own alarm ledger is unreadable; not offered as the pair's first", "err", err)
	}
	g.add("cluster", serviceFunc(func(ctx context.Context) error {
		return g.node.Run(ctx, cluster.Binding{
			Store: g.store,
			Seed:  seed,
			Lead: func(ctx context.Context) error {
				if newSender == nil {
					<-ctx.Done()
					return nil
				}
				s, err := newSender()
				if err != nil {
					return err
				}
				err = s.Run(ctx)
				// The term's outbox saves are over; a standby has none
				// that could fail.
				g.store.ReportPersist(notify.OutboxComponent, nil)
				return err
			},
			OnChange: g.roleChanged,
		})
	}))
}

// roleChanged records a new cluster state in the model's health: the
// SNMP scalars serve it, and the leader's sender announces its term
// (svgClusterLeaderChanged).
func (g *gateway) roleChanged(st cluster.State) {
	role := model.ClusterStandby
	if st.Role == cluster.Leader {
		role = model.ClusterLeader
	}
	_, _ = g.store.Update(func(tx *model.Tx) error {
		tx.SetCluster(model.ClusterHealth{Role: role, Node: g.node.Name(), Leader: st.Leader, Connected: st.Connected, Term: st.Term})
		return nil
	})
}

// clusterSender returns the builder of a term's sender: its outbox is the
// cluster's, and its metrics replace the previous term's.
func (g *gateway) clusterSender(cfg snmp.Config, deps notify.Deps) func() (*notify.Sender, error) {
	deps.OutboxStore = g.node
	deps.Registerer = replacingRegisterer{g.registry}
	return func() (*notify.Sender, error) { return notify.New(cfg, g.store, deps) }
}

// replacingRegisterer registers a collector in place of an earlier one
// with the same descriptors (the sender of the previous term).
type replacingRegisterer struct{ prometheus.Registerer }

func (r replacingRegisterer) Register(c prometheus.Collector) error {
	r.Registerer.Unregister(c)
	return r.Registerer.Register(c)
}

func (r replacingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// pairRedundancy is the OPC UA Server object's view of the pair:
// non-transparent Hot redundancy (both nodes read upstream and serve
// current values); ServiceLevel tells clients which node to prefer.
type pairRedundancy struct{ g *gateway }

// ServiceLevels (OPC UA Part 4 6.6.2.4.2: 200–255 healthy, 2–199
// degraded, 1 no data). Clients pick the highest: the leader while both
// are healthy; degraded (etcd unreachable, upstream not ok) the leader
// still above the standby.
const (
	levelLeader          = 255
	levelStandby         = 200
	levelDegradedLeader  = 150
	levelDegradedStandby = 100
	levelNoData          = 1
)

func (r pairRedundancy) Support() ua.RedundancySupport { return ua.RedundancySupportHot }

func (r pairRedundancy) ServiceLevel() uint8 {
	st := r.g.node.State()
	h := r.g.store.Snapshot().Health()
	leader := st.Role == cluster.Leader
	switch {
	case h.LastSync.IsZero():
		return levelNoData
	case !st.Connected || h.Upstream != model.UpstreamOK:
		if leader {
			return levelDegradedLeader
		}
		return levelDegradedStandby
	case leader:
		return levelLeader
	}
	return levelStandby
}

func (r pairRedundancy) ServerURIs() []string { return r.g.node.MemberURIs() }
