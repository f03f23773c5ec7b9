package metrics

import (
	"context"
	"log/slog"
	"math"
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
	// OnPoints, when set, is given after each refresh the datapoints it
	// fetched that no earlier call was given, oldest first per series:
	// each point once per (series, time), again only when CloudWatch
	// revised its value. What was given is remembered in memory for the
	// window a refresh asks for, so the first refresh after a restart may
	// give points of that window again. It runs in the refresh and must
	// return quickly; nil gives nothing.
	OnPoints func([]Sample)

	mu      sync.Mutex
	samples []Sample
	last    time.Time
	// given is what OnPoints was given, within the last window: by
	// series key, the value of each point by its time in Unix ms.
	given map[string]map[int64]float64
}

// Sample is a datapoint of one metric of one component: the newest
// (Samples) or a new one (OnPoints).
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
	if r.OnPoints != nil {
		r.mu.Lock()
		points := r.newPoints(series, labels, from)
		r.mu.Unlock()
		if len(points) > 0 {
			r.OnPoints(points)
		}
	}
}

// newPoints returns the points of series not given before (or given with
// another value), and remembers them; what is remembered from before from
// is forgotten. The caller holds r.mu.
func (r *Refresher) newPoints(series []Series, labels [][]string, from time.Time) []Sample {
	given := make(map[string]map[int64]float64, len(r.given))
	for key, points := range r.given {
		for ms, v := range points {
			if ms >= from.UnixMilli() {
				if given[key] == nil {
					given[key] = map[int64]float64{}
				}
				given[key][ms] = v
			}
		}
	}
	var out []Sample
	for i, s := range series {
		key := s.Account + "|" + s.Region + "|" + s.Component + "|" + s.Key()
		for j, at := range s.Timestamps {
			ms, v := at.UnixMilli(), s.Values[j]
			if old, ok := given[key][ms]; ok && (old == v || math.IsNaN(old) && math.IsNaN(v)) {
				continue
			}
			if given[key] == nil {
				given[key] = map[int64]float64{}
			}
			given[key][ms] = v
			out = append(out, Sample{Query: s.Query, Time: at, Value: v, Labels: labels[i]})
		}
	}
	r.given = given
	return out
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

// OTLPName is a sample's OpenTelemetry metric name: the parts of PromName
// joined by dots, aws.<namespace>.<metric>.<statistic>, e.g.
// aws.ec2.cpuutilization.average, so that a Prometheus exporter
// downstream, which turns dots into underscores, names it as PromName does.
func OTLPName(namespace, metric, stat string) string {
	ns := strings.ToLower(invalidName.ReplaceAllString(strings.TrimPrefix(namespace, "AWS/"), "_"))
	return "aws." + ns + "." + promString(metric) + "." + promString(stat)
}

// PromLabel is a label name made of an arbitrary key (a dimension or tag
// name): invalid characters become underscores.
func PromLabel(prefix, key string) string { return prefix + invalidName.ReplaceAllString(key, "_") }

func promString(s string) string {
	s = camelBoundary.ReplaceAllString(s, "${1}_${2}")
	s = invalidName.ReplaceAllString(s, "_")
	return strings.ToLower(strings.Trim(s, "_"))
}
