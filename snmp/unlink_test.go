package snmp

import (
	"slices"
	"strings"

	"github.com/svgateway/svgateway/model"
)

// unlink removes the assets' links to the locations whose name contains
// name, as upstream does when a cage goes: a location an asset still links
// to stays in the model (discovered), however the hierarchies change.
func unlink(s *model.IBXStructure, name string) {
	for i := range s.Assets {
		a := &s.Assets[i]
		a.Affects = model.LocationsOf(slices.DeleteFunc(a.Affects.IDs(), func(id model.LocationID) bool { return strings.Contains(id.Name, name) })...)
	}
}
