// Package modeltest builds synthetic SmartView footprints for the tests and
// benchmarks of every package: deterministic structures of any size (one
// builder, Footprint, whatever the test), and the readings that fill them —
// uniform (FillUniform), changing with every tick (Fill), or covering every
// kind of reading present, absent, non-numeric and out of range
// (FillVaried). It must not be used by the gateway.
package modeltest

import (
	"fmt"
	"time"

	"github.com/svgateway/svgateway/model"
)

// Shape is the size and make-up of a synthetic footprint. Per IBX: one zone
// ("Colo A") with Cages cages of Cabinets cabinets of Circuits circuits, and
// Assets assets with Tags tags each; asset a affects cage a % Cages.
type Shape struct {
	// IBXs is the number of IBXs of Footprints and NewStore (codes IBX(i)).
	IBXs                                    int
	Cages, Cabinets, Circuits, Assets, Tags int
	// Sensors adds a sensor to every cage.
	Sensors bool
	// CabinetNumbers numbers the cabinets (70000 + 100 × cage + cabinet);
	// otherwise a cabinet has no number.
	CabinetNumbers bool
	// Roles are the circuits' roles, in turn (default primary, redundant).
	Roles []string
	// Templates are the assets' templates, in turn (default UPS); asset n
	// of an IBX is "<IBX>.<first template>-<n>".
	Templates []string
	// The first TextTags tags of an asset have no unit (text readings);
	// the others take Units in turn (default V; "" is no unit).
	TextTags int
	Units    []string
}

// IBX returns the code of IBX i of Footprints.
func IBX(i int) string { return fmt.Sprintf("IB%02d", i+1) }

// Footprints returns the structure of s.IBXs IBXs.
func Footprints(s Shape) map[string]model.IBXStructure {
	out := make(map[string]model.IBXStructure, s.IBXs)
	for i := 0; i < s.IBXs; i++ {
		out[IBX(i)] = Footprint(IBX(i), s)
	}
	return out
}

// Footprint returns the structure of one IBX of shape s.
func Footprint(ibx string, s Shape) model.IBXStructure {
	roles, templates, units := or(s.Roles, "primary", "redundant"), or(s.Templates, "UPS"), or(s.Units, "V")
	var p model.IBXStructure
	zone := model.LocationID{IBX: ibx, Level: model.LevelZone, Name: ibx + ":1:01:ColoA:1"}
	p.Locations = append(p.Locations, model.Location{ID: zone, Parent: model.IBXLocation(ibx), Label: "Colo A"})
	for c := 0; c < s.Cages; c++ {
		cage := model.LocationID{IBX: ibx, Level: model.LevelCage, Name: fmt.Sprintf("%s:01:%06d", ibx, c)}
		p.Locations = append(p.Locations, model.Location{ID: cage, Number: fmt.Sprint(1000 + c), Parent: zone})
		if s.Sensors {
			p.Locations = append(p.Locations, model.Location{ID: model.LocationID{IBX: ibx, Level: model.LevelSensor,
				Name: fmt.Sprintf("%s-T%d", cage.Name, c)}, Parent: cage})
		}
		for k := 0; k < s.Cabinets; k++ {
			cab := model.Location{ID: model.LocationID{IBX: ibx, Level: model.LevelCabinet, Name: fmt.Sprintf("%s:%04d", cage.Name, k)}, Parent: cage}
			if s.CabinetNumbers {
				cab.Number = fmt.Sprint(70000 + c*100 + k)
			}
			p.Locations = append(p.Locations, cab)
			for r := 0; r < s.Circuits; r++ {
				id := model.LocationID{IBX: ibx, Level: model.LevelCircuit, Name: fmt.Sprintf("%s%03d%02d%d", ibx, c, k, r)}
				p.Locations = append(p.Locations, model.Location{ID: id, Label: "120V 20A 1Ph", Parent: cab.ID, Role: roles[r%len(roles)]})
			}
		}
	}
	for a := 0; a < s.Assets; a++ {
		aid := fmt.Sprintf("%s.%s-%d", ibx, templates[0], a)
		var affects []model.LocationID
		if s.Cages > 0 {
			affects = []model.LocationID{{IBX: ibx, Level: model.LevelCage, Name: fmt.Sprintf("%s:01:%06d", ibx, a%s.Cages)}}
		}
		template := templates[a%len(templates)]
		p.Assets = append(p.Assets, model.Asset{ID: aid, Classification: "Electrical", Category: "Global", Template: template,
			Type: template, Manufacturer: "ACME", Model: fmt.Sprint("U-", a), Serial: fmt.Sprintf("SN%05d", a), TimeZone: "UTC",
			Affects: model.LocationsOf(affects...)})
		for t := 0; t < s.Tags; t++ {
			unit := ""
			if t >= s.TextTags {
				unit = units[(t-s.TextTags)%len(units)]
			}
			p.Tags = append(p.Tags, model.Tag{ID: fmt.Sprintf("%s:tag%d", aid, t), Asset: aid, DisplayName: fmt.Sprint("Tag ", t), Unit: unit})
		}
	}
	return p
}

func or(list []string, def ...string) []string {
	if len(list) == 0 {
		return def
	}
	return list
}

// NewStore returns a store holding Footprints(s), its readings set by fill
// (nil: none), upstream reachable and last synced at.
func NewStore(s Shape, at time.Time, fill func(tx *model.Tx) error) (*model.Store, error) {
	store, err := model.NewStore(model.Options{})
	if err != nil {
		return nil, err
	}
	_, err = store.Update(func(tx *model.Tx) error {
		if w := tx.SetStructure(Footprints(s)); len(w) > 0 {
			return fmt.Errorf("modeltest: structure warnings: %v", w[0])
		}
		if fill != nil {
			if err := fill(tx); err != nil {
				return err
			}
		}
		tx.SetUpstream(model.UpstreamOK, "")
		tx.SetLastSync(at)
		return nil
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// Assorted returns s with the make-up of the OPC UA end-to-end tests and
// benchmarks: numbered cabinets, assets of three templates (PDU, UPS,
// Generator), and per asset one text tag then tags of eight units in turn
// (test/opcua/peer-server.js builds the same tree).
func (s Shape) Assorted() Shape {
	s.CabinetNumbers = true
	s.Templates = []string{"PDU", "UPS", "Generator"}
	s.TextTags = 1
	s.Units = []string{"kVA", "A", "V", "°C", "%", "kW", "Hz", "h", ""}
	return s
}

// Large is the sandbox's large profile in size — 20 IBXs, 2,000 cages,
// 20,000 cabinets, 80,000 circuits, 10,000 assets, 100,000 tags — with a
// sensor per cage, numbered cabinets and circuits with and without a role:
// the make-up of the SNMP tests' and benchmarks' footprints.
var Large = Shape{IBXs: 20, Cages: 100, Cabinets: 10, Circuits: 4, Assets: 500, Tags: 10,
	Sensors: true, CabinetNumbers: true, Roles: []string{"primary", "redundant", ""}}
