package main

// SIGHUP reloads the configuration file (`systemctl reload svgateway`). The
// new file is loaded and validated as at start; a file that does not
// validate is refused with its located errors and the running configuration
// stays. What can change in a running gateway is applied: the log level,
// the SNMP agent's communities and users, the notification targets, the
// OPC UA users, anonymous access and auto_accept_clients (the OPC UA trust
// list, state_dir/opcua/pki/trusted/, is read on every connection and needs
// no reload). Every other change is logged as "restart required" with its
// keys and is not applied. SIGHUP never stops the gateway.

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/daemon"
)

// reloadable are the keys a reload applies; every other key's change needs
// a restart.
var reloadable = []string{
	"log_level",
	"snmp.communities", "snmp.users", "snmp.targets",
	"opcua.users", "opcua.allow_anonymous", "opcua.auto_accept_clients",
}

// reloadOnHUP is the reload service: one reload per SIGHUP, until ctx is done.
func (g *gateway) reloadOnHUP(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.opts.hup:
			sdNotify(g.log, daemon.SdNotifyReloading+"\nMONOTONIC_USEC="+strconv.FormatInt(monotonicUsec(), 10))
			g.reload()
			sdNotify(g.log, daemon.SdNotifyReady+"\nSTATUS=serving (configuration reloaded)")
		}
	}
}

// reload reads, validates and applies the configuration file once.
func (g *gateway) reload() {
	src := g.opts.source
	log := g.log.With("config", src.name)
	if src.path == "" {
		log.Info("SIGHUP: running the built-in configuration; nothing to reload")
		return
	}
	data, err := src.read()
	if err != nil {
		log.Error("configuration reload refused; the running configuration stays", "err", err)
		return
	}
	next, err := loadConfig(src.name, data)
	if err != nil {
		log.Error("configuration reload refused; the running configuration stays", "errors", strings.Split(err.Error(), "\n"))
		return
	}
	old := g.cfg
	if keys := restartRequired(old, next); len(keys) > 0 {
		log.Warn("configuration reload: restart required for these changes; they are not applied", "keys", keys)
	}
	applied := changedKeys(old, next, reloadable)
	running := *old // what runs after this reload: the old file with the reloadable keys of the new
	if old.LogLevel != next.LogLevel {
		g.opts.level.UnmarshalText([]byte(next.LogLevel))
		running.LogLevel = next.LogLevel
	}
	var failed []string
	snmpChanged := slices.ContainsFunc(applied, func(k string) bool { return strings.HasPrefix(k, "snmp.") })
	if snmpChanged {
		running.SNMP.Communities, running.SNMP.Users, running.SNMP.Targets = next.SNMP.Communities, next.SNMP.Users, next.SNMP.Targets
		if g.agent != nil {
			if err := g.agent.Reload(running.SNMP); err != nil {
				log.Error("configuration reload: SNMP communities and users not applied", "err", err)
				failed = append(failed, "snmp.communities", "snmp.users")
			}
		}
		switch {
		case g.notifier != nil:
			if err := g.notifier.Reload(running.SNMP); err != nil {
				log.Error("configuration reload: SNMP notification targets not applied", "err", err)
				failed = append(failed, "snmp.targets")
			}
		case len(next.SNMP.Targets) > 0:
			log.Warn("configuration reload: restart required to start sending notifications (no sender ran at start)", "keys", []string{"snmp.targets"})
		}
	}
	opcuaChanged := slices.ContainsFunc(applied, func(k string) bool { return strings.HasPrefix(k, "opcua.") })
	if opcuaChanged {
		running.OPCUA.Users, running.OPCUA.AllowAnonymous, running.OPCUA.AutoAcceptClients = next.OPCUA.Users, next.OPCUA.AllowAnonymous, next.OPCUA.AutoAcceptClients
		if g.opcua != nil {
			if err := g.opcua.Reload(running.OPCUA.Config); err != nil {
				log.Error("configuration reload: OPC UA users not applied", "err", err)
				failed = append(failed, "opcua.users", "opcua.allow_anonymous", "opcua.auto_accept_clients")
			}
		}
	}
	g.cfg = &running
	if len(applied) == 0 {
		log.Info("configuration reloaded: nothing that can change without a restart changed")
		return
	}
	log.Info("configuration reloaded", "applied", slices.DeleteFunc(applied, func(k string) bool { return slices.Contains(failed, k) }), "log_level", running.LogLevel)
}

// restartRequired lists the keys whose values differ between old and next,
// but for the reloadable ones.
func restartRequired(old, next *Config) []string {
	var keys []string
	diffKeys(reflect.ValueOf(*old), reflect.ValueOf(*next), "", func(key string) {
		if !slices.ContainsFunc(reloadable, func(r string) bool { return key == r || strings.HasPrefix(key, r+".") }) {
			keys = append(keys, key)
		}
	})
	return keys
}

// changedKeys lists the keys of among whose values differ.
func changedKeys(old, next *Config, among []string) []string {
	var keys []string
	diffKeys(reflect.ValueOf(*old), reflect.ValueOf(*next), "", func(key string) {
		for _, r := range among {
			if (key == r || strings.HasPrefix(key, r+".")) && !slices.Contains(keys, r) {
				keys = append(keys, r)
			}
		}
	})
	return keys
}

// diffKeys calls changed with the dotted TOML key of every exported field
// that differs between a and b (structs of the same type), descending into
// tables. Values never reach changed: they may be secrets.
func diffKeys(a, b reflect.Value, prefix string, changed func(key string)) {
	t := a.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, embedded := tomlKey(f)
		if name == "-" {
			continue
		}
		fa, fb := a.Field(i), b.Field(i)
		if embedded {
			diffKeys(fa, fb, prefix, changed)
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		if isTable(f.Type) {
			diffKeys(fa, fb, key, changed)
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			changed(key)
		}
	}
}

// isTable reports whether t is a TOML table: a struct with tagged fields
// (time.Time and the like are values).
func isTable(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && (f.Tag.Get("toml") != "" || f.Anonymous && isTable(f.Type)) {
			return true
		}
	}
	return false
}
