package smartview

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var errNotImplemented = errors.New("smartview: not implemented yet")

// Options are the Client's collaborators; every field may be left zero.
type Options struct {
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	HTTPClient *http.Client          // nil: the client's own, with connect and header timeouts
	Now        func() time.Time      // nil: time.Now; tests set it to resolve Retry-After dates
}

// Client calls the SmartView REST API. It is safe for concurrent use.
type Client struct{}

// New validates cfg (see Config.Validate) and returns a Client. No request is made until the first
// call.
func New(cfg Config, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{}, errNotImplemented
}

// Endpoint names: the "endpoint" label of the metrics and APIError.Endpoint.
const (
	endpointToken              = "token"
	endpointRefresh            = "refresh"
	endpointAlarms             = "alarms"
	endpointAssetList          = "asset_list"
	endpointAssetDetails       = "asset_details"
	endpointAssetDetailsBatch  = "asset_details_batch"
	endpointAffectedAssets     = "affected_assets"
	endpointTagPoint           = "tagpoint"
	endpointTagPoints          = "tagpoints"
	endpointEnvironment        = "environment"
	endpointEnvironmentList    = "environment_list"
	endpointPower              = "power"
	endpointPowerList          = "power_list"
	endpointLocationHierarchy  = "location_hierarchy"
	endpointPowerHierarchy     = "power_hierarchy"
	endpointSubscriptions      = "subscriptions"
	endpointSubscriptionGet    = "subscription_get"
	endpointSubscriptionCreate = "subscription_create"
	endpointSubscriptionUpdate = "subscription_update"
	endpointSubscriptionDelete = "subscription_delete"
)
