package sandbox

import (
	"net/http"
	"strconv"
	"strings"
)

// Environment and power endpoints. Both take a level: environment IBX, ZONE, CAGE, SENSOR;
// power IBX, CAGE, CABINET, CIRCUIT (any case). A missing mandatory parameter answers 4000, a
// level type outside the list 3001 (HTTP 200 both, as the reference's examples); an unknown IBX
// or level value answers an empty payload ({} or an empty data list).

type levelRequest struct {
	AccountNo  string `json:"accountNo"`
	IBX        string `json:"ibx"`
	LevelType  string `json:"levelType"`
	LevelValue string `json:"levelValue"`
}

func levelQuery(r *http.Request) levelRequest {
	q := r.URL.Query()
	return levelRequest{AccountNo: q.Get("accountNo"), IBX: q.Get("ibx"), LevelType: q.Get("levelType"), LevelValue: q.Get("levelValue")}
}

type levelWriter func(s *Server, w *jsonWriter, level levelType, i int32, feed bool)

// answerLevel answers one node (one) or every node of the level in the IBX, as {"data": […]},
// with "totalCount" first when withTotal.
func (s *Server) answerLevel(w *jsonWriter, req levelRequest, allowed []levelType, one, withTotal bool, write levelWriter) int {
	if !present(req.AccountNo, req.IBX, req.LevelType) || (one && !present(req.LevelValue)) {
		return missingParameter(w)
	}
	level, ok := parseLevel(req.LevelType, allowed)
	if !ok {
		return invalidLevelType(w)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := s.fp
	ii, known := f.ibxByCode[req.IBX]
	envelopeStart(w)
	if one {
		if i, found := f.findLevel(ii, level, req.LevelValue); known && found {
			write(s, w, level, i, false)
		} else {
			w.objectStart()
			w.objectEnd()
		}
		return envelopeOK(w)
	}
	var nodes span
	if known {
		nodes = f.levelRange(ii, level)
	}
	w.objectStart()
	if withTotal {
		w.key("totalCount")
		w.int(int64(nodes.len()))
	}
	w.key("data")
	w.arrayStart()
	for i := nodes.start; i < nodes.end; i++ {
		write(s, w, level, i, false)
	}
	w.arrayEnd()
	w.objectEnd()
	return envelopeOK(w)
}

// GET /environment/v1/current?accountNo&ibx&levelType&levelValue
func (s *Server) handleEnvironmentCurrent(r *http.Request, w *jsonWriter) int {
	return s.answerLevel(w, levelQuery(r), environmentLevels, true, false, (*Server).writeClimate)
}

// GET /environment/v1/listCurrent?accountNo&ibx&levelType
func (s *Server) handleEnvironmentList(r *http.Request, w *jsonWriter) int {
	return s.answerLevel(w, levelQuery(r), environmentLevels, false, true, (*Server).writeClimate)
}

// GET /power/v1/current?accountNo&ibx&levelType&levelValue
func (s *Server) handlePowerCurrent(r *http.Request, w *jsonWriter) int {
	return s.answerLevel(w, levelQuery(r), powerLevels, true, false, (*Server).writePower)
}

// POST /power/v1/current {accountNo, ibx, levelType}: every node of the level, as {"data": […]}.
func (s *Server) handlePowerPost(r *http.Request, w *jsonWriter) int {
	var req levelRequest
	if err := decodeBody(r, &req); err != nil {
		return s.badRequest(w, r, err)
	}
	return s.answerLevel(w, req, powerLevels, false, false, (*Server).writePower)
}

// writeClimate writes EnvironmentData: numbers as strings ("21.0", "35.78"), the timestamp as
// an epoch-ms string, "ALL" for the levels below the one asked; the feed adds the extremes.
func (s *Server) writeClimate(w *jsonWriter, level levelType, i int32, feed bool) {
	f := s.fp
	var c *climate
	zoneLabel, cageLabel, cabinetLabel, sensorID := "ALL", "ALL", "ALL", "ALL"
	var ii int32
	switch level {
	case levelIBX:
		ii, c = i, &f.ibxs[i].climate
	case levelZone:
		z := &f.zones[i]
		ii, c, zoneLabel = z.ibx, &z.climate, z.label
	case levelCage:
		cg := &f.cages[i]
		ii, c, zoneLabel, cageLabel = cg.ibx, &cg.climate, f.zones[cg.zone].label, cg.label
	case levelSensor:
		sn := &f.sensors[i]
		cb := &f.cabinets[sn.cabinet]
		cg := &f.cages[cb.cage]
		ii, c = cg.ibx, &sn.climate
		zoneLabel, cageLabel, cabinetLabel, sensorID = f.zones[cg.zone].label, cg.label, cb.label, sn.id
	}
	w.objectStart()
	w.str("ibx", f.ibxs[ii].code)
	w.str("accountNo", s.cfg.AccountNo)
	w.str("zone", zoneLabel)
	w.str("cage", cageLabel)
	w.str("cabinet", cabinetLabel)
	w.str("sensor", sensorID)
	w.key("temperature")
	w.fixedString(c.temp, 1)
	w.key("humidity")
	w.fixedString(c.hum, 2)
	w.key("timestamp")
	w.intString(c.at)
	w.str("temperatureUom", "°C")
	w.str("humidityUom", "%")
	if feed {
		for _, m := range []struct {
			k        string
			v        float64
			decimals int
		}{{"minTemperature", c.minTemp, 1}, {"maxTemperature", c.maxTemp, 1}, {"minHumidity", c.minHum, 2}, {"maxHumidity", c.maxHum, 2}} {
			w.key(m.k)
			w.fixedString(m.v, m.decimals)
		}
	}
	w.objectEnd()
}

// powerFactor is the simulated real/apparent power ratio where meters report kW (EMEA); kw and
// powerFactor are "NA" in AMER and APAC, as the reference says.
const powerFactor = 0.95

// writePower writes PowerData: numbers as JSON numbers, kw/powerFactor as strings or "NA",
// times as epoch-ms strings. The feed adds cage, cabinet, type and description and names the
// level in lowercase, as the PowerData schema does.
func (s *Server) writePower(w *jsonWriter, level levelType, i int32, feed bool) {
	f := s.fp
	var (
		p                          powerReading
		ii                         int32
		value, cageLabel, cabLabel string
		c                          *circuit
	)
	switch level {
	case levelIBX:
		ii, p, value = i, f.ibxs[i].power, f.ibxs[i].code
	case levelCage:
		cg := &f.cages[i]
		ii, p, value, cageLabel = cg.ibx, cg.power, cg.label, cg.label
	case levelCabinet:
		cb := &f.cabinets[i]
		cg := &f.cages[cb.cage]
		ii, p, value, cageLabel, cabLabel = cg.ibx, cb.power, cb.label, cg.label, cb.label
	case levelCircuit:
		c = &f.circuits[i]
		cb := &f.cabinets[c.cabinet]
		cg := &f.cages[cb.cage]
		ii, value, cageLabel, cabLabel = cg.ibx, c.id, cg.label, cb.label
		sold := c.soldKva()
		p = powerReading{kva: c.kva, soldKva: sold, contractualKva: contractFraction * sold, peakKva: c.peakKva, at: c.at}
		if c.redundant {
			p.redundantKva = c.kva
		} else {
			p.primaryKva = c.kva
		}
	}
	ib := &f.ibxs[ii]
	w.objectStart()
	w.str("ibx", ib.code)
	w.str("accountNo", s.cfg.AccountNo)
	if feed {
		w.str("levelType", strings.ToLower(level.String()))
	} else {
		w.str("levelType", level.String())
	}
	w.str("levelValue", value)
	w.key("isAlarm")
	if c != nil {
		w.string("false")
	} else {
		w.null()
	}
	w.key("kva")
	w.number(p.kva, 3)
	w.key("amps")
	if c != nil {
		w.number(c.current, 2)
	} else {
		w.null()
	}
	w.key("soldKva")
	w.number(p.soldKva, 3)
	w.key("cabinetRating")
	if level == levelCabinet {
		w.number(p.contractualKva, 3)
	} else {
		w.null()
	}
	w.key("contractualKva")
	w.number(p.contractualKva, 3)
	w.key("percentageKva")
	w.number(p.percentage(), 3)
	w.key("comparisonData")
	if c != nil {
		w.null()
	} else {
		w.objectStart()
		w.str("datapoint", "percentageKva")
		for k, name := range []string{"yesterday", "lastweek", "lastmonth", "lastquarter"} {
			w.key(name)
			w.number(p.comparison[k], 3)
		}
		w.objectEnd()
	}
	w.key("peakKvaLastSevenDays")
	w.number(p.peakKva, 3)
	w.key("peakKvaLastSevenDaysPercentage")
	if p.contractualKva > 0 {
		w.number(p.peakKva/p.contractualKva*100, 3)
	} else {
		w.number(0, 3)
	}
	w.key("peakKvaLastSevenDaysContractualKva")
	w.number(p.contractualKva, 3)
	w.key("peakKvaLastSevenDaysTime")
	w.null()
	if feed {
		w.strOrNull("cage", cageLabel)
		w.strOrNull("cabinet", cabLabel)
		switch {
		case c == nil:
			w.str("type", level.String())
		case c.redundant:
			w.str("type", "redundant")
		default:
			w.str("type", "primary")
		}
		w.key("description")
		if c != nil {
			w.string(c.label)
		} else {
			w.null()
		}
	}
	w.key("soldAmps")
	if c != nil {
		w.int(int64(c.amps))
	} else {
		w.null()
	}
	w.key("primaryKva")
	w.number(p.primaryKva, 3)
	w.key("redundantKva")
	w.number(p.redundantKva, 3)
	if ib.region == "EMEA" {
		w.str("kw", strconv.FormatFloat(round(p.kva*powerFactor, 3), 'f', -1, 64))
		w.str("powerFactor", strconv.FormatFloat(powerFactor, 'f', -1, 64))
	} else {
		w.str("kw", "NA")
		w.str("powerFactor", "NA")
	}
	w.key("readingTime")
	w.intString(p.at)
	w.key("lastUpdatedTime")
	w.intString(p.at)
	w.str("customerName", "EQUINIX")
	w.objectEnd()
}
