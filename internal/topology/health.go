package topology

import (
	"context"
	"fmt"
	"slices"

	"github.com/skymap/skymap/internal/model"
)

// HealthUpdate sets the health of one component.
type HealthUpdate struct {
	// ID is the component's id or any identifier.
	ID      string
	Health  string
	Reasons []string
	// Cause and Actor label the version: "alarm" and the alarms whose
	// state changed, or "state".
	Cause, Actor string
}

// SetHealth sets the health of components and records a version for each
// that changed, labelled with its update's cause and actor. Updates of
// unknown components, or that change nothing, are skipped. Health lives on
// the component but is SetHealth's alone: Apply keeps it, so scans and
// health refreshes never undo each other.
func (g *Graph) SetHealth(ctx context.Context, updates []HealthUpdate) ([]model.Version, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now().UTC()
	type undo struct {
		n       uint32
		health  string
		reasons []string
	}
	var (
		undos []undo
		ch    Change
	)
	for _, u := range updates {
		n := g.resolve(u.ID)
		if n == 0 {
			continue
		}
		nd := g.nodes[n]
		reasons := slices.Clone(u.Reasons)
		slices.Sort(reasons)
		if len(reasons) == 0 {
			reasons = nil
		}
		if nd.comp.Health == u.Health && slices.Equal(nd.comp.HealthReasons, reasons) {
			continue
		}
		old := nd.full()
		undos = append(undos, undo{n, nd.comp.Health, nd.comp.HealthReasons})
		nd.comp.Health, nd.comp.HealthReasons = u.Health, reasons
		cur := nd.full()
		v := componentVersion(now, u.Cause, model.Updated, &old, &cur)
		v.Actor = u.Actor
		ch.Versions = append(ch.Versions, v)
		ch.Upserted = append(ch.Upserted, Owned{Scope: nd.scope.scope, Component: cur})
	}
	if len(ch.Versions) == 0 {
		return nil, nil
	}
	if g.store != nil {
		if err := g.store.Commit(ctx, ch); err != nil {
			for _, u := range undos {
				g.nodes[u.n].comp.Health, g.nodes[u.n].comp.HealthReasons = u.health, u.reasons
			}
			return nil, fmt.Errorf("commit health change: %w", err)
		}
	}
	return ch.Versions, nil
}
