package smartview

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Options are the Client's collaborators; every field may be left zero.
type Options struct {
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	HTTPClient *http.Client          // nil: the client's own, with connect and header timeouts
	Now        func() time.Time      // nil: time.Now; the clock of Retry-After dates and token expiry
}

// Client calls the SmartView REST API. It is safe for concurrent use and starts no goroutines.
type Client struct {
	sender
	cfg     Config
	tokens  *tokenCache
	limiter *rate.Limiter
	log     *slog.Logger
	zone    *time.Location // Config.TimeZone
	zones   sync.Map       // userPrefTimeZone name → *time.Location (nil: unknown zone)
	routes  *routeBook     // each endpoint's path in the account's catalog

	// sleep waits between attempts; tests replace it to record delays instead of waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// New validates cfg (see Config.Validate) and returns a Client. No request is made until the first
// call. It fails only on an invalid configuration or when the metrics cannot be registered.
func New(cfg Config, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	zone, err := time.LoadLocation(cfg.TimeZone)
	if err != nil { // Validate checked it
		return nil, err
	}
	c := &Client{
		sender: sender{hc: opts.HTTPClient, big: newBigSlot(), metrics: m, now: opts.Now, secrets: newSecretSet(cfg)},
		cfg:    cfg,
		log:    opts.Logger,
		zone:   zone,
		sleep:  sleepContext,
		routes: newRouteBook(&cfg),
	}
	if c.hc == nil {
		c.hc = newHTTPClient(cfg)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	limit := rate.Limit(cfg.RateLimit)
	if cfg.RateLimit < 0 {
		limit = rate.Inf
	}
	c.limiter = rate.NewLimiter(limit, cfg.RateBurst)
	c.tokens = newTokenCache(&tokenSource{sender: c.sender, cfg: cfg, log: c.log})
	return c, nil
}

// Timeout is the limit of one HTTP attempt (Config.Timeout): a call not
// answered within it is overdue.
func (c *Client) Timeout() time.Duration { return c.cfg.Timeout }

// newHTTPClient is the client used when Options.HTTPClient is nil. It has no overall timeout:
// each attempt carries Config.Timeout in its context.
func newHTTPClient(cfg Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = cfg.Timeout
	tr.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: tr}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
	endpointAssetSearch        = "asset_search"
	endpointAlerts             = "alerts"
	endpointAlertActivityLog   = "alert_activity_log"
	endpointPowerTrending      = "power_trending"
	endpointEnvironmentTrend   = "environment_trending"
	endpointTagPointTrending   = "tag_point_trending"
)

// request is one API call as the endpoint methods describe it to do.
type request struct {
	endpoint string
	method   string
	route    string // the routed endpoint (a [smartview.paths] key); "": path as it is
	path     string
	query    url.Values // nil for none
	body     any        // encoded as JSON; nil for none
	// unprocessedOnly: repeat the request only when the server said it did not process it (429,
	// 503, or a connection that was never made). For calls that change state.
	unprocessedOnly bool
}

// get describes a GET of a routed endpoint with accountNo and the given name/value pairs as its
// query.
func (c *Client) get(endpoint, route string, params ...string) request {
	return request{endpoint: endpoint, method: http.MethodGet, route: route, query: c.accountQuery(params...)}
}

// post describes a read-only POST query (details, tag points, power) of a routed endpoint: safe
// to repeat.
func (c *Client) post(endpoint, route string, body any) request {
	return request{endpoint: endpoint, method: http.MethodPost, route: route, body: body}
}

// accountQuery is accountNo plus name/value pairs; pairs with an empty value are left out.
func (c *Client) accountQuery(params ...string) url.Values {
	q := url.Values{"accountNo": {c.cfg.AccountNo}}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "" {
			q.Add(params[i], params[i+1])
		}
	}
	return q
}

// url joins the base URL, path and query. Spaces in the query are sent as %20, as the
// documentation's examples do ("assetId=CH1.FC%202").
func (c *Client) url(r request) string {
	u := c.cfg.BaseURL + r.path
	if len(r.query) > 0 {
		u += "?" + strings.ReplaceAll(r.query.Encode(), "+", "%20")
	}
	return u
}

// location resolves an asset's userPrefTimeZone, falling back to Config.TimeZone; an unknown
// zone is logged once.
func (c *Client) location(name string) *time.Location {
	if name == "" {
		return c.zone
	}
	if v, ok := c.zones.Load(name); ok {
		if loc := v.(*time.Location); loc != nil {
			return loc
		}
		return c.zone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		c.log.Warn("smartview: unknown userPrefTimeZone; reading zone-less times in time_zone",
			"zone", name, "time_zone", c.cfg.TimeZone)
		loc = nil
	}
	c.zones.Store(name, loc)
	if loc == nil {
		return c.zone
	}
	return loc
}
