package topology

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// prior is a component as it was before an Apply first touched it.
type prior struct {
	existed bool
	scope   *holder
	comp    model.Component
	data    []byte
}

// Apply merges snapshots into the graph as one change caused by cause (e.g.
// "scan"), records versions for everything that changed, persists the change
// and returns the versions. Its cost follows the size of the snapshots and
// of what changed, not the size of the graph.
func (g *Graph) Apply(ctx context.Context, cause string, snaps []model.Snapshot) ([]model.Version, error) {
	return g.ApplyBy(ctx, cause, "", snaps)
}

// ApplyBy is Apply for a change someone made: actor (a CloudTrail user
// identity ARN, say) is recorded in every version.
func (g *Graph) ApplyBy(ctx context.Context, cause, actor string, snaps []model.Snapshot) ([]model.Version, error) {
	return g.ApplyLabelled(ctx, cause, func(v *model.Version) { v.Actor = actor }, snaps)
}

// ApplyLabelled is Apply where label may set each version's Cause and Actor
// before the change is committed: several events applied at once give each
// change to the event that asked for it.
func (g *Graph) ApplyLabelled(ctx context.Context, cause string, label func(v *model.Version), snaps []model.Snapshot) ([]model.Version, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now().UTC()

	priors := map[string]prior{}
	oldRes := map[string]uint32{} // identifiers that may resolve elsewhere now
	mark := func(idents ...string) {
		for _, x := range idents {
			if _, ok := oldRes[x]; !ok {
				oldRes[x] = g.resolve(x)
			}
		}
	}
	remember := func(id string) {
		if _, ok := priors[id]; ok {
			return
		}
		n, ok := g.byID[id]
		if !ok {
			priors[id] = prior{}
			return
		}
		nd := g.nodes[n]
		priors[id] = prior{existed: true, scope: nd.scope, comp: nd.comp, data: nd.data}
	}
	var dead []uint32
	fresh := map[string]model.Component{} // what was put, with its Data

	// covered holds, for each targeted snapshot (Only), every id and
	// identifier of the resources it covered, before and after: the ends
	// of the relations it replaces.
	covered := make([]map[string]struct{}, len(snaps))
	drop := func(n uint32) {
		nd := g.nodes[n]
		mark(nd.comp.ID)
		mark(nd.comp.Identifiers...)
		remember(nd.comp.ID)
		g.remove(n)
		dead = append(dead, n)
	}

	// Components first, so that relations resolve against the new state.
	for i, s := range snaps {
		h := g.holder(s.Scope)
		targeted := !s.Complete && len(s.Only) > 0
		var seen map[string]struct{}
		if s.Complete || targeted {
			seen = make(map[string]struct{}, len(s.Components))
		}
		var cov map[string]struct{}
		if targeted {
			cov = make(map[string]struct{}, 4*len(s.Only))
			covered[i] = cov
			for _, ref := range s.Only {
				cov[ref] = struct{}{}
			}
		}
		cover := func(c model.Component) {
			if cov != nil {
				cov[c.ID] = struct{}{}
				for _, x := range c.Identifiers {
					cov[x] = struct{}{}
				}
			}
		}
		for _, c := range s.Components {
			c = Normalize(c)
			if seen != nil {
				seen[c.ID] = struct{}{}
			}
			cover(c)
			data := encodeData(c.Data)
			// Health is SetHealth's: a scan keeps what it found.
			c.Health, c.HealthReasons = "", nil
			if n, ok := g.byID[c.ID]; ok {
				nd := g.nodes[n]
				c.Health, c.HealthReasons = nd.comp.Health, nd.comp.HealthReasons
				cover(nd.comp)
				if nd.scope == h && sameComponent(nd.comp, c) && bytes.Equal(nd.data, data) {
					continue
				}
				mark(nd.comp.Identifiers...)
			}
			mark(c.ID)
			mark(c.Identifiers...)
			remember(c.ID)
			g.put(h, c, data)
			fresh[c.ID] = c
		}
		switch {
		case s.Complete:
			for n := range h.ids {
				if _, ok := seen[g.nodes[n].comp.ID]; !ok {
					drop(n)
				}
			}
		case targeted:
			for _, ref := range s.Only {
				n := g.resolve(ref)
				if n == 0 || g.nodes[n].scope != h {
					continue
				}
				if _, ok := seen[g.nodes[n].comp.ID]; !ok {
					cover(g.nodes[n].comp)
					drop(n)
				}
			}
		}
	}

	// Raw relations whose ends now resolve elsewhere move.
	touched := map[edgeKey]*model.Relation{}
	moved := map[*contrib]bool{}
	for x, was := range oldRes {
		if g.resolve(x) == was {
			continue
		}
		var affected []*contrib
		if was == 0 {
			affected = append(affected, g.pending[x]...)
		} else {
			nd := g.nodes[was]
			for _, cb := range nd.out {
				if cb.rel.Source == x {
					affected = append(affected, cb)
				}
			}
			for _, cb := range nd.in {
				if cb.rel.Target == x {
					affected = append(affected, cb)
				}
			}
		}
		for _, cb := range affected {
			if !moved[cb] {
				moved[cb] = true
				g.detach(cb, touched)
				g.attach(cb, touched)
			}
		}
	}

	// Then each scope's raw relations.
	ch := Change{Relations: map[model.Scope]RelationDiff{}}
	priorRels := map[*holder][]model.Relation{}
	for i, s := range snaps {
		cov := covered[i]
		if !s.Complete && cov == nil && len(s.Relations) == 0 {
			continue
		}
		h := g.holder(s.Scope)
		if _, ok := priorRels[h]; !ok {
			priorRels[h] = h.raw()
		}
		rels := s.Relations
		if !s.Complete {
			kept := h.raw()
			if cov != nil {
				kept = slices.DeleteFunc(kept, func(r model.Relation) bool {
					if _, ok := cov[r.Source]; ok {
						return true
					}
					// A relation to a covered resource from outside the
					// scope (VPC -> its security group) is the covered
					// resource's too.
					_, ok := cov[r.Target]
					return ok && !g.ownedBy(r.Source, h)
				})
			}
			rels = append(kept, s.Relations...)
		}
		var d RelationDiff
		g.setRelations(h, rels, touched, &d)
		if prev, ok := ch.Relations[s.Scope]; ok {
			d = prev.then(d)
		}
		ch.Relations[s.Scope] = d
	}

	versions, upserted, deleted := g.componentChanges(now, cause, priors, fresh)
	ch.Upserted, ch.Deleted = upserted, deleted
	versions = append(versions, g.relationChanges(now, cause, touched)...)
	if label != nil {
		for i := range versions {
			label(&versions[i])
		}
	}
	ch.Versions = versions

	if g.store != nil {
		if err := g.store.Commit(ctx, ch); err != nil {
			g.rollback(priors, priorRels)
			return nil, fmt.Errorf("commit topology change: %w", err)
		}
	}
	for _, n := range dead {
		if nd := g.nodes[n]; nd != nil && nd.dead && len(nd.out)+len(nd.in) == 0 {
			g.nodes[n] = nil
			g.free = append(g.free, n)
		}
	}
	return versions, nil
}

// ownedBy tells whether ref names a component h owns.
func (g *Graph) ownedBy(ref string, h *holder) bool {
	n := g.resolve(ref)
	return n != 0 && g.nodes[n].scope == h
}

// componentChanges compares the touched components with their priors.
func (g *Graph) componentChanges(now time.Time, cause string, priors map[string]prior, fresh map[string]model.Component) ([]model.Version, []Owned, []string) {
	ids := make([]string, 0, len(priors))
	for id := range priors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var (
		versions []model.Version
		upserted []Owned
		deleted  []string
	)
	for _, id := range ids {
		p := priors[id]
		n, live := g.byID[id]
		switch {
		case !live && !p.existed:
			continue
		case !live:
			old := p.comp
			old.Data = decodeData(p.data)
			versions = append(versions, componentVersion(now, cause, model.Deleted, &old, nil))
			deleted = append(deleted, id)
			continue
		}
		nd := g.nodes[n]
		cur, ok := fresh[id]
		if !ok {
			cur = nd.full()
		} else {
			cur.Type, cur.Account, cur.Region, cur.Layer, cur.Environment, cur.Labels =
				nd.comp.Type, nd.comp.Account, nd.comp.Region, nd.comp.Layer, nd.comp.Environment, nd.comp.Labels
		}
		switch {
		case !p.existed:
			versions = append(versions, model.Version{Time: now, Entity: EntityComponent, ID: id, Change: model.Created,
				Cause: cause, State: componentJSON(nd.comp, nd.data)})
		case !sameComponent(p.comp, nd.comp) || !bytes.Equal(p.data, nd.data):
			old := p.comp
			old.Data = decodeData(p.data)
			versions = append(versions, componentVersion(now, cause, model.Updated, &old, &cur))
		case p.scope == nd.scope:
			continue // removed and re-added unchanged
		}
		// Changed, or unchanged content that moved scope (persisted, no version).
		upserted = append(upserted, Owned{Scope: nd.scope.scope, Component: cur})
	}
	return versions, upserted, deleted
}

// relationChanges compares the touched edges with their state before. Edges
// are compared by their ends' ids, so a component that moved scope (and
// node) keeps its relations without a version.
func (g *Graph) relationChanges(now time.Time, cause string, touched map[edgeKey]*model.Relation) []model.Version {
	before := map[model.RelationKey]model.Relation{}
	after := map[model.RelationKey]model.Relation{}
	for k, was := range touched {
		if was != nil {
			before[was.Key()] = *was
		}
		if cur := g.winner(k); cur != nil {
			after[cur.Key()] = *cur
		}
	}
	return relationVersions(now, cause, before, after)
}

// rollback restores the graph as it was before an Apply whose commit
// failed, by rebuilding it: a rare path, so it favours certainty over speed.
func (g *Graph) rollback(priors map[string]prior, priorRels map[*holder][]model.Relation) {
	var comps []Owned
	for _, nd := range g.nodes {
		if nd == nil || nd.dead {
			continue
		}
		if _, ok := priors[nd.comp.ID]; ok {
			continue
		}
		comps = append(comps, Owned{Scope: nd.scope.scope, Component: nd.full()})
	}
	for _, p := range priors {
		if p.existed {
			c := p.comp
			c.Data = decodeData(p.data)
			comps = append(comps, Owned{Scope: p.scope.scope, Component: c})
		}
	}
	rels := map[model.Scope][]model.Relation{}
	for sc, h := range g.owned {
		if old, ok := priorRels[h]; ok {
			rels[sc] = old
		} else {
			rels[sc] = h.raw()
		}
	}
	g.reset()
	g.load(comps, rels)
}

func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
