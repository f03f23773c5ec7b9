package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/collect/metrics"
)

// metricsSuffix ends the path of a component's metrics:
// GET /api/components/{id}/metrics.
const metricsSuffix = "/metrics"

// Metrics fetches CloudWatch metrics for the API.
type Metrics interface {
	Fetch(ctx context.Context, queries []metrics.Query, from, to time.Time, period int32) ([]metrics.Series, error)
}

// MetricList is the answer of GET /api/components/{id}/metrics.
type MetricList struct {
	Component string           `json:"component"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Period    int32            `json:"period"`
	Series    []metrics.Series `json:"series"`
}

// maxPoints bounds the points of one series the API asks for.
const maxPoints = 1440

// metrics answers GET /api/components/{id}/metrics?from=&to=&period=: the
// component's default metric set (package internal/collect/metrics) over [from, to)
// (default the last hour) in steps of period seconds (a multiple of 60;
// default the smallest giving at most 1,440 points), fetched from
// CloudWatch now.
func (s *Server) metrics(r *http.Request, ref string) (any, error) {
	c, ok := s.Graph.Lookup(ref)
	if !ok {
		return nil, notFound("no component with id or identifier " + strconv.Quote(ref))
	}
	if s.Metrics == nil {
		return nil, &apiError{errUnavailable, "metrics_off", "CloudWatch metrics are not configured (metrics.enabled)"}
	}
	from, to, period, err := metricWindow(r, time.Now())
	if err != nil {
		return nil, err
	}
	queries, err := metrics.Queries(&c)
	if err != nil {
		return nil, notFound(err.Error())
	}
	series, err := s.Metrics.Fetch(r.Context(), queries, from, to, period)
	if err != nil {
		return nil, err
	}
	return MetricList{Component: c.ID, From: from, To: to, Period: period, Series: series}, nil
}

// metricWindow reads from, to and period.
func metricWindow(r *http.Request, now time.Time) (from, to time.Time, period int32, err error) {
	q := r.URL.Query()
	to = now.UTC().Truncate(time.Minute)
	from = to.Add(-time.Hour)
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			return from, to, 0, badRequest(name + ": want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(v))
		}
		*dst = t.UTC()
	}
	if !from.Before(to) {
		return from, to, 0, badRequest("from: must be before to")
	}
	if to.Sub(from) > 455*24*time.Hour {
		return from, to, 0, badRequest("from: CloudWatch keeps metrics for 15 months; ask for at most 455 days")
	}
	if v := q.Get("period"); v != "" {
		p, perr := strconv.Atoi(strings.TrimSuffix(v, "s"))
		if perr != nil || p <= 0 || p%60 != 0 {
			return from, to, 0, badRequest("period: want seconds, a multiple of 60, got " + strconv.Quote(v))
		}
		if int(to.Sub(from)/time.Second)/p > maxPoints {
			return from, to, 0, badRequest("period: " + v + " s gives more than " + strconv.Itoa(maxPoints) + " points over [from, to); take a longer period")
		}
		return from, to, int32(p), nil
	}
	secs := int64(to.Sub(from) / time.Second)
	p := (secs + maxPoints - 1) / maxPoints
	p = max(60, (p+59)/60*60)
	return from, to, int32(p), nil
}

// metricsRef tells whether a component path asks for metrics, and of what.
func metricsRef(ref string) (string, bool) {
	base, ok := strings.CutSuffix(ref, metricsSuffix)
	return base, ok && base != ""
}
