package main

import (
	"fmt"

	"github.com/svgateway/svgateway/snmp"
)

// wireSNMP adds the SNMP subsystems. They share one MIB (the OID tree and
// the persistent table indexes) and one SNMPv3 engine, opened once per start
// because opening the engine counts a boot.
func (g *gateway) wireSNMP() error {
	cfg := g.cfg.SNMP
	if cfg.Listen == "off" && !cfg.AgentX.Enabled && len(cfg.Targets) == 0 {
		return nil
	}
	log := g.log.With("subsystem", "snmp")
	// The root first: every OID the MIB, agent, subagent and sender build
	// follows it.
	if err := snmp.SetRoot(cfg.Root()); err != nil {
		return fmt.Errorf("snmp.enterprise_oid: %w", err)
	}
	if w := rootWarning(g.cfg); w != "" {
		log.Warn("snmp: " + w)
	}
	mib, err := snmp.OpenMIB(g.cfg.StateDir, log)
	if err != nil {
		return err
	}
	mib.ReportPersistTo(g.store.ReportPersist)
	engine, err := snmp.OpenEngine(g.cfg.StateDir, cfg.EngineID)
	if err != nil {
		return err
	}
	if cfg.Listen != "off" {
		agent, err := snmp.NewAgent(cfg, g.store, snmp.Deps{Logger: log, Registerer: g.registry, StateDir: g.cfg.StateDir, MIB: mib, Engine: engine,
			Version: buildVersion()})
		if err != nil {
			return err
		}
		g.add("snmp", agent)
		g.agent = agent
	}
	return g.wireSNMPNotify(cfg, mib, engine, log)
}
