package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/skymap/skymap/internal/collect/devopsguru"
)

// insightsSuffix ends the path of a component's DevOps Guru insights:
// GET /api/components/{id}/insights.
const insightsSuffix = "/insights"

// Insights gives the DevOps Guru insights skymap keeps;
// *devopsguru.Refresher is one.
type Insights interface {
	// Insights returns the insights f selects, ongoing first, then by
	// severity, most recent first.
	Insights(f devopsguru.Filter) []devopsguru.Insight
	// InsightsOf returns the insights naming a component, by its id.
	InsightsOf(id string) []devopsguru.Insight
}

var _ Insights = (*devopsguru.Refresher)(nil)

// InsightList is the answer of GET /api/insights.
type InsightList struct {
	Insights []devopsguru.Insight `json:"insights"`
	Total    int                  `json:"total"`
}

// ComponentInsights is the answer of GET /api/components/{id}/insights.
type ComponentInsights struct {
	Component string               `json:"component"`
	Insights  []devopsguru.Insight `json:"insights"`
}

// errInsightsOff answers the insight routes when devopsguru.enabled is
// false.
func errInsightsOff() error {
	return &apiError{errUnavailable, "devopsguru_off", "DevOps Guru insights are not configured (devopsguru.enabled)"}
}

// insightParams are the filters of GET /api/insights and the values each
// takes (any case).
var insightParams = []struct {
	name   string
	values []string
}{
	{"status", []string{devopsguru.StatusOngoing, devopsguru.StatusClosed}},
	{"severity", []string{devopsguru.SeverityLow, devopsguru.SeverityMedium, devopsguru.SeverityHigh}},
	{"type", []string{devopsguru.TypeReactive, devopsguru.TypeProactive}},
}

// insights answers GET /api/insights?status=&severity=&type=&account=&region=:
// the DevOps Guru insights kept (ongoing, and closed within
// devopsguru.lookback), ongoing first, then by severity, most recent
// first, each with the resources it names and the components they map to.
func (s *Server) insights(r *http.Request) (any, error) {
	if s.Insights == nil {
		return nil, errInsightsOff()
	}
	q := r.URL.Query()
	for _, p := range insightParams {
		if v := q.Get(p.name); v != "" && !slices.Contains(p.values, strings.ToUpper(v)) {
			return nil, badRequest(p.name + ": want " + strings.Join(p.values, ", ") + " (any case), got " + strconv.Quote(v))
		}
	}
	ins := s.Insights.Insights(devopsguru.Filter{Status: q.Get("status"), Severity: q.Get("severity"), Type: q.Get("type"),
		Account: q.Get("account"), Region: q.Get("region")})
	return InsightList{Insights: ins, Total: len(ins)}, nil
}

// componentInsights answers GET /api/components/{id}/insights: the DevOps
// Guru insights naming the component, in the order of /api/insights.
func (s *Server) componentInsights(ref string) (any, error) {
	c, ok := s.Graph.Lookup(ref)
	if !ok {
		return nil, notFound("no component with id or identifier " + strconv.Quote(ref))
	}
	if s.Insights == nil {
		return nil, errInsightsOff()
	}
	return ComponentInsights{Component: c.ID, Insights: s.Insights.InsightsOf(c.ID)}, nil
}

// insightsRef tells whether a component path asks for insights, and of
// what.
func insightsRef(ref string) (string, bool) {
	base, ok := strings.CutSuffix(ref, insightsSuffix)
	return base, ok && base != ""
}
