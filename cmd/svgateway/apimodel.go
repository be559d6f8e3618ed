package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/svgateway/svgateway/model"
)

// The JSON of GET /api/model. It is documented in README.md; tests of every
// protocol front end compare what they serve with it, so change it only
// compatibly.

type apiHeader struct {
	Generated    time.Time  `json:"generated"`
	Seq          uint64     `json:"seq"`
	StructureGen uint64     `json:"structure_gen"`
	IBXs         []string   `json:"ibxs"`
	Counts       apiCounts  `json:"counts"`
	Health       apiHealth  `json:"health"`
	StaleAfter   apiSeconds `json:"stale_after_seconds"`
}

type apiSeconds float64

type apiCounts struct {
	Locations int `json:"locations"`
	Assets    int `json:"assets"`
	Tags      int `json:"tags"`
	Alarms    int `json:"alarms"`
	Alerts    int `json:"alerts"`
}

type apiHealth struct {
	Upstream      string      `json:"upstream"`
	UpstreamSince *time.Time  `json:"upstream_since"`
	UpstreamError string      `json:"upstream_error,omitempty"`
	LastSync      *time.Time  `json:"last_sync"`
	Feed          apiFeed     `json:"feed"`
	Persist       apiPersist  `json:"persist"`
	Cluster       *apiCluster `json:"cluster,omitempty"` // a gateway pair only
}

// apiCluster is the gateway's place in a redundant pair.
type apiCluster struct {
	Role      string `json:"role"` // "leader" or "standby"
	Node      string `json:"node"`
	Leader    string `json:"leader,omitempty"`
	Connected bool   `json:"connected"` // etcd reachable
}

// apiPersist is whether state_dir is being written.
type apiPersist struct {
	State   string            `json:"state"` // "ok" or "failing"
	Since   *time.Time        `json:"since"`
	Error   string            `json:"error,omitempty"`
	Failing map[string]string `json:"failing,omitempty"` // component → error
}

type apiFeed struct {
	State           string     `json:"state"`
	Provider        string     `json:"provider,omitempty"`
	Since           *time.Time `json:"since"`
	Error           string     `json:"error,omitempty"`
	Events          uint64     `json:"events"`
	Malformed       uint64     `json:"malformed"`
	Unknown         uint64     `json:"unknown"`
	LastEvent       *time.Time `json:"last_event"`
	NewestEventTime *time.Time `json:"newest_event_time"`
	LagSeconds      *float64   `json:"lag_seconds"`
	EventsPerSecond float64    `json:"events_per_second"`
}

// apiValue is one reading: its number where numeric, the upstream text, and its unit.
type apiValue struct {
	Number *float64 `json:"number"`
	Text   string   `json:"text"`
	Unit   string   `json:"unit,omitempty"`
}

type apiFreshness struct {
	Quality   string     `json:"quality"` // good, stale, nocomm, unavailable
	Confirmed *time.Time `json:"confirmed"`
}

type apiPower struct {
	KVA            *apiValue  `json:"kva,omitempty"`
	Amps           *apiValue  `json:"amps,omitempty"`
	SoldKVA        *apiValue  `json:"sold_kva,omitempty"`
	ContractualKVA *apiValue  `json:"contractual_kva,omitempty"`
	PercentKVA     *apiValue  `json:"percent_kva,omitempty"`
	CabinetRating  *apiValue  `json:"cabinet_rating,omitempty"`
	PrimaryKVA     *apiValue  `json:"primary_kva,omitempty"`
	RedundantKVA   *apiValue  `json:"redundant_kva,omitempty"`
	KW             *apiValue  `json:"kw,omitempty"`
	PowerFactor    *apiValue  `json:"power_factor,omitempty"`
	PeakKVA7d      *apiValue  `json:"peak_kva_7d,omitempty"`
	BreakerAlarm   *bool      `json:"breaker_alarm,omitempty"`
	ReadingTime    *time.Time `json:"reading_time"`
	UpdatedTime    *time.Time `json:"updated_time,omitempty"`
	apiFreshness
}

type apiEnvironment struct {
	Temperature    *apiValue  `json:"temperature,omitempty"`
	Humidity       *apiValue  `json:"humidity,omitempty"`
	TemperatureMin *apiValue  `json:"temperature_min,omitempty"`
	TemperatureMax *apiValue  `json:"temperature_max,omitempty"`
	HumidityMin    *apiValue  `json:"humidity_min,omitempty"`
	HumidityMax    *apiValue  `json:"humidity_max,omitempty"`
	ReadingTime    *time.Time `json:"reading_time"`
	apiFreshness
}

type apiLocation struct {
	ID     string `json:"id"`
	IBX    string `json:"ibx"`
	Level  string `json:"level"`
	Name   string `json:"name"`
	Label  string `json:"label"`
	Number string `json:"number,omitempty"`
	Parent string `json:"parent,omitempty"`
	Role   string `json:"role,omitempty"`
	// Origin is how the gateway learned of the location: "hierarchy", or,
	// for one no hierarchy lists (Discovered), "reading", "link" or "alarm".
	Origin      string          `json:"origin"`
	Discovered  bool            `json:"discovered,omitempty"`
	Power       *apiPower       `json:"power,omitempty"`
	Environment *apiEnvironment `json:"environment,omitempty"`
}

type apiAsset struct {
	ID             string        `json:"id"`
	IBX            string        `json:"ibx"`
	Classification string        `json:"classification"`
	Category       string        `json:"category"`
	Template       string        `json:"template"`
	Type           string        `json:"type,omitempty"`
	Manufacturer   string        `json:"manufacturer,omitempty"`
	Model          string        `json:"model,omitempty"`
	Serial         string        `json:"serial,omitempty"`
	TimeZone       string        `json:"time_zone,omitempty"`
	Affects        []string      `json:"affects"`
	Tags           []string      `json:"tags"`
	State          apiAssetState `json:"state"`
}

type apiAssetState struct {
	AlarmStatus      string     `json:"alarm_status"`
	ResiliencyStatus string     `json:"resiliency_status"`
	AlarmTriggered   *time.Time `json:"alarm_triggered"`
	AlarmCleared     *time.Time `json:"alarm_cleared"`
	AlarmActive      bool       `json:"alarm_active"`
	LastMaintenance  *time.Time `json:"last_maintenance"`
	apiFreshness
}

type apiTag struct {
	ID          string     `json:"id"`
	Asset       string     `json:"asset"`
	IBX         string     `json:"ibx"`
	DisplayName string     `json:"display_name"`
	Unit        string     `json:"unit"`
	Value       *apiValue  `json:"value"`
	AlarmStatus string     `json:"alarm_status"`
	ReadingTime *time.Time `json:"reading_time"`
	apiFreshness
}

type apiAlarm struct {
	ID             uint64 `json:"id"`
	Key            string `json:"key"`
	IBX            string `json:"ibx"`
	Asset          string `json:"asset,omitempty"`
	AssetType      string `json:"asset_type,omitempty"`
	Classification string `json:"classification,omitempty"`
	Tag            string `json:"tag,omitempty"`
	Condition      string `json:"condition"`
	Cage           string `json:"cage,omitempty"`
	Cabinet        string `json:"cabinet,omitempty"`
	Circuit        string `json:"circuit,omitempty"`
	Severity       string `json:"severity"`      // canonical name: Urgent, High, Low, Informational, Unknown
	SeverityText   string `json:"severity_text"` // the same name, as svgAlarmSeverityText serves it
	SeverityCode   int    `json:"severity_code"` // canonical number: 800, 600, 400, 200, 0
	SeverityRaw    string `json:"severity_raw,omitempty"`
	Value          string `json:"value,omitempty"`
	Unit           string `json:"unit,omitempty"`
	State          string `json:"state"`
	// Inferred lists the transitions of the alarm's current life that no
	// sighting showed but a later one proved ("raised", "acknowledged").
	Inferred  []string   `json:"inferred,omitempty"`
	Triggered *time.Time `json:"triggered"`
	Processed *time.Time `json:"processed"`
	Cleared   *time.Time `json:"cleared"`
	FirstSeen *time.Time `json:"first_seen"`
	LastSeen  *time.Time `json:"last_seen"`
	Seq       uint64     `json:"seq"`
	// Operator is an operator's acknowledgement and latest comment at an
	// OPC UA console, recorded by the gateway only (never sent upstream).
	Operator *apiOperator `json:"operator,omitempty"`
}

type apiOperator struct {
	AckTime     *time.Time `json:"ack_time"`
	AckUser     string     `json:"ack_user,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	CommentTime *time.Time `json:"comment_time"`
	CommentUser string     `json:"comment_user,omitempty"`
}

func apiOperatorOf(o *model.OperatorRecord) *apiOperator {
	if o == nil {
		return nil
	}
	return &apiOperator{AckTime: timePtr(o.AckTime), AckUser: o.AckUser, Comment: o.Comment, CommentTime: timePtr(o.CommentTime),
		CommentUser: o.CommentUser}
}

type apiAlert struct {
	Number         uint64     `json:"number"`
	ID             string     `json:"id"`
	IBX            string     `json:"ibx"`
	Asset          string     `json:"asset,omitempty"`
	AssetName      string     `json:"asset_name,omitempty"`
	Tag            string     `json:"tag,omitempty"`
	Type           string     `json:"type,omitempty"`
	Name           string     `json:"name,omitempty"`
	Severity       string     `json:"severity,omitempty"`
	Value          string     `json:"value,omitempty"`
	Unit           string     `json:"unit,omitempty"`
	Threshold      string     `json:"threshold,omitempty"`
	Acknowledged   bool       `json:"acknowledged"`
	Triggered      *time.Time `json:"triggered"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	Seq            uint64     `json:"seq"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func valuePtr(v model.Value, unit string) *apiValue {
	if !v.Present() {
		return nil
	}
	a := &apiValue{Text: v.String(), Unit: unit}
	if v.IsNum {
		n := v.Num
		a.Number = &n
	}
	return a
}

func freshness(f model.Freshness, q model.Quality) apiFreshness {
	return apiFreshness{Quality: q.String(), Confirmed: timePtr(f.Confirmed)}
}

func flagPtr(f model.Flag) *bool {
	if f == model.FlagUnknown {
		return nil
	}
	b := f == model.FlagTrue
	return &b
}

// hasPower and hasEnvironment say which levels SmartView reports readings for.
func hasPower(l model.Level) bool {
	return l == model.LevelIBX || l == model.LevelCage || l == model.LevelCabinet || l == model.LevelCircuit
}

func hasEnvironment(l model.Level) bool { return l != model.LevelCircuit }

func apiHealthOf(h model.Health, now time.Time) apiHealth {
	f := h.Feed
	feed := apiFeed{State: f.State.String(), Provider: f.Provider, Since: timePtr(f.Since), Error: f.Error,
		Events: f.Events, Malformed: f.Malformed, Unknown: f.Unknown, EventsPerSecond: f.EventRate,
		LastEvent: timePtr(f.LastEvent), NewestEventTime: timePtr(f.NewestEventTime)}
	if !f.NewestEventTime.IsZero() {
		lag := now.Sub(f.NewestEventTime).Seconds()
		feed.LagSeconds = &lag
	}
	out := apiHealth{Upstream: h.Upstream.String(), UpstreamSince: timePtr(h.UpstreamSince), UpstreamError: h.UpstreamError,
		LastSync: timePtr(h.LastSync), Feed: feed, Persist: apiPersistOf(h.Persist)}
	if c := h.Cluster; c.Role != model.ClusterAlone {
		out.Cluster = &apiCluster{Role: c.Role.String(), Node: c.Node, Leader: c.Leader, Connected: c.Connected}
	}
	return out
}

func apiPersistOf(p model.PersistHealth) apiPersist {
	out := apiPersist{State: "ok", Since: timePtr(p.Since), Error: p.Error(), Failing: p.Failing}
	if !p.OK() {
		out.State = "failing"
	}
	return out
}

// apiKinds are the sections of /api/model, in the order they are written.
var apiKinds = []string{"locations", "assets", "tags", "alarms", "alerts"}

// apiFilter is what a GET /api/model asks for: ?ibx=CH1&ibx=SV4 (or
// ibx=CH1,SV4) keeps those IBXs; ?kind=alarms,tags keeps those sections.
// Neither: the whole model.
type apiFilter struct {
	ibxs  map[string]bool // nil: all
	kinds map[string]bool // nil: all
}

func parseAPIFilter(r *http.Request, known []string) (apiFilter, error) {
	var f apiFilter
	split := func(vals []string) []string {
		var out []string
		for _, v := range vals {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	q := r.URL.Query()
	for _, k := range split(q["kind"]) {
		if !slices.Contains(apiKinds, k) {
			return f, fmt.Errorf("kind: %q is not one of %s", k, strings.Join(apiKinds, ", "))
		}
		if f.kinds == nil {
			f.kinds = map[string]bool{}
		}
		f.kinds[k] = true
	}
	for _, ibx := range split(q["ibx"]) {
		ibx = strings.ToUpper(ibx)
		if !slices.Contains(known, ibx) {
			return f, fmt.Errorf("ibx: %q is not in the model (IBXs: %s)", ibx, strings.Join(known, ", "))
		}
		if f.ibxs == nil {
			f.ibxs = map[string]bool{}
		}
		f.ibxs[ibx] = true
	}
	for k := range q {
		if k != "kind" && k != "ibx" {
			return f, fmt.Errorf("%s: unknown parameter (filters: ibx, kind)", k)
		}
	}
	return f, nil
}

func (f apiFilter) kind(k string) bool  { return f.kinds == nil || f.kinds[k] }
func (f apiFilter) ibx(ibx string) bool { return f.ibxs == nil || f.ibxs[ibx] }

// ranges returns the index ranges of the selected IBXs in a structure
// table sorted by IBX (IBXLocations, IBXAssets, IBXTags), or the whole table.
func (f apiFilter) ranges(st *model.Structure, n int, of func(ibx string) (int, int)) [][2]int {
	if f.ibxs == nil {
		return [][2]int{{0, n}}
	}
	var out [][2]int
	for _, ibx := range st.IBXs() {
		if f.ibxs[ibx] {
			from, to := of(ibx)
			out = append(out, [2]int{from, to})
		}
	}
	return out
}

// apiModel streams the snapshot as JSON, one entity at a time, filtered by
// ?ibx= and ?kind= (apiFilter). A bad filter is a 400 naming the parameter.
func (s *statusServer) apiModel(w http.ResponseWriter, r *http.Request) {
	snap := s.store.Snapshot()
	st := snap.Structure()
	f, err := parseAPIFilter(r, st.IBXs())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64*1024)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	now := time.Now()

	locations := f.ranges(st, len(st.Locations()), st.IBXLocations)
	assets := f.ranges(st, len(st.Assets()), st.IBXAssets)
	tags := f.ranges(st, len(st.Tags()), st.IBXTags)
	var alarms []*model.Alarm
	for _, a := range snap.Alarms() {
		if f.ibx(a.IBX) {
			alarms = append(alarms, a)
		}
	}
	var alerts []*model.Alert
	for _, a := range snap.Alerts() {
		if f.ibx(a.IBX) {
			alerts = append(alerts, a)
		}
	}
	total := func(rs [][2]int) int {
		n := 0
		for _, r := range rs {
			n += r[1] - r[0]
		}
		return n
	}
	ibxs := []string{}
	for _, ibx := range st.IBXs() {
		if f.ibx(ibx) {
			ibxs = append(ibxs, ibx)
		}
	}
	hdr := apiHeader{Generated: now.UTC(), Seq: snap.Seq(), StructureGen: st.Gen(), IBXs: ibxs,
		Counts:     apiCounts{total(locations), total(assets), total(tags), len(alarms), len(alerts)},
		Health:     apiHealthOf(snap.Health(), now),
		StaleAfter: apiSeconds(s.store.StaleAfter().Seconds())}
	head, _ := json.Marshal(hdr)
	bw.Write(head[:len(head)-1]) // leave the object open

	section := func(name string, rs [][2]int, item func(i int) any) {
		if !f.kind(name) {
			return
		}
		bw.WriteString(`,"` + name + `":[`)
		first := true
		for _, r := range rs {
			for i := r[0]; i < r[1]; i++ {
				if !first {
					bw.WriteByte(',')
				}
				first = false
				enc.Encode(item(i)) // Encode adds a newline: valid white space
			}
		}
		bw.WriteByte(']')
	}
	section("locations", locations, func(i int) any { return apiLocationOf(snap, i) })
	section("assets", assets, func(i int) any { return apiAssetOf(snap, i) })
	section("tags", tags, func(i int) any { return apiTagOf(snap, i) })
	section("alarms", [][2]int{{0, len(alarms)}}, func(i int) any { return apiAlarmOf(alarms[i]) })
	section("alerts", [][2]int{{0, len(alerts)}}, func(i int) any { return apiAlertOf(alerts[i]) })
	bw.WriteString("}\n")
}

func apiLocationOf(snap *model.Snapshot, i int) apiLocation {
	l := snap.Structure().Location(i)
	out := apiLocation{ID: l.ID.String(), IBX: l.ID.IBX, Level: l.ID.Level.String(), Name: l.ID.Name,
		Label: l.Label, Number: l.Number, Role: l.Role, Origin: l.Discovered.String(), Discovered: l.Discovered != model.OriginHierarchy}
	if !l.Parent.IsZero() {
		out.Parent = l.Parent.String()
	}
	if hasPower(l.ID.Level) {
		p := snap.Power(i)
		out.Power = &apiPower{
			KVA: valuePtr(p.KVA, "kVA"), Amps: valuePtr(p.Amps, "A"), SoldKVA: valuePtr(p.SoldKVA, "kVA"),
			ContractualKVA: valuePtr(p.ContractualKVA, "kVA"), PercentKVA: valuePtr(p.PercentKVA, "%"),
			CabinetRating: valuePtr(p.CabinetRating, "kVA"), PrimaryKVA: valuePtr(p.PrimaryKVA, "kVA"),
			RedundantKVA: valuePtr(p.RedundantKVA, "kVA"), KW: valuePtr(p.KW, "kW"), PowerFactor: valuePtr(p.PowerFactor, ""),
			PeakKVA7d: valuePtr(p.PeakKVA7d, "kVA"), BreakerAlarm: flagPtr(p.BreakerAlarm),
			ReadingTime: timePtr(p.ReadingTime), UpdatedTime: timePtr(p.UpdatedTime),
			apiFreshness: freshness(p.Freshness, p.Quality)}
	}
	if hasEnvironment(l.ID.Level) {
		e := snap.Environment(i)
		out.Environment = &apiEnvironment{
			Temperature: valuePtr(e.Temperature, e.TemperatureUnit), Humidity: valuePtr(e.Humidity, e.HumidityUnit),
			TemperatureMin: valuePtr(e.TemperatureMin, e.TemperatureUnit), TemperatureMax: valuePtr(e.TemperatureMax, e.TemperatureUnit),
			HumidityMin: valuePtr(e.HumidityMin, e.HumidityUnit), HumidityMax: valuePtr(e.HumidityMax, e.HumidityUnit),
			ReadingTime: timePtr(e.ReadingTime), apiFreshness: freshness(e.Freshness, e.Quality)}
	}
	return out
}

func apiAssetOf(snap *model.Snapshot, i int) apiAsset {
	st := snap.Structure()
	a := st.Asset(i)
	out := apiAsset{ID: a.ID, IBX: a.IBX, Classification: a.Classification, Category: a.Category, Template: a.Template,
		Type: a.Type, Manufacturer: a.Manufacturer, Model: a.Model, Serial: a.Serial, TimeZone: a.TimeZone,
		Affects: []string{}, Tags: []string{}}
	for _, l := range st.Affects(i).All() {
		out.Affects = append(out.Affects, st.Location(int(l)).ID.String())
	}
	for _, t := range st.AssetTags(i) {
		out.Tags = append(out.Tags, st.Tag(int(t)).ID)
	}
	s := snap.Asset(i)
	out.State = apiAssetState{AlarmStatus: s.AlarmStatus, ResiliencyStatus: s.ResiliencyStatus,
		AlarmTriggered: timePtr(s.AlarmTriggered), AlarmCleared: timePtr(s.AlarmCleared), AlarmActive: s.AlarmActive,
		LastMaintenance: timePtr(s.LastMaintenance), apiFreshness: freshness(s.Freshness, s.Quality)}
	return out
}

func apiTagOf(snap *model.Snapshot, i int) apiTag {
	t := snap.Structure().Tag(i)
	v := snap.Tag(i)
	return apiTag{ID: t.ID, Asset: t.Asset, IBX: t.IBX, DisplayName: t.DisplayName, Unit: t.Unit,
		Value: valuePtr(v.Value, t.Unit), AlarmStatus: v.AlarmStatus, ReadingTime: timePtr(v.ReadingTime),
		apiFreshness: freshness(v.Freshness, v.Quality)}
}

func apiAlarmOf(a *model.Alarm) apiAlarm {
	return apiAlarm{ID: a.ID, Key: a.Key, IBX: a.IBX, Asset: a.AssetID, AssetType: a.AssetType, Classification: a.Classification,
		Tag: a.TagID, Condition: a.Condition, Cage: a.Cage, Cabinet: a.Cabinet, Circuit: a.Circuit,
		Severity: a.Severity.String(), SeverityText: a.Severity.String(), SeverityCode: a.Severity.Code(), SeverityRaw: a.SeverityText, Value: a.Value, Unit: a.Unit,
		State: a.State.String(), Triggered: timePtr(a.Triggered), Processed: timePtr(a.Processed), Cleared: timePtr(a.Cleared),
		FirstSeen: timePtr(a.FirstSeen), LastSeen: timePtr(a.LastSeen), Seq: a.Seq, Inferred: inferredNames(a),
		Operator: apiOperatorOf(a.Operator)}
}

func inferredNames(a *model.Alarm) []string {
	var out []string
	for _, k := range a.InferredKinds() {
		out = append(out, k.String())
	}
	return out
}

func apiAlertOf(a *model.Alert) apiAlert {
	return apiAlert{Number: a.Number, ID: a.ID, IBX: a.IBX, Asset: a.Asset, AssetName: a.AssetName, Tag: a.TagID,
		Type: a.Type, Name: a.Name, Severity: a.Severity, Value: a.Value, Unit: a.Unit, Threshold: a.Threshold,
		Acknowledged: a.Acknowledged, Triggered: timePtr(a.Triggered), AcknowledgedAt: timePtr(a.AcknowledgedAt), Seq: a.Seq}
}
