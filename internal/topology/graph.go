// Package topology merges observations into one graph of components and
// relations. An identifier index maps every id, ARN and URN to its component,
// so a relation may name either end by any identifier; relations whose ends
// are unknown wait until those ends appear. Observations arrive as snapshots
// per scope (account, region, resource type): only a complete snapshot may
// delete what it no longer saw. Every change becomes a model.Version.
package topology

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Store persists what the graph holds. The graph calls Commit once per Apply,
// after computing the change and before making it visible.
type Store interface {
	// Commit stores a change atomically: either all of it or none.
	Commit(ctx context.Context, c Change) error
}

// Change is what one Apply changed, in the form a store persists it.
type Change struct {
	// Upserted are components created or updated, with the scope that owns them.
	Upserted []Owned
	// Deleted are ids of components removed.
	Deleted []string
	// Relations replaces the raw relations owned by each listed scope.
	Relations map[model.Scope][]model.Relation
	// Versions are the history entries of this change, in order.
	Versions []model.Version
}

// Owned is a component together with the scope that owns it.
type Owned struct {
	Scope     model.Scope
	Component model.Component
}

// State is a graph's persisted content, as a store loads it back.
type State struct {
	Components []Owned
	Relations  map[model.Scope][]model.Relation
}

// Graph is the live topology. The zero value is not usable: call New.
// Graph is safe for concurrent use.
type Graph struct {
	mu    sync.RWMutex
	store Store
	now   func() time.Time

	comps map[string]*entry       // component id -> entry
	index map[string][]string     // identifier -> ids of the components claiming it
	owned map[model.Scope]*holder // what each scope owns
}

type entry struct {
	scope model.Scope
	comp  model.Component
}

type holder struct {
	ids       map[string]struct{}
	relations []model.Relation
}

// Option configures a Graph.
type Option func(*Graph)

// WithStore makes the graph persist every change to s.
func WithStore(s Store) Option { return func(g *Graph) { g.store = s } }

// WithClock sets the clock that stamps versions.
func WithClock(now func() time.Time) Option { return func(g *Graph) { g.now = now } }

// New returns an empty graph, or one holding st when st is not nil.
func New(st *State, opts ...Option) *Graph {
	g := &Graph{
		now:   time.Now,
		comps: map[string]*entry{},
		index: map[string][]string{},
		owned: map[model.Scope]*holder{},
	}
	for _, o := range opts {
		o(g)
	}
	if st != nil {
		for _, oc := range st.Components {
			g.put(oc.Scope, oc.Component)
		}
		for sc, rels := range st.Relations {
			g.holder(sc).relations = rels
		}
	}
	return g
}

func (g *Graph) holder(sc model.Scope) *holder {
	h := g.owned[sc]
	if h == nil {
		h = &holder{ids: map[string]struct{}{}}
		g.owned[sc] = h
	}
	return h
}

// put stores c under scope sc and indexes its identifiers.
func (g *Graph) put(sc model.Scope, c model.Component) {
	if old, ok := g.comps[c.ID]; ok {
		g.unindex(old.comp)
		if old.scope != sc {
			delete(g.holder(old.scope).ids, c.ID)
		}
	}
	g.comps[c.ID] = &entry{scope: sc, comp: c}
	g.holder(sc).ids[c.ID] = struct{}{}
	for _, ident := range append([]string{c.ID}, c.Identifiers...) {
		g.index[ident] = append(g.index[ident], c.ID)
	}
}

func (g *Graph) unindex(c model.Component) {
	for _, ident := range append([]string{c.ID}, c.Identifiers...) {
		ids := slices.DeleteFunc(g.index[ident], func(id string) bool { return id == c.ID })
		if len(ids) == 0 {
			delete(g.index, ident)
		} else {
			g.index[ident] = ids
		}
	}
}

// resolve returns the id of the component known by ref. A component's own id
// wins over another component's identifier; among several components
// claiming the same identifier the smallest id wins, so resolution never
// depends on the order components were seen, stored or reloaded.
func (g *Graph) resolve(ref string) (string, bool) {
	if _, ok := g.comps[ref]; ok {
		return ref, true
	}
	ids := g.index[ref]
	if len(ids) == 0 {
		return "", false
	}
	return slices.Min(ids), true
}

func (g *Graph) remove(id string) {
	e, ok := g.comps[id]
	if !ok {
		return
	}
	g.unindex(e.comp)
	delete(g.holder(e.scope).ids, id)
	delete(g.comps, id)
}

// Apply merges snapshots into the graph as one change caused by cause (e.g.
// "scan"), records versions for everything that changed, persists the change
// and returns the versions.
func (g *Graph) Apply(ctx context.Context, cause string, snaps []model.Snapshot) ([]model.Version, error) {
	g.mu.Lock()
	defer g.mu.Unlock()

	now := g.now().UTC()
	before := g.resolved()
	prevComps := make(map[string]model.Component, len(g.comps))
	prevScope := make(map[string]model.Scope, len(g.comps))
	for id, e := range g.comps {
		prevComps[id] = e.comp
		prevScope[id] = e.scope
	}
	prevRels := map[model.Scope][]model.Relation{}
	touched := map[string]bool{}

	ch := Change{Relations: map[model.Scope][]model.Relation{}}
	for _, s := range snaps {
		h := g.holder(s.Scope)
		if _, saved := prevRels[s.Scope]; !saved {
			prevRels[s.Scope] = h.relations
		}
		seen := map[string]struct{}{}
		for _, c := range s.Components {
			c = Normalize(c)
			seen[c.ID] = struct{}{}
			g.put(s.Scope, c)
			touched[c.ID] = true
		}
		if s.Complete {
			for id := range h.ids {
				if _, ok := seen[id]; !ok {
					g.remove(id)
					delete(touched, id)
				}
			}
			h.relations = dedupe(s.Relations)
		} else {
			h.relations = dedupe(append(slices.Clone(h.relations), s.Relations...))
		}
		ch.Relations[s.Scope] = h.relations
	}

	var versions []model.Version
	ids := make([]string, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		cur := g.comps[id]
		old, existed := prevComps[id]
		switch {
		case !existed:
			versions = append(versions, componentVersion(now, cause, model.Created, nil, &cur.comp))
		case !equalJSON(old, cur.comp):
			versions = append(versions, componentVersion(now, cause, model.Updated, &old, &cur.comp))
		case prevScope[id] == cur.scope:
			continue // unchanged
		}
		// Changed, or unchanged content that moved scope (persisted, no version).
		ch.Upserted = append(ch.Upserted, Owned{Scope: cur.scope, Component: cur.comp})
	}
	var deleted []string
	for id := range prevComps {
		if _, ok := g.comps[id]; !ok {
			deleted = append(deleted, id)
		}
	}
	sort.Strings(deleted)
	for _, id := range deleted {
		old := prevComps[id]
		versions = append(versions, componentVersion(now, cause, model.Deleted, &old, nil))
	}
	ch.Deleted = deleted
	versions = append(versions, relationVersions(now, cause, before, g.resolved())...)
	ch.Versions = versions

	if g.store != nil {
		if err := g.store.Commit(ctx, ch); err != nil {
			g.rollback(prevComps, prevScope, prevRels)
			return nil, fmt.Errorf("commit topology change: %w", err)
		}
	}
	return versions, nil
}

// rollback restores the graph to prev after a failed commit.
func (g *Graph) rollback(prev map[string]model.Component, scopes map[string]model.Scope, prevRels map[model.Scope][]model.Relation) {
	g.comps = map[string]*entry{}
	g.index = map[string][]string{}
	for sc, h := range g.owned {
		h.ids = map[string]struct{}{}
		if rels, ok := prevRels[sc]; ok {
			h.relations = rels
		}
	}
	for id, c := range prev {
		g.put(scopes[id], c)
	}
}

// Normalize sorts and de-duplicates a component's identifiers and labels and
// drops identifiers equal to its id, so equal content compares equal.
func Normalize(c model.Component) model.Component {
	ids := make([]string, 0, len(c.Identifiers))
	for _, s := range c.Identifiers {
		if s != "" && s != c.ID {
			ids = append(ids, s)
		}
	}
	sort.Strings(ids)
	c.Identifiers = slices.Compact(ids)
	labels := slices.Clone(c.Labels)
	sort.Strings(labels)
	c.Labels = slices.Compact(labels)
	if c.Identifiers == nil {
		c.Identifiers = []string{}
	}
	if c.Labels == nil {
		c.Labels = []string{}
	}
	return c
}

func dedupe(rels []model.Relation) []model.Relation {
	out := make([]model.Relation, 0, len(rels))
	at := map[model.RelationKey]int{}
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

func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// RelationID is the history id of a relation: "source|type|target".
func RelationID(k model.RelationKey) string {
	return strings.Join([]string{k.Source, k.Type, k.Target}, "|")
}
