package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// export copies the server's NDJSON to stdout as it comes, asks for a
// past map with --at, and reports the server's errors.
func TestExport(t *testing.T) {
	const lines = `{"kind":"component","id":"i-1"}` + "\n" + `{"kind":"relation","source":"i-1","target":"subnet-1"}` + "\n"
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.String()
		if r.URL.Path != "/api/export" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("at") == "2020-01-01T00:00:00Z" {
			w.WriteHeader(http.StatusGone)
			w.Write([]byte(`{"error":{"code":"history_pruned","message":"at: before the kept history"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Write([]byte(lines))
	}))
	defer srv.Close()
	code, out, stderr := run(t, "export", "--server", srv.URL)
	if code != exitOK || out != lines {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
	code, _, stderr = run(t, "export", "--server", srv.URL, "--at", "2020-01-01T00:00:00Z")
	if code != exitFailure || asked != "/api/export?at=2020-01-01T00%3A00%3A00Z" || !strings.Contains(stderr, "410 Gone: at: before the kept history") {
		t.Errorf("pruned: exit %d, asked %s, stderr %q", code, asked, stderr)
	}
	if code, _, stderr := run(t, "export", "--at", "yesterday"); code != exitUsage || !strings.Contains(stderr, "RFC 3339") {
		t.Errorf("bad --at: exit %d, stderr %q", code, stderr)
	}
}
