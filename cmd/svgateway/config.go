package main

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/svgateway/svgateway/cluster"
	"github.com/svgateway/svgateway/history"
	"github.com/svgateway/svgateway/opcua"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/feed"
	"github.com/svgateway/svgateway/smartview/poll"
	"github.com/svgateway/svgateway/smartview/sandbox"
	"github.com/svgateway/svgateway/snmp"
)

// Config is gateway.toml. Each table is the configuration of one subsystem,
// defined by its package; this file only loads, resolves and validates.
type Config struct {
	// StateDir holds what must survive restarts: the alarm ledger, SNMP
	// indexes and engine state, OPC UA certificates.
	StateDir  string           `toml:"state_dir"`
	LogLevel  string           `toml:"log_level"`  // debug, info (default), warn, error
	LogFormat string           `toml:"log_format"` // text (default) or json
	Sandbox   sandbox.Config   `toml:"sandbox"`
	SmartView smartview.Config `toml:"smartview"`
	Sync      poll.Config      `toml:"sync"`
	Feed      feed.Config      `toml:"feed"`
	Status    StatusConfig     `toml:"status"`
	SNMP      snmp.Config      `toml:"snmp"`
	OPCUA     opcua.Config     `toml:"opcua"`
	Cluster   cluster.Config   `toml:"cluster"`
	History   history.Config   `toml:"history"`
	Runtime   RuntimeConfig    `toml:"runtime"`
}

// ConfigError is a configuration error located in the file.
type ConfigError struct {
	File string
	Line int // 0 when unknown
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// loadConfig parses, resolves and validates a configuration. name is used in
// error messages. Every error names the key and, where it is in the file,
// the line; all of them are reported at once.
func loadConfig(name string, data []byte) (*Config, error) {
	cfg, err := parseConfig(name, data)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkConfig is check-config: loadConfig's errors and, if the file could be
// read, what checkMachine finds, all at once.
func checkConfig(name string, data []byte) (*Config, error) {
	cfg, err := parseConfig(name, data)
	if cfg != nil {
		if merr := checkMachine(cfg); merr != nil {
			err = errors.Join(err, locate(name, keyLines(data), merr))
		}
	}
	return cfg, err
}

// parseConfig is loadConfig, but returns the configuration as far as it
// could be read along with the errors (nil only when it is not TOML).
func parseConfig(name string, data []byte) (*Config, error) {
	var cfg Config
	lines := keyLines(data)
	var doc map[string]any
	var bare []error
	if _, err := toml.Decode(string(data), &doc); err == nil {
		bare = bareNumbers(doc)
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil && len(bare) > 0 {
		// A bare number for a size (a string) or 1.5 for a duration stops
		// the decoder. Decode again with those keys' lines left out, so
		// that the file's other errors are reported with them, every error
		// at once; if that fails too, the bare numbers are what we can say.
		md, err = toml.Decode(withoutKeyLines(data, lines, bare), &cfg)
		if err != nil {
			return nil, locate(name, lines, errors.Join(bare...))
		}
	}
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: name, Line: pe.Position.Line, Err: errors.New(pe.Message)}
		}
		// Type errors carry their position only in the text:
		// `toml: line 3 (last key "sync.concurrency"): incompatible types: …`.
		if m := decodeErrorLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ConfigError{File: name, Line: line, Err: fmt.Errorf("%s: %s", m[2], m[3])}
		}
		return nil, &ConfigError{File: name, Err: err}
	}
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, &ConfigError{File: name, Line: lines.find(k.String()), Err: fmt.Errorf("%s: unknown key", k)})
	}
	errs = append(errs, unjoin(locate(name, lines, errors.Join(bare...)))...)
	// A bare number's key would be reported again by validation ("30ns is
	// below the minimum"): the first error is the one that helps.
	seen := map[string]bool{}
	for _, e := range bare {
		seen[errorKey(e)] = true
	}
	validation := func(err error) {
		for _, e := range unjoin(err) {
			if !seen[errorKey(e)] {
				errs = append(errs, unjoin(locate(name, lines, e))...)
			}
		}
	}
	// The SNMP agent and the OPC UA server need communities, users or
	// anonymous access configured: a file without their table does not run
	// them (the shipped one has both).
	if !md.IsDefined("snmp") {
		cfg.SNMP.Listen = "off"
	}
	if !md.IsDefined("opcua") {
		cfg.OPCUA.Endpoint = "off"
	}
	if !md.IsDefined("history", "enabled") {
		cfg.History.Enabled = true // history is on unless turned off
	}
	if !md.IsDefined("history", "backfill", "enabled") {
		cfg.History.Backfill.Enabled = true // gaps are filled unless turned off
	}
	validation(cfg.resolveSecrets())
	validation(cfg.validate())
	if len(errs) > 0 {
		// In the file's order (the bare numbers are found in a map's).
		slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(errorLine(a), errorLine(b)) })
		return &cfg, errors.Join(errs...)
	}
	return &cfg, nil
}

// errorLine is the line a located error names (0: none).
func errorLine(err error) int {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Line
	}
	return 0
}

// errorKey is the key an error message starts with ("" if none).
func errorKey(err error) string {
	if m := keyPath.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// validate fills in defaults and checks every table; it reports the errors
// of every table, not only the first.
func (c *Config) validate() error {
	var errs []error
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir: must be set (the alarm ledger, indexes and certificates live there)"))
	}
	switch c.LogLevel {
	case "":
		c.LogLevel = "info"
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	switch c.LogFormat {
	case "":
		c.LogFormat = "text"
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log_format: %q is not text or json", c.LogFormat))
	}
	errs = append(errs, c.Sandbox.Validate())
	if c.Sandbox.Enabled {
		// The client is pointed at the embedded sandbox when it starts; its
		// address and credentials are the sandbox's.
		c.SmartView.BaseURL, c.SmartView.TokenURL = "http://sandbox.invalid", ""
		c.SmartView.GrantType = "client_credentials"
		c.SmartView.ClientID, c.SmartView.ClientSecret = c.Sandbox.ClientID, c.Sandbox.ClientSecret
		c.SmartView.UserName, c.SmartView.UserPassword, c.SmartView.PasswordEncoding = "", "", ""
		c.SmartView.AccountNo = c.Sandbox.AccountNo
	}
	errs = append(errs, c.SmartView.Validate())
	if c.Sandbox.Enabled {
		c.SmartView.IBXs = nil // the sandbox's own, once it runs
	} else if len(c.SmartView.IBXs) == 0 {
		errs = append(errs, errors.New("smartview.ibxs: list the IBXs to sync (e.g. [\"CH1\", \"SV4\"])"))
	}
	errs = append(errs, c.Sync.Validate(), c.validateFeed(), c.SNMP.Validate(), c.validateOPCUA(), c.Cluster.Validate(), c.History.Validate())
	if !c.Sandbox.Enabled && c.SNMP.Listen != "off" {
		// A community travels in clear and a UDP source can be forged: live
		// data is served only to the networks a community names.
		for i, cm := range c.SNMP.Communities {
			if len(cm.Sources) == 0 {
				errs = append(errs, fmt.Errorf("snmp.communities[%d].sources: required in live mode: "+
					"list the networks of your managers (e.g. [\"10.0.0.0/24\"]); a community sent in clear must not answer any address", i))
			}
		}
	}
	errs = append(errs, c.Status.validate(), c.Runtime.validate())
	return errors.Join(errs...)
}

// resolveSecrets resolves the secrets of every table in use: [smartview] is
// not when the sandbox stands in for it.
func (c *Config) resolveSecrets() error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		key := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if key == "smartview" && c.Sandbox.Enabled {
			continue
		}
		if err := resolveSecrets(v.Field(i), key); err != nil {
			return err
		}
	}
	return nil
}

// tomlKey is the TOML key of struct field f as the decoder reads it: its
// toml tag's name, else the field's name. embedded is true for an untagged
// embedded struct (opcua.Config embeds uaserver.Config): its keys are its
// parent's. Every walk over the Config types (secrets, bare durations,
// reload diffs) names keys through it.
func tomlKey(f reflect.StructField) (key string, embedded bool) {
	tag := f.Tag.Get("toml")
	if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
		return "", true
	}
	if key = strings.Split(tag, ",")[0]; key == "" {
		key = f.Name
	}
	return key, false
}

// resolveSecrets replaces, in every string field tagged secret:"true", a value
// "env:NAME" by the environment variable NAME and "file:/path" by the file's
// content (without its trailing newline). Errors name the key, never the value.
func resolveSecrets(v reflect.Value, prefix string) error {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			key, embedded := tomlKey(f)
			switch {
			case embedded:
				key = prefix
			case prefix != "":
				key = prefix + "." + key
			}
			fv := v.Field(i)
			if f.Tag.Get("secret") == "true" && fv.Kind() == reflect.String {
				s, err := resolveSecret(key, fv.String())
				if err != nil {
					return err
				}
				fv.SetString(s)
				continue
			}
			if err := resolveSecrets(fv, key); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := resolveSecrets(v.Index(i), fmt.Sprintf("%s[%d]", prefix, i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return resolveSecrets(v.Elem(), prefix)
		}
	}
	return nil
}

func resolveSecret(key, value string) (string, error) {
	switch {
	case strings.HasPrefix(value, "env:"):
		name := strings.TrimPrefix(value, "env:")
		s, ok := os.LookupEnv(name)
		if !ok || s == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set", key, name)
		}
		return s, nil
	case strings.HasPrefix(value, "file:"):
		path, err := credentialPath(key, strings.TrimPrefix(value, "file:"))
		if err != nil {
			return "", err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: reading the secret file: %w", key, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("%s: secret file %s is empty", key, path)
		}
		return s, nil
	}
	return value, nil
}

// credentialPath expands a leading $CREDENTIALS_DIRECTORY (or
// ${CREDENTIALS_DIRECTORY}) in a secret's file path: systemd's
// LoadCredential= sets that variable to the directory holding the service's
// credentials, so the packaged configuration names its secrets
// "file:$CREDENTIALS_DIRECTORY/smartview-client-secret".
func credentialPath(key, path string) (string, error) {
	for _, v := range []string{"$CREDENTIALS_DIRECTORY/", "${CREDENTIALS_DIRECTORY}/"} {
		if rest, ok := strings.CutPrefix(path, v); ok {
			dir := os.Getenv("CREDENTIALS_DIRECTORY")
			if dir == "" {
				return "", fmt.Errorf("%s: CREDENTIALS_DIRECTORY is not set (systemd sets it for a unit with LoadCredential=)", key)
			}
			return filepath.Join(dir, rest), nil
		}
	}
	return path, nil
}

var decodeErrorLine = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// keyPath matches the key an error message starts with: "smartview.grant_type:",
// "snmp.users[1].auth_protocol:".
var keyPath = regexp.MustCompile(`^([A-Za-z0-9_]+(?:\[\d+\])?(?:\.[A-Za-z0-9_]+(?:\[\d+\])?)*): `)

// locate wraps each error in a ConfigError with the line of the key it names.
func locate(name string, lines keyIndex, err error) error {
	var errs []error
	for _, e := range unjoin(err) {
		line := 0
		if m := keyPath.FindStringSubmatch(e.Error()); m != nil {
			line = lines.find(m[1])
		}
		errs = append(errs, &ConfigError{File: name, Line: line, Err: e})
	}
	return errors.Join(errs...)
}

// unjoin splits errors.Join's result, flattening nested joins; nil gives none.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// keyIndex maps dotted keys ("sync.values_interval", "snmp.users[1].name")
// to the line they are set on, and tables to their header line.
type keyIndex map[string]int

var (
	tableHeader = regexp.MustCompile(`^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$`)
	arrayHeader = regexp.MustCompile(`^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$`)
	keyLine     = regexp.MustCompile(`^\s*("[^"]*"|[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=`)
)

// keyLines scans a TOML document for table headers and key assignments. It
// understands what gateway.toml uses (tables, arrays of tables, dotted and
// bare keys); a multi-line value's continuation lines are not keys.
func keyLines(data []byte) keyIndex {
	idx := keyIndex{}
	table := ""
	arrays := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	depth := 0 // open brackets of a multi-line array value
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if depth > 0 {
			depth += strings.Count(line, "[") - strings.Count(line, "]")
			continue
		}
		if m := arrayHeader.FindStringSubmatch(line); m != nil {
			name := strings.ReplaceAll(m[1], " ", "")
			table = fmt.Sprintf("%s[%d]", name, arrays[name])
			arrays[name]++
			idx[table] = n
			continue
		}
		if m := tableHeader.FindStringSubmatch(line); m != nil {
			table = strings.ReplaceAll(m[1], " ", "")
			idx[table] = n
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			key := strings.Trim(strings.ReplaceAll(m[1], " ", ""), `"`)
			if table != "" {
				key = table + "." + key
			}
			idx[key] = n
			rest := line[len(m[0]):]
			depth = strings.Count(rest, "[") - strings.Count(rest, "]")
			if depth < 0 {
				depth = 0
			}
		}
	}
	return idx
}

// withoutKeyLines returns data with the lines of the keys errs name
// commented out: line numbers stay those of data.
func withoutKeyLines(data []byte, idx keyIndex, errs []error) string {
	drop := map[int]bool{}
	for _, e := range errs {
		if n, ok := idx[errorKey(e)]; ok {
			drop[n] = true
		}
	}
	out := strings.Split(string(data), "\n")
	for n := range drop {
		if n >= 1 && n <= len(out) {
			out[n-1] = "# " + out[n-1]
		}
	}
	return strings.Join(out, "\n")
}

// find returns the line of key, or of the nearest enclosing table that is in
// the file; 0 if none is.
func (idx keyIndex) find(key string) int {
	key = strings.ReplaceAll(key, `"`, "")
	for key != "" {
		if n, ok := idx[key]; ok {
			return n
		}
		if n, ok := idx[strings.TrimRight(key, "]0123456789[")]; ok { // "sync.power_levels[1]" → the key's line
			return n
		}
		i := strings.LastIndexAny(key, ".")
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}
