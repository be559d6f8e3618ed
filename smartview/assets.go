package smartview

import (
	"context"
	"io"
	"time"
)

// Asset classifications accepted by the asset endpoints.
const (
	ClassificationElectrical = "Electrical"
	ClassificationMechanical = "Mechanical"
)

// AssetList is the asset list of one IBX and classification: categories, templates, assets.
type AssetList struct {
	Classification string          `json:"classification"`
	Categories     []AssetCategory `json:"categories"`
}

// AssetCategory is a group of asset templates, e.g. "Air Handling", "Cooling".
type AssetCategory struct {
	Name      string          `json:"categoryName"`
	Templates []AssetTemplate `json:"templates"`
}

// AssetTemplate is a kind of asset, e.g. "Generator", "Fan Coil".
type AssetTemplate struct {
	ID     string         `json:"templateId"`
	Assets []AssetSummary `json:"assets"`
}

// AssetSummary is one asset in an asset list.
type AssetSummary struct {
	AssetID                string `json:"assetId"`
	IBX                    string `json:"ibx"`
	AlarmStatus            string `json:"alarmStatus"`      // "OK", "NOT OK"
	ResiliencyStatus       string `json:"resiliencyStatus"` // "Resiliency as Designed", ...
	AlarmLastTriggeredTime Time   `json:"alarmLastTriggeredTime"`
	AlarmLastClearedTime   Time   `json:"alarmLastClearedTime"` // Active: "Currently Active"
	// The 2024 catalog adds the assets feeding this one, as the text it sends:
	// "[CH1.UPS-5,CH1.UPS-6]". Not in the model yet.
	PrimaryParentAsset   string `json:"primaryParentAsset,omitempty"`
	AlternateParentAsset string `json:"alternateParentAsset,omitempty"`
}

// AssetDetails is one asset with its tag points. Its own zone-less times (LastMaintenanceDate,
// AlarmLast*) are read in UserPrefTimeZone when that names a known zone, else in
// Config.TimeZone; its tags' ReadingTime in Config.TimeZone, as in every tag point answer.
type AssetDetails struct {
	AssetID                string     `json:"assetId"`
	AssetType              string     `json:"assetType"`
	UserPrefTimeZone       string     `json:"userPrefTimeZone"`
	Tags                   []TagPoint `json:"tags"`
	LastMaintenanceDate    Time       `json:"lastMaintenanceDate"`
	ManufacturerName       string     `json:"manufacturerName"`
	EquipmentModelNumber   string     `json:"equipmentModelNumber"`
	EquipmentSerialNumber  string     `json:"equipmentSerialNumber"`
	AlarmLastTriggeredTime Time       `json:"alarmLastTriggeredTime"`
	AlarmLastProcessedTime Time       `json:"alarmLastProcessedTime"`
}

// TagPoint is the latest value of one asset attribute (tag), from asset details, the tag point
// endpoints, or a tagpoint_updated event. Value keeps non-numeric readings ("NORMAL") in Text.
type TagPoint struct {
	TagID          string `json:"tagId"`
	TagDisplayName string `json:"tagDisplayName"`
	Value          Number `json:"value"`
	UOM            string `json:"uom"`
	AlarmStatus    string `json:"alarmStatus,omitempty"`
	ReadingTime    Time   `json:"readingTime"`
}

// tagPointFields decodes a TagPoint without reflection (see objectFields): a values cycle of the
// large footprint decodes ~100,000 of them.
var tagPointFields = newObjectFields(map[string]func(*TagPoint) any{
	"tagId": func(t *TagPoint) any { return &t.TagID }, "tagDisplayName": func(t *TagPoint) any { return &t.TagDisplayName },
	"value": func(t *TagPoint) any { return &t.Value }, "uom": func(t *TagPoint) any { return &t.UOM },
	"alarmStatus": func(t *TagPoint) any { return &t.AlarmStatus }, "readingTime": func(t *TagPoint) any { return &t.ReadingTime },
})

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (t *TagPoint) UnmarshalJSON(data []byte) error { return tagPointFields.decode(data, t) }

// assetDetailsFields decodes AssetDetails without reflection (see objectFields): a values cycle
// of the large footprint reads ~10,000 of them with ~100,000 tag points, and a member table lets
// the list scanner (listscan.go) read them in its one pass instead of encoding/json's stream
// decoder.
var assetDetailsFields = newObjectFields(map[string]func(*AssetDetails) any{
	"assetId": func(d *AssetDetails) any { return &d.AssetID }, "assetType": func(d *AssetDetails) any { return &d.AssetType },
	"userPrefTimeZone": func(d *AssetDetails) any { return &d.UserPrefTimeZone }, "tags": func(d *AssetDetails) any { return listMember[TagPoint, *TagPoint]{&d.Tags} },
	"lastMaintenanceDate":    func(d *AssetDetails) any { return &d.LastMaintenanceDate },
	"manufacturerName":       func(d *AssetDetails) any { return &d.ManufacturerName },
	"equipmentModelNumber":   func(d *AssetDetails) any { return &d.EquipmentModelNumber },
	"equipmentSerialNumber":  func(d *AssetDetails) any { return &d.EquipmentSerialNumber },
	"alarmLastTriggeredTime": func(d *AssetDetails) any { return &d.AlarmLastTriggeredTime },
	"alarmLastProcessedTime": func(d *AssetDetails) any { return &d.AlarmLastProcessedTime },
})

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (d *AssetDetails) UnmarshalJSON(data []byte) error { return assetDetailsFields.decode(data, d) }

// AffectedLocations are the customer locations an asset serves: cages, their cabinets, and the
// power circuits of either.
type AffectedLocations struct {
	Cages []AffectedLocation `json:"cages"`
	// Circuits are circuits named outside any cage (the 2024 description's payload has them).
	Circuits []AffectedLocation `json:"circuits,omitempty"`
}

// AffectedLocation is a cage, cabinet or circuit ("type") named by its unique space id or circuit
// number ("name": a string, or a number in the 2024 description's circuit examples).
type AffectedLocation struct {
	Name     Text               `json:"name"`
	Type     string             `json:"type"` // cage, cabinet, circuit
	Cabinets []AffectedLocation `json:"cabinets,omitempty"`
	Circuits []AffectedLocation `json:"circuits,omitempty"`
}

// The links pass reads the affected locations of every asset (10,000 answers on the large
// footprint, 50,000 on xlarge, each a tree of cages, cabinets and circuits): decoded by
// reflection, whose slices grow by append, each answer left ~80 KB of garbage, 3.9 GB in the
// two minutes of xlarge's pass. Member tables and lists sized once (listMember) instead.
var (
	affectedLocationsFields = newObjectFields(map[string]func(*AffectedLocations) any{
		"cages":    func(l *AffectedLocations) any { return listMember[AffectedLocation, *AffectedLocation]{&l.Cages} },
		"circuits": func(l *AffectedLocations) any { return listMember[AffectedLocation, *AffectedLocation]{&l.Circuits} },
	})
	affectedLocationFields = newObjectFields(map[string]func(*AffectedLocation) any{
		"name": func(l *AffectedLocation) any { return &l.Name }, "type": func(l *AffectedLocation) any { return &l.Type },
		"cabinets": func(l *AffectedLocation) any { return listMember[AffectedLocation, *AffectedLocation]{&l.Cabinets} },
		"circuits": func(l *AffectedLocation) any { return listMember[AffectedLocation, *AffectedLocation]{&l.Circuits} },
	})
)

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (l *AffectedLocations) UnmarshalJSON(data []byte) error {
	return affectedLocationsFields.decode(data, l)
}

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (l *AffectedLocation) UnmarshalJSON(data []byte) error {
	return affectedLocationFields.decode(data, l)
}

// AssetList lists the assets of classification ("Electrical" or "Mechanical") in ibx, optionally
// only those serving the given cages (unique space ids such as "CH1:05:000550"), sent as repeated
// cages parameters.
func (c *Client) AssetList(ctx context.Context, ibx, classification string, cages []string) (*AssetList, error) {
	r := c.get(endpointAssetList, routeAssetList, "ibx", ibx, "classification", classification)
	for _, cage := range cages {
		r.query.Add("cages", cage)
	}
	var list AssetList
	if err := c.do(ctx, r, func(body io.Reader) error { return decodeEnveloped(body, &list) }); err != nil {
		return nil, err
	}
	for _, cat := range list.Categories {
		for _, tpl := range cat.Templates {
			for i := range tpl.Assets {
				a := &tpl.Assets[i]
				a.AlarmLastTriggeredTime = a.AlarmLastTriggeredTime.InLocation(c.zone)
				a.AlarmLastClearedTime = a.AlarmLastClearedTime.InLocation(c.zone)
			}
		}
	}
	return &list, nil
}

// AssetDetails fetches one asset with its tag points (GET).
func (c *Client) AssetDetails(ctx context.Context, ibx, classification, assetID string) (*AssetDetails, error) {
	r := c.get(endpointAssetDetails, routeAssetDetails,
		"ibx", ibx, "classification", classification, "assetId", assetID)
	var d AssetDetails
	if err := c.do(ctx, r, func(body io.Reader) error { return decodeEnveloped(body, &d) }); err != nil {
		return nil, err
	}
	d.localize(c.location(d.UserPrefTimeZone), c.zone)
	return &d, nil
}

// assetDetailsRequest is the body of POST asset details.
type assetDetailsRequest struct {
	AccountNo      string   `json:"accountNo"`
	IBX            string   `json:"ibx"`
	AssetIDs       []string `json:"assetIds"`
	Classification string   `json:"classification"`
}

// AssetDetailsBatch fetches several assets with their tag points in one request (POST assetIds).
func (c *Client) AssetDetailsBatch(ctx context.Context, ibx, classification string, assetIDs []string) ([]AssetDetails, error) {
	r := c.post(endpointAssetDetailsBatch, routeAssetDetails, assetDetailsRequest{
		AccountNo: c.cfg.AccountNo, IBX: ibx, AssetIDs: assetIDs, Classification: classification,
	})
	list, err := fetchList[AssetDetails](ctx, c, r, true, "assetDetails", nil)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].localize(c.location(list[i].UserPrefTimeZone), c.zone)
	}
	return list, nil
}

// localize reads the asset's own zone-less times in loc (its userPrefTimeZone) and its tags'
// reading times in tagZone (Config.TimeZone): a tag's readingTime must mean the same instant here
// as in the tag point answers, which name no zone.
func (d *AssetDetails) localize(loc, tagZone *time.Location) {
	d.LastMaintenanceDate = d.LastMaintenanceDate.InLocation(loc)
	d.AlarmLastTriggeredTime = d.AlarmLastTriggeredTime.InLocation(loc)
	d.AlarmLastProcessedTime = d.AlarmLastProcessedTime.InLocation(loc)
	for i := range d.Tags {
		d.Tags[i].ReadingTime = d.Tags[i].ReadingTime.InLocation(tagZone)
	}
}

// AffectedAssets lists the cages, cabinets and circuits served by an asset.
func (c *Client) AffectedAssets(ctx context.Context, ibx, classification, assetID string) (*AffectedLocations, error) {
	r := c.get(endpointAffectedAssets, routeAffectedAssets,
		"ibx", ibx, "classification", classification, "assetId", assetID)
	var locs AffectedLocations
	if err := c.do(ctx, r, func(body io.Reader) error { return decodeEnveloped(body, &locs) }); err != nil {
		return nil, err
	}
	return &locs, nil
}

// TagPoint fetches the latest value of one tag point (GET). The API answers with a list.
func (c *Client) TagPoint(ctx context.Context, ibx, tagID string) ([]TagPoint, error) {
	return c.tagPoints(ctx, c.get(endpointTagPoint, routeTagPoint, "ibx", ibx, "tagId", tagID))
}

// tagPointsRequest is the body of POST tag points.
type tagPointsRequest struct {
	AccountNo string   `json:"accountNo"`
	TagIDs    []string `json:"tagIds"`
	IBX       string   `json:"ibx"`
}

// TagPoints fetches the latest values of several tag points in one request (POST tagIds).
func (c *Client) TagPoints(ctx context.Context, ibx string, tagIDs []string) ([]TagPoint, error) {
	return c.tagPoints(ctx, c.post(endpointTagPoints, routeTagPoint,
		tagPointsRequest{AccountNo: c.cfg.AccountNo, TagIDs: tagIDs, IBX: ibx}))
}

func (c *Client) tagPoints(ctx context.Context, r request) ([]TagPoint, error) {
	list, err := fetchList[TagPoint](ctx, c, r, true, "", nil)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].ReadingTime = list[i].ReadingTime.InLocation(c.zone)
	}
	return list, nil
}

// AssetMatch is one asset search result: an asset, a circuit or a sensor.
type AssetMatch struct {
	// AssetID is the asset id, circuit number or sensor id (Type says which).
	AssetID             Text   `json:"assetId"`
	Type                string `json:"type"`       // the asset's template, "circuit" or "sensor"
	AssetLabel          string `json:"assetLabel"` // the circuit's display label, else the id
	AssetClassification string `json:"assetClassification"`
}

// AssetSearch finds the assets, circuits and sensors of ibx whose id or label contains search (the
// 2024 catalog's asset search; ErrNotServed with the documented one).
func (c *Client) AssetSearch(ctx context.Context, ibx, search string) ([]AssetMatch, error) {
	r := c.get(endpointAssetSearch, routeAssetSearch, "ibx", ibx, "searchString", search)
	return fetchList[AssetMatch](ctx, c, r, true, "assetsList", nil)
}

func (*TagPoint) memberTable() *objectFields[TagPoint] { return tagPointFields }

func (*AssetDetails) memberTable() *objectFields[AssetDetails] { return assetDetailsFields }
