package topology

import (
	"slices"
	"sort"
	"strings"

	"github.com/skymap/skymap/internal/model"
)

// Lookup returns the component known by ref: its id or any identifier.
func (g *Graph) Lookup(ref string) (model.Component, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.resolve(ref)
	if n == 0 {
		return model.Component{}, false
	}
	return g.nodes[n].full(), true
}

// Components returns every component, sorted by id.
func (g *Graph) Components() []model.Component {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]model.Component, 0, len(g.byID))
	for _, n := range g.byID {
		out = append(out, g.nodes[n].full())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Select returns the components keep accepts, sorted by id, from offset on
// and at most limit of them (limit < 0: all), and how many keep accepted in
// all. keep sees each component without its Data, which is decoded only for
// the components returned.
func (g *Graph) Select(keep func(model.Component) bool, offset, limit int) ([]model.Component, int) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []model.Component
	total := 0
	for _, n := range g.order() {
		nd := g.nodes[n]
		if keep != nil && !keep(nd.comp) {
			continue
		}
		if total >= offset && (limit < 0 || len(out) < limit) {
			out = append(out, nd.full())
		}
		total++
	}
	if out == nil {
		out = []model.Component{}
	}
	return out, total
}

// order returns the node numbers of the components in id order, made
// once after the components change: a page of Select walks it instead of
// sorting every match. The caller holds mu for reading.
func (g *Graph) order() []uint32 {
	g.sortedMu.Lock()
	defer g.sortedMu.Unlock()
	if g.sorted == nil {
		ns := make([]uint32, 0, len(g.byID))
		for _, n := range g.byID {
			ns = append(ns, n)
		}
		slices.SortFunc(ns, func(a, b uint32) int { return strings.Compare(g.nodes[a].comp.ID, g.nodes[b].comp.ID) })
		g.sorted = ns
	}
	return g.sorted
}

// Len returns the number of components.
func (g *Graph) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.byID)
}

// Relations returns the relations whose two ends are known, with both ends
// written as component ids, sorted by source, target and type.
func (g *Graph) Relations() []model.Relation {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]model.Relation, 0, len(g.edges))
	for k := range g.edges {
		out = append(out, *g.winner(k))
	}
	return sortRelations(out)
}

// RelationCount returns how many relations have both ends known.
func (g *Graph) RelationCount() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.edges)
}

// Neighbours returns the relations from and to the component known by ref,
// ends written as component ids, sorted; false when ref is unknown. It costs
// in proportion to the component's relations, not the graph's.
func (g *Graph) Neighbours(ref string) (out, in []model.Relation, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.resolve(ref)
	if n == 0 {
		return nil, nil, false
	}
	nd := g.nodes[n]
	return g.edgesOf(nd.out), g.edgesOf(nd.in), true
}

func (g *Graph) edgesOf(cbs []*contrib) []model.Relation {
	seen := make(map[edgeKey]bool, len(cbs))
	out := make([]model.Relation, 0, len(cbs))
	for _, cb := range cbs {
		k := cb.key
		if k.src == k.dst || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, *g.winner(k))
	}
	return sortRelations(out)
}

// Pending returns the relations still waiting for one or both ends, as
// emitted, sorted.
func (g *Graph) Pending() []model.Relation {
	g.mu.RLock()
	defer g.mu.RUnlock()
	// Several scopes may give one relation: the same one wins as among
	// resolved relations, whatever the order they were seen in.
	best := map[model.RelationKey]*contrib{}
	for _, cbs := range g.pending {
		for _, cb := range cbs {
			k := cb.rel.Key()
			if b, ok := best[k]; !ok || later(cb, b) {
				best[k] = cb
			}
		}
	}
	out := make([]model.Relation, 0, len(best))
	for _, cb := range best {
		out = append(out, cb.rel)
	}
	return sortRelations(out)
}

// PendingCount returns how many relations wait for an end.
func (g *Graph) PendingCount() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	seen := map[*contrib]bool{}
	for _, cbs := range g.pending {
		for _, cb := range cbs {
			seen[cb] = true
		}
	}
	return len(seen)
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
