// Command svgateway bridges Equinix IBX SmartView to SNMP and OPC UA.
//
//	svgateway [-config gateway.toml] [run]      run the gateway (the default)
//	svgateway [-config gateway.toml] sandbox    serve the simulated SmartView API alone
//	svgateway [-config gateway.toml] check-config
//	svgateway [-config gateway.toml] unsubscribe  delete the feed subscription
//	svgateway [-config gateway.toml] mib       print SVGATEWAY-MIB for the configured enterprise_oid
//	svgateway hash-password < password         bcrypt hash for [[opcua.users]]
//	svgateway version
//
// Without -config it reads ./gateway.toml, or, when there is none, the
// shipped default embedded in the binary (the built-in sandbox on loopback).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/svgateway/svgateway"
	"github.com/svgateway/svgateway/snmp"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it is read from the module build information.
var version = ""

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runMain is main without os.Exit, for tests.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("svgateway", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "configuration file (default ./gateway.toml, else the built-in default)")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: svgateway [-config FILE] [run | sandbox | check-config | unsubscribe | mib | hash-password | version]\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	cmd, rest := "run", fl.Args()
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	// Subcommands take -config too: `svgateway check-config -config x.toml`.
	sub := flag.NewFlagSet("svgateway "+cmd, flag.ContinueOnError)
	sub.SetOutput(stderr)
	subConfig := sub.String("config", "", "configuration file")
	if err := sub.Parse(rest); err != nil {
		return 2
	}
	if *subConfig != "" {
		*configPath = *subConfig
	}
	if sub.NArg() > 0 {
		fmt.Fprintf(stderr, "svgateway %s: unexpected arguments %q\n", cmd, sub.Args())
		return 2
	}

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "svgateway", buildVersion())
		return 0
	case "hash-password":
		if err := runHashPassword(stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "svgateway: %v\n", err)
			return 1
		}
		return 0
	case "run", "sandbox", "check-config", "unsubscribe", "mib":
	default:
		fmt.Fprintf(stderr, "svgateway: unknown command %q\n", cmd)
		fl.Usage()
		return 2
	}

	name, data, err := readConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "svgateway: %v\n", err)
		return 1
	}
	if cmd == "check-config" { // the file, then what this machine allows: every error at once
		cfg, err := checkConfig(name, data)
		if err != nil {
			fmt.Fprintf(stderr, "svgateway: invalid configuration:\n%v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok\n", name)
		describe(stdout, cfg)
		if w := rootWarning(cfg); w != "" {
			fmt.Fprintf(stderr, "%s: warning: %s\n", name, w)
		}
		return 0
	}
	cfg, err := loadConfig(name, data)
	if err != nil {
		fmt.Fprintf(stderr, "svgateway: invalid configuration:\n%v\n", err)
		return 1
	}
	if cmd == "mib" {
		text, err := snmp.ModuleText(cfg.SNMP.Root())
		if err != nil {
			fmt.Fprintf(stderr, "svgateway: %v\n", err)
			return 1
		}
		stdout.Write(text)
		return 0
	}

	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "sandbox":
		err = runSandbox(ctx, cfg, log, stdout)
	case "unsubscribe":
		if err = runUnsubscribe(ctx, cfg, log, stdout); err == nil {
			return 0
		}
	default:
		log.Info("svgateway starting", "version", buildVersion(), "config", name)
		err = runGateway(ctx, cfg, log)
	}
	if err != nil {
		log.Error("svgateway stopped", "err", err)
		return 1
	}
	log.Info("svgateway stopped")
	return 0
}

// readConfig reads the named file, or ./gateway.toml, or the embedded default.
func readConfig(path string) (name string, data []byte, err error) {
	if path != "" {
		data, err = os.ReadFile(path)
		return path, data, err
	}
	data, err = os.ReadFile("gateway.toml")
	if errors.Is(err, fs.ErrNotExist) {
		return "gateway.toml (built-in default)", svgateway.DefaultConfig, nil
	}
	return "gateway.toml", data, err
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		return v
	}
	return "(unknown)"
}

// rootWarning is what to say while a gateway serving SNMP outside the
// sandbox still uses the documentation PEN (RFC 5612) as its MIB root.
func rootWarning(cfg *Config) string {
	s := cfg.SNMP
	if cfg.Sandbox.Enabled || !s.DocumentationRoot() || (s.Listen == "off" && !s.AgentX.Enabled && len(s.Targets) == 0) {
		return ""
	}
	return "snmp.enterprise_oid: " + s.EnterpriseOID + " is the documentation number of RFC 5612, not yours: " +
		"register a Private Enterprise Number (free, IANA), set enterprise_oid to it and give your NMS `svgateway mib`"
}

// describe prints what a configuration will do, without secrets.
func describe(w io.Writer, cfg *Config) {
	if cfg.Sandbox.Enabled {
		fmt.Fprintf(w, "mode: sandbox (profile %s, listening on %s)\n", cfg.Sandbox.Profile, cfg.Sandbox.Listen)
	} else {
		fmt.Fprintf(w, "mode: live (%s, account %s, IBXs %v, grant %s)\n", cfg.SmartView.BaseURL, cfg.SmartView.AccountNo, cfg.SmartView.IBXs, cfg.SmartView.GrantType)
	}
	fmt.Fprintf(w, "state_dir: %s\n", cfg.StateDir)
	fmt.Fprintf(w, "sync: structure every %v, values every %v, stale after %v\n", cfg.Sync.StructureInterval, cfg.Sync.ValuesInterval, cfg.Sync.StaleAfter)
	fmt.Fprintf(w, "feed: provider %s", cfg.Feed.Provider)
	if cfg.Feed.Provider != "none" {
		fmt.Fprintf(w, ", subscription managed: %v", cfg.Feed.Manage())
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "status: %s\n", cfg.Status.Listen)
	fmt.Fprintf(w, "snmp agent: %s (%d communities, %d v3 users), enterprise_oid %s\n", cfg.SNMP.Listen, len(cfg.SNMP.Communities), len(cfg.SNMP.Users), cfg.SNMP.EnterpriseOID)
	if cfg.SNMP.AgentX.Enabled {
		fmt.Fprintf(w, "snmp agentx: %s (priority %d)\n", cfg.SNMP.AgentX.Socket, cfg.SNMP.AgentX.Priority)
	}
	for _, t := range cfg.SNMP.Targets {
		fmt.Fprintf(w, "snmp target: %s\n", t.Name)
	}
	fmt.Fprintf(w, "opcua: %s", cfg.OPCUA.Endpoint)
	if cfg.OPCUA.Endpoint != "off" {
		fmt.Fprintf(w, " (security %s, anonymous %v, %d users)", strings.Join(cfg.OPCUA.Security, ", "), cfg.OPCUA.AllowAnonymous, len(cfg.OPCUA.Users))
	}
	fmt.Fprintln(w)
}
