package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/svgateway/svgateway/cluster"
	"github.com/svgateway/svgateway/smartview/feed"
)

// Checks that need more than the decoded values: a duration written as a
// bare number (the TOML decoder takes 30 as 30ns: "timeout = 30" would pass
// and every call then fail with "retry budget of 60ns spent"), a size
// written as a bare number (a string field tagged size:"true": the decoder
// would only say it cannot put an integer in a string, and taking
// "memory_limit = 512" as 512 bytes, not the 512MiB meant, would make the
// collector run without pause; so, as for durations, the unit is asked
// for, not guessed), and, for
// check-config, what only the machine can tell: whether the listen
// addresses can be bound, state_dir written and the etcd members of
// [cluster] reached.

var durationType = reflect.TypeFor[time.Duration]()

// sizeUnitsHelp lists the units of a size (history.ParseSize).
const sizeUnitsHelp = "units: B, KB, MB, GB, KiB, MiB, GiB"

// bareNumbers returns an error for every key of doc that the Config types
// as a duration or a size but the file gives as a number; keys are located
// later.
func bareNumbers(doc map[string]any) []error {
	var errs []error
	var walk func(m map[string]any, t reflect.Type, prefix string)
	walk = func(m map[string]any, t reflect.Type, prefix string) {
		for k, v := range m {
			f, ok := tomlField(t, k)
			if !ok {
				continue // unknown keys are reported by their own check
			}
			key := prefix + k
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch v := v.(type) {
			case int64, float64:
				switch {
				case ft == durationType:
					errs = append(errs, fmt.Errorf("%s: %v is a bare number, not a duration: write it with its unit, e.g. \"%vs\" (units: ms, s, m, h)", key, v, v))
				case f.Tag.Get("size") == "true":
					errs = append(errs, fmt.Errorf("%s: %v is a bare number, not a size: write it as a string with its unit, e.g. \"%vMiB\" (%s)", key, v, v, sizeUnitsHelp))
				}
			case map[string]any:
				if ft.Kind() == reflect.Struct {
					walk(v, ft, key+".")
				}
			case []map[string]any:
				if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
					for i, e := range v {
						walk(e, ft.Elem(), fmt.Sprintf("%s[%d].", key, i))
					}
				}
			case []any:
				if ft.Kind() == reflect.Slice && ft.Elem() == durationType {
					for i, e := range v {
						switch e.(type) {
						case int64, float64:
							errs = append(errs, fmt.Errorf("%s[%d]: %v is a bare number, not a duration: write it with its unit, e.g. \"%vs\"", key, i, e, e))
						}
					}
				}
			}
		}
	}
	walk(doc, reflect.TypeFor[Config](), "")
	return errs
}

// tomlField finds the field of struct type t that the TOML key k sets,
// looking into embedded structs as the decoder does.
func tomlField(t reflect.Type, k string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, embedded := tomlKey(f)
		if embedded {
			if ef, ok := tomlField(f.Type, k); ok {
				return ef, true
			}
			continue
		}
		if name == k || (f.Tag.Get("toml") == "" && strings.EqualFold(f.Name, k)) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// checkMachine reports what a valid configuration cannot do on this machine:
// listen addresses that cannot be bound (in use, not local, not permitted)
// and a state_dir that cannot be written. It binds each address for a moment
// and writes a temporary file; every problem is reported.
func checkMachine(cfg *Config) error {
	var errs []error
	type listen struct{ key, network, addr string }
	var listens []listen
	if cfg.Status.Listen != "" && cfg.Status.Listen != "off" {
		listens = append(listens, listen{"status.listen", "tcp", cfg.Status.Listen})
	}
	if cfg.Sandbox.Enabled && cfg.Sandbox.Listen != "" {
		listens = append(listens, listen{"sandbox.listen", "tcp", cfg.Sandbox.Listen})
	}
	if cfg.Feed.Provider == feed.ProviderWebhook {
		listens = append(listens, listen{"feed.webhook.listen", "tcp", cfg.Feed.Webhook.Listen})
	}
	if cfg.SNMP.Listen != "" && cfg.SNMP.Listen != "off" {
		listens = append(listens, listen{"snmp.listen", "udp", cfg.SNMP.Listen})
	}
	if cfg.OPCUA.Endpoint != "" && cfg.OPCUA.Endpoint != "off" {
		if addr, err := cfg.OPCUA.ListenAddr(); err == nil {
			listens = append(listens, listen{"opcua.endpoint", "tcp", addr})
		}
	}
	for _, l := range listens {
		if err := tryListen(l.network, l.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot listen on %s (%s): %w", l.key, l.addr, l.network, err))
		}
	}
	if cc := cfg.Cluster; cc.Validate() == nil { // an invalid table is reported already
		if err := cluster.Check(context.Background(), cc); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.StateDir != "" {
		if err := checkWritable(cfg.StateDir); err != nil {
			errs = append(errs, fmt.Errorf("state_dir: %w", err))
		}
	}
	return errors.Join(errs...)
}

func tryListen(network, addr string) error {
	if network == "udp" {
		c, err := net.ListenPacket(network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

// checkWritable checks that dir, or the nearest existing parent it would be
// created in, takes a new file.
func checkWritable(dir string) error {
	probe := dir
	for {
		fi, err := os.Stat(probe)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", probe)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			return err
		}
		probe = parent
	}
	f, err := os.CreateTemp(probe, ".svgateway-check-*")
	if err != nil {
		if probe != dir {
			return fmt.Errorf("%s does not exist and cannot be created: %w", dir, err)
		}
		return fmt.Errorf("not writable: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}
