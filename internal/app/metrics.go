package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/config"
)

// newMetricsFetcher returns the Fetcher of serve's CloudWatch metrics: the
// clients are those of the monitored accounts (their assumed roles,
// limits and call records, so that a denied cloudwatch:GetMetricData
// shows in the integration status like any other call). Its Catalog
// leaves out the metrics CloudWatch does not list.
func newMetricsFetcher(cfg *config.Config, prov *awsconn.Provider) *metrics.Fetcher {
	account := monitoredAccounts(cfg, prov)
	client := func(ctx context.Context, id, region string) (*cloudwatch.Client, error) {
		acct, err := account(ctx, id)
		if err != nil {
			return nil, err
		}
		return metrics.NewClient(acct.Config(region)), nil
	}
	return &metrics.Fetcher{
		Client: func(ctx context.Context, id, region string) (metrics.API, error) { return client(ctx, id, region) },
		Catalog: &metrics.Catalog{Client: func(ctx context.Context, id, region string) (metrics.ListAPI, error) {
			return client(ctx, id, region)
		}},
	}
}

// monitoredAccounts returns a function giving the access to a monitored
// account by its id, through the instance of the config that names it
// (or, for an instance without an account, whose role is in it); an
// account found is remembered.
func monitoredAccounts(cfg *config.Config, prov *awsconn.Provider) func(ctx context.Context, account string) (*awsconn.Account, error) {
	var mu sync.Mutex
	accounts := map[string]*awsconn.Account{}
	return func(ctx context.Context, account string) (*awsconn.Account, error) {
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
		return acct, nil
	}
}

// metricsAPI is what the API fetches component metrics with: nil (503)
// when metrics.enabled is false.
func metricsAPI(cfg *config.Config, f *metrics.Fetcher) api.Metrics {
	if !cfg.Metrics.Enabled {
		return nil
	}
	return f
}
