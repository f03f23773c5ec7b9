package alarms

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/topology"
)

// Graph is what a refresh reads and changes of the topology;
// *topology.Graph is one.
type Graph interface {
	Select(keep func(model.Component) bool, offset, limit int) ([]model.Component, int)
	SetHealth(ctx context.Context, updates []topology.HealthUpdate) ([]model.Version, error)
}

var _ Graph = (*topology.Graph)(nil)

// Clients returns the clients of one account and region.
type Clients func(ctx context.Context, account, region string) (CloudWatch, EC2, error)

// Refresher keeps component health up to date: every Interval, and soon
// after Trigger, it reads the alarms and EC2 status checks of every
// account and region holding components that can have health, judges
// each component (Judge) and sets what changed through the graph.
type Refresher struct {
	Graph   Graph
	Clients Clients
	// Interval is the time between refreshes; 0 means a minute.
	Interval time.Duration
	// Concurrency bounds the account-regions read at once; 0 means 4.
	Concurrency int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger

	once    sync.Once
	trigger chan struct{}

	mu      sync.Mutex
	stats   Stats
	changes int
	byComp  map[string][]Alarm
}

// Stats is what the last refresh did, as /api/status shows it.
type Stats struct {
	Refreshed time.Time `json:"refreshed"`
	// Alarms were read; Mapped name a known component, Unmapped none
	// (their namespace and dimensions are not in the metric table, or
	// name a component skymap has not mapped). UnmappedAlarms names the
	// first 20 of those.
	Alarms         int      `json:"alarms"`
	Mapped         int      `json:"mapped"`
	Unmapped       int      `json:"unmapped"`
	UnmappedAlarms []string `json:"unmapped_alarms"`
	// Components counts components by health.
	Components map[string]int `json:"components"`
	// Changes counts the health changes recorded since skymap started.
	Changes int `json:"changes"`
	// Calls are the outcomes of the last refresh's calls per account,
	// region and IAM action: a denied cloudwatch:DescribeAlarms shows here.
	Calls []model.CallStatus `json:"calls"`
}

// maxUnmappedNames bounds Stats.UnmappedAlarms.
const maxUnmappedNames = 20

func (r *Refresher) init() {
	r.once.Do(func() { r.trigger = make(chan struct{}, 1) })
}

// Trigger asks for a refresh soon (after a scan changed the map).
func (r *Refresher) Trigger() {
	r.init()
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Stats returns what the last refresh did.
func (r *Refresher) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Changes = r.changes
	if s.Calls == nil {
		s.Calls = []model.CallStatus{}
	}
	if s.UnmappedAlarms == nil {
		s.UnmappedAlarms = []string{}
	}
	return s
}

// AlarmsOf returns the alarms naming a component (by id) at the last
// refresh, sorted by name.
func (r *Refresher) AlarmsOf(id string) []Alarm {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.byComp[id])
}

// Run refreshes at once, then every Interval and on Trigger, until ctx is
// cancelled. A refresh's failures are in Stats and the log, not returned.
func (r *Refresher) Run(ctx context.Context) error {
	r.init()
	every := r.Interval
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.Refresh(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.trigger:
		}
	}
}

// scope is one account and region.
type scope struct{ account, region string }

// scopeRead is what was read of one scope.
type scopeRead struct {
	alarms    []Alarm
	instances map[string]Status
	ok        bool
}

// Refresh reads alarms and states once and sets the health that changed.
func (r *Refresher) Refresh(ctx context.Context) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	comps, _ := r.Graph.Select(func(c model.Component) bool {
		return metrics.SetFor(c.Type) != nil || hasState(c.Type)
	}, 0, -1)

	// The components by the key of their metrics' dimensions, and the
	// scopes to read: where their metrics and states are.
	index := map[string]string{}
	home := make([]scope, len(comps)) // where each component's alarms are
	scopes := map[scope]bool{}        // true where instances are
	for i := range comps {
		c := &comps[i]
		home[i] = scope{c.Account, c.Region}
		if k, ok := metrics.DimensionKey(c); ok {
			if _, dup := index[k]; !dup {
				index[k] = c.ID
			}
			parts := strings.SplitN(k, "|", 3)
			home[i] = scope{parts[0], parts[1]}
		}
		if _, ok := partition.OfRegion(home[i].region); !ok {
			continue
		}
		scopes[home[i]] = scopes[home[i]] || c.Type == "aws.ec2.instance"
	}

	reads := map[scope]*scopeRead{}
	var calls []model.CallStatus
	var mu sync.Mutex
	eg, gctx := errgroup.WithContext(ctx)
	limit := r.Concurrency
	if limit <= 0 {
		limit = 4
	}
	eg.SetLimit(limit)
	for sc, instances := range scopes {
		eg.Go(func() error {
			rd, cs := r.read(gctx, sc, instances, now)
			mu.Lock()
			reads[sc] = rd
			calls = append(calls, cs...)
			mu.Unlock()
			for _, c := range cs {
				if c.Outcome != model.OutcomeOK {
					log.Warn("health refresh call failed", "account", c.Account, "region", c.Region, "api", c.API, "err", c.Detail)
				}
			}
			return nil
		})
	}
	eg.Wait()
	if ctx.Err() != nil {
		return
	}

	// Map each alarm to its components.
	st := Stats{Refreshed: now().UTC(), Components: map[string]int{}}
	byComp := map[string][]Alarm{}
	for sc, rd := range reads {
		for _, a := range rd.alarms {
			st.Alarms++
			for _, m := range a.Metrics {
				for _, k := range metrics.DimensionKeys(sc.account, sc.region, m.Namespace, m.Dimensions) {
					if id, ok := index[k]; ok {
						if !slices.Contains(a.Components, id) {
							a.Components = append(a.Components, id)
						}
						break
					}
				}
			}
			if len(a.Components) == 0 {
				st.Unmapped++
				if len(st.UnmappedAlarms) < maxUnmappedNames {
					st.UnmappedAlarms = append(st.UnmappedAlarms, a.Name)
				}
				continue
			}
			st.Mapped++
			for _, id := range a.Components {
				byComp[id] = append(byComp[id], a)
			}
		}
	}
	for id := range byComp {
		sort.Slice(byComp[id], func(i, j int) bool { return byComp[id][i].Name < byComp[id][j].Name })
	}

	// Judge the components of the scopes read whole.
	var updates []topology.HealthUpdate
	for i := range comps {
		c := &comps[i]
		rd := reads[home[i]]
		if rd == nil || !rd.ok {
			if c.Health != "" {
				st.Components[c.Health]++
			}
			continue // keep what the last good refresh found
		}
		as := byComp[c.ID]
		ptrs := make([]*Alarm, len(as))
		for j := range as {
			ptrs[j] = &as[j]
		}
		instanceID, _ := c.Data["InstanceId"].(string)
		health, reasons := Judge(c, ptrs, rd.instances[instanceID])
		slices.Sort(reasons)
		if health != "" {
			st.Components[health]++
		}
		if health == c.Health && slices.Equal(reasons, c.HealthReasons) {
			continue
		}
		cause, actor := causeOf(c.HealthReasons, reasons)
		updates = append(updates, topology.HealthUpdate{ID: c.ID, Health: health, Reasons: reasons, Cause: cause, Actor: actor})
	}
	vs, err := r.Graph.SetHealth(ctx, updates)
	if err != nil {
		log.Error("record health changes", "err", err)
	}
	for _, v := range vs {
		log.Info("health changed", "component", v.ID, "cause", v.Cause, "actor", v.Actor)
	}
	sort.Slice(calls, func(i, j int) bool {
		a, b := calls[i], calls[j]
		return a.Account+a.Region+a.API < b.Account+b.Region+b.API
	})
	st.Calls = calls
	r.mu.Lock()
	r.stats, r.byComp = st, byComp
	r.changes += len(vs)
	r.mu.Unlock()
}

// read reads the alarms (and, where instances are, the status checks) of
// one scope.
func (r *Refresher) read(ctx context.Context, sc scope, instances bool, now func() time.Time) (*scopeRead, []model.CallStatus) {
	rd := &scopeRead{}
	call := func(api string, err error) model.CallStatus {
		outcome, detail := awsconn.Classify(err)
		return model.CallStatus{Account: sc.account, Region: sc.region, API: api, Outcome: outcome, Detail: detail, Calls: 1, Time: now().UTC()}
	}
	cw, ec, err := r.Clients(ctx, sc.account, sc.region)
	if err != nil {
		return rd, []model.CallStatus{call(IAMActions[0], err)}
	}
	rd.alarms, err = Read(ctx, cw, sc.region)
	calls := []model.CallStatus{call(IAMActions[0], err)}
	if err != nil {
		return rd, calls
	}
	if instances {
		rd.instances, err = ReadStatus(ctx, ec, sc.region)
		calls = append(calls, call(IAMActions[1], err))
		if err != nil {
			return rd, calls
		}
	}
	rd.ok = true
	return rd, calls
}

// causeOf labels a health change: "alarm" and the alarms whose state
// changed (or that appeared or went), else "state".
func causeOf(old, cur []string) (cause, actor string) {
	var names []string
	changed := func(a, b []string) {
		for _, x := range a {
			if strings.HasPrefix(x, "alarm ") && !slices.Contains(b, x) {
				name := strings.TrimPrefix(x, "alarm ")
				if i := strings.LastIndex(name, ": "); i >= 0 {
					name = name[:i]
				}
				if !slices.Contains(names, name) {
					names = append(names, name)
				}
			}
		}
	}
	changed(cur, old)
	changed(old, cur)
	if len(names) == 0 {
		return "state", ""
	}
	sort.Strings(names)
	return "alarm", strings.Join(names, ", ")
}
