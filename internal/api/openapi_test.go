package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
)

// componentSubpaths are the documented paths that GET
// /api/components/{id...} serves besides /api/components/{id}.
var componentSubpaths = []string{historySuffix, metricsSuffix, logsSuffix, insightsSuffix}

// allOn is a server with every optional part on, so that routes registers
// every route.
func allOn(s *Server) *Server {
	h := http.NotFoundHandler()
	s.Prometheus, s.Traces = h, h
	return s
}

// routeList records the patterns routes registers.
type routeList []string

// Handle records pattern.
func (l *routeList) Handle(pattern string, _ http.Handler) { *l = append(*l, pattern) }

// HandleFunc records pattern.
func (l *routeList) HandleFunc(pattern string, _ func(http.ResponseWriter, *http.Request)) {
	*l = append(*l, pattern)
}

// documented returns the document's "METHOD path"s.
func documented(t *testing.T) []string {
	t.Helper()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	var out []string
	for path, ops := range doc.Paths {
		for method := range ops {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// The document lists exactly the routes the server registers: a route
// added without its documentation, or documentation of a route that is
// gone, fails here.
func TestOpenAPIRoutes(t *testing.T) {
	var registered routeList
	allOn(&Server{}).routes(&registered)
	var want []string
	for _, pattern := range registered {
		if pattern == "GET /api/components/{id...}" {
			want = append(want, "GET /api/components/{id}")
			for _, sub := range componentSubpaths {
				want = append(want, "GET /api/components/{id}"+sub)
			}
			continue
		}
		want = append(want, strings.ReplaceAll(pattern, "...}", "}"))
	}
	slices.Sort(want)
	if d := cmp.Diff(want, documented(t)); d != "" {
		t.Errorf("routes (-registered +documented):\n%s", d)
	}
}

// Every documented path and method is served: none answers the "no
// route" 404 or a 405, and the component subpaths reach their handler,
// not a lookup of a component named ".../metrics".
func TestOpenAPIPathsServed(t *testing.T) {
	full := allOn(testAPI(t)).Handler()
	for _, route := range documented(t) {
		method, path, _ := strings.Cut(route, " ")
		path = strings.ReplaceAll(path, "{id}", "i-1")
		rec := httptest.NewRecorder()
		full.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
		body := rec.Body.String()
		if rec.Code == http.StatusMethodNotAllowed || strings.Contains(body, "no route for") || strings.Contains(body, `i-1/`) {
			t.Errorf("%s %s = %d %s: not served", method, path, rec.Code, body)
		}
	}
}

// The document is valid OpenAPI 3.1, and its examples of the main
// objects match what the API answers.
func TestOpenAPIValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := testServer(t)
	for _, tt := range []struct{ path, schema string }{
		{"/api/components", "ComponentList"},
		{"/api/components/i-1", "ComponentDetail"},
		{"/api/relations", "RelationList"},
		{"/api/topology", "Topology"},
		{"/api/components/i-404", "Error"},
		{"/api/components?limit=x", "Error"},
		{"/api/nothing", "Error"},
	} {
		_, body := get(t, h, tt.path)
		if err := doc.Components.Schemas[tt.schema].Value.VisitJSON(body, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("GET %s: not a %s: %v", tt.path, tt.schema, err)
		}
	}
	code, body := get(t, h, "/api/openapi.json")
	if code != 200 || body["openapi"] != "3.1.0" {
		t.Errorf("GET /api/openapi.json = %d %v", code, body["openapi"])
	}
}

// The flows endpoints refuse parameters they do not know: the document
// lists exactly those they take.
func TestOpenAPIFlowParams(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name string }
		}
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	conversations := append(slices.DeleteFunc(slices.Clone(flowParams), func(p string) bool { return p == "step" }), "limit")
	for path, want := range map[string][]string{"/api/flows/traffic": flowParams, "/api/flows/conversations": conversations} {
		var got []string
		for _, p := range doc.Paths[path]["get"].Parameters {
			got = append(got, p.Name)
		}
		want = slices.Sorted(slices.Values(want))
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s parameters (-taken +documented):\n%s", path, d)
		}
	}
}
