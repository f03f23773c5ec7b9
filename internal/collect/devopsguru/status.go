package devopsguru

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/model"
)

// Stats is what the last refresh did, as /api/status shows it.
type Stats struct {
	// Refreshed is when the last refresh ended; zero before the first.
	Refreshed time.Time `json:"refreshed"`
	// Insights are kept over all account-regions, Ongoing of them
	// ongoing, Mapped of them naming at least one component.
	Insights int `json:"insights"`
	Ongoing  int `json:"ongoing"`
	Mapped   int `json:"mapped"`
	// Unmatched counts the resources the insights name that match no
	// component (a type skymap does not map, or a resource it has not
	// seen); UnmatchedResources describes the first 20.
	Unmatched          int      `json:"unmatched"`
	UnmatchedResources []string `json:"unmatched_resources"`
	// Scopes are the account-regions read, sorted.
	Scopes []ScopeStatus `json:"scopes"`
	// Calls are the outcomes of the last refresh's calls per account,
	// region and IAM action: a denied devops-guru:ListInsights shows here.
	Calls []model.CallStatus `json:"calls"`
}

// ScopeStatus is the state of one account and region.
type ScopeStatus struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Insights are kept for the account-region, Ongoing of them ongoing.
	Insights int `json:"insights"`
	Ongoing  int `json:"ongoing"`
	// Dropped counts the insights the last complete listing had beyond
	// the bound (Refresher.MaxPerScope).
	Dropped int `json:"dropped,omitempty"`
	// Listed is when the insights were last listed completely; zero
	// before that.
	Listed time.Time `json:"listed"`
	// Calls counts the API calls of the last refresh.
	Calls int `json:"calls"`
	// Denied are the IAM actions denied in the last refresh.
	Denied []string `json:"denied"`
	// LastError says what went wrong first in the last refresh, naming
	// the IAM action; empty when every call worked.
	LastError string `json:"last_error,omitempty"`
}

// Stats returns what the last refresh did.
func (r *Refresher) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Scopes = slices.Clone(s.Scopes)
	s.Calls = slices.Clone(s.Calls)
	if s.Scopes == nil {
		s.Scopes = []ScopeStatus{}
	}
	if s.Calls == nil {
		s.Calls = []model.CallStatus{}
	}
	if s.UnmatchedResources == nil {
		s.UnmatchedResources = []string{}
	}
	return s
}

// setStatus sets a scope's status from its insights and the last refresh's
// calls, and logs when its error changes.
func (r *Refresher) setStatus(st *scopeState, calls []model.CallStatus, firstErr string) {
	s := &st.status
	s.Insights, s.Ongoing, s.Calls, s.Denied = len(st.insights), 0, 0, []string{}
	for _, in := range st.insights {
		if in.Status == StatusOngoing {
			s.Ongoing++
		}
	}
	for _, c := range calls {
		s.Calls += c.Calls
		if c.Outcome == model.OutcomeDenied {
			s.Denied = append(s.Denied, c.API)
		}
	}
	if firstErr != s.LastError {
		log := r.log().With("account", s.Account, "region", s.Region)
		if firstErr == "" {
			log.Info("devops guru insights read again")
		} else {
			log.Warn("devops guru insights not read", "err", firstErr)
		}
	}
	s.LastError = firstErr
}

// severityRank orders severities, highest first.
var severityRank = map[string]int{SeverityHigh: 3, SeverityMedium: 2, SeverityLow: 1}

// remap maps every kept insight to the components of the graph and sets
// the stats. r.mu is held.
func (r *Refresher) remap(now time.Time, calls []model.CallStatus) {
	m := newMatcher(r.Graph)
	st := Stats{Refreshed: now, UnmatchedResources: []string{}}
	var all []Insight
	for _, sc := range slices.SortedFunc(maps.Keys(r.scopes), func(a, b scope) int {
		return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.region, b.region))
	}) {
		ss := r.scopes[sc]
		st.Scopes = append(st.Scopes, ss.status)
		for _, in := range ss.insights {
			all = append(all, m.mapped(in))
		}
	}
	slices.SortFunc(all, func(a, b Insight) int {
		return cmp.Or(cmp.Compare(ongoingRank(b), ongoingRank(a)), cmp.Compare(severityRank[b.Severity], severityRank[a.Severity]),
			latest(b).Compare(latest(a)), strings.Compare(a.ID, b.ID))
	})
	byComp := map[string][]int{}
	for i := range all {
		in := &all[i]
		st.Insights++
		if in.Status == StatusOngoing {
			st.Ongoing++
		}
		if len(in.Components) > 0 {
			st.Mapped++
		}
		for _, id := range in.Components {
			byComp[id] = append(byComp[id], i)
		}
		for _, res := range in.Resources {
			if res.Component != "" {
				continue
			}
			st.Unmatched++
			if len(st.UnmatchedResources) < maxUnmatchedNames {
				st.UnmatchedResources = append(st.UnmatchedResources, describeResource(res))
			}
		}
	}
	slices.SortFunc(calls, func(a, b model.CallStatus) int {
		return cmp.Or(strings.Compare(a.Account, b.Account), strings.Compare(a.Region, b.Region), strings.Compare(a.API, b.API))
	})
	st.Calls = calls
	r.all, r.byComp, r.stats = all, byComp, st
}

// describeResource names a resource for Stats.UnmatchedResources:
// "AWS::ApiGateway::RestApi Test API Service", "metric AWS/ApiGateway
// 5XXError ApiName=Test API Service,Stage=prod", "stack TestStack".
func describeResource(r Resource) string {
	switch r.Kind {
	case KindMetric:
		dims := make([]string, 0, len(r.Dimensions))
		for _, k := range slices.Sorted(maps.Keys(r.Dimensions)) {
			dims = append(dims, k+"="+r.Dimensions[k])
		}
		return "metric " + r.Type + " " + r.Name + " " + strings.Join(dims, ",")
	case KindStack:
		return "stack " + r.Name
	case KindARN:
		return r.Name
	}
	return r.Type + " " + r.Name
}
