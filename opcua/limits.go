package opcua

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/svgateway/svgateway/opcua/uaserver"
)

// The [opcua] table of gateway.toml is one table for the user, two for the
// code: the protocol server's keys (endpoint, security, users, channel and
// session bounds) belong to uaserver, the operation limits ([opcua.limits])
// to the services here that enforce them.

// Config is the [opcua] table of gateway.toml. Validate fills the defaults.
type Config struct {
	// Config is the protocol server's part: its keys sit directly in
	// [opcua] (an embedded struct's fields are the table's own keys).
	uaserver.Config
	// Limits are the operation limits the services enforce and advertise.
	Limits Limits `toml:"limits"`
}

// Validate fills defaults and checks the configuration; errors name the key.
func (c *Config) Validate() error {
	return errors.Join(c.Config.Validate(), c.Limits.validate(), validateRoles(c.Users))
}

// Limits are the operation limits of the services ([opcua.limits]); the
// services enforce them and advertise them in ServerCapabilities.
// Zero means "use the default".
type Limits struct {
	MaxNodesPerRead                  int           `toml:"max_nodes_per_read"`
	MaxNodesPerBrowse                int           `toml:"max_nodes_per_browse"`
	MaxNodesPerTranslateBrowsePaths  int           `toml:"max_nodes_per_translate_browse_paths"`
	MaxMonitoredItemsPerCall         int           `toml:"max_monitored_items_per_call"`
	MaxNodesPerRegisterNodes         int           `toml:"max_nodes_per_register_nodes"`
	MaxBrowseContinuationPoints      int           `toml:"max_browse_continuation_points"`
	MaxReferencesPerNode             int           `toml:"max_references_per_node"`
	MaxSubscriptionsPerSession       int           `toml:"max_subscriptions_per_session"`
	MaxMonitoredItemsPerSubscription int           `toml:"max_monitored_items_per_subscription"`
	MinPublishingInterval            time.Duration `toml:"min_publishing_interval"`
	MinSamplingInterval              time.Duration `toml:"min_sampling_interval"`
	MaxQueueSize                     int           `toml:"max_queue_size"`
	MaxNotificationsPerPublish       int           `toml:"max_notifications_per_publish"`
	MaxPublishRequestsPerSession     int           `toml:"max_publish_requests_per_session"`
	// HistoryRead: nodes per request, values per node in one response
	// (more: a continuation point), continuation points per session.
	MaxNodesPerHistoryReadData   int `toml:"max_nodes_per_history_read_data"`
	MaxHistoryValuesPerNode      int `toml:"max_history_values_per_node"`
	MaxHistoryContinuationPoints int `toml:"max_history_continuation_points"`
}

// DefaultLimits are the operation limits used for every zero field.
var DefaultLimits = Limits{
	MaxNodesPerRead:                  10000,
	MaxNodesPerBrowse:                1000,
	MaxNodesPerTranslateBrowsePaths:  1000,
	MaxMonitoredItemsPerCall:         10000,
	MaxNodesPerRegisterNodes:         1000,
	MaxBrowseContinuationPoints:      100,
	MaxReferencesPerNode:             1000,
	MaxSubscriptionsPerSession:       100,
	MaxMonitoredItemsPerSubscription: 50000,
	MinPublishingInterval:            50 * time.Millisecond,
	MinSamplingInterval:              0,
	MaxQueueSize:                     100,
	MaxNotificationsPerPublish:       10000,
	MaxPublishRequestsPerSession:     100,
	MaxNodesPerHistoryReadData:       100,
	MaxHistoryValuesPerNode:          10000,
	MaxHistoryContinuationPoints:     100,
}

// validate fills every zero limit from DefaultLimits and refuses negative
// ones; errors name the key (its toml tag).
func (l *Limits) validate() error {
	var errs []error
	v, def := reflect.ValueOf(l).Elem(), reflect.ValueOf(DefaultLimits)
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Int() == 0:
			f.Set(def.Field(i))
		case f.Int() < 0:
			errs = append(errs, fmt.Errorf("opcua.limits.%s: must be positive, got %v", v.Type().Field(i).Tag.Get("toml"), f.Interface()))
		}
	}
	return errors.Join(errs...)
}
