package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// benchChange is a change creating n components numbered from first, each
// with two relations (to the previous one and the one before it) and a
// version, as a scan's first sight of them commits. Component i's version
// is at at plus i seconds.
func benchChange(first, n int, at time.Time) topology.Change {
	sc := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.instance"}
	c := topology.Change{Relations: map[model.Scope]topology.RelationDiff{}}
	var d topology.RelationDiff
	for i := first; i < first+n; i++ {
		comp := model.Component{ID: fmt.Sprintf("i-%08d", i), Type: sc.Type, Name: fmt.Sprintf("web-%d", i),
			Identifiers: []string{fmt.Sprintf("arn:aws:ec2:eu-west-1:123456789012:instance/i-%08d", i)},
			Labels:      []string{"env:prod", "team:web"}, Data: map[string]any{"State": map[string]any{"Name": "running"}}}
		c.Upserted = append(c.Upserted, topology.Owned{Scope: sc, Component: comp})
		d.Put = append(d.Put, model.Relation{Source: comp.ID, Target: fmt.Sprintf("i-%08d", i-1), Type: model.UsesService},
			model.Relation{Source: comp.ID, Target: fmt.Sprintf("i-%08d", i-2), Type: model.HasResource})
		c.Versions = append(c.Versions, model.Version{Time: at.Add(time.Duration(i) * time.Second), Entity: topology.EntityComponent, ID: comp.ID,
			Change: model.Created, State: []byte(`{"id":"` + comp.ID + `"}`), Cause: "scan"})
	}
	c.Relations[sc] = d
	return c
}

// EnvBenchComponents names the environment variable that overrides the
// size of the store BenchmarkTopology queries.
const EnvBenchComponents = "SKYMAP_BENCH_COMPONENTS"

// BenchSize returns the size EnvBenchComponents sets, else def.
func BenchSize(b *testing.B, def int) int {
	v := os.Getenv(EnvBenchComponents)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		b.Fatalf("%s=%q: want a number of components, at least 1000", EnvBenchComponents, v)
	}
	return n
}

// BenchmarkTopology measures a backend's store.Topology: committing
// changes of 1000 new components, and loading and querying a store of
// size components (built by commits of 1000, each component with two
// relations and a version a second after the previous one's). open returns
// an empty store the benchmark may use until it ends.
func BenchmarkTopology(b *testing.B, size int, open func(b *testing.B) store.Topology) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b.Run("Commit1000", func(b *testing.B) {
		s := open(b)
		i := 0
		for b.Loop() {
			if err := s.Commit(ctx, benchChange(i*1000, 1000, at)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "components/s")
	})
	s := open(b)
	start := time.Now()
	for i := 0; i < size; i += 1000 {
		if err := s.Commit(ctx, benchChange(i, min(1000, size-i), at)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built a store of %d components in %s", size, time.Since(start).Round(time.Second))
	end := at.Add(time.Duration(size) * time.Second)
	b.Run(fmt.Sprintf("LoadTopology%d", size), func(b *testing.B) {
		for b.Loop() {
			st, err := s.LoadTopology(ctx)
			if err != nil || len(st.Components) != size {
				b.Fatalf("LoadTopology: %d components, %v; want %d", len(st.Components), err, size)
			}
		}
	})
	b.Run(fmt.Sprintf("TopologyAt%d", size), func(b *testing.B) {
		for b.Loop() {
			comps, _, err := s.TopologyAt(ctx, end)
			if err != nil || len(comps) != size {
				b.Fatalf("TopologyAt: %d components, %v; want %d", len(comps), err, size)
			}
		}
	})
	b.Run("VersionsOfOne", func(b *testing.B) {
		for b.Loop() {
			vs, err := s.Versions(ctx, store.VersionQuery{ID: "i-00000042"})
			if err != nil || len(vs) != 1 {
				b.Fatalf("Versions: %d, %v; want 1", len(vs), err)
			}
		}
	})
	b.Run("HistoryWindow1000", func(b *testing.B) {
		since := at.Add(time.Duration(size/2) * time.Second)
		q := store.VersionQuery{Since: since, Until: since.Add(1000 * time.Second), Limit: 1000}
		for b.Loop() {
			vs, err := s.Versions(ctx, q)
			if err != nil || len(vs) != 1000 {
				b.Fatalf("Versions in a window: %d, %v; want 1000", len(vs), err)
			}
		}
	})
}
