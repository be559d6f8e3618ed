package poll

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/svgateway/svgateway/model"
)

// Config is the [sync] table of gateway.toml.
type Config struct {
	// StructureInterval is how often hierarchies, asset lists, asset details
	// and affected locations are re-read (default 15m).
	StructureInterval time.Duration `toml:"structure_interval"`
	// ValuesInterval is how often readings (power, environment, tags, asset
	// states) and alarms are re-read (default 60s).
	ValuesInterval time.Duration `toml:"values_interval"`
	// StaleAfter is how long a value stays good without upstream confirming
	// it (default 3 × values_interval, at least 1m).
	StaleAfter time.Duration `toml:"stale_after"`
	// AlarmRetention is how long cleared alarms and alerts are remembered
	// (default 168h).
	AlarmRetention time.Duration `toml:"alarm_retention"`
	// Concurrency bounds the API calls in flight (default 4).
	Concurrency int `toml:"concurrency"`
	// BatchSize bounds the asset ids of one asset-details POST (default 1000):
	// calls per refresh grow with IBXs and levels, not with assets, until an
	// IBX has more assets than this.
	BatchSize int `toml:"batch_size"`
	// SkipAffectedAssets leaves out the asset → cage/cabinet/circuit links:
	// they take one call per asset per structure refresh.
	SkipAffectedAssets bool `toml:"skip_affected_assets"`
	// PowerLevels and EnvironmentLevels are the level types whose readings
	// are fetched (defaults: IBX, CAGE, CABINET, CIRCUIT and IBX, ZONE, CAGE, SENSOR).
	PowerLevels       []string `toml:"power_levels"`
	EnvironmentLevels []string `toml:"environment_levels"`
	// RetryInterval is the longest wait before re-reading what failed: the
	// first retry comes after 1s, the wait doubling while retries fail, up to
	// this (default 10s).
	RetryInterval time.Duration `toml:"retry_interval"`
}

// Validate fills in defaults and checks the values; errors name the key.
func (c *Config) Validate() error {
	if c.StructureInterval == 0 {
		c.StructureInterval = 15 * time.Minute
	}
	if c.ValuesInterval == 0 {
		c.ValuesInterval = time.Minute
	}
	if c.StaleAfter == 0 {
		c.StaleAfter = max(3*c.ValuesInterval, time.Minute)
	}
	if c.AlarmRetention == 0 {
		c.AlarmRetention = 7 * 24 * time.Hour
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = 10 * time.Second
	}
	if c.PowerLevels == nil {
		c.PowerLevels = []string{"IBX", "CAGE", "CABINET", "CIRCUIT"}
	}
	if c.EnvironmentLevels == nil {
		c.EnvironmentLevels = []string{"IBX", "ZONE", "CAGE", "SENSOR"}
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sync."+key+": "+format, args...))
	}
	if c.ValuesInterval < time.Second {
		bad("values_interval", "%v is below the minimum of 1s", c.ValuesInterval)
	}
	if c.StructureInterval < c.ValuesInterval {
		bad("structure_interval", "%v is shorter than sync.values_interval (%v)", c.StructureInterval, c.ValuesInterval)
	}
	if c.StaleAfter < c.ValuesInterval {
		bad("stale_after", "%v is shorter than sync.values_interval (%v): every value would go stale between polls", c.StaleAfter, c.ValuesInterval)
	}
	if c.AlarmRetention < time.Hour {
		bad("alarm_retention", "%v is below the minimum of 1h", c.AlarmRetention)
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		bad("concurrency", "%d is not between 1 and 64", c.Concurrency)
	}
	if c.BatchSize < 1 {
		bad("batch_size", "%d must be positive", c.BatchSize)
	}
	if c.RetryInterval < 100*time.Millisecond {
		bad("retry_interval", "%v is below the minimum of 100ms", c.RetryInterval)
	}
	errs = append(errs,
		checkLevels("sync.power_levels", c.PowerLevels, model.LevelIBX, model.LevelCage, model.LevelCabinet, model.LevelCircuit),
		checkLevels("sync.environment_levels", c.EnvironmentLevels, model.LevelIBX, model.LevelZone, model.LevelCage, model.LevelSensor))
	return errors.Join(errs...)
}

func checkLevels(key string, levels []string, allowed ...model.Level) error {
	for i, s := range levels {
		l, ok := model.ParseLevel(s)
		if !ok || !slices.Contains(allowed, l) {
			names := make([]string, len(allowed))
			for j, a := range allowed {
				names[j] = a.String()
			}
			return fmt.Errorf("%s[%d]: %q is not one of %s", key, i, s, strings.Join(names, ", "))
		}
		levels[i] = l.String()
	}
	return nil
}
