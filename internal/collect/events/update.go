package events

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

// Updater applies change events to the topology. The events read together
// (one object, one batch of messages) are applied together: per account and
// region, one targeted re-describe of every resource they name
// (inventory.Scanner.Refresh) and one commit, each version in it caused by
// the latest event naming its resource and carrying that event's actor.
// The new state of a resource comes from AWS, not from the event, so a late
// or repeated event does no harm.
type Updater struct {
	// Refresh re-describes resources in an account and region
	// (inventory.Scanner.Refresh).
	Refresh func(ctx context.Context, account, region string, want []inventory.Wanted) ([]model.Snapshot, []inventory.Problem, error)
	// Apply commits snapshots, label setting each version's cause and
	// actor (topology.Graph.ApplyLabelled).
	Apply  func(ctx context.Context, cause string, label func(*model.Version), snaps []model.Snapshot) ([]model.Version, error)
	Logger *slog.Logger
	// ObserveDelay, when set, is given for every applied event the time
	// from the event to the commit of its changes (self-metrics).
	ObserveDelay func(time.Duration)

	mu    sync.Mutex
	stats Stats
}

// Stats count what an Updater did with the events it was given.
type Stats struct {
	// Events were handled; Applied changed the map (or confirmed it).
	Events  int `json:"events"`
	Applied int `json:"applied"`
	// Unmapped are events skymap has no mapping for; NotMonitored name an
	// account no instance monitors; Failed could not refresh in full (the
	// next full scan repairs what they missed).
	Unmapped     int `json:"unmapped"`
	NotMonitored int `json:"not_monitored"`
	Failed       int `json:"failed"`
	// Versions is how many versions the events wrote; Refreshes how many
	// re-describes they took (one per account and region of a batch).
	Versions  int `json:"versions"`
	Refreshes int `json:"refreshes"`
}

// Stats returns the counts so far.
func (u *Updater) Stats() Stats {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stats
}

func (u *Updater) count(f func(*Stats)) {
	u.mu.Lock()
	f(&u.stats)
	u.mu.Unlock()
}

// Handle applies events, oldest first. It fails only when a change cannot
// be committed or ctx ends: then the caller must keep the objects or
// messages the events came in, to try again (what was committed before
// stays; applying it again changes nothing). AWS failures while
// refreshing are logged and counted, not returned: what could be read is
// applied, and the next full scan repairs the rest.
func (u *Updater) Handle(ctx context.Context, evs ...Event) error {
	type group struct {
		account, region string
		events          []int // indexes into evs, of events that change something
	}
	var groups []*group
	byKey := map[[2]string]*group{}
	var changes [][]Change
	for i, e := range evs {
		cs, ok := Changes(e)
		changes = append(changes, cs)
		switch {
		case !ok:
			u.count(func(s *Stats) { s.Events++; s.Unmapped++ })
			continue
		case len(cs) == 0:
			u.count(func(s *Stats) { s.Events++ }) // a failed call: it changed nothing
			continue
		}
		k := [2]string{e.Account, e.Region}
		g := byKey[k]
		if g == nil {
			g = &group{account: e.Account, region: e.Region}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.events = append(g.events, i)
	}
	for _, g := range groups {
		if err := u.apply(ctx, evs, changes, g.account, g.region, g.events); err != nil {
			return err
		}
	}
	return nil
}

// apply refreshes and commits the changes of one account and region's
// events.
func (u *Updater) apply(ctx context.Context, evs []Event, changes [][]Change, account, region string, idx []int) error {
	var want []inventory.Wanted
	by := map[string]int{} // resource id -> the latest event naming it
	for _, i := range idx {
		for _, c := range changes[i] {
			want = append(want, inventory.Wanted{Type: c.Type, IDs: c.IDs})
			for _, id := range c.IDs {
				by[id] = i
			}
		}
	}
	n := len(idx)
	u.count(func(s *Stats) { s.Events += n; s.Refreshes++ })
	snaps, problems, err := u.Refresh(ctx, account, region, want)
	switch {
	case errors.Is(err, inventory.ErrNotMonitored):
		u.count(func(s *Stats) { s.NotMonitored += n })
		return nil
	case err != nil:
		return err
	}
	last := evs[idx[len(idx)-1]]
	if len(problems) > 0 {
		u.count(func(s *Stats) { s.Failed += n })
		u.logger().Warn("event refresh incomplete", "events", n, "last", last.ID, "name", last.EventName,
			"account", account, "region", region, "problems", len(problems), "first", problems[0].Error())
	}
	label := func(v *model.Version) {
		e := last
		if i, ok := by[v.ID]; ok {
			e = evs[i]
		} else if src, rest, ok := strings.Cut(v.ID, "|"); ok && v.Entity == topology.EntityRelation {
			// A relation goes to the event naming its source, else its target.
			_, dst, _ := strings.Cut(rest, "|")
			if i, ok := by[src]; ok {
				e = evs[i]
			} else if i, ok := by[dst]; ok {
				e = evs[i]
			}
		}
		v.Cause, v.Actor, v.SourceIP = cause(e), e.Actor, e.SourceIP
	}
	vs, err := u.Apply(ctx, cause(last), label, snaps)
	if err != nil {
		return err
	}
	u.count(func(s *Stats) { s.Applied += n; s.Versions += len(vs) })
	if u.ObserveDelay != nil {
		now := time.Now()
		for _, i := range idx {
			if t := evs[i].Time; !t.IsZero() {
				u.ObserveDelay(now.Sub(t))
			}
		}
	}
	return nil
}

// cause is the cause of the versions an event brings: "event:<id> <name>".
func cause(e Event) string {
	c := "event:" + e.ID
	if e.EventName != "" {
		c += " " + e.EventName
	} else if e.DetailType != "" {
		c += " " + e.DetailType
	}
	return c
}

func (u *Updater) logger() *slog.Logger {
	if u.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return u.Logger
}

// IAMActions are the IAM actions following events needs in a monitored
// account: reading (and, once handled, deleting) the EventBridge objects in
// the log bucket, the queue pipelines, and the CloudTrail fallback.
var IAMActions = []string{
	"s3:GetBucketVersioning", "s3:ListBucket", "s3:GetObject", "s3:DeleteObject",
	"sqs:ReceiveMessage", "sqs:DeleteMessage",
	"cloudtrail:LookupEvents",
}
