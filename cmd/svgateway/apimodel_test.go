package main

import (
	"slices"
	"testing"

	"github.com/svgateway/svgateway/model"
)

// TestAPIAssetAffects: /api/model lists the locations an asset serves from
// the structure's indexes, in the asset's order, including one only the link
// names (discovered), and without a link the model dropped.
func TestAPIAssetAffects(t *testing.T) {
	store, err := model.NewStore(model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cage := model.LocationID{IBX: "SV4", Level: model.LevelCage, Name: "SV4:01:001150"}
	circuit := model.LocationID{IBX: "SV4", Level: model.LevelCircuit, Name: "404"}
	bad := model.LocationID{IBX: "SV4", Name: "no level"}
	if _, err := store.Update(func(tx *model.Tx) error {
		tx.SetStructure(map[string]model.IBXStructure{"SV4": {
			Locations: []model.Location{{ID: cage}},
			Assets: []model.Asset{{ID: "SV4.UPS-1", Affects: model.LocationsOf(circuit, cage, bad, circuit)},
				{ID: "SV4.UPS-2"}},
		}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	snap := store.Snapshot()
	for _, tt := range []struct {
		id   string
		want []string
	}{
		{"SV4.UPS-1", []string{"SV4/CIRCUIT/404", "SV4/CAGE/SV4:01:001150"}},
		{"SV4.UPS-2", []string{}},
	} {
		i, ok := snap.Structure().AssetIndex(tt.id)
		if !ok {
			t.Fatalf("%s missing", tt.id)
		}
		if got := apiAssetOf(snap, i).Affects; got == nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s affects %q, want %q", tt.id, got, tt.want)
		}
	}
}
