package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

// Asset endpoints. Unknown IBXs, assets and tags give an empty result (status 1000), not an
// error: an empty category list, {} for one asset's details, an empty cage or tag list.

func resiliency(t *assetTemplate) string {
	if t.class == electrical {
		return "Resiliency as Designed"
	}
	return "Resiliency Not Configured"
}

// GET /asset/v1/list?accountNo&ibx&classification[&cages]
//
// Every template of the classification is listed, empty ones with "assets": [] as in the
// reference. cages (repeated or comma-separated labels) keeps the assets that serve one of them.
func (s *Server) handleAssetList(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	if !present(q.Get("accountNo"), q.Get("ibx"), q.Get("classification")) {
		return missingParameter(w)
	}
	class, ok := parseClassification(q.Get("classification"))
	if !ok {
		return missingParameter(w)
	}
	var cageFilter []string
	for _, v := range q["cages"] {
		cageFilter = append(cageFilter, strings.Split(v, ",")...)
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	ii, known := f.ibxByCode[q.Get("ibx")]
	var wanted map[int32]bool
	if len(cageFilter) > 0 && known {
		wanted = make(map[int32]bool)
		for _, c := range cageFilter {
			if cg, ok := f.cageIndex(ii, c); ok {
				wanted[cg] = true
			}
		}
	}
	envelopeStart(w)
	w.objectStart()
	w.str("classification", class.String())
	w.key("categories")
	w.arrayStart()
	if known {
		for start := 0; start < len(templates); {
			end := start + 1
			for end < len(templates) && templates[end].category == templates[start].category {
				end++
			}
			if templates[start].class == class {
				w.objectStart()
				w.key("templates")
				w.arrayStart()
				for ti := start; ti < end; ti++ {
					s.writeTemplateAssets(w, ii, ti, wanted)
				}
				w.arrayEnd()
				w.str("categoryName", templates[start].category)
				w.objectEnd()
			}
			start = end
		}
	}
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

func (s *Server) writeTemplateAssets(w *jsonWriter, ii int32, ti int, wanted map[int32]bool) {
	f := s.fp
	w.objectStart()
	w.key("assets")
	w.arrayStart()
	ib := &f.ibxs[ii]
	for ai := ib.assets.start; ai < ib.assets.end; ai++ {
		a := &f.assets[ai]
		if int(a.template) != ti || (wanted != nil && !servesAny(f, a, wanted)) {
			continue
		}
		w.objectStart()
		w.str("assetId", a.id)
		w.str("ibx", ib.code)
		w.str("alarmStatus", a.alarmStatus())
		w.str("resiliencyStatus", resiliency(a.tmpl()))
		if a.lastTriggered == 0 {
			w.key("alarmLastTriggeredTime")
			w.null()
			w.key("alarmLastClearedTime")
			w.null()
		} else {
			w.str("alarmLastTriggeredTime", assetTime(a.lastTriggered))
			switch {
			case a.activeAlarms > 0:
				w.str("alarmLastClearedTime", "Currently Active")
			case a.lastCleared == 0:
				w.key("alarmLastClearedTime")
				w.null()
			default:
				w.str("alarmLastClearedTime", assetTime(a.lastCleared))
			}
		}
		w.objectEnd()
	}
	w.arrayEnd()
	w.str("templateId", templates[ti].name)
	w.objectEnd()
}

func servesAny(f *footprint, a *asset, wanted map[int32]bool) bool {
	for _, cg := range f.affectedCages(a) {
		if wanted[cg] {
			return true
		}
	}
	return false
}

type assetRequest struct {
	AccountNo      string   `json:"accountNo"`
	IBX            string   `json:"ibx"`
	Classification string   `json:"classification"`
	AssetIDs       []string `json:"assetIds"`
	TagIDs         []string `json:"tagIds"`
}

// GET /asset/v1/details?accountNo&ibx&classification&assetId
func (s *Server) handleAssetDetails(r *http.Request, w *jsonWriter) int {
	ibxCode, id, class, ok := assetQuery(r)
	if !ok {
		return missingParameter(w)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	envelopeStart(w)
	if a := s.findAsset(ibxCode, id, class); a != nil {
		s.writeAssetDetails(w, a)
	} else {
		w.objectStart()
		w.objectEnd()
	}
	return envelopeOK(w)
}

// POST /asset/v1/details {accountNo, ibx, classification, assetIds}: unknown ids are left out
// and totalCount counts the assets found.
func (s *Server) handleAssetDetailsPost(r *http.Request, w *jsonWriter) int {
	var req assetRequest
	if err := decodeBody(r, &req); err != nil {
		return s.badRequest(w, r, err)
	}
	if !present(req.AccountNo, req.IBX, req.Classification) || len(req.AssetIDs) == 0 {
		return missingParameter(w)
	}
	class, ok := parseClassification(req.Classification)
	if !ok {
		return missingParameter(w)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	found := make([]*asset, 0, len(req.AssetIDs))
	for _, id := range req.AssetIDs {
		if a := s.findAsset(req.IBX, id, class); a != nil {
			found = append(found, a)
		}
	}
	envelopeStart(w)
	w.objectStart()
	w.key("totalCount")
	w.int(int64(len(found)))
	w.key("assetDetails")
	w.arrayStart()
	for _, a := range found {
		s.writeAssetDetails(w, a)
	}
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

// assetQuery reads the mandatory accountNo, ibx, classification and assetId of a GET; ok is
// false when one is missing or the classification is neither Electrical nor Mechanical.
func assetQuery(r *http.Request) (ibxCode, assetID string, class classification, ok bool) {
	q := r.URL.Query()
	if !present(q.Get("accountNo"), q.Get("ibx"), q.Get("classification"), q.Get("assetId")) {
		return "", "", 0, false
	}
	class, ok = parseClassification(q.Get("classification"))
	return q.Get("ibx"), q.Get("assetId"), class, ok
}

// findAsset returns the asset of the IBX and classification, or nil; the caller holds s.mu.
func (s *Server) findAsset(ibxCode, id string, class classification) *asset {
	ii, ok := s.fp.ibxByCode[ibxCode]
	if !ok {
		return nil
	}
	ai, ok := s.fp.assetIndex(ii, id)
	if !ok || s.fp.assets[ai].tmpl().class != class {
		return nil
	}
	return &s.fp.assets[ai]
}

// writeAssetDetails reproduces the reference's examples: while an alarm is active the details
// show alarmLastTriggeredTime as epoch zero ("Dec 31,1969 07:00 PM") and alarmLastProcessedTime
// "Currently Active"; otherwise both are null (the list, not the details, carries the history).
func (s *Server) writeAssetDetails(w *jsonWriter, a *asset) {
	t := a.tmpl()
	assetType, maker, model := t.name, t.manufacturer, t.model
	if a.blank {
		assetType, maker, model = "", "", ""
	}
	w.objectStart()
	w.str("assetId", a.id)
	w.str("assetType", assetType)
	w.str("userPrefTimeZone", userTimeZoneName)
	w.key("tags")
	w.arrayStart()
	for ti := a.tags.start; ti < a.tags.end; ti++ {
		writeTag(w, &s.fp.tags[ti], true)
	}
	w.arrayEnd()
	w.str("lastMaintenanceDate", a.maintenance)
	w.str("manufacturerName", maker)
	w.str("equipmentModelNumber", model)
	w.str("equipmentSerialNumber", a.serial)
	if a.activeAlarms > 0 {
		w.str("alarmLastTriggeredTime", assetTime(0))
		w.str("alarmLastProcessedTime", "Currently Active")
	} else {
		w.key("alarmLastTriggeredTime")
		w.null()
		w.key("alarmLastProcessedTime")
		w.null()
	}
	w.objectEnd()
}

// writeTag writes a tag point; the tag point endpoints leave alarmStatus out, as the
// reference's examples do, asset details and the feed carry it.
func writeTag(w *jsonWriter, t *tag, withAlarmStatus bool) {
	w.objectStart()
	w.key("value")
	if t.tmpl.kind == analogTag {
		w.fixedString(t.value, t.tmpl.decimals)
	} else {
		w.string(t.text)
	}
	w.str("tagId", t.id)
	w.str("tagDisplayName", t.tmpl.display)
	w.str("uom", t.tmpl.uom)
	if withAlarmStatus {
		w.str("alarmStatus", alarmStatusWord(t.activeAlarms > 0))
	}
	w.key("readingTime")
	w.sep()
	w.b = append(w.b, '"')
	w.b = appendReadingTime(w.b, t.at)
	w.b = append(w.b, '"')
	w.comma = true
	w.objectEnd()
}

// GET /asset/v1/tagpoint/affected-assets?accountNo&ibx&classification&assetId
//
// Electrical assets list the cages, cabinets and circuits they feed, grouped in the order of the
// asset's circuits (so the reference's two examples come out verbatim), with the cage-level
// "circuits": null; mechanical assets list the cages they serve with all their cabinets and
// "circuits": null on each cabinet.
func (s *Server) handleAffectedAssets(r *http.Request, w *jsonWriter) int {
	ibxCode, id, class, ok := assetQuery(r)
	if !ok {
		return missingParameter(w)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	envelopeStart(w)
	w.objectStart()
	w.key("cages")
	w.arrayStart()
	if a := s.findAsset(ibxCode, id, class); a != nil {
		if class == electrical {
			writeFedCages(w, f, a.circuits)
		} else {
			for _, cg := range a.cages {
				c := &f.cages[cg]
				writeSpaceStart(w, c.label, "cage", "cabinets")
				for cb := c.cabinets.start; cb < c.cabinets.end; cb++ {
					writeSpaceStart(w, f.cabinets[cb].label, "cabinet", "circuits")
					w.null()
					w.objectEnd()
				}
				writeSpaceEnd(w)
			}
		}
	}
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

// writeFedCages groups circuits by cage and cabinet in first-seen order.
func writeFedCages(w *jsonWriter, f *footprint, circuits []int32) {
	type group struct {
		key     int32
		members []int32
	}
	var cages []group
	cageAt := make(map[int32]int)
	for _, ci := range circuits {
		cg := f.cabinets[f.circuits[ci].cabinet].cage
		k, ok := cageAt[cg]
		if !ok {
			k = len(cages)
			cageAt[cg] = k
			cages = append(cages, group{key: cg})
		}
		cages[k].members = append(cages[k].members, ci)
	}
	for _, cg := range cages {
		writeSpaceStart(w, f.cages[cg.key].label, "cage", "cabinets")
		var cabinets []group
		for _, ci := range cg.members {
			cb := f.circuits[ci].cabinet
			k := slices.IndexFunc(cabinets, func(g group) bool { return g.key == cb })
			if k < 0 {
				k = len(cabinets)
				cabinets = append(cabinets, group{key: cb})
			}
			cabinets[k].members = append(cabinets[k].members, ci)
		}
		for _, cb := range cabinets {
			writeSpaceStart(w, f.cabinets[cb.key].label, "cabinet", "circuits")
			w.arrayStart()
			for _, ci := range cb.members {
				w.objectStart()
				w.str("name", f.circuits[ci].id)
				w.str("type", "circuit")
				w.objectEnd()
			}
			w.arrayEnd()
			w.objectEnd()
		}
		writeSpaceEnd(w)
	}
}

// writeSpaceStart opens {"name", "type", "<children>": and leaves the children to the caller.
func writeSpaceStart(w *jsonWriter, name, typ, children string) {
	w.objectStart()
	w.str("name", name)
	w.str("type", typ)
	w.key(children)
	if children == "cabinets" {
		w.arrayStart()
	}
}

// writeSpaceEnd closes a cage opened by writeSpaceStart: its cabinets, then "circuits": null.
func writeSpaceEnd(w *jsonWriter) {
	w.arrayEnd()
	w.key("circuits")
	w.null()
	w.objectEnd()
}

// GET /asset/v1/tagpoint/current?accountNo&ibx&tagId
func (s *Server) handleTagCurrent(r *http.Request, w *jsonWriter) int {
	q := r.URL.Query()
	if !present(q.Get("accountNo"), q.Get("ibx"), q.Get("tagId")) {
		return missingParameter(w)
	}
	return s.writeTags(w, q.Get("ibx"), []string{q.Get("tagId")})
}

// POST /asset/v1/tagpoint/current {accountNo, ibx, tagIds}: in request order, unknown ids left out.
func (s *Server) handleTagCurrentPost(r *http.Request, w *jsonWriter) int {
	var req assetRequest
	if err := decodeBody(r, &req); err != nil {
		return s.badRequest(w, r, err)
	}
	if !present(req.AccountNo, req.IBX) || len(req.TagIDs) == 0 {
		return missingParameter(w)
	}
	return s.writeTags(w, req.IBX, req.TagIDs)
}

func (s *Server) writeTags(w *jsonWriter, ibxCode string, ids []string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	envelopeStart(w)
	w.arrayStart()
	if ii, ok := s.fp.ibxByCode[ibxCode]; ok {
		for _, id := range ids {
			if ti, ok := s.fp.tagIndex(ii, id); ok {
				writeTag(w, &s.fp.tags[ti], false)
			}
		}
	}
	w.arrayEnd()
	return envelopeOK(w)
}
