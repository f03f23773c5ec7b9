package app

import (
	"context"
	"log/slog"
	"time"
)

// pruner deletes the history older than storage.history_retention: at
// start, then every interval.
type pruner struct {
	// prune is store.Topology's PruneHistory.
	prune     func(ctx context.Context, before time.Time) (int64, error)
	retention time.Duration
	interval  time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// Run prunes until ctx is cancelled, and returns ctx's error. A prune that
// fails is logged and tried again an interval later: until then skymap
// keeps more history than configured, and serves it.
func (p *pruner) Run(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		p.pruneOnce(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (p *pruner) pruneOnce(ctx context.Context) {
	before := p.now().Add(-p.retention).UTC()
	started := time.Now()
	n, err := p.prune(ctx, before)
	log := p.log.With("before", before, "versions", n, "seconds", time.Since(started).Seconds())
	switch {
	case ctx.Err() != nil:
		// Stopping: the next start finishes the prune.
	case err != nil:
		log.Warn("history prune failed; retrying at the next interval", "err", err)
	case n > 0:
		log.Info("history pruned")
	default:
		log.Debug("history pruned")
	}
}
