package topology

import (
	"sort"

	"github.com/skymap/skymap/internal/model"
)

// Lookup returns the component known by ref: its id or any identifier.
func (g *Graph) Lookup(ref string) (model.Component, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	id, ok := g.resolve(ref)
	if !ok {
		return model.Component{}, false
	}
	return g.comps[id].comp, true
}

// Components returns every component, sorted by id.
func (g *Graph) Components() []model.Component {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]model.Component, 0, len(g.comps))
	for _, e := range g.comps {
		out = append(out, e.comp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Len returns the number of components.
func (g *Graph) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.comps)
}

// Relations returns the relations whose two ends are known, with both ends
// written as component ids, sorted by source, target and type.
func (g *Graph) Relations() []model.Relation {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return sortedRelations(g.resolved())
}

// Pending returns the relations still waiting for one or both ends, as
// emitted, sorted.
func (g *Graph) Pending() []model.Relation {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []model.Relation
	seen := map[model.RelationKey]bool{}
	for _, h := range g.owned {
		for _, r := range h.relations {
			_, okS := g.resolve(r.Source)
			_, okT := g.resolve(r.Target)
			if (!okS || !okT) && !seen[r.Key()] {
				seen[r.Key()] = true
				out = append(out, r)
			}
		}
	}
	return sortRelations(out)
}

// resolved computes the relations whose ends both resolve, keyed by their
// resolved identity. Relations from a component to itself are dropped.
// The caller holds g.mu.
func (g *Graph) resolved() map[model.RelationKey]model.Relation {
	out := map[model.RelationKey]model.Relation{}
	scopes := make([]model.Scope, 0, len(g.owned))
	for sc := range g.owned {
		scopes = append(scopes, sc)
	}
	// A fixed order makes the winner among duplicates deterministic.
	sort.Slice(scopes, func(i, j int) bool { return scopes[i].String() < scopes[j].String() })
	for _, sc := range scopes {
		for _, r := range g.owned[sc].relations {
			src, okS := g.resolve(r.Source)
			dst, okT := g.resolve(r.Target)
			if !okS || !okT || src == dst {
				continue
			}
			rr := model.Relation{Source: src, Target: dst, Type: r.Type, Data: r.Data}
			if rr.Data == nil {
				rr.Data = map[string]any{}
			}
			out[rr.Key()] = rr
		}
	}
	return out
}

func sortedRelations(m map[model.RelationKey]model.Relation) []model.Relation {
	out := make([]model.Relation, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return sortRelations(out)
}

// sortRelations sorts out by source, target and type; nil becomes empty.
func sortRelations(out []model.Relation) []model.Relation {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Type < b.Type
	})
	if out == nil {
		out = []model.Relation{}
	}
	return out
}
