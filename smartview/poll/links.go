package poll

import (
	"context"
	"slices"
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
// links pass: the assets to ask for links, and the links last read. Neither
// the decoded answers (~60 MB in the large profile) nor the structure built
// from them is kept: the pass gives the links to the model, which adds them
// to the structure it has (model.Tx.SetLinks).
type linkBase struct {
	assets []assetRef
	links  ingest.Links
}

// assetRef names an asset for the affected-assets call.
type assetRef struct{ id, classification string }

// newLinkBase lists the assets of src, in the order of its lists, with the
// links last read.
func newLinkBase(src *ingest.IBXSources, links ingest.Links) *linkBase {
	b := &linkBase{links: links}
	for _, list := range src.Lists {
		if list == nil {
			continue
		}
		for _, id := range assetIDs(list) {
			b.assets = append(b.assets, assetRef{id, list.Classification})
		}
	}
	b.assets = slices.Clip(b.assets)
	return b
}

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
	p.before()
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
		for _, a := range base.assets {
			id, class := a.id, a.classification
			c.goCall("affected_assets", func(ctx context.Context) error {
				a, err := p.client.AffectedAssets(ctx, ibx, class, id)
				if err == nil {
					mu.Lock()                                   // nested is shared by the IBX's calls
					l := ingest.Affected(ibx, a, table, nested) // keep the compact form, not the answer
					if last := links[id]; last.Table() == table && last.Equal(l) {
						// Unchanged: keep the list the model already holds
						// (SetLinks keeps it, equal), not a second copy.
						l = last
					}
					links[id] = l
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

	p.mu.Lock()
	for ibx, links := range updated {
		for id, l := range links.ByAsset { // the table's arrays it outgrew during the pass can go
			links.ByAsset[id] = l.Latest()
		}
		// The newest links, also for a structure read applied meanwhile (its
		// assets, which SetLinks below reads from the model as well).
		if cur := p.sources[ibx]; cur != nil {
			p.sources[ibx] = &linkBase{assets: cur.assets, links: links}
		}
	}
	p.mu.Unlock()
	byIBX := make(map[string]model.IBXLinks, len(updated))
	for ibx, links := range updated {
		byIBX[ibx] = model.IBXLinks{ByAsset: links.ByAsset, NestedIn: links.Parent}
	}
	c.apply("links", func(tx *model.Tx, _ *int) {
		for _, w := range tx.SetLinks(byIBX) { // one rebuild for every IBX
			p.log.Debug("structure", "fixed", w)
		}
	})
	p.metrics.cycle("links", time.Since(started), c.result.Failed == 0)
	p.log.Info("asset links read", "calls", c.result.Calls, "failed", c.result.Failed, "duration", time.Since(started).Round(time.Millisecond))
	return c.result
}
