package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBundleFresh fails when web/'s sources changed since dist/ was built
// from them: bundle.sha256 is what web/build.mjs hashed, computed the
// same way here.
func TestBundleFresh(t *testing.T) {
	want, err := os.ReadFile("bundle.sha256")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..", "web")
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		io.WriteString(h, f+"\n"+hex.EncodeToString(sum[:])+"\n")
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		t.Errorf("web/ has changed since internal/ui/dist was built (sources %s, bundle built from %s): run make ui and commit dist/ and bundle.sha256",
			got, strings.TrimSpace(string(want)))
	}
}

func TestHandler(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"api":"`+r.URL.Path+`"}`)
	})
	srv := httptest.NewServer(Handler(api))
	defer srv.Close()
	for _, tt := range []struct {
		path, wantType, wantBody string
		ui                       bool
	}{
		{"/", "text/html; charset=utf-8", `src="/assets/app.js"`, true},
		{"/assets/app.js", "text/javascript; charset=utf-8", "cytoscape", true},
		{"/assets/app.css", "text/css; charset=utf-8", "cytoscape_container", true},
		{"/api/components", "application/json", `{"api":"/api/components"}`, false},
		{"/healthz", "application/json", `{"api":"/healthz"}`, false},
		{"/nothing", "application/json", `{"api":"/nothing"}`, false},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.wantType || !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("GET %s: %s %q, body %.80q; want 200 %q with %q", tt.path, resp.Status, resp.Header.Get("Content-Type"), body, tt.wantType, tt.wantBody)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if tt.ui && (csp != ContentSecurityPolicy || resp.Header.Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("GET %s: CSP %q, nosniff %q", tt.path, csp, resp.Header.Get("X-Content-Type-Options"))
		}
		if !tt.ui && csp != "" {
			t.Errorf("GET %s: the API got the UI's headers", tt.path)
		}
	}
	// The policy allows no inline script and no eval.
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("CSP allows %s", bad)
		}
	}
}
