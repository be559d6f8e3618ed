package poll

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview"
	"github.com/svgateway/svgateway/smartview/ingest"
)

var classifications = []string{smartview.ClassificationElectrical, smartview.ClassificationMechanical}

// structure reads every IBX's hierarchies, asset lists, asset details,
// affected locations and sensors, then replaces the structure of the IBXs
// that were read completely (an IBX whose calls failed keeps its old one) in
// one batch, with the values those calls returned.
func (c *cycle) structure() {
	var wg sync.WaitGroup
	parts := make([]*ingest.IBXSources, len(c.p.ibxs))
	for i, ibx := range c.p.ibxs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i] = c.fetchStructure(ibx)
		}()
	}
	wg.Wait()
	structures := map[string]model.IBXStructure{}
	for _, src := range parts {
		if src != nil {
			structures[src.IBX] = ingest.Structure(src)
		}
	}
	if len(structures) == 0 {
		return
	}
	c.apply("structure", func(tx *model.Tx, unknown *int) {
		for _, w := range tx.SetStructure(structures) {
			c.p.log.Debug("structure", "fixed", w)
		}
		for _, src := range parts {
			if src != nil {
				applyAssets(tx, src, c.confirmed(), unknown)
				applyEnvironment(tx, src.Sensors, c.confirmed(), unknown)
			}
		}
	})
	c.mu.Lock()
	for _, src := range parts {
		if src != nil {
			c.fetched[src.IBX] = src
		}
	}
	c.mu.Unlock()
	c.p.mu.Lock()
	for _, src := range parts {
		if src != nil {
			c.p.sources[src.IBX] = src
		}
	}
	c.p.mu.Unlock()
}

// confirmed is the confirmation time recorded for what this cycle read.
func (c *cycle) confirmed() time.Time { return time.Now() }

// fetchStructure reads one IBX's structure; nil if any call failed.
func (c *cycle) fetchStructure(ibx string) *ingest.IBXSources {
	src := &ingest.IBXSources{IBX: ibx, Lists: make([]*smartview.AssetList, len(classifications)),
		Details: map[string]*smartview.AssetDetails{}}
	var mu sync.Mutex
	var failed bool
	var wg sync.WaitGroup
	run := func(endpoint string, fn func(ctx context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.call(endpoint, fn); err != nil {
				mu.Lock()
				failed = true
				mu.Unlock()
			}
		}()
	}
	run("location_hierarchy", func(ctx context.Context) (err error) {
		src.Location, err = c.p.client.LocationHierarchy(ctx, ibx)
		return err
	})
	run("power_hierarchy", func(ctx context.Context) (err error) {
		src.Power, err = c.p.client.PowerHierarchy(ctx, ibx)
		return err
	})
	if hasLevel(c.p.cfg.EnvironmentLevels, model.LevelSensor) {
		run("environment_list", func(ctx context.Context) (err error) {
			src.Sensors, err = c.p.client.EnvironmentList(ctx, ibx, model.LevelSensor.String())
			return err
		})
	}
	for i, class := range classifications {
		run("asset_list", func(ctx context.Context) error {
			list, err := c.p.client.AssetList(ctx, ibx, class, nil)
			if err != nil {
				return err
			}
			src.Lists[i] = list
			// Details of the listed assets.
			ids := assetIDs(list)
			for from := 0; from < len(ids); from += c.p.cfg.BatchSize {
				chunk := ids[from:min(from+c.p.cfg.BatchSize, len(ids))]
				run("asset_details_batch", func(ctx context.Context) error {
					details, err := c.p.client.AssetDetailsBatch(ctx, ibx, class, chunk)
					mu.Lock()
					for j := range details {
						src.Details[details[j].AssetID] = &details[j]
					}
					mu.Unlock()
					return err
				})
			}
			return nil
		})
	}
	wg.Wait()
	if failed {
		return nil
	}
	// Links are read by the links pass; until it reads this IBX's again,
	// keep the last ones known.
	src.Links = c.p.linksOf(ibx)
	return src
}

func assetIDs(list *smartview.AssetList) []string {
	var ids []string
	for _, cat := range list.Categories {
		for _, tpl := range cat.Templates {
			for _, a := range tpl.Assets {
				ids = append(ids, a.AssetID)
			}
		}
	}
	return ids
}

func hasLevel(levels []string, l model.Level) bool {
	for _, s := range levels {
		if got, ok := model.ParseLevel(s); ok && got == l {
			return true
		}
	}
	return false
}

// applyAssets records asset states from the lists and tag readings from the details.
func applyAssets(tx *model.Tx, src *ingest.IBXSources, confirmed time.Time, unknown *int) {
	for _, list := range src.Lists {
		if list == nil {
			continue
		}
		for _, cat := range list.Categories {
			for _, tpl := range cat.Templates {
				for i := range tpl.Assets {
					a := &tpl.Assets[i]
					var maint time.Time
					if d := src.Details[a.AssetID]; d != nil {
						maint = ingest.Time(d.LastMaintenanceDate)
					}
					count(tx.SetAsset(a.AssetID, ingest.AssetState(a, maint), confirmed), unknown)
				}
			}
		}
	}
	applyDetails(tx, src.Details, confirmed, unknown)
}

func applyDetails(tx *model.Tx, details map[string]*smartview.AssetDetails, confirmed time.Time, unknown *int) {
	for _, d := range details {
		for i := range d.Tags {
			count(tx.SetTag(d.Tags[i].TagID, ingest.Tag(&d.Tags[i]), confirmed), unknown)
		}
	}
}

// applyEnvironment records environment readings; a location no hierarchy
// lists is discovered, under the zone, cage and cabinet the reading names.
func applyEnvironment(tx *model.Tx, list []smartview.Environment, confirmed time.Time, unknown *int) {
	for i := range list {
		e := &list[i]
		chain, why := ingest.EnvironmentPlaces(e)
		if why != 0 {
			tx.Unplaceable(why, fmt.Sprintf("environment reading (zone %q, cage %q, cabinet %q, sensor %q)", e.Zone, e.Cage, e.Cabinet, e.Sensor))
			*unknown++
			continue
		}
		tx.Discover(model.OriginReading, chain...)
		count(tx.SetEnvironment(chain[len(chain)-1], ingest.Environment(e), confirmed), unknown)
	}
}

// applyPower records power readings, discovering their locations likewise.
func applyPower(tx *model.Tx, list []smartview.Power, confirmed time.Time, unknown *int) {
	for i := range list {
		p := &list[i]
		chain, why := ingest.PowerPlaces(p)
		if why != 0 {
			tx.Unplaceable(why, fmt.Sprintf("power reading (ibx %q, levelType %q, levelValue %q)", p.IBX, p.LevelType, p.LevelValue))
			*unknown++
			continue
		}
		tx.Discover(model.OriginReading, chain...)
		count(tx.SetPower(chain[len(chain)-1], ingest.Power(p), confirmed), unknown)
	}
}

// count counts a reading the structure does not know; other errors cannot
// happen on these setters.
func count(err error, unknown *int) {
	if errors.Is(err, model.ErrUnknown) {
		*unknown++
	}
}

// values reads every IBX's readings and alarms; each call's answer is applied
// in its own batch as soon as it arrives.
func (c *cycle) values() {
	snap := c.p.store.Snapshot()
	for _, ibx := range c.p.ibxs {
		for _, level := range c.p.cfg.PowerLevels {
			c.goCall("power_list", func(ctx context.Context) error {
				list, err := c.p.client.PowerList(ctx, ibx, level)
				if err == nil {
					c.apply("power", func(tx *model.Tx, unknown *int) { applyPower(tx, list, c.confirmed(), unknown) })
				}
				return err
			}, func() { c.markStale(ibx, model.KindPower) })
		}
		for _, level := range c.p.cfg.EnvironmentLevels {
			if src := c.fetchedSources(ibx); src != nil && level == model.LevelSensor.String() {
				continue // read with the structure this cycle
			}
			c.goCall("environment_list", func(ctx context.Context) error {
				list, err := c.p.client.EnvironmentList(ctx, ibx, level)
				if err == nil {
					c.apply("environment", func(tx *model.Tx, unknown *int) { applyEnvironment(tx, list, c.confirmed(), unknown) })
				}
				return err
			}, func() { c.markStale(ibx, model.KindEnvironment) })
		}
		if c.fetchedSources(ibx) == nil { // else the structure phase read lists and details
			c.assetValues(snap.Structure(), ibx)
		}
		c.goCall("alarms", func(ctx context.Context) error { return c.alarms(ctx, ibx) }, nil)
	}
}

func (c *cycle) fetchedSources(ibx string) *ingest.IBXSources {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetched[ibx]
}

// assetValues reads the asset lists (asset states) and the details of the
// IBX's known assets (tag readings) in batches.
func (c *cycle) assetValues(st *model.Structure, ibx string) {
	from, to := st.IBXAssets(ibx)
	byClass := map[string][]string{}
	for i := from; i < to; i++ {
		a := st.Asset(i)
		byClass[a.Classification] = append(byClass[a.Classification], a.ID)
	}
	for _, class := range classifications {
		c.goCall("asset_list", func(ctx context.Context) error {
			list, err := c.p.client.AssetList(ctx, ibx, class, nil)
			if err == nil {
				src := &ingest.IBXSources{IBX: ibx, Lists: []*smartview.AssetList{list}}
				c.apply("assets", func(tx *model.Tx, unknown *int) { applyAssets(tx, src, c.confirmed(), unknown) })
			}
			return err
		}, func() { c.markStale(ibx, model.KindAssets) })
		ids := byClass[class]
		for start := 0; start < len(ids); start += c.p.cfg.BatchSize {
			chunk := ids[start:min(start+c.p.cfg.BatchSize, len(ids))]
			c.goCall("asset_details_batch", func(ctx context.Context) error {
				details, err := c.p.client.AssetDetailsBatch(ctx, ibx, class, chunk)
				if err == nil {
					byID := make(map[string]*smartview.AssetDetails, len(details))
					for i := range details {
						byID[details[i].AssetID] = &details[i]
					}
					c.apply("tags", func(tx *model.Tx, unknown *int) { applyDetails(tx, byID, c.confirmed(), unknown) })
				}
				return err
			}, func() { c.markStale(ibx, model.KindTags) })
		}
	}
}

// alarms reads every page of ibx's alarms, records each sighting and, when
// the listing was complete, clears the alarms it no longer contains.
func (c *cycle) alarms(ctx context.Context, ibx string) error {
	started := time.Now()
	list, err := c.p.client.Alarms(ctx, smartview.AlarmQuery{IBX: ibx})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	c.apply("alarms", func(tx *model.Tx, _ *int) {
		for i := range list.Alarms {
			a := &list.Alarms[i]
			if a.IBX == "" {
				a.IBX = ibx
			}
			if a.IBX != ibx { // the API may list other IBXs' alarms: those are theirs to poll
				continue
			}
			o := ingest.Alarm(a)
			seen[o.Key()] = true
			tx.Discover(model.OriginAlarm, o.Places()...)
			tx.ObserveAlarm(o, "poll")
		}
		if list.Complete {
			tx.ReconcileAlarms(ibx, seen, started)
		}
	})
	return nil
}
