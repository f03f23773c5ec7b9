package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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
	// Sink, when set, receives the snapshots of each listing as soon as it
	// ends, and Scan returns none: memory then holds only the listings in
	// flight, not the whole estate. An error from Sink ends the scan with
	// that error. Sink may be called from several goroutines at once.
	Sink func(ctx context.Context, snaps []model.Snapshot) error
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

// task is one listing against one target; with only, the re-describing
// of the resources it names.
type task struct {
	l    listing
	t    Target
	only []string
}

// Scan runs one full scan. It returns one snapshot per scope (or hands them
// to Sink), complete only where the listing completed, and the problems met.
// It fails only when ctx is cancelled or Sink fails.
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

	snaps, more, err := s.run(ctx, tasks)
	return snaps, append(problems, more...), err
}

// Wanted is what a change event asks to re-describe: resources of one
// type, by component id or identifier, or (IDs nil) every resource of it.
type Wanted struct {
	Type string
	IDs  []string
}

// Refresh re-describes what want names in one account and region: the
// update change events ask for. A type with a describer and named
// resources is re-described resource by resource, giving targeted
// snapshots (model.Snapshot.Only) that remove the named resources found
// gone; any other re-runs the listings that produce it (global listings
// whatever the region, S3's account-wide one for any of the account's
// regions), with complete snapshots as in a full scan. It returns what
// Scan returns, for those only.
func (s *Scanner) Refresh(ctx context.Context, account, region string, want []Wanted) ([]model.Snapshot, []Problem, error) {
	idx := slices.IndexFunc(s.Instances, func(in config.Instance) bool { return in.Account == account })
	if idx < 0 {
		return nil, nil, fmt.Errorf("refresh account %s: %w", account, ErrNotMonitored)
	}
	inst := s.Instances[idx]
	ts, err := s.plan(ctx, inst)
	if err != nil {
		p := Problem{Account: account, Region: partition.Global, What: "access", Err: err}
		if s.Redact != nil {
			p.Err = s.Redact(err)
		}
		return nil, []Problem{p}, nil
	}
	// Per type, the resources named, or nil once any want asks for all.
	named := map[string][]string{}
	for _, w := range want {
		ids, seen := named[w.Type]
		switch {
		case seen && ids == nil, w.IDs == nil, describers[w.Type] == nil:
			named[w.Type] = nil
		default:
			for _, id := range w.IDs {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			named[w.Type] = ids
		}
	}
	var picked []task
	for _, tk := range ts {
		// Global services answer events of the partition's global region
		// (IAM's come from us-east-1): any region selects them.
		inRegion := tk.t.Region == region || tk.l.where == global ||
			tk.l.where == accountWide && slices.Contains(tk.t.Regions, region)
		if !inRegion {
			continue
		}
		full := false
		for _, typ := range tk.l.types {
			ids, ok := named[typ]
			switch {
			case !ok:
			case ids == nil || len(tk.l.types) > 1:
				full = true
			default:
				picked = append(picked, task{l: tk.l, t: tk.t, only: ids})
			}
		}
		if full {
			picked = append(picked, tk)
		}
	}
	return s.run(ctx, picked)
}

// ErrNotMonitored reports an account or region no instance of the config
// monitors: events about it are ignored.
var ErrNotMonitored = errors.New("not monitored")

// run runs listings, at most Concurrency at a time.
func (s *Scanner) run(ctx context.Context, tasks []task) ([]model.Snapshot, []Problem, error) {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	redact := s.Redact
	if redact == nil {
		redact = func(err error) error { return err }
	}
	var (
		mu       sync.Mutex
		problems []Problem
	)
	var snaps []model.Snapshot
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.concurrency())
	for _, tk := range tasks {
		g.Go(func() error {
			res, err := runListing(gctx, tk)
			ss := split(tk, res, err == nil)
			err = redact(err)
			what := "list " + strings.Join(tk.l.types, ", ")
			if s.Sink != nil {
				if serr := s.Sink(gctx, ss); serr != nil {
					return serr
				}
				ss = nil
			}
			mu.Lock()
			defer mu.Unlock()
			snaps = append(snaps, ss...)
			if err != nil {
				problems = append(problems, Problem{Account: tk.t.Account, Region: tk.t.Region, What: what, Err: err})
				log.Warn("listing incomplete", "account", tk.t.Account, "region", tk.t.Region, "types", tk.l.types, "err", err)
			}
			for _, m := range res.Malformed {
				problems = append(problems, Problem{Account: tk.t.Account, Region: tk.t.Region, What: what, Err: redact(m)})
			}
			done++
			if s.Progress != nil {
				s.Progress(Progress{Done: done, Total: len(tasks), Last: tk.t.Account + " " + tk.t.Region + " " + tk.l.types[0]})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, problems, err
	}
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

// runListing runs one listing. A listing that panics on an answer it did
// not expect fails alone, as incomplete, instead of ending the scan.
func runListing(ctx context.Context, tk task) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = Result{}, fmt.Errorf("%w: %v", ErrUnexpectedAnswer, r)
		}
	}()
	if tk.only != nil {
		return describers[tk.l.types[0]](ctx, tk.t, tk.only)
	}
	return tk.l.run(ctx, tk.t)
}

// ErrUnexpectedAnswer reports a listing that met an AWS answer it could not
// handle at all; the listing is incomplete and its previous components kept.
var ErrUnexpectedAnswer = errors.New("unexpected answer from AWS")

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
	byRegion := map[string]*shared{}
	target := func(region string) Target {
		if byRegion[region] == nil {
			byRegion[region] = &shared{}
		}
		return Target{Account: acct.ID, Partition: part, Region: region, Config: acct.Config(region),
			Regions: real, ConfigFor: func(r string) aws.Config { return acct.Config(r) }, shared: byRegion[region]}
	}
	var ts []task
	for _, l := range listings {
		if !runs(inst, l) {
			continue
		}
		switch l.where {
		case regional:
			for _, r := range real {
				ts = append(ts, task{l: l, t: target(r)})
			}
		case global:
			if hasGlobal {
				ts = append(ts, task{l: l, t: target(partition.Global)})
			}
		case accountWide:
			if len(real) > 0 {
				ts = append(ts, task{l: l, t: target(partition.Global)})
			}
		}
	}
	return ts, nil
}

// runs tells whether an instance's apis_to_run select a listing: all run
// when apis_to_run is empty; a listed API runs all its listings, or with a
// filter ("ec2|instances vpcs", StackState's syntax) those whose filter word
// or one of whose types (or a prefix of it, "aws.ec2") the filter names.
func runs(inst config.Instance, l listing) bool {
	if len(inst.APIs) == 0 {
		return true
	}
	for _, a := range inst.APIs {
		if a.Name != l.api {
			continue
		}
		if a.Filter == "" {
			return true
		}
		for _, w := range strings.FieldsFunc(a.Filter, func(r rune) bool { return r == ' ' || r == ',' }) {
			if w == l.filter {
				return true
			}
			for _, typ := range l.types {
				if typ == w || strings.HasPrefix(typ, w+".") {
					return true
				}
			}
		}
	}
	return false
}

// CheckAPIs checks the filters of apis_to_run entries against the listings:
// a filter word that selects nothing is a mistake the user wants to hear of.
func CheckAPIs(apis []config.API) []error {
	var errs []error
	for i, a := range apis {
		if a.Filter == "" {
			continue
		}
		var known []string
		for _, l := range listings {
			if l.api == a.Name {
				known = append(known, l.filter)
			}
		}
		for _, w := range strings.FieldsFunc(a.Filter, func(r rune) bool { return r == ' ' || r == ',' }) {
			inst := config.Instance{APIs: []config.API{{Name: a.Name, Filter: w}}}
			if !slices.ContainsFunc(listings, func(l listing) bool { return runs(inst, l) }) {
				errs = append(errs, fmt.Errorf("apis_to_run[%d]: filter %q selects nothing of %s (known: %s)",
					i, w, a.Name, strings.Join(known, " ")))
			}
		}
	}
	return errs
}

// split turns one listing's result into snapshots: one per type the listing
// produces, in the target's region, or in each configured region for
// account-wide listings. Relations belong to the scope of their source
// component, or of the listing's main type when the source is not one of
// its components.
func split(tk task, res Result, complete bool) []model.Snapshot {
	regions := []string{tk.t.Region}
	if tk.l.where == accountWide {
		regions = tk.t.Regions
	}
	type key struct{ region, typ string }
	scopes := map[key]*model.Snapshot{}
	var order []*model.Snapshot
	for _, r := range regions {
		for _, typ := range tk.l.types {
			s := &model.Snapshot{Scope: model.Scope{Account: tk.t.Account, Region: r, Type: typ}, Complete: complete}
			if tk.only != nil {
				// A re-describe that failed tells nothing of what it missed.
				s.Complete = false
				if complete {
					s.Only = tk.only
				}
			}
			scopes[key{r, typ}] = s
			order = append(order, s)
		}
	}
	owner := map[string]*model.Snapshot{}
	for _, c := range res.Components {
		s := scopes[key{c.Region, c.Type}]
		if s == nil {
			// A resource outside the configured regions (account-wide
			// listings), or of a type the listing does not declare (a bug
			// TestListingsDeclareTheirTypes catches).
			continue
		}
		s.Components = append(s.Components, c)
		owner[c.ID] = s
		for _, id := range c.Identifiers {
			if owner[id] == nil {
				owner[id] = s
			}
		}
	}
	for _, r := range res.Relations {
		if s := owner[r.Source]; s != nil {
			s.Relations = append(s.Relations, r)
		} else if len(order) > 0 {
			order[0].Relations = append(order[0].Relations, r)
		}
	}
	snaps := make([]model.Snapshot, len(order))
	for i, s := range order {
		snaps[i] = *s
	}
	return snaps
}
