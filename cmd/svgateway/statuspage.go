package main

// The status page at / is what a NOC opens in a browser (or leaves on a wall
// screen): the upstream and feed state with since when, the last sync, the
// footprint per IBX, the alarms not cleared by severity with their age and
// acknowledgement, the notification targets with their queues, and links to
// the machine-readable views. Plain server-rendered HTML that refreshes
// itself; no JavaScript.

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/snmp/notify"
)

//go:embed statuspage.html
var statusPageHTML string

var statusPageTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"age":  age,
	"ago":  ago,
	"when": when,
}).Parse(statusPageHTML))

// maxPageAlarms bounds the alarm rows of one severity on the page (the
// large profile has thousands); /api/model?kind=alarms has them all.
const maxPageAlarms = 200

// statusPageInfo is what the page shows besides the model.
type statusPageInfo struct {
	Mode    string // "sandbox (profile small)" or "live (account …)"
	Started time.Time
	// Targets lists the notification targets; nil when none are sent.
	Targets func() []notify.TargetStatus
}

// pageInfo is what the status page shows of this gateway.
func (g *gateway) pageInfo() statusPageInfo {
	info := statusPageInfo{Started: time.Now()}
	if g.cfg.Sandbox.Enabled {
		info.Mode = "sandbox mode (profile " + g.cfg.Sandbox.Profile + "): simulated data"
	} else {
		info.Mode = "live: " + g.cfg.SmartView.BaseURL + ", account " + g.accountNo
	}
	if g.notifier != nil {
		info.Targets = g.notifier.Targets
	}
	return info
}

type pageIBX struct {
	IBX                                         string
	Zones, Cages, Cabinets, Circuits, Sensors   int
	Assets, Tags, ActiveAlarms, AcknowledgedAls int
}

type pageAlarm struct {
	ID                                  uint64
	IBX, Subject, Tag, Condition, Value string
	State                               string
	Triggered                           time.Time
	Acknowledged                        bool
}

type pageSeverity struct {
	Name   string
	Alarms []pageAlarm
	More   int // not shown beyond maxPageAlarms
}

type statusPage struct {
	Version, Built, Mode string
	Now, Started         time.Time
	Health               model.Health
	Lag                  string // feed lag, "" when no event yet
	IBXs                 []pageIBX
	Severities           []pageSeverity
	OpenAlarms           int
	Alerts               int
	Targets              []notify.TargetStatus
	HasTargets           bool
}

func (s *statusServer) statusPage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	snap := s.store.Snapshot()
	st := snap.Structure()
	now := time.Now()
	p := statusPage{Version: buildVersion(), Built: builtAt(), Mode: s.page.Mode, Now: now, Started: s.page.Started,
		Health: snap.Health(), Alerts: len(snap.Alerts())}
	if t := p.Health.Feed.NewestEventTime; !t.IsZero() {
		p.Lag = fmt.Sprintf("%.1f s", now.Sub(t).Seconds())
	}
	byIBX := map[string]*pageIBX{}
	for _, ibx := range st.IBXs() {
		row := &pageIBX{IBX: ibx}
		from, to := st.IBXLocations(ibx)
		for i := from; i < to; i++ {
			switch st.Location(i).ID.Level {
			case model.LevelZone:
				row.Zones++
			case model.LevelCage:
				row.Cages++
			case model.LevelCabinet:
				row.Cabinets++
			case model.LevelCircuit:
				row.Circuits++
			case model.LevelSensor:
				row.Sensors++
			}
		}
		from, to = st.IBXAssets(ibx)
		row.Assets = to - from
		from, to = st.IBXTags(ibx)
		row.Tags = to - from
		byIBX[ibx] = row
	}
	sev := map[model.Severity]*pageSeverity{}
	for _, a := range snap.Alarms() {
		if a.State == model.AlarmCleared {
			continue
		}
		p.OpenAlarms++
		if row := byIBX[a.IBX]; row != nil {
			if a.State == model.AlarmAcknowledged {
				row.AcknowledgedAls++
			} else {
				row.ActiveAlarms++
			}
		}
		ps := sev[a.Severity]
		if ps == nil {
			ps = &pageSeverity{Name: a.Severity.String()}
			sev[a.Severity] = ps
		}
		if len(ps.Alarms) == maxPageAlarms {
			ps.More++
			continue
		}
		subject := a.AssetID
		for _, s := range []string{a.Circuit, a.Cabinet, a.Cage} {
			if subject == "" {
				subject = s
			}
		}
		value := a.Value
		if value != "" && a.Unit != "" {
			value += " " + a.Unit
		}
		ps.Alarms = append(ps.Alarms, pageAlarm{ID: a.ID, IBX: a.IBX, Subject: subject, Tag: a.TagID, Condition: a.Condition,
			Value: value, State: a.State.String(), Triggered: a.Triggered, Acknowledged: a.State == model.AlarmAcknowledged})
	}
	for _, ibx := range st.IBXs() {
		p.IBXs = append(p.IBXs, *byIBX[ibx])
	}
	for _, s := range []model.Severity{model.SeverityUrgent, model.SeverityHigh, model.SeverityLow, model.SeverityInformational, model.SeverityUnknown} {
		if ps := sev[s]; ps != nil {
			// oldest first: the longest-standing alarm is the one to chase
			slices.SortStableFunc(ps.Alarms, func(a, b pageAlarm) int { return a.Triggered.Compare(b.Triggered) })
			p.Severities = append(p.Severities, *ps)
		}
	}
	if s.page.Targets != nil {
		p.HasTargets = true
		p.Targets = s.page.Targets()
	}
	var buf bytes.Buffer
	if err := statusPageTmpl.Execute(&buf, p); err != nil {
		s.log.Error("status page not rendered", "err", err)
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// ago is age with "ago", or "never" for zero.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return age(t) + " ago"
}

// age is a short age: "42s", "5m 3s", "3h 12m", "2d 4h"; "—" for zero.
func age(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

// when is a UTC time for the page; "—" for zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
