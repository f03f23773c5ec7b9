package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// OpenTopology returns an empty store.Topology for one test, and reopen,
// which closes it and returns the same data as a new process would see it.
// The test may use both until it ends; the opener closes what is left open
// at the test's cleanup.
type OpenTopology func(t *testing.T) (s store.Topology, reopen func() store.Topology)

// Topology runs the conformance tests of store.Topology: the graph a store
// loads back after a restart is the graph that committed to it, the
// history's queries, and pruning it. Each subtest opens its own store.
func Topology(t *testing.T, open OpenTopology) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, OpenTopology)
	}{
		{"SurvivesRestart", testTopologySurvivesRestart},
		{"RelationsFollowEveryKindOfChange", testRelationsFollowEveryKindOfChange},
		{"Versions", testVersions},
		{"PruneHistory", PruneHistory},
		{"PruneHistoryCancelled", testPruneHistoryCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open) })
	}
}

func testTopologySurvivesRestart(t *testing.T, open OpenTopology) {
	ctx := context.Background()
	s, reopen := open(t)
	sc := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.instance"}
	scSub := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.subnet"}
	g := topology.New(nil, topology.WithStore(s))
	snaps := []model.Snapshot{
		{Scope: sc, Complete: true,
			Components: []model.Component{{ID: "i-1", Type: sc.Type, Name: "web <1> é", Identifiers: []string{"urn:host:/i-1"},
				Labels: []string{"Name:web <1>"}, Data: map[string]any{"State": map[string]any{"Name": "running"}, "Zero": "a\x00b"}}},
			Relations: []model.Relation{{Source: "urn:host:/i-1", Target: "subnet-1", Type: model.UsesService},
				{Source: "i-1", Target: "vol-1", Type: model.UsesService}}},
		{Scope: scSub, Complete: true, Components: []model.Component{{ID: "subnet-1", Type: scSub.Type, Data: map[string]any{}}}},
	}
	if _, err := g.Apply(ctx, "scan", snaps); err != nil {
		t.Fatal(err)
	}
	snaps[1].Components = nil // the subnet disappears
	if _, err := g.Apply(ctx, "scan", snaps[1:]); err != nil {
		t.Fatal(err)
	}

	s = reopen()
	st, err := s.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g2 := topology.New(st)
	if d := cmp.Diff(g.Components(), g2.Components()); d != "" {
		t.Errorf("components after restart (-before +after):\n%s", d)
	}
	if d := cmp.Diff(g.Relations(), g2.Relations()); d != "" {
		t.Errorf("relations after restart (-before +after):\n%s", d)
	}
	if d := cmp.Diff(g.Pending(), g2.Pending()); d != "" {
		t.Errorf("pending relations after restart (-before +after):\n%s", d)
	}
	vs, err := s.Versions(ctx, store.VersionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Entity+" "+v.ID+" "+v.Change)
	}
	want := []string{
		"component i-1 created",
		"component subnet-1 created",
		"relation i-1|uses-service|subnet-1 created",
		"component subnet-1 deleted",
		"relation i-1|uses-service|subnet-1 deleted",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
}

// testVersions checks what Versions selects, and that a version comes back
// as it was committed.
func testVersions(t *testing.T, open OpenTopology) {
	ctx := context.Background()
	s, reopen := open(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	in := []model.Version{
		{Time: at, Entity: topology.EntityComponent, ID: "i-1", Change: model.Created,
			State: []byte(`{"id":"i-1","name":"web"}`), Cause: "scan"},
		{Time: at.Add(time.Minute), Entity: topology.EntityComponent, ID: "i-1", Change: model.Updated,
			Diff: []byte(`{"name":["web","api"]}`), State: []byte(`{"id":"i-1","name":"api"}`),
			Cause: "event", Actor: "arn:aws:iam::123456789012:user/alice", SourceIP: "192.0.2.1"},
		{Time: at.Add(2 * time.Minute), Entity: topology.EntityRelation, ID: "i-1|uses-service|vol-1", Change: model.Created,
			State: []byte(`{"source":"i-1","target":"vol-1","type":"uses-service"}`), Cause: "scan"},
		{Time: at.Add(3 * time.Minute), Entity: topology.EntityComponent, ID: "i-1", Change: model.Deleted, Cause: "scan"},
	}
	if err := s.Commit(ctx, topology.Change{Versions: in[:2]}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, topology.Change{Versions: in[2:]}); err != nil {
		t.Fatal(err)
	}
	s = reopen()
	all, err := s.Versions(ctx, store.VersionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(in) {
		t.Fatalf("Versions = %d versions, want %d", len(all), len(in))
	}
	for i := range all {
		if i > 0 && all[i].Seq <= all[i-1].Seq {
			t.Errorf("version %d: seq %d after %d; want increasing", i, all[i].Seq, all[i-1].Seq)
		}
		want := in[i]
		want.Seq = all[i].Seq
		if d := cmp.Diff(want, all[i]); d != "" {
			t.Errorf("version %d (-committed +stored):\n%s", i, d)
		}
	}
	seqs := func(q store.VersionQuery) []int64 {
		t.Helper()
		vs, err := s.Versions(ctx, q)
		if err != nil {
			t.Fatalf("Versions(%+v): %v", q, err)
		}
		out := []int64{}
		for _, v := range vs {
			out = append(out, v.Seq)
		}
		return out
	}
	seq := func(i ...int) []int64 {
		out := []int64{}
		for _, i := range i {
			out = append(out, all[i].Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.VersionQuery
		want []int64
	}{
		{"by id", store.VersionQuery{ID: "i-1"}, seq(0, 1, 3)},
		{"since, inclusive", store.VersionQuery{Since: at.Add(time.Minute)}, seq(1, 2, 3)},
		{"until, exclusive", store.VersionQuery{Until: at.Add(2 * time.Minute)}, seq(0, 1)},
		{"after seq", store.VersionQuery{AfterSeq: all[1].Seq}, seq(2, 3)},
		{"limit: the oldest", store.VersionQuery{Limit: 2}, seq(0, 1)},
		{"latest: the newest, oldest first", store.VersionQuery{Limit: 2, Latest: true}, seq(2, 3)},
		{"latest of an id", store.VersionQuery{ID: "i-1", Limit: 2, Latest: true}, seq(1, 3)},
		{"since the future", store.VersionQuery{Since: at.Add(time.Hour)}, seq()},
		{"all filters", store.VersionQuery{ID: "i-1", Since: at, Until: at.Add(3 * time.Minute), AfterSeq: all[0].Seq}, seq(1)},
	} {
		if d := cmp.Diff(tc.want, seqs(tc.q)); d != "" {
			t.Errorf("Versions %s (-want +got seqs):\n%s", tc.name, d)
		}
	}
}

// testRelationsFollowEveryKindOfChange applies random complete, incomplete
// and targeted snapshots, sometimes two of one scope in one change, and
// checks after each that the store, reloaded, gives the graph that the live
// one is: only the relations a change touched are written.
func testRelationsFollowEveryKindOfChange(t *testing.T, open OpenTopology) {
	ctx := context.Background()
	s, _ := open(t)
	g := topology.New(nil, topology.WithStore(s))
	rnd := rand.New(rand.NewPCG(7, 11))
	scopes := []model.Scope{
		{Account: "1", Region: "r", Type: "a"}, {Account: "1", Region: "r", Type: "b"}, {Account: "2", Region: "r", Type: "a"},
	}
	id := func() string { return fmt.Sprintf("c%d", rnd.IntN(12)) }
	snapshot := func() model.Snapshot {
		sn := model.Snapshot{Scope: scopes[rnd.IntN(len(scopes))]}
		switch rnd.IntN(3) {
		case 0:
			sn.Complete = true
		case 1:
			sn.Only = []string{id(), id()}
		}
		for range rnd.IntN(4) {
			sn.Components = append(sn.Components, model.Component{ID: id() + sn.Scope.Account + sn.Scope.Type, Type: sn.Scope.Type})
		}
		for range rnd.IntN(6) {
			sn.Relations = append(sn.Relations, model.Relation{Source: id(), Target: id(), Type: model.UsesService,
				Data: map[string]any{"v": float64(rnd.IntN(2))}})
		}
		return sn
	}
	for step := range 300 {
		snaps := []model.Snapshot{snapshot()}
		if rnd.IntN(3) == 0 {
			second := snapshot()
			second.Scope = snaps[0].Scope
			snaps = append(snaps, second)
		}
		if _, err := g.Apply(ctx, "scan", snaps); err != nil {
			t.Fatal(err)
		}
		st, err := s.LoadTopology(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again := topology.New(st)
		if d := cmp.Diff(g.Relations(), again.Relations()); d != "" {
			t.Fatalf("step %d: relations reloaded (-live +stored):\n%s", step, d)
		}
		if d := cmp.Diff(g.Pending(), again.Pending()); d != "" {
			t.Fatalf("step %d: pending relations reloaded (-live +stored):\n%s", step, d)
		}
		if d := cmp.Diff(g.Components(), again.Components()); d != "" {
			t.Fatalf("step %d: components reloaded (-live +stored):\n%s", step, d)
		}
	}
}
