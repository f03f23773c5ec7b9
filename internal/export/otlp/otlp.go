// Package otlp exports what skymap reads of CloudWatch to an OpenTelemetry
// endpoint over OTLP/HTTP with binary protobuf bodies:
//
//   - every datapoint the periodic metrics refresh fetches
//     (metrics.Refresher.OnPoints), as a gauge point with its CloudWatch
//     timestamp, named aws.<namespace>.<metric>.<statistic>
//     (metrics.OTLPName: aws.ec2.cpuutilization.average, which a
//     Prometheus exporter downstream turns into the name skymap's own
//     /metrics gives it), its dimensions as aws.cloudwatch.dimension.<Name>
//     attributes;
//   - every log event the logs tail reads (logs.Tail.OnEvents), as a log
//     record with the event's time, the time skymap read it, its message
//     as a string body (valid UTF-8, at most logs.MaxMessageBytes) and
//     aws.log.group.names and aws.log.stream.names.
//
// Each point or record has its component as the resource: cloud.provider,
// cloud.account.id, cloud.region (not for global resources),
// cloud.resource_id (the ARN), cloud.platform (for the types the semantic
// conventions name), skymap.component.id, .type and .name, and the
// configured tags as aws.tag.<key>.
//
// The requests are built directly from the OTLP protobuf types (the
// OpenTelemetry SDKs instrument a program; they do not forward points that
// carry their own timestamps). Each signal has its own bounded queue (the
// oldest are dropped, and counted, when the endpoint cannot keep up) and
// its own sender, which batches, compresses, and retries as the OTLP/HTTP
// specification says: 429, 502, 503 and 504 and failed connections are
// retried with exponential backoff and jitter, or after the server's
// Retry-After; every other status is final; a partial success is counted,
// never retried. Header values (API keys) are never logged or shown.
//
// Log events are sent at most once across restarts: the tail's cursor
// moves before they are queued. Points are remembered in memory only, so
// the first refresh after a restart may send points of its window again.
// What is queued when skymap stops is tried once, for a few seconds, then
// lost. Within a run an answer lost on the way may make a batch arrive
// twice, which OTLP accepts.
package otlp

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/collect/metrics"
	"github.com/skymap/skymap/internal/model"
)

// Options configure an Exporter. A signal whose URL is empty is not
// exported.
type Options struct {
	// MetricsURL and LogsURL are the full URLs requests are posted to
	// (e.g. https://otlp.example.com:4318/v1/metrics).
	MetricsURL, LogsURL string
	// Headers are set on every request. Their values are secrets: they
	// are never logged, and are hidden wherever an error quotes them.
	Headers map[string]string
	// Gzip compresses request bodies.
	Gzip bool
	// Timeout bounds each request; 0 means 10 s.
	Timeout time.Duration
	// QueueSize bounds the points, and the log records, waiting to be
	// sent; 0 means 10,000. QueueBytes bounds their estimated size; 0
	// means 64 MiB. Past either the oldest are dropped.
	QueueSize  int
	QueueBytes int
	// BatchSize is the most points or records in one request; 0 means
	// 1,000. A request also stops growing past 4 MiB before compression.
	BatchSize int
	// Component returns a component of the map by id, for the resource
	// attributes; nil, or a component not found, gives only what the
	// point or event says.
	Component func(id string) (model.Component, bool)
	// Tags are the tag keys exported as aws.tag.<key> resource attributes.
	Tags []string
	// Version is skymap's, as the instrumentation scope's version and in
	// the User-Agent.
	Version string
	// Client sends the requests; nil means a client of its own.
	Client *http.Client
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Linger is how long a sender waits for more after the first point or
	// record arrives, to fill a batch; 0 means 1 s.
	Linger time.Duration
	// MinBackoff and MaxBackoff bound the waits between retries (0 means 1
	// s and 30 s); MaxElapsed is how long a request is retried before its
	// points or records are counted failed (0 means 5 minutes).
	MinBackoff, MaxBackoff, MaxElapsed time.Duration
}

// Exporter sends points and log records to an OTLP/HTTP endpoint. Its
// Export methods only queue and are safe for concurrent use; Run sends.
type Exporter struct {
	opts    Options
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	secrets []string
	metrics *pipe // nil when metrics are not exported
	logs    *pipe // nil when logs are not exported
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter returns a random duration in [0, d); tests replace it.
	jitter func(d time.Duration) time.Duration
}

// New returns an Exporter of the signals whose URL opts sets.
func New(opts Options) *Exporter {
	e := &Exporter{opts: opts, client: opts.Client, log: opts.Logger, now: opts.Now, sleep: sleepCtx, jitter: randDuration}
	e.opts.Timeout = cmp.Or(opts.Timeout, 10*time.Second)
	e.opts.QueueSize = cmp.Or(opts.QueueSize, 10000)
	e.opts.QueueBytes = cmp.Or(opts.QueueBytes, 64<<20)
	e.opts.BatchSize = cmp.Or(opts.BatchSize, 1000)
	e.opts.Linger = cmp.Or(opts.Linger, time.Second)
	e.opts.MinBackoff = cmp.Or(opts.MinBackoff, time.Second)
	e.opts.MaxBackoff = cmp.Or(opts.MaxBackoff, 30*time.Second)
	e.opts.MaxElapsed = cmp.Or(opts.MaxElapsed, 5*time.Minute)
	if e.client == nil {
		e.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	for _, v := range opts.Headers {
		e.secrets = append(e.secrets, v)
		if _, cred, ok := strings.Cut(v, " "); ok { // "Bearer <token>": the token alone too
			e.secrets = append(e.secrets, strings.TrimSpace(cred))
		}
	}
	// Longest first, so that a whole value is hidden before a part of it.
	e.secrets = slices.DeleteFunc(e.secrets, func(s string) bool { return len(s) < minScrubbed })
	slices.SortFunc(e.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	if opts.MetricsURL != "" {
		e.metrics = newPipe("metrics", opts.MetricsURL, e.opts.QueueSize, e.opts.QueueBytes, e.metricsRequest)
	}
	if opts.LogsURL != "" {
		e.logs = newPipe("logs", opts.LogsURL, e.opts.QueueSize, e.opts.QueueBytes, e.logsRequest)
	}
	return e
}

// ExportsMetrics tells whether points are exported.
func (e *Exporter) ExportsMetrics() bool { return e.metrics != nil }

// ExportsLogs tells whether log records are exported.
func (e *Exporter) ExportsLogs() bool { return e.logs != nil }

// ExportPoints queues CloudWatch datapoints (metrics.Refresher.OnPoints)
// as gauge points with their own timestamps. It does nothing when metrics
// are not exported.
func (e *Exporter) ExportPoints(points []metrics.Sample) {
	if e.metrics == nil || len(points) == 0 {
		return
	}
	res := e.resources()
	items := make([]item, 0, len(points))
	for i := range points {
		p := &points[i]
		items = append(items, pointItem(res(p.Component, p.Account, p.Region), p))
	}
	e.metrics.push(e, items)
}

// ExportEvents queues the new log events of a component
// (logs.Tail.OnEvents) as log records. It does nothing when logs are not
// exported.
func (e *Exporter) ExportEvents(component string, events []logs.Event) {
	if e.logs == nil || len(events) == 0 {
		return
	}
	r := e.resources()(component, "", "")
	observed := e.now()
	items := make([]item, 0, len(events))
	for i := range events {
		items = append(items, recordItem(r, &events[i], observed))
	}
	e.logs.push(e, items)
}

// Run sends what is queued until ctx is cancelled, then tries once more,
// for at most Timeout (5 s at most), to send what is left. It returns nil.
func (e *Exporter) Run(ctx context.Context) error {
	var eg errgroup.Group
	for _, p := range e.pipes() {
		eg.Go(func() error {
			p.run(ctx, e)
			fctx, cancel := context.WithTimeout(context.Background(), min(e.opts.Timeout, 5*time.Second))
			defer cancel()
			p.flush(fctx, e)
			return nil
		})
	}
	err := eg.Wait()
	e.client.CloseIdleConnections()
	return err
}

// Status is what the export of one signal did since skymap started. It
// never shows header values.
type Status struct {
	// Signal is metrics or logs.
	Signal string `json:"signal"`
	// URL is where requests go, without its query and password.
	URL string `json:"url"`
	// Sent counts the points or records the endpoint accepted.
	Sent int64 `json:"sent"`
	// Rejected counts those the endpoint refused in partial successes.
	Rejected int64 `json:"rejected"`
	// Failed counts those of requests that failed for good or ran out of
	// retries.
	Failed int64 `json:"failed"`
	// Dropped counts those dropped, oldest first, from a full queue.
	Dropped int64 `json:"dropped"`
	// Queued is how many wait now.
	Queued int `json:"queued"`
	// Requests and Retries count the requests made, retries included.
	Requests int64 `json:"requests"`
	Retries  int64 `json:"retries"`
	// LastSent is when a request last succeeded.
	LastSent time.Time `json:"last_sent,omitzero"`
	// LastError says what last went wrong (a status and the server's
	// message, a connection error, a partial success), and when.
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
}

// Statuses returns the status of each exported signal: metrics, then logs.
func (e *Exporter) Statuses() []Status {
	out := []Status{}
	for _, p := range e.pipes() {
		out = append(out, p.status())
	}
	return out
}

func (e *Exporter) pipes() []*pipe {
	var out []*pipe
	for _, p := range []*pipe{e.metrics, e.logs} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// shownURL is u without its query, fragment and password, for statuses and
// logs: a query may hold an API key.
func shownURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.RawQuery, p.Fragment, p.RawFragment = "", "", ""
	return p.Redacted()
}

// sleepCtx waits d or until ctx ends, and returns ctx's error then.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
