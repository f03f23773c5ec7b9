package metrics

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Refresher fetches the default metric sets of the components of some
// types periodically and keeps each metric's latest datapoint, for the
// Prometheus export (Samples). Memory is one Sample per (component, metric
// of its set): bounded by the estate, not by time.
type Refresher struct {
	Fetcher *Fetcher
	// Components returns the components of the map now.
	Components func() []model.Component
	// Types are the component types refreshed; empty refreshes nothing.
	Types []string
	// Interval is the time between refreshes; each asks for the last
	// Interval (at least 5 minutes) in periods of 60 s and keeps the
	// newest point.
	Interval time.Duration
	Log      *slog.Logger
	Now      func() time.Time

	mu      sync.Mutex
	samples []Sample
	last    time.Time
}

// Sample is the newest datapoint of one metric of one component.
type Sample struct {
	Query
	Time  time.Time
	Value float64
	// Labels are the component's labels (tags as key:value).
	Labels []string
}

// Run refreshes every Interval until ctx ends.
func (r *Refresher) Run(ctx context.Context) error {
	if len(r.Types) == 0 || r.Interval <= 0 {
		return nil
	}
	t := time.NewTicker(r.Interval)
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

// Refresh fetches once and replaces the samples. Series that failed keep
// no sample (their errors are in the Fetcher's stats and the call status).
func (r *Refresher) Refresh(ctx context.Context) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	to := now().UTC().Truncate(time.Minute)
	from := to.Add(-max(r.Interval, 5*time.Minute))
	var queries []Query
	var labels [][]string
	for _, c := range r.Components() {
		if !slices.Contains(r.Types, c.Type) {
			continue
		}
		qs, err := Queries(&c)
		if err != nil {
			continue // a component without its dimensions: nothing to ask
		}
		for range qs {
			labels = append(labels, c.Labels)
		}
		queries = append(queries, qs...)
	}
	series, err := r.Fetcher.Fetch(ctx, queries, from, to, 60)
	if err != nil {
		return // ctx ended
	}
	var out []Sample
	for i, s := range series {
		if n := len(s.Values); n > 0 && s.Error == "" {
			out = append(out, Sample{Query: s.Query, Time: s.Timestamps[n-1], Value: s.Values[n-1], Labels: labels[i]})
		}
	}
	r.mu.Lock()
	r.samples, r.last = out, to
	r.mu.Unlock()
	if r.Log != nil {
		r.Log.Debug("metrics refreshed", "queries", len(queries), "samples", len(out))
	}
}

// Samples returns the latest samples.
func (r *Refresher) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples
}

// camelBoundary is where a CloudWatch metric name gets an underscore in
// Prometheus: between a lower-case letter and an upper-case one.
var camelBoundary = regexp.MustCompile(`([a-z])([A-Z])`)

// invalidName matches what a Prometheus name cannot hold.
var invalidName = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// PromName is a sample's Prometheus metric name in the style of YACE (the
// CloudWatch exporter): aws_<namespace>_<metric>_<statistic>, the
// namespace lower-cased, the metric in snake case, e.g.
// aws_ec2_cpuutilization_average, aws_sqs_approximate_number_of_messages_visible_maximum.
func PromName(namespace, metric, stat string) string {
	ns := strings.ToLower(invalidName.ReplaceAllString(strings.TrimPrefix(namespace, "AWS/"), "_"))
	return "aws_" + ns + "_" + promString(metric) + "_" + promString(stat)
}

// PromLabel is a label name made of an arbitrary key (a dimension or tag
// name): invalid characters become underscores.
func PromLabel(prefix, key string) string { return prefix + invalidName.ReplaceAllString(key, "_") }

func promString(s string) string {
	s = camelBoundary.ReplaceAllString(s, "${1}_${2}")
	s = invalidName.ReplaceAllString(s, "_")
	return strings.ToLower(strings.Trim(s, "_"))
}
