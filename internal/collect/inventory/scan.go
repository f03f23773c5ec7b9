package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
)

// Accounts gives access to monitored accounts; *awsconn.Provider is one.
type Accounts interface {
	Account(ctx context.Context, roleARN string) (*awsconn.Account, error)
}

var _ Accounts = (*awsconn.Provider)(nil)

// Scanner runs full scans: every listing for every configured account and
// region. The zero value is not usable: set Accounts and Instances.
type Scanner struct {
	Accounts  Accounts
	Instances []config.Instance
	// Concurrency bounds the listings in flight; 0 means 8.
	Concurrency int
	Logger      *slog.Logger
	// Progress, when set, is called after each listing finishes.
	Progress func(Progress)
	// Redact, when set, removes secrets from errors before they are
	// logged or reported (awsconn's Recorder.Redact).
	Redact func(error) error
}

// Progress tells how far a scan is.
type Progress struct {
	Done, Total int
	// Last names the listing that just finished: "<account> <region> <type>".
	Last string
}

// Problem is something a scan could not do; it still returns everything else.
type Problem struct {
	Account, Region, What string
	Err                   error
}

func (p Problem) Error() string {
	return fmt.Sprintf("account %s region %s: %s: %v", p.Account, p.Region, p.What, p.Err)
}

// task is one listing against one target.
type task struct {
	l listing
	t Target
}

// Scan runs one full scan. It returns one snapshot per scope, complete only
// where the listing completed, and the problems met. It fails only when ctx
// is cancelled.
func (s *Scanner) Scan(ctx context.Context) ([]model.Snapshot, []Problem, error) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		mu       sync.Mutex
		tasks    []task
		problems []Problem
	)
	redact := s.Redact
	if redact == nil {
		redact = func(err error) error { return err }
	}
	addProblem := func(p Problem) {
		p.Err = redact(p.Err)
		mu.Lock()
		problems = append(problems, p)
		mu.Unlock()
	}

	// Access to each account first: assume-role and region expansion.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.concurrency())
	for _, inst := range s.Instances {
		g.Go(func() error {
			ts, err := s.plan(gctx, inst)
			if err != nil {
				log.Error("account unavailable", "instance", inst.Name, "err", err)
				addProblem(Problem{Account: inst.Account, Region: partition.Global, What: "access", Err: err})
				return nil
			}
			mu.Lock()
			tasks = append(tasks, ts...)
			mu.Unlock()
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, problems, err
	}

	var snaps []model.Snapshot
	done := 0
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(s.concurrency())
	for _, tk := range tasks {
		g.Go(func() error {
			res, err := tk.l.run(gctx, tk.t)
			ss := split(tk, res, err == nil)
			err = redact(err)
			mu.Lock()
			defer mu.Unlock()
			snaps = append(snaps, ss...)
			if err != nil {
				problems = append(problems, Problem{Account: tk.t.Account, Region: tk.t.Region, What: "list " + tk.l.typ, Err: err})
				log.Warn("listing incomplete", "account", tk.t.Account, "region", tk.t.Region, "type", tk.l.typ, "err", err)
			}
			done++
			if s.Progress != nil {
				s.Progress(Progress{Done: done, Total: len(tasks), Last: tk.t.Account + " " + tk.t.Region + " " + tk.l.typ})
			}
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, problems, err
	}
	return snaps, problems, nil
}

func (s *Scanner) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return 8
}

// plan assumes the instance's role, expands its regions and lists the
// tasks for it.
func (s *Scanner) plan(ctx context.Context, inst config.Instance) ([]task, error) {
	acct, err := s.Accounts.Account(ctx, inst.RoleARN)
	if err != nil {
		return nil, err
	}
	regions, err := acct.Regions(ctx, inst.Regions)
	if err != nil {
		return nil, fmt.Errorf("expand regions: %w", err)
	}
	part, ok := partition.ByID(acct.Partition)
	if !ok {
		return nil, fmt.Errorf("unknown partition %q", acct.Partition)
	}
	var real []string
	hasGlobal := false
	for _, r := range regions {
		if r == partition.Global {
			hasGlobal = true
		} else {
			real = append(real, r)
		}
	}
	target := func(region string) Target {
		return Target{Account: acct.ID, Partition: part, Region: region, Config: acct.Config(region),
			Regions: real, ConfigFor: func(r string) aws.Config { return acct.Config(r) }}
	}
	var ts []task
	for _, l := range listings {
		if !inst.RunsAPI(l.api) {
			continue
		}
		switch l.where {
		case regional:
			for _, r := range real {
				ts = append(ts, task{l, target(r)})
			}
		case global:
			if hasGlobal {
				ts = append(ts, task{l, target(partition.Global)})
			}
		case accountWide:
			if len(real) > 0 {
				ts = append(ts, task{l, target(partition.Global)})
			}
		}
	}
	return ts, nil
}

// split turns one listing's result into snapshots: one scope for regional
// and global listings, one per configured region for account-wide ones.
// Relations belong to the scope of their source component.
func split(tk task, res Result, complete bool) []model.Snapshot {
	if tk.l.where != accountWide {
		return []model.Snapshot{{
			Scope:      model.Scope{Account: tk.t.Account, Region: tk.t.Region, Type: tk.l.typ},
			Complete:   complete,
			Components: res.Components,
			Relations:  res.Relations,
		}}
	}
	byRegion := map[string]*model.Snapshot{}
	var out []*model.Snapshot
	for _, r := range tk.t.Regions {
		s := &model.Snapshot{Scope: model.Scope{Account: tk.t.Account, Region: r, Type: tk.l.typ}, Complete: complete}
		byRegion[r] = s
		out = append(out, s)
	}
	owner := map[string]*model.Snapshot{}
	for _, c := range res.Components {
		s := byRegion[c.Region]
		if s == nil {
			continue
		}
		s.Components = append(s.Components, c)
		owner[c.ID] = s
		for _, id := range c.Identifiers {
			owner[id] = s
		}
	}
	for _, r := range res.Relations {
		if s := owner[r.Source]; s != nil {
			s.Relations = append(s.Relations, r)
		} else if len(out) > 0 {
			out[0].Relations = append(out[0].Relations, r)
		}
	}
	snaps := make([]model.Snapshot, len(out))
	for i, s := range out {
		snaps[i] = *s
	}
	return snaps
}
