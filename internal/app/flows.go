package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/flows"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/partition"
	"github.com/skymap/skymap/internal/selfmetrics"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/topology"
)

// flowCause is the cause of the versions flow logs make.
const flowCause = "flowlogs"

// flowPipeline turns flow-log objects into rollups and archived raw
// records (committed to the flows store before a source may delete
// anything), and the stored conversations into flowlog relations.
type flowPipeline struct {
	proc   *flows.Processor
	db     store.Flows
	state  store.State // notes of objects committed though corrupt
	graph  *topology.Graph
	index  *flows.Index
	window time.Duration
	now    func() time.Time
	log    *slog.Logger
	met    *selfmetrics.Metrics
	// rawRetention and rollupRetention are how long raw records and
	// rollups are kept; zero keeps them.
	rawRetention, rollupRetention time.Duration

	kick chan struct{} // a commit happened: publish relations soon

	mu        sync.Mutex
	published map[flowScope]bool // scopes given relations before, emptied when their traffic stops
}

// flowScope is the (account, region) of flow logs.
type flowScope struct{ account, region string }

// sourceHandler is the pipeline as one source's Handler: it reports what
// the pipeline finds (records of accounts not monitored) in that
// source's status.
type sourceHandler struct {
	p *flowPipeline
	// source names the source in metrics: "s3://<bucket>" or the queue URL.
	source string
	rep    interface {
		Report(flowlogs.Problem)
		AddRecords(int64)
	}
	// formats gives the format of the flow log that wrote an object, for
	// objects without a header line; nil, or a nil answer, means AWS's
	// default format.
	formats func(ctx context.Context, obj flowlogs.Object) *flowlogs.Format
}

var _ flowlogs.Handler = (*sourceHandler)(nil)

// HandleFlowObject parses, attributes and rolls up one object, and commits
// the result; the source deletes the object only after a nil return. A
// corrupt object's records before the fault are committed too (the
// object is kept and reported; Done then says it was not read whole, so
// it is read again, and reported again, but not counted twice). Malformed
// lines are skipped, counted and reported under logParse.
func (h *sourceHandler) HandleFlowObject(ctx context.Context, obj flowlogs.Object, body []byte) error {
	meta := flows.ObjectMeta{Bucket: obj.Bucket, Key: obj.Key, ETag: obj.ETag, Account: obj.Account, Region: obj.Region}
	if h.formats != nil {
		meta.Format = h.formats(ctx, obj)
	}
	res, perr := h.p.proc.Process(ctx, meta, body)
	if res == nil {
		return perr
	}
	if errors.Is(perr, flowlogs.ErrCorrupt) {
		// Noted before the commit: once committed, Done must not say the
		// object was read, or a source would delete it.
		if err := h.p.state.PutState(ctx, corruptKey(obj), []byte(obj.ETag)); err != nil {
			return fmt.Errorf("note corrupt s3://%s/%s: %w", obj.Bucket, obj.Key, err)
		}
	}
	if err := h.p.db.CommitFlowObject(ctx, &res.FlowObject); err != nil {
		return fmt.Errorf("commit flows of s3://%s/%s: %w", obj.Bucket, obj.Key, err)
	}
	h.rep.AddRecords(res.Records)
	h.p.met.ObserveFlowObject(h.source, selfmetrics.FlowObject{Bytes: int64(len(body)), Records: res.Records,
		Malformed: res.Malformed, Rollups: int64(res.Rollups.Len()), LastModified: obj.LastModified, Committed: h.p.now()})
	defer h.p.proc.Release(res)
	if res.Filtered > 0 {
		h.rep.Report(flowlogs.Problem{Category: flowlogs.LogFilter, Severity: flowlogs.SeverityWarning,
			Bucket: obj.Bucket, Key: obj.Key, Count: res.Filtered,
			Detail: fmt.Sprintf("%d record(s) of accounts that are not monitored left out", res.Filtered)})
	}
	if res.Malformed > 0 && perr == nil { // else the source reports the object's error under the same key
		detail := fmt.Sprintf("%d malformed line(s) skipped, the rest of the object read", res.Malformed)
		if len(res.LineErrors) > 0 {
			detail += "; the first: " + res.LineErrors[0].Error()
		}
		h.rep.Report(flowlogs.Problem{Category: flowlogs.LogParse, Severity: flowlogs.SeverityError,
			Bucket: obj.Bucket, Key: obj.Key, Count: res.Malformed, Detail: detail})
	}
	select {
	case h.p.kick <- struct{}{}:
	default:
	}
	return perr
}

// Done reports whether the object was committed before, read whole: one
// committed though corrupt is not done, so that it is kept and reported
// again.
func (h *sourceHandler) Done(ctx context.Context, obj flowlogs.Object) (bool, error) {
	done, err := h.p.db.FlowObjectDone(ctx, obj.Bucket, obj.Key, obj.ETag)
	if err != nil || !done {
		return false, err
	}
	etag, err := h.p.state.GetState(ctx, corruptKey(obj))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return string(etag) != obj.ETag, nil
}

// corruptKey is the state key under which the ETag of an object committed
// though corrupt is kept.
func corruptKey(obj flowlogs.Object) string {
	return "flowlogs/corrupt/" + obj.Bucket + "/" + obj.Key
}

// publishEvery is how often flowlog relations are derived again while
// objects keep coming; and at most how long a relation outlives its
// window when none come.
const publishEvery = 30 * time.Second

// Run publishes flowlog relations shortly after commits, and every
// publishEvery so that relations whose traffic left the window go.
func (p *flowPipeline) Run(ctx context.Context) error {
	t := time.NewTicker(publishEvery)
	defer t.Stop()
	p.prune(ctx)
	pruned := p.now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
			// let a burst of objects land first
			sleep(ctx, 2*time.Second)
		case <-t.C:
		}
		if err := p.publish(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("flowlog relations not published", "err", err)
		}
		if p.now().Sub(pruned) >= time.Hour {
			p.prune(ctx)
			pruned = p.now()
		}
	}
}

// prune deletes raw records and rollups past their retention, and the
// address ownerships that ended before the older of the two.
func (p *flowPipeline) prune(ctx context.Context) {
	now := p.now()
	var raw, rollups time.Time
	if p.rawRetention > 0 {
		raw = now.Add(-p.rawRetention)
	}
	if p.rollupRetention > 0 {
		rollups = now.Add(-p.rollupRetention)
	}
	if err := p.db.PruneFlows(ctx, raw, rollups); err != nil && ctx.Err() == nil {
		p.log.Warn("flows not pruned", "err", err)
	}
	if p.rawRetention > 0 && p.rollupRetention > 0 {
		p.index.Prune(now.Add(-max(p.rawRetention, p.rollupRetention)))
	}
}

// known tells whether an external host is a monitored component by
// another name (an instance's public IP is its urn:host:/<ip>
// identifier): the relations then resolve to that component, and the
// external host must not be made.
func (p *flowPipeline) known(c model.Component) bool {
	k, ok := p.graph.Lookup(c.ID)
	return ok && k.Type != flows.ExternalHostType
}

// maxConversations bounds one derivation of relations.
const maxConversations = 200_000

// publish derives the flowlog relations and external hosts of the window
// before now and applies them, emptying the scopes that had some before
// and have no traffic now.
func (p *flowPipeline) publish(ctx context.Context) error {
	now := p.now()
	convs, err := p.db.FlowConversations(ctx, store.FlowQuery{From: now.Add(-p.window), To: now.Add(time.Minute), Limit: maxConversations})
	if err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	snaps := flows.Relations(convs, p.window, now)
	for i := range snaps {
		if snaps[i].Scope.Type == flows.ExternalHostScope {
			snaps[i].Components = slices.DeleteFunc(snaps[i].Components, p.known)
		}
	}
	p.mu.Lock()
	seen := map[flowScope]bool{}
	for _, s := range snaps {
		seen[flowScope{s.Scope.Account, s.Scope.Region}] = true
	}
	for sc := range p.published {
		if !seen[sc] {
			snaps = append(snaps,
				model.Snapshot{Scope: model.Scope{Account: sc.account, Region: sc.region, Type: model.FlowLog}, Complete: true},
				model.Snapshot{Scope: model.Scope{Account: sc.account, Region: sc.region, Type: flows.ExternalHostScope}, Complete: true})
		}
	}
	p.published = seen
	p.mu.Unlock()
	if len(snaps) == 0 {
		return nil
	}
	_, err = p.graph.Apply(ctx, flowCause, snaps)
	return err
}

// flowFeeds are the flow-log sources of every instance: a queue of the
// flow-log bucket's notifications where one is configured, else a listing
// of the bucket.
type flowFeeds struct {
	cfg  *config.Config
	prov *awsconn.Provider
	st   store.State
	pipe *flowPipeline
	opts flowlogs.Options
	log  *slog.Logger

	mu      sync.Mutex
	sources []interface{ Status() flowlogs.Status }
}

// Run starts every instance's source, retrying an account that cannot be
// reached yet, and the relation publisher; it returns when ctx is done.
func (f *flowFeeds) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error { return f.pipe.Run(ctx) })
	for _, inst := range f.cfg.Instances {
		eg.Go(func() error { return f.runInstance(ctx, inst) })
	}
	err := eg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// runInstance builds the instance's source once its account answers, and
// runs it.
func (f *flowFeeds) runInstance(ctx context.Context, inst config.Instance) error {
	for ctx.Err() == nil {
		acct, err := f.prov.Account(ctx, inst.RoleARN)
		if err != nil {
			sleep(ctx, f.opts.Interval) // the scan's status reports the account
			continue
		}
		regions, err := acct.Regions(ctx, inst.Regions)
		if err != nil {
			sleep(ctx, f.opts.Interval)
			continue
		}
		var scopes []flowlogs.Scope
		for _, r := range regions {
			if r != partition.Global {
				scopes = append(scopes, flowlogs.Scope{Account: acct.ID, Region: r})
			}
		}
		if len(scopes) == 0 {
			return nil // only global services: no VPCs, no flow logs
		}
		opts := f.opts
		if inst.FlowLogsQueue != "" {
			cfg := acct.Config(queueRegion(inst.FlowLogsQueue, inst))
			opts.Bucket = "" // notifications name their bucket
			h := &sourceHandler{p: f.pipe, source: inst.FlowLogsQueue, formats: newLogFormats(acct, f.log).of}
			src := flowlogs.NewQueueSource(sqs.NewFromConfig(cfg), inst.FlowLogsQueue, awsconn.NewS3(cfg), h, opts)
			h.rep = src
			f.add(src)
			return src.Run(ctx)
		}
		bucket := inst.FlowLogBucket
		if bucket == "" {
			bucket = "stackstate-flowlogs-" + acct.ID
		}
		h := &sourceHandler{p: f.pipe, source: "s3://" + bucket, formats: newLogFormats(acct, f.log).of}
		src := flowlogs.NewBucketSource(awsconn.NewS3(acct.Config(scopes[0].Region)), bucket, scopes, h, f.st, opts)
		h.rep = src
		f.add(src)
		return src.Run(ctx)
	}
	return nil
}

func (f *flowFeeds) add(s interface{ Status() flowlogs.Status }) {
	f.mu.Lock()
	f.sources = append(f.sources, s)
	f.mu.Unlock()
}

// statuses returns every source's status.
func (f *flowFeeds) statuses() []flowlogs.Status {
	out := []flowlogs.Status{}
	if f == nil {
		return out
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sources {
		out = append(out, s.Status())
	}
	return out
}

// newFlowFeeds returns the flow-log sources of cfg's instances, handing
// objects to a pipeline that commits to db and publishes relations to g.
func newFlowFeeds(cfg *config.Config, prov *awsconn.Provider, st store.State, db store.Flows, g *topology.Graph,
	index *flows.Index, now func() time.Time, log *slog.Logger, met *selfmetrics.Metrics) *flowFeeds {
	fl := cfg.FlowLogs
	policy, _ := flows.ParsePublicPolicy(fl.PublicTraffic) // validated with the config
	var accounts []string
	for _, inst := range cfg.Instances {
		if inst.Account != "" {
			accounts = append(accounts, inst.Account)
		}
	}
	pipe := &flowPipeline{
		proc: flows.NewProcessor(index, flows.Options{Accounts: accounts, Public: policy}),
		db:   db, state: st, graph: g, index: index, window: fl.RelationWindow, now: now, log: log, met: met,
		rawRetention: fl.RawRetention, rollupRetention: fl.RollupRetention,
		kick: make(chan struct{}, 1),
	}
	return &flowFeeds{cfg: cfg, prov: prov, st: st, pipe: pipe, log: log,
		opts: flowlogs.Options{Interval: fl.PollInterval, Delete: fl.DeleteObjects, Logger: log, Now: now}}
}

// indexingStore keeps the flows' address index in step with the topology:
// every committed change opens and closes address ownerships at its time.
type indexingStore struct {
	topology.Store
	index *flows.Index

	mu   sync.Mutex
	last map[string]*model.Component // components that own addresses or are interfaces, as last committed
}

// newIndexingStore returns st indexing comps, the graph it starts from, as
// they are at t0.
func newIndexingStore(st topology.Store, comps []model.Component, t0 time.Time) *indexingStore {
	s := &indexingStore{Store: st, index: flows.NewIndex(comps, t0), last: map[string]*model.Component{}}
	for i := range comps {
		if indexed(&comps[i]) {
			s.last[comps[i].ID] = &comps[i]
		}
	}
	return s
}

func (s *indexingStore) Commit(ctx context.Context, c topology.Change) error {
	if err := s.Store.Commit(ctx, c); err != nil {
		return err
	}
	t := time.Now()
	if len(c.Versions) > 0 {
		t = c.Versions[0].Time
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range c.Upserted {
		after := &c.Upserted[i].Component
		before := s.last[after.ID]
		if before == nil && !indexed(after) {
			continue
		}
		s.index.Update(before, after, t)
		if indexed(after) {
			cp := *after
			s.last[after.ID] = &cp
		} else {
			delete(s.last, after.ID)
		}
	}
	for _, id := range c.Deleted {
		if before := s.last[id]; before != nil {
			s.index.Update(before, nil, t)
			delete(s.last, id)
		}
	}
	return nil
}

// indexed tells whether the index cares about c: it owns private
// addresses, or is a network interface.
func indexed(c *model.Component) bool {
	if c.Type == "aws.ec2.network-interface" {
		return true
	}
	for _, id := range c.Identifiers {
		if strings.HasPrefix(id, "urn:vpcip:") {
			return true
		}
	}
	return false
}

// logFormats caches the LogFormat of an account's flow logs
// (DescribeFlowLogs, per region, for an hour), for objects without a header
// line. S3 text objects have one; this is the fallback the issue names.
type logFormats struct {
	acct *awsconn.Account
	log  *slog.Logger

	mu       sync.Mutex
	byRegion map[string]regionFormats
}

type regionFormats struct {
	at   time.Time
	byID map[string]*flowlogs.Format
}

// formatsTTL is how long a region's flow-log formats are trusted.
const formatsTTL = time.Hour

func newLogFormats(acct *awsconn.Account, log *slog.Logger) *logFormats {
	return &logFormats{acct: acct, log: log, byRegion: map[string]regionFormats{}}
}

// of returns the format of the flow log that wrote obj, nil when unknown
// (the default format then applies, unless the object has a header).
func (l *logFormats) of(ctx context.Context, obj flowlogs.Object) *flowlogs.Format {
	id := flowlogs.FlowLogID(obj.Key)
	if id == "" || obj.Account != l.acct.ID {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rf, ok := l.byRegion[obj.Region]
	if !ok || time.Since(rf.at) > formatsTTL {
		rf = regionFormats{at: time.Now(), byID: map[string]*flowlogs.Format{}}
		p := ec2.NewDescribeFlowLogsPaginator(ec2.NewFromConfig(l.acct.Config(obj.Region)), &ec2.DescribeFlowLogsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				l.log.Debug("flow-log formats not read", "account", obj.Account, "region", obj.Region, "err", err)
				break
			}
			for _, fl := range page.FlowLogs {
				if f, err := flowlogs.ParseLogFormat(aws.ToString(fl.LogFormat)); err == nil && aws.ToString(fl.LogFormat) != "" {
					rf.byID[aws.ToString(fl.FlowLogId)] = f
				}
			}
		}
		l.byRegion[obj.Region] = rf
	}
	return rf.byID[id]
}
