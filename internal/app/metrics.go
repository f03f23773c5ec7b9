package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/config"
)

// newMetricsFetcher returns the Fetcher of serve's CloudWatch metrics: the
// clients are those of the monitored accounts (their assumed roles,
// limits and call records, so that a denied cloudwatch:GetMetricData
// shows in the integration status like any other call).
func newMetricsFetcher(cfg *config.Config, prov *awsconn.Provider) *metrics.Fetcher {
	var mu sync.Mutex
	accounts := map[string]*awsconn.Account{}
	return &metrics.Fetcher{Client: func(ctx context.Context, account, region string) (metrics.API, error) {
		mu.Lock()
		acct := accounts[account]
		mu.Unlock()
		if acct == nil {
			for _, inst := range cfg.Instances {
				if inst.Account != "" && inst.Account != account {
					continue
				}
				a, err := prov.Account(ctx, inst.RoleARN)
				if err != nil || a.ID != account {
					continue
				}
				acct = a
				break
			}
			if acct == nil {
				return nil, fmt.Errorf("account %s is not monitored, or its role cannot be assumed now", account)
			}
			mu.Lock()
			accounts[account] = acct
			mu.Unlock()
		}
		return metrics.NewClient(acct.Config(region)), nil
	}}
}

// metricsAPI is what the API fetches component metrics with: nil (503)
// when metrics.enabled is false.
func metricsAPI(cfg *config.Config, f *metrics.Fetcher) api.Metrics {
	if !cfg.Metrics.Enabled {
		return nil
	}
	return f
}
