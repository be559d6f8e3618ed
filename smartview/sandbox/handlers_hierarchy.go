package sandbox

import "net/http"

// Hierarchy endpoints answer a bare array (no envelope): one IBX node, or [] for an unknown IBX.
// Cages and cabinets have their numeric id as levelValue and their readable name as label;
// circuits their id and their rating ("120V 20A 1Ph Pri (3716)"); IBXs and zones their name twice.

// GET /hierarchy/v1/location?accountNo&ibx: IBX → ZONE → CAGE → CABINET.
func (s *Server) handleLocationHierarchy(r *http.Request, w *jsonWriter) int {
	return s.answerHierarchy(r, w, func(f *footprint, ib *ibx) {
		for z := ib.zones.start; z < ib.zones.end; z++ {
			zn := &f.zones[z]
			hierarchyNodeStart(w, levelZone, zn.label, zn.label)
			for _, cg := range zn.cages {
				c := &f.cages[cg]
				hierarchyNodeStart(w, levelCage, c.id, c.label)
				for cb := c.cabinets.start; cb < c.cabinets.end; cb++ {
					hierarchyNodeStart(w, levelCabinet, f.cabinets[cb].id, f.cabinets[cb].label)
					hierarchyNodeEnd(w)
				}
				hierarchyNodeEnd(w)
			}
			hierarchyNodeEnd(w)
		}
	})
}

// GET /hierarchy/v1/power?accountNo&ibx: IBX → CAGE → CABINET → CIRCUIT.
func (s *Server) handlePowerHierarchy(r *http.Request, w *jsonWriter) int {
	return s.answerHierarchy(r, w, func(f *footprint, ib *ibx) {
		for cg := ib.cages.start; cg < ib.cages.end; cg++ {
			c := &f.cages[cg]
			hierarchyNodeStart(w, levelCage, c.id, c.label)
			for cb := c.cabinets.start; cb < c.cabinets.end; cb++ {
				cab := &f.cabinets[cb]
				hierarchyNodeStart(w, levelCabinet, cab.id, cab.label)
				for ci := cab.circuits.start; ci < cab.circuits.end; ci++ {
					hierarchyNodeStart(w, levelCircuit, f.circuits[ci].id, f.circuits[ci].label)
					hierarchyNodeEnd(w)
				}
				hierarchyNodeEnd(w)
			}
			hierarchyNodeEnd(w)
		}
	})
}

func (s *Server) answerHierarchy(r *http.Request, w *jsonWriter, children func(*footprint, *ibx)) int {
	q := r.URL.Query()
	if !present(q.Get("accountNo"), q.Get("ibx")) {
		return missingParameter(w)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	w.arrayStart()
	if ii, ok := s.fp.ibxByCode[q.Get("ibx")]; ok {
		ib := &s.fp.ibxs[ii]
		hierarchyNodeStart(w, levelIBX, ib.code, ib.code)
		children(s.fp, ib)
		hierarchyNodeEnd(w)
	}
	w.arrayEnd()
	return http.StatusOK
}

// hierarchyNodeStart opens {"levelType","levelValue","label","children":[ for the children.
func hierarchyNodeStart(w *jsonWriter, level levelType, value, label string) {
	w.objectStart()
	w.str("levelType", level.String())
	w.str("levelValue", value)
	w.str("label", label)
	w.key("children")
	w.arrayStart()
}

func hierarchyNodeEnd(w *jsonWriter) {
	w.arrayEnd()
	w.objectEnd()
}
