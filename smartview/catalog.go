package smartview

// Two API catalogs serve SmartView accounts: the one the API reference documents (/asset/v1/list,
// /hierarchy/v1/location, /alarms/v1/smartview/alarms, …) and the one Equinix's developer portal
// publishes since 2024 (/smartview/v1/asset/list, /smartview/v1/hierarchy/location, trending
// endpoints, the alerts API, and no alarms list). This file knows both, per endpoint, and picks
// the path each call goes to.
//
// Decisions:
//   - Resolution is per endpoint, not per catalog: power and environment have the same paths in
//     both, and an account may be moved one API at a time. A hint is shared, though: once an
//     endpoint answers on one catalog, endpoints not yet resolved try that catalog first, so a
//     2024 account costs one 404 in all, not one per endpoint.
//   - With catalog "auto" an unresolved endpoint tries its preferred path, and on a 404 its other
//     one, once. The path that answers is remembered for the client's life and logged once.
//   - Some endpoints are optional: the alarms list, asset search, the alerts API and trending. An optional
//     endpoint whose every path answers 404, or that the configured catalog does not have, is "not
//     served": calls fail at once with ErrNotServed, without a request, and are tried again after
//     NotServedRecheck. It is logged once. Callers (the poller, readiness) treat it as "nothing to
//     read", never as a failure. The other endpoints are the footprint itself: a 404 on every
//     path stays an error.
//   - A [smartview.paths] value that is neither catalog's default is an override: it is the only
//     path of its endpoint, whatever the catalog.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Catalogs (Config.Catalog).
const (
	CatalogAuto       = "auto"
	CatalogDocumented = "documented"
	Catalog2024       = "2024"
)

// ErrNotServed: the endpoint is not part of the account's catalog (every path answered 404, or
// the configured catalog has none). No request was made when the verdict was already known.
var ErrNotServed = errors.New("smartview: endpoint not served by this account")

// NotServedRecheck is how long an endpoint found not served is left alone before it is tried
// again (an account may be given an API later).
const NotServedRecheck = time.Hour

// Route keys: the [smartview.paths] keys of the routed endpoints.
const (
	routeAlarms              = "alarms"
	routeAssetList           = "asset_list"
	routeAssetDetails        = "asset_details"
	routeAffectedAssets      = "affected_assets"
	routeTagPoint            = "tag_point"
	routeEnvironmentCurrent  = "environment_current"
	routeEnvironmentList     = "environment_list"
	routePowerCurrent        = "power_current"
	routeLocationHierarchy   = "location_hierarchy"
	routePowerHierarchy      = "power_hierarchy"
	routeAssetSearch         = "asset_search"
	routeAlerts              = "alerts"
	routeAlertActivityLog    = "alert_activity_log"
	routePowerTrending       = "power_trending"
	routeEnvironmentTrending = "environment_trending"
	routeTagPointTrending    = "tag_point_trending"
)

// catalogEntry is one endpoint in both catalogs; "" where a catalog does not have it.
type catalogEntry struct {
	key                string
	documented, path24 string
	optional           bool
	tagParam24         bool // the 2024 path names the tag query parameter "tagid", not "tagId"
	configured         func(p *Paths) string
}

// catalogEntries lists every routed endpoint. Subscriptions are not routed: the feed
// configuration chooses between the v1 and v2 subscription APIs.
var catalogEntries = []catalogEntry{
	{key: routeAlarms, documented: "/alarms/v1/smartview/alarms", optional: true,
		configured: func(p *Paths) string { return p.Alarms }},
	{key: routeAssetList, documented: "/asset/v1/list", path24: "/smartview/v1/asset/list",
		configured: func(p *Paths) string { return p.AssetList }},
	{key: routeAssetDetails, documented: "/asset/v1/details", path24: "/smartview/v1/asset/details",
		configured: func(p *Paths) string { return p.AssetDetails }},
	{key: routeAffectedAssets, documented: "/asset/v1/tagpoint/affected-assets", path24: "/smartview/v1/asset/tagpoint/affected-assets",
		configured: func(p *Paths) string { return p.AffectedAssets }},
	{key: routeTagPoint, documented: "/asset/v1/tagpoint/current", path24: "/smartview/v1/asset/tagpoint/current", tagParam24: true,
		configured: func(p *Paths) string { return p.TagPoint }},
	{key: routeEnvironmentCurrent, documented: "/environment/v1/current", path24: "/environment/v1/current",
		configured: func(p *Paths) string { return p.EnvironmentCurrent }},
	{key: routeEnvironmentList, documented: "/environment/v1/listCurrent", path24: "/environment/v1/listCurrent",
		configured: func(p *Paths) string { return p.EnvironmentList }},
	{key: routePowerCurrent, documented: "/power/v1/current", path24: "/power/v1/current",
		configured: func(p *Paths) string { return p.PowerCurrent }},
	{key: routeLocationHierarchy, documented: "/hierarchy/v1/location", path24: "/smartview/v1/hierarchy/location",
		configured: func(p *Paths) string { return p.LocationHierarchy }},
	{key: routePowerHierarchy, documented: "/hierarchy/v1/power", path24: "/smartview/v1/hierarchy/power",
		configured: func(p *Paths) string { return p.PowerHierarchy }},
	{key: routeAssetSearch, path24: "/smartview/v1/asset/search", optional: true,
		configured: func(p *Paths) string { return p.AssetSearch }},
	{key: routeAlerts, path24: "/smartview/v1/alerts/getAlerts", optional: true,
		configured: func(p *Paths) string { return p.Alerts }},
	{key: routeAlertActivityLog, path24: "/smartview/v1/alerts/getAlertActivityLog", optional: true,
		configured: func(p *Paths) string { return p.AlertActivityLog }},
	{key: routePowerTrending, path24: "/power/v1/trending", optional: true,
		configured: func(p *Paths) string { return p.PowerTrending }},
	{key: routeEnvironmentTrending, path24: "/environment/v1/trending", optional: true,
		configured: func(p *Paths) string { return p.EnvironmentTrending }},
	{key: routeTagPointTrending, path24: "/smartview/v1/asset/tagpoint/trending", optional: true, tagParam24: true,
		configured: func(p *Paths) string { return p.TagPointTrending }},
}

// variant is one path of an endpoint.
type variant struct {
	catalog  string // CatalogDocumented, Catalog2024, or "override"
	path     string
	tagParam string // the tag id query parameter's name on this path
}

// route is one endpoint's paths and what was learnt about them.
type route struct {
	key      string
	optional bool
	variants []variant // documented first; none: the catalog does not have it

	mu          sync.Mutex
	resolved    int       // index into variants; -1 until one answered
	notServed   time.Time // when it was found not served; zero: served or unknown
	loggedNoSrv bool
}

// routeBook is the client's routes and the catalog hint.
type routeBook struct {
	catalog string
	routes  map[string]*route
	prefer  atomic.Value // string: the catalog that answered last (auto)
}

const catalogOverride = "override"

// newRouteBook builds the routes of cfg (validated).
func newRouteBook(cfg *Config) *routeBook {
	b := &routeBook{catalog: cfg.Catalog, routes: make(map[string]*route, len(catalogEntries))}
	b.prefer.Store("") // none yet: the documented path first
	for _, e := range catalogEntries {
		rt := &route{key: e.key, optional: e.optional, resolved: -1}
		tag24 := "tagId"
		if e.tagParam24 {
			tag24 = "tagid"
		}
		doc := variant{catalog: CatalogDocumented, path: e.documented, tagParam: "tagId"}
		v24 := variant{catalog: Catalog2024, path: e.path24, tagParam: tag24}
		switch p := e.configured(&cfg.Paths); {
		case p != "" && p != e.documented && p != e.path24:
			rt.variants = []variant{{catalog: catalogOverride, path: p, tagParam: "tagId"}}
			if e.documented == "" {
				rt.variants[0].tagParam = tag24
			}
		case cfg.Catalog == CatalogDocumented:
			if e.documented != "" {
				rt.variants = []variant{doc}
			}
		case cfg.Catalog == Catalog2024:
			if e.path24 != "" {
				rt.variants = []variant{v24}
			}
		default: // auto
			if e.documented != "" {
				rt.variants = append(rt.variants, doc)
			}
			if e.path24 != "" && e.path24 != e.documented {
				rt.variants = append(rt.variants, v24)
			}
		}
		if len(rt.variants) == 1 {
			rt.resolved = 0
		}
		b.routes[e.key] = rt
	}
	return b
}

// plan returns the variants to try, in order, or ErrNotServed.
func (rt *route) plan(now time.Time, prefer string) ([]variant, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	switch {
	case len(rt.variants) == 0:
		return nil, ErrNotServed
	case !rt.notServed.IsZero() && now.Sub(rt.notServed) < NotServedRecheck:
		return nil, ErrNotServed
	case rt.resolved >= 0:
		return rt.variants[rt.resolved : rt.resolved+1], nil
	}
	out := make([]variant, 0, len(rt.variants))
	for _, v := range rt.variants {
		if v.catalog == prefer {
			out = append(out, v)
		}
	}
	for _, v := range rt.variants {
		if v.catalog != prefer {
			out = append(out, v)
		}
	}
	return out, nil
}

func (rt *route) firstPath() string {
	if len(rt.variants) == 0 {
		return ""
	}
	return rt.variants[0].path
}

// CatalogState is what the client knows of one endpoint's catalog.
type CatalogState struct {
	Endpoint  string // the [smartview.paths] key
	Catalog   string // documented, 2024, override; "" while unresolved
	Path      string // "" while unresolved
	NotServed bool
}

// Catalog reports, per routed endpoint, the path in use and whether it is served.
func (c *Client) Catalog() []CatalogState {
	out := make([]CatalogState, 0, len(catalogEntries))
	for _, e := range catalogEntries {
		rt := c.routes.routes[e.key]
		rt.mu.Lock()
		st := CatalogState{Endpoint: e.key, NotServed: len(rt.variants) == 0 || !rt.notServed.IsZero()}
		if rt.resolved >= 0 {
			st.Catalog, st.Path = rt.variants[rt.resolved].catalog, rt.variants[rt.resolved].path
		}
		rt.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// routed performs r on its endpoint's path: the remembered one, or each candidate in turn while
// they answer 404 (see the file comment).
func (c *Client) routed(ctx context.Context, r request, decode func(io.Reader) error) error {
	rt := c.routes.routes[r.route]
	prefer, _ := c.routes.prefer.Load().(string)
	plan, err := rt.plan(c.now(), prefer)
	if err != nil {
		if len(rt.variants) == 0 {
			rt.mu.Lock()
			logIt := !rt.loggedNoSrv
			rt.loggedNoSrv = true
			rt.mu.Unlock()
			if logIt {
				c.log.Info("smartview: endpoint not served by this account: the configured catalog has none",
					"endpoint", rt.key, "catalog", c.routes.catalog)
			}
		}
		c.metrics.errors.WithLabelValues(r.endpoint, "not_served").Inc() // refused without a request
		return &APIError{Endpoint: r.endpoint, Method: r.method, Path: rt.firstPath(), Err: err}
	}
	var first error
	for i, v := range plan {
		rr := r
		rr.path = v.path
		if rr.query != nil && v.tagParam != "tagId" {
			rr.query = renameParam(rr.query, "tagId", v.tagParam)
		}
		err := c.doPath(ctx, rr, decode)
		if err == nil {
			c.resolve(rt, v)
			return nil
		}
		if !isNotFound(err) {
			return err
		}
		if first == nil {
			first = err
		}
		if i+1 < len(plan) {
			c.log.Debug("smartview: 404; trying the other catalog's path", "endpoint", rt.key,
				"path", v.path, "next", plan[i+1].path)
		}
	}
	if !rt.optional {
		return first
	}
	rt.mu.Lock()
	rt.notServed = c.now()
	logIt := !rt.loggedNoSrv
	rt.loggedNoSrv = true
	rt.mu.Unlock()
	if logIt {
		paths := make([]string, len(plan))
		for i, v := range plan {
			paths[i] = v.path
		}
		c.log.Info("smartview: endpoint not served by this account; not called again for a while",
			"endpoint", rt.key, "paths", paths, "catalog", c.routes.catalog, "recheck", NotServedRecheck)
	}
	return errors.Join(ErrNotServed, first) // the 404s are counted as not_found
}

// resolve remembers that v answered for rt. Each resolution is logged at DEBUG; the catalog the
// account answers on is logged at INFO when first found and whenever an endpoint answers on the
// other one (an account served by both); an endpoint served again after a "not served" verdict
// at INFO.
func (c *Client) resolve(rt *route, v variant) {
	rt.mu.Lock()
	wasNotServed := !rt.notServed.IsZero()
	rt.notServed, rt.loggedNoSrv = time.Time{}, false
	first := rt.resolved < 0
	for i := range rt.variants {
		if rt.variants[i] == v {
			rt.resolved = i
		}
	}
	rt.mu.Unlock()
	switch {
	case wasNotServed:
		c.log.Info("smartview: endpoint served again", "endpoint", rt.key, "catalog", v.catalog, "path", v.path)
	case !first:
		return
	}
	c.log.Debug("smartview: endpoint answers", "endpoint", rt.key, "catalog", v.catalog, "path", v.path)
	if v.catalog != CatalogDocumented && v.catalog != Catalog2024 {
		return
	}
	if old := c.routes.prefer.Swap(v.catalog); old != v.catalog {
		c.log.Info("smartview: the account answers on this catalog's paths", "catalog", v.catalog,
			"endpoint", rt.key, "path", v.path, "configured", c.routes.catalog)
	}
}

func isNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound
}

func renameParam(q url.Values, from, to string) url.Values {
	vs, ok := q[from]
	if !ok {
		return q
	}
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = v
	}
	delete(out, from)
	out[to] = vs
	return out
}
