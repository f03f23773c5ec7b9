package embedded

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/storetest"
)

// TestPruneHistoryBatches prunes in transactions of 1 and 2 versions,
// which cut histories in the middle.
func TestPruneHistoryBatches(t *testing.T) {
	for _, batch := range []int{1, 2} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			storetest.PruneHistory(t, openTopology(batch))
		})
	}
}

// TestPruneHistoryInterrupted stops a prune after its first transaction,
// as when the process dies, and runs it again.
func TestPruneHistoryInterrupted(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, 2)
	check := storetest.WritePruneHistory(t, s)

	w := &pruneWalk{cut: storetest.PruneCut.UnixNano()}
	if n, _, err := s.pruneStep(ctx, w, true); n != 2 || err != nil {
		t.Fatalf("first step: %d, %v; want 2 versions deleted", n, err)
	}
	if start, err := s.HistoryStart(ctx); err != nil || !start.Equal(storetest.PruneCut) {
		t.Errorf("HistoryStart once versions are gone = %v, %v; want %v", start, err, storetest.PruneCut)
	}
	if _, _, err := s.TopologyAt(ctx, storetest.PruneCut.Add(-1)); !errors.Is(err, store.ErrPruned) {
		t.Errorf("TopologyAt before the cut once versions are gone: %v, want ErrPruned", err)
	}
	if _, err := s.PruneHistory(ctx, storetest.PruneCut); err != nil {
		t.Fatal(err)
	}
	check()
}
