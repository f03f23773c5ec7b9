// Package app wires skymap's parts together from a validated config: the AWS
// access layer, the inventory scanner, the topology graph, the store and the
// HTTP API. Tests start the whole system in-process through it.
package app

import (
	"context"
	"log/slog"
	"sort"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/topology"
)

// Document is the output of `skymap scan`, a public contract: later versions
// add fields, never remove or rename them.
type Document struct {
	Components []model.Component `json:"components"`
	// Relations have both ends resolved and written as component ids.
	Relations []model.Relation `json:"relations"`
	// PendingRelations wait for an end that was not seen, as emitted.
	PendingRelations []model.Relation   `json:"pending_relations"`
	Status           []model.CallStatus `json:"status"`
}

// Options are what the caller of app provides besides the config.
type Options struct {
	Logger *slog.Logger
	// Progress, when set, receives scan progress.
	Progress func(inventory.Progress)
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// newProvider builds the AWS access layer from the config; onCall, when
// set, is told of every call (awsconn.Options.OnCall).
func newProvider(ctx context.Context, cfg *config.Config, log *slog.Logger, onCall func(awsconn.Call)) (*awsconn.Provider, error) {
	return awsconn.New(ctx, awsconn.Options{
		AccessKeyID:                cfg.Credentials.AccessKeyID.Reveal(),
		SecretAccessKey:            cfg.Credentials.SecretAccessKey.Reveal(),
		ExternalID:                 cfg.ExternalID.Reveal(),
		AllowRoleWithoutExternalID: cfg.AllowRoleWithoutExternalID,
		EndpointURL:                cfg.AWS.EndpointURL,
		Endpoints:                  cfg.AWS.Endpoints,
		MaxAttempts:                cfg.AWS.MaxAttempts,
		RequestTimeout:             cfg.AWS.RequestTimeout,
		Logger:                     log,
		OnCall:                     onCall,
	})
}

// newScanner builds the inventory scanner of cfg's instances.
func newScanner(cfg *config.Config, prov *awsconn.Provider, opts Options) *inventory.Scanner {
	return &inventory.Scanner{Accounts: prov, Instances: cfg.Instances, Concurrency: cfg.AWS.Concurrency,
		Logger: opts.logger(), Progress: opts.Progress, Redact: prov.Recorder().Redact}
}

// Scan runs one full scan of every configured account and region and returns
// the topology document. Problems met are in the document's status; Scan
// fails only when the AWS access layer cannot start or ctx is cancelled.
func Scan(ctx context.Context, cfg *config.Config, opts Options) (Document, error) {
	g := topology.New(nil)
	status, err := ScanInto(ctx, cfg, opts, g)
	if err != nil {
		return Document{}, err
	}
	return Document{
		Components:       g.Components(),
		Relations:        g.Relations(),
		PendingRelations: g.Pending(),
		Status:           status,
	}, nil
}

// ScanInto runs one full scan into g, applying each listing as it ends,
// and returns the call statuses, problems included.
func ScanInto(ctx context.Context, cfg *config.Config, opts Options, g *topology.Graph) ([]model.CallStatus, error) {
	prov, err := newProvider(ctx, cfg, opts.logger(), nil)
	if err != nil {
		return nil, err
	}
	sc := newScanner(cfg, prov, opts)
	sc.Sink = func(ctx context.Context, snaps []model.Snapshot) error {
		_, err := g.Apply(ctx, "scan", snaps)
		return err
	}
	_, problems, err := sc.Scan(ctx)
	if err != nil {
		return nil, err
	}
	return statuses(prov.Recorder().Statuses(), problems), nil
}

// statuses merges the recorded call outcomes with the access problems that
// are not API failures (a role refused by the external-id probe, say).
func statuses(calls []model.CallStatus, problems []inventory.Problem) []model.CallStatus {
	out := append([]model.CallStatus{}, calls...)
	for _, p := range problems {
		if p.What != "access" {
			continue // listing failures are the calls' own outcomes
		}
		outcome, _ := awsconn.Classify(p.Err)
		if outcome == model.OutcomeOK {
			outcome = model.OutcomeFailed // a refusal by the probe is no API error
		}
		st := model.CallStatus{Account: p.Account, Region: partition.Global, API: "sts:AssumeRole", Outcome: outcome, Detail: p.Err.Error(), Calls: 1}
		replaced := false
		for i := range out {
			if out[i].Account == st.Account && out[i].Region == st.Region && out[i].API == st.API {
				st.Calls, st.Time = out[i].Calls, out[i].Time
				out[i], replaced = st, true
			}
		}
		if !replaced {
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.API < b.API
	})
	return out
}

// Problems counts the status entries that are not ok.
func (d Document) Problems() int {
	n := 0
	for _, s := range d.Status {
		if s.Outcome != model.OutcomeOK {
			n++
		}
	}
	return n
}
