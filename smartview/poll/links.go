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

// linkBase is what the poller keeps of an IBX's last structure read for the
// links pass: the structure built from it without the links, and the links
// last read. The decoded answers themselves are not kept (~60 MB in the
// large profile): the structure is all a links pass needs to rebuild.
type linkBase struct {
	structure model.IBXStructure // from ingest.Unlinked
	links     ingest.Links
}

// linked is the IBX's structure with its links.
func (b *linkBase) linked() model.IBXStructure { return ingest.Link(b.structure, b.links) }

// linksOf returns the links last read for an IBX's assets.
func (p *Poller) linksOf(ibx string) ingest.Links {
	p.mu.Lock()
	defer p.mu.Unlock()
	if base := p.sources[ibx]; base != nil {
		return base.links
	}
	return ingest.Links{}
}

// RefreshLinks reads the affected locations of every asset whose IBX's
// structure has been read, and applies them in one batch.
func (p *Poller) RefreshLinks(ctx context.Context) Result {
	started := time.Now()
	c := newCycle(p, ctx, false)
	p.mu.Lock()
	bases := make(map[string]*linkBase, len(p.sources))
	for ibx, base := range p.sources {
		bases[ibx] = base
	}
	p.mu.Unlock()

	updated := make(map[string]ingest.Links, len(bases))
	var mu sync.Mutex
	for ibx, base := range bases {
		table := base.links.Table // the IBX's locations: the same entries from pass to pass
		if table == nil {
			table = model.NewLocationTable()
		}
		links := make(map[string]model.LocationList, len(base.links.ByAsset))
		for id, l := range base.links.ByAsset { // last known, replaced as answers arrive
			links[id] = l
		}
		nested := make(map[int32]int32, len(base.links.Parents))
		for id, p := range base.links.Parents {
			nested[id] = p
		}
		updated[ibx] = ingest.Links{Table: table, ByAsset: links, Parents: nested}
		for _, a := range base.structure.Assets {
			id, class := a.ID, a.Classification
			c.goCall("affected_assets", func(ctx context.Context) error {
				a, err := p.client.AffectedAssets(ctx, ibx, class, id)
				if err == nil {
					mu.Lock()
					links[id] = ingest.Affected(ibx, a, table, nested) // keep the compact form, not the answer
					mu.Unlock()
				}
				return err
			})
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
		base := &linkBase{structure: bases[ibx].structure, links: links}
		if p.sources[ibx] == bases[ibx] { // not replaced by a newer structure read meanwhile
			p.sources[ibx] = base
		}
		structures[ibx] = base.linked()
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
