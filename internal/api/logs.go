package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/model"
)

// logsSuffix ends the path of a component's logs:
// GET /api/components/{id}/logs.
const logsSuffix = "/logs"

// Logs reads CloudWatch Logs for the API; *logs.Fetcher is one.
type Logs interface {
	// Groups returns the log groups of c; resolve maps a component
	// reference to its id.
	Groups(c *model.Component, resolve func(ref string) (string, bool)) ([]logs.Group, error)
	Fetch(ctx context.Context, groups []logs.Group, q logs.Query) (logs.Result, error)
}

// LogList is the answer of GET /api/components/{id}/logs.
type LogList struct {
	Component string    `json:"component"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Filter    string    `json:"filter"`
	Limit     int       `json:"limit"`
	logs.Result
}

// RecentLogList is the answer of GET /api/components/{id}/logs?recent=true:
// the last events the periodic reader read, oldest first, without asking
// CloudWatch.
type RecentLogList struct {
	Component string       `json:"component"`
	Events    []logs.Event `json:"events"`
}

// logs answers GET /api/components/{id}/logs?from=&to=&filter=&limit=:
// the events of the component's log groups over [from, to) (default the
// last hour) that contain filter as plain text, oldest first, at most limit
// (default 100, at most 10,000), read from CloudWatch Logs now. A group
// that cannot be read carries its error; the others are answered.
func (s *Server) logs(r *http.Request, ref string) (any, error) {
	c, ok := s.Graph.Lookup(ref)
	if !ok {
		return nil, notFound("no component with id or identifier " + strconv.Quote(ref))
	}
	if s.Logs == nil {
		return nil, &apiError{errUnavailable, "logs_off", "CloudWatch Logs are not configured (logs.enabled)"}
	}
	if r.URL.Query().Has("recent") && s.RecentLogs != nil {
		return RecentLogList{Component: c.ID, Events: append([]logs.Event{}, s.RecentLogs(c.ID)...)}, nil
	}
	groups, err := s.Logs.Groups(&c, func(ref string) (string, bool) {
		c, ok := s.Graph.Lookup(ref)
		return c.ID, ok
	})
	if err != nil {
		return nil, notFound(err.Error())
	}
	q, err := logQuery(r, time.Now())
	if err != nil {
		return nil, err
	}
	res, err := s.Logs.Fetch(r.Context(), groups, q)
	if err != nil {
		return nil, err
	}
	return LogList{Component: c.ID, From: q.From, To: q.To, Filter: q.Filter, Limit: q.Limit, Result: res}, nil
}

// logQuery reads from, to, filter and limit.
func logQuery(r *http.Request, now time.Time) (logs.Query, error) {
	v := r.URL.Query()
	q := logs.Query{To: now.UTC().Truncate(time.Millisecond), Filter: v.Get("filter"), Limit: 100}
	q.From = q.To.Add(-time.Hour)
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		s := v.Get(name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, badRequest(name + ": want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(s))
		}
		*dst = t.UTC()
	}
	if !q.From.Before(q.To) {
		return q, badRequest("from: must be before to")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > logs.MaxLimit {
			return q, badRequest("limit: want 1 to " + strconv.Itoa(logs.MaxLimit) + " events, got " + strconv.Quote(s))
		}
		q.Limit = n
	}
	if _, err := logs.TermPattern(q.Filter); err != nil {
		return q, badRequest("filter: " + err.Error())
	}
	return q, nil
}

// logsRef tells whether a component path asks for logs, and of what.
func logsRef(ref string) (string, bool) {
	base, ok := strings.CutSuffix(ref, logsSuffix)
	return base, ok && base != ""
}
