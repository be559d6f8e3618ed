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
	// A bare number is refused (the unit is not guessed): the size tag
	// tells the configuration loader so.
	MaxSize string `toml:"max_size" size:"true"`
	// Backfill is the [history.backfill] table: filling gaps from
	// SmartView's trending endpoints.
	Backfill BackfillConfig `toml:"backfill"`
}

// BackfillConfig is the [history.backfill] table: after an outage and at
// start, the gaps of the recorded series are filled from upstream's trending
// endpoints. This package only holds the limits; the filling is
// smartview/backfill's.
type BackfillConfig struct {
	// Enabled fills gaps (default true when [history] is enabled: the loader
	// sets it when the key is absent).
	Enabled bool `toml:"enabled"`
	// Resolution is the trending interval asked for: "fine" (default:
	// power every 5 minutes, environment and tags every reading), "1h"
	// or "1d".
	Resolution string `toml:"resolution"`
	// PointsPerCycle bounds the series fetched per cycle (default 200).
	PointsPerCycle int `toml:"points_per_cycle"`
	// CyclePause is the pause between cycles (default "10s").
	CyclePause time.Duration `toml:"cycle_pause"`
	// Concurrency bounds the trending calls in flight (default 2).
	Concurrency int `toml:"concurrency"`
	// Rate bounds the trending calls per second (default 2).
	Rate float64 `toml:"rate"`
	// Retries is how many times a failed series is tried again within a
	// gap (default 3; 0 takes the default, -1 never retries).
	Retries int `toml:"retries"`
}

// Backfill resolutions (BackfillConfig.Resolution).
const (
	ResolutionFine = "fine"
	Resolution1h   = "1h"
	Resolution1d   = "1d"
)

// Validate fills defaults and checks the table; errors name the key.
func (c *BackfillConfig) Validate() error {
	var errs []error
	switch c.Resolution {
	case "":
		c.Resolution = ResolutionFine
	case ResolutionFine, Resolution1h, Resolution1d:
	default:
		errs = append(errs, fmt.Errorf("history.backfill.resolution: %q is not \"fine\", \"1h\" or \"1d\"", c.Resolution))
	}
	switch {
	case c.PointsPerCycle == 0:
		c.PointsPerCycle = 200
	case c.PointsPerCycle < 0 || c.PointsPerCycle > 100000:
		errs = append(errs, fmt.Errorf("history.backfill.points_per_cycle: %d is not in 1..100000", c.PointsPerCycle))
	}
	switch {
	case c.CyclePause == 0:
		c.CyclePause = 10 * time.Second
	case c.CyclePause < 0:
		errs = append(errs, fmt.Errorf("history.backfill.cycle_pause: %v is negative", c.CyclePause))
	}
	switch {
	case c.Concurrency == 0:
		c.Concurrency = 2
	case c.Concurrency < 0 || c.Concurrency > 32:
		errs = append(errs, fmt.Errorf("history.backfill.concurrency: %d is not in 1..32", c.Concurrency))
	}
	switch {
	case c.Rate == 0:
		c.Rate = 2
	case c.Rate < 0 || c.Rate > 1000:
		errs = append(errs, fmt.Errorf("history.backfill.rate: %v calls per second is not in (0, 1000]", c.Rate))
	}
	switch {
	case c.Retries == 0:
		c.Retries = 3
	case c.Retries == -1:
		c.Retries = 0
	case c.Retries < -1 || c.Retries > 100:
		errs = append(errs, fmt.Errorf("history.backfill.retries: %d is not in -1..100", c.Retries))
	}
	return errors.Join(errs...)
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
	errs = append(errs, c.Backfill.Validate())
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
