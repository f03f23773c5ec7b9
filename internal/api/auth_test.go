package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestRequireAuth(t *testing.T) {
	const token = "0123456789abcdef0123"
	api := allOn(testAPI(t))
	api.Prometheus = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("# metrics\n")) })
	both := RequireAuth(Auth{Token: token, User: "ann", Password: "s3cret-pw"}, api.Handler())
	tokenOnly := RequireAuth(Auth{Token: token}, api.Handler())
	basicOnly := RequireAuth(Auth{User: "ann", Password: "s3cret-pw"}, api.Handler())
	bearer := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+v) }
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	none := func(*http.Request) {}
	tests := []struct {
		name   string
		h      http.Handler
		path   string
		creds  func(*http.Request)
		status int
	}{
		{"no credentials", both, "/api/components", none, 401},
		{"wrong token", both, "/api/components", bearer("0123456789abcdef0124"), 401},
		{"token prefix", both, "/api/components", bearer(token[:10]), 401},
		{"right token", both, "/api/components", bearer(token), 200},
		{"scheme in any case", both, "/api/components", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+token) }, 200},
		{"right basic", both, "/api/components", basic("ann", "s3cret-pw"), 200},
		{"wrong password", both, "/api/components", basic("ann", "s3cret-px"), 401},
		{"wrong user", both, "/api/components", basic("bob", "s3cret-pw"), 401},
		{"token as basic password", both, "/api/components", basic("anyone", token), 200},
		{"token as basic password, token only", tokenOnly, "/api/components", basic("", token), 200},
		{"empty basic, token only", tokenOnly, "/api/components", basic("", ""), 401},
		{"bearer, basic only", basicOnly, "/api/components", bearer("s3cret-pw"), 401},
		{"empty bearer, basic only", basicOnly, "/api/components", bearer(""), 401},
		{"healthz open", both, "/healthz", none, 200},
		{"metrics protected", both, "/metrics", none, 401},
		{"metrics with token", both, "/metrics", bearer(token), 200},
		{"traces protected", both, "/v1/traces", none, 401},
		{"openapi protected", both, "/api/openapi.json", none, 401},
		{"unknown path protected", both, "/api/nothing", none, 401},
		{"no auth configured", RequireAuth(Auth{}, api.Handler()), "/api/components", none, 200},
	}
	for _, tt := range tests {
		method := "GET"
		if tt.path == "/v1/traces" {
			method = "POST"
		}
		r := httptest.NewRequest(method, tt.path, nil)
		tt.creds(r)
		rec := httptest.NewRecorder()
		tt.h.ServeHTTP(rec, r)
		if rec.Code != tt.status {
			t.Errorf("%s: %s %s = %d, want %d", tt.name, method, tt.path, rec.Code, tt.status)
		}
		if tt.status != 401 {
			continue
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "unauthorized" || body.Error.Message == "" {
			t.Errorf("%s: body %s", tt.name, rec.Body)
		}
		if ch := rec.Header().Values("WWW-Authenticate"); !slices.Contains(ch, `Basic realm="skymap", charset="UTF-8"`) {
			t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge for browsers", tt.name, ch)
		}
		if ch := rec.Header().Values("WWW-Authenticate"); !strings.HasSuffix(tt.name, "basic only") && !slices.Contains(ch, `Bearer realm="skymap"`) {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", tt.name, ch)
		}
	}
}
