package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/api"
	"github.com/skymap/skymap/internal/awsconn"
	"github.com/skymap/skymap/internal/collect/alarms"
	"github.com/skymap/skymap/internal/collect/devopsguru"
	"github.com/skymap/skymap/internal/collect/events"
	"github.com/skymap/skymap/internal/collect/flowlogs"
	"github.com/skymap/skymap/internal/collect/inventory"
	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/collect/traces"
	"github.com/skymap/skymap/internal/config"
	"github.com/skymap/skymap/internal/export/otlp"
	"github.com/skymap/skymap/internal/export/stackstate"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/selfmetrics"
	"github.com/skymap/skymap/internal/store"
	"github.com/skymap/skymap/internal/store/flowdb"
	"github.com/skymap/skymap/internal/topology"
	"github.com/skymap/skymap/internal/ui"
)

// State keys of the scheduler.
const (
	keyLastScan = "scan/last"
	keyCalls    = "scan/calls"
)

// ScanReport describes the last full scan, as /api/status shows it.
type ScanReport struct {
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	Seconds    float64   `json:"seconds"`
	Components int       `json:"components"`
	Relations  int       `json:"relations"`
	Pending    int       `json:"pending_relations"`
	Changes    int       `json:"changes"`
	Problems   []string  `json:"problems"`
}

// StatusDoc is the answer of GET /api/status.
type StatusDoc struct {
	Version  string             `json:"version"`
	Scanning bool               `json:"scanning"`
	LastScan *ScanReport        `json:"last_scan"`
	NextScan time.Time          `json:"next_scan"`
	Accounts []AccountStatus    `json:"accounts"`
	Calls    []model.CallStatus `json:"calls"`
	// Events are the change-event feeds: which path each account and
	// region uses, its expected delay and what went wrong.
	Events []EventFeedStatus `json:"events"`
	// EventStats count what the events did.
	EventStats events.Stats `json:"event_stats"`
	// FlowLogs are the flow-log sources: what they read and what went
	// wrong, in the categories subscribe, logDownload, logParse and
	// logFilter.
	FlowLogs []flowlogs.Status `json:"flowlogs"`
	// Metrics count the CloudWatch metrics skymap asked for since it
	// started, and what they are estimated to have cost.
	Metrics metrics.Stats `json:"metrics"`
	// Health is what the last refresh of alarms and run states did; nil
	// when health is off.
	Health *alarms.Stats `json:"health,omitempty"`
	// Logs are what the CloudWatch Logs tail read per account and region.
	Logs []logs.TailStatus `json:"logs"`
	// LogsS3 are what was read of the load balancer and CloudFront logs
	// in each bucket and prefix of logs.s3.
	LogsS3 []logs.S3Status `json:"logs_s3"`
	// StackState is what the push of the map to StackState did; nil when
	// stackstate.url is not set.
	StackState *stackstate.Status `json:"stackstate,omitempty"`
	// OTLP is what the OTLP export sent per signal; empty when it is off.
	OTLP []otlp.Status `json:"otlp"`
	// DevOpsGuru is what the last refresh of DevOps Guru insights did per
	// account and region; nil when devopsguru.enabled is false.
	DevOpsGuru *devopsguru.Stats `json:"devopsguru,omitempty"`
}

// AccountStatus summarizes the integration state of one account.
type AccountStatus struct {
	Account string `json:"account"`
	// State is connected, partially connected or failed.
	State string `json:"state"`
	// Denied lists the IAM actions that were denied.
	Denied []string `json:"denied"`
}

// ServeOptions add to Options what serve needs.
type ServeOptions struct {
	Options
	// DataDir and Listen override the config's storage.data_dir and server.listen.
	DataDir, Listen string
	Version         string
	// Ready, when set, is called with the listening address once the API answers.
	Ready func(addr string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// EventInterval is how often change events are polled; 0 means 30 s.
	EventInterval time.Duration
	// PruneInterval is how often the history older than
	// storage.history_retention is deleted; 0 means hourly.
	PruneInterval time.Duration
}

// Serve runs skymap as a service: it serves the API from the stored map at
// once, scans every full_run_interval (at start when the last scan is older),
// deletes the history older than storage.history_retention at start and
// every hour, and keeps state in the data dir, or in PostgreSQL with
// storage.postgres. It returns when ctx is cancelled.
func Serve(ctx context.Context, cfg *config.Config, o ServeOptions) error {
	log := o.logger()
	now := o.Now
	if now == nil {
		now = time.Now
	}
	dir := cfg.Storage.DataDir
	if o.DataDir != "" {
		dir = o.DataDir
	}
	listen := cfg.Server.Listen
	if o.Listen != "" {
		listen = o.Listen
	}
	if err := cfg.Server.Auth.CheckExposure(listen); err != nil {
		return err
	}
	st, backend, err := openMapStore(ctx, cfg.Storage, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	state, err := st.LoadTopology(ctx)
	if err != nil {
		return fmt.Errorf("load topology: %w", err)
	}
	var comps []model.Component
	for _, o := range state.Components {
		comps = append(comps, o.Component)
	}
	index := newIndexingStore(st, comps, now())
	g := topology.New(state, topology.WithStore(index))
	met := selfmetrics.New(o.Version)
	met.WatchGraph(g)
	prov, err := newProvider(ctx, cfg, log, met.ObserveCall)
	if err != nil {
		return err
	}
	var flowsDB store.Flows
	var flows *flowFeeds
	if cfg.FlowLogs.Enabled {
		db, err := flowdb.Open(dir, flowdb.Options{Components: func(context.Context) ([]model.Component, error) {
			return g.Components(), nil
		}})
		if err != nil {
			return fmt.Errorf("open flows store: %w", err)
		}
		defer db.Close()
		flowsDB = db
		flows = newFlowFeeds(cfg, prov, st, db, g, index.index, now, log, met)
	}
	interval := o.EventInterval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	feeds := newEventFeeds(cfg, prov, st, g, o.Options, interval)
	cw := newMetricsFetcher(cfg, prov)
	refresher := &metrics.Refresher{Fetcher: cw, Components: g.Components, Types: cfg.Metrics.Types,
		Interval: cfg.Metrics.Interval, Log: log, Now: now}
	met.WatchCloudWatch(refresher.Samples, cfg.Metrics.TagLabels)
	health := newHealthRefresher(cfg, prov, g, log)
	logFetcher, logTail := newLogs(cfg, prov, st, g, log)
	delivered := newDeliveredLogs(cfg, prov, st, g, logFetcher, logTail, log)
	insights := newInsightRefresher(cfg, prov, g, now, log)
	exporter := newOTLPExporter(cfg, g, o.Version, log, met, refresher, logTail)
	feeds.updater.ObserveDelay = met.ObserveEventDelay
	met.WatchEvents(feeds.updater.Stats)
	sch := &scheduler{cfg: cfg, graph: g, state: st, prov: prov, now: now, opts: o.Options, version: o.Version,
		feeds: feeds, flows: flows, metrics: cw, health: health, logs: logTail, delivered: delivered, insights: insights, met: met, mapped: make(chan struct{}),
		otlp: exporter}
	sts, err := newStackStatePusher(cfg, g, log, o.Version)
	if err != nil {
		return err
	}
	if sts != nil {
		sch.stackstate = sts
		met.WatchStackState(sts.Status)
	}
	if err := sch.load(ctx); err != nil {
		return err
	}
	if sch.last != nil {
		sch.setMapped()
	}
	log.Info("topology loaded", "storage", backend, "data_dir", dir, "components", g.Len())

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	var traceHandler http.Handler
	var tracePub *traces.Publisher
	if cfg.Traces.Enabled {
		rec := traces.NewReceiver(traces.Options{Window: cfg.Traces.RelationWindow, MaxRelations: cfg.Traces.MaxRelations, Now: now})
		tracePub = &traces.Publisher{Receiver: rec, Graph: g, Log: log}
		traceHandler = traces.NewHandler(rec, tracePub.Resolve)
	}
	apiSrv := &api.Server{Graph: g, History: st, Flows: flowsDB, Metrics: metricsAPI(cfg, cw), Status: sch.status, Logger: log,
		Traces: traceHandler, Prometheus: met.Handler(), Views: st, KnownTypes: inventory.Types(),
		Instances: func() []api.Instance { return viewInstances(cfg, prov) }}
	if health != nil {
		apiSrv.Health = health
	}
	if logFetcher != nil {
		apiSrv.Logs, apiSrv.RecentLogs = logFetcher, logTail.Recent
	}
	if insights != nil {
		apiSrv.Insights = insights
	}
	if flows != nil {
		apiSrv.IntegrationLogs = func() []api.IntegrationLog { return api.FlowLogRows(flows.statuses()) }
	}
	auth := api.Auth{Token: cfg.Server.Auth.Token.Reveal(), User: cfg.Server.Auth.User, Password: cfg.Server.Auth.Password.Reveal()}
	srv := &http.Server{Handler: api.RequireAuth(auth, ui.Handler(apiSrv.Handler())), ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving API", "addr", ln.Addr().String(), "auth", auth.On())
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve API: %w", err)
		}
		return nil
	})
	eg.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	eg.Go(func() error { return sch.Run(ctx) })
	eg.Go(func() error { return feeds.Run(ctx) })
	if cfg.Metrics.Enabled {
		eg.Go(func() error {
			// The sets are those of the map's components: wait for one.
			select {
			case <-ctx.Done():
				return nil
			case <-sch.mapped:
			}
			return refresher.Run(ctx)
		})
	}
	if health != nil {
		eg.Go(func() error { return health.Run(ctx) })
	}
	if tracePub != nil {
		eg.Go(func() error { return tracePub.Run(ctx) })
	}
	if exporter != nil {
		eg.Go(func() error { return exporter.Run(ctx) })
	}
	if insights != nil {
		// Insights are read where the map's components are: wait for one.
		eg.Go(func() error {
			select {
			case <-ctx.Done():
				return nil
			case <-sch.mapped:
			}
			return insights.Run(ctx)
		})
	}
	if logTail != nil {
		// The tail reads the groups of the map's components: it waits for one.
		eg.Go(func() error {
			select {
			case <-ctx.Done():
				return nil
			case <-sch.mapped:
			}
			return logTail.Run(ctx, cfg.Logs.PollInterval)
		})
	}
	if delivered != nil {
		// Objects are mapped to the map's load balancers and distributions.
		eg.Go(func() error {
			select {
			case <-ctx.Done():
				return nil
			case <-sch.mapped:
			}
			return delivered.Run(ctx, cfg.Logs.PollInterval)
		})
	}
	if flows != nil {
		eg.Go(func() error {
			// Addresses are attributed to the components of the map:
			// flow logs wait for one.
			select {
			case <-ctx.Done():
				return nil
			case <-sch.mapped:
			}
			return flows.Run(ctx)
		})
	}
	if sts != nil {
		// A snapshot of a map without a full scan would delete from
		// StackState what was not seen yet: the push waits for one.
		eg.Go(func() error {
			select {
			case <-ctx.Done():
				return nil
			case <-sch.mapped:
			}
			return sts.Run(ctx)
		})
	}
	if retention := cfg.Storage.HistoryRetention; retention > 0 {
		every := o.PruneInterval
		if every <= 0 {
			every = time.Hour
		}
		p := &pruner{prune: st.PruneHistory, retention: retention, interval: every, now: now, log: log}
		eg.Go(func() error { return p.Run(ctx) })
	}
	err = eg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// scheduler runs full scans every full_run_interval and records their outcome.
type scheduler struct {
	cfg     *config.Config
	graph   *topology.Graph
	state   store.State
	prov    *awsconn.Provider
	now     func() time.Time
	opts    Options
	version string
	feeds   *eventFeeds
	flows   *flowFeeds
	metrics *metrics.Fetcher
	// health is refreshed after each scan; nil when health is off.
	health *alarms.Refresher
	logs   *logs.Tail
	met    *selfmetrics.Metrics
	// stackstate is triggered after each scan; nil when stackstate.url
	// is not set.
	stackstate *stackstate.Pusher
	// otlp is the OTLP export; nil when it is off.
	otlp *otlp.Exporter

	// delivered reads the logs of logs.s3; nil when there are none.
	delivered *logs.S3Logs

	// mapped is closed once the map holds a full scan: loaded from the
	// data dir, or the first scan's.
	mapped     chan struct{}
	mappedOnce sync.Once

	// insights are the DevOps Guru insights; nil when they are off.
	insights *devopsguru.Refresher

	mu       sync.Mutex
	scanning bool
	last     *ScanReport
	calls    []model.CallStatus
}

// load reads the last scan's report and call outcomes from the store.
func (s *scheduler) load(ctx context.Context) error {
	for key, dst := range map[string]any{keyLastScan: &s.last, keyCalls: &s.calls} {
		b, err := s.state.GetState(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return fmt.Errorf("decode stored %s: %w", key, err)
		}
	}
	return nil
}

// Run scans when due until ctx is cancelled.
func (s *scheduler) Run(ctx context.Context) error {
	for {
		wait := time.Until(s.next())
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := s.scan(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		s.setMapped()
		if s.health != nil {
			s.health.Trigger()
		}
		if s.stackstate != nil {
			s.stackstate.Trigger()
		}
	}
}

// setMapped says the map holds a full scan.
func (s *scheduler) setMapped() { s.mappedOnce.Do(func() { close(s.mapped) }) }

func (s *scheduler) next() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return s.now()
	}
	return s.last.Finished.Add(s.cfg.FullRunInterval)
}

// scan runs one full scan, applies it to the graph and stores the report.
// Only a failure to store is an error; AWS problems are in the report.
func (s *scheduler) scan(ctx context.Context) error {
	log := s.opts.logger()
	s.mu.Lock()
	s.scanning = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.scanning = false
		s.mu.Unlock()
	}()
	rep := &ScanReport{Started: s.now().UTC(), Problems: []string{}}
	s.prov.Recorder().Reset()
	sc := newScanner(s.cfg, s.prov, s.opts)
	var changes atomic.Int64
	sc.Sink = func(ctx context.Context, snaps []model.Snapshot) error {
		vs, err := s.graph.Apply(ctx, "scan", snaps)
		changes.Add(int64(len(vs)))
		return err
	}
	_, problems, err := sc.Scan(ctx)
	if err != nil {
		return err
	}
	rep.Finished = s.now().UTC()
	rep.Seconds = rep.Finished.Sub(rep.Started).Seconds()
	rep.Components = s.graph.Len()
	rep.Relations = s.graph.RelationCount()
	rep.Pending = s.graph.PendingCount()
	rep.Changes = int(changes.Load())
	for _, p := range problems {
		rep.Problems = append(rep.Problems, p.Error())
	}
	calls := statuses(s.prov.Recorder().Statuses(), problems)
	for key, v := range map[string]any{keyLastScan: rep, keyCalls: calls} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := s.state.PutState(ctx, key, b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.last, s.calls = rep, calls
	s.mu.Unlock()
	s.met.ObserveScan(selfmetrics.Scan{Started: rep.Started, Finished: rep.Finished, Scopes: scanScopes(calls, problems)})
	log.Info("scan finished", "components", rep.Components, "relations", rep.Relations,
		"changes", rep.Changes, "problems", len(problems), "seconds", rep.Seconds)
	return nil
}

func (s *scheduler) status(context.Context) any {
	next := s.next()
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := withInsightCalls(withHealthCalls(s.calls, s.health), s.insights)
	if calls == nil {
		calls = []model.CallStatus{}
	}
	doc := StatusDoc{Version: s.version, Scanning: s.scanning, LastScan: s.last, NextScan: next,
		Accounts: accountStates(calls), Calls: calls, Events: s.feeds.statuses()}
	if s.feeds != nil {
		doc.EventStats = s.feeds.updater.Stats()
	}
	doc.FlowLogs = s.flows.statuses()
	if s.metrics != nil {
		doc.Metrics = s.metrics.Stats()
	}
	if s.health != nil {
		hs := s.health.Stats()
		doc.Health = &hs
	}
	doc.Logs = []logs.TailStatus{}
	if s.logs != nil {
		doc.Logs = s.logs.Statuses()
	}
	doc.LogsS3 = []logs.S3Status{}
	if s.delivered != nil {
		doc.LogsS3 = s.delivered.S3Statuses()
	}
	if s.stackstate != nil {
		st := s.stackstate.Status()
		doc.StackState = &st
	}
	doc.OTLP = []otlp.Status{}
	if s.otlp != nil {
		doc.OTLP = s.otlp.Statuses()
	}
	if s.insights != nil {
		is := s.insights.Stats()
		doc.DevOpsGuru = &is
	}
	return doc
}

// scanScopes are the accounts and regions a scan called, true where it
// met a problem (an account it could not access, a listing incomplete).
// The outcomes of calls do not count: the event and flow-log feeds call
// in between (a missing log bucket is no scan problem), and the listings
// report what the scan's own calls could not do.
func scanScopes(calls []model.CallStatus, problems []inventory.Problem) map[selfmetrics.Scope]bool {
	out := map[selfmetrics.Scope]bool{}
	for _, c := range calls {
		out[selfmetrics.Scope{Account: c.Account, Region: c.Region}] = false
	}
	for _, p := range problems {
		out[selfmetrics.Scope{Account: p.Account, Region: p.Region}] = true
	}
	return out
}

// viewInstances returns the configured instances with their accounts, as
// far as they are known, for their built-in views.
func viewInstances(cfg *config.Config, prov *awsconn.Provider) []api.Instance {
	out := make([]api.Instance, len(cfg.Instances))
	for i, in := range cfg.Instances {
		out[i] = api.Instance{Name: in.Name, Account: in.Account}
		if out[i].Account == "" {
			out[i].Account, _ = prov.KnownAccount(in.RoleARN)
		}
	}
	return out
}

// accountStates derives each account's integration state from call outcomes:
// failed when it could not be accessed, partially connected when some call
// was denied or failed, else connected.
func accountStates(calls []model.CallStatus) []AccountStatus {
	var out []AccountStatus
	idx := map[string]int{}
	for _, c := range calls {
		i, ok := idx[c.Account]
		if !ok {
			i = len(out)
			idx[c.Account] = i
			out = append(out, AccountStatus{Account: c.Account, State: "connected", Denied: []string{}})
		}
		a := &out[i]
		switch {
		case c.API == "sts:AssumeRole" && c.Outcome != model.OutcomeOK:
			a.State = "failed"
		case c.Outcome == model.OutcomeDenied || c.Outcome == model.OutcomeFailed:
			if a.State == "connected" {
				a.State = "partially connected"
			}
		}
		if c.Outcome == model.OutcomeDenied {
			a.Denied = append(a.Denied, c.API)
		}
	}
	if out == nil {
		out = []AccountStatus{}
	}
	return out
}
