package api

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/collect/flowlogs"
)

// Bounds of GET /api/integration/logs.
const (
	defaultIntegrationLogs = 500
	maxIntegrationLogs     = 5000
)

// IntegrationLog is one row of the integration logs: a problem of a
// flow-log source, the latest of its kind with the count of all.
type IntegrationLog struct {
	// Source is the flow-log source: "s3://<bucket>" or the queue URL.
	Source string `json:"source"`
	flowlogs.Problem
}

// IntegrationLogs is the answer of GET /api/integration/logs.
type IntegrationLogs struct {
	// Logs are the rows the filters keep, newest first, at most limit.
	Logs []IntegrationLog `json:"logs"`
	// Total is how many rows the filters keep before the limit.
	Total int `json:"total"`
}

// integrationCategories are the categories the category filter takes.
var integrationCategories = []flowlogs.Category{flowlogs.Subscribe, flowlogs.LogDownload, flowlogs.LogParse, flowlogs.LogFilter}

// integrationParams are the query parameters of GET /api/integration/logs.
var integrationParams = []string{"category", "severity", "source", "q", "since", "limit"}

// integrationLogs answers GET /api/integration/logs?category=&severity=
// &source=&q=&since=&limit=: the problems of every flow-log source, newest
// first. category may be repeated; source is a substring of the source, q
// of the key or detail (both any case); since keeps the rows at or after
// it.
func (s *Server) integrationLogs(r *http.Request) (any, error) {
	p := r.URL.Query()
	for name, vs := range p {
		if !slices.Contains(integrationParams, name) {
			return nil, badRequest(fmt.Sprintf("%s: unknown parameter; known are %s", strconv.Quote(name), strings.Join(integrationParams, ", ")))
		}
		if len(vs) > 1 && name != "category" {
			return nil, badRequest(name + ": given more than once")
		}
	}
	var cats []flowlogs.Category
	for _, v := range p["category"] {
		i := slices.IndexFunc(integrationCategories, func(c flowlogs.Category) bool { return strings.EqualFold(string(c), v) })
		if i < 0 {
			return nil, badRequest(fmt.Sprintf("category: want %s, got %s", joinCategories(), strconv.Quote(v)))
		}
		cats = append(cats, integrationCategories[i])
	}
	sev := flowlogs.Severity(strings.ToLower(p.Get("severity")))
	if sev != "" && sev != flowlogs.SeverityError && sev != flowlogs.SeverityWarning {
		return nil, badRequest("severity: want error or warning, got " + strconv.Quote(p.Get("severity")))
	}
	var since time.Time
	if v := p.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, badRequest("since: want an RFC 3339 time such as 2026-11-22T10:00:00Z, got " + strconv.Quote(v))
		}
		since = t
	}
	limit, err := intParam(r, "limit", defaultIntegrationLogs, maxIntegrationLogs)
	if err == nil && limit == 0 {
		err = badRequest("limit: want an integer between 1 and " + strconv.Itoa(maxIntegrationLogs) + ", got \"0\"")
	}
	if err != nil {
		return nil, err
	}
	source, q := strings.ToLower(p.Get("source")), strings.ToLower(p.Get("q"))

	out := IntegrationLogs{Logs: []IntegrationLog{}}
	if s.IntegrationLogs == nil {
		return out, nil
	}
	rows := slices.DeleteFunc(s.IntegrationLogs(), func(l IntegrationLog) bool {
		switch {
		case len(cats) > 0 && !slices.Contains(cats, l.Category),
			sev != "" && l.Severity != sev,
			source != "" && !strings.Contains(strings.ToLower(l.Source), source),
			q != "" && !strings.Contains(strings.ToLower(l.Key), q) && !strings.Contains(strings.ToLower(l.Detail), q),
			!since.IsZero() && l.Time.Before(since):
			return true
		}
		return false
	})
	slices.SortStableFunc(rows, func(a, b IntegrationLog) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Key, b.Key))
	})
	out.Total = len(rows)
	if len(rows) > limit {
		rows = rows[:limit]
	}
	if rows != nil {
		out.Logs = rows
	}
	return out, nil
}

// joinCategories lists the categories for an error message.
func joinCategories() string {
	names := make([]string, len(integrationCategories))
	for i, c := range integrationCategories {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// FlowLogRows flattens flow-log source statuses into integration-log rows.
func FlowLogRows(statuses []flowlogs.Status) []IntegrationLog {
	var out []IntegrationLog
	for _, st := range statuses {
		for _, p := range st.Problems {
			out = append(out, IntegrationLog{Source: st.Source, Problem: p})
		}
	}
	return out
}
