package traces

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Graph is what the publisher reads of and writes to the topology;
// *topology.Graph is one.
type Graph interface {
	Lookup(ref string) (model.Component, bool)
	Select(keep func(model.Component) bool, offset, limit int) ([]model.Component, int)
	Apply(ctx context.Context, cause string, snaps []model.Snapshot) ([]model.Version, error)
}

// Cause is the cause of the versions trace relations make.
const Cause = "traces"

// publishEvery is how often relations are published while spans keep
// coming, and at most how long a relation outlives its window.
const publishEvery = 30 * time.Second

// namesTTL is how long the index of component names is trusted.
const namesTTL = time.Minute

// Publisher publishes a receiver's relations into the topology, as one
// snapshot of scope type Scope.
type Publisher struct {
	Receiver *Receiver
	Graph    Graph
	Log      *slog.Logger

	started time.Time

	mu      sync.Mutex        // guards names, namesAt
	names   map[string]string // component name -> id; "" when several share it
	namesAt time.Time
}

// Run publishes shortly after spans made new relations and every 30 s,
// so that relations whose calls left the window go; it returns when ctx is
// cancelled. Relations published before a restart (the figures live in
// memory) stay until a window after the start, unless calls renew them.
func (p *Publisher) Run(ctx context.Context) error {
	p.started = p.Receiver.now()
	t := time.NewTicker(publishEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.Receiver.Changed():
			// let a burst of requests land first
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		case <-t.C:
		}
		if err := p.Publish(ctx); err != nil && ctx.Err() == nil && p.Log != nil {
			p.Log.Warn("trace relations not published", "err", err)
		}
	}
}

// Publish applies the relations of the window as they are now.
func (p *Publisher) Publish(ctx context.Context) error {
	complete := !p.started.IsZero() && p.Receiver.now().Sub(p.started) >= p.Receiver.window
	_, err := p.Graph.Apply(ctx, Cause, []model.Snapshot{p.Receiver.Snapshot(p.Resolve, complete)})
	return err
}

// Resolve is the end a reference is published as: a urn:endpoint:/<host>
// the map knows as the component's id, else urn:service:/<host>; a
// urn:service:/<name> as the id of the one component known by that
// identifier or name, else as it is; anything else (ARNs, urn:host:/<ip>)
// as the id of the component the map knows it as (an instance's ARN is
// its id's identifier), else as it is, for the graph to resolve or keep
// pending.
func (p *Publisher) Resolve(ref string) string {
	switch {
	case strings.HasPrefix(ref, endpointPrefix):
		if c, ok := p.Graph.Lookup(ref); ok {
			return c.ID
		}
		return servicePrefix + strings.TrimPrefix(ref, endpointPrefix)
	case strings.HasPrefix(ref, servicePrefix):
		if c, ok := p.Graph.Lookup(ref); ok {
			return c.ID
		}
		if id := p.byName(strings.TrimPrefix(ref, servicePrefix)); id != "" {
			return id
		}
	default:
		if c, ok := p.Graph.Lookup(ref); ok {
			return c.ID
		}
	}
	return ref
}

// byName is the id of the one component with the given name, "" when
// none or several have it.
func (p *Publisher) byName(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.Receiver.now()
	if p.names == nil || now.Sub(p.namesAt) > namesTTL {
		names := map[string]string{}
		p.Graph.Select(func(c model.Component) bool {
			if _, seen := names[c.Name]; seen {
				names[c.Name] = ""
			} else {
				names[c.Name] = c.ID
			}
			return false
		}, 0, 0)
		p.names, p.namesAt = names, now
	}
	return p.names[name]
}

// Snapshot is the relations of the window as one snapshot of scope type
// Scope (no account or region: spans may name none), ends resolved by
// resolve. Relations that resolve to the same pair are merged. A relation's
// data is what stays true while calls go on, so that publishing does not
// add a version to the history each time:
//
//	{"source": "trace", "system": "aws-api", "operations": ["GetItem", "PutItem"], "window": "1h"}
//
// The figures (calls, errors, latency, first and last seen) change with
// every call: Relations serves them.
func (r *Receiver) Snapshot(resolve func(string) string, complete bool) model.Snapshot {
	rels := r.Relations(resolve)
	s := model.Snapshot{Scope: model.Scope{Type: Scope}, Complete: complete}
	win := model.WindowString(r.window)
	for i := 0; i < len(rels); {
		rel := rels[i]
		ops := rel.Operations
		j := i + 1
		for ; j < len(rels) && rels[j].Source == rel.Source && rels[j].Target == rel.Target; j++ {
			for _, op := range rels[j].Operations {
				if !slices.Contains(ops, op) && len(ops) < maxOperations {
					ops = append(ops, op)
				}
			}
		}
		i = j
		if rel.Source == rel.Target {
			continue
		}
		slices.Sort(ops)
		s.Relations = append(s.Relations, model.Relation{Source: rel.Source, Target: rel.Target, Type: model.UsesService,
			Data: map[string]any{"source": Source, "system": rel.System, "operations": ops, "window": win}})
	}
	return s
}
