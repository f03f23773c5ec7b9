package events

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"

	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/model"
)

// Updater applies change events to the topology. Each event's changes
// become a refresh of the listings of the types it names, in its account
// and region, applied as one change caused by the event and carrying its
// actor: the new state of a resource comes from AWS, not from the event,
// so a late or repeated event does no harm.
type Updater struct {
	// Refresh re-lists types in an account and region
	// (inventory.Scanner.Refresh).
	Refresh func(ctx context.Context, account, region string, types []string) ([]model.Snapshot, []inventory.Problem, error)
	// Apply commits snapshots (topology.Graph.ApplyBy).
	Apply  func(ctx context.Context, cause, actor string, snaps []model.Snapshot) ([]model.Version, error)
	Logger *slog.Logger

	mu    sync.Mutex
	stats Stats
}

// Stats count what an Updater did with the events it was given.
type Stats struct {
	// Events were handled; Applied changed the map (or confirmed it).
	Events, Applied int
	// Unmapped are events skymap has no mapping for; NotMonitored name an
	// account no instance monitors; Failed could not refresh in full (the
	// next full scan repairs what they missed).
	Unmapped, NotMonitored, Failed int
	// Versions is how many versions the events wrote.
	Versions int
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

// Handle applies one event. It fails only when the change cannot be
// committed or ctx ends: then the caller must keep the object or message
// the event came in, to try again. AWS failures while refreshing are
// logged and counted, not returned: what could be read is applied, and the
// next full scan repairs the rest.
func (u *Updater) Handle(ctx context.Context, e Event) error {
	u.count(func(s *Stats) { s.Events++ })
	changes, ok := Changes(e)
	if !ok {
		u.count(func(s *Stats) { s.Unmapped++ })
		return nil
	}
	var types []string
	for _, c := range changes {
		if !slices.Contains(types, c.Type) {
			types = append(types, c.Type)
		}
	}
	if len(types) == 0 {
		return nil // a failed call: it changed nothing
	}
	snaps, problems, err := u.Refresh(ctx, e.Account, e.Region, types)
	switch {
	case errors.Is(err, inventory.ErrNotMonitored):
		u.count(func(s *Stats) { s.NotMonitored++ })
		return nil
	case err != nil:
		return err
	}
	if len(problems) > 0 {
		u.count(func(s *Stats) { s.Failed++ })
		u.logger().Warn("event refresh incomplete", "event", e.ID, "name", e.EventName, "account", e.Account,
			"region", e.Region, "problems", len(problems), "first", problems[0].Error())
	}
	cause := "event:" + e.ID
	if e.EventName != "" {
		cause += " " + e.EventName
	} else if e.DetailType != "" {
		cause += " " + e.DetailType
	}
	vs, err := u.Apply(ctx, cause, e.Actor, snaps)
	if err != nil {
		return err
	}
	u.count(func(s *Stats) { s.Applied++; s.Versions += len(vs) })
	return nil
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
