package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/storetest"
	"github.com/skymap/skymap/internal/topology"
)

func TestTopologySurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	sc := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.instance"}
	scSub := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.subnet"}
	g := topology.New(nil, topology.WithStore(s))
	snaps := []model.Snapshot{
		{Scope: sc, Complete: true,
			Components: []model.Component{{ID: "i-1", Type: sc.Type, Name: "web <1>", Identifiers: []string{"urn:host:/i-1"},
				Labels: []string{"Name:web <1>"}, Data: map[string]any{"State": map[string]any{"Name": "running"}}}},
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
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	st, err := s2.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g2 := topology.New(st)
	if d := cmp.Diff(g.Components(), g2.Components()); d != "" {
		t.Errorf("components after restart (-before +after):\n%s", d)
	}
	if d := cmp.Diff(g.Pending(), g2.Pending()); d != "" {
		t.Errorf("pending relations after restart (-before +after):\n%s", d)
	}
	vs, err := s2.Versions(ctx, store.VersionQuery{})
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
	one, err := s2.Versions(ctx, store.VersionQuery{ID: "subnet-1"})
	if err != nil || len(one) != 2 {
		t.Errorf("versions of subnet-1: %d, %v; want 2", len(one), err)
	}
	latest, err := s2.Versions(ctx, store.VersionQuery{Limit: 2, Latest: true})
	if err != nil || len(latest) != 2 || latest[0].Seq >= latest[1].Seq || latest[1].ID != "i-1|uses-service|subnet-1" {
		t.Errorf("latest 2 versions = %+v, %v; want the last two, oldest first", latest, err)
	}
	future, err := s2.Versions(ctx, store.VersionQuery{Since: time.Now().Add(time.Hour)})
	if err != nil || len(future) != 0 {
		t.Errorf("versions since the future: %d, %v; want none", len(future), err)
	}
}

func TestOneProcessPerDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dir)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	s.Close()
	s3, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}

func TestState(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetState(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetState of a missing key: %v, want ErrNotFound", err)
	}
	for _, v := range []string{"one", "two"} {
		if err := s.PutState(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetState(ctx, "k")
		if err != nil || string(got) != v {
			t.Errorf("GetState = %q, %v; want %q", got, err, v)
		}
	}
}

// TestStoredRelationsFollowEveryKindOfChange applies random complete,
// incomplete and targeted snapshots, sometimes two of one scope in one
// change, and checks after each that the store, reloaded, gives the graph
// that the live one is: only the relations a change touched are written.
func TestStoredRelationsFollowEveryKindOfChange(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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

// TestRelationsMigrateToKeyedTable opens a data directory written by a
// skymap whose relations table was keyed by position, and finds its
// relations (a duplicate among them kept once, the later one).
func TestRelationsMigrateToKeyedTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "skymap.db"))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{migrations[0], `PRAGMA user_version = 1`,
		`INSERT INTO relations VALUES ('1', 'r', 'a', 0, '{"source":"x","target":"y","type":"uses-service","data":{"v":1}}')`,
		`INSERT INTO relations VALUES ('1', 'r', 'a', 1, '{"source":"x","target":"z","type":"uses-service","data":{}}')`,
		`INSERT INTO relations VALUES ('1', 'r', 'a', 2, '{"source":"x","target":"y","type":"uses-service","data":{"v":2}}')`,
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[model.Scope][]model.Relation{{Account: "1", Region: "r", Type: "a"}: {
		{Source: "x", Target: "y", Type: "uses-service", Data: map[string]any{"v": float64(2)}},
		{Source: "x", Target: "z", Type: "uses-service", Data: map[string]any{}},
	}}
	if d := cmp.Diff(want, st.Relations); d != "" {
		t.Errorf("relations after migration (-want +got):\n%s", d)
	}
}

func TestViews(t *testing.T) {
	storetest.Views(t, func(t *testing.T) (store.Views, func() store.Views) {
		dir := t.TempDir()
		s, err := Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		return s, func() store.Views {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(context.Background(), dir); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}
