package topology

import (
	"slices"

	"github.com/skymap/skymap/internal/model"
)

// attach resolves a raw relation's ends and files it: under its resolved
// edge and on both nodes' adjacency, or as pending under each end that does
// not resolve yet. touched, when not nil, records the edge's state before
// this Apply changed it.
func (g *Graph) attach(cb *contrib, touched map[edgeKey]*model.Relation) {
	src, dst := g.resolve(cb.rel.Source), g.resolve(cb.rel.Target)
	if src == 0 || dst == 0 {
		cb.key = edgeKey{}
		if src == 0 {
			g.pending[cb.rel.Source] = append(g.pending[cb.rel.Source], cb)
			g.shrinkPending()
		}
		if dst == 0 && cb.rel.Target != cb.rel.Source {
			g.pending[cb.rel.Target] = append(g.pending[cb.rel.Target], cb)
		}
		return
	}
	// Keep the graph's copy of each end rather than the caller's: one string
	// per identifier however many relations name it.
	cb.rel.Source, cb.rel.Target = g.nodes[src].canon(cb.rel.Source), g.nodes[dst].canon(cb.rel.Target)
	cb.key = edgeKey{src, dst, g.typeOf(cb.rel.Type)}
	g.nodes[src].out = append(g.nodes[src].out, cb)
	g.nodes[dst].in = append(g.nodes[dst].in, cb)
	if src != dst { // a relation of a component to itself is no edge
		g.touch(cb.key, touched)
		cb.next = g.edges[cb.key]
		g.edges[cb.key] = cb
	}
}

// detach undoes attach.
func (g *Graph) detach(cb *contrib, touched map[edgeKey]*model.Relation) {
	if !cb.key.ok() {
		g.unpend(cb.rel.Source, cb)
		g.unpend(cb.rel.Target, cb)
		return
	}
	k := cb.key
	g.nodes[k.src].out = without(g.nodes[k.src].out, cb)
	g.nodes[k.dst].in = without(g.nodes[k.dst].in, cb)
	if k.src != k.dst {
		g.touch(k, touched)
		if head := g.edges[k]; head == cb {
			if cb.next == nil {
				delete(g.edges, k)
			} else {
				g.edges[k] = cb.next
			}
		} else {
			for p := head; p != nil; p = p.next {
				if p.next == cb {
					p.next = cb.next
					break
				}
			}
		}
		cb.next = nil
	}
	cb.key = edgeKey{}
}

func (g *Graph) unpend(ref string, cb *contrib) {
	list, ok := g.pending[ref]
	if !ok {
		return
	}
	if rest := without(list, cb); len(rest) == 0 {
		delete(g.pending, ref)
		g.shrinkPending()
	} else {
		g.pending[ref] = rest
	}
}

// shrinkPending rebuilds the pending map once it holds a quarter of what it
// once did: Go maps never give back the room they grew to, and an initial
// load leaves hundreds of thousands of relations pending for a while.
func (g *Graph) shrinkPending() {
	if n := len(g.pending); n > g.pendingPeak {
		g.pendingPeak = n
	} else if g.pendingPeak > 1<<14 && n < g.pendingPeak/4 {
		m := make(map[string][]*contrib, n)
		for k, v := range g.pending {
			m[k] = v
		}
		g.pending, g.pendingPeak = m, n
	}
}

func without(list []*contrib, cb *contrib) []*contrib {
	i := slices.Index(list, cb)
	if i < 0 {
		return list
	}
	last := len(list) - 1
	list[i] = list[last]
	list[last] = nil
	return list[:last]
}

// touch records the state of edge k before its first change in an Apply.
func (g *Graph) touch(k edgeKey, touched map[edgeKey]*model.Relation) {
	if touched == nil {
		return
	}
	if _, ok := touched[k]; !ok {
		touched[k] = g.winner(k)
	}
}

// winner returns the relation an edge stands for, with component ids as
// ends, or nil when no raw relation gives it. Among several raw relations
// giving the same edge, the one of the scope sorting last wins, then the
// one written last by source and target, so the result never depends on
// the order of observation.
func (g *Graph) winner(k edgeKey) *model.Relation {
	best := g.edges[k]
	if best == nil {
		return nil
	}
	for cb := best.next; cb != nil; cb = cb.next {
		if later(cb, best) {
			best = cb
		}
	}
	data := best.rel.Data
	if data == nil {
		data = map[string]any{}
	}
	return &model.Relation{Source: g.nodes[k.src].comp.ID, Target: g.nodes[k.dst].comp.ID, Type: g.types[k.typ], Data: data}
}

func later(a, b *contrib) bool {
	if a.h.scopeKey != b.h.scopeKey {
		return a.h.scopeKey > b.h.scopeKey
	}
	if a.rel.Source != b.rel.Source {
		return a.rel.Source > b.rel.Source
	}
	return a.rel.Target > b.rel.Target
}

// setRelations replaces the raw relations of h by rels (de-duplicated by
// key, the later data winning), re-filing only what changed, and records
// in d what a store must write.
func (g *Graph) setRelations(h *holder, rels []model.Relation, touched map[edgeKey]*model.Relation, d *RelationDiff) {
	rels = dedupe(rels)
	old := make(map[model.RelationKey]*contrib, len(h.rels))
	for _, cb := range h.rels {
		old[cb.rel.Key()] = cb
	}
	next := make([]*contrib, 0, len(rels))
	for _, r := range rels {
		cb, ok := old[r.Key()]
		if !ok {
			r.Type = g.intern(r.Type)
			cb = &contrib{h: h, rel: r}
			g.attach(cb, touched)
			next = append(next, cb)
			d.put(r)
			continue
		}
		delete(old, r.Key())
		if !equalJSON(cb.rel.Data, r.Data) {
			if cb.key.ok() && cb.key.src != cb.key.dst {
				g.touch(cb.key, touched)
			}
			cb.rel = r
			d.put(r)
		}
		next = append(next, cb)
	}
	for _, cb := range h.rels {
		if _, gone := old[cb.rel.Key()]; gone {
			g.detach(cb, touched)
			d.remove(cb.rel.Key())
		}
	}
	h.rels = next
}

// RelationDiff is how one scope's raw relations changed: those added or
// whose data changed, and the keys of those gone.
type RelationDiff struct {
	Put  []model.Relation
	Gone []model.RelationKey
}

func (d *RelationDiff) put(r model.Relation) {
	if d != nil {
		d.Put = append(d.Put, r)
	}
}

func (d *RelationDiff) remove(k model.RelationKey) {
	if d != nil {
		d.Gone = append(d.Gone, k)
	}
}

// then returns the diff of d followed by next.
func (d RelationDiff) then(next RelationDiff) RelationDiff {
	later := make(map[model.RelationKey]bool, len(next.Put)+len(next.Gone))
	for _, r := range next.Put {
		later[r.Key()] = true
	}
	for _, k := range next.Gone {
		later[k] = true
	}
	out := RelationDiff{}
	for _, r := range d.Put {
		if !later[r.Key()] {
			out.Put = append(out.Put, r)
		}
	}
	for _, k := range d.Gone {
		if !later[k] {
			out.Gone = append(out.Gone, k)
		}
	}
	out.Put = append(out.Put, next.Put...)
	out.Gone = append(out.Gone, next.Gone...)
	return out
}

// raw returns the raw relations h owns.
func (h *holder) raw() []model.Relation {
	out := make([]model.Relation, len(h.rels))
	for i, cb := range h.rels {
		out[i] = cb.rel
	}
	return out
}

func dedupe(rels []model.Relation) []model.Relation {
	out := make([]model.Relation, 0, len(rels))
	at := make(map[model.RelationKey]int, len(rels))
	for _, r := range rels {
		if i, ok := at[r.Key()]; ok {
			out[i] = r // the later observation's data wins
			continue
		}
		at[r.Key()] = len(out)
		out = append(out, r)
	}
	return out
}

// canon returns the node's own copy of ref, its id or one of its identifiers.
func (nd *node) canon(ref string) string {
	if nd.comp.ID == ref {
		return nd.comp.ID
	}
	for _, ident := range nd.comp.Identifiers {
		if ident == ref {
			return ident
		}
	}
	return ref
}
