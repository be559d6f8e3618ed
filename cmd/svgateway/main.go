// Command svgateway bridges Equinix IBX SmartView to SNMP and OPC UA.
//
//	svgateway [-config FILE] [run]          run the gateway (the default)
//	svgateway [-config FILE] sandbox        serve the simulated SmartView API alone
//	svgateway [-config FILE] check-config   validate the configuration
//	svgateway [-config FILE] unsubscribe    delete the feed subscription
//	svgateway [-config FILE] mib            print SVGATEWAY-MIB for the configured enterprise_oid
//	svgateway hash-password                 bcrypt hash for [[opcua.users]]
//	svgateway version | --version
//	svgateway help | -h | --help
//
// Without -config it reads ./gateway.toml, or, when there is none and it was
// started from a terminal, the shipped default embedded in the binary (the
// built-in sandbox on loopback). Started otherwise (by systemd, cron, a
// container runtime) it refuses to run that sandbox unless asked with
// -sandbox: a service must not serve simulated data by mistake.
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
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/svgateway/svgateway"
	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/snmp"
)

// version and buildDate are set at build time (packaging/release.sh):
//
//	-ldflags "-X main.version=1.2.0 -X main.buildDate=2026-12-06T18:00:00Z"
//
// Otherwise they are read from the module build information.
var (
	version   = ""
	buildDate = ""
)

// commands are the subcommands, in the order help lists them.
var commands = []struct{ name, args, help string }{
	{"run", "", "run the gateway (the default)"},
	{"sandbox", "", "serve the simulated SmartView API alone"},
	{"check-config", "", "validate the configuration and say what it will do"},
	{"unsubscribe", "", "delete the gateway's feed subscription (SmartView API)"},
	{"mib", "", "print SVGATEWAY-MIB with the configured enterprise_oid as its root"},
	{"hash-password", "", "bcrypt hash of a password for [[opcua.users]] (prompts without echo on a terminal, else reads one line of stdin)"},
	{"version", "", "print the version and build date (also --version)"},
	{"help", "", "print this help (also -h, --help)"},
}

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are the flags, accepted before and after the subcommand.
type options struct {
	config      string
	sandbox     bool
	showVersion bool
}

func (o *options) flags(name string, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.config, "config", o.config, "configuration `FILE` (default ./gateway.toml)")
	fl.BoolVar(&o.sandbox, "sandbox", o.sandbox, "run the built-in sandbox configuration (simulated data), even without a terminal; not with -config")
	fl.BoolVar(&o.showVersion, "version", o.showVersion, "print the version and exit")
	fl.Usage = func() {} // -h is answered on stdout by runMain; a bad flag's error says what is wrong
	return fl
}

// usage prints the commands and flags, as README.md "Commands" lists them.
func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: svgateway [-config FILE] [-sandbox] [command]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.help)
	}
	fmt.Fprintf(w, "\nflags (before or after the command):\n")
	fmt.Fprintf(w, "  -config FILE   configuration file (default ./gateway.toml; without one, the built-in sandbox\n")
	fmt.Fprintf(w, "                 configuration when started from a terminal)\n")
	fmt.Fprintf(w, "  -sandbox       run the built-in sandbox configuration (simulated data) even when not started\n")
	fmt.Fprintf(w, "                 from a terminal, e.g. as a service; not with -config\n")
	fmt.Fprintf(w, "  -version       print the version and exit\n")
	fmt.Fprintf(w, "  -h, -help      print this help\n")
	fmt.Fprintf(w, "\nsignals (run): SIGINT/SIGTERM stop cleanly; SIGHUP reloads the configuration file.\n")
}

// runMain is main without os.Exit, for tests.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	top := o.flags("svgateway", stderr)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "run `svgateway help` for the commands and flags")
		return 2
	}
	cmd, rest := "run", top.Args()
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	// Subcommands take the flags too: `svgateway check-config -config x.toml`.
	sub := o.flags("svgateway "+cmd, stderr)
	if err := sub.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "run `svgateway help` for the commands and flags")
		return 2
	}
	if sub.NArg() > 0 {
		fmt.Fprintf(stderr, "svgateway %s: unexpected arguments %q\n", cmd, sub.Args())
		return 2
	}
	if o.showVersion {
		cmd = "version"
	}

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help":
		usage(stdout)
		return 0
	case "hash-password":
		if err := runHashPassword(stdin, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "svgateway: %v\n", err)
			return 1
		}
		return 0
	case "run", "sandbox", "check-config", "unsubscribe", "mib":
	default:
		fmt.Fprintf(stderr, "svgateway: unknown command %q\n", cmd)
		usage(stderr)
		return 2
	}
	// From here on SIGHUP must not kill the process (its default action):
	// run reloads on it, the other commands ignore it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	if o.sandbox && o.config != "" {
		fmt.Fprintln(stderr, "svgateway: -sandbox runs the built-in configuration; it cannot be combined with -config")
		return 2
	}
	src, err := findConfig(o, cmd == "run" && !isTerminal(stdin))
	if err != nil {
		fmt.Fprintf(stderr, "svgateway: %v\n", err)
		return 1
	}
	data, err := src.read()
	if err != nil {
		fmt.Fprintf(stderr, "svgateway: %v\n", err)
		return 1
	}
	if cmd == "check-config" { // the file, then what this machine allows: every error at once
		cfg, err := checkConfig(src.name, data)
		if err != nil {
			fmt.Fprintf(stderr, "svgateway: invalid configuration:\n%v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok\n", src.name)
		describe(stdout, cfg)
		if w := rootWarning(cfg); w != "" {
			fmt.Fprintf(stderr, "%s: warning: %s\n", src.name, w)
		}
		return 0
	}
	cfg, err := loadConfig(src.name, data)
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

	level := new(slog.LevelVar)
	log := newLogger(cfg, level, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "sandbox":
		go ignoreHUP(ctx, hup, log)
		err = runSandbox(ctx, cfg, log, stdout)
	case "unsubscribe":
		go ignoreHUP(ctx, hup, log)
		if err = runUnsubscribe(ctx, cfg, log, stdout); err == nil {
			return 0
		}
	default:
		log.Info("svgateway starting", "version", buildVersion(), "built", builtAt(), "config", src.name)
		err = runGateway(ctx, cfg, log, runOptions{level: level, source: src, hup: hup})
	}
	if err != nil {
		log.Error("svgateway stopped", "err", err)
		return 1
	}
	log.Info("svgateway stopped")
	return 0
}

func ignoreHUP(ctx context.Context, hup <-chan os.Signal, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP ignored: only `svgateway run` reloads its configuration")
		}
	}
}

// isTerminal reports whether r is a terminal (an interactive start).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// configSource is where the configuration comes from; SIGHUP reads it again.
type configSource struct {
	name string // for messages: the path, or "gateway.toml (built-in default)"
	path string // "" for the embedded default
}

func (s configSource) read() ([]byte, error) {
	if s.path == "" {
		return svgateway.DefaultConfig, nil
	}
	return os.ReadFile(s.path)
}

// errNoConfig is the refusal to run the embedded sandbox unasked.
var errNoConfig = errors.New("no configuration: neither -config nor ./gateway.toml, and not started from a terminal.\n" +
	"  Refusing to run the built-in sandbox configuration (simulated data, not a SmartView account) as a service.\n" +
	"  Give the configuration with -config /etc/svgateway/gateway.toml, or run the sandbox on purpose with `svgateway run -sandbox`")

// findConfig picks the named file, or ./gateway.toml, or the embedded
// default; with refuseEmbedded (run, not from a terminal) the embedded
// default only when -sandbox asks for it.
func findConfig(o options, refuseEmbedded bool) (configSource, error) {
	switch {
	case o.config != "":
		return configSource{name: o.config, path: o.config}, nil
	case o.sandbox:
		return configSource{name: "gateway.toml (built-in default, -sandbox)"}, nil
	}
	_, err := os.Stat("gateway.toml")
	switch {
	case err == nil:
		return configSource{name: "gateway.toml", path: "gateway.toml"}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return configSource{}, err
	case refuseEmbedded:
		return configSource{}, errNoConfig
	}
	return configSource{name: "gateway.toml (built-in default)"}, nil
}

// newLogger logs at cfg's level, held in level so that a reload can change
// it. JSON logs give durations in seconds (a float), as Prometheus and most
// log pipelines expect, not slog's integer nanoseconds.
func newLogger(cfg *Config, level *slog.LevelVar, w io.Writer) *slog.Logger {
	level.UnmarshalText([]byte(cfg.LogLevel)) // validated
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				a.Value = slog.Float64Value(a.Value.Duration().Seconds())
			}
			return a
		}
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

// buildTime is when the binary was built, never when it started (the OPC
// UA BuildInfo.BuildDate, --version, svgateway_build_info): -X
// main.buildDate (packaging/release.sh stamps the release time), else the
// VCS commit time go build records (vcs.time), else — go run and go test
// record no VCS information — the modification time of the executable,
// which the go command wrote when it linked it; zero when unknown.
func buildTime() time.Time {
	if t, err := time.Parse(time.RFC3339, buildDate); err == nil {
		return t.UTC()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.UTC()
				}
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			return fi.ModTime().UTC().Truncate(time.Second)
		}
	}
	return time.Time{}
}

// builtAt is buildTime in RFC 3339, or "unknown".
func builtAt() string {
	if t := buildTime(); !t.IsZero() {
		return t.Format(time.RFC3339)
	}
	return "unknown"
}

// versionLine is what version and --version print.
func versionLine() string {
	return fmt.Sprintf("svgateway %s (built %s, %s, %s/%s)", buildVersion(), builtAt(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// describe prints what a configuration will do, without secrets.
func describe(w io.Writer, cfg *Config) {
	if cfg.Sandbox.Enabled {
		fmt.Fprintf(w, "mode: sandbox (profile %s, listening on %s)\n", cfg.Sandbox.Profile, cfg.Sandbox.Listen)
	} else {
		fmt.Fprintf(w, "mode: live (%s, account %s, IBXs %v, grant %s)\n", cfg.SmartView.BaseURL, cfg.SmartView.AccountNo, cfg.SmartView.IBXs, cfg.SmartView.GrantType)
	}
	fmt.Fprintf(w, "api catalog: %s", cfg.SmartView.Catalog)
	if cfg.Sandbox.Enabled {
		fmt.Fprintf(w, " (the sandbox serves %s)", cfg.Sandbox.Catalog)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "state_dir: %s\n", cfg.StateDir)
	fmt.Fprintf(w, "sync: structure every %v, values every %v, stale after %v\n", cfg.Sync.StructureInterval, cfg.Sync.ValuesInterval, cfg.Sync.StaleAfter)
	fmt.Fprintf(w, "feed: provider %s", cfg.Feed.Provider)
	if cfg.Feed.Provider != "none" {
		fmt.Fprintf(w, ", subscription managed: %v", cfg.Feed.Manage())
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "runtime: %s\n", cfg.Runtime.resolve(os.Getenv, cgroupMemoryLimit()))
	fmt.Fprintf(w, "status: %s", cfg.Status.Listen)
	if cfg.Status.Listen != "off" {
		switch {
		case cfg.Status.WebConfigFile != "":
			fmt.Fprintf(w, " (web config %s", cfg.Status.WebConfigFile)
		case loopback(cfg.Status.Listen):
			fmt.Fprint(w, " (loopback, plain HTTP")
		default:
			fmt.Fprint(w, " (plain HTTP")
		}
		if what := cfg.Status.insecureExposure(); what != "" {
			fmt.Fprintf(w, "; WARNING: reachable from the network and %s, allowed by allow_insecure", what)
		}
		fmt.Fprintf(w, "; at most %d connections", cfg.Status.MaxConnections)
		if cfg.Status.Pprof {
			fmt.Fprint(w, "; pprof on /debug/pprof/")
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "snmp agent: %s (%d communities, %d v3 users), enterprise_oid %s\n", cfg.SNMP.Listen, len(cfg.SNMP.Communities), len(cfg.SNMP.Users), cfg.SNMP.EnterpriseOID)
	if cfg.SNMP.AgentX.Enabled {
		fmt.Fprintf(w, "snmp agentx: %s (priority %d)\n", cfg.SNMP.AgentX.Socket, cfg.SNMP.AgentX.Priority)
	}
	for _, t := range cfg.SNMP.Targets {
		fmt.Fprintf(w, "snmp target: %s\n", t.Name)
	}
	fmt.Fprintf(w, "opcua: %s", cfg.OPCUA.Endpoint)
	if cfg.OPCUA.Endpoint != "off" {
		operators := 0
		for _, u := range cfg.OPCUA.Users {
			if u.Role == "operator" {
				operators++
			}
		}
		fmt.Fprintf(w, " (security %s, anonymous %v, %d users, %d of them operators who may acknowledge alarms)",
			strings.Join(cfg.OPCUA.Security, ", "), cfg.OPCUA.AllowAnonymous, len(cfg.OPCUA.Users), operators)
	}
	fmt.Fprintln(w)
	h := cfg.History
	if !h.Enabled {
		fmt.Fprintln(w, "history: off")
		return
	}
	fmt.Fprintf(w, "history: %s, retention %v, max %s\n", filepath.Join(cfg.StateDir, history.FileName), h.Retention, h.MaxSize)
	if b := h.Backfill; b.Enabled {
		fmt.Fprintf(w, "history backfill: on, from trending (resolution %s; %d series per cycle, %v between cycles, %d in flight, %v calls/s, %d retries)\n",
			b.Resolution, b.PointsPerCycle, b.CyclePause, b.Concurrency, b.Rate, b.Retries)
	} else {
		fmt.Fprintln(w, "history backfill: off")
	}
}
