package devopsguru

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/topology"
)

// Graph is what a refresh reads of the topology; *topology.Graph is one.
type Graph interface {
	Lookup(ref string) (model.Component, bool)
	Select(keep func(model.Component) bool, offset, limit int) ([]model.Component, int)
}

var _ Graph = (*topology.Graph)(nil)

// Clients returns the DevOps Guru client of one account and region.
type Clients func(ctx context.Context, account, region string) (API, error)

// Defaults of the Refresher's zero fields.
const (
	DefaultInterval    = 15 * time.Minute
	DefaultLookback    = 7 * 24 * time.Hour
	DefaultMaxPerScope = 500
)

// maxUnmatchedNames bounds Stats.UnmatchedResources.
const maxUnmatchedNames = 20

// Refresher keeps the DevOps Guru insights of every account and region
// holding components: every Interval it lists those ongoing or closed
// within Lookback, reads the description of each new or changed insight
// and the anomalies of each new, changed or ongoing one, and maps what
// they name to the components of the graph. An account-region whose
// listing fails keeps the insights of its last complete listing.
type Refresher struct {
	// Graph is the map: where the scopes are, and the components insights
	// map to.
	Graph Graph
	// Clients gives the client of each account and region.
	Clients Clients
	// Interval is the time between refreshes; 0 means DefaultInterval.
	Interval time.Duration
	// Lookback is how long closed insights are listed and kept; 0 means
	// DefaultLookback.
	Lookback time.Duration
	// MaxPerScope bounds the insights kept per account and region,
	// ongoing ones first, then the most recent; 0 means
	// DefaultMaxPerScope.
	MaxPerScope int
	// Concurrency bounds the account-regions read at once; 0 means 4.
	Concurrency int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives state changes; nil discards them.
	Log *slog.Logger

	mu     sync.Mutex
	scopes map[scope]*scopeState
	// all are the insights of every scope, mapped, in display order.
	all    []Insight
	byComp map[string][]int // component id -> indexes into all
	stats  Stats
}

// scope is one account and region.
type scope struct{ account, region string }

// scopeState is what is kept of one scope: the insights as read (not
// mapped) and the status.
type scopeState struct {
	insights []Insight
	status   ScopeStatus
}

// Filter selects insights; an empty field matches all. Values compare
// without regard to case.
type Filter struct {
	Status, Severity, Type, Account, Region string
}

func (f Filter) match(in *Insight) bool {
	eq := func(want, have string) bool { return want == "" || strings.EqualFold(want, have) }
	return eq(f.Status, in.Status) && eq(f.Severity, in.Severity) && eq(f.Type, in.Type) &&
		eq(f.Account, in.Account) && eq(f.Region, in.Region)
}

// Insights returns the insights f selects: ongoing first, then by
// severity (highest first), most recent first.
func (r *Refresher) Insights(f Filter) []Insight {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Insight{}
	for i := range r.all {
		if f.match(&r.all[i]) {
			out = append(out, r.all[i])
		}
	}
	return out
}

// InsightsOf returns the insights naming a component (by id), in the
// order of Insights.
func (r *Refresher) InsightsOf(id string) []Insight {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Insight, 0, len(r.byComp[id]))
	for _, i := range r.byComp[id] {
		out = append(out, r.all[i])
	}
	return out
}

// Run refreshes at once, then every Interval, until ctx is cancelled. A
// refresh's failures are in Stats and the log, not returned.
func (r *Refresher) Run(ctx context.Context) error {
	every := cmp.Or(r.Interval, DefaultInterval)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.Refresh(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Refresher) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// scopeRead is what one refresh read of one scope.
type scopeRead struct {
	insights []Insight
	complete bool
	calls    *tally
}

// Refresh reads the insights of every account and region holding
// components once, and maps them to the components.
func (r *Refresher) Refresh(ctx context.Context) {
	now := r.now()
	lookback := cmp.Or(r.Lookback, DefaultLookback)

	// The scopes: the account-regions of components (not global). keep
	// sees each component without decoding its data, and returns none.
	want := map[scope]bool{}
	r.Graph.Select(func(c model.Component) bool {
		if _, ok := partition.OfRegion(c.Region); ok && partition.IsAccountID(c.Account) {
			want[scope{c.Account, c.Region}] = true
		}
		return false
	}, 0, -1)

	r.mu.Lock()
	prev := map[scope][]Insight{}
	for sc := range want {
		if st := r.scopes[sc]; st != nil {
			prev[sc] = st.insights
		}
	}
	r.mu.Unlock()

	reads := map[scope]*scopeRead{}
	var mu sync.Mutex
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(cmp.Or(r.Concurrency, 4))
	for sc := range want {
		eg.Go(func() error {
			rd := r.read(gctx, sc, prev[sc], now, lookback)
			mu.Lock()
			reads[sc] = rd
			mu.Unlock()
			return nil
		})
	}
	eg.Wait()
	if ctx.Err() != nil {
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scopes == nil {
		r.scopes = map[scope]*scopeState{}
	}
	for sc := range r.scopes {
		if !want[sc] {
			delete(r.scopes, sc)
		}
	}
	var calls []model.CallStatus
	for sc, rd := range reads {
		st := r.scopes[sc]
		if st == nil {
			st = &scopeState{status: ScopeStatus{Account: sc.account, Region: sc.region}}
			r.scopes[sc] = st
		}
		if rd.complete {
			st.insights = rd.insights
			st.status.Listed = now
		}
		kept, dropped := bound(expire(st.insights, now, lookback), cmp.Or(r.MaxPerScope, DefaultMaxPerScope))
		st.insights = kept
		if rd.complete {
			st.status.Dropped = dropped
		}
		cs := rd.calls.statuses()
		calls = append(calls, cs...)
		r.setStatus(st, cs, rd.calls.firstErr)
	}
	r.remap(now, calls)
}

// read reads one scope: the listing, and for each insight what changed.
// prev are the insights the scope kept: a described insight that did not
// change keeps its description, a closed one that did not change its
// anomalies, and what a call failed to read is kept from prev.
func (r *Refresher) read(ctx context.Context, sc scope, prev []Insight, now time.Time, lookback time.Duration) *scopeRead {
	rd := &scopeRead{calls: newTally(sc.account, sc.region, now)}
	api, err := r.Clients(ctx, sc.account, sc.region)
	if err != nil {
		rd.calls.record(actionList, fmt.Errorf("devops guru client of %s/%s: %w", sc.account, sc.region, err))
		return rd
	}
	listed, err := listInsights(ctx, api, sc.account, sc.region, now.Add(-lookback), now, rd.calls)
	if err != nil {
		return rd
	}
	old := make(map[string]*Insight, len(prev))
	for i := range prev {
		old[prev[i].ID] = &prev[i]
	}
	for i := range listed {
		in := &listed[i]
		was := old[in.ID]
		changed := was == nil || was.Status != in.Status || was.Severity != in.Severity || !sameTime(was.End, in.End)
		if was != nil {
			in.Description, in.OpsItem, in.Anomalies = was.Description, was.OpsItem, was.Anomalies
			in.described, in.anomaliesRead = was.described && !changed, was.anomaliesRead && !changed
			for _, res := range was.Resources {
				if fromAnomalies(res) {
					in.Resources = append(in.Resources, res)
				}
			}
		}
		if !in.described && !rd.calls.denied(actionDescribe) {
			if desc, ops, err := describe(ctx, api, in, rd.calls); err == nil {
				in.Description, in.OpsItem, in.described = desc, ops, true
			}
		}
		if (!in.anomaliesRead || in.Status == StatusOngoing) && !rd.calls.denied(actionAnomalies) {
			if n, res, err := anomalies(ctx, api, in, rd.calls); err == nil {
				in.Anomalies, in.anomaliesRead = n, true
				in.Resources = append(slices.DeleteFunc(in.Resources, fromAnomalies), res...)
			}
		}
		in.Resources = dedupe(in.Resources)
	}
	rd.insights, rd.complete = listed, true
	return rd
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// expire drops the insights closed before now-lookback.
func expire(ins []Insight, now time.Time, lookback time.Duration) []Insight {
	cut := now.Add(-lookback)
	return slices.DeleteFunc(slices.Clone(ins), func(in Insight) bool {
		return in.Status == StatusClosed && in.End != nil && in.End.Before(cut)
	})
}

// bound keeps at most max insights, ongoing first, then the most recent,
// and says how many it dropped.
func bound(ins []Insight, max int) ([]Insight, int) {
	if len(ins) <= max {
		return ins, 0
	}
	slices.SortStableFunc(ins, func(a, b Insight) int {
		return cmp.Or(cmp.Compare(ongoingRank(b), ongoingRank(a)), latest(b).Compare(latest(a)), strings.Compare(a.ID, b.ID))
	})
	return ins[:max], len(ins) - max
}

func ongoingRank(in Insight) int {
	if in.Status == StatusOngoing {
		return 1
	}
	return 0
}

// latest is when an insight last saw its behaviour: its end, else its start.
func latest(in Insight) time.Time {
	if in.End != nil {
		return *in.End
	}
	return in.Start
}
