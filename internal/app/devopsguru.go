package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/devopsguru"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// newInsightRefresher returns serve's DevOps Guru refresher, or nil when
// devopsguru.enabled is false. Its clients are those of the monitored
// accounts, so that its calls are rate-limited and recorded like the
// scans', and a denied devops-guru action shows in the account's state.
func newInsightRefresher(cfg *config.Config, prov *awsconn.Provider, g *topology.Graph, now func() time.Time, log *slog.Logger) *devopsguru.Refresher {
	if !cfg.DevOpsGuru.Enabled {
		return nil
	}
	account := monitoredAccounts(cfg, prov)
	return &devopsguru.Refresher{Graph: g, Interval: cfg.DevOpsGuru.Interval, Lookback: cfg.DevOpsGuru.Lookback, Now: now,
		Log: log.With("collector", "devopsguru"),
		Clients: func(ctx context.Context, id, region string) (devopsguru.API, error) {
			acct, err := account(ctx, id)
			if err != nil {
				return nil, err
			}
			return devopsguru.NewClient(acct.Config(region)), nil
		}}
}

// withInsightCalls gives calls with those of the last DevOps Guru refresh
// in place of older ones of the same account, region and action.
func withInsightCalls(calls []model.CallStatus, r *devopsguru.Refresher) []model.CallStatus {
	if r == nil {
		return calls
	}
	return replaceCalls(calls, r.Stats().Calls)
}
