package app

import (
	"context"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/config"
)

// newLogsFetcher returns the reader of serve's CloudWatch Logs, nil when
// logs.enabled is false. Its clients are those of the monitored accounts,
// so that a denied logs:FilterLogEvents shows in the integration status
// like any other call.
func newLogsFetcher(cfg *config.Config, prov *awsconn.Provider) api.Logs {
	if !cfg.Logs.Enabled {
		return nil
	}
	account := accountResolver(cfg, prov)
	f := &logs.Fetcher{Client: func(ctx context.Context, id, region string) (logs.API, error) {
		acct, err := account(ctx, id)
		if err != nil {
			return nil, err
		}
		return logs.NewClient(acct.Config(region)), nil
	}}
	for _, g := range cfg.Logs.Groups {
		f.Mappings = append(f.Mappings, logs.Mapping{Component: g.Component, Group: g.Group})
	}
	return f
}
