package poll

import (
	"context"
	"sync"
	"time"

	"github.com/svgateway/svgateway/model"
	"github.com/svgateway/svgateway/smartview/ingest"
)

// The affected-assets endpoint answers for one asset at a time, so the links
// from assets to the cages, cabinets and circuits they serve cost one call
// per asset (10,000 in the large profile). They are read by a pass of their
// own after the structure, so that readiness and the readings never wait for
// them, and applied as one structure change when the pass is over. Links
// already known are kept until they are read again, and kept for an asset
// whose call fails.

// linksOf returns the links last read for an IBX's assets.
func (p *Poller) linksOf(ibx string) ingest.Links {
	p.mu.Lock()
	defer p.mu.Unlock()
	if src := p.sources[ibx]; src != nil && src.Links.ByAsset != nil {
		return src.Links
	}
	return ingest.Links{}
}

// RefreshLinks reads the affected locations of every asset whose IBX's
// structure has been read, and applies them in one batch.
func (p *Poller) RefreshLinks(ctx context.Context) Result {
	started := time.Now()
	c := newCycle(p, ctx, false)
	p.mu.Lock()
	sources := make(map[string]*ingest.IBXSources, len(p.sources))
	for ibx, src := range p.sources {
		sources[ibx] = src
	}
	p.mu.Unlock()

	updated := make(map[string]ingest.Links, len(sources))
	var mu sync.Mutex
	for ibx, src := range sources {
		table := src.Links.Table // the IBX's locations: the same entries from pass to pass
		if table == nil {
			table = model.NewLocationTable()
		}
		links := make(map[string]model.LocationList, len(src.Links.ByAsset))
		for id, l := range src.Links.ByAsset { // last known, replaced as answers arrive
			links[id] = l
		}
		nested := make(map[model.LocationID]model.LocationID, len(src.Links.Parents))
		for id, p := range src.Links.Parents {
			nested[id] = p
		}
		updated[ibx] = ingest.Links{Table: table, ByAsset: links, Parents: nested}
		for _, list := range src.Lists {
			if list == nil {
				continue
			}
			for _, id := range assetIDs(list) {
				c.goCall("affected_assets", func(ctx context.Context) error {
					a, err := p.client.AffectedAssets(ctx, ibx, list.Classification, id)
					if err == nil {
						mu.Lock()
						links[id] = ingest.Affected(ibx, a, table, nested) // keep the compact form, not the answer
						mu.Unlock()
					}
					return err
				})
			}
		}
	}
	c.wg.Wait()
	for _, links := range updated {
		links.Table.Done() // until the next pass
	}
	if ctx.Err() != nil {
		return c.result
	}

	structures := map[string]model.IBXStructure{}
	p.mu.Lock()
	for ibx, links := range updated {
		for id, l := range links.ByAsset { // the table's arrays it outgrew during the pass can go
			links.ByAsset[id] = l.Latest()
		}
		src := *sources[ibx]
		src.Links = links
		if p.sources[ibx] == sources[ibx] { // not replaced by a newer structure read meanwhile
			p.sources[ibx] = &src
		}
		structures[ibx] = ingest.Structure(&src)
	}
	p.mu.Unlock()
	c.apply("links", func(tx *model.Tx, _ *int) {
		for _, w := range tx.SetStructure(structures) {
			p.log.Debug("structure", "fixed", w)
		}
	})
	p.metrics.cycle("links", time.Since(started), c.result.Failed == 0)
	p.log.Info("asset links read", "calls", c.result.Calls, "failed", c.result.Failed, "duration", time.Since(started).Round(time.Millisecond))
	return c.result
}
