package history

import (
	"time"

	"github.com/svgateway/svgateway/model"
)

// Series keys, and which fields of the model's readings are recorded. The
// opcua package maps its variables onto these names (its member BrowseNames
// are the field names), so a key names the same value on both sides.

// LocationKey names a power or environment field of a location
// ("IBX/LEVEL/Name"). The fields of a location are stored together (the
// part after '#' names the field within the entity, as in NodeIds).
func LocationKey(loc model.LocationID, field string) string { return locationPrefix(loc) + field }

// locationPrefix is what the keys of a location's fields begin with.
func locationPrefix(loc model.LocationID) string { return "l/" + loc.String() + "#" }

// TagKey names a tag point's value.
func TagKey(tagID string) string { return tagPrefix + tagID }

// HealthKey names one of the gateway's own health values.
func HealthKey(field string) string { return healthPrefix + field }

const (
	tagPrefix    = "t/"
	healthPrefix = "g#"
)

// Field is a recorded field of a reading.
type Field[T any] struct {
	Name string
	Get  func(*T) model.Value
}

// flag is a Flag's recorded value, its text. The three are made once:
// model.Text's failed number parse allocates an error for each call, and a
// values cycle of the large profile reads some 100,000 flags.
func flag(f model.Flag) model.Value {
	if int(f) < len(flagValues) {
		return flagValues[f]
	}
	return model.Text(f.String())
}

var flagValues = [...]model.Value{
	model.FlagUnknown: model.Text(model.FlagUnknown.String()),
	model.FlagFalse:   model.Text(model.FlagFalse.String()),
	model.FlagTrue:    model.Text(model.FlagTrue.String()),
}

// PowerFields are the recorded fields of a power reading.
var PowerFields = []Field[model.Power]{
	{"KVA", func(p *model.Power) model.Value { return p.KVA }},
	{"Amps", func(p *model.Power) model.Value { return p.Amps }},
	{"SoldKVA", func(p *model.Power) model.Value { return p.SoldKVA }},
	{"ContractualKVA", func(p *model.Power) model.Value { return p.ContractualKVA }},
	{"PercentOfContract", func(p *model.Power) model.Value { return p.PercentKVA }},
	{"PrimaryKVA", func(p *model.Power) model.Value { return p.PrimaryKVA }},
	{"RedundantKVA", func(p *model.Power) model.Value { return p.RedundantKVA }},
	{"KW", func(p *model.Power) model.Value { return p.KW }},
	{"PowerFactor", func(p *model.Power) model.Value { return p.PowerFactor }},
	{"PeakKVA7d", func(p *model.Power) model.Value { return p.PeakKVA7d }},
	{"CabinetRating", func(p *model.Power) model.Value { return p.CabinetRating }},
	{"BreakerAlarm", func(p *model.Power) model.Value { return flag(p.BreakerAlarm) }},
}

// EnvironmentFields are the recorded fields of an environment reading.
var EnvironmentFields = []Field[model.Environment]{
	{"Temperature", func(e *model.Environment) model.Value { return e.Temperature }},
	{"Humidity", func(e *model.Environment) model.Value { return e.Humidity }},
}

// HealthField is a recorded health value: its value and the time it last
// changed.
type HealthField struct {
	Name string
	Get  func(*model.Health) (model.Value, time.Time)
}

// HealthFields are the gateway's recorded health values: the states of its
// connections, each stamped with the time it entered that state.
var HealthFields = []HealthField{
	{"Upstream", func(h *model.Health) (model.Value, time.Time) {
		return model.Text(h.Upstream.String()), h.UpstreamSince
	}},
	{"FeedState", func(h *model.Health) (model.Value, time.Time) {
		return model.Text(h.Feed.State.String()), h.Feed.Since
	}},
	{"PersistState", func(h *model.Health) (model.Value, time.Time) {
		s := "ok"
		if !h.Persist.OK() {
			s = "failing"
		}
		return model.Text(s), h.Persist.Since
	}},
}
