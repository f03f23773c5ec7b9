package app

import (
	"context"
	"log/slog"
	"sync"

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

// newDeliveredLogs returns the reader of the load balancer and CloudFront
// logs delivered to the buckets of logs.s3, nil when there are none (or
// logs.enabled is false). Its events go to tail, with the CloudWatch ones;
// f reads the time ranges of its buckets. A bucket is read with the role
// of its account (logs.s3[].account), by default the first instance's, so
// a denied s3:GetObject shows in the integration status like any other
// call.
func newDeliveredLogs(cfg *config.Config, prov *awsconn.Provider, st store.State, g *topology.Graph, f *logs.Fetcher, tail *logs.Tail,
	log *slog.Logger) *logs.S3Logs {
	if f == nil || len(cfg.Logs.S3) == 0 {
		return nil
	}
	account := monitoredAccounts(cfg, prov)
	var mu sync.Mutex
	clients := map[string]logs.S3API{}
	s := &logs.S3Logs{State: st, Lookback: cfg.Logs.S3Lookback, Sink: tail.Add, Logger: log.With("collector", "logs-s3"),
		Client: func(ctx context.Context, b logs.Bucket) (logs.S3API, error) {
			mu.Lock()
			defer mu.Unlock()
			if c, ok := clients[b.Account+"/"+b.Region]; ok {
				return c, nil
			}
			var acct *awsconn.Account
			var err error
			if b.Account == "" {
				acct, err = prov.Account(ctx, cfg.Instances[0].RoleARN)
			} else {
				acct, err = account(ctx, b.Account)
			}
			if err != nil {
				return nil, err
			}
			c := awsconn.NewS3(acct.Config(b.Region))
			clients[b.Account+"/"+b.Region] = c
			return c, nil
		},
		Resolve: func(ref string) (string, bool) {
			c, ok := g.Lookup(ref)
			return c.ID, ok
		}}
	for _, b := range cfg.Logs.S3 {
		s.Buckets = append(s.Buckets, logs.Bucket{Bucket: b.Bucket, Prefix: b.Prefix, Kind: logs.Kind(b.Kind), Account: b.Account, Region: b.Region})
	}
	f.S3 = s
	return s
}
