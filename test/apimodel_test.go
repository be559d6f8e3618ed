package e2e

import "time"

// APIModel is GET /api/model as the end-to-end tests read it: the contract
// every protocol front end is compared with.
type APIModel struct {
	Generated    time.Time `json:"generated"`
	Seq          uint64    `json:"seq"`
	StructureGen uint64    `json:"structure_gen"`
	IBXs         []string  `json:"ibxs"`
	Counts       struct {
		Locations, Assets, Tags, Alarms, Alerts int
	} `json:"counts"`
	Health struct {
		Upstream      string     `json:"upstream"`
		UpstreamError string     `json:"upstream_error"`
		LastSync      *time.Time `json:"last_sync"`
		Feed          struct {
			State      string   `json:"state"`
			Provider   string   `json:"provider"`
			Events     uint64   `json:"events"`
			Malformed  uint64   `json:"malformed"`
			Unknown    uint64   `json:"unknown"`
			LagSeconds *float64 `json:"lag_seconds"`
		} `json:"feed"`
		Persist struct {
			State string `json:"state"`
			Error string `json:"error"`
		} `json:"persist"`
		Cluster *struct {
			Role      string `json:"role"`
			Node      string `json:"node"`
			Leader    string `json:"leader"`
			Connected bool   `json:"connected"`
		} `json:"cluster"`
	} `json:"health"`
	Locations []APILocation `json:"locations"`
	Assets    []APIAsset    `json:"assets"`
	Tags      []APITag      `json:"tags"`
	Alarms    []APIAlarm    `json:"alarms"`
	Alerts    []APIAlert    `json:"alerts"`
}

// APIValue is a reading: number (nil when not numeric), upstream text, unit.
type APIValue struct {
	Number *float64 `json:"number"`
	Text   string   `json:"text"`
	Unit   string   `json:"unit"`
}

type APIFreshness struct {
	Quality   string     `json:"quality"`
	Confirmed *time.Time `json:"confirmed"`
}

type APILocation struct {
	ID     string `json:"id"`
	IBX    string `json:"ibx"`
	Level  string `json:"level"`
	Name   string `json:"name"`
	Label  string `json:"label"`
	Number string `json:"number"`
	Parent string `json:"parent"`
	Role   string `json:"role"`
	// Origin is "hierarchy", or how a location no hierarchy lists was
	// discovered ("reading", "link", "alarm"); Discovered is true for those.
	Origin     string `json:"origin"`
	Discovered bool   `json:"discovered"`
	Power      *struct {
		KVA            *APIValue  `json:"kva"`
		Amps           *APIValue  `json:"amps"`
		SoldKVA        *APIValue  `json:"sold_kva"`
		ContractualKVA *APIValue  `json:"contractual_kva"`
		PercentKVA     *APIValue  `json:"percent_kva"`
		CabinetRating  *APIValue  `json:"cabinet_rating"`
		PrimaryKVA     *APIValue  `json:"primary_kva"`
		RedundantKVA   *APIValue  `json:"redundant_kva"`
		KW             *APIValue  `json:"kw"`
		PowerFactor    *APIValue  `json:"power_factor"`
		PeakKVA7d      *APIValue  `json:"peak_kva_7d"`
		BreakerAlarm   *bool      `json:"breaker_alarm"`
		ReadingTime    *time.Time `json:"reading_time"`
		APIFreshness
	} `json:"power"`
	Environment *struct {
		Temperature *APIValue  `json:"temperature"`
		Humidity    *APIValue  `json:"humidity"`
		ReadingTime *time.Time `json:"reading_time"`
		APIFreshness
	} `json:"environment"`
}

type APIAsset struct {
	ID             string   `json:"id"`
	IBX            string   `json:"ibx"`
	Classification string   `json:"classification"`
	Category       string   `json:"category"`
	Template       string   `json:"template"`
	Type           string   `json:"type"`
	Manufacturer   string   `json:"manufacturer"`
	Model          string   `json:"model"`
	Serial         string   `json:"serial"`
	Affects        []string `json:"affects"`
	Tags           []string `json:"tags"`
	State          struct {
		AlarmStatus      string     `json:"alarm_status"`
		ResiliencyStatus string     `json:"resiliency_status"`
		LastMaintenance  *time.Time `json:"last_maintenance"`
		APIFreshness
	} `json:"state"`
}

type APITag struct {
	ID          string     `json:"id"`
	Asset       string     `json:"asset"`
	IBX         string     `json:"ibx"`
	DisplayName string     `json:"display_name"`
	Unit        string     `json:"unit"`
	Value       *APIValue  `json:"value"`
	AlarmStatus string     `json:"alarm_status"`
	ReadingTime *time.Time `json:"reading_time"`
	APIFreshness
}

type APIAlarm struct {
	ID        uint64     `json:"id"`
	Key       string     `json:"key"`
	IBX       string     `json:"ibx"`
	Asset     string     `json:"asset"`
	Tag       string     `json:"tag"`
	Condition string     `json:"condition"`
	Severity  string     `json:"severity"`
	State     string     `json:"state"`
	Triggered *time.Time `json:"triggered"`
	Cleared   *time.Time `json:"cleared"`
	Seq       uint64     `json:"seq"`
	// SeverityCode is the canonical number, SeverityRaw what upstream
	// sent; Inferred the transitions proven but not seen.
	SeverityCode int      `json:"severity_code"`
	SeverityRaw  string   `json:"severity_raw"`
	Inferred     []string `json:"inferred"`
}

type APIAlert struct {
	Number       uint64 `json:"number"`
	ID           string `json:"id"`
	IBX          string `json:"ibx"`
	Acknowledged bool   `json:"acknowledged"`
	Seq          uint64 `json:"seq"`
}

// Tag returns the tag with this id.
func (m *APIModel) Tag(id string) *APITag {
	for i := range m.Tags {
		if m.Tags[i].ID == id {
			return &m.Tags[i]
		}
	}
	return nil
}

// Location returns the location with this id ("SV4/CAGE/SV4:01:001150").
func (m *APIModel) Location(id string) *APILocation {
	for i := range m.Locations {
		if m.Locations[i].ID == id {
			return &m.Locations[i]
		}
	}
	return nil
}

// AlarmOf returns the alarm of an asset and tag, newest first.
func (m *APIModel) AlarmOf(asset, tag string) *APIAlarm {
	var found *APIAlarm
	for i := range m.Alarms {
		a := &m.Alarms[i]
		if a.Asset == asset && (tag == "" || a.Tag == tag) && (found == nil || a.ID > found.ID) {
			found = a
		}
	}
	return found
}
