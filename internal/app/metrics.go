package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/config"
)

// newMetricsFetcher returns the Fetcher of serve's CloudWatch metrics: the
// clients are those of the monitored accounts (their assumed roles,
// limits and call records, so that a denied cloudwatch:GetMetricData
// shows in the integration status like any other call).
func newMetricsFetcher(cfg *config.Config, prov *awsconn.Provider) *metrics.Fetcher {
	account := accountResolver(cfg, prov)
	return &metrics.Fetcher{Client: func(ctx context.Context, id, region string) (metrics.API, error) {
		acct, err := account(ctx, id)
		if err != nil {
			return nil, err
		}
		return metrics.NewClient(acct.Config(region)), nil
	}}
}

// accountResolver returns a function giving the monitored account of an
// account id, its role assumed once and then kept, for the on-demand
// readers (metrics, logs).
func accountResolver(cfg *config.Config, prov *awsconn.Provider) func(ctx context.Context, id string) (*awsconn.Account, error) {
	var mu sync.Mutex
	accounts := map[string]*awsconn.Account{}
	return func(ctx context.Context, account string) (*awsconn.Account, error) {
		mu.Lock()
		acct := accounts[account]
		mu.Unlock()
		if acct != nil {
			return acct, nil
		}
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
		return acct, nil
	}
}
