package topology

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

// bruteRelations recomputes the resolved relations from scratch: what the
// incremental engine must always agree with.
func bruteRelations(g *Graph) ([]model.Relation, int) {
	scopes := make([]*holder, 0, len(g.owned))
	for _, h := range g.owned {
		scopes = append(scopes, h)
	}
	sort.Slice(scopes, func(i, j int) bool { return scopes[i].scopeKey < scopes[j].scopeKey })
	best := map[model.RelationKey]*contrib{}
	pending := map[model.RelationKey]bool{}
	for _, h := range scopes {
		for _, cb := range h.rels {
			s, d := g.resolve(cb.rel.Source), g.resolve(cb.rel.Target)
			if s == 0 || d == 0 {
				pending[cb.rel.Key()] = true
				continue
			}
			if s == d {
				continue
			}
			k := model.RelationKey{Source: g.nodes[s].comp.ID, Target: g.nodes[d].comp.ID, Type: cb.rel.Type}
			if b, ok := best[k]; !ok || later(cb, b) {
				best[k] = cb
			}
		}
	}
	out := []model.Relation{}
	for k, cb := range best {
		data := cb.rel.Data
		if data == nil {
			data = map[string]any{}
		}
		out = append(out, model.Relation{Source: k.Source, Target: k.Target, Type: k.Type, Data: data})
	}
	return sortRelations(out), len(pending)
}

// TestIncrementalMatchesRecomputation applies random snapshots (components
// appearing, vanishing, changing identifiers and scopes; relations by id and
// by identifier, some dangling) and checks after each step that the
// incremental relation index equals a recomputation from scratch, and that
// the versions it reports add up to the difference.
func TestIncrementalMatchesRecomputation(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	scopes := []model.Scope{
		{Account: "1", Region: "r", Type: "a"}, {Account: "1", Region: "r", Type: "b"}, {Account: "2", Region: "r", Type: "a"},
	}
	ref := func() string {
		switch rng.IntN(3) {
		case 0:
			return fmt.Sprintf("c%d", rng.IntN(30))
		case 1:
			return fmt.Sprintf("urn:x/%d", rng.IntN(20))
		}
		return fmt.Sprintf("urn:y/%d", rng.IntN(10))
	}
	g := New(nil)
	prevRels := []model.Relation{}
	for step := 0; step < 400; step++ {
		var snaps []model.Snapshot
		for range 1 + rng.IntN(2) {
			s := model.Snapshot{Scope: scopes[rng.IntN(len(scopes))], Complete: rng.IntN(3) > 0}
			for range rng.IntN(8) {
				id := fmt.Sprintf("c%d", rng.IntN(30))
				var idents []string
				for range rng.IntN(3) {
					idents = append(idents, ref())
				}
				s.Components = append(s.Components, model.Component{ID: id, Type: s.Scope.Type, Identifiers: idents,
					Data: map[string]any{"v": float64(rng.IntN(2))}})
			}
			for range rng.IntN(10) {
				r := model.Relation{Source: ref(), Target: ref(), Type: []string{model.UsesService, model.HasResource}[rng.IntN(2)]}
				if rng.IntN(3) == 0 {
					r.Data = map[string]any{"n": float64(rng.IntN(3))}
				}
				s.Relations = append(s.Relations, r)
			}
			snaps = append(snaps, s)
		}
		vs, err := g.Apply(ctx, "test", snaps)
		if err != nil {
			t.Fatal(err)
		}
		want, wantPending := bruteRelations(g)
		if d := cmp.Diff(want, g.Relations()); d != "" {
			t.Fatalf("step %d: relations differ from a recomputation (-want +got):\n%s", step, d)
		}
		if got := len(g.Pending()); got != wantPending {
			t.Fatalf("step %d: %d pending, recomputation says %d", step, got, wantPending)
		}
		// The relation versions account exactly for the difference.
		created, deleted, updated := diffRelations(prevRels, want)
		var gotC, gotD, gotU int
		for _, v := range vs {
			if v.Entity != EntityRelation {
				continue
			}
			switch v.Change {
			case model.Created:
				gotC++
			case model.Deleted:
				gotD++
			case model.Updated:
				gotU++
			}
		}
		if gotC != created || gotD != deleted || gotU != updated {
			t.Fatalf("step %d: relation versions created/deleted/updated %d/%d/%d, want %d/%d/%d",
				step, gotC, gotD, gotU, created, deleted, updated)
		}
		prevRels = want
		for id, n := range g.byID {
			if g.nodes[n] == nil || g.nodes[n].dead || g.nodes[n].comp.ID != id {
				t.Fatalf("step %d: index of %s points at a bad node", step, id)
			}
		}
	}
}

func diffRelations(before, after []model.Relation) (created, deleted, updated int) {
	b := map[model.RelationKey]model.Relation{}
	for _, r := range before {
		b[r.Key()] = r
	}
	for _, r := range after {
		old, ok := b[r.Key()]
		switch {
		case !ok:
			created++
		case !equalJSON(old.Data, r.Data):
			updated++
		}
		delete(b, r.Key())
	}
	return created, len(b), updated
}

func TestNeighbours(t *testing.T) {
	g := New(nil)
	_, err := g.Apply(context.Background(), "scan", []model.Snapshot{
		{Scope: scInst, Complete: true, Components: []model.Component{comp("i-1", "aws.ec2.instance", "urn:host:/i-1")},
			Relations: []model.Relation{rel("urn:host:/i-1", "subnet-1"), rel("i-1", "vol-1")}},
		{Scope: scSubnet, Complete: true, Components: []model.Component{comp("subnet-1", "aws.ec2.subnet")},
			Relations: []model.Relation{rel("subnet-1", "vpc-1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, in, ok := g.Neighbours("urn:host:/i-1")
	want := []model.Relation{{Source: "i-1", Target: "subnet-1", Type: model.UsesService, Data: map[string]any{}}}
	if !ok || len(in) != 0 || cmp.Diff(want, out) != "" {
		t.Errorf("Neighbours(i-1) = %v, %v, %v; want out %v", out, in, ok, want)
	}
	out, in, _ = g.Neighbours("subnet-1")
	if len(out) != 0 || cmp.Diff(want, in) != "" {
		t.Errorf("Neighbours(subnet-1) = out %v in %v", out, in)
	}
	if _, _, ok := g.Neighbours("nope"); ok {
		t.Error("Neighbours of an unknown ref reported ok")
	}
}
