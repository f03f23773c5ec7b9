package embedded

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
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
