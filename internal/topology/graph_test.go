package topology

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
)

var (
	scInst   = model.Scope{Account: "1", Region: "eu-west-1", Type: "aws.ec2.instance"}
	scSubnet = model.Scope{Account: "1", Region: "eu-west-1", Type: "aws.ec2.subnet"}
)

func comp(id, typ string, idents ...string) model.Component {
	return model.Component{ID: id, Type: typ, Name: id, Identifiers: idents, Data: map[string]any{"v": 1.0}}
}

func rel(src, dst string) model.Relation {
	return model.Relation{Source: src, Target: dst, Type: model.UsesService}
}

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

type change struct{ Entity, ID, Change string }

func summarize(vs []model.Version) []change {
	out := []change{}
	for _, v := range vs {
		out = append(out, change{v.Entity, v.ID, v.Change})
	}
	return out
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	type step struct {
		snaps       []model.Snapshot
		wantChanges []change
		wantRels    []model.Relation
		wantPending int
		wantIDs     []string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "relation by identifier waits for its end, then resolves",
			steps: []step{
				{
					snaps: []model.Snapshot{{Scope: scInst, Complete: true,
						Components: []model.Component{comp("i-1", "aws.ec2.instance", "arn:i-1")},
						Relations:  []model.Relation{rel("arn:i-1", "arn:subnet-1")}}},
					wantChanges: []change{{"component", "i-1", "created"}},
					wantRels:    []model.Relation{},
					wantPending: 1,
					wantIDs:     []string{"i-1"},
				},
				{
					snaps: []model.Snapshot{{Scope: scSubnet, Complete: true,
						Components: []model.Component{comp("subnet-1", "aws.ec2.subnet", "arn:subnet-1")}}},
					wantChanges: []change{{"component", "subnet-1", "created"}, {"relation", "i-1|uses-service|subnet-1", "created"}},
					wantRels:    []model.Relation{{Source: "i-1", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}}},
					wantIDs:     []string{"i-1", "subnet-1"},
				},
			},
		},
		{
			name: "incomplete listing keeps what it did not see; complete one deletes",
			steps: []step{
				{
					snaps: []model.Snapshot{{Scope: scInst, Complete: true,
						Components: []model.Component{comp("i-1", "aws.ec2.instance"), comp("i-2", "aws.ec2.instance")}}},
					wantChanges: []change{{"component", "i-1", "created"}, {"component", "i-2", "created"}},
					wantRels:    []model.Relation{},
					wantIDs:     []string{"i-1", "i-2"},
				},
				{
					snaps:       []model.Snapshot{{Scope: scInst, Complete: false, Components: []model.Component{comp("i-1", "aws.ec2.instance")}}},
					wantChanges: []change{},
					wantRels:    []model.Relation{},
					wantIDs:     []string{"i-1", "i-2"},
				},
				{
					snaps:       []model.Snapshot{{Scope: scInst, Complete: true, Components: []model.Component{comp("i-1", "aws.ec2.instance")}}},
					wantChanges: []change{{"component", "i-2", "deleted"}},
					wantRels:    []model.Relation{},
					wantIDs:     []string{"i-1"},
				},
			},
		},
		{
			name: "targeted snapshot updates, deletes and re-relates only what it names",
			steps: []step{
				{
					snaps: []model.Snapshot{
						{Scope: scInst, Complete: true,
							Components: []model.Component{comp("i-1", "aws.ec2.instance", "arn:i-1"), comp("i-2", "aws.ec2.instance"), comp("i-3", "aws.ec2.instance")},
							Relations:  []model.Relation{rel("i-1", "subnet-1"), rel("i-2", "subnet-1"), rel("i-3", "subnet-1")}},
						{Scope: scSubnet, Complete: true, Components: []model.Component{comp("subnet-1", "aws.ec2.subnet"), comp("subnet-2", "aws.ec2.subnet")}},
					},
					wantChanges: []change{
						{"component", "i-1", "created"}, {"component", "i-2", "created"}, {"component", "i-3", "created"},
						{"component", "subnet-1", "created"}, {"component", "subnet-2", "created"},
						{"relation", "i-1|uses-service|subnet-1", "created"}, {"relation", "i-2|uses-service|subnet-1", "created"},
						{"relation", "i-3|uses-service|subnet-1", "created"},
					},
					wantRels: []model.Relation{
						{Source: "i-1", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-2", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-3", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}},
					},
					wantIDs: []string{"i-1", "i-2", "i-3", "subnet-1", "subnet-2"},
				},
				{
					// i-1 (named by its ARN) moved subnet, i-2 is gone, a new
					// i-4 appeared; i-3, not named, keeps its relation.
					snaps: []model.Snapshot{{Scope: scInst, Only: []string{"arn:i-1", "i-2", "i-4"},
						Components: []model.Component{comp("i-1", "aws.ec2.instance", "arn:i-1"), comp("i-4", "aws.ec2.instance")},
						Relations:  []model.Relation{rel("i-1", "subnet-2"), rel("i-4", "subnet-2")}}},
					wantChanges: []change{
						{"component", "i-2", "deleted"}, {"component", "i-4", "created"},
						{"relation", "i-1|uses-service|subnet-1", "deleted"}, {"relation", "i-1|uses-service|subnet-2", "created"},
						{"relation", "i-2|uses-service|subnet-1", "deleted"}, {"relation", "i-4|uses-service|subnet-2", "created"},
					},
					wantRels: []model.Relation{
						{Source: "i-1", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-3", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-4", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
					},
					wantIDs: []string{"i-1", "i-3", "i-4", "subnet-1", "subnet-2"},
				},
				{
					// A relation into the scope (emitted by it, from outside)
					// belongs to its target; one between two of the scope's
					// resources to its source.
					snaps: []model.Snapshot{{Scope: scInst, Complete: false,
						Relations: []model.Relation{rel("subnet-2", "i-3"), rel("i-4", "i-3")}}},
					wantChanges: []change{{"relation", "i-4|uses-service|i-3", "created"}, {"relation", "subnet-2|uses-service|i-3", "created"}},
					wantRels: []model.Relation{
						{Source: "i-1", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-3", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-4", Target: "i-3", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-4", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
						{Source: "subnet-2", Target: "i-3", Type: "uses-service", Data: map[string]any{}},
					},
					wantIDs: []string{"i-1", "i-3", "i-4", "subnet-1", "subnet-2"},
				},
				{
					snaps: []model.Snapshot{{Scope: scInst, Only: []string{"i-3"}}},
					wantChanges: []change{
						{"component", "i-3", "deleted"},
						{"relation", "i-3|uses-service|subnet-1", "deleted"}, {"relation", "i-4|uses-service|i-3", "deleted"},
						{"relation", "subnet-2|uses-service|i-3", "deleted"},
					},
					wantRels: []model.Relation{
						{Source: "i-1", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-4", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
					},
					wantPending: 1, // i-4 -> i-3 is i-4's, until i-4 is described again
					wantIDs:     []string{"i-1", "i-4", "subnet-1", "subnet-2"},
				},
				{
					// A name of another scope's component is not this scope's to delete.
					snaps:       []model.Snapshot{{Scope: scInst, Only: []string{"subnet-1"}}},
					wantChanges: []change{},
					wantRels: []model.Relation{
						{Source: "i-1", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
						{Source: "i-4", Target: "subnet-2", Type: "uses-service", Data: map[string]any{}},
					},
					wantPending: 1,
					wantIDs:     []string{"i-1", "i-4", "subnet-1", "subnet-2"},
				},
			},
		},
		{
			name: "deleting an end turns its relation back to pending",
			steps: []step{
				{
					snaps: []model.Snapshot{
						{Scope: scInst, Complete: true, Components: []model.Component{comp("i-1", "aws.ec2.instance")},
							Relations: []model.Relation{rel("i-1", "subnet-1")}},
						{Scope: scSubnet, Complete: true, Components: []model.Component{comp("subnet-1", "aws.ec2.subnet")}},
					},
					wantChanges: []change{{"component", "i-1", "created"}, {"component", "subnet-1", "created"}, {"relation", "i-1|uses-service|subnet-1", "created"}},
					wantRels:    []model.Relation{{Source: "i-1", Target: "subnet-1", Type: "uses-service", Data: map[string]any{}}},
					wantIDs:     []string{"i-1", "subnet-1"},
				},
				{
					snaps:       []model.Snapshot{{Scope: scSubnet, Complete: true}},
					wantChanges: []change{{"component", "subnet-1", "deleted"}, {"relation", "i-1|uses-service|subnet-1", "deleted"}},
					wantRels:    []model.Relation{},
					wantPending: 1,
					wantIDs:     []string{"i-1"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(nil, WithClock(fixedClock()))
			for i, st := range tt.steps {
				vs, err := g.Apply(ctx, "scan", st.snaps)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if d := cmp.Diff(st.wantChanges, summarize(vs)); d != "" {
					t.Errorf("step %d versions (-want +got):\n%s", i, d)
				}
				if d := cmp.Diff(st.wantRels, g.Relations()); d != "" {
					t.Errorf("step %d relations (-want +got):\n%s", i, d)
				}
				if got := len(g.Pending()); got != st.wantPending {
					t.Errorf("step %d: %d pending relations, want %d", i, got, st.wantPending)
				}
				var ids []string
				for _, c := range g.Components() {
					ids = append(ids, c.ID)
				}
				if d := cmp.Diff(st.wantIDs, ids); d != "" {
					t.Errorf("step %d components (-want +got):\n%s", i, d)
				}
			}
		})
	}
}

func TestUpdateRecordsDiff(t *testing.T) {
	ctx := context.Background()
	g := New(nil, WithClock(fixedClock()))
	c := comp("i-1", "aws.ec2.instance")
	c.Data = map[string]any{"State": map[string]any{"Name": "running"}}
	if _, err := g.Apply(ctx, "scan", []model.Snapshot{{Scope: scInst, Complete: true, Components: []model.Component{c}}}); err != nil {
		t.Fatal(err)
	}
	c.Data = map[string]any{"State": map[string]any{"Name": "stopped"}}
	c.Labels = []string{"b:2", "a:1"}
	vs, err := g.Apply(ctx, "event-42", []model.Snapshot{{Scope: scInst, Complete: false, Components: []model.Component{c}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Change != model.Updated || vs[0].Cause != "event-42" {
		t.Fatalf("versions = %+v, want one update caused by event-42", summarize(vs))
	}
	var diff map[string]FieldChange
	if err := json.Unmarshal(vs[0].Diff, &diff); err != nil {
		t.Fatal(err)
	}
	want := map[string]FieldChange{
		"data.State.Name": {Old: "running", New: "stopped"},
		"labels":          {Old: []any{}, New: []any{"a:1", "b:2"}},
	}
	if d := cmp.Diff(want, diff); d != "" {
		t.Errorf("diff (-want +got):\n%s", d)
	}
	// Applying the same content again records nothing.
	vs, err = g.Apply(ctx, "scan", []model.Snapshot{{Scope: scInst, Complete: true, Components: []model.Component{c}}})
	if err != nil || len(vs) != 0 {
		t.Errorf("re-apply: versions %v, err %v; want none", summarize(vs), err)
	}
}

type failingStore struct{}

func (failingStore) Commit(context.Context, Change) error { return errors.New("disk full") }

func TestFailedCommitLeavesGraphUnchanged(t *testing.T) {
	ctx := context.Background()
	g := New(&State{Components: []Owned{{Scope: scInst, Component: Normalize(comp("i-1", "aws.ec2.instance"))}}},
		WithStore(failingStore{}))
	_, err := g.Apply(ctx, "scan", []model.Snapshot{{Scope: scInst, Complete: true, Components: []model.Component{comp("i-2", "aws.ec2.instance")}}})
	if err == nil {
		t.Fatal("Apply succeeded with a failing store")
	}
	if _, ok := g.Lookup("i-1"); !ok {
		t.Error("i-1 lost after a failed commit")
	}
	if _, ok := g.Lookup("i-2"); ok {
		t.Error("i-2 visible after a failed commit")
	}
}

func TestLookupByIdentifier(t *testing.T) {
	g := New(nil)
	_, err := g.Apply(context.Background(), "scan", []model.Snapshot{{Scope: scInst, Complete: true,
		Components: []model.Component{comp("i-1", "aws.ec2.instance", "urn:host:/i-1", "urn:vpcip:vpc-1/10.0.0.5")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"i-1", "urn:host:/i-1", "urn:vpcip:vpc-1/10.0.0.5"} {
		if c, ok := g.Lookup(ref); !ok || c.ID != "i-1" {
			t.Errorf("Lookup(%q) = %q, %v; want i-1", ref, c.ID, ok)
		}
	}
	if _, ok := g.Lookup("urn:host:/i-2"); ok {
		t.Error("Lookup of an unknown identifier succeeded")
	}
}

func TestSharedIdentifierResolvesDeterministically(t *testing.T) {
	ctx := context.Background()
	scA := model.Scope{Account: "1", Region: "r", Type: "a"}
	scB := model.Scope{Account: "1", Region: "r", Type: "b"}
	for _, order := range [][]model.Snapshot{
		{{Scope: scA, Complete: true, Components: []model.Component{comp("z", "a", "shared")}},
			{Scope: scB, Complete: true, Components: []model.Component{comp("m", "b", "shared")}}},
		{{Scope: scB, Complete: true, Components: []model.Component{comp("m", "b", "shared")}},
			{Scope: scA, Complete: true, Components: []model.Component{comp("z", "a", "shared")}}},
	} {
		g := New(nil)
		for _, s := range order {
			if _, err := g.Apply(ctx, "scan", []model.Snapshot{s}); err != nil {
				t.Fatal(err)
			}
		}
		if c, _ := g.Lookup("shared"); c.ID != "m" {
			t.Errorf("order %v: shared resolves to %q, want m", order[0].Scope.Type, c.ID)
		}
		// A failed commit must not change what it resolves to.
		g.store = failingStore{}
		g.Apply(ctx, "scan", []model.Snapshot{{Scope: scA, Complete: true}})
		if c, _ := g.Lookup("shared"); c.ID != "m" {
			t.Errorf("after a failed commit shared resolves to %q, want m", c.ID)
		}
	}
}

func TestApplyLabelledNamesEachChange(t *testing.T) {
	g := New(nil, WithClock(fixedClock()))
	label := func(v *model.Version) {
		if v.ID == "i-2" {
			v.Cause, v.Actor = "event:2", "bob"
		} else {
			v.Actor = "ann"
		}
	}
	vs, err := g.ApplyLabelled(context.Background(), "event:1", label, []model.Snapshot{{Scope: scInst, Only: []string{"i-1", "i-2"},
		Components: []model.Component{comp("i-1", "aws.ec2.instance"), comp("i-2", "aws.ec2.instance")}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, v := range vs {
		got[v.ID] = [2]string{v.Cause, v.Actor}
	}
	want := map[string][2]string{"i-1": {"event:1", "ann"}, "i-2": {"event:2", "bob"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("causes and actors (-want +got):\n%s", d)
	}
}
