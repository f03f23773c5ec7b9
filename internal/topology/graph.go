// Package topology merges observations into one graph of components and
// relations. An identifier index maps every id, ARN and URN to its component,
// so a relation may name either end by any identifier; relations whose ends
// are unknown wait until those ends appear. Observations arrive as snapshots
// per scope (account, region, resource type): only a complete snapshot may
// delete what it no longer saw. Every change becomes a model.Version.
//
// The graph is incremental: applying a snapshot costs in proportion to what
// it holds and what changed, not to the size of the graph, so that events
// can update a map of millions of components within milliseconds.
package topology

import (
	"bytes"
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
	// Relations are how the raw relations of each listed scope changed.
	Relations map[model.Scope]RelationDiff
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

	nodes []*node           // by node number; 0 is never used, nil is free
	free  []uint32          // free node numbers
	byID  map[string]uint32 // component id -> node
	// sorted is the node numbers of byID in id order, for Select; nil
	// when a component came or went since it was made. Readers make it
	// under sortedMu (writers, holding mu, only clear it).
	sorted   []uint32
	sortedMu sync.Mutex
	// index maps an identifier to the component claiming it; multi holds
	// every claimant of the few identifiers several components claim.
	index map[string]uint32
	multi map[string][]uint32
	owned map[model.Scope]*holder
	// strs interns the strings most components share (labels, accounts,
	// regions, types): one copy each instead of one per component.
	strs map[string]string

	types   []string // relation types by number
	typeNum map[string]uint16
	edges   map[edgeKey]*contrib  // resolved relation -> the raw relations giving it, chained by next
	pending map[string][]*contrib // unresolved end -> raw relations waiting for it
	// pendingPeak is the most entries pending held since it was last built.
	pendingPeak int
}

// node is a component and the raw relations resolved to it.
type node struct {
	scope *holder
	// comp is the component without its Data, which data holds encoded:
	// half the memory, and change detection compares bytes.
	comp    model.Component
	data    []byte
	out, in []*contrib
	dead    bool
}

// holder is what one scope owns.
type holder struct {
	scope    model.Scope
	scopeKey string
	ids      map[uint32]struct{}
	rels     []*contrib
}

// contrib is one raw relation as a scope emitted it, and where it resolves.
type contrib struct {
	h   *holder
	rel model.Relation
	key edgeKey // zero while an end is unresolved
	// next chains the raw relations giving the same edge.
	next *contrib
}

// edgeKey is a resolved relation: node numbers and relation type.
type edgeKey struct {
	src, dst uint32
	typ      uint16
}

func (k edgeKey) ok() bool { return k.src != 0 }

// Option configures a Graph.
type Option func(*Graph)

// WithStore makes the graph persist every change to s.
func WithStore(s Store) Option { return func(g *Graph) { g.store = s } }

// WithClock sets the clock that stamps versions.
func WithClock(now func() time.Time) Option { return func(g *Graph) { g.now = now } }

// New returns an empty graph, or one holding st when st is not nil.
func New(st *State, opts ...Option) *Graph {
	g := &Graph{now: time.Now}
	for _, o := range opts {
		o(g)
	}
	g.reset()
	if st != nil {
		g.load(st.Components, st.Relations)
	}
	return g
}

func (g *Graph) reset() {
	g.nodes = []*node{nil}
	g.free = nil
	g.byID = map[string]uint32{}
	g.index = map[string]uint32{}
	g.multi = map[string][]uint32{}
	g.strs = map[string]string{}
	g.owned = map[model.Scope]*holder{}
	g.edges = map[edgeKey]*contrib{}
	g.pending = map[string][]*contrib{}
	g.pendingPeak = 0
	if g.typeNum == nil {
		g.types = []string{""}
		g.typeNum = map[string]uint16{}
	}
}

// load fills an empty graph.
func (g *Graph) load(comps []Owned, rels map[model.Scope][]model.Relation) {
	for _, oc := range comps {
		c := Normalize(oc.Component)
		g.put(g.holder(oc.Scope), c, encodeData(c.Data))
	}
	for sc, rs := range rels {
		h := g.holder(sc)
		for _, r := range rs {
			cb := &contrib{h: h, rel: r}
			h.rels = append(h.rels, cb)
			g.attach(cb, nil)
		}
	}
}

func (g *Graph) holder(sc model.Scope) *holder {
	h := g.owned[sc]
	if h == nil {
		h = &holder{scope: sc, scopeKey: sc.String(), ids: map[uint32]struct{}{}}
		g.owned[sc] = h
	}
	return h
}

func (g *Graph) typeOf(t string) uint16 {
	n, ok := g.typeNum[t]
	if !ok {
		n = uint16(len(g.types))
		g.types = append(g.types, t)
		g.typeNum[t] = n
	}
	return n
}

// resolve returns the node of the component known by ref. A component's own
// id wins over another component's identifier; among several components
// claiming the same identifier the smallest id wins, so resolution never
// depends on the order components were seen, stored or reloaded.
func (g *Graph) resolve(ref string) uint32 {
	if n, ok := g.byID[ref]; ok {
		return n
	}
	n, ok := g.index[ref]
	if !ok {
		return 0
	}
	if claims, ok := g.multi[ref]; ok {
		for _, m := range claims {
			if g.nodes[m].comp.ID < g.nodes[n].comp.ID {
				n = m
			}
		}
	}
	return n
}

// claim records that node n claims identifier ident.
func (g *Graph) claim(ident string, n uint32) {
	first, ok := g.index[ident]
	if !ok {
		g.index[ident] = n
		return
	}
	if claims, ok := g.multi[ident]; ok {
		g.multi[ident] = append(claims, n)
	} else {
		g.multi[ident] = []uint32{first, n}
	}
}

// intern returns the graph's copy of s.
func (g *Graph) intern(s string) string {
	if v, ok := g.strs[s]; ok {
		return v
	}
	g.strs[s] = s
	return s
}

// internAll interns a component's shared strings.
func (g *Graph) internAll(c *model.Component) {
	c.Type, c.Account, c.Region, c.Layer, c.Environment = g.intern(c.Type), g.intern(c.Account), g.intern(c.Region), g.intern(c.Layer), g.intern(c.Environment)
	for i, l := range c.Labels {
		c.Labels[i] = g.intern(l)
	}
}

// put stores c (Data already encoded in data) under h and indexes its
// identifiers. It returns the identifiers whose resolution may have changed.
func (g *Graph) put(h *holder, c model.Component, data []byte) []string {
	c.Data = nil
	g.internAll(&c)
	n, ok := g.byID[c.ID]
	if !ok {
		if k := len(g.free); k > 0 {
			n, g.free = g.free[k-1], g.free[:k-1]
		} else {
			n = uint32(len(g.nodes))
			g.nodes = append(g.nodes, nil)
		}
		g.nodes[n] = &node{scope: h, comp: c, data: data}
		g.byID[c.ID] = n
		g.sorted = nil
		h.ids[n] = struct{}{}
		for _, ident := range c.Identifiers {
			g.claim(ident, n)
		}
		return append([]string{c.ID}, c.Identifiers...)
	}
	nd := g.nodes[n]
	if nd.scope != h {
		delete(nd.scope.ids, n)
		h.ids[n] = struct{}{}
		nd.scope = h
	}
	var dirty []string
	if !slices.Equal(nd.comp.Identifiers, c.Identifiers) {
		for _, ident := range nd.comp.Identifiers {
			if !slices.Contains(c.Identifiers, ident) {
				g.unclaim(ident, n)
				dirty = append(dirty, ident)
			}
		}
		for _, ident := range c.Identifiers {
			if !slices.Contains(nd.comp.Identifiers, ident) {
				g.claim(ident, n)
				dirty = append(dirty, ident)
			}
		}
	}
	nd.comp, nd.data = c, data
	return dirty
}

func (g *Graph) unclaim(ident string, n uint32) {
	claims, ok := g.multi[ident]
	if !ok {
		if g.index[ident] == n {
			delete(g.index, ident)
		}
		return
	}
	claims = slices.DeleteFunc(claims, func(m uint32) bool { return m == n })
	g.index[ident] = claims[0]
	if len(claims) == 1 {
		delete(g.multi, ident)
	} else {
		g.multi[ident] = claims
	}
}

// remove takes a component out of the index. Its node stays, dead, until
// the relations resolved to it have moved (see settle).
func (g *Graph) remove(n uint32) []string {
	nd := g.nodes[n]
	delete(g.byID, nd.comp.ID)
	g.sorted = nil
	for _, ident := range nd.comp.Identifiers {
		g.unclaim(ident, n)
	}
	delete(nd.scope.ids, n)
	nd.dead = true
	return append([]string{nd.comp.ID}, nd.comp.Identifiers...)
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

// encodeBuffers recycles the scratch buffers of encodeData.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// encodeData encodes a component's data; JSON sorts map keys, so equal data
// encodes to equal bytes.
func encodeData(d map[string]any) []byte {
	if len(d) == 0 {
		return nil
	}
	buf := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(buf)
	b, err := appendJSON((*buf)[:0], d)
	*buf = b[:0]
	if err != nil {
		// Data comes from JSON-shaped SDK output; a value that does not
		// encode is recorded as its error rather than lost silently.
		b, _ = json.Marshal(map[string]any{"_error": err.Error()})
	}
	// An exact-size copy: a million components each keeping a half-empty
	// buffer would waste hundreds of megabytes.
	return bytes.Clone(b)
}

func decodeData(b []byte) map[string]any {
	m := map[string]any{}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// full returns a node's component with its Data.
func (nd *node) full() model.Component {
	c := nd.comp
	c.Data = decodeData(nd.data)
	return c
}

// RelationID is the history id of a relation: "source|type|target".
func RelationID(k model.RelationKey) string {
	return strings.Join([]string{k.Source, k.Type, k.Target}, "|")
}

func sameComponent(a, b model.Component) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Name == b.Name && a.Account == b.Account &&
		a.Region == b.Region && a.Layer == b.Layer && a.Environment == b.Environment &&
		a.ConsoleURL == b.ConsoleURL && slices.Equal(a.Identifiers, b.Identifiers) && slices.Equal(a.Labels, b.Labels) &&
		a.Health == b.Health && slices.Equal(a.HealthReasons, b.HealthReasons)
}

func (g *Graph) String() string { return fmt.Sprintf("topology.Graph(%d components)", len(g.byID)) }
