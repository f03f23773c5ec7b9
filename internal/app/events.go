package app

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/events"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// Event paths, as /api/status names them.
const (
	pathLogBucket  = "log-bucket"
	pathCloudTrail = "cloudtrail"
	pathQueue      = "sqs"
)

// Expected delays of each path, from a change in AWS to the map.
var pathDelay = map[string]string{
	pathLogBucket:  "about 90 s: Firehose buffers 60 s, skymap polls every 30 s",
	pathCloudTrail: "up to 15 min: CloudTrail shows events up to 15 minutes late; skymap polls every 60 s",
	pathQueue:      "seconds after delivery: skymap long-polls the queue",
}

// EventFeedStatus is the state of one account and region's event feed.
type EventFeedStatus struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Path is log-bucket (EventBridge events in the log bucket) or
	// cloudtrail (LookupEvents, when the bucket is missing or unversioned).
	Path          string    `json:"path"`
	Bucket        string    `json:"bucket,omitempty"`
	ExpectedDelay string    `json:"expected_delay"`
	Why           string    `json:"why,omitempty"`
	LastPoll      time.Time `json:"last_poll"`
	Error         string    `json:"error,omitempty"`
	Events        int       `json:"events"`
	// BadObjects are log objects skymap could not read; they are kept.
	BadObjects []string `json:"bad_objects,omitempty"`
}

// eventFeeds follow the change events of every monitored account and region
// between full scans: from the log bucket while it holds them (versioning
// enabled), else from CloudTrail. Each event refreshes the listings of the
// types it names (events.Updater).
type eventFeeds struct {
	cfg     *config.Config
	prov    *awsconn.Provider
	state   store.State
	updater *events.Updater
	// interval between polls of the log bucket; CloudTrail is polled at
	// twice that.
	interval time.Duration
	log      *slog.Logger

	mu    sync.Mutex
	feeds map[string]*feed // by account/region
}

type feed struct {
	bucket *events.BucketReader
	trail  *events.TrailReader
	status EventFeedStatus
	// trailDue is when CloudTrail is polled next.
	trailDue time.Time
}

func newEventFeeds(cfg *config.Config, prov *awsconn.Provider, st store.State, g *topology.Graph,
	opts Options, interval time.Duration) *eventFeeds {
	sc := newScanner(cfg, prov, opts)
	return &eventFeeds{cfg: cfg, prov: prov, state: st, interval: interval, log: opts.logger(),
		feeds:   map[string]*feed{},
		updater: &events.Updater{Refresh: sc.Refresh, Apply: g.ApplyLabelled, Logger: opts.logger()}}
}

// Run polls every feed each interval, and reads the configured event
// queues continuously, until ctx is cancelled.
func (f *eventFeeds) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, inst := range f.cfg.Instances {
		if inst.EventsQueue != "" {
			wg.Add(1)
			go func() { defer wg.Done(); f.readQueue(ctx, inst) }()
		}
	}
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		if err := f.round(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// round polls each account and region once; what went wrong is in the
// feeds' status (a feed keeps its object, message or cursor and tries again
// next round).
func (f *eventFeeds) round(ctx context.Context) error {
	for _, inst := range f.cfg.Instances {
		if inst.EventsQueue != "" {
			continue // its queue brings its events
		}
		acct, err := f.prov.Account(ctx, inst.RoleARN)
		if err != nil {
			continue // the scan's status reports the account
		}
		regions, err := acct.Regions(ctx, inst.Regions)
		if err != nil {
			continue
		}
		for _, region := range regions {
			if region == partition.Global {
				continue
			}
			f.poll(ctx, inst, acct, region)
		}
	}
	return ctx.Err()
}

func (f *eventFeeds) poll(ctx context.Context, inst config.Instance, acct *awsconn.Account, region string) {
	fd := f.feed(inst, acct, region)
	now := time.Now().UTC()
	st := fd.status
	st.LastPoll, st.Error = now, ""
	rep, err := fd.bucket.Poll(ctx)
	switch {
	case err == nil:
		st.Path, st.Why = pathLogBucket, ""
		st.Events += rep.Events
		for _, b := range rep.Bad {
			st.BadObjects = append(st.BadObjects, b.Key+": "+b.Err.Error())
		}
		for _, p := range rep.Problems {
			st.Error = p.Error()
		}
	case errors.Is(err, events.ErrVersioningDisabled), errors.Is(err, events.ErrNoBucket):
		if st.Path != pathCloudTrail {
			f.log.Warn("events fall back to CloudTrail", "account", acct.ID, "region", region, "why", err)
		}
		st.Path, st.Why = pathCloudTrail, err.Error()
		if now.Before(fd.trailDue) {
			break
		}
		fd.trailDue = now.Add(2 * f.interval)
		trep, err := fd.trail.Poll(ctx)
		st.Events += trep.Handled
		if err != nil {
			st.Error = err.Error()
		}
	default:
		st.Error = err.Error()
	}
	if st.Error != "" && st.Error != fd.status.Error {
		f.log.Warn("event feed", "account", acct.ID, "region", region, "path", st.Path, "err", st.Error)
	}
	st.ExpectedDelay = pathDelay[st.Path]
	if len(st.BadObjects) > 20 {
		st.BadObjects = st.BadObjects[len(st.BadObjects)-20:]
	}
	f.mu.Lock()
	fd.status = st
	f.mu.Unlock()
}

func (f *eventFeeds) feed(inst config.Instance, acct *awsconn.Account, region string) *feed {
	key := acct.ID + "/" + region
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd, ok := f.feeds[key]; ok {
		return fd
	}
	bucket := inst.LogBucket
	if bucket == "" {
		bucket = "stackstate-logs-" + acct.ID
	}
	cfg := acct.Config(region)
	fd := &feed{
		bucket: &events.BucketReader{S3: awsconn.NewS3(cfg), Bucket: bucket, Account: acct.ID, Region: region,
			Handle: f.updater.Handle, State: f.state, Delete: true, Logger: f.log},
		trail: &events.TrailReader{CloudTrail: cloudtrail.NewFromConfig(cfg), Account: acct.ID, Region: region,
			Handle: f.updater.Handle, State: f.state, Logger: f.log},
		status: EventFeedStatus{Account: acct.ID, Region: region, Bucket: bucket},
	}
	f.feeds[key] = fd
	return fd
}

// statuses returns every feed's status, sorted by account and region.
func (f *eventFeeds) statuses() []EventFeedStatus {
	if f == nil {
		return []EventFeedStatus{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]EventFeedStatus, 0, len(f.feeds))
	for _, fd := range f.feeds {
		out = append(out, fd.status)
	}
	slices.SortFunc(out, func(a, b EventFeedStatus) int {
		if a.Account != b.Account {
			if a.Account < b.Account {
				return -1
			}
			return 1
		}
		if a.Region < b.Region {
			return -1
		}
		if a.Region > b.Region {
			return 1
		}
		return 0
	})
	return out
}

// readQueue reads an instance's event queue until ctx is cancelled. The
// queue's region is the one its URL names, else the instance's first.
func (f *eventFeeds) readQueue(ctx context.Context, inst config.Instance) {
	key := "queue/" + inst.EventsQueue
	f.mu.Lock()
	fd := &feed{status: EventFeedStatus{Account: inst.Account, Path: pathQueue, ExpectedDelay: pathDelay[pathQueue],
		Bucket: inst.LogBucket}}
	f.feeds[key] = fd
	f.mu.Unlock()
	var r *events.QueueReader
	for ctx.Err() == nil {
		if r == nil {
			acct, err := f.prov.Account(ctx, inst.RoleARN)
			if err != nil {
				f.setQueueStatus(fd, 0, err)
				sleep(ctx, f.interval)
				continue
			}
			region := queueRegion(inst.EventsQueue, inst)
			f.mu.Lock()
			fd.status.Region = region
			f.mu.Unlock()
			cfg := acct.Config(region)
			r = &events.QueueReader{SQS: sqs.NewFromConfig(cfg), QueueURL: inst.EventsQueue, S3: awsconn.NewS3(cfg),
				LogBucket: inst.LogBucket, Handle: f.updater.Handle, Logger: f.log}
		}
		rep, err := r.Poll(ctx)
		if ctx.Err() != nil {
			return
		}
		for _, b := range rep.Bad {
			f.mu.Lock()
			fd.status.BadObjects = append(fd.status.BadObjects, "message "+b.ID+": "+b.Err.Error())
			if len(fd.status.BadObjects) > 20 {
				fd.status.BadObjects = fd.status.BadObjects[len(fd.status.BadObjects)-20:]
			}
			f.mu.Unlock()
		}
		f.setQueueStatus(fd, rep.Events, err)
		if err != nil {
			sleep(ctx, f.interval) // do not spin on a queue that fails
		}
	}
}

func (f *eventFeeds) setQueueStatus(fd *feed, events int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := fd.status.Error
	fd.status.LastPoll, fd.status.Events, fd.status.Error = time.Now().UTC(), fd.status.Events+events, ""
	if err != nil {
		fd.status.Error = err.Error()
		if fd.status.Error != prev {
			f.log.Warn("event queue", "queue", fd.status.Bucket, "err", err)
		}
	}
}

// queueRegion is the region an SQS queue URL names in its host
// (sqs.<region>.amazonaws.com, or the legacy <region>.queue.amazonaws.com),
// else the instance's first region.
func queueRegion(queueURL string, inst config.Instance) string {
	if u, err := url.Parse(queueURL); err == nil {
		for _, label := range strings.Split(u.Hostname(), ".") {
			if label != partition.Global && label != partition.All && partition.KnownRegion("", label) {
				return label
			}
		}
	}
	for _, r := range inst.Regions {
		if r != partition.Global && r != partition.All {
			return r
		}
	}
	return "us-east-1"
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
