package history

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the [history] table of gateway.toml.
type Config struct {
	// Enabled records values and serves OPC UA HistoryRead (default true:
	// the loader sets it when the key is absent).
	Enabled bool `toml:"enabled"`
	// Retention is how long samples are kept, by source time (default
	// "168h", 7 days).
	Retention time.Duration `toml:"retention"`
	// MaxSize caps the data on disk ("1GiB" by default; units B, KB, MB,
	// GB, KiB, MiB, GiB); the oldest samples go first when it is reached.
	MaxSize string `toml:"max_size"`
}

// Validate fills defaults and checks the table; errors name the key.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Retention == 0:
		c.Retention = DefaultRetention
	case c.Retention < time.Hour:
		errs = append(errs, fmt.Errorf("history.retention: %v is under an hour; keep at least \"1h\" (default \"168h\")", c.Retention))
	}
	if c.MaxSize == "" {
		c.MaxSize = "1GiB"
	}
	n, err := ParseSize(c.MaxSize)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("history.max_size: %w", err))
	case n < 1<<20:
		errs = append(errs, fmt.Errorf("history.max_size: %q is under 1MiB", c.MaxSize))
	}
	return errors.Join(errs...)
}

// MaxBytes is MaxSize in bytes (after Validate).
func (c *Config) MaxBytes() int64 {
	n, _ := ParseSize(c.MaxSize)
	return n
}

// Options are the store options of a validated Config under stateDir.
func (c *Config) Options(stateDir string) Options {
	return Options{Path: filepath.Join(stateDir, FileName), Retention: c.Retention, MaxBytes: c.MaxBytes()}
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// ParseSize parses a size with its unit ("512MiB", "2GB").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 || f*float64(u.mult) > 1<<62 {
				return 0, fmt.Errorf("%q is not a size (e.g. \"1GiB\", \"500MB\")", s)
			}
			return int64(f * float64(u.mult)), nil
		}
	}
	return 0, fmt.Errorf("%q has no unit (B, KB, MB, GB, KiB, MiB, GiB)", s)
}
