// Package api serves skymap's HTTP JSON API. Handlers return a result or an
// error; one function maps errors to statuses and writes both.
package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skymap/skymap/internal/collect/alarms"
	"github.com/skymap/skymap/internal/collect/devopsguru"
	"github.com/skymap/skymap/internal/collect/logs"
	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store"
)

// Graph is what the API reads of the live topology; *topology.Graph is one.
type Graph interface {
	Lookup(ref string) (model.Component, bool)
	// Select returns the page of components keep accepts, sorted by id,
	// and how many it accepts in all.
	Select(keep func(model.Component) bool, offset, limit int) ([]model.Component, int)
	// Neighbours returns the relations from and to a component.
	Neighbours(ref string) (out, in []model.Relation, ok bool)
	Relations() []model.Relation
	Pending() []model.Relation
}

// History reads versions and past maps; *embedded.Store is one.
type History interface {
	Versions(ctx context.Context, q store.VersionQuery) ([]model.Version, error)
	// TopologyAt fails with store.ErrPruned before HistoryStart.
	TopologyAt(ctx context.Context, at time.Time) ([]model.Component, []model.Relation, error)
	// HistoryStart is where the kept history begins, zero when all is kept.
	HistoryStart(ctx context.Context) (time.Time, error)
}

// Server holds what the handlers read. Status returns the document served at
// /api/status.
type Server struct {
	Graph   Graph
	History History
	Status  func(ctx context.Context) any
	Logger  *slog.Logger
	// Flows answers /api/flows/... and /api/sql; nil when flow logs are
	// not configured, and those answer 503.
	Flows store.Flows
	// SQLTimeout bounds a query of POST /api/sql; 0 means 30 s.
	SQLTimeout time.Duration
	// Metrics answers /api/components/{id}/metrics; nil when CloudWatch
	// metrics are off, and that answers 503.
	Metrics Metrics
	// Logs answers /api/components/{id}/logs; nil when CloudWatch Logs
	// are off, and that answers 503.
	Logs Logs
	// RecentLogs returns the last events the periodic reader read of a
	// component (?recent=true); nil when it does not run.
	RecentLogs func(id string) []logs.Event
	// Traces answers POST /v1/traces (OTLP/HTTP) and GET
	// /api/traces/relations; nil when the receiver is off (404).
	Traces http.Handler
	// Prometheus, when set, serves GET /metrics (skymap's own metrics).
	Prometheus http.Handler
	// Health gives the alarms behind a component's health; nil when
	// health is off.
	Health Health
	// Views keeps the user-defined views; nil when there is no store, and
	// then only the built-in views exist.
	Views store.Views
	// Instances returns the configured instances, for their built-in
	// views; nil for none.
	Instances func() []Instance
	// KnownTypes are the component types a view's filter may name; empty
	// accepts any.
	KnownTypes []string
	// Insights gives DevOps Guru insights (/api/insights,
	// /api/components/{id}/insights); nil when they are off, and those
	// answer 503.
	Insights Insights
	// IntegrationLogs returns the problems of the flow-log sources, a new
	// slice each call (GET /api/integration/logs filters it in place);
	// nil when there are none to read, and that answers an empty list.
	IntegrationLogs func() []IntegrationLog
}

// Error kinds the API maps to HTTP statuses.
var (
	errNotFound     = errors.New("not found")
	errBadRequest   = errors.New("bad request")
	errGone         = errors.New("gone")
	errUnavailable  = errors.New("unavailable")
	errTimeout      = errors.New("timeout")
	errMethod       = errors.New("method not allowed")
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
	errConflict     = errors.New("conflict")
	errMediaType    = errors.New("unsupported media type")
)

// apiError is an error with the code and message the client sees.
type apiError struct {
	kind    error
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }
func (e *apiError) Unwrap() error { return e.kind }

func notFound(msg string) error   { return &apiError{errNotFound, "not_found", msg} }
func badRequest(msg string) error { return &apiError{errBadRequest, "bad_request", msg} }

// historyPruned says that what was asked for is older than the kept history.
func historyPruned(msg string) error { return &apiError{errGone, "history_pruned", msg} }

// Handler returns the API's routes (routes.go); any other request answers
// 404, or 405 with Allow when the path is served for other methods.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	mux.Handle("/", s.noRoute(mux))
	return mux
}

// handle adapts a result-or-error function to an http.Handler.
func (s *Server) handle(f func(r *http.Request) (any, error)) http.Handler {
	return s.handleStatus(http.StatusOK, f)
}

// handleStatus is handle answering status on success.
func (s *Server) handleStatus(status int, f func(r *http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			status, body := s.errorBody(r, err)
			writeJSON(w, status, body)
			return
		}
		writeJSON(w, status, v)
	})
}

// errorBody is the one place that maps errors to HTTP statuses.
func (s *Server) errorBody(r *http.Request, err error) (int, any) {
	var ae *apiError
	status, code, msg := http.StatusInternalServerError, "internal", "internal error"
	switch {
	case errors.As(err, &ae) && errors.Is(err, errNotFound):
		status, code, msg = http.StatusNotFound, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errBadRequest):
		status, code, msg = http.StatusBadRequest, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errGone):
		status, code, msg = http.StatusGone, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errUnavailable):
		status, code, msg = http.StatusServiceUnavailable, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errTimeout):
		status, code, msg = http.StatusGatewayTimeout, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errMethod):
		status, code, msg = http.StatusMethodNotAllowed, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errUnauthorized):
		status, code, msg = http.StatusUnauthorized, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errForbidden):
		status, code, msg = http.StatusForbidden, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errConflict):
		status, code, msg = http.StatusConflict, ae.code, ae.message
	case errors.As(err, &ae) && errors.Is(err, errMediaType):
		status, code, msg = http.StatusUnsupportedMediaType, ae.code, ae.message
	case errors.Is(err, store.ErrBadQuery):
		// The store's message says what is wrong with the query, for the
		// user who wrote it.
		status, code, msg = http.StatusBadRequest, "bad_query", err.Error()
	case errors.Is(err, context.Canceled):
		status, code, msg = 499, "canceled", "request canceled"
	default:
		if s.Logger != nil {
			s.Logger.Error("api request failed", "path", r.URL.Path, "err", err)
		}
	}
	return status, map[string]any{"error": map[string]string{"code": code, "message": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func intParam(r *http.Request, name string, def, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || (max > 0 && n > max) {
		return 0, badRequest(name + ": want an integer between 0 and " + strconv.Itoa(max) + ", got " + strconv.Quote(s))
	}
	return n, nil
}

// ComponentList is the answer of GET /api/components.
type ComponentList struct {
	Components []model.Component `json:"components"`
	Total      int               `json:"total"`
	Offset     int               `json:"offset"`
	Limit      int               `json:"limit"`
}

func (s *Server) components(r *http.Request) (any, error) {
	q := r.URL.Query()
	limit, err := intParam(r, "limit", 1000, 10000)
	if err != nil {
		return nil, err
	}
	offset, err := intParam(r, "offset", 0, 0)
	if err != nil {
		return nil, err
	}
	// The filters are read once, not once per component: Select calls
	// match for every component of the map.
	typ, account, region, layer, health := q.Get("type"), q.Get("account"), q.Get("region"), q.Get("layer"), q.Get("health")
	name, labels := strings.ToLower(q.Get("name")), q["label"]
	inView, err := s.viewParam(r)
	if err != nil {
		return nil, err
	}
	match := func(c model.Component) bool {
		switch {
		case inView != nil && !inView(c):
			return false
		case typ != "" && c.Type != typ,
			account != "" && c.Account != account,
			region != "" && c.Region != region,
			layer != "" && !strings.EqualFold(c.Layer, layer),
			name != "" && !strings.Contains(strings.ToLower(c.Name), name),
			health != "" && !strings.EqualFold(c.Health, health):
			return false
		}
		for _, l := range labels {
			if !slices.Contains(c.Labels, l) {
				return false
			}
		}
		return true
	}
	page, total := s.Graph.Select(match, offset, limit)
	return ComponentList{Components: page, Total: total, Offset: offset, Limit: limit}, nil
}

// ComponentDetail is the answer of GET /api/components/{id}.
type ComponentDetail struct {
	Component model.Component  `json:"component"`
	Outgoing  []model.Relation `json:"outgoing"`
	Incoming  []model.Relation `json:"incoming"`
	History   []model.Version  `json:"history"`
	// Alarms are the CloudWatch alarms naming the component, behind its
	// health.
	Alarms []alarms.Alarm `json:"alarms,omitempty"`
	// Insights are the DevOps Guru insights naming the component.
	Insights []devopsguru.Insight `json:"insights,omitempty"`
	// At is the past time asked for with ?at=: the component is as it
	// was then. Zero, and left out, for the component now.
	At time.Time `json:"at,omitzero"`
}

func (s *Server) component(r *http.Request) (any, error) {
	ref := r.PathValue("id")
	// An id never ends in /history, /metrics, /logs or /insights unless it is one:
	// a component known by the whole path wins.
	if base, ok := historyRef(ref); ok {
		if _, known := s.Graph.Lookup(ref); !known {
			return s.history(r, base)
		}
	}
	if base, ok := metricsRef(ref); ok {
		if _, known := s.Graph.Lookup(ref); !known {
			return s.metrics(r, base)
		}
	}
	if base, ok := logsRef(ref); ok {
		if _, known := s.Graph.Lookup(ref); !known {
			return s.logs(r, base)
		}
	}
	if base, ok := insightsRef(ref); ok {
		if _, known := s.Graph.Lookup(ref); !known {
			return s.componentInsights(base)
		}
	}
	if r.URL.Query().Has("at") {
		return s.componentAt(r, ref)
	}
	c, ok := s.Graph.Lookup(ref)
	if !ok {
		return nil, notFound("no component with id or identifier " + strconv.Quote(ref))
	}
	d := ComponentDetail{Component: c}
	d.Outgoing, d.Incoming, _ = s.Graph.Neighbours(c.ID)
	if s.Health != nil {
		d.Alarms = s.Health.AlarmsOf(c.ID)
	}
	if s.Insights != nil {
		d.Insights = s.Insights.InsightsOf(c.ID)
	}
	if err := s.withTraffic(r.Context(), c.ID, d.Outgoing, d.Incoming); err != nil {
		return nil, err
	}
	if s.History != nil {
		h, err := s.History.Versions(r.Context(), store.VersionQuery{ID: c.ID, Limit: 100, Latest: true})
		if err != nil {
			return nil, err
		}
		d.History = h
	}
	return d, nil
}

// RelationList is the answer of GET /api/relations.
type RelationList struct {
	Relations []model.Relation `json:"relations"`
	Pending   []model.Relation `json:"pending"`
}

func (s *Server) relations(r *http.Request) (any, error) {
	q := r.URL.Query()
	comp := q.Get("component")
	if comp != "" {
		c, ok := s.Graph.Lookup(comp)
		if !ok {
			return nil, notFound("no component with id or identifier " + strconv.Quote(comp))
		}
		comp = c.ID
	}
	typ := q.Get("type")
	keep := func(rel model.Relation) bool {
		return (comp == "" || rel.Source == comp || rel.Target == comp) && (typ == "" || rel.Type == typ)
	}
	out := RelationList{Relations: []model.Relation{}, Pending: []model.Relation{}}
	all := s.Graph.Relations
	if comp != "" {
		all = func() []model.Relation {
			o, i, _ := s.Graph.Neighbours(comp)
			return sortRelations(append(o, i...))
		}
	}
	for _, rel := range all() {
		if keep(rel) {
			out.Relations = append(out.Relations, rel)
		}
	}
	if comp == "" {
		for _, rel := range s.Graph.Pending() {
			if keep(rel) {
				out.Pending = append(out.Pending, rel)
			}
		}
	}
	return out, nil
}

// sortRelations sorts relations by source, target and type.
func sortRelations(rels []model.Relation) []model.Relation {
	slices.SortFunc(rels, func(a, b model.Relation) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Target, b.Target), strings.Compare(a.Type, b.Type))
	})
	return rels
}
