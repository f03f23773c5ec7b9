package api

import (
	_ "embed"
	"net/http"
	"slices"
	"strings"
)

// router registers a route: *http.ServeMux serves it, routeList records it
// for the test that holds the routes and the OpenAPI document together.
type router interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// openAPI is the OpenAPI 3.1 document of the routes below, served at GET
// /api/openapi.json. TestOpenAPIRoutes fails when they differ.
//
//go:embed openapi.json
var openAPI []byte

// routes registers every route of the API: each one here must be in
// openapi.json. Routes of parts that are off (Prometheus, the OTLP
// receiver) are left out, and their paths answer 404, but for the trace
// relations, which answer 503 traces_off like the other API parts that
// are off.
func (s *Server) routes(mux router) {
	mux.Handle("GET /healthz", s.handle(func(r *http.Request) (any, error) {
		return map[string]string{"status": "ok"}, nil
	}))
	if s.Prometheus != nil {
		mux.Handle("GET /metrics", s.Prometheus)
	}
	mux.Handle("GET /api/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(openAPI)
	}))
	mux.Handle("GET /api/components", s.handle(s.components))
	// Also /api/components/{id}/history, /metrics, /logs and /insights:
	// ids contain slashes, so component tells them apart.
	mux.Handle("GET /api/components/{id...}", s.handle(s.component))
	mux.Handle("GET /api/relations", s.handle(s.relations))
	mux.Handle("GET /api/insights", s.handle(s.insights))
	mux.Handle("GET /api/changes", s.handle(s.changes))
	mux.Handle("GET /api/topology", s.handle(s.topologyAt))
	s.viewsRoutes(mux)
	mux.Handle("GET /api/export", http.HandlerFunc(s.export))
	s.flowsRoutes(mux)
	if s.Traces != nil {
		mux.Handle("POST /v1/traces", s.Traces)
		mux.Handle("GET /api/traces/relations", s.Traces)
	} else {
		mux.Handle("GET /api/traces/relations", s.handle(func(*http.Request) (any, error) {
			return nil, &apiError{errUnavailable, "traces_off", "the OTLP trace receiver is off (traces.enabled: false): no trace relations are kept"}
		}))
	}
	mux.Handle("GET /api/status", s.handle(func(r *http.Request) (any, error) { return s.Status(r.Context()), nil }))
	mux.Handle("GET /api/integration/logs", s.handle(s.integrationLogs))
}

// noRoute answers what no route of mux serves: 405 with Allow when the
// path is served for other methods, else 404.
func (s *Server) noRoute(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		err := notFound("no route for " + r.Method + " " + r.URL.Path)
		if len(allow) > 0 {
			if slices.Contains(allow, http.MethodGet) {
				allow = append(allow, http.MethodHead)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			err = &apiError{errMethod, "method_not_allowed", r.Method + " " + r.URL.Path + ": want " + strings.Join(allow, " or ")}
		}
		status, body := s.errorBody(r, err)
		writeJSON(w, status, body)
	})
}
