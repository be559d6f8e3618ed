package sandbox

// The 2024 catalog (the descriptions Equinix's developer portal publishes since 2024): asset,
// tag point and hierarchy endpoints under /smartview/v1/ with the documented answers (hierarchy
// level types in lower case, as the 2024 enum has them; the tag point GET takes "tagid"), the
// trending endpoints and the alerts API. Config.Catalog can serve this catalog alone, or the
// documented one alone, to stand in for a live account served by one of them.

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
)

// routes2024 are the 2024 catalog's endpoints. Power and environment "current" have the same
// paths in both catalogs and are in the documented table.
var routes2024 = []route{
	{method: http.MethodGet, path: "/smartview/v1/asset/list", handle: (*Server).handleAssetList},
	{method: http.MethodGet, path: "/smartview/v1/asset/details", handle: (*Server).handleAssetDetails},
	{method: http.MethodPost, path: "/smartview/v1/asset/details", handle: (*Server).handleAssetDetailsPost},
	{method: http.MethodGet, path: "/smartview/v1/asset/tagpoint/affected-assets", handle: (*Server).handleAffectedAssets},
	{method: http.MethodGet, path: "/smartview/v1/asset/search", handle: (*Server).handleAssetSearch},
	{method: http.MethodGet, path: "/smartview/v1/asset/tagpoint/current", handle: (*Server).handleTagCurrent2024},
	{method: http.MethodPost, path: "/smartview/v1/asset/tagpoint/current", handle: (*Server).handleTagCurrentPost},
	{method: http.MethodGet, path: "/smartview/v1/asset/tagpoint/trending", handle: (*Server).handleTagTrending},
	{method: http.MethodGet, path: "/smartview/v1/hierarchy/location", handle: (*Server).handleLocationHierarchy2024},
	{method: http.MethodGet, path: "/smartview/v1/hierarchy/power", handle: (*Server).handlePowerHierarchy2024},
	{method: http.MethodGet, path: "/power/v1/trending", handle: (*Server).handlePowerTrending},
	{method: http.MethodGet, path: "/environment/v1/trending", handle: (*Server).handleEnvironmentTrending},
	{method: http.MethodGet, path: "/smartview/v1/alerts/getAlerts", handle: (*Server).handleGetAlerts},
	{method: http.MethodGet, path: "/smartview/v1/alerts/getAlertActivityLog", handle: (*Server).handleAlertActivityLog},
}

// documentedOnly are the documented paths the 2024 catalog moved or dropped.
var documentedOnly = func() map[string]bool {
	m := map[string]bool{
		"/asset/v1/list": true, "/asset/v1/details": true, "/asset/v1/tagpoint/affected-assets": true,
		"/asset/v1/tagpoint/current": true, "/hierarchy/v1/location": true, "/hierarchy/v1/power": true,
	}
	for _, p := range alarmPaths {
		m[p] = true
	}
	return m
}()

// serves reports whether the configured catalog has path. Everything under /smartview/ is the
// 2024 catalog's (its v2 streaming API included, wherever its routes are registered), as are the
// routes of routes2024; the feed subscription paths stay in both (the feed configuration chooses
// the subscription API).
func (s *Server) serves(path string) bool {
	switch s.cfg.Catalog {
	case CatalogDocumented:
		return !strings.HasPrefix(path, "/smartview/") &&
			!slices.ContainsFunc(routes2024, func(rt route) bool { return rt.path == path })
	case Catalog2024:
		return !documentedOnly[path]
	}
	return true
}

// GET /smartview/v1/asset/tagpoint/current?accountNo&ibx&tagid (tagId accepted too).
func (s *Server) handleTagCurrent2024(r *http.Request, w *jsonWriter) int {
	aliasParam(r, "tagid", "tagId")
	return s.handleTagCurrent(r, w)
}

// maxSearchResults bounds the list of an asset search (totalCount still counts every match).
const maxSearchResults = 1000

// GET /smartview/v1/asset/search?accountNo&ibx&searchString: the IBX's assets, circuits and
// sensors whose id or label contains searchString, case-insensitively; assets first, then
// circuits, then sensors, each in footprint order.
func (s *Server) handleAssetSearch(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	if !present(q.Get("accountNo"), q.Get("ibx"), q.Get("searchString")) {
		return missingParameter(w)
	}
	needle := strings.ToLower(q.Get("searchString"))
	matches := func(v ...string) bool {
		for _, x := range v {
			if strings.Contains(strings.ToLower(x), needle) {
				return true
			}
		}
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	total := 0
	envelopeStart(w)
	w.objectStart()
	w.key("assetsList")
	w.arrayStart()
	emit := func(id, typ, label, class string) {
		total++
		if total > maxSearchResults {
			return
		}
		w.objectStart()
		w.str("assetId", id)
		w.str("type", typ)
		w.str("assetLabel", label)
		w.str("assetClassification", class)
		w.objectEnd()
	}
	if ii, ok := f.ibxByCode[q.Get("ibx")]; ok {
		ib := &f.ibxs[ii]
		for a := ib.assets.start; a < ib.assets.end; a++ {
			as := &f.assets[a]
			if tm := as.tmpl(); matches(as.id) {
				emit(as.id, tm.name, as.id, tm.class.String())
			}
		}
		for cg := ib.cages.start; cg < ib.cages.end; cg++ {
			for cb := f.cages[cg].cabinets.start; cb < f.cages[cg].cabinets.end; cb++ {
				for ci := f.cabinets[cb].circuits.start; ci < f.cabinets[cb].circuits.end; ci++ {
					if c := &f.circuits[ci]; matches(c.id, c.label) {
						emit(c.id, "circuit", c.label, "Power")
					}
				}
			}
		}
		for sn := ib.sensors.start; sn < ib.sensors.end; sn++ {
			if id := f.sensors[sn].id; matches(id) {
				emit(id, "sensor", id, "Environmental")
			}
		}
	}
	w.arrayEnd()
	w.key("totalCount")
	w.int(int64(total))
	w.objectEnd()
	return envelopeOK(w)
}

// aliasParam copies query parameter from to to when to is absent.
func aliasParam(r *http.Request, from, to string) {
	q := r.URL.Query()
	if q.Get(to) == "" && q.Get(from) != "" {
		q.Set(to, q.Get(from))
		r.URL.RawQuery = q.Encode()
	}
}

func (s *Server) handleLocationHierarchy2024(r *http.Request, w *jsonWriter) int {
	status := s.handleLocationHierarchy(r, w)
	lowerLevelTypes(w)
	return status
}

func (s *Server) handlePowerHierarchy2024(r *http.Request, w *jsonWriter) int {
	status := s.handlePowerHierarchy(r, w)
	lowerLevelTypes(w)
	return status
}

// lowerLevelTypes rewrites "levelType":"CAGE" as "levelType":"cage": the 2024 hierarchy
// description's enum.
func lowerLevelTypes(w *jsonWriter) {
	for _, name := range levelNames {
		w.b = bytes.ReplaceAll(w.b, []byte(`"levelType":"`+name+`"`), []byte(`"levelType":"`+strings.ToLower(name)+`"`))
	}
}
