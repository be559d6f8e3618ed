package main

import (
	"log/slog"

	"github.com/svgateway/svgateway/snmp"
	"github.com/svgateway/svgateway/snmp/notify"
)

// wireSNMPNotify adds the AgentX subagent ([snmp.agentx] enabled) and the
// notification sender (when there is a target or the subagent): they share
// the agent's MIB and engine.
func (g *gateway) wireSNMPNotify(cfg snmp.Config, mib *snmp.MIB, engine *snmp.Engine, log *slog.Logger) error {
	deps := notify.Deps{Logger: log, Registerer: g.registry, StateDir: g.cfg.StateDir, MIB: mib, Engine: engine,
		ReportPersist: g.store.ReportPersist}
	if cfg.AgentX.Enabled {
		sub, err := snmp.NewSubagent(cfg, g.store, snmp.Deps{Logger: log, Registerer: g.registry, StateDir: g.cfg.StateDir, MIB: mib, Engine: engine})
		if err != nil {
			return err
		}
		g.add("snmp-agentx", sub)
		deps.Master = sub
	}
	if len(cfg.Targets) == 0 && deps.Master == nil {
		return nil
	}
	if g.node != nil {
		// Only the cluster's leader sends: a sender per leadership term.
		g.newSender = g.clusterSender(cfg, deps)
		return nil
	}
	sender, err := notify.New(cfg, g.store, deps)
	if err != nil {
		return err
	}
	g.add("snmp-notify", sender)
	g.notifier = sender
	return nil
}
