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

// structureRead is one IBX's structure read in progress. What succeeded is
// kept when other calls fail: the next cycle reads only what is missing.
type structureRead struct {
	src     *ingest.IBXSources
	mu      sync.Mutex
	got     map[string]bool // parts read: location, power, sensors, list/<classification>
	details map[string]bool // assets whose details batch succeeded
}

func newStructureRead(ibx string) *structureRead {
	return &structureRead{src: &ingest.IBXSources{IBX: ibx, Lists: make([]*smartview.AssetList, len(classifications)),
		Details: map[string]*smartview.AssetDetails{}}, got: map[string]bool{}, details: map[string]bool{}}
}

func (sr *structureRead) has(part string) bool {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return sr.got[part]
}

func (sr *structureRead) done(part string) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	sr.got[part] = true
}

// missingDetails returns the listed assets whose details were not read yet.
func (sr *structureRead) missingDetails(list *smartview.AssetList) []string {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	var ids []string
	for _, id := range assetIDs(list) {
		if !sr.details[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// structure reads the hierarchies, asset lists, asset details, affected
// locations and sensors of every IBX (only the missing parts of a read that
// an earlier cycle left unfinished; a retry reads nothing else), then replaces the structure of the IBXs whose read is
// complete in one batch, with the values those calls returned. An IBX whose
// read is incomplete keeps its old structure until a later cycle completes it.
func (c *cycle) structure() {
	c.p.before()
	c.p.mu.Lock()
	var reads []*structureRead
	for _, ibx := range c.p.ibxs {
		sr := c.p.partial[ibx]
		switch {
		case c.retry && sr == nil:
			continue
		case sr == nil: // a full read starts afresh; an unfinished one goes on
			sr = newStructureRead(ibx)
			c.p.partial[ibx] = sr
		}
		reads = append(reads, sr)
	}
	c.p.mu.Unlock()

	var wg sync.WaitGroup
	complete := make([]bool, len(reads))
	for i, sr := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			complete[i] = c.fetchStructure(sr)
		}()
	}
	wg.Wait()
	var parts []*ingest.IBXSources
	structures := map[string]model.IBXStructure{}
	bases := map[string]*linkBase{}
	for i, sr := range reads {
		if complete[i] {
			// Links are read by the links pass; until it reads this IBX's
			// again, keep the last ones known.
			sr.src.Links = c.p.linksOf(sr.src.IBX)
			parts = append(parts, sr.src)
			bases[sr.src.IBX] = newLinkBase(sr.src, sr.src.Links)
			structures[sr.src.IBX] = ingest.Structure(sr.src)
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
			applyAssets(tx, src, c.confirmed(), unknown)
			applyEnvironment(tx, src.Sensors, c.confirmed(), unknown)
		}
	})
	c.mu.Lock()
	for _, src := range parts {
		c.fetched[src.IBX] = src
	}
	c.mu.Unlock()
	c.p.mu.Lock()
	for _, src := range parts {
		c.p.sources[src.IBX] = bases[src.IBX]
		delete(c.p.partial, src.IBX)
	}
	c.p.mu.Unlock()
}

// confirmed is the confirmation time recorded for what this cycle read.
func (c *cycle) confirmed() time.Time { return time.Now() }

// fetchStructure reads what sr is missing; it reports whether sr is complete.
func (c *cycle) fetchStructure(sr *structureRead) bool {
	ibx, src := sr.src.IBX, sr.src
	var mu sync.Mutex
	failed := false
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
	once := func(part, endpoint string, fn func(ctx context.Context) error) {
		if sr.has(part) {
			return
		}
		run(endpoint, func(ctx context.Context) error {
			if err := fn(ctx); err != nil {
				return err
			}
			sr.done(part)
			return nil
		})
	}
	once("location", "location_hierarchy", func(ctx context.Context) error {
		l, err := c.p.client.LocationHierarchy(ctx, ibx)
		src.Location = l
		return err
	})
	once("power", "power_hierarchy", func(ctx context.Context) error {
		l, err := c.p.client.PowerHierarchy(ctx, ibx)
		src.Power = l
		return err
	})
	if hasLevel(c.p.cfg.EnvironmentLevels, model.LevelSensor) {
		once("sensors", "environment_list", func(ctx context.Context) error {
			l, err := c.p.client.EnvironmentList(ctx, ibx, model.LevelSensor.String())
			src.Sensors = l
			return err
		})
	}
	details := func(class string, list *smartview.AssetList) {
		ids := sr.missingDetails(list)
		for from := 0; from < len(ids); from += c.p.cfg.BatchSize {
			chunk := ids[from:min(from+c.p.cfg.BatchSize, len(ids))]
			run("asset_details_batch", func(ctx context.Context) error {
				got, err := c.p.client.AssetDetailsBatch(ctx, ibx, class, chunk)
				if err != nil {
					return err
				}
				sr.mu.Lock()
				for j := range got {
					src.Details[got[j].AssetID] = &got[j]
				}
				for _, id := range chunk {
					sr.details[id] = true
				}
				sr.mu.Unlock()
				return nil
			})
		}
	}
	for i, class := range classifications {
		if sr.has("list/" + class) {
			details(class, src.Lists[i])
			continue
		}
		once("list/"+class, "asset_list", func(ctx context.Context) error {
			list, err := c.p.client.AssetList(ctx, ibx, class, nil)
			if err != nil {
				return err
			}
			src.Lists[i] = list
			details(class, list)
			return nil
		})
	}
	wg.Wait()
	return !failed
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

// applyChunks applies a list read in chunks (see
// smartview.Client.PowerListChunks) in its order, as apply applies the list
// joined.
func applyChunks[T any](tx *model.Tx, chunks [][]T, confirmed time.Time, unknown *int, apply func(*model.Tx, []T, time.Time, *int)) {
	for _, chunk := range chunks {
		apply(tx, chunk, confirmed, unknown)
	}
}

// count counts a reading the structure does not know; other errors cannot
// happen on these setters.
func count(err error, unknown *int) {
	if errors.Is(err, model.ErrUnknown) {
		*unknown++
	}
}

// part is one values call: what it reads, for which IBX.
type part struct {
	ibx  string
	call string   // the endpoint
	arg  string   // level type or classification
	ids  []string // the assets of a details batch
}

func (pt part) key() string {
	k := pt.ibx + "/" + pt.call + "/" + pt.arg
	if len(pt.ids) > 0 {
		k += "/" + pt.ids[0]
	}
	return k
}

// values reads every IBX's readings and alarms (a retry: only the calls that
// failed last); each call's answer is applied in its own batch as soon as it
// arrives.
func (c *cycle) values() {
	var parts []part
	c.p.mu.Lock()
	if c.retry {
		for _, pt := range c.p.failed {
			parts = append(parts, pt)
		}
	} else {
		clear(c.p.failed) // every part is read again
	}
	c.p.mu.Unlock()
	if !c.retry {
		parts = c.allParts()
	}
	for _, pt := range parts {
		if c.fetchedSources(pt.ibx) != nil && (pt.call == "asset_list" || pt.call == "asset_details_batch" ||
			(pt.call == "environment_list" && pt.arg == model.LevelSensor.String())) {
			c.p.mu.Lock()
			delete(c.p.failed, pt.key()) // read with the structure this cycle
			c.p.mu.Unlock()
			continue
		}
		c.read(pt)
	}
}

// allParts lists the calls of a full values cycle.
func (c *cycle) allParts() []part {
	st := c.p.store.Snapshot().Structure()
	var parts []part
	for _, ibx := range c.p.ibxs {
		for _, level := range c.p.cfg.PowerLevels {
			parts = append(parts, part{ibx: ibx, call: "power_list", arg: level})
		}
		for _, level := range c.p.cfg.EnvironmentLevels {
			call := "environment_list"
			if level == model.LevelIBX.String() {
				// listCurrent with levelType IBX answers the IBX's zones (as
				// the reference's example shows); the IBX itself is read with
				// current, levelValue = the IBX code.
				call = "environment"
			}
			parts = append(parts, part{ibx: ibx, call: call, arg: level})
		}
		from, to := st.IBXAssets(ibx)
		byClass := map[string][]string{}
		for i := from; i < to; i++ {
			a := st.Asset(i)
			byClass[a.Classification] = append(byClass[a.Classification], a.ID)
		}
		for _, class := range classifications {
			parts = append(parts, part{ibx: ibx, call: "asset_list", arg: class})
			ids := byClass[class]
			for start := 0; start < len(ids); start += c.p.cfg.BatchSize {
				parts = append(parts, part{ibx: ibx, call: "asset_details_batch", arg: class,
					ids: ids[start:min(start+c.p.cfg.BatchSize, len(ids))]})
			}
		}
		parts = append(parts, part{ibx: ibx, call: "alarms"}, part{ibx: ibx, call: "alerts"})
	}
	return parts
}

// read makes one values call and applies its answer; a failure marks what
// it reads stale and keeps the part for the next retry.
func (c *cycle) read(pt part) {
	var stale model.Kinds
	var fn func(ctx context.Context) error
	ibx := pt.ibx
	switch pt.call {
	case "power_list":
		stale = model.KindPower
		fn = func(ctx context.Context) error {
			chunks, err := c.p.client.PowerListChunks(ctx, ibx, pt.arg)
			if err == nil {
				c.apply("power", func(tx *model.Tx, unknown *int) { applyChunks(tx, chunks, c.confirmed(), unknown, applyPower) })
				c.p.client.ReleasePowerChunks(chunks) // applied: the model keeps none of them
			}
			return err
		}
	case "environment":
		stale = model.KindEnvironment
		fn = func(ctx context.Context) error {
			e, err := c.p.client.Environment(ctx, ibx, pt.arg, ibx)
			if err == nil && e.IBX != "" { // {} for an IBX the API does not know
				c.apply("environment", func(tx *model.Tx, unknown *int) {
					applyEnvironment(tx, []smartview.Environment{*e}, c.confirmed(), unknown)
				})
			}
			return err
		}
	case "environment_list":
		stale = model.KindEnvironment
		fn = func(ctx context.Context) error {
			chunks, err := c.p.client.EnvironmentListChunks(ctx, ibx, pt.arg)
			if err == nil {
				c.apply("environment", func(tx *model.Tx, unknown *int) { applyChunks(tx, chunks, c.confirmed(), unknown, applyEnvironment) })
				c.p.client.ReleaseEnvironmentChunks(chunks) // applied: the model keeps none of them
			}
			return err
		}
	case "asset_list":
		stale = model.KindAssets
		fn = func(ctx context.Context) error {
			list, err := c.p.client.AssetList(ctx, ibx, pt.arg, nil)
			if err == nil {
				src := &ingest.IBXSources{IBX: ibx, Lists: []*smartview.AssetList{list}}
				c.apply("assets", func(tx *model.Tx, unknown *int) { applyAssets(tx, src, c.confirmed(), unknown) })
			}
			return err
		}
	case "asset_details_batch":
		stale = model.KindTags
		fn = func(ctx context.Context) error {
			details, err := c.p.client.AssetDetailsBatch(ctx, ibx, pt.arg, pt.ids)
			if err == nil {
				byID := make(map[string]*smartview.AssetDetails, len(details))
				for i := range details {
					byID[details[i].AssetID] = &details[i]
				}
				c.apply("tags", func(tx *model.Tx, unknown *int) { applyDetails(tx, byID, c.confirmed(), unknown) })
			}
			return err
		}
	case "alarms":
		fn = func(ctx context.Context) error { return c.alarms(ctx, ibx) }
	case "alerts":
		fn = func(ctx context.Context) error { return c.alerts(ctx, ibx) }
	}
	// The slot first, then the goroutine (see goCall): a values cycle runs no
	// more goroutines than the bound, not one per part parked on it.
	if c.acquire() != nil {
		return // cancelled: nothing read, nothing recorded (as call)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := c.callHeld(pt.call, fn)
		if c.ctx.Err() != nil {
			return
		}
		c.p.mu.Lock()
		if err != nil {
			c.p.failed[pt.key()] = pt
		} else {
			delete(c.p.failed, pt.key())
		}
		c.p.mu.Unlock()
		if err != nil && stale != 0 {
			c.markStale(ibx, stale)
		}
	}()
}

func (c *cycle) fetchedSources(ibx string) *ingest.IBXSources {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetched[ibx]
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
