package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skymap/skymap/internal/api"
)

// The commands that ask a server send SKYMAP_TOKEN (Main.Token) as a
// bearer token; without it a server with server.auth answers 401, which
// the command reports.
func TestClientToken(t *testing.T) {
	const token = "cli-token-0123456789abcdef"
	srv := httptest.NewServer(api.RequireAuth(api.Auth{Token: token}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/status":
			w.Write([]byte(`{}`))
		case "/api/sql":
			w.Write([]byte(`{"columns":["n"],"rows":[[1]],"truncated":false}`))
		default:
			http.NotFound(w, r)
		}
	})))
	defer srv.Close()
	for _, args := range [][]string{{"status", "--server", srv.URL}, {"sql", "--server", srv.URL, "SELECT 1"}} {
		for _, tok := range []string{"", "wrong-token-0123456789", token} {
			var out, errb bytes.Buffer
			m := NewMain(strings.NewReader(""), &out, &errb)
			m.Token = tok
			code := m.Run(context.Background(), args)
			if want := tok == token; (code == exitOK) != want {
				t.Errorf("%s with token %q: exit %d: %s", args[0], tok, code, errb.String())
			}
			if code != exitOK && !strings.Contains(errb.String(), "401") {
				t.Errorf("%s with token %q: stderr %q, want the 401", args[0], tok, errb.String())
			}
			if strings.Contains(errb.String()+out.String(), token) {
				t.Errorf("%s: the token is printed", args[0])
			}
		}
	}
}
