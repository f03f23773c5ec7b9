package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// hour returns the start of the pruning tests' timeline plus n hours.
func hour(n int) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
}

// PruneCut is the cutoff of the first prune of the history that
// WritePruneHistory writes.
var PruneCut = hour(5)

// change is one version written by the pruning tests.
type change struct {
	at     int // hour
	entity string
	id     string
	change string
}

// history is written in this order, so in this seq order.
var history = []change{
	{1, "component", "a", model.Created}, // a: updated several times before the cut
	{2, "component", "a", model.Updated},
	{3, "component", "a", model.Updated},
	{7, "component", "a", model.Updated},
	{1, "component", "b", model.Created}, // b: deleted before the cut
	{2, "component", "b", model.Deleted},
	{6, "component", "c", model.Created}, // c: created after the cut
	{1, "component", "d", model.Created}, // d: never changed since
	{1, "component", "e", model.Created}, // e: deleted, then created again, before the cut
	{3, "component", "e", model.Deleted},
	{4, "component", "e", model.Created},
	{2, "component", "f", model.Created}, // f: deleted after the first cut
	{6, "component", "f", model.Deleted},
	{1, "component", "g", model.Created}, // g: updated exactly at the first cut
	{5, "component", "g", model.Updated},
	{6, "component", "h", model.Created}, // h: the clock went back before its deletion
	{2, "component", "h", model.Deleted},
	{1, "relation", "a|uses-service|d", model.Created}, // a relation with the id of no component
	{2, "relation", "a|uses-service|d", model.Updated},
	{1, "component", "a|uses-service|d", model.Created}, // and a component with a relation's id
}

// keptBeforeHour5 is what pruning history before hour 5 keeps.
var keptBeforeHour5 = []string{
	"3 component a updated",
	"7 component a updated",
	"6 component c created",
	"1 component d created",
	"4 component e created",
	"2 component f created",
	"6 component f deleted",
	"1 component g created",
	"5 component g updated",
	"6 component h created",
	"2 component h deleted",
	"2 relation a|uses-service|d updated",
	"1 component a|uses-service|d created",
}

// writeHistory commits changes as versions, one transaction each.
func writeHistory(t *testing.T, s store.Topology, changes []change) {
	t.Helper()
	for i, c := range changes {
		v := model.Version{Time: hour(c.at), Entity: c.entity, ID: c.id, Change: c.change, Cause: "test"}
		if c.change != model.Deleted {
			var state any = model.Component{ID: c.id, Name: fmt.Sprintf("%s@%d#%d", c.id, c.at, i)}
			if c.entity == topology.EntityRelation {
				state = model.Relation{Source: "a", Target: "d", Type: model.UsesService, Data: map[string]any{"v": i}}
			}
			v.State, _ = json.Marshal(state)
		}
		if err := s.Commit(context.Background(), topology.Change{Versions: []model.Version{v}}); err != nil {
			t.Fatal(err)
		}
	}
}

// kept lists the stored versions as "hour entity id change".
func kept(t *testing.T, s store.Topology) []string {
	t.Helper()
	vs, err := s.Versions(context.Background(), store.VersionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%d %s %s %s", int(v.Time.Sub(hour(0)).Hours()), v.Entity, v.ID, v.Change))
	}
	return out
}

// mapAt is what TopologyAt answers.
type mapAt struct {
	Components []model.Component
	Relations  []model.Relation
}

// maps returns the map at every hour from first to last.
func maps(t *testing.T, s store.Topology, first, last int) map[int]mapAt {
	t.Helper()
	out := map[int]mapAt{}
	for h := first; h <= last; h++ {
		comps, rels, err := s.TopologyAt(context.Background(), hour(h))
		if err != nil {
			t.Fatalf("TopologyAt(hour %d): %v", h, err)
		}
		out[h] = mapAt{comps, rels}
	}
	return out
}

// WritePruneHistory writes into the empty store s the history the pruning
// tests prune: components and relations created, updated and deleted
// before and after PruneCut, the clock going back once. It returns check,
// which, once PruneHistory(PruneCut) finished, checks that the right
// versions are left and that TopologyAt answers from PruneCut on as before
// pruning. It is for a backend's own tests of an interrupted prune.
func WritePruneHistory(t *testing.T, s store.Topology) (check func()) {
	t.Helper()
	writeHistory(t, s, history)
	unpruned := maps(t, s, 5, 9)
	return func() {
		t.Helper()
		if d := cmp.Diff(keptBeforeHour5, kept(t, s)); d != "" {
			t.Errorf("versions after pruning before hour 5 (-want +got):\n%s", d)
		}
		if d := cmp.Diff(unpruned, maps(t, s, 5, 9)); d != "" {
			t.Errorf("maps from the cut on (-before +after pruning):\n%s", d)
		}
	}
}

// PruneHistory runs the conformance test of Topology.PruneHistory and
// HistoryStart. Topology runs it; a backend may run it again with an
// opener that makes its prune transactions small.
func PruneHistory(t *testing.T, open OpenTopology) {
	ctx := context.Background()
	s, _ := open(t)
	if start, err := s.HistoryStart(ctx); err != nil || !start.IsZero() {
		t.Errorf("HistoryStart of an empty store = %v, %v; want zero", start, err)
	}
	if n, err := s.PruneHistory(ctx, hour(5)); n != 0 || err != nil {
		t.Errorf("PruneHistory of an empty store = %d, %v; want 0", n, err)
	}
	s, reopen := open(t)
	check := WritePruneHistory(t, s)
	if start, err := s.HistoryStart(ctx); err != nil || !start.IsZero() {
		t.Errorf("HistoryStart before pruning = %v, %v; want zero", start, err)
	}
	if n, err := s.PruneHistory(ctx, time.Time{}); n != 0 || err != nil {
		t.Errorf("PruneHistory(zero time) = %d, %v; want 0", n, err)
	}

	n, err := s.PruneHistory(ctx, PruneCut)
	if err != nil {
		t.Fatal(err)
	}
	check()
	if want := int64(len(history) - len(keptBeforeHour5)); n != want {
		t.Errorf("PruneHistory = %d, want %d", n, want)
	}
	if start, err := s.HistoryStart(ctx); err != nil || !start.Equal(hour(5)) {
		t.Errorf("HistoryStart = %v, %v; want hour 5", start, err)
	}
	if _, _, err := s.TopologyAt(ctx, hour(5).Add(-time.Nanosecond)); !errors.Is(err, store.ErrPruned) {
		t.Errorf("TopologyAt just before the cut: %v, want ErrPruned", err)
	}

	// A later prune looks at what was written since the last cut, and
	// at the histories of what it finds there.
	writeHistory(t, s, []change{{9, "component", "d", model.Updated}})
	unpruned := maps(t, s, 8, 10)
	n, err = s.PruneHistory(ctx, hour(8))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"7 component a updated",
		"6 component c created",
		"1 component d created",
		"4 component e created",
		"5 component g updated",
		"2 relation a|uses-service|d updated",
		"1 component a|uses-service|d created",
		"9 component d updated",
	}
	if d := cmp.Diff(want, kept(t, s)); d != "" {
		t.Errorf("versions after pruning before hour 8 (-want +got):\n%s", d)
	}
	// a at 3, f twice, g at 1, and h twice: its creation is before
	// this cut too.
	if n != 6 {
		t.Errorf("second PruneHistory = %d, want 6", n)
	}
	if d := cmp.Diff(unpruned, maps(t, s, 8, 10)); d != "" {
		t.Errorf("maps from the second cut on (-before +after pruning):\n%s", d)
	}

	// An earlier cutoff deletes nothing and leaves the start alone.
	if n, err := s.PruneHistory(ctx, hour(3)); n != 0 || err != nil {
		t.Errorf("PruneHistory(hour 3) after hour 8 = %d, %v; want 0", n, err)
	}
	s = reopen()
	if start, err := s.HistoryStart(ctx); err != nil || !start.Equal(hour(8)) {
		t.Errorf("HistoryStart after a restart = %v, %v; want hour 8", start, err)
	}
	if _, _, err := s.TopologyAt(ctx, hour(7)); !errors.Is(err, store.ErrPruned) {
		t.Errorf("TopologyAt(hour 7) after a restart: %v, want ErrPruned", err)
	}
}

// testPruneHistoryCancelled checks that a prune cancelled before it began
// changes nothing.
func testPruneHistoryCancelled(t *testing.T, open OpenTopology) {
	ctx := context.Background()
	s, _ := open(t)
	check := WritePruneHistory(t, s)
	before := kept(t, s)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.PruneHistory(cancelled, PruneCut); !errors.Is(err, context.Canceled) {
		t.Fatalf("PruneHistory with a cancelled context: %v, want context.Canceled", err)
	}
	if start, err := s.HistoryStart(ctx); err != nil || !start.IsZero() {
		t.Errorf("HistoryStart after a prune that did nothing = %v, %v; want zero", start, err)
	}
	if d := cmp.Diff(before, kept(t, s)); d != "" {
		t.Errorf("versions after a cancelled prune (-before +after):\n%s", d)
	}
	if _, err := s.PruneHistory(ctx, PruneCut); err != nil {
		t.Fatal(err)
	}
	check()
}
