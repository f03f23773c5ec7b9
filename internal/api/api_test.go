package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/topology"
)

func testServer(t *testing.T) http.Handler {
	t.Helper()
	return testAPI(t).Handler()
}

// testAPI serves a map of two instances and a subnet.
func testAPI(t *testing.T) *Server {
	t.Helper()
	g := topology.New(nil)
	sc := model.Scope{Account: "123456789012", Region: "eu-west-1", Type: "aws.ec2.instance"}
	_, err := g.Apply(context.Background(), "scan", []model.Snapshot{{Scope: sc, Complete: true,
		Components: []model.Component{
			{ID: "i-1", Type: "aws.ec2.instance", Name: "web <script>", Account: sc.Account, Region: sc.Region, Layer: "Machines",
				Identifiers: []string{"arn:aws:ec2:eu-west-1:123456789012:instance/i-1"}, Labels: []string{"team:a"}},
			{ID: "i-2", Type: "aws.ec2.instance", Name: "db", Account: sc.Account, Region: sc.Region, Layer: "Machines"},
			{ID: "subnet-1", Type: "aws.ec2.subnet", Name: "subnet-1", Account: sc.Account, Region: "us-east-1", Layer: "Networking"},
		},
		Relations: []model.Relation{
			{Source: "i-1", Target: "subnet-1", Type: model.UsesService},
			{Source: "i-2", Target: "vol-9", Type: model.UsesService},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Graph: g, Status: func(context.Context) any { return map[string]string{"state": "idle"} }}
}

func get(t *testing.T, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v\n%s", path, err, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	return rec.Code, body
}

func ids(body map[string]any, key string) []string {
	out := []string{}
	list, _ := body[key].([]any)
	for _, c := range list {
		out = append(out, c.(map[string]any)["id"].(string))
	}
	return out
}

func TestComponents(t *testing.T) {
	h := testServer(t)
	tests := []struct {
		query string
		want  []string
		total float64
	}{
		{"", []string{"i-1", "i-2", "subnet-1"}, 3},
		{"?type=aws.ec2.instance", []string{"i-1", "i-2"}, 2},
		{"?region=us-east-1", []string{"subnet-1"}, 1},
		{"?layer=machines&name=WEB", []string{"i-1"}, 1},
		{"?label=team:a", []string{"i-1"}, 1},
		{"?limit=1&offset=1", []string{"i-2"}, 3},
		{"?account=999", []string{}, 0},
	}
	for _, tt := range tests {
		code, body := get(t, h, "/api/components"+tt.query)
		if code != 200 {
			t.Errorf("%s: status %d", tt.query, code)
		}
		if d := cmp.Diff(tt.want, ids(body, "components")); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, d)
		}
		if body["total"] != tt.total {
			t.Errorf("%s: total %v, want %v", tt.query, body["total"], tt.total)
		}
	}
}

func TestComponentByAnyIdentifier(t *testing.T) {
	h := testServer(t)
	for _, ref := range []string{"i-1", url.PathEscape("arn:aws:ec2:eu-west-1:123456789012:instance/i-1"), "arn:aws:ec2:eu-west-1:123456789012:instance/i-1"} {
		code, body := get(t, h, "/api/components/"+ref)
		if code != 200 {
			t.Fatalf("GET component %s: status %d: %v", ref, code, body)
		}
		c := body["component"].(map[string]any)
		if c["id"] != "i-1" || c["name"] != "web <script>" {
			t.Errorf("GET component %s = %v", ref, c)
		}
		out := body["outgoing"].([]any)
		if len(out) != 1 || out[0].(map[string]any)["target"] != "subnet-1" {
			t.Errorf("outgoing = %v, want the subnet", out)
		}
	}
}

func TestErrors(t *testing.T) {
	h := testServer(t)
	tests := []struct {
		path string
		code int
		kind string
	}{
		{"/api/components/i-404", 404, "not_found"},
		{"/api/components?limit=abc", 400, "bad_request"},
		{"/api/components?limit=-1", 400, "bad_request"},
		{"/api/relations?component=nope", 404, "not_found"},
		{"/api/nothing", 404, "not_found"},
	}
	for _, tt := range tests {
		code, body := get(t, h, tt.path)
		e, _ := body["error"].(map[string]any)
		if code != tt.code || e == nil || e["code"] != tt.kind || e["message"] == "" {
			t.Errorf("GET %s = %d %v; want %d with error code %s", tt.path, code, body, tt.code, tt.kind)
		}
	}
}

func TestRelations(t *testing.T) {
	h := testServer(t)
	_, body := get(t, h, "/api/relations")
	if n := len(body["relations"].([]any)); n != 1 {
		t.Errorf("%d relations, want 1", n)
	}
	if n := len(body["pending"].([]any)); n != 1 {
		t.Errorf("%d pending, want 1 (to vol-9)", n)
	}
	_, body = get(t, h, "/api/relations?component=subnet-1")
	if n := len(body["relations"].([]any)); n != 1 {
		t.Errorf("relations of subnet-1: %d, want 1", n)
	}
	code, body := get(t, h, "/healthz")
	if code != 200 || body["status"] != "ok" {
		t.Errorf("healthz = %d %v", code, body)
	}
}

// GET /api/export streams the map as NDJSON: every component, then every
// relation, each line one JSON object with its kind; untrusted text stays
// JSON-escaped data.
func TestExport(t *testing.T) {
	h := testServer(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/export", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var kinds, ids []string
	for _, line := range strings.Split(strings.TrimSuffix(rec.Body.String(), "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		kinds = append(kinds, v["kind"].(string))
		if v["kind"] == "component" {
			ids = append(ids, v["id"].(string))
			if v["id"] == "i-1" && v["name"] != "web <script>" {
				t.Errorf("name %v", v["name"])
			}
		} else if v["source"] == nil || v["target"] == nil || v["type"] == nil {
			t.Errorf("relation line %s", line)
		}
	}
	if want := []string{"component", "component", "component", "relation"}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v (the pending relation to vol-9 is not in the map)", kinds, want)
	}
	if !slices.Equal(ids, []string{"i-1", "i-2", "subnet-1"}) {
		t.Errorf("ids %v", ids)
	}
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Error("the name's < and > are not escaped")
	}
	// The errors of /api/topology, as JSON.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/export?at=yesterday", nil))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "RFC 3339") {
		t.Errorf("bad at: %d %s", rec.Code, rec.Body.String())
	}
}
