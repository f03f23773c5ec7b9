package app

import (
	"context"
	"log/slog"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// newLogs returns serve's CloudWatch Logs readers: the on-demand Fetcher
// of the API and the Tail that reads every component's groups each
// logs.poll_interval; both nil when logs.enabled is false. Their clients
// are those of the monitored accounts, so that a denied
// logs:FilterLogEvents shows in the integration status like any other call.
func newLogs(cfg *config.Config, prov *awsconn.Provider, st store.State, g *topology.Graph, log *slog.Logger) (*logs.Fetcher, *logs.Tail) {
	if !cfg.Logs.Enabled {
		return nil, nil
	}
	account := monitoredAccounts(cfg, prov)
	client := func(ctx context.Context, id, region string) (logs.API, error) {
		acct, err := account(ctx, id)
		if err != nil {
			return nil, err
		}
		return logs.NewClient(acct.Config(region)), nil
	}
	f := &logs.Fetcher{Client: client}
	for _, m := range cfg.Logs.Groups {
		f.Mappings = append(f.Mappings, logs.Mapping{Component: m.Component, Group: m.Group})
	}
	resolve := func(ref string) (string, bool) {
		c, ok := g.Lookup(ref)
		return c.ID, ok
	}
	tail := &logs.Tail{Client: client, State: st, Logger: log.With("collector", "logs"), Targets: func() []logs.Target {
		var out []logs.Target
		for _, c := range g.Components() {
			groups, err := f.Groups(&c, resolve)
			if err != nil {
				continue // no groups
			}
			for _, gr := range groups {
				out = append(out, logs.Target{Component: c.ID, Group: gr})
			}
		}
		return out
	}}
	return f, tail
}
