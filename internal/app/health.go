package app

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/alarms"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// newHealthRefresher returns serve's health refresher, or nil when
// health.enabled is false. Its clients are those of the monitored
// accounts, so that its calls are rate-limited and recorded like the
// scans'.
func newHealthRefresher(cfg *config.Config, prov *awsconn.Provider, g *topology.Graph, log *slog.Logger) *alarms.Refresher {
	if !cfg.Health.Enabled {
		return nil
	}
	account := monitoredAccounts(cfg, prov)
	return &alarms.Refresher{Graph: g, Interval: cfg.Health.Interval, Log: log.With("collector", "health"),
		Clients: func(ctx context.Context, id, region string) (alarms.CloudWatch, alarms.EC2, error) {
			acct, err := account(ctx, id)
			if err != nil {
				return nil, nil, err
			}
			c := acct.Config(region)
			return metrics.NewClient(c), ec2.NewFromConfig(c), nil
		}}
}

// withHealthCalls gives the scan's call outcomes with those of the last
// health refresh in place of older ones of the same account, region and
// action, so that a denied cloudwatch:DescribeAlarms shows in the
// account's state.
func withHealthCalls(calls []model.CallStatus, h *alarms.Refresher) []model.CallStatus {
	if h == nil {
		return calls
	}
	return replaceCalls(calls, h.Stats().Calls)
}

// replaceCalls gives calls with fresh ones in place of those of the same
// account, region and action.
func replaceCalls(calls, fresh []model.CallStatus) []model.CallStatus {
	type key struct{ account, region, api string }
	newer := map[key]bool{}
	for _, c := range fresh {
		newer[key{c.Account, c.Region, c.API}] = true
	}
	out := make([]model.CallStatus, 0, len(calls)+len(fresh))
	for _, c := range calls {
		if !newer[key{c.Account, c.Region, c.API}] {
			out = append(out, c)
		}
	}
	return append(out, fresh...)
}
