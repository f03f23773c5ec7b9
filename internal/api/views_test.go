package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/skymap/skymap/internal/model"
	"github.com/skymap/skymap/internal/store/embedded"
)

// viewsAPI is testAPI with a store for views and two instances: prod with
// the map's account, and base whose account is not known yet.
func viewsAPI(t *testing.T) http.Handler {
	t.Helper()
	s := testAPI(t)
	st, err := embedded.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.Views = st
	s.KnownTypes = []string{"aws.ec2.instance", "aws.ec2.subnet", "aws.s3.bucket"}
	s.Instances = func() []Instance {
		return []Instance{{Name: "prod", Account: "123456789012"}, {Name: "Base creds!"}}
	}
	return s.Handler()
}

func send(t *testing.T, h http.Handler, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, rec.Body)
	}
	return rec.Code, out
}

func viewNames(body map[string]any) []string {
	var out []string
	for _, v := range body["views"].([]any) {
		out = append(out, v.(map[string]any)["name"].(string))
	}
	return out
}

func TestBuiltinViews(t *testing.T) {
	h := viewsAPI(t)
	code, body := get(t, h, "/api/views")
	if code != 200 {
		t.Fatalf("GET /api/views: %d %v", code, body)
	}
	want := []string{"AWS - every instance - All", "AWS - every instance - Infrastructure", "AWS - every instance - Serverless",
		"AWS - prod - All", "AWS - prod - Infrastructure", "AWS - prod - Serverless",
		"AWS - Base creds! - All", "AWS - Base creds! - Infrastructure", "AWS - Base creds! - Serverless"}
	if got := viewNames(body); !slices.Equal(got, want) {
		t.Errorf("views %q, want %q", got, want)
	}
	for _, tt := range []struct {
		view string
		want []string
	}{
		{"aws-every-instance-all", []string{"i-1", "i-2", "subnet-1"}},
		{"aws-every-instance-serverless", nil},
		{"aws-prod-all", []string{"i-1", "i-2", "subnet-1"}},
		{"aws-prod-infrastructure", []string{"i-1", "i-2", "subnet-1"}},
		{"aws-prod-serverless", nil},
		// The base credentials' account is not known: nothing yet.
		{"aws-base-creds-all", nil},
	} {
		_, body := get(t, h, "/api/components?view="+tt.view)
		if got := ids(body, "components"); !slices.Equal(got, tt.want) {
			t.Errorf("components of view %s: %q, want %q", tt.view, got, tt.want)
		}
	}
	code, body = get(t, h, "/api/views/aws-prod-all")
	if code != 200 || body["components"] != 3.0 || body["builtin"] != true || body["instance"] != "prod" {
		t.Errorf("GET /api/views/aws-prod-all: %d %v", code, body)
	}
	code, body = send(t, h, "DELETE", "/api/views/aws-prod-all", "", "")
	if code != 403 || errCode(body) != "builtin_view" {
		t.Errorf("DELETE of a built-in view: %d %v, want 403 builtin_view", code, body)
	}
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func errMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// A user-defined view is created, filters the map and its relations,
// survives in the store, is renamed and deleted.
func TestUserViews(t *testing.T) {
	h := viewsAPI(t)
	code, body := send(t, h, "POST", "/api/views", "application/json",
		`{"name": "Team A <b>", "filter": {"labels": ["team:*"], "layers": ["machines"], "regions": ["eu-west-1"]}}`)
	if code != 201 {
		t.Fatalf("POST /api/views: %d %v", code, body)
	}
	id := body["id"].(string)
	if !strings.HasPrefix(id, "v-") || body["builtin"] != false {
		t.Errorf("created view %v", body)
	}
	if layers := body["filter"].(map[string]any)["layers"].([]any); layers[0] != model.LayerMachines {
		t.Errorf("layer stored as %v, want TOPOLOGY.md's spelling Machines", layers)
	}
	_, body = get(t, h, "/api/components?view="+id)
	if got := ids(body, "components"); !slices.Equal(got, []string{"i-1"}) {
		t.Errorf("components of the view: %q, want i-1 (labelled team:a)", got)
	}
	_, body = get(t, h, "/api/views")
	if got := viewNames(body); got[len(got)-1] != "Team A <b>" {
		t.Errorf("views %q: the user's view is not listed last", got)
	}

	code, body = send(t, h, "POST", "/api/views", "application/json", `{"name": "team a <B>", "filter": {}}`)
	if code != 409 || !strings.Contains(errMessage(body), id) {
		t.Errorf("POST of a taken name: %d %v, want 409 naming %s", code, body, id)
	}
	code, body = send(t, h, "POST", "/api/views", "application/json", `{"name": "aws - PROD - all", "filter": {}}`)
	if code != 409 {
		t.Errorf("POST of a built-in view's name: %d %v, want 409", code, body)
	}

	code, body = send(t, h, "PUT", "/api/views/"+id, "application/json",
		`{"name": "Subnets", "filter": {"types": ["aws.ec2.subnet"]}}`)
	if code != 200 || body["name"] != "Subnets" {
		t.Fatalf("PUT: %d %v", code, body)
	}
	_, body = get(t, h, "/api/topology?view="+id)
	if got := ids(body, "components"); !slices.Equal(got, []string{"subnet-1"}) {
		t.Errorf("topology of the view: %q, want subnet-1", got)
	}
	if rels := body["relations"].([]any); len(rels) != 0 {
		t.Errorf("topology of the view has relations %v, want none: i-1 is out of the view", rels)
	}
	_, body = get(t, h, "/api/topology?view=aws-prod-all")
	if rels := body["relations"].([]any); len(rels) != 1 {
		t.Errorf("topology of the All view: relations %v, want i-1 -> subnet-1 only (vol-9 is unknown)", rels)
	}

	code, body = send(t, h, "DELETE", "/api/views/"+id, "", "")
	if code != 200 || body["deleted"] != id {
		t.Errorf("DELETE: %d %v", code, body)
	}
	code, body = get(t, h, "/api/views/"+id)
	if code != 404 || !strings.Contains(errMessage(body), id) {
		t.Errorf("GET of a deleted view: %d %v, want 404 naming it", code, body)
	}
}

func TestBadViews(t *testing.T) {
	h := viewsAPI(t)
	for _, tt := range []struct {
		name, method, path, contentType, body string
		status                                int
		want                                  string
	}{
		{"form", "POST", "/api/views", "application/x-www-form-urlencoded", "name=x", 415, "Content-Type"},
		{"no name", "POST", "/api/views", "application/json", `{"filter": {}}`, 400, "name: must not be empty"},
		{"unknown field", "POST", "/api/views", "application/json", `{"name": "x", "filter": {"tags": ["a"]}}`, 400, `unknown field "tags"`},
		{"unknown layer", "POST", "/api/views", "application/json", `{"name": "x", "filter": {"layers": ["Machines", "Compute"]}}`, 400, "filter.layers[1]"},
		{"unknown type", "POST", "/api/views", "application/json", `{"name": "x", "filter": {"types": ["aws.ec2.instanse"]}}`, 400, "filter.types[0]"},
		{"bad account", "POST", "/api/views", "application/json", `{"name": "x", "filter": {"accounts": ["12345"]}}`, 400, "filter.accounts[0]"},
		{"bad region", "POST", "/api/views", "application/json", `{"name": "x", "filter": {"regions": ["eu-wst-1"]}}`, 400, "filter.regions[0]"},
		{"control character", "POST", "/api/views", "application/json", `{"name": "a\u0007b", "filter": {}}`, 400, "control characters"},
		{"long name", "POST", "/api/views", "application/json", `{"name": "` + strings.Repeat("x", 201) + `", "filter": {}}`, 400, "at most 200"},
		{"not JSON", "POST", "/api/views", "application/json", `{"name": `, 400, "body"},
		{"unknown view", "PUT", "/api/views/v-nope", "application/json", `{"name": "x", "filter": {}}`, 404, `"v-nope"`},
		{"unknown view param", "GET", "/api/components?view=v-nope", "", "", 404, `view: no view "v-nope"`},
		{"unknown view of topology", "GET", "/api/topology?view=v-nope", "", "", 404, `"v-nope"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := send(t, h, tt.method, tt.path, tt.contentType, tt.body)
			if code != tt.status || !strings.Contains(errMessage(body), tt.want) {
				t.Errorf("%s %s: %d %v, want %d with %q", tt.method, tt.path, code, body, tt.status, tt.want)
			}
		})
	}
	// Without a store only the built-in views exist.
	s := testAPI(t)
	code, body := send(t, s.Handler(), "POST", "/api/views", "application/json", `{"name": "x", "filter": {}}`)
	if code != 503 || errCode(body) != "views_off" {
		t.Errorf("POST without a store: %d %v, want 503 views_off", code, body)
	}
}
